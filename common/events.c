/* events.c: durable events in the region's Redis stream (see events.h):
 * staging an event in a transaction, a consumer-group reader that
 * re-reads its own pending entries, claims what dead instances left and
 * dead-letters what it cannot decode, and the live PUB feed.
 *
 * Entries are read in batches: a consumer keeps the Redis reply of its
 * last read and hands its entries out one at a time, so one round trip
 * serves up to `batch` calls of mr_consumer_next(). */
#include "events.h"
#include "transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"
#include "config.h"

/* The largest packed event accepted on either side. */
#define EVENT_MAX_BYTES (1024 * 1024)
/* The dead-letter stream keeps about this many entries. */
#define DEAD_MAXLEN "10000"

#define CONSUMER_DEFAULT_CLAIM_MIN_IDLE_MS 30000
#define CONSUMER_DEFAULT_CLAIM_INTERVAL_MS 5000
#define CONSUMER_DEFAULT_BATCH 64

/* ---- Names and keys ---- */

const char *mr_event_type_name(const Medrep__Event *ev)
{
    switch (ev ? ev->body_case : MEDREP__EVENT__BODY__NOT_SET) {
    case MEDREP__EVENT__BODY_CUSTOMER_REGRADED: return "customer_regraded";
    case MEDREP__EVENT__BODY_CALL_LOGGED: return "call_logged";
    case MEDREP__EVENT__BODY_CALL_CANCELLED: return "call_cancelled";
    case MEDREP__EVENT__BODY_CALL_PLANNED: return "call_planned";
    case MEDREP__EVENT__BODY_PLAN_DUE: return "plan_due";
    case MEDREP__EVENT__BODY_COVERAGE_BEHIND_PACE: return "coverage_behind_pace";
    case MEDREP__EVENT__BODY_MEETING_CHANGED: return "meeting_changed";
    case MEDREP__EVENT__BODY_FOLLOW_UP_DUE: return "follow_up_due";
    case MEDREP__EVENT__BODY_REMINDER_DELIVERED: return "reminder_delivered";
    case MEDREP__EVENT__BODY_PLAN_CHANGED: return "plan_changed";
    case MEDREP__EVENT__BODY_INBOX_READ: return "inbox_read";
    case MEDREP__EVENT__BODY_REMINDERS_DELIVERED: return "reminders_delivered";
    case MEDREP__EVENT__BODY_PROBE: return "probe";
    case MEDREP__EVENT__BODY_INVITATION_SENT: return "invitation_sent";
    default: return "unknown";
    }
}

int mr_events_stream_key(char *buf, size_t cap, const char *region)
{
    return mr_key(buf, cap, region, "events");
}

static int dead_stream_key(char *buf, size_t cap, const char *region)
{
    return mr_key(buf, cap, region, "events:dead");
}

/* ---- Producing ---- */

int mr_events_stage(mr_tx *tx, const Medrep__Event *ev, long long maxlen)
{
    char key[80];
    if (tx == NULL || ev == NULL || ev->region == NULL ||
        mr_events_stream_key(key, sizeof key, ev->region) < 0)
        return -1;
    size_t len = medrep__event__get_packed_size(ev);
    if (len > EVENT_MAX_BYTES)
        return -1;
    uint8_t *packed = malloc(len ? len : 1);
    if (packed == NULL)
        return -1;
    medrep__event__pack(ev, packed);

    char cap[24];
    const char *argv[10];
    size_t lens[10];
    int argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = key;
    if (maxlen > 0) {
        snprintf(cap, sizeof cap, "%lld", maxlen);
        argv[argc++] = "MAXLEN";
        argv[argc++] = "~";
        argv[argc++] = cap;
    }
    argv[argc++] = "*";
    argv[argc++] = "type";
    argv[argc++] = mr_event_type_name(ev);
    argv[argc++] = "ev";
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    argv[argc] = (const char *)packed;
    lens[argc++] = len;

    int rc = mr_tx_add(tx, argc, argv, lens);
    free(packed);
    return rc;
}

