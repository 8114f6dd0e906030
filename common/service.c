/* service.c: the shell every service runs in (see service.h): the request
 * loop on the broker worker, idempotent commits by request id, the
 * Status method, and the event-consuming thread. */
#include "service.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"
#include "clock.h"
#include "errors.h"
#include "events.h"
#include "ids.h"
#include "log.h"
#include "stats.h"
#include "transport.h"

typedef struct {
    int heartbeat_ms, liveness, credits;
    long long reply_ttl_ms, events_maxlen, max_msg;
    int event_block_ms, claim_min_idle_ms, claim_interval_ms;
} service_settings;

struct mr_service {
    const mr_service_def *def;
    mr_config *cfg;
    char instance[MDP_MAX_NAME + 1];
    service_settings settings;
    mr_store_pool *pool;         /* the request thread's stores */
    mr_worker *worker;
    void *state;
    int64_t started_ms;
    uint64_t requests_served;
    mr_hist handler_us;
    atomic_llong events_handled;
    pthread_t event_thread;
    bool event_thread_running;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void *mr_service_state(const mr_service *svc) { return svc->state; }
void mr_service_set_state(mr_service *svc, void *state) { svc->state = state; }
const mr_config *mr_service_config(const mr_service *svc) { return svc->cfg; }
const char *mr_service_instance(const mr_service *svc) { return svc->instance; }
const char *mr_service_name(const mr_service *svc) { return svc->def->name; }

/* ---- Reply helpers for methods ---- */

int mr_call_reply(mr_call *call, const ProtobufCMessage *msg)
{
    free(call->payload);
    call->payload = NULL;
    call->payload_len = 0;
    size_t len = protobuf_c_message_get_packed_size(msg);
    call->payload = malloc(len ? len : 1);
    if (!call->payload)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    call->payload_len = protobuf_c_message_pack(msg, call->payload);
    call->code = MR_OK;
    call->message[0] = '\0';
    return MR_OK;
}

int mr_call_fail(mr_call *call, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof call->message, fmt, ap);
    va_end(ap);
    call->code = code;
    return code;
}

void *mr_call_decode(mr_call *call, const ProtobufCMessageDescriptor *desc)
{
    const Medrep__Request *req = call->req;
    void *msg = protobuf_c_message_unpack(desc, NULL, req->payload.len, req->payload.data);
    if (!msg)
        mr_call_fail(call, MR_INVALID_ARGUMENT, "payload of %s is not a valid %s", req->method,
                     desc->short_name);
    return msg;
}

/* Fills the event's envelope fields that are unset, stages it, and puts
 * back the pointers it borrowed from this stack frame. */
static int emit_event(mr_tx *tx, Medrep__Event *ev, const char *region, const char *source,
                      const char *request_id, int64_t now_ms, long long maxlen)
{
    char id[33];
    bool set_id = !ev->event_id || !ev->event_id[0];
    bool set_region = !ev->region || !ev->region[0];
    bool set_source = !ev->source;
    bool set_request = !ev->request_id && request_id;
    if (set_id) {
        mr_random_id(id, sizeof id);
        ev->event_id = id;
    }
    if (set_region)
        ev->region = (char *)region;
    if (set_source)
        ev->source = (char *)source;
    if (set_request)
        ev->request_id = (char *)request_id;
    if (!ev->has_occurred_ms) {
        ev->occurred_ms = now_ms;
        ev->has_occurred_ms = true;
    }
    int rc = mr_events_stage(tx, ev, maxlen);
    if (set_id)
        ev->event_id = NULL;
    if (set_region)
        ev->region = NULL;
    if (set_source)
        ev->source = NULL;
    if (set_request)
        ev->request_id = NULL;
    return rc;
}

int mr_call_emit(mr_call *call, Medrep__Event *ev)
{
    mr_service *svc = call->svc;
    if (emit_event(call->tx, ev, call->region, svc->instance, call->req->request_id, call->now_ms,
                   svc->settings.events_maxlen) != 0) {
        mr_call_fail(call, MR_INTERNAL, "event could not be staged");
        return -1;
    }
    return 0;
}

