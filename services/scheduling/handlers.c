/* handlers.c: the scheduling service's methods (protobuf request ->
 * checks -> replan.c / the core -> staged writes and events -> reply). */
#include "scheduling_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "events.h"
#include "masterdata.h"

#define DAY_MS 86400000LL

/* Replies with ctx's failure when it has one; returns the call's code. */
static int finish(mr_call *call, sched_ctx *c)
{
    if (c->code != MR_OK || call->code != MR_OK)
        sched_unlock(c);   /* nothing will be committed, the staged release neither */
    if (c->code != MR_OK)
        return mr_call_fail(call, c->code, "%s", c->err);
    return call->code;
}

static int cmp_start(const void *a, const void *b)
{
    const sched_call *x = a, *y = b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void period_range(const sched_ctx *c, const sc_period *p, int64_t *lo, int64_t *hi)
{
    *lo = sc_local_ms(c->rg->tz, p->first, 0);
    *hi = sc_local_ms(c->rg->tz, p->last + 1, 0);
}

/* The months a period touches (one or two). */
static int period_months(const sc_period *p, sc_period months[2])
{
    sc_period_month_of(p->first, &months[0]);
    sc_period_month_of(p->last, &months[1]);
    return months[0].first == months[1].first ? 1 : 2;
}

static int check_rep_id(mr_call *call, const char *rep)
{
    if (!rep || !mr_md_id_valid(rep))
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "rep_id: want 1..63 of [A-Za-z0-9._:-]");
    return MR_OK;
}

/* ---- Plan / GetPlan ---- */

/* Replies with the period's calls and its meeting stops (read here, so
 * ctx fails instead when Redis does). */
static void reply_plan(mr_call *call, sched_ctx *c, const char *rep, sched_calls *calls, const sc_period *period,
                       Medrep__PlanReply *r, const sc_shortfall *sf, int nsf)
{
    int64_t lo, hi;
    period_range(c, period, &lo, &hi);
    sched_stop *stops = NULL;
    int nst = sched_load_stops(c, rep, lo, hi, &stops);
    if (nst < 0)
        return;
    Medrep__PlanStop *sts = calloc((size_t)(nst ? nst : 1), sizeof *sts);
    Medrep__PlanStop **pst = calloc((size_t)(nst ? nst : 1), sizeof *pst);
    if (calls->n > 1)
        qsort(calls->v, (size_t)calls->n, sizeof *calls->v, cmp_start);
    Medrep__PlannedCall *pbs = calloc((size_t)(calls->n ? calls->n : 1), sizeof *pbs);
    Medrep__PlannedCall **pp = calloc((size_t)(calls->n ? calls->n : 1), sizeof *pp);
    char **objp = calloc((size_t)(calls->n ? calls->n : 1) * SCHED_OBJ_MAX, sizeof *objp);
    Medrep__Shortfall s[SC_SHORTFALLS_MAX], *ps[SC_SHORTFALLS_MAX];
    if (!pbs || !pp || !objp || !sts || !pst) {
        free(pbs);
        free(pp);
        free(objp);
        free(sts);
        free(pst);
        free(stops);
        mr_call_fail(call, MR_INTERNAL, "out of memory");
        return;
    }
    for (int i = 0; i < nst; i++) {
        medrep__plan_stop__init(&sts[i]);
        sts[i].kind = "meeting";
        sts[i].meeting_id = stops[i].meeting_id;
        sts[i].hospital_id = stops[i].hospital[0] ? stops[i].hospital : NULL;
        sts[i].start_ms = stops[i].start_ms, sts[i].has_start_ms = true;
        sts[i].end_ms = stops[i].end_ms, sts[i].has_end_ms = true;
        pst[i] = &sts[i];
    }
    size_t n = 0;
    for (int i = 0; i < calls->n; i++)
        if (calls->v[i].start_ms >= lo && calls->v[i].start_ms < hi) {
            sched_call_to_pb(&calls->v[i], &pbs[n], objp + n * SCHED_OBJ_MAX);
            pp[n] = &pbs[n];
            n++;
        }
    for (int i = 0; i < nsf && i < SC_SHORTFALLS_MAX; i++) {
        medrep__shortfall__init(&s[i]);
        s[i].norm = (char *)sf[i].norm;
        s[i].required = sf[i].required, s[i].has_required = true;
        s[i].planned = sf[i].planned, s[i].has_planned = true;
        ps[i] = &s[i];
    }
    r->calls = pp;
    r->n_calls = n;
    r->stops = pst;
    r->n_stops = (size_t)nst;
    r->shortfalls = ps;
    r->n_shortfalls = (size_t)(nsf < SC_SHORTFALLS_MAX ? nsf : SC_SHORTFALLS_MAX);
    r->period = (char *)period->text;
    r->timezone = (char *)mr_tz_name(c->rg->tz);
    mr_call_reply(call, &r->base);
    r->stops = NULL, r->n_stops = 0;
    free(pbs);
    free(pp);
    free(objp);
    free(sts);
    free(pst);
    free(stops);
}

