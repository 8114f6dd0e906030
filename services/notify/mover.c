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
 * between. What a direct delivery leaves to do (taking the reminder out
 * of its person's and subject's sets, trimming the inbox) is done by the
 * same thread after the passes (tidy_script), deferred while firing is
 * saturated. */
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
 * tidy_script), the most deliveries per event, the region and this
 * instance (the event's source).
 * A due reminder that direct.c marked inbox-only (and whose person's
 * preferences and region's defaults have not changed since: its v
 * matches prefv and the tag) is delivered here: its inbox member (packed
 * at schedule time) added to the person's inbox, its part of a
 * RemindersDelivered event (packed at schedule time too) written, the
 * reminder removed, in this same atomic step, so it can neither be lost
 * nor repeated (a member already in the inbox is not delivered again).
 * What costs Redis time per reminder is kept to the reminder's HMGET and
 * the inbox's ZADD; the rest is one command per batch: the preference
 * versions, the reminder keys' DEL, the event, the dirty set, and the
 * tidy list ("<person> <reminder id>[ <subject>]" per delivery), from
 * which tidy_script later takes the reminder out of its person's and
 * subject's sets. Writes that may meet a key of the wrong type run under
 * pcall; the reminder then goes the generic way. Everything else goes to
 * the ready stream. Returns {now, next head or -1, then per shard the
 * count moved or -1 (the lease is not ours)}. Writes nothing when nothing
 * is due, so an idle pass costs no AOF write. */
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
        "local T1, T2, T4 = string.char(10), string.char(18), string.char(34)\n"
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local pre, evkey, maxlen, tag = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]\n"
        "local dirty, evmax = ARGV[7] == '1', tonumber(ARGV[8])\n"
        "local ev_mid = ld(T2, ARGV[9]) .. string.char(24) .. varint(now) .. ld(T4, ARGV[10])\n"
        "local et = redis.call('TYPE', evkey).ok\n"
        "local direct = tag ~= '' and (et == 'none' or et == 'stream')\n"
        "local evparts, evfirst, gone, people, tidy = {}, nil, {}, {}, {}\n"
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
        "local function note(part, m, due, p)\n"
        "  evparts[#evparts + 1] = part\n"
        "  if not evfirst then evfirst = m .. '@' .. due end\n"
        "  if #evparts >= evmax then flush() end\n"
        "  if dirty and not people[p] then people[p] = true; people[#people + 1] = p end\n"
        "end\n"
        "local function versions(recs)\n"
        "  local ps, seen, vers = {}, {}, {}\n"
        "  for _, r in ipairs(recs) do\n"
        "    local p = r[2]\n"
        "    if not seen[p] then seen[p] = true; ps[#ps + 1] = p end\n"
        "  end\n"
        "  for i = 1, #ps, 1000 do\n"
        "    local j = math.min(i + 999, #ps)\n"
        "    local v = redis.pcall('HMGET', pre .. 'prefv', unpack(ps, i, j))\n"
        "    local ok = type(v) == 'table' and not v.err\n"
        "    for k = i, j do vers[ps[k]] = ok and ((v[k - i + 1] or '0') .. '/' .. tag) or '?' end\n"
        "  end\n"
        "  return vers\n"
        "end\n"
        "local function deliver(m, due, r, rkey)\n"
        "  local p = r[2]\n"
        "  local added = redis.pcall('ZADD', pre .. 'box:' .. p, 'NX', now, r[3])\n"
        "  if type(added) ~= 'number' then return false end\n"
        "  if added == 1 then note(r[4], m, due, p) end\n"
        "  gone[#gone + 1] = rkey\n"
        "  tidy[#tidy + 1] = (r[5] and r[5] ~= '') and (p .. ' ' .. m .. ' ' .. r[5]) or (p .. ' ' .. m)\n"
        "  return true\n"
        "end\n"
        "local function move_shard(k)\n"
        "  local due = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))\n"
        "  local at, recs, rkeys, n = {}, {}, {}, 0\n"
        "  for i = 1, #due, 2 do\n"
        "    local m, r = due[i], nil\n"
        "    if string.find(m, '#', 1, true) then\n"
        "      redis.call('XADD', KEYS[k + 3], '*', 'm', m, 'due', due[i + 1], 'at', now)\n"
        "    else\n"
        "      local rkey = pre .. 'rem:' .. m\n"
        "      if direct then r = redis.pcall('HMGET', rkey, 'v', 'p', 'i', 'e', 's') end\n"
        "      if type(r) == 'table' and not r.err and r[1] and r[2] and r[3] and r[4] then\n"
        "        n = n + 1\n"
        "        at[n], recs[n], rkeys[n] = i, r, rkey\n"
        "      else\n"
        "        redis.call('XADD', KEYS[k + 1], '*', 'm', m, 'due', due[i + 1], 'at', now)\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "  local vers = n > 0 and versions(recs) or {}\n"
        "  for j = 1, n do\n"
        "    local i, r = at[j], recs[j]\n"
        "    if r[1] ~= vers[r[2]] or not deliver(due[i], due[i + 1], r, rkeys[j]) then\n"
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
        "chunks(tidy, function(...)\n"
        "  if type(redis.pcall('RPUSH', pre .. 'tidy', ...)) ~= 'number' then\n"
        "    for _, e in ipairs({...}) do\n"
        "      local p, m, sj = string.match(e, '^(%S+) (%S+) ?(%S*)$')\n"
        "      redis.pcall('SREM', pre .. 'person:' .. p, m)\n"
        "      if sj ~= '' then redis.pcall('SREM', pre .. 'subj:' .. sj, m) end\n"
        "    end\n"
        "  end\n"
        "end)\n"
        "out[2] = h\n"
        "return out\n"};