int mr_event_call_emit(mr_event_call *call, Medrep__Event *ev)
{
    mr_service *svc = call->svc;
    return emit_event(call->tx, ev, call->region, svc->instance, NULL, call->now_ms,
                      svc->settings.events_maxlen);
}

/* ---- Settings ---- */

/* A setting of this service: [service@<name>] wins over [service]; the
 * environment overrides either (see config.h). */
static int setting_int(const mr_service *svc, const char *key, long long def, long long min,
                       long long max, long long *out, char *err, size_t errcap)
{
    char scoped[MDP_MAX_NAME + 16];
    snprintf(scoped, sizeof scoped, "service@%s", svc->def->name);
    const char *section = mr_config_get(svc->cfg, scoped, key) ? scoped : "service";
    return mr_config_int(svc->cfg, section, key, def, min, max, out, err, errcap);
}

static int read_settings(mr_service *svc, char *err, size_t errcap)
{
    service_settings *s = &svc->settings;
    long long hb, live, credits, block, idle, interval;
    /* heartbeats are the broker's: both sides must use the same values */
    if (mr_config_int(svc->cfg, "broker", "heartbeat_ms", 1000, 10, 600000, &hb, err, errcap) ||
        mr_config_int(svc->cfg, "broker", "liveness", 3, 1, 100, &live, err, errcap) ||
        mr_config_int(svc->cfg, "broker", "max_msg_bytes", MR_DEFAULT_MAX_MSG, 1024, 1 << 30,
                      &s->max_msg, err, errcap) ||
        setting_int(svc, "credits", 16, 1, MDP_MAX_CREDITS, &credits, err, errcap) ||
        setting_int(svc, "reply_ttl_ms", 86400000LL, 1000, 30LL * 86400000, &s->reply_ttl_ms, err, errcap) ||
        setting_int(svc, "events_maxlen", 10000000, 0, 1LL << 40, &s->events_maxlen, err, errcap) ||
        setting_int(svc, "event_block_ms", 500, 1, 60000, &block, err, errcap) ||
        setting_int(svc, "claim_min_idle_ms", 30000, 10, 86400000, &idle, err, errcap) ||
        setting_int(svc, "claim_interval_ms", 5000, 10, 86400000, &interval, err, errcap))
        return -1;
    s->heartbeat_ms = (int)hb;
    s->liveness = (int)live;
    s->credits = (int)credits;
    s->event_block_ms = (int)block;
    s->claim_min_idle_ms = (int)idle;
    s->claim_interval_ms = (int)interval;
    return 0;
}

/* ---- Requests ---- */

/* Packs a reply. Caller frees *out. */
static size_t pack_reply(const char *request_id, int code, const char *message,
                         const uint8_t *payload, size_t payload_len, const char *instance,
                         uint8_t **out)
{
    Medrep__Reply reply = MEDREP__REPLY__INIT;
    Medrep__Status status = MEDREP__STATUS__INIT;
    status.code = code;
    status.has_code = true;
    status.message = message && message[0] ? (char *)message : NULL;
    reply.request_id = (char *)request_id;
    reply.status = &status;
    reply.instance = (char *)instance;
    if (payload) {
        reply.payload.data = (uint8_t *)payload;
        reply.payload.len = payload_len;
        reply.has_payload = true;
    }
    size_t len = medrep__reply__get_packed_size(&reply);
    *out = malloc(len + 2);  /* + room for the replayed flag */
    if (!*out)
        return 0;
    return medrep__reply__pack(&reply, *out);
}

static const mr_method *find_method(const mr_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->def->method_count; i++)
        if (strcmp(svc->def->methods[i].name, name) == 0)
            return &svc->def->methods[i];
    return NULL;
}

