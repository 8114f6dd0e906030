/* sender.c: the sender thread of a region (durable timers, part 2).
 *
 * Reads the shards' ready streams through the consumer group "senders"
 * (one consumer per instance), a batch at a time. For each entry it reads
 * the reminder and its person's preferences (pipelined), then commits the
 * whole batch in one script (deliver_script) where each entry is
 *   - a delivery, keyed by its delivery id: unless "sent:<delivery id>"
 *     exists, the channel writes (the inbox), the ReminderDelivered event,
 *     the removal of the reminder, the XACK, and the sent marker run
 *     together; if the marker exists, only the XACK runs. So a delivery id
 *     is never delivered twice after a success the service knows of;
 *   - or an acknowledgement alone (the reminder was cancelled or moved
 *     since it fired: the due set has its new time);
 *   - or a dead letter (no channel can take it, or tried too often).
 * Inbox-only entries take the fast path (inbox_fast.c). Outside channels
 * (webhook, e-mail) are not sent here: the delivery hands each one on, in
 * the same commit, as a try record "<id>#<channel>" on the shard's
 * outside stream, which the outside senders (this same code, with
 * w->outside) read: each try is sent unless its marker
 * "sent:<delivery id>:<channel>" exists; the marker commits with the
 * acknowledgement, a transient failure schedules the next try in the due
 * set after a back-off with jitter (the mover puts it on the outside
 * stream), a 401/403/410 disables the webhook, and the last failure
 * dead-letters. (A crash between an accepted send and the commit sends
 * that delivery id again: receivers drop it by the id.)
 * A person with a daily digest has non-urgent deliveries gathered under
 * "digest:<person>"; the digest reminder "digest.<person>" delivers them
 * as one message at the person's local digest time.
 * Entries a dead instance left pending are reclaimed with XAUTOCLAIM once
 * idle for claim_min_idle_ms; each reclaim counts a try, and an entry
 * tried max_attempts times goes to the dead-letter stream with its
 * reason. A failed commit leaves the batch pending, to be reclaimed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "ids.h"
#include "log.h"
#include "notify.pb-c.h"
#include "sender.h"

#define GROUP "senders"

/* ARGV: ttl, then per entry: sent key ("" = none), the commands run when
 * the entry is new, the commands run when it is a repeat; each command
 * list is a count, then per command argc and the arguments. An entry
 * whose commands would meet a key of the wrong type is skipped whole
 * (Redis has no rollback, so this is checked first) and its index is
 * returned: it stays pending, to be retried and in the end dead-lettered. */
static mr_script deliver_script = {
    .name = "notify_deliver",
    .source =
        "local kinds = {HSET='hash', HDEL='hash', SADD='set', SREM='set', ZADD='zset',\n"
        "  ZREM='zset', LPUSH='list', LTRIM='list', XADD='stream', XACK='stream',\n"
        "  XDEL='stream', SET='string'}\n"
        "local ttl = tonumber(ARGV[1])\n"
        "local entries = {}\n"
        "local i = 2\n"
        "while i <= #ARGV do\n"
        "  local e = {sent = ARGV[i], parts = {{}, {}}}\n"
        "  i = i + 1\n"
        "  for part = 1, 2 do\n"
        "    local n = tonumber(ARGV[i])\n"
        "    i = i + 1\n"
        "    for c = 1, n do\n"
        "      local argc = tonumber(ARGV[i])\n"
        "      table.insert(e.parts[part], {i + 1, i + argc})\n"
        "      i = i + argc + 1\n"
        "    end\n"
        "  end\n"
        "  table.insert(entries, e)\n"
        "end\n"
        "local bad = {}\n"
        "for k, e in ipairs(entries) do\n"
        "  local dup = e.sent ~= '' and redis.call('EXISTS', e.sent) == 1\n"
        "  local cmds = e.parts[dup and 2 or 1]\n"
        "  local ok = true\n"
        "  for _, r in ipairs(cmds) do\n"
        "    local kind = kinds[string.upper(ARGV[r[1]])]\n"
        "    if kind and r[2] > r[1] then\n"
        "      local t = redis.call('TYPE', ARGV[r[1] + 1]).ok\n"
        "      if t ~= 'none' and t ~= kind then ok = false end\n"
        "    end\n"
        "  end\n"
        "  if ok then\n"
        "    for _, r in ipairs(cmds) do redis.call(unpack(ARGV, r[1], r[2])) end\n"
        "    if e.sent ~= '' and not dup then redis.call('SET', e.sent, '1', 'PX', ttl) end\n"
        "  else\n"
        "    table.insert(bad, k - 1)\n"
        "  end\n"
        "end\n"
        "return bad\n"};

