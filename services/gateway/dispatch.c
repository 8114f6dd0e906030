/* dispatch.c: the gateway's asynchronous service calls. HTTP threads do
 * the checks, suspend the connection and hand the call to one dispatcher
 * thread, which keeps up to [gateway] max_in_flight calls outstanding on
 * a single broker client (so messages travel in batches rather than one
 * blocked thread each), and resumes each connection when its reply (or
 * its deadline) comes. libmicrohttpd then calls the request handler
 * again, which answers from the job.
 *
 * In the "loop" HTTP mode ([gateway] http_mode) there is no dispatcher
 * thread: the main thread runs libmicrohttpd from outside (its epoll
 * descriptor polled together with the broker socket), so a request is
 * parsed, sent, answered and written by one thread, without the two
 * thread hand-offs (and wake-ups) per request of the pool mode.
 *
 * When the read cache is on and the broker has a live event feed, the
 * dispatcher also subscribes to the feed (a SUB socket polled with the
 * broker client) and drops the cached answers each event invalidates.
 * It checks the feed's sequence numbers and heartbeats (feedseq.h): on a
 * gap, a new publisher session or silence it drops the whole cache, and
 * while the feed is not heard nothing is cached (gw_feed_trusted).
 *
 * Ownership: a job belongs to the HTTP request that made it (main.c's
 * request state) from gw_call_new to gw_call_free; between a successful
 * gw_dispatch_submit and the resume the dispatcher holds a pointer to it
 * and is the only one to write it. */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "errors.h"
#include "events.h"
#include "feedseq.h"
#include "gateway.h"
#include "log.h"

struct gw_call {
    const gw_route *route;
    gw_identity id;               /* the caller (copied) */
    char region[40];
    uint8_t *payload;             /* the packed request message (owned) */
    size_t payload_len;
    struct MHD_Connection *conn;
    Medrep__Reply *reply;         /* set by the dispatcher before the resume (owned) */
    gw_cache_ticket ticket;       /* its key is owned */
    struct gw_call *next;         /* the submission queue */
};

static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    gw_call *head, *tail;         /* submitted, not yet sent */
    bool accepting;
    bool started;
    bool loop;                    /* no dispatcher thread: gw_dispatch_loop runs it all */
    int wake_fd;                  /* eventfd: a submission or the stop */
    mr_client *client;
    int in_flight;
    void *feed_ctx, *feed_sock;   /* the live event feed, when subscribed */
    gw_feedseq seq;               /* its sequence check (the dispatching thread's) */
    atomic_bool trusted;          /* seq.live, for every thread */
} d = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1};

gw_call *gw_call_new(const gw_route *route, const gw_identity *id, const char *region,
                     const ProtobufCMessage *msg)
{
    gw_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->route = route;
    c->id = *id;
    c->id.caller = (gw_caller){0};   /* points into the original; not needed here */
    snprintf(c->region, sizeof c->region, "%s", region);
    size_t len = protobuf_c_message_get_packed_size(msg);
    c->payload = malloc(len ? len : 1);
    if (!c->payload) {
        free(c);
        return NULL;
    }
    c->payload_len = protobuf_c_message_pack(msg, c->payload);
    return c;
}

void gw_call_free(gw_call **cp)
{
    gw_call *c = *cp;
    if (!c)
        return;
    if (c->reply)
        medrep__reply__free_unpacked(c->reply, NULL);
    free(c->ticket.key);
    free(c->payload);
    free(c);
    *cp = NULL;
}

const gw_route *gw_call_route(const gw_call *c)
{
    return c->route;
}

Medrep__Reply *gw_call_reply(const gw_call *c)
{
    return c->reply;
}

gw_cache_ticket *gw_call_ticket(gw_call *c)
{
    return &c->ticket;
}

/* ---- The dispatcher thread ---- */

static Medrep__Reply *local_reply(int code, const char *message)
{
    Medrep__Reply *r = calloc(1, sizeof *r);
    Medrep__Status *s = calloc(1, sizeof *s);
    char *text = strdup(message);
    if (!r || !s || !text) {
        free(r), free(s), free(text);
        return NULL;
    }
    medrep__reply__init(r);
    medrep__status__init(s);
    s->code = (Medrep__Code)code, s->has_code = true;
    s->message = text;
    r->status = s;
    return r;
}

/* Gives the call its reply and its connection back to libmicrohttpd. */
static void complete(gw_call *c, Medrep__Reply *reply)
{
    c->reply = reply;
    MHD_resume_connection(c->conn);
}

static void send_call(gw_call *c)
{
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = c->id.user_id;
    caller.role = c->id.role_name;
    caller.region = c->id.region;
    caller.team = c->id.team;
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = (char *)c->route->rpc;
    req.region = c->region;
    req.caller = &caller;
    req.payload.data = c->payload;
    req.payload.len = c->payload_len;
    req.has_payload = true;
    if (mr_client_submit(d.client, c->route->service, &req, gw.timeout_ms, (uint64_t)(uintptr_t)c) == 0)
        d.in_flight++;
    else
        complete(c, local_reply(MR_INTERNAL, "the call could not be sent"));
}

