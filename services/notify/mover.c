/* mover.c: the mover thread of a region (durable timers, part 1).
 * Each shard of a region is moved by one instance at a time,
 * the holder of the shard's lease (renewed every lease_ms / 3, given up
 * at shutdown). One atomic script takes "now" from Redis's own clock (so
 * the hosts' clocks do not matter), checks the leases, and moves every
 * reminder due by then from the due sets of the shards held into their
 * ready streams, or, for an inbox-only reminder (direct.c), straight into
 * the person's inbox, with its event, in the same atomic step. The inboxes
 * it filled are trimmed to the region's retention every trim_interval_ms,
 * not per delivery. Then the mover sleeps until the next due time (capped by
 * max_sleep_ms), blocked on the shards' wake lists, which scheduling
 * pushes to when a reminder lands before the current head; the last
 * wake_precise_ms of a sleep are slept locally, since Redis times out a
 * blocked command only at its own next tick. No polling of the due set in
 * between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "inbox_lua.h"
#include "log.h"
#include "notify.h"
#include "worker.h"

/* KEYS: per shard held, its due set, ready stream, lease and outside
 * stream (where the tries of outside channels, "<id>#<channel>", go). ARGV:
 * this instance, the most to move per shard, the region's key prefix
 * ("{r:<region>}:notify:"), the events stream, its maxlen (0 none), the
 * region's direct tag ("" off), "1" when inboxes have a retention limit
 * (the persons delivered to are added to inboxdirty, trimmed later by
 * trim_script), the most deliveries per event, the region and this
 * instance (the event's source).
 * A due reminder that direct.c marked inbox-only (and whose person's
 * preferences and region's defaults have not changed since: its v
 * matches prefv and the tag) is delivered here: the inbox item, its
 * unread mark and its part of a RemindersDelivered event written, the
 * reminder removed, in this same atomic step, so it can neither be lost
 * nor repeated (a delivery id already in the inbox is not delivered
 * again). The inbox item (medrep.InboxItem) and the event (medrep.Event,
 * event id "dlvs:<first delivery id>") are packed here, in protobuf's wire
 * format, from the reminder's fields and Redis's time. What costs Redis
 * time per reminder is kept to the reminder's HMGET, the inbox's ZADD,
 * HSET and SADD and the person's SREM; the rest (preference versions, the
 * reminder keys' DEL, the event, the dirty set) is one command per batch.
 * Writes that may meet a key of the wrong type run under pcall and are
 * undone on failure; the reminder then goes the generic way. Everything
 * else goes to the ready stream. Returns {now, next head or -1, then per
 * shard the count moved or -1 (the lease is not ours)}. Writes nothing
 * when nothing is due, so an idle pass costs no AOF write. */