/* ---- Entries ---- */

/* Fills e from a stream entry [id, [field, value, ...]]. False when
 * malformed or deleted (nil fields). */
static bool parse_entry(const mr_val *entry, int shard, nt_entry *e)
{
    memset(e, 0, sizeof *e);
    const mr_val *fields = mr_val_at(entry, 1);
    const char *id = mr_val_str(mr_val_at(entry, 0), NULL);
    e->shard = shard;
    snprintf(e->entry_id, sizeof e->entry_id, "%s", id ? id : "");
    for (size_t i = 0; i + 1 < mr_val_count(fields); i += 2) {
        const char *f = mr_val_str(mr_val_at(fields, i), NULL);
        const char *v = mr_val_str(mr_val_at(fields, i + 1), NULL);
        if (!f || !v)
            continue;
        if (strcmp(f, "m") == 0)
            snprintf(e->member, sizeof e->member, "%s", v);
        else if (strcmp(f, "due") == 0)
            e->score_ms = e->due_ms = atoll(v);
        else if (strcmp(f, "at") == 0)
            e->at_ms = atoll(v);
    }
    const char *hash = strchr(e->member, '#');
    e->retry = hash != NULL;
    snprintf(e->rid, sizeof e->rid, "%.*s", (int)(hash ? hash - e->member : (long)strlen(e->member)), e->member);
    if (hash)
        snprintf(e->channel, sizeof e->channel, "%s", hash + 1);
    return id && e->rid[0];
}

static void copy_field(const mr_val *v, size_t i, char *buf, size_t cap)
{
    const char *s = mr_val_str(mr_val_at(v, i), NULL);
    snprintf(buf, cap, "%s", s ? s : "");
}

static void loaded_from(const mr_val *v, nt_loaded *out)
{
    memset(out, 0, sizeof *out);
    out->found = mr_val_str(mr_val_at(v, 0), NULL) != NULL;
    copy_field(v, 0, out->person, sizeof out->person);
    copy_field(v, 1, out->kind, sizeof out->kind);
    copy_field(v, 2, out->title, sizeof out->title);
    copy_field(v, 3, out->body, sizeof out->body);
    copy_field(v, 4, out->subject, sizeof out->subject);
    const char *due = mr_val_str(mr_val_at(v, 5), NULL), *at = mr_val_str(mr_val_at(v, 6), NULL);
    const char *attempt = mr_val_str(mr_val_at(v, 7), NULL), *urgent = mr_val_str(mr_val_at(v, 8), NULL);
    out->urgent = urgent && strcmp(urgent, "1") == 0;
    out->due_ms = due ? atoll(due) : 0;
    out->at_ms = at ? atoll(at) : 0;
    out->attempt = attempt ? atoi(attempt) : 0;
}

/* Reads the reminders of the entries, then the preferences of their
 * people, each in one pipeline. 0 or -1 (Redis failed). */
static int load_entries(nt_worker *w, nt_entry *es, size_t n)
{
    char key[256];
    for (size_t i = 0; i < n; i++) {
        if (es[i].retry)
            nt_key(key, sizeof key, w->region, "retry:%s", es[i].member);
        else
            nt_key(key, sizeof key, w->region, "rem:%s", es[i].rid);
        const char *argv[] = {"HMGET", key, "p", "k", "t", "b", "s", "due", "at", "attempt", "u"};
        mr_store_append(w->store, 11, argv, NULL);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        nt_entry *e = &es[i];
        mr_val *v = mr_store_next_reply(w->store);
        if (mr_val_is_error(v) || mr_val_count(v) != 9)
            rc = -1;
        else
            loaded_from(v, &e->r);
        /* current: not cancelled, and not moved (or retried) since it fired */
        e->current = rc == 0 && e->r.found &&
                     (e->retry ? e->r.at_ms == e->score_ms : e->r.due_ms == e->score_ms);
        if (e->retry)
            e->due_ms = e->r.due_ms;
        mr_val_free(&v);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (es[i].current)
            nt_person_append(w->store, w->region, es[i].r.person, es[i].r.kind);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!es[i].current)
            continue;
        mr_val *v = mr_store_next_reply(w->store);
        rc |= nt_person_parse(w->st, w->region, v, &es[i].who);
        mr_val_free(&v);
    }
    return rc == 0 ? nt_load_digests(w, es, n) : rc;
}

