/* transport.h: workers and clients of the broker (protocol in mdp.h).
 *
 * A worker connects to the broker, registers its service name and
 * instance, heartbeats both ways, and reconnects by itself when the broker
 * goes quiet. A client sends requests with an id and a deadline, keeps at
 * most max_inflight outstanding, and when an attempt gets no reply within
 * attempt_timeout_ms resends the same request (same id) so that the broker
 * routes it to another worker; handlers are idempotent by that id. A
 * client never waits past the deadline: it then reports DEADLINE_EXCEEDED.
 *
 * Sockets are not thread-safe: one worker or client per thread. Each has
 * its own zmq context unless one is passed in. */
#ifndef MEDREP_TRANSPORT_H
#define MEDREP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "envelope.pb-c.h"
#include "mdp.h"

#define MR_DEFAULT_MAX_MSG (4 * 1024 * 1024)

/* Sets ZMQ_LINGER 0 and ZMQ_MAXMSGSIZE max_msg (bytes) on a socket. */
void mr_zmq_harden(void *socket, int64_t max_msg);

/* Receives one whole multipart message into frames (at most cap; a longer
 * message is read to its end and reported as too long). Frame data are
 * zmq_msg_t owned by the caller, released with mr_zmq_frames_close.
 * Returns the frame count, 0 when nothing arrived (non-blocking), -1 on
 * error, or cap + 1 when the message had more frames than cap. */
typedef struct {
    size_t count;
    zmq_msg_t msgs[MDP_MAX_FRAMES];
    mdp_frame frames[MDP_MAX_FRAMES];
} mr_frames;
int mr_zmq_recv_frames(void *socket, mr_frames *out, int flags);
void mr_zmq_frames_close(mr_frames *f);
/* Sends count frames; 0 or -1. */
int mr_zmq_send_frames(void *socket, const mdp_frame *frames, size_t count, int flags);

/* ---- Worker ---- */

typedef struct {
    const char *broker;        /* endpoint, e.g. tcp://127.0.0.1:5555 */
    const char *service;       /* name to register */
    const char *instance;      /* unique per process */
    int heartbeat_ms;          /* default 1000 */
    int liveness;              /* missed heartbeats before reconnecting, default 3 */
    int credits;               /* requests queued at the worker at once, default 16 */
    int64_t max_msg;           /* default MR_DEFAULT_MAX_MSG */
} mr_worker_opts;

typedef struct mr_worker mr_worker;

/* A request handed to the worker. Pointers valid until the next
 * mr_worker_recv or mr_worker_free. */
typedef struct {
    mdp_frame client;
    mdp_frame request_id;
    mdp_frame body;
} mr_work;

mr_worker *mr_worker_new(const mr_worker_opts *opts);
void mr_worker_free(mr_worker **w);
/* Waits up to timeout_ms for a request, handling heartbeats and
 * reconnection meanwhile. 1 and *work filled, 0 on time-out. */
int mr_worker_recv(mr_worker *w, int timeout_ms, mr_work *work);
/* Sends the reply to the request last received. 0 or -1. */
int mr_worker_reply(mr_worker *w, const mr_work *work, const void *body, size_t len);
/* Number of times it (re)connected to the broker. */
int mr_worker_connects(const mr_worker *w);

/* ---- Client ---- */

typedef struct {
    const char *broker;
    int max_inflight;          /* default 64 */
    int attempt_timeout_ms;    /* default 1000 */
    int64_t max_msg;           /* default MR_DEFAULT_MAX_MSG */
} mr_client_opts;

typedef struct mr_client mr_client;

mr_client *mr_client_new(const mr_client_opts *opts);
void mr_client_free(mr_client **c);

/* Submits a request: req->request_id is generated when empty and
 * req->deadline_ms set to now + timeout_ms when 0. tag is the caller's
 * handle for the completion. Returns 0, or -1 when max_inflight requests
 * are already outstanding (poll first) or the request cannot be packed. */
int mr_client_submit(mr_client *c, const char *service, Medrep__Request *req, int timeout_ms,
                     uint64_t tag);

/* Waits up to wait_ms for one completed request. Returns 1 with *tag and
 * *reply (caller frees with medrep__reply__free_unpacked(reply, NULL)),
 * 0 when nothing completed. A request whose deadline passed completes
 * with a reply whose status is DEADLINE_EXCEEDED. */
int mr_client_poll(mr_client *c, int wait_ms, uint64_t *tag, Medrep__Reply **reply);

size_t mr_client_inflight(const mr_client *c);
/* Requests resent after an attempt time-out, since the client started. */
uint64_t mr_client_retries(const mr_client *c);
/* The client's ZeroMQ socket, for zmq_poll together with other sockets or
 * descriptors (read readiness only; receive through mr_client_poll). */
void *mr_client_socket(mr_client *c);

/* Sends one request and waits for its reply (or the deadline). Never
 * returns NULL except when out of memory. Caller frees the reply. */
Medrep__Reply *mr_client_call(mr_client *c, const char *service, Medrep__Request *req,
                              int timeout_ms);

/* Convenience for typed calls: packs `payload` (a protobuf message, may
 * be NULL), calls service.method for region, and unpacks the reply
 * payload with reply_desc into *out (caller frees with
 * protobuf_c_message_free_unpacked). Returns the reply's status code;
 * the status message is copied to msg. *out is set only on OK. */
struct ProtobufCMessage;
struct ProtobufCMessageDescriptor;
int mr_client_rpc(mr_client *c, const char *service, const char *method, const char *region,
                  const Medrep__Caller *caller, const struct ProtobufCMessage *payload,
                  const struct ProtobufCMessageDescriptor *reply_desc,
                  struct ProtobufCMessage **out, int timeout_ms, char *msg, size_t msgcap);

#endif
