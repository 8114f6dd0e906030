/* attain.c: the Attainment method (coverage, frequency, adherence, call
 * rate and match per rep, team or region for any period; counting rules
 * in norms.h) and the daily pace check CheckPace, which emits
 * CoverageBehindPace once a day for each rep and high-value class that
 * cannot reach its calls at the current pace; on the configured weekday
 * ([scheduling] week_plan_due_day, default fri) it also emits PlanDue of
 * kind "week" for the next week, once per rep and week. */
#include "scheduling_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "masterdata.h"

typedef struct {
    int *cls;                    /* per customer */
    int ncust, capc;
    sc_att_call *calls;
    int ncalls, capk;
    int field_days;
    int reps;
} att_acc;

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *n = realloc(*p, (size_t)cap2 * size);
    if (!n)
        return -1;
    *p = n;
    *cap = cap2;
    return 0;
}

static int field_days_between(const sched_ctx *c, int64_t a, int64_t b)
{
    int y1, m1, d1, y2, m2, d2;
    if (b < a)
        return 0;
    mr_civil_from_days(a, &y1, &m1, &d1);
    mr_civil_from_days(b, &y2, &m2, &d2);
    return mr_calendar_field_days(c->rg->cal, y1, m1, d1, y2, m2, d2);
}

/* The rep's customers (index i -> class) and ids in ids (caller frees). */
static int rep_customers(sched_ctx *c, const char *rep, const sc_norms *n, char ***ids, long *nids,
                         att_acc *acc)
{
    char idx[160];
    mr_md_index(idx, sizeof idx, "rep", rep, "customers");
    *nids = mr_md_list(c->store, c->region, idx, ids);
    if (*nids < 0)
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    if (grow((void **)&acc->cls, &acc->capc, acc->ncust + (int)*nids, sizeof *acc->cls) != 0)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    for (long i = 0; i < *nids; i++) {
        mr_customer cu;
        char seg[4];
        int got = mr_md_get_customer(c->store, c->region, (*ids)[i], &cu);
        if (got < 0 || sched_segment(c, (*ids)[i], NULL, seg, sizeof seg) != 0)
            return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
        acc->cls[acc->ncust + i] = got ? sc_norms_class_of(n, cu.kind == MR_CUSTOMER_PRESCRIBER, seg, cu.group) : -1;
    }
    return 0;
}

static int add_rep(sched_ctx *c, const char *rep, const sc_period *period, const sc_norms *n, att_acc *acc)
{
    char **ids = NULL;
    long nids = 0;
    sched_calls calls = {0};
    int64_t lo = sc_local_ms(c->rg->tz, period->first, 0), hi = sc_local_ms(c->rg->tz, period->last + 1, 0);
    int rc = rep_customers(c, rep, n, &ids, &nids, acc);
    if (rc == 0)
        rc = sched_load_calls(c, rep, lo, hi, NULL, &calls);
    if (rc == 0 && grow((void **)&acc->calls, &acc->capk, acc->ncalls + calls.n, sizeof *acc->calls) != 0)
        rc = sched_fail(c, MR_INTERNAL, "out of memory");
    for (int i = 0; rc == 0 && i < calls.n; i++) {
        const sched_call *k = &calls.v[i];
        if (!strcmp(k->state, "cancelled") || strcmp(k->kind, "call"))
            continue;
        int cust = -1;
        for (long j = 0; j < nids && cust < 0; j++)
            if (!strcmp(ids[j], k->customer))
                cust = (int)j;
        sc_att_call *a = &acc->calls[acc->ncalls++];
        a->customer = cust >= 0 ? acc->ncust + cust : -1;
        a->cls = cust >= 0 ? acc->cls[acc->ncust + cust] : -1;
        a->done = !strcmp(k->state, "done");
        a->planned = strcmp(k->origin, "unplanned") != 0;
        a->past = k->start_ms < c->now_ms;
    }
    if (rc == 0) {
        acc->ncust += (int)nids;
        int64_t today;
        int minute;
        sc_local_of(c->rg->tz, c->now_ms, &today, &minute);
        acc->field_days += field_days_between(c, period->first, today < period->last ? today : period->last);
        acc->reps++;
    }
    sched_calls_free(&calls);
    mr_md_free_ids(ids, nids);
    return rc;
}

