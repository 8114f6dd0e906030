/* broker.c: the request broker (see broker.h). One ROUTER socket for
 * clients and workers; hash tables (uthash) of services, workers and
 * clients; per service a queue of requests waiting for a worker credit;
 * per worker the list of requests it holds. */
#include "broker.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <utlist.h>
#include <zmq.h>

#include "clock.h"
#include "envelope.pb-c.h"
#include "errors.h"
#include "log.h"
#include "mdp.h"
#include "transport.h"

typedef struct service service;
typedef struct worker worker;

/* A request the broker holds: queued on its service, or in flight on a
 * worker. Owns a copy of the packed request so it can be re-dispatched. */
typedef struct request_item {
    char client[MDP_MAX_ID];
    size_t client_len;
    char request_id[MDP_MAX_ID + 1];
    uint8_t *body;
    size_t body_len;
    int64_t deadline;               /* monotonic ms */
    service *svc;
    struct request_item *prev, *next;
} request_item;

struct worker {
    char id[MDP_MAX_ID];
    size_t id_len;
    char instance[MDP_MAX_NAME + 1];
    service *svc;
    int credits_max;
    int credits;
    int64_t last_heard;             /* monotonic ms */
    request_item *inflight;
    UT_hash_handle hh;              /* by id */
};

struct service {
    char name[MDP_MAX_NAME + 1];
    request_item *queue;
    worker **workers;               /* array; the workers of this service */
    int worker_count;
    int worker_cap;
    uint64_t routed;
    UT_hash_handle hh;
};

typedef struct client {
    char id[MDP_MAX_ID];
    size_t id_len;
    int outstanding;
    UT_hash_handle hh;
} client;

struct broker {
    void *sock;
    broker_opts opts;
    service *services;
    worker *workers;
    client *clients;
    int64_t started_ms;
    uint64_t requests;
    uint64_t rejected;
    uint64_t redispatched;
};

static mdp_frame frame_str(const char *text)
{
    return (mdp_frame){(const uint8_t *)text, strlen(text)};
}

/* ---- Tables ---- */

static service *service_find(broker *b, const uint8_t *name, size_t len)
{
    service *s = NULL;
    HASH_FIND(hh, b->services, name, len, s);
    return s;
}

static service *service_require(broker *b, const uint8_t *name, size_t len)
{
    service *s = service_find(b, name, len);
    if (s || len > MDP_MAX_NAME)
        return s;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    memcpy(s->name, name, len);
    HASH_ADD(hh, b->services, name, len, s);
    return s;
}

static client *client_find(broker *b, const uint8_t *id, size_t len, bool create)
{
    client *c = NULL;
    HASH_FIND(hh, b->clients, id, len, c);
    if (c || !create)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c->id, id, len);
    c->id_len = len;
    HASH_ADD(hh, b->clients, id, len, c);
    return c;
}

/* One request of this client is finished (answered, dropped). */
static void client_done(broker *b, const char *id, size_t len)
{
    client *c = client_find(b, (const uint8_t *)id, len, false);
    if (!c)
        return;
    if (--c->outstanding <= 0) {
        HASH_DEL(b->clients, c);
        free(c);
    }
}

static void item_free(request_item *item)
{
    free(item->body);
    free(item);
}

/* ---- Sending ---- */

static void send_to_client(broker *b, const char *client_id, size_t client_len,
                           const char *service_name, const uint8_t *body, size_t len)
{
    mdp_frame frames[4] = {{(const uint8_t *)client_id, client_len}, frame_str(MDP_CLIENT),
                           frame_str(service_name), {body, len}};
    if (mr_zmq_send_frames(b->sock, frames, 4, ZMQ_DONTWAIT) != 0)
        mr_debug("client_unreachable", "errno=%d", errno);
}

/* Answers a client with a status and no payload. */
static void reply_status(broker *b, const mdp_frame *client_id, const char *service_name,
                         const char *request_id, int code, const char *message)
{
    Medrep__Reply reply = MEDREP__REPLY__INIT;
    Medrep__Status status = MEDREP__STATUS__INIT;
    status.code = code;
    status.has_code = true;
    status.message = (char *)message;
    reply.request_id = (char *)request_id;
    reply.status = &status;
    reply.instance = "broker";
    uint8_t buf[1024];
    size_t len = medrep__reply__get_packed_size(&reply);
    if (len > sizeof buf)
        return;
    medrep__reply__pack(&reply, buf);
    send_to_client(b, (const char *)client_id->data, client_id->size, service_name, buf, len);
    if (code != MR_OK)
        b->rejected++;
}