static void status_method(mr_service *svc, mr_call *call)
{
    Medrep__StatusReply st = MEDREP__STATUS_REPLY__INIT;
    char redis_state[512] = "ok";
    size_t n = mr_store_pool_region_count(svc->pool);
    char **regions = calloc(n ? n : 1, sizeof *regions);
    for (size_t i = 0; regions && i < n; i++) {
        const char *name = mr_store_pool_region_name(svc->pool, i);
        regions[i] = (char *)name;
        mr_store *store = mr_store_pool_get(svc->pool, name);
        if (!mr_store_ping(store))
            snprintf(redis_state, sizeof redis_state, "%s: %s", name, mr_store_error(store));
    }
    st.service = (char *)svc->def->name;
    st.instance = svc->instance;
    st.version = MEDREP_VERSION;
    st.uptime_ms = mr_now_ms() - svc->started_ms;
    st.requests_served = (int64_t)svc->requests_served;
    st.handler_p50_us = mr_hist_quantile(&svc->handler_us, 0.50);
    st.handler_p99_us = mr_hist_quantile(&svc->handler_us, 0.99);
    st.events_handled = atomic_load(&svc->events_handled);
    st.has_uptime_ms = st.has_requests_served = st.has_handler_p50_us = true;
    st.has_handler_p99_us = st.has_events_handled = true;
    st.redis_state = redis_state;
    st.regions = regions;
    st.n_regions = regions ? n : 0;
    mr_call_reply(call, &st.base);
    free(regions);
}

/* Checks the envelope; on failure sets call's code and returns NULL. */
static const mr_method *admit_request(mr_service *svc, mr_call *call, const Medrep__Request *req)
{
    if (!req->request_id || !req->request_id[0] || strlen(req->request_id) > MDP_MAX_ID) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "request_id must be 1 to 64 bytes");
        return NULL;
    }
    if (req->has_deadline_ms && req->deadline_ms <= call->now_ms) {
        mr_call_fail(call, MR_DEADLINE_EXCEEDED, "the request's deadline passed before it was handled");
        return NULL;
    }
    const mr_method *m = req->method ? find_method(svc, req->method) : NULL;
    if (!m) {
        mr_call_fail(call, MR_UNIMPLEMENTED, "service %s has no method '%s'", svc->def->name,
                     req->method ? req->method : "");
        return NULL;
    }
    if (!req->region || !mr_region_name_valid(req->region)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "a valid region is required");
        return NULL;
    }
    call->store = mr_store_pool_get(svc->pool, req->region);
    if (!call->store) {
        mr_call_fail(call, MR_NOT_FOUND, "region '%s' is not served here", req->region);
        return NULL;
    }
    call->region = req->region;
    return m;
}

/* Returns the stored reply of an earlier attempt (caller frees), or NULL. */
static mr_val *stored_reply(mr_call *call, const char *key, bool *redis_failed)
{
    mr_val *v = mr_store_cmd(call->store, "GET %s", key);
    *redis_failed = v == NULL || mr_val_type(v) == MR_VAL_ERROR;
    if (v && mr_val_type(v) == MR_VAL_STRING)
        return v;
    mr_val_free(&v);
    return NULL;
}

/* Sends a stored reply again, marked replayed (field 5 = true appended:
 * in protobuf a later field wins). */
static void send_replay(mr_service *svc, const mr_work *work, const mr_val *v)
{
    size_t len;
    const char *data = mr_val_str(v, &len);
    uint8_t *buf = malloc(len + 2);
    if (!buf)
        return;
    memcpy(buf, data, len);
    buf[len] = (5 << 3) | 0;
    buf[len + 1] = 1;
    mr_worker_reply(svc->worker, work, buf, len + 2);
    free(buf);
}

/* Runs the method and commits its writes with the reply. Sends the reply
 * (or the one a concurrent attempt stored first). */