/* ---- Commands of one entry ---- */

void nt_cmd_ack(nt_worker *w, nt_args *a, const nt_entry *e)
{
    char ready[256], tries[256];
    nt_key(ready, sizeof ready, w->region, w->stream_fmt, e->shard);
    nt_key(tries, sizeof tries, w->region, w->tries_fmt, e->shard);
    const char *xack[] = {"XACK", ready, GROUP, e->entry_id};
    const char *xdel[] = {"XDEL", ready, e->entry_id};
    const char *hdel[] = {"HDEL", tries, e->entry_id};
    nt_args_cmd(a, 4, xack, NULL);
    nt_args_cmd(a, 3, xdel, NULL);
    nt_args_cmd(a, 3, hdel, NULL);
}

/* The inbox write: 1 command (NX: a repeat keeps its first delivered time). */
static void cmd_inbox(nt_worker *w, nt_args *a, const nt_entry *e, const char *did)
{
    uint8_t buf[NT_PACK_MAX];
    size_t len = nt_pack_inbox_member(did, e->r.kind, e->r.title, e->r.body, e->due_ms, buf);
    char box[256], score[24];
    nt_key(box, sizeof box, w->region, "box:%s", e->r.person);
    snprintf(score, sizeof score, "%lld", (long long)e->at_ms);
    const char *zadd[] = {"ZADD", box, "NX", score, (const char *)buf};
    size_t lens[] = {4, strlen(box), 2, strlen(score), len};
    nt_args_cmd(a, 5, zadd, lens);
}

/* The ReminderDelivered event, as mr_events_stage writes it: 1 command. */
size_t nt_pack_event(nt_worker *w, const nt_entry *e, const char *did, const char *channel, uint8_t *buf)
{
    char id[33];
    mr_random_id(id, sizeof id);
    Medrep__ReminderDelivered body = MEDREP__REMINDER_DELIVERED__INIT;
    body.reminder_id = (char *)e->rid;
    body.delivery_id = (char *)did;
    body.recipient_id = (char *)e->r.person;
    body.channel = (char *)channel;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.event_id = id;
    ev.region = (char *)w->region;
    ev.has_occurred_ms = true;
    ev.occurred_ms = nt_now_ms(w->st);
    ev.source = w->instance;
    ev.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    ev.reminder_delivered = &body;
    return medrep__event__pack(&ev, buf);
}

void nt_cmd_event(nt_worker *w, nt_args *a, const nt_entry *e, const char *did, const char *channel)
{
    char key[80], cap[24];
    uint8_t buf[NT_PACK_MAX];
    size_t len = nt_pack_event(w, e, did, channel, buf);
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    mr_events_stream_key(key, sizeof key, w->region);
    snprintf(cap, sizeof cap, "%lld", w->st->set.events_maxlen);
    const char *with_cap[] = {"XADD", key, "MAXLEN", "~", cap, "*", "type", mr_event_type_name(&ev), "ev", (const char *)buf};
    size_t lens[10];
    for (int i = 0; i < 9; i++)
        lens[i] = strlen(with_cap[i]);
    lens[9] = len;
    if (w->st->set.events_maxlen > 0)
        nt_args_cmd(a, 10, with_cap, lens);
    else {
        const char *plain[] = {"XADD", key, "*", "type", mr_event_type_name(&ev), "ev", (const char *)buf};
        size_t plens[] = {4, strlen(key), 1, 4, strlen(plain[4]), 2, len};
        nt_args_cmd(a, 7, plain, plens);
    }
}

/* The removal of a delivered reminder: 2 or 3 commands. */
int nt_cmd_done(nt_worker *w, nt_args *a, const nt_entry *e)
{
    char rem[256], person[256], subject[256];
    nt_key(rem, sizeof rem, w->region, "rem:%s", e->rid);
    nt_key(person, sizeof person, w->region, "person:%s", e->r.person);
    const char *del[] = {"DEL", rem};
    const char *srem[] = {"SREM", person, e->rid};
    nt_args_cmd(a, 2, del, NULL);
    nt_args_cmd(a, 3, srem, NULL);
    if (!e->r.subject[0] || nt_key(subject, sizeof subject, w->region, "subj:%s", e->r.subject) < 0)
        return 2;
    const char *ssub[] = {"SREM", subject, e->rid};
    nt_args_cmd(a, 3, ssub, NULL);
    return 3;
}