static int send_to_worker(broker *b, worker *w, const uint8_t *command_args, size_t nargs,
                          const mdp_frame *args)
{
    mdp_frame frames[6];
    uint8_t command = command_args[0];
    frames[0] = (mdp_frame){(const uint8_t *)w->id, w->id_len};
    frames[1] = frame_str(MDP_WORKER);
    frames[2] = (mdp_frame){&command, 1};
    for (size_t i = 0; i < nargs; i++)
        frames[3 + i] = args[i];
    return mr_zmq_send_frames(b->sock, frames, 3 + nargs, ZMQ_DONTWAIT);
}

static void send_command(broker *b, worker *w, uint8_t command)
{
    send_to_worker(b, w, &command, 0, NULL);
}

/* ---- Workers ---- */

static void service_remove_worker(service *s, worker *w)
{
    for (int i = 0; i < s->worker_count; i++) {
        if (s->workers[i] == w) {
            s->workers[i] = s->workers[--s->worker_count];
            return;
        }
    }
}

static int service_add_worker(service *s, worker *w)
{
    if (s->worker_count == s->worker_cap) {
        int cap = s->worker_cap ? s->worker_cap * 2 : 4;
        worker **grown = realloc(s->workers, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        s->workers = grown;
        s->worker_cap = cap;
    }
    s->workers[s->worker_count++] = w;
    return 0;
}

static void dispatch(broker *b, service *s);

/* Removes a worker; its unanswered requests go back to the front of the
 * queue (or are dropped when their deadline passed). */
static void worker_delete(broker *b, worker *w, const char *why)
{
    service *s = w->svc;
    int requeued = 0;
    int64_t now = mr_mono_ms();
    request_item *item, *tmp;
    DL_FOREACH_SAFE(w->inflight, item, tmp) {
        DL_DELETE(w->inflight, item);
        if (item->deadline > now) {
            DL_PREPEND(s->queue, item);
            requeued++;
        } else {
            client_done(b, item->client, item->client_len);
            item_free(item);
        }
    }
    b->redispatched += (uint64_t)requeued;
    mr_info("worker_gone", "service=%s instance=%s why=%s requeued=%d", s->name, w->instance, why,
            requeued);
    service_remove_worker(s, w);
    HASH_DEL(b->workers, w);
    free(w);
    dispatch(b, s);
}

static worker *worker_pick(service *s)
{
    worker *best = NULL;
    for (int i = 0; i < s->worker_count; i++) {
        worker *w = s->workers[i];
        if (w->credits > 0 && (!best || w->credits > best->credits))
            best = w;
    }
    return best;
}

static void send_request(broker *b, worker *w, request_item *item)
{
    uint8_t command = MDP_REQUEST;
    mdp_frame args[3] = {{(const uint8_t *)item->client, item->client_len},
                         frame_str(item->request_id),
                         {item->body, item->body_len}};
    if (send_to_worker(b, w, &command, 3, args) != 0)
        mr_warn("worker_send_failed", "instance=%s errno=%d", w->instance, errno);
    w->credits--;
    DL_APPEND(w->inflight, item);
    w->svc->routed++;
}

static void dispatch(broker *b, service *s)
{
    while (s->queue) {
        worker *w = worker_pick(s);
        if (!w)
            return;
        request_item *item = s->queue;
        DL_DELETE(s->queue, item);
        send_request(b, w, item);
    }
}

static void on_worker_ready(broker *b, const mdp_inbound *in)
{
    worker *w = NULL;
    HASH_FIND(hh, b->workers, in->peer.data, in->peer.size, w);
    if (w)
        worker_delete(b, w, "ready_again");
    service *s = service_require(b, in->service.data, in->service.size);
    w = calloc(1, sizeof *w);
    if (!s || !w) {
        free(w);
        return;
    }
    memcpy(w->id, in->peer.data, in->peer.size);
    w->id_len = in->peer.size;
    memcpy(w->instance, in->instance.data, in->instance.size);
    w->svc = s;
    w->credits = w->credits_max = in->credits;
    w->last_heard = mr_mono_ms();
    if (service_add_worker(s, w) != 0) {
        free(w);
        return;
    }
    HASH_ADD(hh, b->workers, id, w->id_len, w);
    mr_info("worker_ready", "service=%s instance=%s credits=%d", s->name, w->instance, w->credits);
    dispatch(b, s);
}

static void on_worker_reply(broker *b, worker *w, const mdp_inbound *in)
{
    request_item *item;
    DL_FOREACH(w->inflight, item) {
        if (item->client_len == in->client.size &&
            memcmp(item->client, in->client.data, item->client_len) == 0 &&
            strlen(item->request_id) == in->request_id.size &&
            memcmp(item->request_id, in->request_id.data, in->request_id.size) == 0)
            break;
    }
    if (!item) {
        mr_debug("reply_unexpected", "instance=%s", w->instance);
        return;
    }
    DL_DELETE(w->inflight, item);
    w->credits++;
    send_to_client(b, item->client, item->client_len, w->svc->name, in->body.data, in->body.size);
    client_done(b, item->client, item->client_len);
    item_free(item);
    dispatch(b, w->svc);
}

static void on_worker_message(broker *b, const mdp_inbound *in)
{
    if (in->kind == MDP_IN_WORKER_READY) {
        on_worker_ready(b, in);
        return;
    }
    worker *w = NULL;
    HASH_FIND(hh, b->workers, in->peer.data, in->peer.size, w);
    if (!w) {
        /* not registered (for example the broker restarted): ask it to reconnect */
        if (in->kind != MDP_IN_WORKER_DISCONNECT) {
            uint8_t command = MDP_DISCONNECT;
            mdp_frame frames[3] = {in->peer, frame_str(MDP_WORKER), {&command, 1}};
            mr_zmq_send_frames(b->sock, frames, 3, ZMQ_DONTWAIT);
        }
        return;
    }
    w->last_heard = mr_mono_ms();
    if (in->kind == MDP_IN_WORKER_REPLY)
        on_worker_reply(b, w, in);
    else if (in->kind == MDP_IN_WORKER_DISCONNECT)
        worker_delete(b, w, "disconnect");
}

/* ---- The broker's own service ---- */

static void answer_payload(broker *b, const mdp_frame *client_id, const char *request_id,
                           const ProtobufCMessage *payload)
{
    Medrep__Reply reply = MEDREP__REPLY__INIT;
    Medrep__Status status = MEDREP__STATUS__INIT;
    status.has_code = true;
    reply.request_id = (char *)request_id;
    reply.status = &status;
    reply.instance = "broker";
    size_t plen = protobuf_c_message_get_packed_size(payload);
    reply.payload.data = malloc(plen ? plen : 1);
    if (!reply.payload.data)
        return;
    reply.payload.len = protobuf_c_message_pack(payload, reply.payload.data);
    reply.has_payload = true;
    size_t len = medrep__reply__get_packed_size(&reply);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        medrep__reply__pack(&reply, buf);
        send_to_client(b, (const char *)client_id->data, client_id->size, "broker", buf, len);
    }
    free(buf);
    free(reply.payload.data);
}