/* ---- Consumer ---- */

struct mr_consumer {
    mr_store *store;             /* borrowed */
    char region[33];
    char group[128];
    char name[128];
    char stream[64];
    char dead[64];
    mr_consumer_opts opts;
    bool group_ready;
    bool reading_history;        /* still re-reading own pending entries */
    char history_cursor[48];     /* last pending id re-read */
    char claim_cursor[48];       /* where XAUTOCLAIM goes on */
    int64_t next_claim_ms;       /* monotonic */
    mr_val *batch;               /* owned: the reply of the last read */
    const mr_val *entries;       /* the entry array inside batch */
    size_t next_entry;
    int batch_deliveries;        /* 1 for new entries, 0 when unknown */
};

static void consumer_drop_batch(mr_consumer *c)
{
    mr_val_free(&c->batch);
    c->entries = NULL;
    c->next_entry = 0;
}

static bool copy_name(char *dst, size_t cap, const char *src)
{
    if (src == NULL || src[0] == '\0' || strlen(src) >= cap)
        return false;
    memcpy(dst, src, strlen(src) + 1);
    return true;
}

static bool val_starts_with(const mr_val *v, const char *prefix)
{
    size_t len = 0;
    const char *text = mr_val_str(v, &len);
    size_t plen = strlen(prefix);
    return text != NULL && len >= plen && memcmp(text, prefix, plen) == 0;
}

/* XGROUP CREATE at the start of the stream; an existing group is fine. */
static int consumer_create_group(mr_consumer *c)
{
    const char *argv[] = {"XGROUP", "CREATE", c->stream, c->group, "0", "MKSTREAM"};
    mr_val *v = mr_store_cmdv(c->store, 6, argv, NULL);
    bool ok = v != NULL && (!mr_val_is_error(v) || val_starts_with(v, "BUSYGROUP"));
    mr_val_free(&v);
    c->group_ready = ok;
    return ok ? 0 : -1;
}

mr_consumer *mr_consumer_new(mr_store *store, const char *region, const char *group,
                             const char *consumer, const mr_consumer_opts *opts)
{
    if (store == NULL || region == NULL || !mr_region_name_valid(region))
        return NULL;
    mr_consumer *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if (!copy_name(c->region, sizeof c->region, region) ||
        !copy_name(c->group, sizeof c->group, group) ||
        !copy_name(c->name, sizeof c->name, consumer)) {
        free(c);
        return NULL;
    }
    c->store = store;
    mr_events_stream_key(c->stream, sizeof c->stream, region);
    dead_stream_key(c->dead, sizeof c->dead, region);
    if (opts)
        c->opts = *opts;
    if (c->opts.claim_min_idle_ms <= 0)
        c->opts.claim_min_idle_ms = CONSUMER_DEFAULT_CLAIM_MIN_IDLE_MS;
    if (c->opts.claim_interval_ms <= 0)
        c->opts.claim_interval_ms = CONSUMER_DEFAULT_CLAIM_INTERVAL_MS;
    if (c->opts.batch <= 0)
        c->opts.batch = CONSUMER_DEFAULT_BATCH;
    c->reading_history = true;
    strcpy(c->history_cursor, "0");
    strcpy(c->claim_cursor, "0-0");
    c->next_claim_ms = mr_mono_ms();
    /* best effort now; mr_consumer_next() tries again while Redis is away */
    consumer_create_group(c);
    return c;
}

void mr_consumer_free(mr_consumer **c)
{
    if (c == NULL || *c == NULL)
        return;
    consumer_drop_batch(*c);
    free(*c);
    *c = NULL;
}

const char *mr_consumer_region(const mr_consumer *c) { return c->region; }

int mr_consumer_dedupe_key(const mr_consumer *c, const char *entry_id, char *buf, size_t cap)
{
    return mr_key(buf, cap, c->region, "done:%s:%s", c->group, entry_id);
}