void nt_cmd_dead(nt_worker *w, nt_args *a, const nt_entry *e, const char *reason)
{
    char dead[256], due[24];
    nt_key(dead, sizeof dead, w->region, "dead");
    snprintf(due, sizeof due, "%lld", (long long)e->due_ms);
    const char *xadd[] = {"XADD", dead, "*", "m", e->member, "due", due, "entry", e->entry_id, "reason", reason};
    nt_args_cmd(a, 11, xadd, NULL);
    mr_warn("notify_dead_letter", "region=%s reminder=%s reason=%s", w->region, e->member, reason);
}

/* What kind of channels a person's list holds. */
typedef struct {
    bool inbox;
    char outside[4][16];
    int outside_count;
} nt_channel_list;

static nt_channel_list channels_of(const nt_entry *e)
{
    nt_channel_list out = {0};
    char list[128];
    snprintf(list, sizeof list, "%s", e->who.channels);
    for (char *save = NULL, *ch = strtok_r(list, ", ", &save); ch; ch = strtok_r(NULL, ", ", &save)) {
        if (strcmp(ch, "inbox") == 0)
            out.inbox = true;
        else if ((strcmp(ch, "webhook") == 0 || strcmp(ch, "email") == 0) && out.outside_count < 4)
            snprintf(out.outside[out.outside_count++], sizeof out.outside[0], "%s", ch);
    }
    return out;
}

bool nt_inbox_only(const nt_entry *e)
{
    nt_channel_list ch = channels_of(e);
    return ch.inbox && ch.outside_count == 0;
}

/* Appends a retry entry: one channel, one try. */
static void build_retry(nt_worker *w, nt_args *a, nt_entry *e)
{
    char did[192], key[256];
    nt_delivery_id(did, sizeof did, e->rid, e->due_ms);
    nt_args_str(a, "");
    size_t count_slot = a->n;
    nt_args_num(a, 0);
    bool again = false;
    int cmds = nt_deliver_outside(w, a, e, e->channel, did, e->r.attempt, &again);
    if (!again) {
        nt_key(key, sizeof key, w->region, "retry:%s", e->member);
        const char *del[] = {"DEL", key};
        nt_args_cmd(a, 2, del, NULL);
        cmds++;
    }
    nt_cmd_ack(w, a, e);
    nt_args_set_num(a, count_slot, cmds + 3);
    nt_args_num(a, 0);
}

/* Appends one entry's part of the script arguments. */
static void build_entry(nt_worker *w, nt_args *a, nt_entry *e)
{
    char did[192], sent[320];
    if (e->current && !e->dead_reason[0] && e->retry)
        return build_retry(w, a, e);
    nt_channel_list ch = {0};
    if (e->current)
        ch = channels_of(e);
    bool deliver = e->current && !e->dead_reason[0] && (ch.inbox || ch.outside_count) &&
                   nt_delivery_id(did, sizeof did, e->rid, e->due_ms) > 0 &&
                   nt_key(sent, sizeof sent, w->region, "sent:%s", did) > 0;
    if (e->current && !e->dead_reason[0] && !deliver)
        snprintf(e->dead_reason, sizeof e->dead_reason, "no supported channel in '%.120s'", e->who.channels);
    nt_args_str(a, deliver ? sent : "");
    size_t count_slot = a->n;
    nt_args_num(a, 0);
    int cmds = 3;
    if (deliver && nt_is_digest(e) && e->digest_n == 0) {
        cmds += nt_cmd_done(w, a, e);     /* nothing gathered: nothing to say */
    } else if (deliver && nt_waits_for_digest(e)) {
        cmds += nt_cmd_digest_gather(w, a, e, did) + nt_cmd_done(w, a, e);
    } else if (deliver) {
        if (nt_is_digest(e))
            cmds += nt_cmd_digest_clear(w, a, e);
        if (ch.inbox) {
            cmd_inbox(w, a, e, did);
            nt_cmd_event(w, a, e, did, "inbox");
            cmds += 2;
        }
        for (int i = 0; i < ch.outside_count; i++)
            cmds += nt_cmd_outside_enqueue(w, a, e, ch.outside[i]);
        cmds += nt_cmd_done(w, a, e);
    } else if (e->dead_reason[0]) {
        nt_cmd_dead(w, a, e, e->dead_reason);
        cmds += 1 + (e->current && !e->retry ? nt_cmd_done(w, a, e) : 0);
    }
    nt_cmd_ack(w, a, e);
    nt_args_set_num(a, count_slot, cmds);
    if (deliver) {
        nt_args_num(a, 3);          /* a repeat: acknowledge only */
        nt_cmd_ack(w, a, e);
    } else {
        nt_args_num(a, 0);
    }
}