/* KEYS: the region's inboxdirty set and tidy list. ARGV: the key prefix,
 * the inbox's max items (0 none) and max age in ms (0 none), the most
 * persons to trim and entries to tidy. Pops that many persons the mover
 * delivered to and trims their inboxes (inbox_lua.h; only when there is a
 * retention limit), and that many tidy entries, taking each reminder out
 * of its person's and subject's sets (one SREM per person and subject),
 * unless the reminder was scheduled again since, for the same person or
 * subject. Takes "now" from Redis. Returns {the most popped of the two,
 * the tidy entries left}. */
static mr_script tidy_script = {
    .name = "notify_tidy",
    .source =
        TRIM_LUA
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local pre, maxn, maxage, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
        "local cutoff = maxage > 0 and string.format('%.0f', now - maxage) or '0'\n"
        "local n = 0\n"
        "if maxn > 0 or maxage > 0 then\n"
        "  local ps = redis.call('SPOP', KEYS[1], count)\n"
        "  for _, p in ipairs(ps) do trim(pre .. 'box:' .. p, pre .. 'boxread:' .. p, maxn, cutoff) end\n"
        "  n = #ps\n"
        "end\n"
        "local es = redis.call('LPOP', KEYS[2], count) or {}\n"
        "local sets, order = {}, {}\n"
        "local function unlink(key, m)\n"
        "  if not sets[key] then sets[key] = {}; order[#order + 1] = key end\n"
        "  local l = sets[key]\n"
        "  l[#l + 1] = m\n"
        "end\n"
        "for _, e in ipairs(es) do\n"
        "  local p, m, sj = string.match(e, '^(%S+) (%S+) ?(%S*)$')\n"
        "  if p then\n"
        "    local rkey, now_p = pre .. 'rem:' .. m, {}\n"
        "    if redis.call('EXISTS', rkey) == 1 then\n"
        "      now_p = redis.pcall('HMGET', rkey, 'p', 's')\n"
        "      if type(now_p) ~= 'table' or now_p.err then now_p = {} end\n"
        "    end\n"
        "    if now_p[1] ~= p then unlink(pre .. 'person:' .. p, m) end\n"
        "    if sj ~= '' and now_p[2] ~= sj then unlink(pre .. 'subj:' .. sj, m) end\n"
        "  end\n"
        "end\n"
        "for _, key in ipairs(order) do\n"
        "  local l = sets[key]\n"
        "  for i = 1, #l, 1000 do redis.pcall('SREM', key, unpack(l, i, math.min(i + 999, #l))) end\n"
        "end\n"
        "return {math.max(n, #es), redis.call('LLEN', KEYS[2])}\n"};

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

