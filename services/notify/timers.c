/* timers.c: durable timers. Two threads per region, each with its own
 * store connection:
 *
 * The mover. Each shard of a region is moved by one instance at a time,
 * the holder of the shard's lease (renewed on every pass, given up at
 * shutdown). One atomic script takes "now" from Redis's own clock (so the
 * hosts' clocks do not matter), checks the lease, and moves every reminder
 * due by then from the due set into the ready stream. Then the mover
 * sleeps until the next due time (capped by max_sleep_ms), blocked on the
 * shards' wake lists, which scheduling pushes to when a reminder lands
 * before the current head. No polling of the due set in between.
 *
 * The sender. Reads the ready streams through the consumer group
 * "senders" (one consumer per instance), delivers each entry on the
 * person's channels and commits, in one script keyed by the delivery id:
 * the delivery (the inbox write), the ReminderDelivered event, the removal
 * of the reminder, and the XACK. So a delivery id is never delivered twice
 * after a success the service knows of. Entries left pending by a dead
 * instance are reclaimed with XAUTOCLAIM; each reclaim counts as a try and
 * an entry tried max_attempts times goes to the dead-letter stream with
 * its reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "ids.h"
#include "log.h"
#include "notify.h"
#include "notify.pb-c.h"

#define GROUP "senders"

static mr_script move_script = {
    .name = "notify_move",
    .source =
        "if redis.call('GET', KEYS[3]) ~= ARGV[1] then return {-1, 0, -1} end\n"
        "redis.call('PEXPIRE', KEYS[3], ARGV[3])\n"
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))\n"
        "for i = 1, #due, 2 do\n"
        "  redis.call('XADD', KEYS[2], '*', 'm', due[i], 'due', due[i + 1], 'at', now)\n"
        "  redis.call('ZREM', KEYS[1], due[i])\n"
        "end\n"
        "local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
        "local h = -1\n"
        "if head[2] then h = tonumber(head[2]) end\n"
        "return {#due / 2, now, h}\n"};

static mr_script lease_script = {
    .name = "notify_lease",
    .source = "local cur = redis.call('GET', KEYS[1])\n"
              "if cur == ARGV[1] or not cur then\n"
              "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
              "  return 1\n"
              "end\n"
              "return 0\n"};

static mr_script release_script = {
    .name = "notify_release",
    .source = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
              "return 1\n"};

typedef struct {
    nt_state *st;
    const char *region;
    mr_store *store;            /* this thread's own */
    mr_tx *tx;
    char instance[96];
    int64_t last_claim_ms;
} nt_worker;

static bool stopping(const nt_worker *w)
{
    return atomic_load(&w->st->stop);
}

/* Sleeps ms in slices, returning early on stop. */
static void nap(const nt_worker *w, int ms)
{
    for (int left = ms; left > 0 && !stopping(w); left -= 50)
        usleep((useconds_t)(left < 50 ? left : 50) * 1000);
}

/* ---- Mover ---- */

/* Takes or renews the lease of shard. 1 held, 0 someone else's, -1 failed. */
static int lease(nt_worker *w, int shard)
{
    char key[256], ttl[24];
    nt_key(key, sizeof key, w->region, "sh:%d:lease", shard);
    snprintf(ttl, sizeof ttl, "%d", w->st->set.lease_ms);
    const char *args[] = {key, w->instance, ttl};
    mr_val *v = mr_store_eval(w->store, &lease_script, 1, 3, args, NULL);
    int rc = mr_val_is_error(v) ? -1 : (int)mr_val_int(v);
    mr_val_free(&v);
    return rc;
}

static void release(nt_worker *w, int shard)
{
    char key[256];
    nt_key(key, sizeof key, w->region, "sh:%d:lease", shard);
    const char *args[] = {key, w->instance};
    mr_val *v = mr_store_eval(w->store, &release_script, 1, 2, args, NULL);
    mr_val_free(&v);
}

/* Moves what is due in shard. Returns the count moved (-1 failed or lease
 * lost); *now_ms is Redis's time, *head_ms the next due time or -1. */
