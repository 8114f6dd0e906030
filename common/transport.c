/* transport.c: the broker's workers and clients (see transport.h) and
 * the small ZeroMQ helpers they and the broker share. */
#include "transport.h"

#include <uthash.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "ids.h"
#include "log.h"

/* ---- ZeroMQ helpers ---- */

void mr_zmq_harden(void *socket, int64_t max_msg)
{
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
}

int mr_zmq_recv_frames(void *socket, mr_frames *out, int flags)
{
    out->count = 0;
    size_t total = 0;
    int more = 1;
    while (more) {
        zmq_msg_t scratch;
        bool keep = out->count < MDP_MAX_FRAMES;
        zmq_msg_t *msg = keep ? &out->msgs[out->count] : &scratch;
        zmq_msg_init(msg);
        if (zmq_msg_recv(msg, socket, total == 0 ? flags : 0) < 0) {
            int err = errno;
            zmq_msg_close(msg);
            mr_zmq_frames_close(out);
            errno = err;
            return (err == EAGAIN && total == 0) ? 0 : -1;
        }
        more = zmq_msg_more(msg);
        total++;
        if (keep) {
            out->frames[out->count].data = zmq_msg_data(msg);
            out->frames[out->count].size = zmq_msg_size(msg);
            out->count++;
        } else {
            zmq_msg_close(msg);
        }
    }
    return total > MDP_MAX_FRAMES ? MDP_MAX_FRAMES + 1 : (int)out->count;
}

void mr_zmq_frames_close(mr_frames *f)
{
    for (size_t i = 0; i < f->count; i++)
        zmq_msg_close(&f->msgs[i]);
    f->count = 0;
}

int mr_zmq_send_frames(void *socket, const mdp_frame *frames, size_t count, int flags)
{
    for (size_t i = 0; i < count; i++) {
        int more = i + 1 < count ? ZMQ_SNDMORE : 0;
        if (zmq_send(socket, frames[i].data, frames[i].size, flags | more) < 0)
            return -1;
    }
    return 0;
}

static mdp_frame frame_str(const char *text)
{
    return (mdp_frame){(const uint8_t *)text, strlen(text)};
}

static mdp_frame frame_bytes(const void *data, size_t size)
{
    return (mdp_frame){(const uint8_t *)data, size};
}

/* ---- Worker ---- */

struct mr_worker {
    void *ctx;
    void *sock;
    char broker[256];
    char service[MDP_MAX_NAME + 1];
    char instance[MDP_MAX_NAME + 1];
    int heartbeat_ms;
    int liveness;
    int credits;
    int64_t max_msg;
    int64_t last_heard;        /* monotonic ms */
    int64_t next_heartbeat;    /* monotonic ms */
    int connects;
    mr_frames current;         /* the frames of the request last handed out */
};

static int worker_send_command(mr_worker *w, uint8_t command)
{
    mdp_frame frames[2] = {frame_str(MDP_WORKER), frame_bytes(&command, 1)};
    return mr_zmq_send_frames(w->sock, frames, 2, ZMQ_DONTWAIT);
}

static void worker_connect(mr_worker *w)
{
    if (w->sock)
        zmq_close(w->sock);
    w->sock = zmq_socket(w->ctx, ZMQ_DEALER);
    mr_zmq_harden(w->sock, w->max_msg);
    zmq_connect(w->sock, w->broker);
    char credits[16];
    snprintf(credits, sizeof credits, "%d", w->credits);
    uint8_t command = MDP_READY;
    mdp_frame frames[5] = {frame_str(MDP_WORKER), frame_bytes(&command, 1), frame_str(w->service),
                           frame_str(w->instance), frame_str(credits)};
    mr_zmq_send_frames(w->sock, frames, 5, 0);
    w->connects++;
    w->last_heard = mr_mono_ms();
    w->next_heartbeat = w->last_heard + w->heartbeat_ms;
    if (w->connects > 1)
        mr_warn("worker_reconnect", "broker=%s connects=%d", w->broker, w->connects);
}

mr_worker *mr_worker_new(const mr_worker_opts *opts)
{
    if (!opts->broker || !mdp_name_valid((const uint8_t *)opts->service, strlen(opts->service)) ||
        !mdp_name_valid((const uint8_t *)opts->instance, strlen(opts->instance)))
        return NULL;
    mr_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    snprintf(w->broker, sizeof w->broker, "%s", opts->broker);
    snprintf(w->service, sizeof w->service, "%s", opts->service);
    snprintf(w->instance, sizeof w->instance, "%s", opts->instance);
    w->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : 1000;
    w->liveness = opts->liveness > 0 ? opts->liveness : 3;
    w->credits = opts->credits > 0 ? opts->credits : 16;
    if (w->credits > MDP_MAX_CREDITS)
        w->credits = MDP_MAX_CREDITS;
    w->max_msg = opts->max_msg > 0 ? opts->max_msg : MR_DEFAULT_MAX_MSG;
    w->ctx = zmq_ctx_new();
    worker_connect(w);
    return w;
}

