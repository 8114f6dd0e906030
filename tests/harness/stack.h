/* stack.h: a whole medrep stack for integration tests: redis-servers, a
 * configuration file naming regions, the broker, and any services, all
 * real processes on free ports in a temporary folder. */
#ifndef MEDREP_STACK_H
#define MEDREP_STACK_H

#include "harness.h"
#include "transport.h"

#define H_STACK_MAX_PROCS 16

typedef struct {
    h_redis redis[2];
    int redis_count;
    char dir[256];
    char config_path[320];
    char endpoint[64];         /* the broker's */
    char feed_endpoint[64];
    h_proc broker;
    h_proc procs[H_STACK_MAX_PROCS];
    int proc_count;
} h_stack;

/* Starts redis_count redis-servers and the broker. Region i of `regions`
 * (NULL-terminated) lives on redis i % redis_count. extra_config is
 * appended to the generated configuration (may be NULL). The broker uses
 * a 100 ms heartbeat and services claim idle events after 1 s, so faults
 * are noticed quickly. 0 or -1. */
int h_stack_start(h_stack *s, int redis_count, const char *const *regions,
                  const char *extra_config);

/* Starts a built program (for example "scoring" or "test-counter") as an
 * instance with this name; env is a NULL-terminated list of NAME=VALUE
 * set for it (may be NULL). Returns its index in s->procs, or -1. */
int h_stack_start_service(h_stack *s, const char *program, const char *instance,
                          const char *const *env);

/* Restarts the broker process (after h_proc_kill on s->broker). */
int h_stack_restart_broker(h_stack *s);

/* Waits until the broker lists `count` workers of `service`. 0 or -1. */
int h_stack_wait_workers(h_stack *s, const char *service, int count, int timeout_ms);

/* A client of the stack's broker. Caller frees. */
mr_client *h_stack_client(h_stack *s, int max_inflight, int attempt_timeout_ms);

/* Runs the medrep CLI against the stack: `medrep --config <stack> <args>`
 * through the shell, stdout and stderr copied to out. Returns its exit
 * status (-1 when it did not exit normally). */
int h_stack_cli(const h_stack *s, const char *args, char *out, size_t cap);

/* Stops every process (SIGTERM, so sanitizers report), then the redis
 * servers, and removes the folder. Returns the number of processes that
 * did not exit cleanly with status 0 (crash, sanitizer report, leak). */
int h_stack_stop(h_stack *s);

/* Runs `medrep token create <args>` against the stack's configuration and
 * copies the token into token (and its stored hash into hash, unless NULL).
 * Returns 0, or -1 when the command failed or printed no token. */
int h_stack_token(const h_stack *s, const char *args, char *token, size_t cap, char *hash, size_t hash_cap);

#endif
