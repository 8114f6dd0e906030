/* broker.h: the request broker (protocol in common/mdp.h). Routes each
 * client request to a live worker of the named service, keeping at most a
 * worker's credits outstanding on it; heartbeats workers and drops those
 * that go quiet, re-dispatching their unanswered requests to others (the
 * handlers are idempotent by request id, so a repeat is harmless); answers
 * clear errors for malformed requests, unknown services and expired
 * deadlines; bounds the requests one client may have outstanding. */
#ifndef MEDREP_BROKER_H
#define MEDREP_BROKER_H

#include <signal.h>
#include <stdint.h>

typedef struct {
    const char *endpoint;        /* bind address, e.g. tcp://127.0.0.1:5555 */
    int heartbeat_ms;            /* default 1000 */
    int liveness;                /* default 3 */
    int max_per_client;          /* outstanding requests per client, default 1000 */
    int64_t max_msg;             /* bytes, default 4 MiB */
    const char *known_services;  /* comma list of services to queue for before any worker registers */
} broker_opts;

typedef struct broker broker;

/* Binds the socket; NULL on failure (errno from zmq_bind). */
broker *broker_new(void *zmq_ctx, const broker_opts *opts);
void broker_free(broker **b);
/* Runs until *stop becomes non-zero (checked at least every heartbeat). */
void broker_run(broker *b, volatile sig_atomic_t *stop);

#endif