void mr_worker_free(mr_worker **wp)
{
    mr_worker *w = *wp;
    if (!w)
        return;
    mr_zmq_frames_close(&w->current);
    if (w->sock) {
        worker_send_command(w, MDP_DISCONNECT);
        zmq_close(w->sock);
    }
    zmq_ctx_term(w->ctx);
    free(w);
    *wp = NULL;
}

int mr_worker_connects(const mr_worker *w)
{
    return w->connects;
}

/* Handles one message from the broker. Returns 1 when it is a request
 * (kept in w->current), 0 otherwise. */
static int worker_take_message(mr_worker *w, mr_work *work)
{
    mr_frames *f = &w->current;
    int n = mr_zmq_recv_frames(w->sock, f, ZMQ_DONTWAIT);
    if (n <= 0)
        return 0;
    w->last_heard = mr_mono_ms();
    mdp_to_worker msg;
    int parsed = n <= MDP_MAX_FRAMES ? mdp_parse_to_worker(f->frames, f->count, &msg) : -1;
    if (parsed == 0 && msg.command == MDP_REQUEST) {
        work->client = msg.client;
        work->request_id = msg.request_id;
        work->body = msg.body;
        return 1;
    }
    mr_zmq_frames_close(f);
    if (parsed == 0 && msg.command == MDP_DISCONNECT)
        worker_connect(w);
    else if (parsed != 0)
        mr_warn("worker_bad_message", "frames=%d", n);
    return 0;
}

int mr_worker_recv(mr_worker *w, int timeout_ms, mr_work *work)
{
    mr_zmq_frames_close(&w->current);
    int64_t end = mr_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (worker_take_message(w, work))
            return 1;
        int64_t now = mr_mono_ms();
        if (now >= w->next_heartbeat) {
            worker_send_command(w, MDP_HEARTBEAT);
            w->next_heartbeat = now + w->heartbeat_ms;
        }
        if (now - w->last_heard > (int64_t)w->heartbeat_ms * w->liveness)
            worker_connect(w);
        if (now >= end)
            return 0;
        int64_t wait = end - now;
        if (w->next_heartbeat - now < wait)
            wait = w->next_heartbeat - now;
        zmq_pollitem_t item = {w->sock, 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0));
    }
}

int mr_worker_reply(mr_worker *w, const mr_work *work, const void *body, size_t len)
{
    uint8_t command = MDP_REPLY;
    mdp_frame frames[5] = {frame_str(MDP_WORKER), frame_bytes(&command, 1), work->client,
                           work->request_id, frame_bytes(body, len)};
    return mr_zmq_send_frames(w->sock, frames, 5, 0);
}

/* ---- Client ---- */

typedef struct {
    bool used;
    uint64_t tag;
    char service[MDP_MAX_NAME + 1];
    char request_id[MDP_MAX_ID + 1];
    uint8_t *packed;           /* owned */
    size_t packed_len;
    int64_t deadline;          /* monotonic ms */
    int64_t attempt_deadline;  /* monotonic ms */
    int attempts;
    UT_hash_handle hh;         /* in mr_client.by_id, keyed by request_id */
} client_slot;

struct mr_client {
    void *ctx;
    void *sock;
    client_slot *slots;
    client_slot *by_id;        /* hash of the used slots by request id */
    int capacity;
    int inflight;
    int attempt_timeout_ms;
    uint64_t retries;
    int64_t next_due;          /* earliest attempt time-out or deadline (monotonic ms) */
    char id_prefix[17];        /* random per client; request ids are prefix + counter */
    uint64_t id_counter;
};

mr_client *mr_client_new(const mr_client_opts *opts)
{
    mr_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->capacity = opts->max_inflight > 0 ? opts->max_inflight : 64;
    c->next_due = INT64_MAX;
    c->attempt_timeout_ms = opts->attempt_timeout_ms > 0 ? opts->attempt_timeout_ms : 1000;
    c->slots = calloc((size_t)c->capacity, sizeof *c->slots);
    mr_random_id(c->id_prefix, sizeof c->id_prefix);
    c->ctx = zmq_ctx_new();
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    if (!c->slots || !c->sock) {
        mr_client_free(&c);
        return NULL;
    }
    mr_zmq_harden(c->sock, opts->max_msg > 0 ? opts->max_msg : MR_DEFAULT_MAX_MSG);
    int hwm = c->capacity * 2 + 16;
    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(c->sock, opts->broker ? opts->broker : "") != 0) {
        mr_client_free(&c);
        return NULL;
    }
    return c;
}