static Medrep__PlanRequest *decode_plan(mr_call *call, sc_period *period)
{
    Medrep__PlanRequest *req = mr_call_decode(call, &medrep__plan_request__descriptor);
    if (!req)
        return NULL;
    char err[160];
    if (check_rep_id(call, req->rep_id) != MR_OK ||
        (sc_period_parse(req->period, period, err, sizeof err) != 0 &&
         mr_call_fail(call, MR_INVALID_ARGUMENT, "%s", err)) ||
        (period->kind == 'Q' &&
         mr_call_fail(call, MR_INVALID_ARGUMENT, "period: plan a month, a week or a day (QuarterPlan for a quarter)"))) {
        medrep__plan_request__free_unpacked(req, NULL);
        return NULL;
    }
    return req;
}

static int plan(mr_call *call)
{
    sc_period period, months[2];
    Medrep__PlanRequest *req = decode_plan(call, &period);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    c.plan_reason = "plan";
    sched_calls calls = {0};
    Medrep__PlanReply r = MEDREP__PLAN_REPLY__INIT;
    sc_shortfall sf[2 * SC_SHORTFALLS_MAX];
    int nsf = 0, total = 0;
    int nm = period_months(&period, months);
    for (int i = 0; c.code == MR_OK && i < nm; i++)
        if (sched_replan(&c, req->rep_id, &months[i], NULL, &calls, &r, sf + total, &nsf) == 0)
            total += nsf;
    if (c.code == MR_OK)
        reply_plan(call, &c, req->rep_id, &calls, &period, &r, sf, total);
    sched_calls_free(&calls);
    medrep__plan_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* The stored summary of a month: shortfalls and figures. */
static void load_summary(sched_ctx *c, const char *rep, const sc_period *month, Medrep__PlanReply *r,
                         sc_shortfall *sf, int *nsf)
{
    char key[200];
    mr_key(key, sizeof key, c->region, "sched:plan:%s:%s", rep, month->text);
    mr_val *v = mr_store_cmd(c->store, "GET %s", key);
    size_t len = 0;
    const char *data = v && mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, &len) : NULL;
    Medrep__PlanReply *s = data ? medrep__plan_reply__unpack(NULL, len, (const uint8_t *)data) : NULL;
    *nsf = 0;
    if (s) {
        r->travel_minutes = s->travel_minutes, r->has_travel_minutes = s->has_travel_minutes;
        r->idle_minutes = s->idle_minutes, r->has_idle_minutes = s->has_idle_minutes;
        r->norms_checked = s->norms_checked, r->has_norms_checked = s->has_norms_checked;
        r->norms_met = s->norms_met, r->has_norms_met = s->has_norms_met;
        r->planned_ms = s->planned_ms, r->has_planned_ms = s->has_planned_ms;
        for (size_t i = 0; i < s->n_shortfalls && i < SC_SHORTFALLS_MAX; i++) {
            snprintf(sf[i].norm, sizeof sf[i].norm, "%s", s->shortfalls[i]->norm ? s->shortfalls[i]->norm : "");
            sf[i].required = s->shortfalls[i]->required;
            sf[i].planned = s->shortfalls[i]->planned;
            (*nsf)++;
        }
        medrep__plan_reply__free_unpacked(s, NULL);
    }
    mr_val_free(&v);
}

