/* quarter.c: the quarter plan (DOMAIN.md 3.4): QuarterPlan computes the
 * targets (sc_quarter_targets over the rep's customers and the calls of
 * the quarter so far) and stores them awaiting the DM's approval, with a
 * PlanDue event of kind "quarter" to the DM whenever they change;
 * ApproveQuarter records the DM's approval.
 *
 * Redis: sched:quarter:<rep>:<YYYY-Qn> hash {state, digest, plan (packed
 * QuarterPlanReply)}. */
#include "scheduling_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "masterdata.h"

typedef struct {
    mr_rep rep;
    sc_norms norms;
    mr_customer *cust;
    long ncust;
    int *cls, *done, *planned, *target;
} quarter_in;

static void quarter_free(quarter_in *q)
{
    free(q->cust);
    free(q->cls);
    free(q->done);
    free(q->planned);
    free(q->target);
}

static int load_quarter(sched_ctx *c, const char *rep, const sc_period *qp, quarter_in *q)
{
    int got = mr_md_get_rep(c->store, c->region, rep, &q->rep);
    if (got <= 0)
        return sched_fail(c, got < 0 ? MR_UNAVAILABLE : MR_NOT_FOUND, "rep '%s': %s", rep,
                          got < 0 ? mr_store_error(c->store) : "not found");
    if (sched_norms(c, q->rep.team, &q->norms) != 0)
        return -1;
    char idx[160], **ids = NULL;
    mr_md_index(idx, sizeof idx, "rep", rep, "customers");
    q->ncust = mr_md_list(c->store, c->region, idx, &ids);
    if (q->ncust < 0)
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    size_t n = (size_t)(q->ncust ? q->ncust : 1);
    q->cust = calloc(n, sizeof *q->cust);
    q->cls = calloc(n, sizeof *q->cls);
    q->done = calloc(n, sizeof *q->done);
    q->planned = calloc(n, sizeof *q->planned);
    q->target = calloc(n, sizeof *q->target);
    for (long i = 0; q->cust && q->cls && q->done && q->planned && q->target && i < q->ncust && c->code == MR_OK; i++) {
        char seg[4];
        int g = mr_md_get_customer(c->store, c->region, ids[i], &q->cust[i]);
        if (g < 0 || sched_segment(c, ids[i], NULL, seg, sizeof seg) != 0)
            sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
        snprintf(q->cust[i].id, sizeof q->cust[i].id, "%s", ids[i]);
        q->cls[i] = g == 1 ? sc_norms_class_of(&q->norms, q->cust[i].kind == MR_CUSTOMER_PRESCRIBER, seg, q->cust[i].group) : -1;
    }
    mr_md_free_ids(ids, q->ncust);
    if (!q->cust || !q->cls || !q->done || !q->planned || !q->target)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    if (c->code != MR_OK)
        return -1;
    sched_calls calls = {0};
    int64_t lo = sc_local_ms(c->rg->tz, qp->first, 0), hi = sc_local_ms(c->rg->tz, qp->last + 1, 0);
    if (sched_load_calls(c, rep, lo, hi, NULL, &calls) != 0)
        return -1;
    for (int k = 0; k < calls.n; k++)
        for (long i = 0; i < q->ncust; i++)
            if (!strcmp(calls.v[k].customer, q->cust[i].id)) {
                q->done[i] += !strcmp(calls.v[k].state, "done");
                q->planned[i] += !strcmp(calls.v[k].state, "planned");
            }
    sched_calls_free(&calls);
    return 0;
}

/* "c1:4;c2:0;..." so that a change of targets is seen. */
static char *digest_of(const quarter_in *q)
{
    size_t cap = (size_t)q->ncust * 80 + 1;
    char *d = calloc(cap, 1);
    size_t used = 0;
    for (long i = 0; d && i < q->ncust; i++)
        used += (size_t)snprintf(d + used, cap - used, "%s:%d;", q->cust[i].id, q->target[i]);
    return d;
}