/* Reps named by the request: one, a team's, or the whole region's. */
static long request_reps(sched_ctx *c, const char *rep, const char *team, char ***ids)
{
    char idx[160];
    if (rep && rep[0]) {
        *ids = calloc(1, sizeof **ids);
        if (!*ids || !((*ids)[0] = strdup(rep)))
            return sched_fail(c, MR_INTERNAL, "out of memory");
        return 1;
    }
    if (team && team[0])
        mr_md_index(idx, sizeof idx, "team", team, "reps");
    else
        mr_md_index(idx, sizeof idx, NULL, NULL, "reps");
    long n = mr_md_list(c->store, c->region, idx, ids);
    return n < 0 ? sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store)) : n;
}

static void reply_attainment(mr_call *call, const sc_norms *n, const sc_attainment *at, const att_acc *acc)
{
    Medrep__AttainmentReply r = MEDREP__ATTAINMENT_REPLY__INIT;
    Medrep__SegmentAttainment seg[SC_CLASSES_MAX], *ps[SC_CLASSES_MAX];
    size_t k = 0;
    for (int i = 0; i < n->ncls; i++) {
        if (!at->cls[i].customers && !at->cls[i].done_calls)
            continue;
        medrep__segment_attainment__init(&seg[k]);
        seg[k].segment = (char *)n->cls[i].name;
        seg[k].coverage = at->cls[i].coverage, seg[k].has_coverage = true;
        seg[k].frequency = at->cls[i].frequency, seg[k].has_frequency = true;
        seg[k].customers = at->cls[i].customers, seg[k].has_customers = true;
        seg[k].covered = at->cls[i].covered, seg[k].has_covered = true;
        seg[k].done_calls = at->cls[i].done_calls, seg[k].has_done_calls = true;
        ps[k] = &seg[k];
        k++;
    }
    r.segments = ps;
    r.n_segments = k;
    r.adherence = at->adherence, r.has_adherence = true;
    r.call_rate = at->call_rate, r.has_call_rate = true;
    r.match = at->match, r.has_match = true;
    r.done = at->done, r.has_done = true;
    r.planned = at->planned, r.has_planned = true;
    r.field_days_elapsed = acc->field_days, r.has_field_days_elapsed = true;
    r.reps = acc->reps, r.has_reps = true;
    mr_call_reply(call, &r.base);
}

int sched_attainment(mr_call *call)
{
    Medrep__AttainmentRequest *req = mr_call_decode(call, &medrep__attainment_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    sc_period period;
    char err[160];
    char **reps = NULL;
    long nreps = 0;
    att_acc acc = {0};
    sc_norms n;
    if ((req->rep_id && req->rep_id[0] && !mr_md_id_valid(req->rep_id)) ||
        (req->team && req->team[0] && !mr_md_id_valid(req->team)))
        sched_fail(&c, MR_INVALID_ARGUMENT, "rep_id / team: not a valid id");
    else if (sc_period_parse(req->period, &period, err, sizeof err) != 0)
        sched_fail(&c, MR_INVALID_ARGUMENT, "%s", err);
    else if (c.code == MR_OK && (nreps = request_reps(&c, req->rep_id, req->team, &reps)) >= 0) {
        mr_rep first;
        int got = nreps ? mr_md_get_rep(c.store, c.region, reps[0], &first) : 0;
        if (got < 0)
            sched_fail(&c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c.store));
        else if (got == 0 && req->rep_id && req->rep_id[0])
            sched_fail(&c, MR_NOT_FOUND, "no rep '%s'", req->rep_id);
        else if (sched_norms(&c, got ? first.team : (req->team ? req->team : ""), &n) == 0) {
            for (long i = 0; i < nreps && c.code == MR_OK; i++)
                add_rep(&c, reps[i], &period, &n, &acc);
            sc_period month;
            sc_period_month_of(period.first, &month);
            double share = (double)(period.last - period.first + 1) / (double)(month.last - month.first + 1);
            sc_attainment at;
            if (c.code == MR_OK) {
                sc_attainment_compute(&n, acc.cls, acc.ncust, acc.calls, acc.ncalls, share, acc.field_days, &at);
                reply_attainment(call, &n, &at, &acc);
            }
        }
    }
    mr_md_free_ids(reps, nreps > 0 ? nreps : 0);
    free(acc.cls);
    free(acc.calls);
    medrep__attainment_request__free_unpacked(req, NULL);
    if (c.code != MR_OK)
        return mr_call_fail(call, c.code, "%s", c.err);
    return call->code;
}