static int get_plan(mr_call *call)
{
    sc_period period, months[2];
    Medrep__PlanRequest *req = decode_plan(call, &period);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    sched_calls calls = {0};
    int64_t lo, hi;
    Medrep__PlanReply r = MEDREP__PLAN_REPLY__INIT;
    sc_shortfall sf[SC_SHORTFALLS_MAX];
    int nsf = 0;
    if (c.code == MR_OK) {
        period_range(&c, &period, &lo, &hi);
        period_months(&period, months);
        load_summary(&c, req->rep_id, &months[0], &r, sf, &nsf);
        if (sched_load_calls(&c, req->rep_id, lo, hi, NULL, &calls) == 0)
            reply_plan(call, &c, req->rep_id, &calls, &period, &r, sf, nsf);
    }
    sched_calls_free(&calls);
    medrep__plan_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* Replans the months of the given instants (not past ones) with ov. */
static int replan_at(sched_ctx *c, const char *rep, const int64_t *at, int nat, const sched_overrides *ov)
{
    int64_t done[4];
    int ndone = 0;
    for (int i = 0; i < nat && ndone < 4; i++) {
        int64_t day;
        int minute;
        sc_local_of(c->rg->tz, at[i], &day, &minute);
        sc_period month;
        sc_period_month_of(day, &month);
        bool seen = false;
        for (int k = 0; k < ndone; k++)
            seen |= done[k] == month.first;
        if (seen)
            continue;
        done[ndone++] = month.first;
        if (sched_replan(c, rep, &month, ov, NULL, NULL, NULL, NULL) != 0)
            return -1;
    }
    return 0;
}

/* ---- LogCall ---- */

typedef struct {
    mr_customer cust;
    sc_norms norms;
    mr_rep rep;
} call_subject;

/* The rep and the customer exist and the customer is in the rep's territory. */
static int load_subject(sched_ctx *c, const char *rep, const char *customer, call_subject *s)
{
    int r1 = mr_md_get_rep(c->store, c->region, rep, &s->rep);
    int r2 = r1 > 0 ? mr_md_get_customer(c->store, c->region, customer, &s->cust) : 0;
    if (r1 < 0 || r2 < 0)
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    if (r1 == 0)
        return sched_fail(c, MR_NOT_FOUND, "no rep '%s'", rep);
    if (r2 == 0)
        return sched_fail(c, MR_NOT_FOUND, "no customer '%s'", customer);
    if (strcmp(s->cust.rep_id, rep))
        return sched_fail(c, MR_FAILED_PRECONDITION, "customer '%s' is not in rep '%s''s territory",
                          customer, rep);
    return sched_norms(c, s->rep.team, &s->norms);
}

/* A talk next to a PIM or meeting (DOMAIN.md 3.3) counts as a call and
 * may be as short as talk_minutes_min: a planned talk, or a report whose
 * start is within talk_window minutes of one of the rep's PIMs or
 * meetings held at a hospital. 1 yes, 0 no, -1 failed. */
static int is_talk(sched_ctx *c, const Medrep__CallReport *r, const sched_call *found, const sc_norms *n)
{
    if (!strcmp(found->origin, "pim_talk"))
        return 1;
    if (n->talks_per_event <= 0 || !r->has_start_ms)
        return 0;
    int64_t w = (int64_t)n->talk_window * 60000, lo = r->start_ms - w - (int64_t)n->pim_minutes * 60000;
    sc_busy *busy = NULL;
    int nb = sched_load_busy(c, r->rep_id, r->start_ms - w, r->start_ms + w, NULL, &busy), near = 0;
    for (int i = 0; i < nb; i++)
        near |= busy[i].place[0] && busy[i].start_ms - w <= r->start_ms && r->start_ms <= busy[i].end_ms + w;
    free(busy);
    sched_calls pims = {0};
    if (nb < 0 || sched_load_calls(c, r->rep_id, lo, r->start_ms + w + 1, NULL, &pims) != 0) {
        sched_calls_free(&pims);
        return -1;
    }
    for (int i = 0; i < pims.n; i++) {
        const sched_call *p = &pims.v[i];
        int64_t end = p->start_ms + (int64_t)p->duration * 60000;
        near |= !strcmp(p->kind, "pim") && strcmp(p->state, "cancelled") && p->start_ms - w <= r->start_ms &&
                r->start_ms <= end + w;
    }
    sched_calls_free(&pims);
    return near;
}

static int check_report(sched_ctx *c, const Medrep__CallReport *r, const sc_norms *n, bool talk)
{
    int64_t oldest = c->now_ms - (int64_t)n->backdate_days * DAY_MS;
    if (!r->has_start_ms || r->start_ms <= 0)
        return sched_fail(c, MR_INVALID_ARGUMENT, "start_ms: required");
    if (r->start_ms > c->now_ms)
        return sched_fail(c, MR_INVALID_ARGUMENT, "start_ms: a call is reported after it happened");
    if (r->start_ms < oldest)
        return sched_fail(c, MR_FAILED_PRECONDITION, "start_ms: older than the backdating limit of %d days",
                          n->backdate_days);
    if ((int)r->n_objectives < n->min_objectives)
        return sched_fail(c, MR_INVALID_ARGUMENT, "objectives: at least %d, got %zu", n->min_objectives,
                          r->n_objectives);
    for (size_t i = 0; i < r->n_objectives; i++)
        if (!r->objectives[i] || !r->objectives[i][0])
            return sched_fail(c, MR_INVALID_ARGUMENT, "objectives: an empty objective");
    int least = talk ? n->talk_minutes_min : n->call_minutes_min;
    if (r->has_duration_min && (r->duration_min < least || r->duration_min > n->call_minutes_max))
        return sched_fail(c, MR_INVALID_ARGUMENT, "duration_min: want %d..%d%s", least, n->call_minutes_max,
                          talk ? " (a talk next to a PIM or meeting)" : "");
    if (r->has_adoption_stage_after && (r->adoption_stage_after < -1 || r->adoption_stage_after > 4))
        return sched_fail(c, MR_INVALID_ARGUMENT, "adoption_stage_after: want -1..4");
    if (r->has_adoption_stage_after && r->adoption_stage_after >= 0 && (!r->product_id || !r->product_id[0]))
        return sched_fail(c, MR_INVALID_ARGUMENT, "product_id: required with an adoption stage");
    if (r->product_id && r->product_id[0] && !mr_md_id_valid(r->product_id))
        return sched_fail(c, MR_INVALID_ARGUMENT, "product_id: not a valid id");
    if (r->has_next_appointment_ms && r->next_appointment_ms != 0 && r->next_appointment_ms <= r->start_ms)
        return sched_fail(c, MR_INVALID_ARGUMENT, "next_appointment_ms: must be after the call");
    return 0;
}

/* The planned call being reported, or a new record for an unplanned one. */
static int find_reported(sched_ctx *c, const Medrep__CallReport *r, sched_call *out)
{
    char id[192];
    if (r->call_id && r->call_id[0])
        snprintf(id, sizeof id, "%s", r->call_id);
    else
        snprintf(id, sizeof id, "%s.%s.%lld", r->rep_id, r->customer_id, (long long)r->start_ms);
    if (!sched_id_valid(id))
        return sched_fail(c, MR_INVALID_ARGUMENT, "call_id: not a valid id");
    int got = sched_get_call(c, id, out);
    if (got < 0)
        return -1;
    if (got == 0 && r->call_id && r->call_id[0])
        return sched_fail(c, MR_NOT_FOUND, "no call '%s'", id);
    if (got == 1 && !strcmp(out->state, "done"))
        return sched_fail(c, MR_FAILED_PRECONDITION, "call '%s' was submitted and is locked", id);
    if (got == 1 && !strcmp(out->state, "cancelled"))
        return sched_fail(c, MR_FAILED_PRECONDITION, "call '%s' was cancelled", id);
    if (got == 1 && (strcmp(out->rep, r->rep_id) || strcmp(out->customer, r->customer_id)))
        return sched_fail(c, MR_INVALID_ARGUMENT, "call '%s' belongs to another rep or customer", id);
    if (got == 0) {
        memset(out, 0, sizeof *out);
        snprintf(out->id, sizeof out->id, "%s", id);
        snprintf(out->origin, sizeof out->origin, "unplanned");
        snprintf(out->kind, sizeof out->kind, "call");
    }
    return 0;
}

static int stage_report(sched_ctx *c, const Medrep__CallReport *r, const char *call_id)
{
    Medrep__CallReport copy = *r;
    copy.call_id = (char *)call_id;
    size_t len = medrep__call_report__get_packed_size(&copy);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    medrep__call_report__pack(&copy, buf);
    char key[256];
    mr_key(key, sizeof key, c->region, "sched:report:%s", call_id);
    const char *argv[] = {"SET", key, (const char *)buf};
    size_t lens[] = {3, strlen(key), len};
    int rc = mr_tx_add(c->tx, 3, argv, lens);
    free(buf);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "out of memory");
}