static void answer_workers(broker *b, const mdp_frame *client_id, const Medrep__Request *req)
{
    Medrep__WorkerListRequest *filter =
        medrep__worker_list_request__unpack(NULL, req->payload.len, req->payload.data);
    const char *only = filter && filter->service && filter->service[0] ? filter->service : NULL;
    size_t total = HASH_COUNT(b->workers);
    Medrep__WorkerInfo *infos = calloc(total ? total : 1, sizeof *infos);
    Medrep__WorkerInfo **ptrs = calloc(total ? total : 1, sizeof *ptrs);
    Medrep__WorkerListReply list = MEDREP__WORKER_LIST_REPLY__INIT;
    int64_t now = mr_mono_ms();
    for (worker *w = b->workers; infos && ptrs && w; w = w->hh.next) {
        if (only && strcmp(only, w->svc->name) != 0)
            continue;
        Medrep__WorkerInfo *info = &infos[list.n_workers];
        medrep__worker_info__init(info);
        info->service = w->svc->name;
        info->instance = w->instance;
        info->credits = w->credits;
        info->has_credits = true;
        info->idle_ms = now - w->last_heard;
        info->has_idle_ms = true;
        ptrs[list.n_workers++] = info;
    }
    list.workers = ptrs;
    answer_payload(b, client_id, req->request_id, &list.base);
    free(infos);
    free(ptrs);
    if (filter)
        medrep__worker_list_request__free_unpacked(filter, NULL);
}

static void answer_status(broker *b, const mdp_frame *client_id, const Medrep__Request *req)
{
    Medrep__StatusReply st = MEDREP__STATUS_REPLY__INIT;
    st.service = "broker";
    st.instance = "broker";
    st.version = MEDREP_VERSION;
    st.uptime_ms = mr_now_ms() - b->started_ms;
    st.has_uptime_ms = true;
    st.requests_served = (int64_t)b->requests;
    st.has_requests_served = true;
    st.redis_state = "n/a";
    answer_payload(b, client_id, req->request_id, &st.base);
}