static mr_script move_script = {
    .name = "notify_move_all",
    .source =
        "local function varint(n)\n"
        "  if n < 128 then return string.char(n) end\n"
        "  local s = {}\n"
        "  repeat\n"
        "    local b = n % 128\n"
        "    n = (n - b) / 128\n"
        "    if n > 0 then b = b + 128 end\n"
        "    s[#s + 1] = string.char(b)\n"
        "  until n == 0\n"
        "  return table.concat(s)\n"
        "end\n"
        "local function ld(tag, s) return tag .. varint(#s) .. s end\n"
        "local function chunks(list, fn)\n"
        "  for i = 1, #list, 1000 do fn(unpack(list, i, math.min(i + 999, #list))) end\n"
        "end\n"
        "local T1, T2, T3, T4 = string.char(10), string.char(18), string.char(26), string.char(34)\n"
        "local INBOX = ld(T4, 'inbox')\n"
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local pre, evkey, maxlen, tag = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]\n"
        "local dirty, evmax = ARGV[7] == '1', tonumber(ARGV[8])\n"
        "local ev_mid = ld(T2, ARGV[9]) .. string.char(24) .. varint(now) .. ld(T4, ARGV[10])\n"
        "local item_at = string.char(48) .. varint(now)\n"
        "local et = redis.call('TYPE', evkey).ok\n"
        "local direct = tag ~= '' and (et == 'none' or et == 'stream')\n"
        "local evparts, evfirst, gone, people = {}, nil, {}, {}\n"
        "local function flush()\n"
        "  if #evparts == 0 then return end\n"
        "  local body = table.concat(evparts)\n"
        "  local ev = ld(T1, 'dlvs:' .. evfirst) .. ev_mid .. string.char(170, 1) .. varint(#body) .. body\n"
        "  if maxlen > 0 then\n"
        "    redis.call('XADD', evkey, 'MAXLEN', '~', maxlen, '*', 'type', 'reminders_delivered', 'ev', ev)\n"
        "  else\n"
        "    redis.call('XADD', evkey, '*', 'type', 'reminders_delivered', 'ev', ev)\n"
        "  end\n"
        "  evparts, evfirst = {}, nil\n"
        "end\n"
        "local function note(m, did, p)\n"
        "  evparts[#evparts + 1] = ld(T1, ld(T1, m) .. ld(T2, did) .. ld(T3, p) .. INBOX)\n"
        "  evfirst = evfirst or did\n"
        "  if #evparts >= evmax then flush() end\n"
        "  if dirty and not people[p] then people[p] = true; people[#people + 1] = p end\n"
        "end\n"
        "local function versions(recs)\n"
        "  local ps, seen, vers = {}, {}, {}\n"
        "  for _, x in ipairs(recs) do\n"
        "    local p = x[2][2]\n"
        "    if not seen[p] then seen[p] = true; ps[#ps + 1] = p end\n"
        "  end\n"
        "  for i = 1, #ps, 1000 do\n"
        "    local j = math.min(i + 999, #ps)\n"
        "    local v = redis.pcall('HMGET', pre .. 'prefv', unpack(ps, i, j))\n"
        "    local ok = type(v) == 'table' and not v.err\n"
        "    for k = i, j do vers[ps[k]] = ok and (v[k - i + 1] or '0') or '?' end\n"
        "  end\n"
        "  return vers\n"
        "end\n"
        "local function item_of(did, r)\n"
        "  return ld(T1, did) .. ld(T2, r[3] or '') .. ld(T3, r[4] or '') .. ld(T4, r[5] or '') ..\n"
        "    string.char(40) .. varint(tonumber(r[6])) .. item_at\n"
        "end\n"
        "local function deliver(m, r)\n"
        "  local p, did = r[2], m .. '@' .. r[6]\n"
        "  local inbox = pre .. 'inbox:' .. p\n"
        "  local added = redis.pcall('ZADD', inbox, 'NX', now, did)\n"
        "  if type(added) ~= 'number' then return false end\n"
        "  if added == 1 then\n"
        "    local items, unread = pre .. 'inboxitems:' .. p, pre .. 'inboxunread:' .. p\n"
        "    if type(redis.pcall('HSET', items, did, item_of(did, r))) ~= 'number' then\n"
        "      redis.call('ZREM', inbox, did)\n"
        "      return false\n"
        "    end\n"
        "    if type(redis.pcall('SADD', unread, did)) ~= 'number' then\n"
        "      redis.call('HDEL', items, did)\n"
        "      redis.call('ZREM', inbox, did)\n"
        "      return false\n"
        "    end\n"
        "    note(m, did, p)\n"
        "  end\n"
        "  gone[#gone + 1] = pre .. 'rem:' .. m\n"
        "  redis.pcall('SREM', pre .. 'person:' .. p, m)\n"
        "  if r[7] and r[7] ~= '' then redis.pcall('SREM', pre .. 'subj:' .. r[7], m) end\n"
        "  return true\n"
        "end\n"
        "local function move_shard(k)\n"
        "  local due = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))\n"
        "  local recs = {}\n"
        "  for i = 1, #due, 2 do\n"
        "    local m, r = due[i], nil\n"
        "    if string.find(m, '#', 1, true) then\n"
        "      redis.call('XADD', KEYS[k + 3], '*', 'm', m, 'due', due[i + 1], 'at', now)\n"
        "    else\n"
        "      if direct then r = redis.pcall('HMGET', pre .. 'rem:' .. m, 'v', 'p', 'k', 't', 'b', 'due', 's') end\n"
        "      if type(r) == 'table' and not r.err and r[1] and r[2] and tonumber(r[6]) then\n"
        "        recs[#recs + 1] = {i, r}\n"
        "      else\n"
        "        redis.call('XADD', KEYS[k + 1], '*', 'm', m, 'due', due[i + 1], 'at', now)\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "  local vers = #recs > 0 and versions(recs) or {}\n"
        "  for _, x in ipairs(recs) do\n"
        "    local i, r = x[1], x[2]\n"
        "    if r[1] ~= vers[r[2]] .. '/' .. tag or not deliver(due[i], r) then\n"
        "      redis.call('XADD', KEYS[k + 1], '*', 'm', due[i], 'due', due[i + 1], 'at', now)\n"
        "    end\n"
        "  end\n"
        "  if #due > 0 then redis.call('ZREMRANGEBYRANK', KEYS[k], 0, #due / 2 - 1) end\n"
        "  return #due / 2\n"
        "end\n"
        "local out, h = {now, -1}, -1\n"
        "for k = 1, #KEYS, 4 do\n"
        "  if redis.call('GET', KEYS[k + 2]) ~= ARGV[1] then\n"
        "    out[#out + 1] = -1\n"
        "  else\n"
        "    out[#out + 1] = move_shard(k)\n"
        "    local head = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')\n"
        "    if head[2] and (h < 0 or tonumber(head[2]) < h) then h = tonumber(head[2]) end\n"
        "  end\n"
        "end\n"
        "flush()\n"
        "chunks(gone, function(...) redis.call('DEL', ...) end)\n"
        "chunks(people, function(...) redis.pcall('SADD', pre .. 'inboxdirty', ...) end)\n"
        "out[2] = h\n"
        "return out\n"};