/* The group vanished (stream deleted, data lost): create it again next
 * time, and re-read pending entries from the start. */
static void consumer_check_nogroup(mr_consumer *c, const mr_val *v)
{
    if (val_starts_with(v, "NOGROUP")) {
        c->group_ready = false;
        c->reading_history = true;
        strcpy(c->history_cursor, "0");
    }
}

int mr_consumer_ack(mr_consumer *c, const char *entry_id)
{
    const char *argv[] = {"XACK", c->stream, c->group, entry_id};
    mr_val *v = mr_store_cmdv(c->store, 4, argv, NULL);
    int rc = mr_val_type(v) == MR_VAL_INTEGER ? 0 : -1;
    mr_val_free(&v);
    return rc;
}

int mr_consumer_ack_many(mr_consumer *c, const char *const *entry_ids, size_t n)
{
    const char **argv = calloc(n + 3, sizeof *argv);
    if (argv == NULL || n == 0) {
        free(argv);
        return n == 0 ? 0 : -1;
    }
    argv[0] = "XACK", argv[1] = c->stream, argv[2] = c->group;
    memcpy(argv + 3, entry_ids, n * sizeof *argv);
    mr_val *v = mr_store_cmdv(c->store, (int)n + 3, argv, NULL);
    int rc = mr_val_type(v) == MR_VAL_INTEGER ? 0 : -1;
    mr_val_free(&v);
    free(argv);
    return rc;
}

/* Keeps reply v as the current batch when its entry array has entries.
 * Takes ownership of v. Returns 1 when there is something to hand out. */
static int consumer_take_batch(mr_consumer *c, mr_val *v, const mr_val *entries, int deliveries)
{
    if (mr_val_count(entries) == 0) {
        mr_val_free(&v);
        return 0;
    }
    consumer_drop_batch(c);
    c->batch = v;
    c->entries = entries;
    c->next_entry = 0;
    c->batch_deliveries = deliveries;
    return 1;
}

/* The entry array of an XREADGROUP reply [[stream, [entries]]]. */
static const mr_val *xread_entries(const mr_val *v)
{
    return mr_val_at(mr_val_at(v, 0), 1);
}

static const char *entry_id(const mr_val *entry, size_t *len)
{
    return mr_val_type(mr_val_at(entry, 0)) == MR_VAL_STRING ? mr_val_str(mr_val_at(entry, 0), len)
                                                             : NULL;
}

static void copy_id(char *dst, size_t cap, const mr_val *id_val)
{
    size_t len = 0;
    const char *id = mr_val_str(id_val, &len);
    if (id == NULL || len >= cap)
        return;
    memcpy(dst, id, len);
    dst[len] = '\0';
}

/* XREADGROUP ... STREAMS key <cursor>: our own pending entries after the
 * cursor. Returns 1 with a batch, 0 when none are left, -1 on failure. */
static int consumer_read_history(mr_consumer *c)
{
    char count[16];
    snprintf(count, sizeof count, "%d", c->opts.batch);
    const char *argv[] = {"XREADGROUP", "GROUP", c->group, c->name, "COUNT", count,
                          "STREAMS", c->stream, c->history_cursor};
    mr_val *v = mr_store_cmdv(c->store, 9, argv, NULL);
    if (mr_val_is_error(v)) {
        consumer_check_nogroup(c, v);
        mr_val_free(&v);
        return -1;
    }
    const mr_val *entries = xread_entries(v);
    size_t n = mr_val_count(entries);
    if (n == 0) {
        c->reading_history = false;
        mr_val_free(&v);
        return 0;
    }
    copy_id(c->history_cursor, sizeof c->history_cursor, mr_val_at(mr_val_at(entries, n - 1), 0));
    return consumer_take_batch(c, v, entries, 0);
}

/* XAUTOCLAIM entries idle longer than claim_min_idle_ms. The reply is
 * [next cursor, [entries], [deleted ids]]. */