/* Adoption stage before (-1 unknown) and after; stages the change. */
static int stage_adoption(sched_ctx *c, const Medrep__CallReport *r, int *before, int *after)
{
    *before = *after = -1;
    if (!r->product_id || !r->product_id[0])
        return 0;
    char key[160];
    mr_key(key, sizeof key, c->region, "sched:stage:%s", r->customer_id);
    mr_val *v = mr_store_cmd(c->store, "HGET %s %s", key, r->product_id);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    }
    const char *t = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, NULL) : NULL;
    *before = t ? atoi(t) : -1;
    mr_val_free(&v);
    *after = r->has_adoption_stage_after && r->adoption_stage_after >= 0 ? r->adoption_stage_after : *before;
    if (*after == *before)
        return 0;
    char val[16];
    snprintf(val, sizeof val, "%d", *after);
    return mr_tx_addv(c->tx, "HSET", key, r->product_id, val, NULL) == 0 ? 0 : sched_fail(c, MR_INTERNAL, "oom");
}

static int emit_planned(sched_ctx *c, const sched_call *p)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CallPlanned body = MEDREP__CALL_PLANNED__INIT;
    body.call_id = (char *)p->id;
    body.rep_id = (char *)p->rep;
    body.customer_id = (char *)p->customer;
    body.start_ms = p->start_ms, body.has_start_ms = true;
    body.origin = (char *)p->origin;
    ev.body_case = MEDREP__EVENT__BODY_CALL_PLANNED;
    ev.call_planned = &body;
    return sched_emit(c, &ev);
}

