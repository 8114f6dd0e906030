/* inbox_fast.c: the inbox fast path of the sender. Most deliveries go to
 * the in-app inbox alone; for those the generic delivery script (a command
 * interpreter with a type check per command, see sender.c) costs more than
 * the writes themselves. Here one specialised script takes a fixed stride
 * of arguments per entry and, unless the entry's "sent:<delivery id>"
 * marker exists, adds the inbox member (inbox_item.c), writes the
 * ReminderDelivered event, removes the reminder and sets the marker; the
 * stream entries of the whole batch (of every shard) are then
 * acknowledged, deleted and their try counts dropped with one XACK, XDEL
 * and HDEL per shard and chunk. The
 * inbox of each person touched is trimmed to the region's retention in the
 * same script. The guarantees are those of the generic path: the delivery
 * and its acknowledgement commit together, a repeat (a reclaimed entry
 * whose delivery committed) is only acknowledged, and an entry that would
 * meet a key of the wrong type is left pending (Redis has no rollback, so
 * the types are checked first, once per key and script). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "inbox_lua.h"
#include "sender.h"

/* Per entry (12 arguments): sent key, stream entry id, inbox key, its read
 * set's key, inbox member, score, packed event, rem key, person key, subject key ("" none),
 * reminder id, shard. */

/* KEYS: events stream, then per shard its ready stream and tries hash.
 * ARGV: sent ttl, events
 * maxlen (0 none), inbox max items (0 none), inbox cutoff score (0 none),
 * then the entries. Returns the indexes (0-based) of
 * entries left pending. */
static mr_script fast_script = {
    .name = "notify_inbox_fast",
    .source =
        TRIM_LUA
        "local types = {}\n"
        "local function is(key, want)\n"
        "  local t = types[key]\n"
        "  if not t then t = redis.call('TYPE', key).ok; types[key] = t end\n"
        "  return t == 'none' or t == want\n"
        "end\n"
        "for k = 1, #KEYS do\n"
        "  if not is(KEYS[k], (k > 1 and k % 2 == 1) and 'hash' or 'stream') then\n"
        "    return redis.error_reply('WRONGTYPE a notify stream key has the wrong type')\n"
        "  end\n"
        "end\n"
        "local ttl, maxlen = ARGV[1], tonumber(ARGV[2])\n"
        "local maxn, cutoff = tonumber(ARGV[3]), ARGV[4]\n"
        "local acks, bad, touched = {}, {}, {}\n"
        "for i = 5, #ARGV, 12 do\n"
        "  local sent, eid, box, readk = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]\n"
        "  local person, subj, rid = ARGV[i + 8], ARGV[i + 9], ARGV[i + 10]\n"
        "  local shard = tonumber(ARGV[i + 11])\n"
        "  acks[shard] = acks[shard] or {}\n"
        "  local ack = acks[shard]\n"
        "  if redis.call('EXISTS', sent) == 1 then\n"
        "    ack[#ack + 1] = eid\n"
        "  elseif is(box, 'zset') and is(readk, 'set') and is(person, 'set')\n"
        "      and (subj == '' or is(subj, 'set')) then\n"
        "    redis.call('ZADD', box, 'NX', ARGV[i + 5], ARGV[i + 4])\n"
        "    types[box] = 'zset'\n"
        "    if maxlen > 0 then\n"
        "      redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'type', 'reminder_delivered', 'ev', ARGV[i + 6])\n"
        "    else\n"
        "      redis.call('XADD', KEYS[1], '*', 'type', 'reminder_delivered', 'ev', ARGV[i + 6])\n"
        "    end\n"
        "    redis.call('DEL', ARGV[i + 7])\n"
        "    redis.call('SREM', person, rid)\n"
        "    if subj ~= '' then redis.call('SREM', subj, rid) end\n"
        "    redis.call('SET', sent, '1', 'PX', ttl)\n"
        "    touched[box] = readk\n"
        "    ack[#ack + 1] = eid\n"
        "  else\n"
        "    bad[#bad + 1] = (i - 5) / 12\n"
        "  end\n"
        "end\n"
        "if maxn > 0 or tonumber(cutoff) > 0 then\n"
        "  for box, readk in pairs(touched) do trim(box, readk, maxn, cutoff) end\n"
        "end\n"
        "for shard, ids in pairs(acks) do\n"
        "  for i = 1, #ids, 1000 do\n"
        "    local j = math.min(i + 999, #ids)\n"
        "    redis.call('XACK', KEYS[2 + 2 * shard], 'senders', unpack(ids, i, j))\n"
        "    redis.call('XDEL', KEYS[2 + 2 * shard], unpack(ids, i, j))\n"
        "    redis.call('HDEL', KEYS[3 + 2 * shard], unpack(ids, i, j))\n"
        "  end\n"
        "end\n"
        "return bad\n"};