/* Sends queued calls while there is room; the rest wait in the queue. */
static void send_queued(void)
{
    for (;;) {
        pthread_mutex_lock(&d.lock);
        gw_call *c = d.in_flight < gw.max_in_flight ? d.head : NULL;
        if (c && !(d.head = c->next))
            d.tail = NULL;
        pthread_mutex_unlock(&d.lock);
        if (!c)
            return;
        send_call(c);
    }
}

static void take_replies(void)
{
    uint64_t tag;
    Medrep__Reply *reply = NULL;
    while (mr_client_poll(d.client, 0, &tag, &reply) == 1) {
        d.in_flight--;
        complete((gw_call *)(uintptr_t)tag, reply);
        reply = NULL;
    }
}

/* At the stop: what was never sent is refused; what is in flight gets its
 * reply or its deadline. */
static void drain(void)
{
    pthread_mutex_lock(&d.lock);
    gw_call *c = d.head;
    d.head = d.tail = NULL;
    pthread_mutex_unlock(&d.lock);
    while (c) {
        gw_call *next = c->next;
        complete(c, local_reply(MR_UNAVAILABLE, "the gateway is stopping"));
        c = next;
    }
    while (d.in_flight > 0) {
        zmq_pollitem_t item = {mr_client_socket(d.client), 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, 50);
        take_replies();
    }
}

bool gw_feed_trusted(void)
{
    return atomic_load(&d.trusted);
}

static const char *verdict_name(gw_feed_verdict v)
{
    switch (v) {
    case GW_FEED_FIRST: return "first";
    case GW_FEED_GAP: return "gap";
    case GW_FEED_NEW_SESSION: return "new_session";
    default: return "next";
    }
}

/* Checks a message's sequence frame: a gap or a new session drops the
 * whole cache (events may have been missed). The first message heard
 * (at the start or after a silence) finds the cache empty already:
 * nothing was cached while the feed was not trusted. */
static void check_sequence(const void *frame, size_t len)
{
    mr_feed_seq seq;
    if (!mr_feed_seq_decode(frame, len, &seq))
        seq = (mr_feed_seq){0};   /* not a sequence: taken as a new session */
    gw_feed_verdict v = gw_feedseq_take(&d.seq, seq.session, seq.counter, mr_mono_ms());
    if (v == GW_FEED_GAP || v == GW_FEED_NEW_SESSION) {
        size_t dropped = gw_cache_clear(gw.cache);
        mr_info("cache_cleared", "why=%s dropped=%zu", verdict_name(v), dropped);
    }
    atomic_store(&d.trusted, true);
}

/* After a silence of the feed: the cache goes and is bypassed until the
 * feed is heard again. */
static void check_silence(void)
{
    if (d.feed_sock && gw_feedseq_went_silent(&d.seq, mr_mono_ms())) {
        atomic_store(&d.trusted, false);
        size_t dropped = gw_cache_clear(gw.cache);
        mr_warn("cache_feed_silent", "silence_ms=%d dropped=%zu (answers are not cached until the feed is back)",
                gw.feed_silence_ms, dropped);
    }
}

/* Checks the sequence of every message waiting on the feed and applies
 * its event (heartbeats have none) to the read cache. */
static void take_events(void)
{
    mr_frames f;
    int n;
    while ((n = mr_zmq_recv_frames(d.feed_sock, &f, ZMQ_DONTWAIT)) > 0) {
        if (n == 3)
            check_sequence(f.frames[2].data, f.frames[2].size);
        bool heartbeat = mr_feed_is_heartbeat(f.frames[0].data, f.frames[0].size);
        Medrep__Event *ev = n == 3 && !heartbeat
                                ? medrep__event__unpack(NULL, f.frames[1].size, f.frames[1].data)
                                : NULL;
        if (ev) {
            gw_cache_apply_event(gw.cache, gw_routes, gw_route_count, ev);
            medrep__event__free_unpacked(ev, NULL);
        }
        mr_zmq_frames_close(&f);
    }
}

static void feed_subscribe(void)
{
    if (!gw.cache)
        return;
    gw_feedseq_init(&d.seq, gw.feed_silence_ms);
    atomic_store(&d.trusted, false);
    if (!gw.feed || !gw.feed[0]) {
        mr_warn("cache_without_feed", "no [feed] endpoint: nothing is cached");
        return;
    }
    d.feed_ctx = zmq_ctx_new();
    d.feed_sock = d.feed_ctx ? zmq_socket(d.feed_ctx, ZMQ_SUB) : NULL;
    if (!d.feed_sock || zmq_connect(d.feed_sock, gw.feed) != 0 ||
        zmq_setsockopt(d.feed_sock, ZMQ_SUBSCRIBE, "", 0) != 0) {
        mr_warn("cache_feed_unavailable", "feed=%s (nothing is cached)", gw.feed);
        if (d.feed_sock)
            zmq_close(d.feed_sock);
        d.feed_sock = NULL;
        return;
    }
    mr_zmq_harden(d.feed_sock, MR_DEFAULT_MAX_MSG);
}