/* Trims up to batch of the inboxes the mover delivered to (inboxdirty)
 * and tidies up to batch of its deliveries (tidy). Returns the most done
 * of the two (-1 failed); *left is what is left in the tidy list. */
static int tidy(nt_worker *w, int batch, long long *left)
{
    const nt_region *reg = nt_region_find(w->st, w->region);
    char dirty[128], list[128], prefix[128], maxn[24], maxage[24], count[24];
    nt_key(dirty, sizeof dirty, w->region, "%s", "inboxdirty");
    nt_key(list, sizeof list, w->region, "%s", "tidy");
    nt_key(prefix, sizeof prefix, w->region, "%s", "");
    snprintf(maxn, sizeof maxn, "%d", has_retention(reg) ? reg->inbox_max_items : 0);
    snprintf(maxage, sizeof maxage, "%lld", has_retention(reg) ? reg->inbox_max_age_ms : 0);
    snprintf(count, sizeof count, "%d", batch);
    const char *args[] = {dirty, list, prefix, maxn, maxage, count};
    mr_val *v = mr_store_eval(w->store, &tidy_script, 2, 6, args, NULL);
    int rc = -1;
    if (!mr_val_is_error(v) && mr_val_count(v) == 2) {
        rc = (int)mr_val_int(mr_val_at(v, 0));
        *left = mr_val_int(mr_val_at(v, 1));
    } else {
        mr_warn("notify_tidy_failed", "region=%s error=%s", w->region,
                v && mr_val_str(v, NULL) ? mr_val_str(v, NULL) : "?");
    }
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

/* Trims and tidies after the mover's deliveries once every
 * trim_interval_ms, and at once again after a full batch (more are
 * waiting), but not while the mover is saturated (its last pass moved a
 * full batch: firing comes first) unless more than tidy_backlog_max
 * entries wait. True when more waits to be done at once. */
static bool tidy_when_due(nt_worker *w, int64_t *last_ms, bool saturated)
{
    int64_t now = mr_mono_ms();
    if (*last_ms && now - *last_ms < w->st->set.trim_interval_ms)
        return false;
    long long left = 0;
    int done = tidy(w, w->st->set.move_batch, &left);
    bool more = done >= w->st->set.move_batch && (!saturated || left > w->st->set.tidy_backlog_max);
    *last_ms = more ? 0 : now;
    return more;
}

/* One pass over the shards. Returns the ms to sleep (0: more is due now),
 * -1 when Redis failed, or -2 - ms when no shard is held here. */
static int mover_pass(nt_worker *w, bool *held, int64_t *last_lease_ms, int64_t *last_tidy_ms)
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
    bool more = tidy_when_due(w, last_tidy_ms, moved >= w->st->set.move_batch);
    if (moved >= w->st->set.move_batch || more)
        sleep_ms = 0;
    else if (head >= 0 && head - now < sleep_ms)
        sleep_ms = head - now < 1 ? 1 : (int)(head - now);
    return sleep_ms;
}

void *nt_mover_main(void *arg)
{
    nt_worker *w = arg;
    bool held[NT_MAX_SHARDS] = {0};
    int64_t last_lease_ms = 0, last_tidy_ms = 0;
    while (!nt_stopping(w)) {
        int r = mover_pass(w, held, &last_lease_ms, &last_tidy_ms);
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
