/* dirty.c: the debounce of grade changes. A CustomerRegraded does not
 * replan at once: it marks the rep's cycle dirty in Redis, in the event's
 * own tx (so a SIGKILL after it loses nothing), with a due time of now +
 * [scheduling] regrade_quiet_ms, pushed back by every further regrade of
 * the rep but never past the first mark + regrade_max_wait_ms. The ticker
 * (ticker.c) sends ReplanDirty for due reps; it replans the rest of the
 * cycle once and clears the mark in the same commit, expecting the mark
 * unchanged (a regrade in between leaves the rep dirty for a later pass).
 *
 * Keys: sched:dirty (zset rep -> due ms), sched:dirty:mark (hash rep ->
 * the last marking event's entry id), sched:dirty:first (hash rep -> ms of
 * the first mark not yet replanned). */
#include "scheduling_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "masterdata.h"

int sched_mark_dirty(sched_ctx *c, const char *rep, long quiet_ms, long max_wait_ms)
{
    char zkey[96], mkey[96], fkey[96], due[24], now[24];
    mr_key(zkey, sizeof zkey, c->region, "sched:dirty");
    mr_key(mkey, sizeof mkey, c->region, "sched:dirty:mark");
    mr_key(fkey, sizeof fkey, c->region, "sched:dirty:first");
    mr_val *v = mr_store_cmd(c->store, "HGET %s %s", fkey, rep);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    }
    const char *t = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, NULL) : NULL;
    int64_t first = t ? atoll(t) : c->now_ms, at = c->now_ms + quiet_ms;
    mr_val_free(&v);
    if (max_wait_ms > 0 && at > first + max_wait_ms)
        at = first + max_wait_ms;
    snprintf(due, sizeof due, "%lld", (long long)at);
    snprintf(now, sizeof now, "%lld", (long long)c->now_ms);
    const char *mark = c->ecall && c->ecall->entry_id ? c->ecall->entry_id : now;
    int rc = mr_tx_addv(c->tx, "ZADD", zkey, due, rep, NULL) | mr_tx_addv(c->tx, "HSET", mkey, rep, mark, NULL) |
             mr_tx_addv(c->tx, "HSETNX", fkey, rep, now, NULL);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "out of memory");
}

/* The rep's mark, "" when it is not dirty. 0 or -1. */
static int read_mark(sched_ctx *c, const char *rep, char *mark, size_t cap)
{
    char mkey[96];
    mr_key(mkey, sizeof mkey, c->region, "sched:dirty:mark");
    mr_val *v = mr_store_cmd(c->store, "HGET %s %s", mkey, rep);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    }
    const char *t = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, NULL) : NULL;
    snprintf(mark, cap, "%s", t ? t : "");
    mr_val_free(&v);
    return 0;
}

/* Clears the mark, on condition that it is still `mark`. */
static int stage_clear(sched_ctx *c, const char *rep, const char *mark)
{
    char zkey[96], mkey[96], fkey[96];
    mr_key(zkey, sizeof zkey, c->region, "sched:dirty");
    mr_key(mkey, sizeof mkey, c->region, "sched:dirty:mark");
    mr_key(fkey, sizeof fkey, c->region, "sched:dirty:first");
    int rc = mr_tx_expect(c->tx, mkey, rep, mark) | mr_tx_addv(c->tx, "HDEL", mkey, rep, NULL) |
             mr_tx_addv(c->tx, "HDEL", fkey, rep, NULL) | mr_tx_addv(c->tx, "ZREM", zkey, rep, NULL);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "out of memory");
}

int sched_replan_dirty(mr_call *call)
{
    Medrep__ReplanDirtyRequest *req = mr_call_decode(call, &medrep__replan_dirty_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    Medrep__ReplanDirtyReply out = MEDREP__REPLAN_DIRTY_REPLY__INIT;
    char mark[64];
    if (!req->rep_id || !mr_md_id_valid(req->rep_id))
        sched_fail(&c, MR_INVALID_ARGUMENT, "rep_id: want 1..63 of [A-Za-z0-9._:-]");
    else if (c.code == MR_OK && read_mark(&c, req->rep_id, mark, sizeof mark) == 0 && mark[0]) {
        sched_replan_current(&c, req->rep_id, NULL);
        if (c.code == MR_NOT_FOUND || c.code == MR_FAILED_PRECONDITION) {
            mr_tx_reset(c.tx);      /* no such rep or a bad configuration: drop the mark */
            sched_unlock(&c);
            c.code = MR_OK;
        } else
            out.replanned = true, out.has_replanned = true;
        if (c.code == MR_OK)
            stage_clear(&c, req->rep_id, mark);
    } else if (c.code == MR_OK) {   /* no mark: nothing to replan; drop a stray entry */
        char zkey[96];
        mr_key(zkey, sizeof zkey, c.region, "sched:dirty");
        if (mr_tx_addv(c.tx, "ZREM", zkey, req->rep_id, NULL) != 0)
            sched_fail(&c, MR_INTERNAL, "out of memory");
    }
    if (c.code == MR_OK)
        mr_call_reply(call, &out.base);
    else {
        sched_unlock(&c);
        mr_call_fail(call, c.code, "%s", c.err);
    }
    medrep__replan_dirty_request__free_unpacked(req, NULL);
    return call->code;
}