static void run_method(mr_service *svc, const mr_method *m, mr_call *call, const mr_work *work,
                       const char *dedupe_key)
{
    m->fn(call);
    if (m->read_only && mr_tx_count(call->tx) > 0) {
        mr_error("read_only_method_wrote", "service=%s method=%s commands=%zu request=%s",
                 svc->def->name, m->name, mr_tx_count(call->tx), call->req->request_id);
        mr_tx_reset(call->tx);
        free(call->payload);
        call->payload = NULL;
        call->payload_len = 0;
        mr_call_fail(call, MR_INTERNAL, "method %s is marked read-only but staged writes",
                     m->name);
    }
    uint8_t *packed = NULL;
    size_t len = pack_reply(call->req->request_id, call->code, call->message, call->payload,
                            call->payload_len, svc->instance, &packed);
    if (mr_tx_count(call->tx) == 0 || call->code != MR_OK) {
        mr_worker_reply(svc->worker, work, packed, len);
        free(packed);
        return;
    }
    mr_val *prior = NULL;
    mr_tx_result r = mr_tx_commit(call->store, call->tx, dedupe_key, packed, len,
                                  svc->settings.reply_ttl_ms, &prior);
    if (r == MR_TX_COMMITTED) {
        mr_worker_reply(svc->worker, work, packed, len);
    } else if (r == MR_TX_DUPLICATE && prior) {
        send_replay(svc, work, prior);
    } else if (r == MR_TX_CONFLICT) {
        uint8_t *conflict = NULL;
        size_t clen = pack_reply(call->req->request_id, MR_ABORTED,
                                 "the record changed while the request was handled; try again",
                                 NULL, 0, svc->instance, &conflict);
        mr_worker_reply(svc->worker, work, conflict, clen);
        free(conflict);
    } else {
        uint8_t *failed = NULL;
        char message[300];
        snprintf(message, sizeof message, "redis unavailable: %s", mr_store_error(call->store));
        size_t flen = pack_reply(call->req->request_id, MR_UNAVAILABLE, message, NULL, 0,
                                 svc->instance, &failed);
        mr_worker_reply(svc->worker, work, failed, flen);
        free(failed);
    }
    mr_val_free(&prior);
    free(packed);
}

static void reply_plain(mr_service *svc, const mr_work *work, const char *request_id, mr_call *call)
{
    uint8_t *packed = NULL;
    size_t len = pack_reply(request_id, call->code, call->message, call->payload,
                            call->payload_len, svc->instance, &packed);
    mr_worker_reply(svc->worker, work, packed, len);
    free(packed);
}

static void handle_request(mr_service *svc, const mr_work *work, mr_tx *tx)
{
    char request_id[MDP_MAX_ID + 1] = {0};
    memcpy(request_id, work->request_id.data,
           work->request_id.size < MDP_MAX_ID ? work->request_id.size : MDP_MAX_ID);
    mr_call call = {.svc = svc, .tx = tx, .now_ms = mr_now_ms()};
    mr_tx_reset(tx);
    Medrep__Request *req = medrep__request__unpack(NULL, work->body.size, work->body.data);
    if (!req) {
        mr_call_fail(&call, MR_INVALID_ARGUMENT, "undecodable request envelope");
        reply_plain(svc, work, request_id, &call);
        return;
    }
    call.req = req;
    if (req->method && strcmp(req->method, "Status") == 0) {
        status_method(svc, &call);
        reply_plain(svc, work, req->request_id, &call);
    } else {
        const mr_method *m = admit_request(svc, &call, req);
        char dedupe_key[256];
        bool redis_failed = false;
        mr_val *prior = NULL;
        if (m && mr_key(dedupe_key, sizeof dedupe_key, call.region, "reply:%s:%s", svc->def->name,
                        req->request_id) < 0)
            m = NULL, mr_call_fail(&call, MR_INVALID_ARGUMENT, "request id too long");
        if (m && !m->read_only) /* a read has no stored reply to find */
            prior = stored_reply(&call, dedupe_key, &redis_failed);
        if (prior)
            send_replay(svc, work, prior);
        else if (m && redis_failed)
            mr_call_fail(&call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call.store)),
                reply_plain(svc, work, req->request_id, &call);
        else if (m)
            run_method(svc, m, &call, work, dedupe_key);
        else
            reply_plain(svc, work, req->request_id ? req->request_id : request_id, &call);
        mr_val_free(&prior);
    }
    free(call.payload);
    medrep__request__free_unpacked(req, NULL);
}

static void serve(mr_service *svc)
{
    mr_tx *tx = mr_tx_new();
    while (!stop_requested) {
        mr_work work;
        if (mr_worker_recv(svc->worker, 200, &work) != 1)
            continue;
        int64_t t0 = mr_mono_us();
        handle_request(svc, &work, tx);
        mr_hist_add(&svc->handler_us, mr_mono_us() - t0);
        svc->requests_served++;
    }
    mr_tx_free(&tx);
}