/* Delivers the entries not flagged fast with the generic script, then
 * trims the inboxes it wrote to. 0, or -1 (left pending). */
static int deliver_generic(nt_worker *w, nt_entry *es, size_t n, const bool *fast)
{
    nt_args a = {0};
    char ready[256];
    nt_key(ready, sizeof ready, w->region, w->stream_fmt, es[0].shard);
    nt_args_str(&a, ready);                 /* KEYS[1]: routes the script to the region */
    nt_args_num(&a, w->st->set.sent_ttl_ms);
    bool *inbox = calloc(n, sizeof *inbox);
    size_t count = 0;
    for (size_t i = 0; inbox && i < n; i++) {
        if (fast[i])
            continue;
        inbox[i] = es[i].current && !es[i].retry && !es[i].dead_reason[0] && channels_of(&es[i]).inbox;
        build_entry(w, &a, &es[i]);
        count++;
    }
    int rc = count == 0 ? 0 : -1;
    if (inbox && count > 0 && !a.oom) {
        mr_val *v = mr_store_eval(w->store, &deliver_script, 1, (int)a.n, (const char **)a.data, a.lens);
        rc = mr_val_is_error(v) ? -1 : 0;
        if (rc != 0 && v)
            mr_warn("notify_deliver_failed", "region=%s error=%s", w->region, mr_val_str(v, NULL));
        for (size_t i = 0; rc == 0 && i < mr_val_count(v); i++)
            mr_warn("notify_entry_refused", "region=%s entry=%lld why=a key of the wrong type; left pending",
                    w->region, mr_val_int(mr_val_at(v, i)));
        mr_val_free(&v);
    }
    if (rc == 0 && count > 0)
        nt_trim_inboxes(w, es, n, inbox);
    nt_args_free(&a);
    free(inbox);
    return inbox ? rc : -1;
}

/* Delivers a batch of entries of one shard: those for the inbox alone
 * through the fast path, the rest through the generic script. 0, or -1
 * (what failed is left pending). */
static int deliver_batch(nt_worker *w, nt_entry *es, size_t n)
{
    if (n == 0)
        return 0;
    bool *fast = calloc(n, sizeof *fast);
    int rc = fast && load_entries(w, es, n) == 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && !w->outside && i < n; i++)
        fast[i] = nt_fast_eligible(&es[i]);
    if (rc == 0)
        rc = nt_deliver_fast(w, es, n, fast);
    if (rc == 0)
        rc = deliver_generic(w, es, n, fast);
    for (size_t i = 0; i < n; i++)
        nt_free_digest(&es[i]);
    free(fast);
    return rc;
}

/* Counts a try of a reclaimed entry; marks it dead after max_attempts.
 * 0 or -1. */
static int count_try(nt_worker *w, nt_entry *e)
{
    char tries[256];
    nt_key(tries, sizeof tries, w->region, w->tries_fmt, e->shard);
    mr_val *v = mr_store_cmd(w->store, "HINCRBY %s %s 1", tries, e->entry_id);
    long long n = mr_val_is_error(v) ? -1 : mr_val_int(v);
    mr_val_free(&v);
    if (n < 0)
        return -1;
    if (n >= w->st->set.max_attempts)
        snprintf(e->dead_reason, sizeof e->dead_reason, "not delivered after %lld attempts", n + 1);
    return 0;
}

/* Parses the entries of one stream into es (at most cap). */
static size_t collect(const mr_val *entries, int shard, nt_entry *es, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < mr_val_count(entries) && n < cap; i++)
        if (parse_entry(mr_val_at(entries, i), shard, &es[n]))
            n++;
    return n;
}