static int move_due(nt_worker *w, int shard, int64_t *now_ms, int64_t *head_ms)
{
    char due[256], ready[256], key[256], batch[16], ttl[24];
    nt_key(due, sizeof due, w->region, "sh:%d:due", shard);
    nt_key(ready, sizeof ready, w->region, "sh:%d:ready", shard);
    nt_key(key, sizeof key, w->region, "sh:%d:lease", shard);
    snprintf(batch, sizeof batch, "%d", w->st->set.move_batch);
    snprintf(ttl, sizeof ttl, "%d", w->st->set.lease_ms);
    const char *args[] = {due, ready, key, w->instance, batch, ttl};
    mr_val *v = mr_store_eval(w->store, &move_script, 3, 6, args, NULL);
    int moved = -1;
    if (!mr_val_is_error(v) && mr_val_count(v) == 3) {
        moved = (int)mr_val_int(mr_val_at(v, 0));
        *now_ms = mr_val_int(mr_val_at(v, 1));
        *head_ms = mr_val_int(mr_val_at(v, 2));
    } else if (v) {
        mr_warn("notify_move_failed", "region=%s shard=%d error=%s", w->region, shard,
                mr_val_str(v, NULL) ? mr_val_str(v, NULL) : "?");
    }
    mr_val_free(&v);
    return moved;
}

/* Blocks on the wake lists of the shards held, up to ms. */
static void wait_wake(nt_worker *w, const bool *held, int ms)
{
    const char *argv[NT_MAX_SHARDS + 2];
    char keys[NT_MAX_SHARDS][128], timeout[24];
    int argc = 0;
    argv[argc++] = "BLPOP";
    for (int k = 0; k < w->st->set.shards; k++)
        if (held[k] && nt_key(keys[k], sizeof keys[k], w->region, "sh:%d:wake", k) > 0)
            argv[argc++] = keys[k];
    snprintf(timeout, sizeof timeout, "%.3f", (ms < 1 ? 1 : ms) / 1000.0);
    argv[argc++] = timeout;
    mr_val *v = mr_store_cmdv_blocking(w->store, ms, argc, argv, NULL);
    if (!v)
        nap(w, 200);
    mr_val_free(&v);
}

/* One pass over the shards. Returns the ms to sleep (0: more is due now),
 * or -1 when Redis failed. */
static int mover_pass(nt_worker *w, bool *held)
{
    int sleep_ms = w->st->set.max_sleep_ms, any = 0;
    for (int k = 0; k < w->st->set.shards && !stopping(w); k++) {
        int got = lease(w, k);
        if (got < 0)
            return -1;
        held[k] = got == 1;
        if (!held[k])
            continue;
        int64_t now = 0, head = -1;
        int moved = move_due(w, k, &now, &head);
        if (moved < 0) {
            held[k] = false;
            continue;
        }
        any = 1;
        if (moved >= w->st->set.move_batch)
            sleep_ms = 0;
        else if (head >= 0 && head - now < sleep_ms)
            sleep_ms = head - now < 1 ? 1 : (int)(head - now);
    }
    if (!any && sleep_ms > w->st->set.lease_ms / 3)
        sleep_ms = w->st->set.lease_ms / 3;
    return any ? sleep_ms : -2 - sleep_ms;
}

static void *mover_main(void *arg)
{
    nt_worker *w = arg;
    bool held[NT_MAX_SHARDS] = {0};
    while (!stopping(w)) {
        int r = mover_pass(w, held);
        if (r == -1)
            nap(w, 200);
        else if (r <= -2)
            nap(w, -2 - r);     /* no shard held here: another instance moves them */
        else if (r > 0)
            wait_wake(w, held, r);
    }
    for (int k = 0; k < w->st->set.shards; k++)
        if (held[k])
            release(w, k);
    return NULL;
}

/* ---- Sender ---- */

typedef struct {
    const char *entry_id;
    int shard;
    char rid[128];
    int64_t due_ms, at_ms;
} nt_entry;