static int consumer_claim(mr_consumer *c)
{
    char idle[16], count[16];
    snprintf(idle, sizeof idle, "%d", c->opts.claim_min_idle_ms);
    snprintf(count, sizeof count, "%d", c->opts.batch);
    const char *argv[] = {"XAUTOCLAIM", c->stream, c->group, c->name, idle,
                          c->claim_cursor, "COUNT", count};
    mr_val *v = mr_store_cmdv(c->store, 8, argv, NULL);
    if (mr_val_is_error(v)) {
        consumer_check_nogroup(c, v);
        mr_val_free(&v);
        return -1;
    }
    copy_id(c->claim_cursor, sizeof c->claim_cursor, mr_val_at(v, 0));
    /* a full scan ends at cursor 0-0: wait for the next interval */
    if (strcmp(c->claim_cursor, "0-0") == 0)
        c->next_claim_ms = mr_mono_ms() + c->opts.claim_interval_ms;
    return consumer_take_batch(c, v, mr_val_at(v, 1), 0);
}

/* XREADGROUP ... BLOCK block_ms STREAMS key >: new entries. */
static int consumer_read_new(mr_consumer *c, int block_ms)
{
    char count[16], block[16];
    snprintf(count, sizeof count, "%d", c->opts.batch);
    snprintf(block, sizeof block, "%d", block_ms);
    const char *argv[11] = {"XREADGROUP", "GROUP", c->group, c->name, "COUNT", count};
    int argc = 6;
    /* BLOCK 0 would wait forever: no BLOCK means "do not wait" */
    if (block_ms > 0) {
        argv[argc++] = "BLOCK";
        argv[argc++] = block;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = c->stream;
    argv[argc++] = ">";
    mr_val *v = mr_store_cmdv_blocking(c->store, block_ms > 0 ? block_ms : 0, argc, argv, NULL);
    if (mr_val_is_error(v)) {
        consumer_check_nogroup(c, v);
        mr_val_free(&v);
        return -1;
    }
    return consumer_take_batch(c, v, xread_entries(v), 1);
}

/* Reads the next batch: own pending entries first, then claims when due,
 * then new entries. 1 with a batch, 0 when nothing came, -1 on failure. */
static int consumer_fetch(mr_consumer *c, int block_ms)
{
    if (!c->group_ready && consumer_create_group(c) != 0)
        return -1;
    if (c->reading_history) {
        int rc = consumer_read_history(c);
        if (rc != 0)
            return rc;
    }
    if (mr_mono_ms() >= c->next_claim_ms) {
        int rc = consumer_claim(c);
        if (rc != 0)
            return rc;
    }
    return consumer_read_new(c, block_ms);
}

/* The value of field `name` in an entry's [f1, v1, f2, v2, ...]. */
static const char *entry_field(const mr_val *fields, const char *name, size_t *len)
{
    size_t n = mr_val_count(fields);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t flen = 0;
        const char *f = mr_val_str(mr_val_at(fields, i), &flen);
        if (f != NULL && flen == strlen(name) && memcmp(f, name, flen) == 0)
            return mr_val_str(mr_val_at(fields, i + 1), len);
    }
    *len = 0;
    return NULL;
}

/* Moves an entry to the dead-letter stream with the reason and acks it,
 * both in one script. 0 or -1. */