/* Stored state and digest; 0 or -1. */
static int stored_state(sched_ctx *c, const char *key, char *state, size_t scap, char **digest)
{
    mr_val *v = mr_store_cmd(c->store, "HMGET %s state digest", key);
    if (!v || mr_val_count(v) != 2) {
        mr_val_free(&v);
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    }
    const char *s = mr_val_str(mr_val_at(v, 0), NULL), *d = mr_val_str(mr_val_at(v, 1), NULL);
    snprintf(state, scap, "%s", s ? s : "");
    *digest = d ? strdup(d) : NULL;
    mr_val_free(&v);
    return 0;
}

static void split_objectives(const char *text, char store[][96], char **ptrs, size_t *n)
{
    *n = 0;
    for (const char *p = text; p && *p && *n < SCHED_OBJ_MAX;) {
        while (*p == ' ' || *p == '|')
            p++;
        size_t len = strcspn(p, "|"), end = len;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        if (end) {
            snprintf(store[*n], 96, "%.*s", (int)end, p);
            ptrs[*n] = store[*n];
            (*n)++;
        }
        p += len;
    }
}

static int emit_due(sched_ctx *c, const quarter_in *q, const sc_period *qp)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__PlanDue body = MEDREP__PLAN_DUE__INIT;
    body.rep_id = (char *)q->rep.id;
    body.kind = "quarter";
    body.period = (char *)qp->text;
    body.due_ms = c->now_ms, body.has_due_ms = true;
    body.approver_id = (char *)q->rep.dm_id;
    ev.body_case = MEDREP__EVENT__BODY_PLAN_DUE;
    ev.plan_due = &body;
    return sched_emit(c, &ev);
}

static void reply_quarter(mr_call *call, sched_ctx *c, const quarter_in *q, const sc_period *qp,
                          const char *state, const char *key, const char *digest)
{
    size_t n = (size_t)(q->ncust ? q->ncust : 1);
    Medrep__QuarterTarget *t = calloc(n, sizeof *t), **pt = calloc(n, sizeof *pt);
    char (*obj)[SCHED_OBJ_MAX][96] = calloc(n, sizeof *obj);
    char **objp = calloc(n * SCHED_OBJ_MAX, sizeof *objp);
    if (!t || !pt || !obj || !objp) {
        sched_fail(c, MR_INTERNAL, "out of memory");
    } else {
        for (long i = 0; i < q->ncust; i++) {
            medrep__quarter_target__init(&t[i]);
            t[i].customer_id = (char *)q->cust[i].id;
            t[i].customer_name = (char *)q->cust[i].name;
            t[i].segment = q->cls[i] >= 0 ? (char *)q->norms.cls[q->cls[i]].name : "";
            t[i].calls_target = q->target[i], t[i].has_calls_target = true;
            t[i].calls_done = q->done[i], t[i].has_calls_done = true;
            t[i].calls_planned = q->planned[i], t[i].has_calls_planned = true;
            if (q->target[i] > 0 && q->cls[i] >= 0) {
                t[i].objectives = objp + i * SCHED_OBJ_MAX;
                split_objectives(q->norms.cls[q->cls[i]].objectives, obj[i], t[i].objectives, &t[i].n_objectives);
            }
            pt[i] = &t[i];
        }
        Medrep__QuarterPlanReply r = MEDREP__QUARTER_PLAN_REPLY__INIT;
        r.rep_id = (char *)q->rep.id;
        r.quarter = (char *)qp->text;
        r.state = (char *)state;
        r.targets = pt;
        r.n_targets = (size_t)q->ncust;
        r.approver_id = (char *)q->rep.dm_id;
        r.updated_ms = c->now_ms, r.has_updated_ms = true;
        size_t len = medrep__quarter_plan_reply__get_packed_size(&r);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf) {
            medrep__quarter_plan_reply__pack(&r, buf);
            const char *argv[] = {"HSET", key, "state", state, "digest", digest, "plan", (const char *)buf};
            size_t lens[] = {4, strlen(key), 5, strlen(state), 6, strlen(digest), 4, len};
            if (mr_tx_add(c->tx, 8, argv, lens) == 0)
                mr_call_reply(call, &r.base);
            else
                sched_fail(c, MR_INTERNAL, "out of memory");
        }
        free(buf);
    }
    free(t);
    free(pt);
    free(obj);
    free(objp);
}