/* Stages the XACK and XDEL of the entry and forgets its tries. */
static int stage_ack(nt_worker *w, const nt_entry *e)
{
    char ready[256], tries[256];
    nt_key(ready, sizeof ready, w->region, "sh:%d:ready", e->shard);
    nt_key(tries, sizeof tries, w->region, "sh:%d:tries", e->shard);
    int rc = mr_tx_addv(w->tx, "XACK", ready, GROUP, e->entry_id, NULL);
    rc |= mr_tx_addv(w->tx, "XDEL", ready, e->entry_id, NULL);
    rc |= mr_tx_addv(w->tx, "HDEL", tries, e->entry_id, NULL);
    return rc;
}

static int ack_only(nt_worker *w, const nt_entry *e)
{
    mr_tx_reset(w->tx);
    if (stage_ack(w, e) != 0)
        return -1;
    return mr_tx_commit(w->store, w->tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
}

typedef struct {
    char person[128], kind[64], title[256], body[1024], subject[128];
    int64_t due_ms;
    bool found;
} nt_loaded;

static void copy_field(const mr_val *v, size_t i, char *buf, size_t cap)
{
    const char *s = mr_val_str(mr_val_at(v, i), NULL);
    snprintf(buf, cap, "%s", s ? s : "");
}

/* Reads the reminder. 0 or -1 (Redis failed). */
static int load_reminder(nt_worker *w, const char *rid, nt_loaded *out)
{
    char key[256];
    memset(out, 0, sizeof *out);
    nt_key(key, sizeof key, w->region, "rem:%s", rid);
    mr_val *v = mr_store_cmd(w->store, "HMGET %s p k t b s due", key);
    if (mr_val_is_error(v) || mr_val_count(v) != 6) {
        mr_val_free(&v);
        return -1;
    }
    out->found = mr_val_str(mr_val_at(v, 0), NULL) != NULL;
    copy_field(v, 0, out->person, sizeof out->person);
    copy_field(v, 1, out->kind, sizeof out->kind);
    copy_field(v, 2, out->title, sizeof out->title);
    copy_field(v, 3, out->body, sizeof out->body);
    copy_field(v, 4, out->subject, sizeof out->subject);
    const char *due = mr_val_str(mr_val_at(v, 5), NULL);
    out->due_ms = due ? atoll(due) : 0;
    mr_val_free(&v);
    return 0;
}

static int stage_inbox(nt_worker *w, const nt_loaded *r, const char *did, int64_t at_ms)
{
    Medrep__InboxItem item = MEDREP__INBOX_ITEM__INIT;
    item.delivery_id = (char *)did;
    item.kind = (char *)r->kind;
    item.title = (char *)r->title;
    item.body = (char *)r->body;
    item.has_due_ms = item.has_delivered_ms = true;
    item.due_ms = r->due_ms;
    item.delivered_ms = at_ms;
    uint8_t buf[2048];
    size_t len = medrep__inbox_item__pack(&item, buf);
    char key[256], score[24];
    snprintf(score, sizeof score, "%lld", (long long)at_ms);
    const char *hset[] = {"HSET", key, did, (const char *)buf};
    size_t lens[] = {4, 0, strlen(did), len};
    nt_key(key, sizeof key, w->region, "inbox:%s:items", r->person);
    lens[1] = strlen(key);
    int rc = mr_tx_add(w->tx, 4, hset, lens);
    nt_key(key, sizeof key, w->region, "inbox:%s", r->person);
    rc |= mr_tx_addv(w->tx, "ZADD", key, score, did, NULL);
    nt_key(key, sizeof key, w->region, "inbox:%s:unread", r->person);
    rc |= mr_tx_addv(w->tx, "SADD", key, did, NULL);
    return rc;
}

static int stage_delivered_event(nt_worker *w, const char *rid, const char *did,
                                 const char *person, const char *channel)
{
    char id[33];
    mr_random_id(id, sizeof id);
    Medrep__ReminderDelivered body = MEDREP__REMINDER_DELIVERED__INIT;
    body.reminder_id = (char *)rid;
    body.delivery_id = (char *)did;
    body.recipient_id = (char *)person;
    body.channel = (char *)channel;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.event_id = id;
    ev.region = (char *)w->region;
    ev.has_occurred_ms = true;
    ev.occurred_ms = nt_now_ms(w->st);
    ev.source = w->instance;
    ev.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    ev.reminder_delivered = &body;
    return mr_events_stage(w->tx, &ev, w->st->set.events_maxlen);
}

/* Stages the delivery on every channel of the person; returns the number
 * of channels staged or -1. */
static int stage_channels(nt_worker *w, const nt_loaded *r, const char *rid, const char *did,
                          int64_t at_ms)
{
    nt_person who;
    if (nt_person_load(w->st, w->store, w->region, r->person, r->kind, &who) != 0)
        return -1;
    int staged = 0;
    char list[128];
    snprintf(list, sizeof list, "%s", who.channels);
    for (char *save = NULL, *ch = strtok_r(list, ", ", &save); ch; ch = strtok_r(NULL, ", ", &save)) {
        if (strcmp(ch, "inbox") != 0) {
            mr_warn("notify_channel_unsupported", "channel=%s delivery=%s", ch, did);
            continue;
        }
        if (stage_inbox(w, r, did, at_ms) != 0 || stage_delivered_event(w, rid, did, r->person, ch) != 0)
            return -1;
        staged++;
    }
    return staged;
}

/* Stages the removal of a delivered reminder. */
static int stage_done(nt_worker *w, const char *rid, const nt_loaded *r)
{
    char key[256];
    nt_key(key, sizeof key, w->region, "rem:%s", rid);
    int rc = mr_tx_addv(w->tx, "DEL", key, NULL);
    nt_key(key, sizeof key, w->region, "person:%s", r->person);
    rc |= mr_tx_addv(w->tx, "SREM", key, rid, NULL);
    if (r->subject[0] && nt_key(key, sizeof key, w->region, "subj:%s", r->subject) > 0)
        rc |= mr_tx_addv(w->tx, "SREM", key, rid, NULL);
    return rc;
}

/* Moves an entry tried too often to the dead-letter stream. */
static int dead_letter(nt_worker *w, const nt_entry *e, const char *reason)
{
    char dead[256], due[24];
    nt_key(dead, sizeof dead, w->region, "dead");
    snprintf(due, sizeof due, "%lld", (long long)e->due_ms);
    mr_tx_reset(w->tx);
    int rc = mr_tx_addv(w->tx, "XADD", dead, "*", "m", e->rid, "due", due, "entry", e->entry_id,
                        "reason", reason, NULL);
    if (rc || stage_ack(w, e) != 0)
        return -1;
    mr_warn("notify_dead_letter", "region=%s reminder=%s reason=%s", w->region, e->rid, reason);
    return mr_tx_commit(w->store, w->tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
}

/* Delivers one ready entry. 0 done (acknowledged), -1 to be retried. */
static int deliver(nt_worker *w, const nt_entry *e)
{
    nt_loaded r;
    char did[192], sent[320];
    if (load_reminder(w, e->rid, &r) != 0)
        return -1;
    if (!r.found || r.due_ms != e->due_ms)
        return ack_only(w, e);       /* cancelled, or moved: the due set has it again */
    if (nt_delivery_id(did, sizeof did, e->rid, e->due_ms) < 0 ||
        nt_key(sent, sizeof sent, w->region, "sent:%s", did) < 0)
        return ack_only(w, e);
    mr_tx_reset(w->tx);
    int staged = stage_channels(w, &r, e->rid, did, e->at_ms);
    if (staged == 0)
        return dead_letter(w, e, "no supported channel for the person and kind");
    if (staged < 0 || stage_done(w, e->rid, &r) != 0 || stage_ack(w, e) != 0)
        return -1;
    mr_tx_result res = mr_tx_commit(w->store, w->tx, sent, "1", 1, w->st->set.sent_ttl_ms, NULL);
    if (res == MR_TX_DUPLICATE)
        return ack_only(w, e);
    return res == MR_TX_COMMITTED ? 0 : -1;
}

/* Fills e from a stream entry [id, [field, value, ...]]. False when malformed. */
static bool parse_entry(const mr_val *entry, int shard, nt_entry *e)
{
    memset(e, 0, sizeof *e);
    const mr_val *fields = mr_val_at(entry, 1);
    e->entry_id = mr_val_str(mr_val_at(entry, 0), NULL);
    e->shard = shard;
    for (size_t i = 0; i + 1 < mr_val_count(fields); i += 2) {
        const char *f = mr_val_str(mr_val_at(fields, i), NULL);
        const char *v = mr_val_str(mr_val_at(fields, i + 1), NULL);
        if (!f || !v)
            continue;
        if (strcmp(f, "m") == 0)
            snprintf(e->rid, sizeof e->rid, "%s", v);
        else if (strcmp(f, "due") == 0)
            e->due_ms = atoll(v);
        else if (strcmp(f, "at") == 0)
            e->at_ms = atoll(v);
    }
    return e->entry_id && e->rid[0];
}

/* Handles one entry; claimed entries count a try first. -1 when Redis failed. */
static int handle_entry(nt_worker *w, const mr_val *entry, int shard, bool claimed)
{
    nt_entry e;
    if (!parse_entry(entry, shard, &e))
        return 0;               /* a deleted entry (nil fields): nothing to do */
    if (claimed) {
        char tries[256];
        nt_key(tries, sizeof tries, w->region, "sh:%d:tries", shard);
        mr_val *v = mr_store_cmd(w->store, "HINCRBY %s %s 1", tries, e.entry_id);
        long long n = mr_val_is_error(v) ? -1 : mr_val_int(v);
        mr_val_free(&v);
        if (n < 0)
            return -1;
        if (n >= w->st->set.max_attempts) {
            char reason[96];
            snprintf(reason, sizeof reason, "not delivered after %lld attempts", n + 1);
            return dead_letter(w, &e, reason);
        }
    }
    return deliver(w, &e);
}

/* XAUTOCLAIMs entries idle too long in each shard and handles them. */
static int claim_stalled(nt_worker *w)
{
    char ready[256], idle[24], count[16];
    snprintf(idle, sizeof idle, "%d", w->st->set.claim_min_idle_ms);
    snprintf(count, sizeof count, "%d", w->st->set.read_batch);
    for (int k = 0; k < w->st->set.shards && !stopping(w); k++) {
        nt_key(ready, sizeof ready, w->region, "sh:%d:ready", k);
        const char *argv[] = {"XAUTOCLAIM", ready, GROUP, w->instance, idle, "0-0", "COUNT", count};
        mr_val *v = mr_store_cmdv(w->store, 8, argv, NULL);
        if (mr_val_is_error(v)) {
            mr_val_free(&v);
            return -1;
        }
        const mr_val *entries = mr_val_at(v, 1);
        for (size_t i = 0; i < mr_val_count(entries) && !stopping(w); i++)
            handle_entry(w, mr_val_at(entries, i), k, true);
        mr_val_free(&v);
    }
    return 0;
}

static int ensure_groups(nt_worker *w)
{
    char ready[256];
    for (int k = 0; k < w->st->set.shards; k++) {
        nt_key(ready, sizeof ready, w->region, "sh:%d:ready", k);
        mr_val *v = mr_store_cmd(w->store, "XGROUP CREATE %s %s 0 MKSTREAM", ready, GROUP);
        const char *msg = v && mr_val_type(v) == MR_VAL_ERROR ? mr_val_str(v, NULL) : NULL;
        bool ok = v && (!msg || strncmp(msg, "BUSYGROUP", 9) == 0);
        mr_val_free(&v);
        if (!ok)
            return -1;
    }
    return 0;
}

/* One XREADGROUP over every shard's stream; handles what came. -1 on failure. */
static int read_new(nt_worker *w)
{
    int n = w->st->set.shards;
    const char *argv[8 + 2 * NT_MAX_SHARDS];
    char keys[NT_MAX_SHARDS][128], count[16], block[16];
    snprintf(count, sizeof count, "%d", w->st->set.read_batch);
    snprintf(block, sizeof block, "%d", w->st->set.block_ms);
    int argc = 0;
    const char *head[] = {"XREADGROUP", "GROUP", GROUP, w->instance, "COUNT", count, "BLOCK", block, "STREAMS"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        argv[argc++] = head[i];
    for (int k = 0; k < n; k++)
        nt_key(keys[k], sizeof keys[k], w->region, "sh:%d:ready", k), argv[argc++] = keys[k];
    for (int k = 0; k < n; k++)
        argv[argc++] = ">";
    mr_val *v = mr_store_cmdv_blocking(w->store, w->st->set.block_ms, argc, argv, NULL);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    for (size_t s = 0; s < mr_val_count(v); s++) {
        const mr_val *stream = mr_val_at(v, s);
        const char *name = mr_val_str(mr_val_at(stream, 0), NULL);
        int shard = -1;
        for (int k = 0; k < n && name; k++)
            if (strcmp(name, keys[k]) == 0)
                shard = k;
        const mr_val *entries = mr_val_at(stream, 1);
        for (size_t i = 0; shard >= 0 && i < mr_val_count(entries); i++)
            handle_entry(w, mr_val_at(entries, i), shard, false);
    }
    mr_val_free(&v);
    return 0;
}

static void *sender_main(void *arg)
{
    nt_worker *w = arg;
    bool groups = false;
    while (!stopping(w)) {
        if (!groups && ensure_groups(w) != 0) {
            nap(w, 200);
            continue;
        }
        groups = true;
        int64_t now = mr_mono_ms();
        int rc = 0;
        if (now - w->last_claim_ms >= w->st->set.claim_interval_ms) {
            w->last_claim_ms = now;
            rc = claim_stalled(w);
        }
        if (rc == 0)
            rc = read_new(w);
        if (rc != 0) {
            groups = false;     /* Redis may have restarted empty: make sure again */
            nap(w, 200);
        }
    }
    return NULL;
}

/* ---- Start and stop ---- */

static nt_worker *worker_new(nt_state *st, const nt_region *reg, const char *role)
{
    nt_worker *w = calloc(1, sizeof *w);
    mr_region_cfg regions[NT_MAX_REGIONS];
    char err[256];
    int n = mr_config_regions(st->cfg, regions, NT_MAX_REGIONS, err, sizeof err);
    if (!w)
        return NULL;
    w->st = st;
    w->region = reg->name;
    snprintf(w->instance, sizeof w->instance, "%s-%s", mr_service_instance(st->svc), role);
    for (int i = 0; i < n; i++) {
        if (strcmp(regions[i].name, reg->name) != 0)
            continue;
        mr_store_cfg cfg = {.port = regions[i].redis_port, .db = regions[i].redis_db};
        snprintf(cfg.host, sizeof cfg.host, "%s", regions[i].redis_host);
        snprintf(cfg.password, sizeof cfg.password, "%s", regions[i].redis_password);
        w->store = mr_store_new(&cfg);
    }
    w->tx = mr_tx_new();
    if (!w->store || !w->tx) {
        mr_store_free(&w->store);
        mr_tx_free(&w->tx);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free(nt_worker *w)
{
    if (!w)
        return;
    mr_store_free(&w->store);
    mr_tx_free(&w->tx);
    free(w);
}

int nt_timers_start(nt_state *st, char *err, size_t errcap)
{
    for (int i = 0; i < st->region_count; i++) {
        for (int role = 0; role < 2; role++) {
            nt_worker *w = worker_new(st, &st->regions[i], role ? "sender" : "mover");
            if (!w || pthread_create(&st->threads[st->thread_count], NULL,
                                     role ? sender_main : mover_main, w) != 0) {
                worker_free(w);
                snprintf(err, errcap, "cannot start the notify threads of region %s", st->regions[i].name);
                return -1;
            }
            st->workers[st->thread_count++] = w;
        }
    }
    return 0;
}

void nt_timers_stop(nt_state *st)
{
    atomic_store(&st->stop, true);
    for (int i = 0; i < st->thread_count; i++) {
        pthread_join(st->threads[i], NULL);
        worker_free(st->workers[i]);
        st->workers[i] = NULL;
    }
    st->thread_count = 0;
}
