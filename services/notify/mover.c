/* mover.c: the mover thread of a region (durable timers, part 1).
 * Each shard of a region is moved by one instance at a time,
 * the holder of the shard's lease (renewed on every pass, given up at
 * shutdown). One atomic script takes "now" from Redis's own clock (so the
 * hosts' clocks do not matter), checks the lease, and moves every reminder
 * due by then from the due set into the ready stream. Then the mover
 * sleeps until the next due time (capped by max_sleep_ms), blocked on the
 * shards' wake lists, which scheduling pushes to when a reminder lands
 * before the current head. No polling of the due set in between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "worker.h"

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
        "end\n"
        "if #due > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #due / 2 - 1) end\n"
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
        nt_nap(w, 200);
    mr_val_free(&v);
}

/* One pass over the shards. Returns the ms to sleep (0: more is due now),
 * or -1 when Redis failed. */
static int mover_pass(nt_worker *w, bool *held)
{
    int sleep_ms = w->st->set.max_sleep_ms, any = 0;
    for (int k = 0; k < w->st->set.shards && !nt_stopping(w); k++) {
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

void *nt_mover_main(void *arg)
{
    nt_worker *w = arg;
    bool held[NT_MAX_SHARDS] = {0};
    while (!nt_stopping(w)) {
        int r = mover_pass(w, held);
        if (r == -1)
            nt_nap(w, 200);
        else if (r <= -2)
            nt_nap(w, -2 - r);     /* no shard held here: another instance moves them */
        else if (r > 0)
            wait_wake(w, held, r);
    }
    for (int k = 0; k < w->st->set.shards; k++)
        if (held[k])
            release(w, k);
    return NULL;
}