/* XAUTOCLAIMs entries idle too long in each shard and delivers them. */
static int claim_stalled(nt_worker *w, nt_entry *es)
{
    char ready[256], idle[24], count[16];
    snprintf(idle, sizeof idle, "%d", w->st->set.claim_min_idle_ms);
    snprintf(count, sizeof count, "%d", w->batch);
    for (int k = 0; k < w->st->set.shards && !nt_stopping(w); k++) {
        nt_key(ready, sizeof ready, w->region, w->stream_fmt, k);
        const char *argv[] = {"XAUTOCLAIM", ready, GROUP, w->instance, idle, "0-0", "COUNT", count};
        mr_val *v = mr_store_cmdv(w->store, 8, argv, NULL);
        if (mr_val_is_error(v)) {
            mr_val_free(&v);
            return -1;
        }
        size_t n = collect(mr_val_at(v, 1), k, es, (size_t)w->batch);
        mr_val_free(&v);
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = count_try(w, &es[i]);
        if (rc != 0 || deliver_batch(w, es, n) != 0)
            return -1;
    }
    return 0;
}

static int ensure_groups(nt_worker *w)
{
    char ready[256];
    for (int k = 0; k < w->st->set.shards; k++) {
        nt_key(ready, sizeof ready, w->region, w->stream_fmt, k);
        mr_val *v = mr_store_cmd(w->store, "XGROUP CREATE %s %s 0 MKSTREAM", ready, GROUP);
        const char *msg = v && mr_val_type(v) == MR_VAL_ERROR ? mr_val_str(v, NULL) : NULL;
        bool ok = v && (!msg || strncmp(msg, "BUSYGROUP", 9) == 0);
        mr_val_free(&v);
        if (!ok)
            return -1;
    }
    return 0;
}

/* One XREADGROUP over every shard's stream (batch / shards entries
 * from each); delivers what came as one batch. -1 on failure. */
static int read_new(nt_worker *w, nt_entry *es)
{
    int n = w->st->set.shards, per = w->batch / n;
    const char *argv[9 + 2 * NT_MAX_SHARDS];
    char keys[NT_MAX_SHARDS][128], count[16], block[16];
    snprintf(count, sizeof count, "%d", per > 0 ? per : 1);
    snprintf(block, sizeof block, "%d", w->st->set.block_ms);
    const char *head[] = {"XREADGROUP", "GROUP", GROUP, w->instance, "COUNT", count, "BLOCK", block, "STREAMS"};
    int argc = 0;
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        argv[argc++] = head[i];
    for (int k = 0; k < n; k++)
        nt_key(keys[k], sizeof keys[k], w->region, w->stream_fmt, k), argv[argc++] = keys[k];
    for (int k = 0; k < n; k++)
        argv[argc++] = ">";
    mr_val *v = mr_store_cmdv_blocking(w->store, w->st->set.block_ms, argc, argv, NULL);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    size_t got = 0, cap = (size_t)(per > 0 ? per : 1) * (size_t)n;
    for (size_t s = 0; s < mr_val_count(v); s++) {
        const mr_val *stream = mr_val_at(v, s);
        const char *name = mr_val_str(mr_val_at(stream, 0), NULL);
        for (int k = 0; k < n && name; k++)
            if (strcmp(name, keys[k]) == 0)
                got += collect(mr_val_at(stream, 1), k, es + got, cap - got);
    }
    mr_val_free(&v);
    return deliver_batch(w, es, got);
}

void *nt_sender_main(void *arg)
{
    nt_worker *w = arg;
    int per = w->batch / w->st->set.shards;
    size_t cap = (size_t)(per > 0 ? per : 1) * (size_t)w->st->set.shards;
    if (cap < (size_t)w->batch)
        cap = (size_t)w->batch;        /* claim_stalled reads batch */
    nt_entry *es = calloc(cap, sizeof *es);
    bool groups = false;
    while (es && !nt_stopping(w)) {
        if (!groups && ensure_groups(w) != 0) {
            nt_nap(w, 200);
            continue;
        }
        groups = true;
        int64_t now = mr_mono_ms();
        int rc = 0;
        if (now - w->last_claim_ms >= w->st->set.claim_interval_ms) {
            w->last_claim_ms = now;
            rc = claim_stalled(w, es);
        }
        if (rc == 0)
            rc = read_new(w, es);
        if (rc != 0) {
            groups = false;     /* Redis may have restarted empty: make sure again */
            nt_nap(w, 200);
        }
    }
    free(es);
    return NULL;
}