/* ---- Events ---- */

/* Entries of event types the service does not handle, acknowledged
 * together: one XACK when SKIP_ACK_BATCH gathered, when the stream has
 * nothing new, or half claim_min_idle_ms after the first was gathered (so
 * that no other instance claims them meanwhile). A crash before that only
 * means they are read and skipped again. */
#define SKIP_ACK_BATCH 256

typedef struct {
    char ids[SKIP_ACK_BATCH][48];
    size_t n;
    int64_t first_ms;            /* monotonic, when ids[0] was gathered */
} skip_acks;

typedef struct {
    mr_service *svc;
    mr_store_pool *pool;
    mr_consumer **consumers;
    skip_acks *skips;            /* one per consumer */
    size_t count;
    mr_tx *tx;
} event_loop;

/* Commits a handler's effects once per entry, with the count of handled
 * events by type. 0, or -1 to retry later (Redis away, or a
 * conflict). */
static int commit_effects(event_loop *loop, mr_consumer *c, mr_event_entry *e, mr_store *store)
{
    mr_service *svc = loop->svc;
    char counts_key[128], key[256];
    mr_key(counts_key, sizeof counts_key, mr_consumer_region(c), "handled:%s", svc->def->name);
    mr_tx_addv(loop->tx, "HINCRBY", counts_key, mr_event_type_name(e->event), "1", NULL);
    mr_consumer_dedupe_key(c, e->id, key, sizeof key);
    mr_tx_result r = mr_tx_commit(store, loop->tx, key, "1", 1, svc->settings.reply_ttl_ms * 7, NULL);
    return r == MR_TX_COMMITTED || r == MR_TX_DUPLICATE ? 0 : -1;
}

/* Counts an event that took no effect (a statistic: not transactional,
 * so a crash can count one twice). */
static void count_ignored(event_loop *loop, mr_consumer *c, mr_event_entry *e, mr_store *store)
{
    char counts_key[128];
    mr_key(counts_key, sizeof counts_key, mr_consumer_region(c), "handled:%s", loop->svc->def->name);
    mr_val *v = mr_store_cmd(store, "HINCRBY %s %s 1", counts_key, mr_event_type_name(e->event));
    mr_val_free(&v);
}

/* Handles one entry. Returns 0 when done (acknowledged), -1 to retry. An
 * event the handler stages nothing for needs no atomic commit: it is
 * counted and acknowledged. */
static int handle_entry(event_loop *loop, mr_consumer *c, mr_event_entry *e)
{
    mr_service *svc = loop->svc;
    const char *region = mr_consumer_region(c);
    mr_event_call call = {.ev = e->event, .region = region, .entry_id = e->id,
                          .store = mr_store_pool_get(loop->pool, region), .tx = loop->tx,
                          .svc = svc, .now_ms = mr_now_ms()};
    mr_tx_reset(loop->tx);
    if (svc->def->on_event(&call) != 0)
        return -1;
    if (mr_tx_count(loop->tx) == 0)
        count_ignored(loop, c, e, call.store);
    else if (commit_effects(loop, c, e, call.store) != 0)
        return -1;
    if (mr_consumer_ack(c, e->id) != 0)
        return -1;
    atomic_fetch_add(&svc->events_handled, 1);
    return 0;
}

/* True when the service's handler takes events of this entry's type. */
static bool handles_type(const mr_service *svc, const mr_event_entry *e)
{
    const char *const *types = svc->def->event_types;
    if (types == NULL)
        return true;
    const char *name = mr_event_type_name(e->event);
    for (size_t i = 0; types[i] != NULL; i++)
        if (strcmp(types[i], name) == 0)
            return true;
    return false;
}

/* Acknowledges the gathered skipped entries of consumer i when `force`,
 * when the batch is full, or when the first has waited long enough. A
 * failure keeps them for the next time. */