static void on_broker_request(broker *b, const mdp_frame *client_id, const Medrep__Request *req)
{
    if (strcmp(req->method, "Workers") == 0)
        answer_workers(b, client_id, req);
    else if (strcmp(req->method, "Status") == 0)
        answer_status(b, client_id, req);
    else
        reply_status(b, client_id, "broker", req->request_id, MR_UNIMPLEMENTED,
                     "the broker answers only Workers and Status");
}

/* ---- Client requests ---- */

static worker *worker_by_instance(service *s, const char *instance)
{
    for (int i = 0; i < s->worker_count; i++)
        if (strcmp(s->workers[i]->instance, instance) == 0)
            return s->workers[i];
    return NULL;
}

/* Checks the envelope; answers and returns false when it is not routable. */
static bool request_valid(broker *b, const mdp_inbound *in, const Medrep__Request *req,
                          const char *service_name)
{
    if (!req) {
        reply_status(b, &in->peer, service_name, "", MR_INVALID_ARGUMENT,
                     "undecodable request envelope");
        return false;
    }
    const char *id = req->request_id ? req->request_id : "";
    size_t id_len = strlen(id);
    if (id_len == 0 || id_len > MDP_MAX_ID) {
        reply_status(b, &in->peer, service_name, "", MR_INVALID_ARGUMENT,
                     "request_id must be 1 to 64 bytes");
        return false;
    }
    if (!req->method || !req->method[0]) {
        reply_status(b, &in->peer, service_name, id, MR_INVALID_ARGUMENT, "method is missing");
        return false;
    }
    if (!req->has_deadline_ms || req->deadline_ms <= mr_now_ms()) {
        reply_status(b, &in->peer, service_name, id, MR_DEADLINE_EXCEEDED,
                     "the request's deadline is missing or already passed");
        return false;
    }
    return true;
}

static request_item *item_new(const mdp_inbound *in, const Medrep__Request *req, service *s)
{
    request_item *item = calloc(1, sizeof *item);
    if (!item)
        return NULL;
    item->body = malloc(in->body.size ? in->body.size : 1);
    if (!item->body) {
        free(item);
        return NULL;
    }
    memcpy(item->body, in->body.data, in->body.size);
    item->body_len = in->body.size;
    memcpy(item->client, in->peer.data, in->peer.size);
    item->client_len = in->peer.size;
    snprintf(item->request_id, sizeof item->request_id, "%s", req->request_id);
    item->deadline = mr_mono_ms() + (req->deadline_ms - mr_now_ms());
    item->svc = s;
    return item;
}

static void route_request(broker *b, const mdp_inbound *in, const Medrep__Request *req,
                          service *s)
{
    client *c = client_find(b, in->peer.data, in->peer.size, true);
    if (!c)
        return;
    if (c->outstanding >= b->opts.max_per_client) {
        reply_status(b, &in->peer, s->name, req->request_id, MR_RESOURCE_EXHAUSTED,
                     "too many requests outstanding from this client");
        return;
    }
    worker *target = NULL;
    if (req->target_instance && req->target_instance[0]) {
        target = worker_by_instance(s, req->target_instance);
        if (!target) {
            reply_status(b, &in->peer, s->name, req->request_id, MR_NOT_FOUND,
                         "no such instance of the service");
            return;
        }
    }
    request_item *item = item_new(in, req, s);
    if (!item)
        return;
    c->outstanding++;
    if (target) {
        send_request(b, target, item);
    } else {
        DL_APPEND(s->queue, item);
        dispatch(b, s);
    }
}

static void on_client_request(broker *b, const mdp_inbound *in)
{
    char service_name[MDP_MAX_NAME + 1] = {0};
    memcpy(service_name, in->service.data, in->service.size);
    b->requests++;
    Medrep__Request *req = NULL;
    if (in->body.size <= (size_t)b->opts.max_msg)
        req = medrep__request__unpack(NULL, in->body.size, in->body.data);
    if (request_valid(b, in, req, service_name)) {
        if (strcmp(service_name, "broker") == 0) {
            on_broker_request(b, &in->peer, req);
        } else {
            service *s = service_find(b, in->service.data, in->service.size);
            if (!s) {
                char message[128];
                snprintf(message, sizeof message, "no service named '%s'", service_name);
                reply_status(b, &in->peer, service_name, req->request_id, MR_NOT_FOUND, message);
            } else {
                route_request(b, in, req, s);
            }
        }
    }
    if (req)
        medrep__request__free_unpacked(req, NULL);
}

/* ---- The loop ---- */