/* The next appointment becomes a pinned planned call. */
static int plan_next(sched_ctx *c, const Medrep__CallReport *r, const call_subject *s, sched_call *next)
{
    memset(next, 0, sizeof *next);
    snprintf(next->id, sizeof next->id, "%s.%s.%lld", r->rep_id, r->customer_id, (long long)r->next_appointment_ms);
    snprintf(next->rep, sizeof next->rep, "%s", r->rep_id);
    snprintf(next->customer, sizeof next->customer, "%s", r->customer_id);
    snprintf(next->customer_name, sizeof next->customer_name, "%s", s->cust.name);
    snprintf(next->hospital, sizeof next->hospital, "%s", s->cust.hospital_id);
    snprintf(next->dept, sizeof next->dept, "%s", s->cust.department_id);
    snprintf(next->product, sizeof next->product, "%s", r->product_id ? r->product_id : "");
    snprintf(next->state, sizeof next->state, "planned");
    snprintf(next->origin, sizeof next->origin, "next_appointment");
    snprintf(next->kind, sizeof next->kind, "call");
    next->start_ms = r->next_appointment_ms;
    next->duration = s->norms.call_minutes;
    next->pinned = true;
    return sched_stage_call(c, next) == 0 && emit_planned(c, next) == 0 ? 0 : -1;
}

static int emit_logged(sched_ctx *c, const Medrep__CallReport *r, const char *id, int before, int after)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CallLogged body = MEDREP__CALL_LOGGED__INIT;
    body.call_id = (char *)id;
    body.rep_id = r->rep_id;
    body.customer_id = r->customer_id;
    body.product_id = r->product_id;
    body.start_ms = r->start_ms, body.has_start_ms = true;
    body.adoption_stage_before = before, body.has_adoption_stage_before = true;
    body.adoption_stage_after = after, body.has_adoption_stage_after = true;
    body.next_appointment_ms = r->next_appointment_ms, body.has_next_appointment_ms = r->has_next_appointment_ms;
    ev.body_case = MEDREP__EVENT__BODY_CALL_LOGGED;
    ev.call_logged = &body;
    return sched_emit(c, &ev);
}

static void log_call_in(sched_ctx *c, const Medrep__CallReport *r, Medrep__LogCallReply *out,
                        sched_call *done, sched_call *next)
{
    call_subject *s = calloc(1, sizeof *s);
    int before, after;
    if (!s) {
        sched_fail(c, MR_INTERNAL, "out of memory");
        return;
    }
    int talk = 0;
    if (load_subject(c, r->rep_id, r->customer_id, s) != 0 || find_reported(c, r, done) != 0 ||
        (talk = is_talk(c, r, done, &s->norms)) < 0 || check_report(c, r, &s->norms, talk == 1) != 0 ||
        stage_adoption(c, r, &before, &after) != 0) {
        free(s);
        return;
    }
    if (talk == 1 && !strcmp(done->origin, "unplanned"))
        snprintf(done->origin, sizeof done->origin, "pim_talk");
    snprintf(done->rep, sizeof done->rep, "%s", r->rep_id);
    snprintf(done->customer, sizeof done->customer, "%s", r->customer_id);
    snprintf(done->customer_name, sizeof done->customer_name, "%s", s->cust.name);
    snprintf(done->hospital, sizeof done->hospital, "%s", s->cust.hospital_id);
    snprintf(done->state, sizeof done->state, "done");
    if (!done->dept[0])
        snprintf(done->dept, sizeof done->dept, "%s", s->cust.department_id);
    done->duration = r->has_duration_min ? r->duration_min : (done->duration ? done->duration : s->norms.call_minutes);
    if (strcmp(done->origin, "unplanned") && done->start_ms != r->start_ms)
        sched_stage_delete_call(c, done);   /* the index moves with the time */
    done->start_ms = r->start_ms;
    if (sched_stage_call(c, done) != 0 || stage_report(c, r, done->id) != 0 ||
        emit_logged(c, r, done->id, before, after) != 0) {
        free(s);
        return;
    }
    out->call_id = done->id;
    if (r->has_next_appointment_ms && r->next_appointment_ms > 0 && plan_next(c, r, s, next) == 0)
        out->next_call_id = next->id;
    free(s);
}