static void flush_skips(event_loop *loop, size_t i, bool force)
{
    skip_acks *s = &loop->skips[i];
    if (s->n == 0 || (!force && s->n < SKIP_ACK_BATCH &&
                      mr_mono_ms() - s->first_ms < loop->svc->settings.claim_min_idle_ms / 2))
        return;
    const char *ids[SKIP_ACK_BATCH];
    for (size_t k = 0; k < s->n; k++)
        ids[k] = s->ids[k];
    if (mr_consumer_ack_many(loop->consumers[i], ids, s->n) == 0) {
        atomic_fetch_add(&loop->svc->events_handled, s->n);
        s->n = 0;
    }
}

/* Gathers a skipped entry of consumer i; false when the batch is full and
 * could not be acknowledged (the entry is read again later). */
static bool skip_entry(event_loop *loop, size_t i, const mr_event_entry *e)
{
    skip_acks *s = &loop->skips[i];
    flush_skips(loop, i, false);
    if (s->n == SKIP_ACK_BATCH)
        return false;
    if (s->n == 0)
        s->first_ms = mr_mono_ms();
    snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", e->id);
    return true;
}

/* Takes the next entry of consumer i: handled, skipped or failed. Returns
 * what mr_consumer_next returned, with *failed set on a handler failure. */
static int next_entry(event_loop *loop, size_t i, int block_ms, bool *failed)
{
    mr_consumer *c = loop->consumers[i];
    mr_event_entry e = {0};
    int got = mr_consumer_next(c, block_ms > 0 ? block_ms : 1, &e);
    if (got == 1 && !handles_type(loop->svc, &e)) {
        *failed |= !skip_entry(loop, i, &e);
    } else if (got == 1 && handle_entry(loop, c, &e) != 0) {
        mr_warn("event_not_handled", "entry=%s type=%s region=%s retry=later", e.id,
                mr_event_type_name(e.event), mr_consumer_region(c));
        *failed = true;
    }
    if (got != 1)
        flush_skips(loop, i, true);
    mr_event_entry_clear(&e);
    return got;
}

static void *event_main(void *arg)
{
    event_loop *loop = arg;
    int block_ms = loop->svc->settings.event_block_ms / (int)(loop->count ? loop->count : 1);
    while (!stop_requested) {
        bool failed = false;
        for (size_t i = 0; i < loop->count && !stop_requested; i++)
            if (next_entry(loop, i, block_ms, &failed) < 0)
                failed = true;
        if (failed)
            usleep(200 * 1000);   /* Redis away or a handler failed: pause, then retry */
    }
    for (size_t i = 0; i < loop->count; i++)
        flush_skips(loop, i, true);
    return NULL;
}

static void event_loop_free(event_loop **lp)
{
    event_loop *loop = *lp;
    if (!loop)
        return;
    for (size_t i = 0; loop->consumers && i < loop->count; i++)
        mr_consumer_free(&loop->consumers[i]);
    free(loop->consumers);
    free(loop->skips);
    mr_tx_free(&loop->tx);
    mr_store_pool_free(&loop->pool);
    free(loop);
    *lp = NULL;
}

static event_loop *event_loop_new(mr_service *svc, char *err, size_t errcap)
{
    event_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    loop->svc = svc;
    loop->pool = mr_store_pool_new(svc->cfg, err, errcap);
    loop->count = loop->pool ? mr_store_pool_region_count(loop->pool) : 0;
    loop->consumers = calloc(loop->count ? loop->count : 1, sizeof *loop->consumers);
    loop->skips = calloc(loop->count ? loop->count : 1, sizeof *loop->skips);
    loop->tx = mr_tx_new();
    mr_consumer_opts opts = {.claim_min_idle_ms = svc->settings.claim_min_idle_ms,
                             .claim_interval_ms = svc->settings.claim_interval_ms};
    if (!loop->skips) {
        snprintf(err, errcap, "out of memory for the event consumers");
        loop->count = 0;
        event_loop_free(&loop);
        return NULL;
    }
    for (size_t i = 0; loop->pool && loop->consumers && i < loop->count; i++) {
        const char *region = mr_store_pool_region_name(loop->pool, i);
        loop->consumers[i] = mr_consumer_new(mr_store_pool_get(loop->pool, region), region,
                                             svc->def->name, svc->instance, &opts);
        if (!loop->consumers[i]) {
            snprintf(err, errcap, "cannot create the event consumer of region %s", region);
            loop->count = i;
            event_loop_free(&loop);
            return NULL;
        }
    }
    return loop;
}