/* ---- CheckPace ---- */

static int emit_behind(sched_ctx *c, const char *rep, const char *cls, const sc_period *month,
                       double expected, double actual)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CoverageBehindPace body = MEDREP__COVERAGE_BEHIND_PACE__INIT;
    body.rep_id = (char *)rep;
    body.segment = (char *)cls;
    body.period = (char *)month->text;
    body.expected_share = expected, body.has_expected_share = true;
    body.actual_share = actual, body.has_actual_share = true;
    ev.body_case = MEDREP__EVENT__BODY_COVERAGE_BEHIND_PACE;
    ev.coverage_behind_pace = &body;
    return sched_emit(c, &ev);
}

/* Once a day per rep and class: a mark key, checked then set in the tx. */
static int already_told(sched_ctx *c, const char *rep, const char *cls, int64_t today, char *key, size_t cap)
{
    mr_key(key, cap, c->region, "sched:pace:%s:%lld:%s", rep, (long long)today, cls);
    mr_val *v = mr_store_cmd(c->store, "EXISTS %s", key);
    int told = v && mr_val_type(v) == MR_VAL_INTEGER ? (int)mr_val_int(v) : -1;
    mr_val_free(&v);
    return told < 0 ? sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store)) : told;
}

/* PlanDue for next week's plan, on the due weekday, once per rep and week. */
static int week_due(sched_ctx *c, const mr_rep *r)
{
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char scope[64];
    snprintf(scope, sizeof scope, "region:%s", c->region);
    const char *scopes[] = {scope, NULL};
    const char *day = mr_config_scoped(c->st->cfg, "scheduling", "week_plan_due_day", scopes);
    const char *at = mr_config_scoped(c->st->cfg, "scheduling", "week_plan_due_time", scopes);
    int64_t today;
    int minute, due_minute = at ? sc_hhmm_parse(at) : 17 * 60;
    sc_local_of(c->rg->tz, c->now_ms, &today, &minute);
    if (strcmp(names[mr_weekday_from_days(today)], day ? day : "fri") || due_minute < 0)
        return 0;
    char week[16], key[200];
    sc_iso_week_text(today + 7, week, sizeof week);
    int told = already_told(c, r->id, week, 0, key, sizeof key);
    if (told != 0)
        return told < 0 ? -1 : 0;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__PlanDue body = MEDREP__PLAN_DUE__INIT;
    body.rep_id = (char *)r->id;
    body.kind = "week";
    body.period = week;
    body.due_ms = sc_local_ms(c->rg->tz, today, due_minute), body.has_due_ms = true;
    body.approver_id = (char *)r->dm_id;
    ev.body_case = MEDREP__EVENT__BODY_PLAN_DUE;
    ev.plan_due = &body;
    if (mr_tx_addv(c->tx, "SET", key, "1", "EX", "1209600", NULL) != 0)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    return sched_emit(c, &ev);
}