void mr_client_free(mr_client **cp)
{
    mr_client *c = *cp;
    if (!c)
        return;
    HASH_CLEAR(hh, c->by_id);
    for (int i = 0; c->slots && i < c->capacity; i++)
        free(c->slots[i].packed);
    free(c->slots);
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    free(c);
    *cp = NULL;
}

size_t mr_client_inflight(const mr_client *c)
{
    return (size_t)c->inflight;
}

uint64_t mr_client_retries(const mr_client *c)
{
    return c->retries;
}

void *mr_client_socket(mr_client *c)
{
    return c->sock;
}

static void client_send_slot(mr_client *c, client_slot *s)
{
    mdp_frame frames[3] = {frame_str(MDP_CLIENT), frame_str(s->service),
                           frame_bytes(s->packed, s->packed_len)};
    mr_zmq_send_frames(c->sock, frames, 3, ZMQ_DONTWAIT);
    s->attempts++;
    int64_t next = mr_mono_ms() + c->attempt_timeout_ms;
    s->attempt_deadline = next < s->deadline ? next : s->deadline;
    if (s->attempt_deadline < c->next_due)
        c->next_due = s->attempt_deadline;
}

static client_slot *client_free_slot(mr_client *c)
{
    for (int i = 0; i < c->capacity; i++)
        if (!c->slots[i].used)
            return &c->slots[i];
    return NULL;
}

int mr_client_submit(mr_client *c, const char *service, Medrep__Request *req, int timeout_ms,
                     uint64_t tag)
{
    client_slot *s = client_free_slot(c);
    if (!s || !mdp_name_valid((const uint8_t *)service, strlen(service)))
        return -1;
    char *given_id = req->request_id;
    if (given_id && given_id[0]) {
        if (strlen(given_id) > MDP_MAX_ID)
            return -1;
        snprintf(s->request_id, sizeof s->request_id, "%s", given_id);
    } else {
        snprintf(s->request_id, sizeof s->request_id, "%s%016llx", c->id_prefix,
                 (unsigned long long)++c->id_counter);
    }
    client_slot *clash = NULL;
    HASH_FIND_STR(c->by_id, s->request_id, clash);
    if (clash)
        return -1;   /* the same request id is already in flight on this client */
    int64_t now = mr_now_ms();
    if (req->deadline_ms == 0) {
        req->deadline_ms = now + timeout_ms;
        req->has_deadline_ms = true;
    }
    req->request_id = s->request_id;  /* packed with the id, then given back */
    size_t len = medrep__request__get_packed_size(req);
    s->packed = malloc(len ? len : 1);
    if (s->packed)
        s->packed_len = medrep__request__pack(req, s->packed);
    req->request_id = given_id;
    if (!s->packed)
        return -1;
    snprintf(s->service, sizeof s->service, "%s", service);
    s->used = true;
    s->tag = tag;
    s->attempts = 0;
    HASH_ADD_STR(c->by_id, request_id, s);
    s->deadline = mr_mono_ms() + (req->deadline_ms - now);
    c->inflight++;
    client_send_slot(c, s);
    return 0;
}

static Medrep__Reply *synthesized_reply(const char *request_id, int code, const char *message)
{
    Medrep__Reply *r = calloc(1, sizeof *r);
    Medrep__Status *st = calloc(1, sizeof *st);
    if (!r || !st) {
        free(r);
        free(st);
        return NULL;
    }
    medrep__reply__init(r);
    medrep__status__init(st);
    st->code = code;
    st->has_code = true;
    st->message = strdup(message);
    r->request_id = strdup(request_id);
    r->status = st;
    return r;
}

static void client_release(mr_client *c, client_slot *s)
{
    HASH_DEL(c->by_id, s);
    free(s->packed);
    s->packed = NULL;
    s->used = false;
    c->inflight--;
}

/* Completes the first slot whose deadline passed, if any. */
static int client_expire(mr_client *c, int64_t now, uint64_t *tag, Medrep__Reply **reply)
{
    for (int i = 0; i < c->capacity; i++) {
        client_slot *s = &c->slots[i];
        if (!s->used || now < s->deadline)
            continue;
        char message[160];
        snprintf(message, sizeof message, "no reply from service '%s' before the deadline (%d attempts)",
                 s->service, s->attempts);
        *tag = s->tag;
        *reply = synthesized_reply(s->request_id, MR_DEADLINE_EXCEEDED, message);
        client_release(c, s);
        return 1;
    }
    return 0;
}