static int consumer_dead_letter(mr_consumer *c, const char *id, const mr_val *fields,
                                const char *reason)
{
    size_t type_len = 0, ev_len = 0;
    const char *type = entry_field(fields, "type", &type_len);
    const char *ev = entry_field(fields, "ev", &ev_len);
    const char *argv[] = {"XADD", c->dead, "MAXLEN", "~", DEAD_MAXLEN, "*",
                          "id", id, "group", c->group, "reason", reason,
                          "type", type ? type : "", "ev", ev ? ev : ""};
    size_t lens[16];
    for (int i = 0; i < 16; i++)
        lens[i] = strlen(argv[i]);
    lens[13] = type_len;
    lens[15] = ev_len;
    const char *ack[] = {"XACK", c->stream, c->group, id};

    mr_tx *tx = mr_tx_new();
    int rc = -1;
    if (tx != NULL && mr_tx_add(tx, 16, argv, lens) == 0 && mr_tx_add(tx, 4, ack, NULL) == 0)
        rc = mr_tx_commit(c->store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
    mr_tx_free(&tx);
    return rc;
}

/* Why an entry's event cannot be handled, or NULL with *out_ev decoded. */
static const char *decode_entry(const mr_consumer *c, const mr_val *fields, Medrep__Event **out_ev,
                                char *why, size_t whycap)
{
    size_t len = 0;
    const char *packed = entry_field(fields, "ev", &len);
    *out_ev = NULL;
    if (packed == NULL)
        return "no ev field";
    if (len > EVENT_MAX_BYTES)
        return "event larger than 1 MiB";
    Medrep__Event *ev = medrep__event__unpack(NULL, len, (const uint8_t *)packed);
    if (ev == NULL)
        return "undecodable medrep.Event";
    if (ev->region == NULL || strcmp(ev->region, c->region) != 0) {
        snprintf(why, whycap, "event of region '%s' in the stream of '%s'",
                 ev->region ? ev->region : "", c->region);
        medrep__event__free_unpacked(ev, NULL);
        return why;
    }
    *out_ev = ev;
    return NULL;
}

/* Handles one entry of the batch: 1 with *out filled, 0 when it was
 * skipped (dead-lettered or gone), -1 when Redis failed doing so. */
static int consumer_handle_entry(mr_consumer *c, const mr_val *entry, mr_event_entry *out)
{
    char id[48];
    size_t id_len = 0;
    const char *id_text = entry_id(entry, &id_len);
    if (id_text == NULL || id_len >= sizeof id)
        return 0; /* not an entry at all: nothing to ack */
    memcpy(id, id_text, id_len);
    id[id_len] = '\0';

    const mr_val *fields = mr_val_at(entry, 1);
    if (mr_val_type(fields) != MR_VAL_ARRAY) /* deleted by XDEL or trimming */
        return mr_consumer_ack(c, id) == 0 ? 0 : -1;

    char why[160];
    Medrep__Event *ev = NULL;
    const char *reason = decode_entry(c, fields, &ev, why, sizeof why);
    if (reason != NULL)
        return consumer_dead_letter(c, id, fields, reason) == 0 ? 0 : -1;

    memset(out, 0, sizeof *out);
    memcpy(out->id, id, id_len + 1);
    out->event = ev;
    out->deliveries = c->batch_deliveries;
    return 1;
}

/* Hands out the next good entry of the current batch: 1, or 0 when the
 * batch is used up, -1 when Redis failed (the entry is tried again). */
static int consumer_next_from_batch(mr_consumer *c, mr_event_entry *out)
{
    while (c->batch != NULL && c->next_entry < mr_val_count(c->entries)) {
        int rc = consumer_handle_entry(c, mr_val_at(c->entries, c->next_entry), out);
        if (rc < 0)
            return -1;
        c->next_entry++;
        if (rc == 1)
            return 1;
    }
    consumer_drop_batch(c);
    return 0;
}

int mr_consumer_next(mr_consumer *c, int block_ms, mr_event_entry *out)
{
    for (;;) {
        int rc = consumer_next_from_batch(c, out);
        if (rc != 0)
            return rc;
        rc = consumer_fetch(c, block_ms);
        if (rc <= 0)
            return rc;
    }
}

void mr_event_entry_clear(mr_event_entry *e)
{
    if (e == NULL)
        return;
    if (e->event != NULL)
        medrep__event__free_unpacked(e->event, NULL);
    memset(e, 0, sizeof *e);
}

/* ---- Live feed ---- */

#define FEED_BLOCK_MS 200
#define FEED_MIN_BLOCK_MS 20
#define FEED_READ_COUNT "256"
#define FEED_RETRY_PAUSE_MS 100
#define FEED_SNDHWM 10000
#define FEED_MAX_REGIONS 256

typedef struct {
    const char *name;       /* borrowed from the pool */
    mr_store *store;        /* borrowed from the pool */
    char stream[64];
    char last_id[48];       /* "" until the tail position is known */
} feed_region;

struct mr_feed {
    pthread_t thread;
    atomic_bool stop;
    void *pub;
    mr_feed_seq seq;        /* the last message's; used only by the feed thread */
    int heartbeat_ms;
    int64_t last_sent_ms;   /* monotonic time of the last message */
    mr_store_pool *pool;    /* owned; used only by the feed thread */
    feed_region *regions;
    size_t nregions;
    mr_store **servers;     /* the distinct stores, borrowed */
    size_t nservers;
};

static void pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The id of the stream's newest entry ("0-0" when empty): where tailing
 * starts, like "$" but without missing entries between two reads. */
static int feed_find_tail(feed_region *r)
{
    const char *argv[] = {"XREVRANGE", r->stream, "+", "-", "COUNT", "1"};
    mr_val *v = mr_store_cmdv(r->store, 6, argv, NULL);
    if (mr_val_type(v) != MR_VAL_ARRAY) {
        mr_val_free(&v);
        return -1;
    }
    strcpy(r->last_id, "0-0");
    if (mr_val_count(v) > 0)
        copy_id(r->last_id, sizeof r->last_id, mr_val_at(mr_val_at(v, 0), 0));
    mr_val_free(&v);
    return 0;
}

void mr_feed_seq_encode(const mr_feed_seq *seq, uint8_t buf[MR_FEED_SEQ_BYTES])
{
    for (int i = 0; i < 8; i++) {
        buf[i] = (uint8_t)(seq->session >> (56 - 8 * i));
        buf[8 + i] = (uint8_t)(seq->counter >> (56 - 8 * i));
    }
}

bool mr_feed_seq_decode(const void *data, size_t len, mr_feed_seq *out)
{
    if (data == NULL || len != MR_FEED_SEQ_BYTES)
        return false;
    const uint8_t *b = data;
    *out = (mr_feed_seq){0};
    for (int i = 0; i < 8; i++) {
        out->session = out->session << 8 | b[i];
        out->counter = out->counter << 8 | b[8 + i];
    }
    return true;
}

bool mr_feed_is_heartbeat(const void *topic, size_t len)
{
    return len == strlen(MR_FEED_HEARTBEAT_TOPIC) && memcmp(topic, MR_FEED_HEARTBEAT_TOPIC, len) == 0;
}

/* Sends one message: topic, body, the next sequence. The counter grows
 * even when the send fails, so a subscriber sees the loss as a gap. */
static void feed_send(mr_feed *f, const char *topic, size_t topic_len, const void *body, size_t body_len)
{
    f->seq.counter++;
    f->last_sent_ms = mr_mono_ms();
    uint8_t seq[MR_FEED_SEQ_BYTES];
    mr_feed_seq_encode(&f->seq, seq);
    if (zmq_send(f->pub, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;
    zmq_send(f->pub, body, body_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(f->pub, seq, sizeof seq, ZMQ_DONTWAIT);
}

static void feed_heartbeat_if_idle(mr_feed *f)
{
    if (mr_mono_ms() - f->last_sent_ms >= f->heartbeat_ms)
        feed_send(f, MR_FEED_HEARTBEAT_TOPIC, strlen(MR_FEED_HEARTBEAT_TOPIC), "", 0);
}

static void feed_publish(mr_feed *f, const feed_region *r, const mr_val *fields)
{
    size_t type_len = 0, ev_len = 0;
    const char *type = entry_field(fields, "type", &type_len);
    const char *ev = entry_field(fields, "ev", &ev_len);
    if (ev == NULL || ev_len > EVENT_MAX_BYTES)
        return;
    char topic[128];
    int n = snprintf(topic, sizeof topic, "%s.%.*s", r->name, (int)(type ? type_len : 7),
                     type ? type : "unknown");
    if (n < 0 || (size_t)n >= sizeof topic)
        n = (int)sizeof topic - 1;
    feed_send(f, topic, (size_t)n, ev, ev_len);
}

static feed_region *feed_region_by_key_len(mr_feed *f, const char *key, size_t len)
{
    for (size_t i = 0; key != NULL && i < f->nregions; i++)
        if (strlen(f->regions[i].stream) == len && memcmp(f->regions[i].stream, key, len) == 0)
            return &f->regions[i];
    return NULL;
}

static feed_region *feed_region_by_key(mr_feed *f, const char *key)
{
    return feed_region_by_key_len(f, key, strlen(key));
}

static feed_region *feed_region_by_stream(mr_feed *f, const mr_val *key)
{
    size_t len = 0;
    const char *text = mr_val_str(key, &len);
    return feed_region_by_key_len(f, text, len);
}

/* Publishes an XREAD reply [[stream, [entries]], ...]. */
static void feed_publish_reply(mr_feed *f, const mr_val *v)
{
    for (size_t s = 0; s < mr_val_count(v); s++) {
        const mr_val *stream = mr_val_at(v, s);
        feed_region *r = feed_region_by_stream(f, mr_val_at(stream, 0));
        const mr_val *entries = mr_val_at(stream, 1);
        for (size_t i = 0; r != NULL && i < mr_val_count(entries); i++) {
            const mr_val *entry = mr_val_at(entries, i);
            copy_id(r->last_id, sizeof r->last_id, mr_val_at(entry, 0));
            feed_publish(f, r, mr_val_at(entry, 1));
        }
    }
}

/* One XREAD BLOCK over every region stream on one server. 0 or -1. */
static int feed_poll_server(mr_feed *f, mr_store *server, int block_ms)
{
    const char *argv[6 + 2 * FEED_MAX_REGIONS];
    char block[16];
    snprintf(block, sizeof block, "%d", block_ms);
    int argc = 0;
    argv[argc++] = "XREAD";
    argv[argc++] = "COUNT";
    argv[argc++] = FEED_READ_COUNT;
    argv[argc++] = "BLOCK";
    argv[argc++] = block;
    argv[argc++] = "STREAMS";
    for (size_t i = 0; i < f->nregions; i++) {
        feed_region *r = &f->regions[i];
        if (r->store != server)
            continue;
        if (r->last_id[0] == '\0' && feed_find_tail(r) != 0)
            return -1;
        argv[argc++] = r->stream;
    }
    int nstreams = argc - 6;
    for (int i = 0; i < nstreams; i++)
        argv[argc++] = feed_region_by_key(f, argv[6 + i])->last_id;
    mr_val *v = mr_store_cmdv_blocking(server, block_ms, argc, argv, NULL);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    feed_publish_reply(f, v);
    mr_val_free(&v);
    return 0;
}

static void *feed_main(void *arg)
{
    mr_feed *f = arg;
    int block_ms = (f->heartbeat_ms < FEED_BLOCK_MS ? f->heartbeat_ms : FEED_BLOCK_MS) / (int)f->nservers;
    if (block_ms < FEED_MIN_BLOCK_MS)
        block_ms = FEED_MIN_BLOCK_MS;
    while (!atomic_load(&f->stop)) {
        bool failed = false;
        for (size_t i = 0; i < f->nservers && !atomic_load(&f->stop); i++)
            if (feed_poll_server(f, f->servers[i], block_ms) != 0)
                failed = true;
        if (failed && !atomic_load(&f->stop))
            pause_ms(FEED_RETRY_PAUSE_MS);
        else if (!failed)
            feed_heartbeat_if_idle(f);   /* only while every stream is being read */
    }
    return NULL;
}

static bool feed_has_server(const mr_feed *f, const mr_store *s)
{
    for (size_t i = 0; i < f->nservers; i++)
        if (f->servers[i] == s)
            return true;
    return false;
}

static int feed_plan_regions(mr_feed *f)
{
    size_t n = mr_store_pool_region_count(f->pool);
    if (n > FEED_MAX_REGIONS)
        return -1;
    f->regions = calloc(n, sizeof *f->regions);
    f->servers = calloc(n, sizeof *f->servers);
    if (f->regions == NULL || f->servers == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        feed_region *r = &f->regions[i];
        r->name = mr_store_pool_region_name(f->pool, i);
        r->store = mr_store_pool_get(f->pool, r->name);
        mr_events_stream_key(r->stream, sizeof r->stream, r->name);
        if (!feed_has_server(f, r->store))
            f->servers[f->nservers++] = r->store;
    }
    f->nregions = n;
    return 0;
}

static int feed_open_socket(mr_feed *f, void *zmq_ctx, const char *endpoint, char *err,
                            size_t errcap)
{
    f->pub = zmq_socket(zmq_ctx, ZMQ_PUB);
    if (f->pub == NULL) {
        snprintf(err, errcap, "feed: zmq_socket: %s", zmq_strerror(errno));
        return -1;
    }
    int hwm = FEED_SNDHWM;
    mr_zmq_harden(f->pub, 64 * 1024);   /* what comes in are subscriptions: small */
    zmq_setsockopt(f->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(f->pub, endpoint) != 0) {
        snprintf(err, errcap, "feed: bind %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static void feed_free(mr_feed *f)
{
    if (f->pub)
        zmq_close(f->pub);
    mr_store_pool_free(&f->pool);
    free(f->regions);
    free(f->servers);
    free(f);
}

mr_feed *mr_feed_start(void *zmq_ctx, const mr_config *cfg, const char *endpoint, char *err,
                       size_t errcap)
{
    char scratch[8];
    if (err == NULL) {
        err = scratch;
        errcap = sizeof scratch;
    }
    mr_feed *f = calloc(1, sizeof *f);
    if (f == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    atomic_init(&f->stop, false);
    long long heartbeat;
    if (mr_config_int(cfg, "feed", "heartbeat_ms", MR_FEED_DEFAULT_HEARTBEAT_MS, 1, 3600000, &heartbeat, err,
                      errcap) != 0)
        goto fail;
    f->heartbeat_ms = (int)heartbeat;
    while (f->seq.session == 0)   /* a new session at every start */
        if (getrandom(&f->seq.session, sizeof f->seq.session, 0) != (ssize_t)sizeof f->seq.session)
            f->seq.session = (uint64_t)mr_mono_ms() ^ ((uint64_t)getpid() << 32);
    f->last_sent_ms = mr_mono_ms();
    f->pool = mr_store_pool_new(cfg, err, errcap);
    if (f->pool == NULL)
        goto fail;
    if (feed_plan_regions(f) != 0) {
        snprintf(err, errcap, "feed: out of memory or too many regions");
        goto fail;
    }
    if (feed_open_socket(f, zmq_ctx, endpoint, err, errcap) != 0)
        goto fail;
    /* from here on the pool and the socket belong to the feed thread */
    int rc = pthread_create(&f->thread, NULL, feed_main, f);
    if (rc != 0) {
        snprintf(err, errcap, "feed: pthread_create: %s", strerror(rc));
        goto fail;
    }
    return f;
fail:
    feed_free(f);
    return NULL;
}

void mr_feed_stop(mr_feed **feed)
{
    if (feed == NULL || *feed == NULL)
        return;
    atomic_store(&(*feed)->stop, true);
    pthread_join((*feed)->thread, NULL);
    feed_free(*feed);
    *feed = NULL;
}