/* KEYS: the region's inboxdirty set. ARGV: the key prefix, the inbox's
 * max items (0 none) and max age in ms (0 none), the most persons to
 * trim. Pops that many persons the mover delivered to and trims their
 * inboxes (inbox_lua.h), taking "now" from Redis. Returns the count popped. */
static mr_script trim_script = {
    .name = "notify_trim_dirty",
    .source =
        TRIM_LUA
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local pre, maxn, maxage = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
        "local cutoff = maxage > 0 and string.format('%.0f', now - maxage) or '0'\n"
        "local ps = redis.call('SPOP', KEYS[1], tonumber(ARGV[4]))\n"
        "for _, p in ipairs(ps) do\n"
        "  trim(pre .. 'inboxitems:' .. p, pre .. 'inbox:' .. p, pre .. 'inboxunread:' .. p, maxn, cutoff)\n"
        "end\n"
        "return #ps\n"};

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

static bool has_retention(const nt_region *reg)
{
    return reg && (reg->inbox_max_items > 0 || reg->inbox_max_age_ms > 0);
}

/* Trims the inboxes the mover delivered to (inboxdirty), up to
 * trim_batch persons. Returns the count trimmed, -1 failed. */
static int trim_dirty(nt_worker *w, int trim_batch)
{
    const nt_region *reg = nt_region_find(w->st, w->region);
    char key[128], prefix[128], maxn[24], maxage[24], count[24];
    if (!has_retention(reg))
        return 0;
    nt_key(key, sizeof key, w->region, "%s", "inboxdirty");
    nt_key(prefix, sizeof prefix, w->region, "%s", "");
    snprintf(maxn, sizeof maxn, "%d", reg->inbox_max_items);
    snprintf(maxage, sizeof maxage, "%lld", reg->inbox_max_age_ms);
    snprintf(count, sizeof count, "%d", trim_batch);
    const char *args[] = {key, prefix, maxn, maxage, count};
    mr_val *v = mr_store_eval(w->store, &trim_script, 1, 5, args, NULL);
    int rc = mr_val_is_error(v) ? -1 : (int)mr_val_int(v);
    if (rc < 0)
        mr_warn("notify_trim_failed", "region=%s error=%s", w->region,
                v && mr_val_str(v, NULL) ? mr_val_str(v, NULL) : "?");
    mr_val_free(&v);
    return rc;
}

/* Moves what is due in the shards held, in one script. Returns the most
 * moved in one shard (-1 failed); a shard whose lease turned out lost is
 * marked not held. *now_ms is Redis's time, *head_ms the next due time
 * or -1. */
static int move_due(nt_worker *w, bool *held, int64_t *now_ms, int64_t *head_ms)
{
    static const char *kinds[] = {"sh:%d:due", "sh:%d:ready", "sh:%d:lease", "sh:%d:out"};
    char keys[4 * NT_MAX_SHARDS][128], batch[16];
    const char *args[4 * NT_MAX_SHARDS + 10];
    int shard_of[NT_MAX_SHARDS], n = 0, nkeys = 0;
    for (int k = 0; k < w->st->set.shards; k++) {
        if (!held[k])
            continue;
        shard_of[n++] = k;
        for (int i = 0; i < 4; i++, nkeys++) {
            nt_key(keys[nkeys], sizeof keys[0], w->region, kinds[i], k);
            args[nkeys] = keys[nkeys];
        }
    }
    *head_ms = -1;
    if (n == 0)
        return 0;
    char prefix[128], events[128], maxlen[24], evmax[24];
    const nt_region *reg = nt_region_find(w->st, w->region);
    snprintf(batch, sizeof batch, "%d", w->st->set.move_batch);
    nt_key(prefix, sizeof prefix, w->region, "%s", "");
    mr_events_stream_key(events, sizeof events, w->region);
    snprintf(maxlen, sizeof maxlen, "%lld", w->st->set.events_maxlen);
    snprintf(evmax, sizeof evmax, "%d", w->st->set.delivered_event_max);
    const char *tail[] = {w->instance, batch, prefix, events, maxlen,
                          reg && reg->direct_inbox ? reg->direct_tag : "",
                          has_retention(reg) ? "1" : "0", evmax, w->region, w->instance};
    for (int i = 0; i < 10; i++)
        args[nkeys + i] = tail[i];
    mr_val *v = mr_store_eval(w->store, &move_script, nkeys, nkeys + 10, args, NULL);
    int most = -1;
    if (!mr_val_is_error(v) && mr_val_count(v) == (size_t)n + 2) {
        *now_ms = mr_val_int(mr_val_at(v, 0));
        *head_ms = mr_val_int(mr_val_at(v, 1));
        most = 0;
        for (int i = 0; i < n; i++) {
            long long moved = mr_val_int(mr_val_at(v, (size_t)i + 2));
            held[shard_of[i]] = moved >= 0;
            most = moved > most ? (int)moved : most;
        }
    } else if (v) {
        mr_warn("notify_move_failed", "region=%s error=%s", w->region,
                mr_val_str(v, NULL) ? mr_val_str(v, NULL) : "?");
    }
    mr_val_free(&v);
    return most;
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
        nt_nap(w, 200);
    mr_val_free(&v);
}