/* KEYS[1]: a key of the region (routes the script). ARGV: max items,
 * cutoff, then per inbox its key and its read set's key. */
static mr_script trim_script = {
    .name = "notify_inbox_trim",
    .source = TRIM_LUA
              "for i = 3, #ARGV, 2 do\n"
              "  local a, b = redis.call('TYPE', ARGV[i]).ok, redis.call('TYPE', ARGV[i + 1]).ok\n"
              "  if a == 'zset' and (b == 'set' or b == 'none') then\n"
              "    trim(ARGV[i], ARGV[i + 1], tonumber(ARGV[1]), ARGV[2])\n"
              "  end\n"
              "end\n"
              "return 1\n"};

bool nt_fast_eligible(const nt_entry *e)
{
    return e->current && !e->retry && !e->dead_reason[0] && e->digest_n == 0 &&
           strcmp(e->r.kind, "digest") != 0 && e->who.digest_second < 0 && nt_inbox_only(e);
}

/* The inbox's cutoff score (ms) for the region's age limit, 0 none. */
static long long inbox_cutoff(nt_worker *w, const nt_region *reg)
{
    return reg && reg->inbox_max_age_ms > 0 ? nt_now_ms(w->st) - reg->inbox_max_age_ms : 0;
}

/* Appends one entry's 12 arguments. False when a key does not fit. */
static bool push_entry(nt_worker *w, nt_args *a, const nt_entry *e)
{
    char did[192], sent[320], box[256], readk[256], rem[256], person[256], subj[256] = "", score[24];
    uint8_t member[NT_PACK_MAX], ev[NT_PACK_MAX];
    const char *p = e->r.person;
    if (nt_delivery_id(did, sizeof did, e->rid, e->due_ms) <= 0 ||
        nt_key(sent, sizeof sent, w->region, "sent:%s", did) < 0 ||
        nt_key(box, sizeof box, w->region, "box:%s", p) < 0 ||
        nt_key(readk, sizeof readk, w->region, "boxread:%s", p) < 0 ||
        nt_key(rem, sizeof rem, w->region, "rem:%s", e->rid) < 0 ||
        nt_key(person, sizeof person, w->region, "person:%s", p) < 0 ||
        (e->r.subject[0] && nt_key(subj, sizeof subj, w->region, "subj:%s", e->r.subject) < 0))
        return false;
    snprintf(score, sizeof score, "%lld", (long long)e->at_ms);
    size_t member_len = nt_pack_inbox_member(did, e->r.kind, e->r.title, e->r.body, e->due_ms, member);
    size_t ev_len = nt_pack_event(w, e, did, "inbox", ev);
    const char *strs[] = {sent, e->entry_id, box, readk};
    for (size_t i = 0; i < 4; i++)
        nt_args_str(a, strs[i]);
    nt_args_push(a, member, member_len);
    nt_args_str(a, score);
    nt_args_push(a, ev, ev_len);
    const char *tail[] = {rem, person, subj, e->rid};
    for (size_t i = 0; i < 4; i++)
        nt_args_str(a, tail[i]);
    nt_args_num(a, e->shard);
    return true;
}