static void on_message(broker *b, mr_frames *f, int n)
{
    mdp_inbound in;
    const char *why = "too many frames";
    if (n > MDP_MAX_FRAMES || mdp_parse_inbound(f->frames, f->count, &in, &why) != 0) {
        b->rejected++;
        mr_debug("bad_message", "why=\"%s\" frames=%d", why, n);
        return;   /* malformed framing: no request id to answer; dropped */
    }
    if (in.kind == MDP_IN_CLIENT_REQUEST)
        on_client_request(b, &in);
    else
        on_worker_message(b, &in);
}

/* Heartbeats workers, drops the silent ones and expired queued requests. */
static void housekeeping(broker *b)
{
    int64_t now = mr_mono_ms();
    int64_t silent_after = (int64_t)b->opts.heartbeat_ms * b->opts.liveness;
    worker *w, *wtmp;
    HASH_ITER(hh, b->workers, w, wtmp) {
        if (now - w->last_heard > silent_after)
            worker_delete(b, w, "expired");
        else
            send_command(b, w, MDP_HEARTBEAT);
    }
    for (service *s = b->services; s; s = s->hh.next) {
        request_item *item, *tmp;
        DL_FOREACH_SAFE(s->queue, item, tmp) {
            if (item->deadline > now)
                continue;
            DL_DELETE(s->queue, item);
            mdp_frame client_id = {(const uint8_t *)item->client, item->client_len};
            reply_status(b, &client_id, s->name, item->request_id, MR_UNAVAILABLE,
                         "no worker of the service answered before the deadline");
            client_done(b, item->client, item->client_len);
            item_free(item);
        }
    }
}

static void add_known_services(broker *b, const char *list)
{
    if (!list)
        return;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (len > 0 && mdp_name_valid((const uint8_t *)p, len))
            service_require(b, (const uint8_t *)p, len);
        p += len;
    }
}

broker *broker_new(void *zmq_ctx, const broker_opts *opts)
{
    broker *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->opts = *opts;
    if (b->opts.heartbeat_ms <= 0)
        b->opts.heartbeat_ms = 1000;
    if (b->opts.liveness <= 0)
        b->opts.liveness = 3;
    if (b->opts.max_per_client <= 0)
        b->opts.max_per_client = 1000;
    if (b->opts.max_msg <= 0)
        b->opts.max_msg = MR_DEFAULT_MAX_MSG;
    b->started_ms = mr_now_ms();
    b->sock = zmq_socket(zmq_ctx, ZMQ_ROUTER);
    mr_zmq_harden(b->sock, b->opts.max_msg);
    int on = 1, hwm = 100000;
    zmq_setsockopt(b->sock, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    zmq_setsockopt(b->sock, ZMQ_ROUTER_HANDOVER, &on, sizeof on);
    zmq_setsockopt(b->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(b->sock, opts->endpoint) != 0) {
        int err = errno;
        zmq_close(b->sock);
        free(b);
        errno = err;
        return NULL;
    }
    add_known_services(b, opts->known_services);
    return b;
}

void broker_free(broker **bp)
{
    broker *b = *bp;
    if (!b)
        return;
    worker *w, *wtmp;
    HASH_ITER(hh, b->workers, w, wtmp) {
        request_item *item, *itmp;
        DL_FOREACH_SAFE(w->inflight, item, itmp) {
            DL_DELETE(w->inflight, item);
            item_free(item);
        }
        HASH_DEL(b->workers, w);
        free(w);
    }
    service *s, *stmp;
    HASH_ITER(hh, b->services, s, stmp) {
        request_item *item, *itmp;
        DL_FOREACH_SAFE(s->queue, item, itmp) {
            DL_DELETE(s->queue, item);
            item_free(item);
        }
        HASH_DEL(b->services, s);
        free(s->workers);
        free(s);
    }
    client *c, *ctmp;
    HASH_ITER(hh, b->clients, c, ctmp) {
        HASH_DEL(b->clients, c);
        free(c);
    }
    zmq_close(b->sock);
    free(b);
    *bp = NULL;
}

void broker_run(broker *b, volatile sig_atomic_t *stop)
{
    int64_t next_housekeeping = mr_mono_ms() + b->opts.heartbeat_ms;
    while (!*stop) {
        int64_t wait = next_housekeeping - mr_mono_ms();
        zmq_pollitem_t item = {b->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0)) > 0) {
            for (int i = 0; i < 1000; i++) {
                mr_frames f;
                int n = mr_zmq_recv_frames(b->sock, &f, ZMQ_DONTWAIT);
                if (n <= 0)
                    break;
                on_message(b, &f, n);
                mr_zmq_frames_close(&f);
            }
        }
        if (mr_mono_ms() >= next_housekeeping) {
            housekeeping(b);
            next_housekeeping = mr_mono_ms() + b->opts.heartbeat_ms;
        }
    }
}