/* Sleeps ms until the next due time. Redis times out a blocked BLPOP
 * only at its next event-loop tick (up to 1000/hz ms late on an idle
 * server), so the last wake_precise_ms of a sleep are slept here, in
 * this thread; only the part before that blocks on the wake lists. */
static void sleep_until_due(nt_worker *w, const bool *held, int ms)
{
    int precise = w->st->set.wake_precise_ms;
    if (ms > precise)
        wait_wake(w, held, ms - precise);
    else
        nt_nap(w, ms);
}

/* Takes or renews the leases of every shard, when renew_ms has passed
 * since the last time (a lease is kept for lease_ms). -1 when Redis failed. */
static int renew_leases(nt_worker *w, bool *held, int64_t *last_ms)
{
    int64_t now = mr_mono_ms();
    if (*last_ms && now - *last_ms < w->st->set.lease_ms / 3)
        return 0;
    for (int k = 0; k < w->st->set.shards && !nt_stopping(w); k++) {
        int got = lease(w, k);
        if (got < 0)
            return -1;
        held[k] = got == 1;
    }
    *last_ms = now;
    return 0;
}

/* Trims the inboxes delivered to, once every trim_interval_ms (at once
 * again after a full batch: more are waiting). */
static void trim_when_due(nt_worker *w, int64_t *last_trim_ms)
{
    int64_t now = mr_mono_ms();
    if (*last_trim_ms && now - *last_trim_ms < w->st->set.trim_interval_ms)
        return;
    int trimmed = trim_dirty(w, w->st->set.move_batch);
    *last_trim_ms = trimmed >= w->st->set.move_batch ? 0 : now;
}

/* One pass over the shards. Returns the ms to sleep (0: more is due now),
 * -1 when Redis failed, or -2 - ms when no shard is held here. */
static int mover_pass(nt_worker *w, bool *held, int64_t *last_lease_ms, int64_t *last_trim_ms)
{
    int sleep_ms = w->st->set.max_sleep_ms, any = 0;
    if (renew_leases(w, held, last_lease_ms) != 0)
        return -1;
    for (int k = 0; k < w->st->set.shards; k++)
        any |= held[k];
    if (!any)
        return -2 - w->st->set.lease_ms / 3;
    int64_t now = 0, head = -1;
    bool before[NT_MAX_SHARDS];
    memcpy(before, held, sizeof before);
    int moved = move_due(w, held, &now, &head);
    if (moved < 0) {
        *last_lease_ms = 0;       /* take stock of the leases again */
        return -1;
    }
    for (int k = 0; k < w->st->set.shards; k++)
        if (before[k] && !held[k])
            *last_lease_ms = 0;   /* a lease lost (Redis restarted): try to take it back next pass */
    trim_when_due(w, last_trim_ms);
    if (moved >= w->st->set.move_batch)
        sleep_ms = 0;
    else if (head >= 0 && head - now < sleep_ms)
        sleep_ms = head - now < 1 ? 1 : (int)(head - now);
    return sleep_ms;
}

void *nt_mover_main(void *arg)
{
    nt_worker *w = arg;
    bool held[NT_MAX_SHARDS] = {0};
    int64_t last_lease_ms = 0, last_trim_ms = 0;
    while (!nt_stopping(w)) {
        int r = mover_pass(w, held, &last_lease_ms, &last_trim_ms);
        if (r == -1)
            nt_nap(w, 200);
        else if (r <= -2)
            nt_nap(w, -2 - r);     /* no shard held here: another instance moves them */
        else if (r > 0)
            sleep_until_due(w, held, r);
    }
    for (int k = 0; k < w->st->set.shards; k++)
        if (held[k])
            release(w, k);
    return NULL;
}