static int pace_rep(sched_ctx *c, const char *rep, Medrep__PaceCheckReply *out, char **names, size_t *nnames)
{
    mr_rep r;
    sc_norms n;
    int got = mr_md_get_rep(c->store, c->region, rep, &r);
    if (got <= 0)
        return got < 0 ? sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store)) : 0;
    if (sched_norms(c, r.team, &n) != 0 || week_due(c, &r) != 0)
        return -1;
    sc_period month;
    sched_current_month(c, &month);
    int64_t today;
    int minute;
    sc_local_of(c->rg->tz, c->now_ms, &today, &minute);
    att_acc acc = {0};
    sc_period upto = month;
    int rc = add_rep(c, rep, &upto, &n, &acc);
    int elapsed = field_days_between(c, month.first, today - 1), total = field_days_between(c, month.first, month.last);
    sc_attainment at;
    if (rc == 0)
        sc_attainment_compute(&n, acc.cls, acc.ncust, acc.calls, acc.ncalls, 1.0, elapsed, &at);
    for (int k = 0; rc == 0 && k < n.ncls; k++) {
        if (!n.cls[k].high_value || !at.cls[k].customers)
            continue;
        double per = n.cls[k].calls_per_month > 0 ? n.cls[k].calls_per_month : 1;
        int need_cust = (int)(n.cls[k].coverage_month * at.cls[k].customers + 0.999999);
        double required = per * need_cust, expected, actual;
        if (!sc_behind_pace(required, at.cls[k].done_calls, elapsed, total, n.pace_tolerance, &expected, &actual))
            continue;
        char key[200];
        int told = already_told(c, rep, n.cls[k].name, today, key, sizeof key);
        if (told < 0) {
            rc = -1;
            break;
        }
        if (!told && (mr_tx_addv(c->tx, "SET", key, "1", "EX", "172800", NULL) != 0 ||
                      emit_behind(c, rep, n.cls[k].name, &month, expected, actual) != 0))
            rc = -1;
        if (*nnames < 64 && (names[*nnames] = malloc(strlen(rep) + SC_CLASS_NAME_MAX + 2)))
            sprintf(names[(*nnames)++], "%s:%s", rep, n.cls[k].name);
    }
    (void)out;
    free(acc.cls);
    free(acc.calls);
    return rc;
}

/* Counts the check per local date (sched:pace:runs, hash date -> runs).
 * Always a write, so the reply is stored under the request id and the
 * ticker's date-named request runs once however often it is sent. */
static void count_run(sched_ctx *c)
{
    int64_t today;
    int minute, y, m, d;
    sc_local_of(c->rg->tz, c->now_ms, &today, &minute);
    mr_civil_from_days(today, &y, &m, &d);
    char key[96], date[16];
    mr_key(key, sizeof key, c->region, "sched:pace:runs");
    snprintf(date, sizeof date, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
    if (mr_tx_addv(c->tx, "HINCRBY", key, date, "1", NULL) != 0)
        sched_fail(c, MR_INTERNAL, "out of memory");
}

int sched_check_pace(mr_call *call)
{
    Medrep__PaceCheckRequest *req = mr_call_decode(call, &medrep__pace_check_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    char **reps = NULL, *names[64];
    size_t nnames = 0;
    long nreps = 0;
    Medrep__PaceCheckReply out = MEDREP__PACE_CHECK_REPLY__INIT;
    if (req->rep_id && req->rep_id[0] && !mr_md_id_valid(req->rep_id))
        sched_fail(&c, MR_INVALID_ARGUMENT, "rep_id: not a valid id");
    else if (c.code == MR_OK && (nreps = request_reps(&c, req->rep_id, NULL, &reps)) >= 0) {
        for (long i = 0; i < nreps && c.code == MR_OK; i++)
            pace_rep(&c, reps[i], &out, names, &nnames);
        if (c.code == MR_OK)
            count_run(&c);
        if (c.code == MR_OK) {
            out.behind = names;
            out.n_behind = nnames;
            mr_call_reply(call, &out.base);
        }
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    mr_md_free_ids(reps, nreps > 0 ? nreps : 0);
    medrep__pace_check_request__free_unpacked(req, NULL);
    if (c.code != MR_OK)
        return mr_call_fail(call, c.code, "%s", c.err);
    return call->code;
}