static int log_call(mr_call *call)
{
    Medrep__LogCallRequest *req = mr_call_decode(call, &medrep__log_call_request__descriptor);
    if (!req)
        return call->code;
    const Medrep__CallReport *r = req->report;
    if (!r || check_rep_id(call, r->rep_id) != MR_OK || !r->customer_id || !mr_md_id_valid(r->customer_id)) {
        if (call->code == MR_OK)
            mr_call_fail(call, MR_INVALID_ARGUMENT, r ? "customer_id: not a valid id" : "report: required");
        medrep__log_call_request__free_unpacked(req, NULL);
        return call->code;
    }
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    Medrep__LogCallReply out = MEDREP__LOG_CALL_REPLY__INIT;
    sched_call *two = calloc(2, sizeof *two);
    if (!two)
        sched_fail(&c, MR_INTERNAL, "out of memory");
    else if (c.code == MR_OK)
        log_call_in(&c, r, &out, &two[0], &two[1]);
    if (c.code == MR_OK)
        mr_call_reply(call, &out.base);
    free(two);
    medrep__log_call_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* ---- GetCall ---- */

/* One stored call, whatever its state: how other services (the gateway,
 * to find a call's owner) see a call without reading scheduling's keys. */
static int get_call(mr_call *call)
{
    Medrep__GetCallRequest *req = mr_call_decode(call, &medrep__get_call_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    sched_call gc;
    if (c.code == MR_OK) {
        if (!sched_id_valid(req->call_id)) {
            sched_fail(&c, MR_INVALID_ARGUMENT, "call_id: want 1..191 of [A-Za-z0-9._:-]");
        } else {
            int got = sched_get_call(&c, req->call_id, &gc);
            if (got == 0) {
                sched_fail(&c, MR_NOT_FOUND, "no call '%s'", req->call_id);
            } else if (got == 1) {
                Medrep__GetCallReply out = MEDREP__GET_CALL_REPLY__INIT;
                Medrep__PlannedCall pb;
                char *objp[SCHED_OBJ_MAX];
                sched_call_to_pb(&gc, &pb, objp);
                out.call = &pb;
                mr_call_reply(call, &out.base);
            }
        }
    }
    medrep__get_call_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* ---- CancelCall / UpdateCall / AddCall ---- */

static int load_planned(sched_ctx *c, const char *id, sched_call *out)
{
    if (!sched_id_valid(id))
        return sched_fail(c, MR_INVALID_ARGUMENT, "call_id: not a valid id");
    int got = sched_get_call(c, id, out);
    if (got < 0)
        return -1;
    if (got == 0)
        return sched_fail(c, MR_NOT_FOUND, "no call '%s'", id);
    if (strcmp(out->state, "planned"))
        return sched_fail(c, MR_FAILED_PRECONDITION, "call '%s' is %s, not planned", id, out->state);
    return 0;
}

static int cancel_call(mr_call *call)
{
    Medrep__CancelCallRequest *req = mr_call_decode(call, &medrep__cancel_call_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    sched_call cc;
    if (c.code == MR_OK && load_planned(&c, req->call_id, &cc) == 0) {
        snprintf(cc.state, sizeof cc.state, "cancelled");
        Medrep__Event ev = MEDREP__EVENT__INIT;
        Medrep__CallCancelled body = MEDREP__CALL_CANCELLED__INIT;
        body.call_id = cc.id;
        body.rep_id = cc.rep;
        body.customer_id = cc.customer;
        body.start_ms = cc.start_ms, body.has_start_ms = true;
        body.reason = req->reason;
        ev.body_case = MEDREP__EVENT__BODY_CALL_CANCELLED;
        ev.call_cancelled = &body;
        sched_overrides ov = {.calls = &cc, .ncalls = 1};
        if (sched_stage_call(&c, &cc) == 0 && sched_emit(&c, &ev) == 0 &&
            replan_at(&c, cc.rep, &cc.start_ms, 1, &ov) == 0) {
            Medrep__CancelCallReply out = MEDREP__CANCEL_CALL_REPLY__INIT;
            mr_call_reply(call, &out.base);
        }
    }
    medrep__cancel_call_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

static int update_call(mr_call *call)
{
    Medrep__UpdateCallRequest *req = mr_call_decode(call, &medrep__update_call_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    sched_call uc;
    c.plan_reason = "update_call";
    if (c.code == MR_OK && load_planned(&c, req->call_id, &uc) == 0) {
        int64_t at[2] = {uc.start_ms, uc.start_ms};
        bool was_pinned = uc.pinned;
        if (req->has_start_ms && req->start_ms != 0) {
            if (req->start_ms < c.now_ms)
                sched_fail(&c, MR_INVALID_ARGUMENT, "start_ms: a call cannot move into the past");
            at[1] = uc.start_ms = req->start_ms;
            uc.pinned = true;   /* a moved call stays where the rep put it */
        }
        if (req->has_pinned)
            uc.pinned = req->pinned;
        c.plan_bias = at[1] != at[0] || uc.pinned != was_pinned ? 1 : 0;   /* the call itself */
        sched_overrides ov = {.calls = &uc, .ncalls = 1};
        if (c.code == MR_OK && sched_stage_delete_call(&c, &uc) == 0 && sched_stage_call(&c, &uc) == 0 &&
            replan_at(&c, uc.rep, at, 2, &ov) == 0) {
            Medrep__UpdateCallReply out = MEDREP__UPDATE_CALL_REPLY__INIT;
            Medrep__PlannedCall pb;
            char *objp[SCHED_OBJ_MAX];
            sched_call_to_pb(&uc, &pb, objp);
            out.call = &pb;
            mr_call_reply(call, &out.base);
        }
    }
    medrep__update_call_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

static int add_call(mr_call *call)
{
    Medrep__AddCallRequest *req = mr_call_decode(call, &medrep__add_call_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    call_subject *s = calloc(1, sizeof *s);
    sched_call *ac = calloc(1, sizeof *ac);
    if (!s || !ac)
        sched_fail(&c, MR_INTERNAL, "out of memory");
    else if (check_rep_id(call, req->rep_id) != MR_OK || !req->customer_id || !mr_md_id_valid(req->customer_id))
        sched_fail(&c, MR_INVALID_ARGUMENT, "rep_id and customer_id: want valid ids");
    else if (!req->has_start_ms || req->start_ms < c.now_ms)
        sched_fail(&c, MR_INVALID_ARGUMENT, "start_ms: required, not in the past");
    else if (c.code == MR_OK && load_subject(&c, req->rep_id, req->customer_id, s) == 0) {
        int dur = req->has_duration_min ? req->duration_min : s->norms.call_minutes;
        if (dur < s->norms.call_minutes_min || dur > s->norms.call_minutes_max)
            sched_fail(&c, MR_INVALID_ARGUMENT, "duration_min: want %d..%d", s->norms.call_minutes_min,
                       s->norms.call_minutes_max);
        snprintf(ac->id, sizeof ac->id, "%s.%s.%lld", req->rep_id, req->customer_id, (long long)req->start_ms);
        snprintf(ac->rep, sizeof ac->rep, "%s", req->rep_id);
        snprintf(ac->customer, sizeof ac->customer, "%s", req->customer_id);
        snprintf(ac->customer_name, sizeof ac->customer_name, "%s", s->cust.name);
        snprintf(ac->hospital, sizeof ac->hospital, "%s", s->cust.hospital_id);
        snprintf(ac->dept, sizeof ac->dept, "%s", s->cust.department_id);
        snprintf(ac->state, sizeof ac->state, "planned");
        snprintf(ac->origin, sizeof ac->origin, "manual");
        snprintf(ac->kind, sizeof ac->kind, "call");
        ac->start_ms = req->start_ms;
        ac->duration = dur;
        ac->pinned = true;
        c.plan_reason = "add_call", c.plan_bias = 1;   /* the added call */
        sched_overrides ov = {.calls = ac, .ncalls = 1};
        if (c.code == MR_OK && sched_stage_call(&c, ac) == 0 && emit_planned(&c, ac) == 0 &&
            replan_at(&c, ac->rep, &ac->start_ms, 1, &ov) == 0) {
            Medrep__AddCallReply out = MEDREP__ADD_CALL_REPLY__INIT;
            out.call_id = ac->id;
            mr_call_reply(call, &out.base);
        }
    }
    free(s);
    free(ac);
    medrep__add_call_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* ---- AddTimeOff ---- */

static int add_time_off(mr_call *call)
{
    Medrep__TimeOffRequest *req = mr_call_decode(call, &medrep__time_off_request__descriptor);
    if (!req)
        return call->code;
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    c.plan_reason = "time_off";
    mr_rep rep;
    if (check_rep_id(call, req->rep_id) != MR_OK)
        ;
    else if (!req->has_start_ms || !req->has_end_ms || req->end_ms <= req->start_ms ||
             req->end_ms - req->start_ms > 93 * DAY_MS)
        sched_fail(&c, MR_INVALID_ARGUMENT, "start_ms < end_ms required, at most 93 days apart");
    else if (c.code == MR_OK) {
        int got = mr_md_get_rep(c.store, c.region, req->rep_id, &rep);
        if (got <= 0)
            sched_fail(&c, got < 0 ? MR_UNAVAILABLE : MR_NOT_FOUND, "rep '%s': %s", req->rep_id,
                       got < 0 ? mr_store_error(c.store) : "not found");
        char key[160], tag[64], val[64];
        mr_key(key, sizeof key, c.region, "sched:rep:%s:busy", req->rep_id);
        snprintf(tag, sizeof tag, "off:%lld-%lld", (long long)req->start_ms, (long long)req->end_ms);
        snprintf(val, sizeof val, "%lld:%lld", (long long)req->start_ms, (long long)req->end_ms);
        sc_busy b = {.start_ms = req->start_ms, .end_ms = req->end_ms};
        sched_overrides ov = {.busy = &b, .nbusy = 1};
        int64_t at[5], from = req->start_ms > c.now_ms ? req->start_ms : c.now_ms;
        int nat = 0;
        for (int64_t t = from; t < req->end_ms && nat < 4; t += 28 * DAY_MS)
            at[nat++] = t;
        if (req->end_ms - 1 >= from)
            at[nat++] = req->end_ms - 1;
        if (c.code == MR_OK && mr_tx_addv(c.tx, "HSET", key, tag, val, NULL) == 0 &&
            replan_at(&c, req->rep_id, at, nat, &ov) == 0 && c.code == MR_OK) {
            Medrep__TimeOffReply out = MEDREP__TIME_OFF_REPLY__INIT;
            mr_call_reply(call, &out.base);
        }
    }
    medrep__time_off_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* ---- ExportIcal ---- */

static int export_ical(mr_call *call)
{
    sc_period period;
    Medrep__PlanIcalRequest *req = mr_call_decode(call, &medrep__plan_ical_request__descriptor);
    if (!req)
        return call->code;
    char err[160];
    sched_ctx c;
    sched_ctx_from_call(&c, call);
    sched_calls calls = {0};
    if (check_rep_id(call, req->rep_id) != MR_OK)
        ;
    else if (sc_period_parse(req->period, &period, err, sizeof err) != 0)
        sched_fail(&c, MR_INVALID_ARGUMENT, "%s", err);
    else if (c.code == MR_OK) {
        int64_t lo, hi;
        period_range(&c, &period, &lo, &hi);
        if (sched_load_calls(&c, req->rep_id, lo, hi, NULL, &calls) == 0) {
            if (calls.n > 1)
                qsort(calls.v, (size_t)calls.n, sizeof *calls.v, cmp_start);
            char *ics = sched_ical(&calls, mr_tz_name(c.rg->tz), c.now_ms);
            if (!ics)
                sched_fail(&c, MR_INTERNAL, "iCalendar export failed");
            else {
                Medrep__PlanIcalReply out = MEDREP__PLAN_ICAL_REPLY__INIT;
                out.ics = ics;
                mr_call_reply(call, &out.base);
                free(ics);
            }
        }
    }
    sched_calls_free(&calls);
    medrep__plan_ical_request__free_unpacked(req, NULL);
    return finish(call, &c);
}

/* ---- SetTravelTimes ---- */

static bool place_valid(const char *id)
{
    return id && (mr_md_id_valid(id) || (!strncmp(id, "home:", 5) && mr_md_id_valid(id + 5)));
}

static int set_travel_times(mr_call *call)
{
    Medrep__SetTravelTimesRequest *req = mr_call_decode(call, &medrep__set_travel_times_request__descriptor);
    if (!req)
        return call->code;
    char key[64];
    mr_key(key, sizeof key, call->region, "sched:travel");
    for (size_t i = 0; i < req->n_times && call->code == MR_OK; i++) {
        const Medrep__TravelTime *t = req->times[i];
        if (!place_valid(t->from_id) || !place_valid(t->to_id) || !t->has_minutes || t->minutes > 24 * 60)
            mr_call_fail(call, MR_INVALID_ARGUMENT, "times[%zu]: want from_id, to_id (hospital or home:<rep>) "
                         "and minutes up to 1440", i);
    }
    for (size_t i = 0; i < req->n_times && call->code == MR_OK; i++) {
        const Medrep__TravelTime *t = req->times[i];
        char field[2 * MR_ID_MAX + 16], val[16];
        snprintf(field, sizeof field, "%s>%s", t->from_id, t->to_id);
        snprintf(val, sizeof val, "%d", t->minutes);
        if ((t->minutes >= 0 ? mr_tx_addv(call->tx, "HSET", key, field, val, NULL)
                             : mr_tx_addv(call->tx, "HDEL", key, field, NULL)) != 0)
            mr_call_fail(call, MR_INTERNAL, "out of memory");
    }
    if (call->code == MR_OK) {
        Medrep__SetTravelTimesReply out = MEDREP__SET_TRAVEL_TIMES_REPLY__INIT;
        out.stored = (int32_t)req->n_times, out.has_stored = true;
        mr_call_reply(call, &out.base);
    }
    medrep__set_travel_times_request__free_unpacked(req, NULL);
    return call->code;
}

/* Attainment and the pace check live in attain.c. */
int sched_attainment(mr_call *call);
int sched_check_pace(mr_call *call);
/* The quarter plan lives in quarter.c. */
int sched_quarter_plan(mr_call *call);
int sched_approve_quarter(mr_call *call);

const mr_method sched_methods[] = {
    {"Plan", plan, false},
    {"GetPlan", get_plan, true},
    {"GetCall", get_call, true},
    {"LogCall", log_call, false},
    {"CancelCall", cancel_call, false},
    {"UpdateCall", update_call, false},
    {"AddCall", add_call, false},
    {"AddTimeOff", add_time_off, false},
    {"Attainment", sched_attainment, true},
    {"CheckPace", sched_check_pace, false},
    {"ExportIcal", export_ical, true},
    {"QuarterPlan", sched_quarter_plan, false},
    {"ApproveQuarter", sched_approve_quarter, false},
    {"SetTravelTimes", set_travel_times, false},
    {"ReplanDirty", sched_replan_dirty, false},
};
const size_t sched_method_count = sizeof sched_methods / sizeof sched_methods[0];