/* Reports the entries the script left pending (a key of the wrong type). */
static void warn_refused(nt_worker *w, const mr_val *v, const nt_entry *const *picked, size_t count)
{
    for (size_t i = 0; i < mr_val_count(v); i++) {
        long long k = mr_val_int(mr_val_at(v, i));
        const nt_entry *e = k >= 0 && (size_t)k < count ? picked[k] : NULL;
        mr_warn("notify_entry_refused", "region=%s entry=%s reminder=%s why=a key of the wrong type; left pending",
                w->region, e ? e->entry_id : "?", e ? e->member : "?");
    }
}

int nt_deliver_fast(nt_worker *w, nt_entry *es, size_t n, const bool *flags)
{
    const nt_entry **picked = calloc(n ? n : 1, sizeof *picked);
    char key[256];
    const nt_region *reg = nt_region_find(w->st, w->region);
    nt_args a = {0};
    mr_events_stream_key(key, sizeof key, w->region);
    nt_args_str(&a, key);
    for (int k = 0; k < w->st->set.shards; k++) {
        nt_args_str(&a, nt_key(key, sizeof key, w->region, "sh:%d:ready", k) > 0 ? key : "");
        nt_args_str(&a, nt_key(key, sizeof key, w->region, "sh:%d:tries", k) > 0 ? key : "");
    }
    int nkeys = 1 + 2 * w->st->set.shards;
    nt_args_num(&a, w->st->set.sent_ttl_ms);
    nt_args_num(&a, w->st->set.events_maxlen);
    nt_args_num(&a, reg ? reg->inbox_max_items : 0);
    nt_args_num(&a, inbox_cutoff(w, reg));
    size_t count = 0;
    for (size_t i = 0; picked && i < n; i++)
        if (flags[i] && push_entry(w, &a, &es[i]))
            picked[count++] = &es[i];
    int rc = count == 0 ? 0 : -1;
    if (picked && count > 0 && !a.oom) {
        mr_val *v = mr_store_eval(w->store, &fast_script, nkeys, (int)a.n, (const char **)a.data, a.lens);
        rc = mr_val_is_error(v) ? -1 : 0;
        if (rc != 0)
            mr_warn("notify_deliver_failed", "region=%s error=%s", w->region,
                    v && mr_val_str(v, NULL) ? mr_val_str(v, NULL) : "no reply");
        else
            warn_refused(w, v, picked, count);
        mr_val_free(&v);
    }
    nt_args_free(&a);
    free(picked);
    return picked ? rc : -1;
}

void nt_trim_inboxes(nt_worker *w, const nt_entry *es, size_t n, const bool *flags)
{
    const nt_region *reg = nt_region_find(w->st, w->region);
    if (!reg || (reg->inbox_max_items <= 0 && reg->inbox_max_age_ms <= 0))
        return;
    nt_args a = {0};
    char key[256];
    nt_key(key, sizeof key, w->region, "dead");
    nt_args_str(&a, key);
    nt_args_num(&a, reg->inbox_max_items);
    nt_args_num(&a, inbox_cutoff(w, reg));
    for (size_t i = 0; i < n; i++) {
        const char *kinds[] = {"box:%s", "boxread:%s"};
        for (size_t k = 0; flags[i] && k < 2; k++)
            nt_args_str(&a, nt_key(key, sizeof key, w->region, kinds[k], es[i].r.person) > 0 ? key : "");
    }
    if (a.n > 3 && !a.oom) {
        mr_val *v = mr_store_eval(w->store, &trim_script, 1, (int)a.n, (const char **)a.data, a.lens);
        if (mr_val_is_error(v))
            mr_warn("notify_trim_failed", "region=%s error=%s", w->region,
                    v && mr_val_str(v, NULL) ? mr_val_str(v, NULL) : "no reply");
        mr_val_free(&v);
    }
    nt_args_free(&a);
}