/* Resends the attempts that timed out and recomputes c->next_due. Scans
 * the slots only when something is due. */
static void client_retry_due(mr_client *c, int64_t now)
{
    if (now < c->next_due)
        return;
    c->next_due = INT64_MAX;
    for (int i = 0; i < c->capacity; i++) {
        client_slot *s = &c->slots[i];
        if (!s->used)
            continue;
        if (now >= s->attempt_deadline && now < s->deadline) {
            client_send_slot(c, s);
            c->retries++;
        }
        if (s->attempt_deadline < c->next_due)
            c->next_due = s->attempt_deadline;
        if (s->deadline < c->next_due)
            c->next_due = s->deadline;
    }
}

/* Reads one message from the socket without waiting: -1 when there was
 * none, 1 when it completed a request, 0 otherwise (a late answer to a
 * retried request, or something malformed). */
static int client_take_reply(mr_client *c, uint64_t *tag, Medrep__Reply **reply)
{
    mr_frames f;
    int n = mr_zmq_recv_frames(c->sock, &f, ZMQ_DONTWAIT);
    if (n <= 0)
        return -1;
    int done = 0;
    mdp_frame body;
    if (n <= MDP_MAX_FRAMES && mdp_parse_to_client(f.frames, f.count, &body) == 0) {
        Medrep__Reply *r = medrep__reply__unpack(NULL, body.size, body.data);
        client_slot *s = NULL;
        if (r && r->request_id)
            HASH_FIND_STR(c->by_id, r->request_id, s);
        if (s) {
            *tag = s->tag;
            *reply = r;
            client_release(c, s);
            done = 1;
        } else if (r) {
            medrep__reply__free_unpacked(r, NULL);
        }
    }
    mr_zmq_frames_close(&f);
    return done;
}

int mr_client_poll(mr_client *c, int wait_ms, uint64_t *tag, Medrep__Reply **reply)
{
    int64_t end = mr_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    for (;;) {
        int got;
        while ((got = client_take_reply(c, tag, reply)) >= 0)
            if (got == 1)
                return 1;
        int64_t now = mr_mono_ms();
        if (now >= c->next_due && client_expire(c, now, tag, reply))
            return 1;
        client_retry_due(c, now);
        if (now >= end)
            return 0;
        int64_t wait = (c->next_due < end ? c->next_due : end) - now;
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0));
    }
}

Medrep__Reply *mr_client_call(mr_client *c, const char *service, Medrep__Request *req,
                              int timeout_ms)
{
    const uint64_t my_tag = UINT64_MAX;
    if (mr_client_submit(c, service, req, timeout_ms, my_tag) != 0)
        return synthesized_reply(req->request_id ? req->request_id : "", MR_INVALID_ARGUMENT,
                                 "request could not be sent (invalid service name or too many in flight)");
    for (;;) {
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 1000, &tag, &reply) == 1) {
            if (tag == my_tag)
                return reply;
            medrep__reply__free_unpacked(reply, NULL);  /* not ours: see transport.h */
        }
    }
}

int mr_client_rpc(mr_client *c, const char *service, const char *method, const char *region,
                  const Medrep__Caller *caller, const ProtobufCMessage *payload,
                  const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out,
                  int timeout_ms, char *msg, size_t msgcap)
{
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = (char *)method;
    req.region = (char *)region;
    req.caller = (Medrep__Caller *)caller;
    uint8_t *buf = NULL;
    if (payload) {
        size_t len = protobuf_c_message_get_packed_size(payload);
        buf = malloc(len ? len : 1);
        if (!buf)
            return MR_INTERNAL;
        req.payload.len = protobuf_c_message_pack(payload, buf);
        req.payload.data = buf;
        req.has_payload = true;
    }
    Medrep__Reply *reply = mr_client_call(c, service, &req, timeout_ms);
    free(buf);
    if (!reply) {
        snprintf(msg, msgcap, "out of memory");
        return MR_INTERNAL;
    }
    int code = reply->status ? (int)reply->status->code : MR_OK;
    snprintf(msg, msgcap, "%s", reply->status && reply->status->message ? reply->status->message : "");
    if (code == MR_OK && out && reply_desc) {
        *out = protobuf_c_message_unpack(reply_desc, NULL, reply->payload.len, reply->payload.data);
        if (!*out) {
            snprintf(msg, msgcap, "undecodable reply payload from %s.%s", service, method);
            code = MR_INTERNAL;
        }
    }
    medrep__reply__free_unpacked(reply, NULL);
    return code;
}