/* ---- Start and stop ---- */

static void make_instance_name(mr_service *svc, const char *given)
{
    if (given) {
        snprintf(svc->instance, sizeof svc->instance, "%s", given);
        return;
    }
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    for (char *p = host; *p; p++)
        if (!mdp_name_valid((const uint8_t *)p, 1))
            *p = '-';
    snprintf(svc->instance, sizeof svc->instance, "%s-%.30s-%d", svc->def->name, host, (int)getpid());
}

static int service_start(mr_service *svc, const mr_cli_args *args, char *err, size_t errcap)
{
    svc->cfg = mr_config_load(args->config_path, err, errcap);
    if (!svc->cfg)
        return -1;
    const char *scopes[] = {svc->def->name, NULL};
    const char *level_name = mr_config_scoped(svc->cfg, "service", "log_level", scopes);
    int level = level_name ? mr_log_level_parse(level_name) : MR_LOG_INFO;
    if (level < 0) {
        snprintf(err, errcap, "log_level '%s' is not one of debug, info, warn, error", level_name);
        return -1;
    }
    make_instance_name(svc, args->instance);
    mr_log_init(svc->instance, (mr_log_level)level);
    if (!mdp_name_valid((const uint8_t *)svc->instance, strlen(svc->instance))) {
        snprintf(err, errcap, "invalid instance name '%s'", svc->instance);
        return -1;
    }
    if (read_settings(svc, err, errcap) != 0)
        return -1;
    svc->pool = mr_store_pool_new(svc->cfg, err, errcap);
    if (!svc->pool)
        return -1;
    if (svc->def->init && svc->def->init(svc, svc->cfg, err, errcap) != 0)
        return -1;
    mr_worker_opts wopts = {
        .broker = mr_config_str(svc->cfg, "broker", "endpoint", "tcp://127.0.0.1:5555"),
        .service = svc->def->name, .instance = svc->instance,
        .heartbeat_ms = svc->settings.heartbeat_ms, .liveness = svc->settings.liveness,
        .max_msg = svc->settings.max_msg,
        .credits = svc->settings.credits};
    svc->worker = mr_worker_new(&wopts);
    if (!svc->worker) {
        snprintf(err, errcap, "cannot create the broker worker");
        return -1;
    }
    return 0;
}

static int start_event_thread(mr_service *svc, event_loop **loop, char *err, size_t errcap)
{
    if (!svc->def->on_event)
        return 0;
    *loop = event_loop_new(svc, err, errcap);
    if (!*loop || !(*loop)->pool)
        return -1;
    if (pthread_create(&svc->event_thread, NULL, event_main, *loop) != 0) {
        snprintf(err, errcap, "cannot start the event thread");
        return -1;
    }
    svc->event_thread_running = true;
    return 0;
}

int mr_service_main(const mr_service_def *def, int argc, char **argv)
{
    mr_cli_args args;
    int rc = mr_cli_args_parse(argc, argv, &args);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    mr_service svc = {.def = def, .started_ms = mr_now_ms()};
    event_loop *loop = NULL;
    char err[512] = "";
    if (service_start(&svc, &args, err, sizeof err) != 0 ||
        start_event_thread(&svc, &loop, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", def->name, err);
        rc = 2;
    } else {
        mr_info("service_started", "service=%s regions=%zu", def->name,
                mr_store_pool_region_count(svc.pool));
        serve(&svc);
        mr_info("service_stopping", "served=%llu", (unsigned long long)svc.requests_served);
    }
    stop_requested = 1;
    if (svc.event_thread_running)
        pthread_join(svc.event_thread, NULL);
    event_loop_free(&loop);
    if (def->fini && svc.cfg)
        def->fini(&svc);
    mr_worker_free(&svc.worker);
    mr_store_pool_free(&svc.pool);
    mr_config_free(&svc.cfg);
    return rc;
}