static int decode_quarter(mr_call *call, const char *rep, const char *quarter, sc_period *qp)
{
    char err[160];
    if (!rep || !mr_md_id_valid(rep))
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "rep_id: not a valid id");
    if (sc_period_parse(quarter, qp, err, sizeof err) != 0 || qp->kind != 'Q')
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "quarter: want YYYY-Qn");
    return MR_OK;
}

int sched_quarter_plan(mr_call *call)
{
    Medrep__QuarterPlanRequest *req = mr_call_decode(call, &medrep__quarter_plan_request__descriptor);
    if (!req)
        return call->code;
    sc_period qp;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    quarter_in q;
    memset(&q, 0, sizeof q);
    if (decode_quarter(call, req->rep_id, req->quarter, &qp) == MR_OK && c.code == MR_OK &&
        load_quarter(&c, req->rep_id, &qp, &q) == 0) {
        sc_quarter_targets(&q.norms, q.cls, q.done, (int)q.ncust, q.target);
        char key[200], state[32], *old = NULL, *digest = digest_of(&q);
        mr_key(key, sizeof key, c.region, "sched:quarter:%s:%s", req->rep_id, qp.text);
        if (digest && stored_state(&c, key, state, sizeof state, &old) == 0) {
            bool same = old && !strcmp(old, digest) && !strcmp(state, "approved");
            if (!same)
                snprintf(state, sizeof state, "awaiting_approval");
            if (same || emit_due(&c, &q, &qp) == 0)
                reply_quarter(call, &c, &q, &qp, state, key, digest);
        } else if (!digest)
            sched_fail(&c, MR_INTERNAL, "out of memory");
        free(old);
        free(digest);
    }
    quarter_free(&q);
    medrep__quarter_plan_request__free_unpacked(req, NULL);
    if (c.code != MR_OK)
        return mr_call_fail(call, c.code, "%s", c.err);
    return call->code;
}

int sched_approve_quarter(mr_call *call)
{
    Medrep__ApproveQuarterRequest *req = mr_call_decode(call, &medrep__approve_quarter_request__descriptor);
    if (!req)
        return call->code;
    sc_period qp;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    mr_rep rep;
    if (decode_quarter(call, req->rep_id, req->quarter, &qp) == MR_OK && c.code == MR_OK) {
        char key[200], state[32], *digest = NULL;
        mr_key(key, sizeof key, c.region, "sched:quarter:%s:%s", req->rep_id, qp.text);
        int got = mr_md_get_rep(c.store, c.region, req->rep_id, &rep);
        if (got <= 0)
            sched_fail(&c, got < 0 ? MR_UNAVAILABLE : MR_NOT_FOUND, "rep '%s' not found", req->rep_id);
        else if (!req->approver_id || strcmp(req->approver_id, rep.dm_id))
            sched_fail(&c, MR_PERMISSION_DENIED, "only the rep's district manager (%s) approves", rep.dm_id);
        else if (stored_state(&c, key, state, sizeof state, &digest) == 0) {
            if (!state[0])
                sched_fail(&c, MR_FAILED_PRECONDITION, "no quarter plan %s for %s yet", qp.text, req->rep_id);
            else if (mr_tx_addv(c.tx, "HSET", key, "state", "approved", "approver", req->approver_id, NULL) != 0)
                sched_fail(&c, MR_INTERNAL, "out of memory");
            else {
                Medrep__ApproveQuarterReply out = MEDREP__APPROVE_QUARTER_REPLY__INIT;
                out.state = "approved";
                mr_call_reply(call, &out.base);
            }
        }
        free(digest);
    }
    medrep__approve_quarter_request__free_unpacked(req, NULL);
    if (c.code != MR_OK)
        return mr_call_fail(call, c.code, "%s", c.err);
    return call->code;
}