static void feed_close(void)
{
    if (d.feed_sock)
        zmq_close(d.feed_sock);
    if (d.feed_ctx)
        zmq_ctx_term(d.feed_ctx);
    d.feed_sock = d.feed_ctx = NULL;
}

static void *dispatcher(void *arg)
{
    (void)arg;
    for (;;) {
        zmq_pollitem_t items[3] = {{mr_client_socket(d.client), 0, ZMQ_POLLIN, 0},
                                   {NULL, d.wake_fd, ZMQ_POLLIN, 0},
                                   {d.feed_sock, 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, d.feed_sock ? 3 : 2, 100);   /* also drives the client's resends and deadlines */
        if (items[2].revents & ZMQ_POLLIN)
            take_events();
        check_silence();
        if (items[1].revents & ZMQ_POLLIN) {
            uint64_t n;
            ssize_t got = read(d.wake_fd, &n, sizeof n);
            (void)got;
        }
        take_replies();
        pthread_mutex_lock(&d.lock);
        bool accepting = d.accepting;
        pthread_mutex_unlock(&d.lock);
        if (!accepting)
            break;
        send_queued();
    }
    drain();
    return NULL;
}

int gw_dispatch_start(bool loop)
{
    mr_client_opts opts = {.broker = gw.broker, .max_inflight = gw.max_in_flight};
    d.client = mr_client_new(&opts);
    d.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    d.accepting = true;
    d.loop = loop;
    feed_subscribe();
    if (!d.client || d.wake_fd < 0 || (!loop && pthread_create(&d.thread, NULL, dispatcher, NULL) != 0)) {
        mr_client_free(&d.client);
        feed_close();
        if (d.wake_fd >= 0)
            close(d.wake_fd);
        d.wake_fd = -1;
        return -1;
    }
    d.started = true;
    return 0;
}

static void wake(void)
{
    uint64_t one = 1;
    ssize_t n = write(d.wake_fd, &one, sizeof one);
    (void)n;
}

int gw_dispatch_submit(gw_call *c, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&d.lock);
    bool ok = d.accepting, was_empty = d.head == NULL;
    if (ok) {
        c->conn = conn;
        c->next = NULL;
        MHD_suspend_connection(conn);   /* before the dispatcher can see it */
        if (d.tail)
            d.tail->next = c;
        else
            d.head = c;
        d.tail = c;
    }
    pthread_mutex_unlock(&d.lock);
    /* a non-empty queue is drained by the dispatcher anyway: when woken
     * for the first entry, or when a reply makes room; the loop sends it
     * right after libmicrohttpd's turn */
    if (ok && was_empty && !d.loop)
        wake();
    return ok ? 0 : -1;
}

/* The loop mode's timeout: libmicrohttpd's, at most 100 ms (the client's
 * resends and deadlines are driven on each turn). */
static long loop_timeout(struct MHD_Daemon *httpd)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(httpd, &ms) == MHD_YES && ms < 100)
        return (long)ms;
    return 100;
}

void gw_dispatch_loop(struct MHD_Daemon *httpd, volatile sig_atomic_t *stop)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_EPOLL_FD);
    int http_fd = info ? info->epoll_fd : -1;
    while (!*stop) {
        zmq_pollitem_t items[3] = {{mr_client_socket(d.client), 0, ZMQ_POLLIN, 0},
                                   {NULL, http_fd, ZMQ_POLLIN, 0},
                                   {d.feed_sock, 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, d.feed_sock ? 3 : 2, loop_timeout(httpd));
        if (items[2].revents & ZMQ_POLLIN)
            take_events();
        check_silence();
        take_replies();      /* resumes their connections */
        MHD_run(httpd);      /* new requests (queued calls) and resumed ones (answers) */
        send_queued();
    }
    pthread_mutex_lock(&d.lock);
    d.accepting = false;
    pthread_mutex_unlock(&d.lock);
    drain();
    MHD_run(httpd);          /* the answers of the drained calls */
}

void gw_dispatch_stop(void)
{
    if (!d.started)
        return;
    pthread_mutex_lock(&d.lock);
    d.accepting = false;
    pthread_mutex_unlock(&d.lock);
    wake();
    if (!d.loop)
        pthread_join(d.thread, NULL);
    mr_client_free(&d.client);
    feed_close();
    close(d.wake_fd);
    d.wake_fd = -1;
    d.started = false;
}
