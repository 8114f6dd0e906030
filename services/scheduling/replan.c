/* replan.c: (re)plans the rest of a rep's month: reads the inputs (master
 * data through masterdata.h, segments, stored calls, time off, meetings,
 * the departments' meeting moments as good call times), builds the
 * core's problem, runs the planner, and stages the changes: the
 * replaceable planned calls (and talks) of the remaining days are deleted
 * and the new plan's calls written; done, pinned, added and past calls
 * stay. A meeting held at a hospital becomes a fixed stop there. When
 * calls of the month changed (net: a call planned again as it was is no
 * change), PlanChanged is staged in the same tx (the unit's reason). */
#include "scheduling_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "masterdata.h"

#define HOSPITALS_MAX 255

typedef struct {
    mr_rep rep;
    sc_norms norms;
    mr_customer *cust;
    int ncust;
    mr_hospital hosp[HOSPITALS_MAX];
    int nhosp;
    int *travel;
    sc_week_hours *opening;
    sc_visit *visits;
    sc_day *days;
    int ndays;
    sc_call *fixed;
    int nfixed;
    sc_call *excluded;          /* cancelled calls: not again that day */
    int nexcluded;
    sched_calls month;          /* stored calls of the month (with overrides) */
    sched_calls before;         /* done calls earlier in the quarter */
    sc_busy *busy;              /* time off and meetings overlapping the month */
    int nbusy;
    int64_t today;
    int minute_now;
    bool *gone;                 /* per month call: deleted as replaceable, not planned again */
} inputs;

static void inputs_free(inputs *in)
{
    free(in->cust);
    free(in->travel);
    free(in->opening);
    free(in->visits);
    free(in->days);
    free(in->fixed);
    free(in->excluded);
    free(in->gone);
    sched_calls_free(&in->month);
    sched_calls_free(&in->before);
    free(in->busy);
}

void sched_current_month(sched_ctx *c, sc_period *out)
{
    int64_t today;
    int minute;
    sc_local_of(c->rg->tz, c->now_ms, &today, &minute);
    sc_period_month_of(today, out);
}

static int hospital_loc(const inputs *in, const char *id)
{
    for (int i = 0; i < in->nhosp; i++)
        if (!strcmp(in->hosp[i].id, id))
            return i + 1;
    return -1;
}

static int customer_index(const inputs *in, const char *id)
{
    for (int i = 0; i < in->ncust; i++)
        if (!strcmp(in->cust[i].id, id))
            return i;
    return -1;
}

static int add_hospital(sched_ctx *c, inputs *in, const char *id)
{
    if (!id[0] || hospital_loc(in, id) > 0 || in->nhosp >= HOSPITALS_MAX)
        return 0;
    int rc = mr_md_get_hospital(c->store, c->region, id, &in->hosp[in->nhosp]);
    if (rc < 0)
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    in->nhosp += rc;
    return 0;
}

static int load_customers(sched_ctx *c, inputs *in, const char *rep)
{
    char idx[160];
    char **ids = NULL;
    mr_md_index(idx, sizeof idx, "rep", rep, "customers");
    long n = mr_md_list(c->store, c->region, idx, &ids);
    if (n < 0)
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    in->cust = calloc((size_t)(n ? n : 1), sizeof *in->cust);
    for (long i = 0; in->cust && i < n; i++) {
        int rc = mr_md_get_customer(c->store, c->region, ids[i], &in->cust[in->ncust]);
        if (rc < 0) {
            sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
            break;
        }
        if (rc == 1 && add_hospital(c, in, in->cust[in->ncust].hospital_id) != 0)
            break;
        in->ncust += rc == 1;
    }
    mr_md_free_ids(ids, n);
    if (!in->cust)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    return c->code == MR_OK ? 0 : -1;
}

/* Supplied travel minutes override the speed model where given. */
static int supplied_travel(sched_ctx *c, inputs *in)
{
    int nloc = in->nhosp + 1, n = 0;
    const char **argv = calloc((size_t)(nloc * nloc + 2), sizeof *argv);
    char (*fields)[2 * MR_ID_MAX + 16] = calloc((size_t)(nloc * nloc), sizeof *fields);
    char key[64], home[MR_ID_MAX + 8];
    if (!argv || !fields) {
        free(argv);
        free(fields);
        return sched_fail(c, MR_INTERNAL, "out of memory");
    }
    mr_key(key, sizeof key, c->region, "sched:travel");
    snprintf(home, sizeof home, "home:%s", in->rep.id);
    argv[0] = "HMGET";
    argv[1] = key;
    for (int a = 0; a < nloc; a++)
        for (int b = 0; b < nloc; b++) {
            snprintf(fields[a * nloc + b], sizeof fields[0], "%s>%s", a ? in->hosp[a - 1].id : home,
                     b ? in->hosp[b - 1].id : home);
            argv[2 + n++] = fields[a * nloc + b];
        }
    mr_val *v = mr_store_cmdv(c->store, n + 2, argv, NULL);
    int rc = 0;
    if (mr_val_is_error(v))
        rc = sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    for (int i = 0; rc == 0 && i < n && i < (int)mr_val_count(v); i++) {
        const char *t = mr_val_str(mr_val_at(v, (size_t)i), NULL);
        if (t && atoi(t) >= 0)
            in->travel[i] = atoi(t);
    }
    mr_val_free(&v);
    free(argv);
    free(fields);
    return rc;
}

static int build_places(inputs *in)
{
    int nloc = in->nhosp + 1;
    in->travel = calloc((size_t)nloc * (size_t)nloc, sizeof *in->travel);
    in->opening = calloc((size_t)nloc, sizeof *in->opening);
    if (!in->travel || !in->opening)
        return -1;
    in->opening[0].any = true;
    for (int a = 0; a < nloc; a++) {
        double la = a ? in->hosp[a - 1].lat : in->rep.home_lat, oa = a ? in->hosp[a - 1].lon : in->rep.home_lon;
        if (a) {
            char err[128];
            if (sc_hours_parse(in->hosp[a - 1].opening_hours, &in->opening[a], err, sizeof err) != 0)
                in->opening[a].any = true;   /* unreadable hours do not block planning */
        }
        for (int b = 0; b < nloc; b++) {
            double lb = b ? in->hosp[b - 1].lat : in->rep.home_lat, ob = b ? in->hosp[b - 1].lon : in->rep.home_lon;
            in->travel[a * nloc + b] =
                a == b ? (a ? in->norms.same_site_minutes : 0)
                       : sc_travel_minutes(la, oa, lb, ob, in->norms.speed_kmh, in->norms.road_factor);
        }
    }
    return 0;
}

/* The good moments of a customer's department: its meeting moments
 * named in [scheduling] good_moments (scoped by dept:, hospital:, team:,
 * region:; default "handover,rounds_end"; "none" turns them off). The
 * last department read is kept, as customers come grouped. */
typedef struct {
    char dept[MR_ID_MAX];
    sc_week_hours hours;
} moment_cache;

static int dept_moments(sched_ctx *c, const inputs *in, const mr_customer *cu, moment_cache *mc,
                        sc_week_hours *out)
{
    memset(out, 0, sizeof *out);
    if (!cu->department_id[0])
        return 0;
    if (strcmp(mc->dept, cu->department_id)) {
        mr_department dep;
        int got = mr_md_get_department(c->store, c->region, cu->department_id, &dep);
        if (got < 0)
            return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
        char sd[80], sh[80], st[64], sr[64], err[128];
        snprintf(sd, sizeof sd, "dept:%s", cu->department_id);
        snprintf(sh, sizeof sh, "hospital:%s", cu->hospital_id);
        snprintf(st, sizeof st, "team:%s", in->rep.team);
        snprintf(sr, sizeof sr, "region:%s", c->region);
        const char *scopes[] = {sd, sh, st, sr, NULL};
        const char *names = mr_config_scoped(c->st->cfg, "scheduling", "good_moments", scopes);
        names = names ? names : "handover,rounds_end";
        memset(&mc->hours, 0, sizeof mc->hours);
        if (got == 1 && strcmp(names, "none") &&
            sc_moments_parse(dep.meeting_moments, names, &mc->hours, err, sizeof err) != 0)
            memset(&mc->hours, 0, sizeof mc->hours);   /* unreadable moments: no preference */
        snprintf(mc->dept, sizeof mc->dept, "%s", cu->department_id);
    }
    *out = mc->hours;
    return 0;
}

static int build_visits(sched_ctx *c, inputs *in, const sched_overrides *ov)
{
    moment_cache mc;
    memset(&mc, 0, sizeof mc);
    in->visits = calloc((size_t)(in->ncust ? in->ncust : 1), sizeof *in->visits);
    if (!in->visits)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    for (int i = 0; i < in->ncust; i++) {
        const mr_customer *cu = &in->cust[i];
        sc_visit *v = &in->visits[i];
        char seg[4], err[128];
        if (sched_segment(c, cu->id, ov, seg, sizeof seg) != 0)
            return -1;
        v->loc = hospital_loc(in, cu->hospital_id);
        v->cls = sc_norms_class_of(&in->norms, cu->kind == MR_CUSTOMER_PRESCRIBER, seg, cu->group);
        if (v->loc < 0) {      /* no known hospital: cannot be placed */
            v->loc = 0;
            v->cls = -1;
        }
        v->last_call_day = SC_NO_DAY;
        if (sc_hours_parse(cu->windows, &v->windows, err, sizeof err) != 0)
            v->windows.any = true;
        if (sc_hours_parse(cu->peak_hours, &v->peak, err, sizeof err) != 0)
            v->peak.any = true;
        if (dept_moments(c, in, cu, &mc, &v->moments) != 0)
            return -1;
    }
    return 0;
}

static void note_quarter(const sched_ctx *c, inputs *in, const sc_period *month)
{
    for (int i = 0; i < in->before.n; i++) {
        const sched_call *b = &in->before.v[i];
        int k = customer_index(in, b->customer);
        if (k < 0 || strcmp(b->state, "done"))
            continue;
        int64_t day;
        int minute;
        sc_local_of(c->rg->tz, b->start_ms, &day, &minute);
        in->visits[k].called_in_quarter = true;
        int rel = (int)(day - month->first);
        if (in->visits[k].last_call_day == SC_NO_DAY || rel > in->visits[k].last_call_day)
            in->visits[k].last_call_day = rel;
    }
}

static bool replaceable(const sched_call *s, int day, int from_day)
{
    return !strcmp(s->state, "planned") && !s->pinned &&
           (!strcmp(s->origin, "plan") || !strcmp(s->origin, "pim_talk")) && day >= from_day;
}

/* Meetings held at a hospital: fixed stops of the core (tag -1: nothing
 * to store, the meetings service owns them). Appended to in->fixed, which
 * split_calls sized with room for them. */
static void meeting_stops(const sched_ctx *c, inputs *in, const sc_period *month)
{
    for (int i = 0; i < in->nbusy; i++) {
        const sc_busy *b = &in->busy[i];
        int loc = b->place[0] ? hospital_loc(in, b->place) : -1;
        if (loc < 0)
            continue;
        int64_t day;
        int minute;
        sc_local_of(c->rg->tz, b->start_ms, &day, &minute);
        int d = (int)(day - month->first);
        long len = (long)((b->end_ms - b->start_ms) / 60000);
        if (d < 0 || d >= in->ndays || len <= 0)
            continue;
        if (minute + len > 24 * 60)
            len = 24 * 60 - minute;
        in->fixed[in->nfixed++] = (sc_call){.visit = -1, .loc = loc, .day = d, .start = minute,
                                            .duration = (int)len, .fixed = true, .tag = -1,
                                            .kind = b->pim ? SC_KIND_PIM : SC_KIND_MEETING};
    }
}

/* Stored calls: kept ones become the core's fixed calls; the others are
 * deleted (the new plan replaces them). */
static int split_calls(sched_ctx *c, inputs *in, const sc_period *month, int from_day)
{
    in->fixed = calloc((size_t)(in->month.n + in->nbusy + 1), sizeof *in->fixed);
    in->excluded = calloc((size_t)(in->month.n ? in->month.n : 1), sizeof *in->excluded);
    in->gone = calloc((size_t)(in->month.n ? in->month.n : 1), sizeof *in->gone);
    if (!in->fixed || !in->excluded || !in->gone)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    for (int i = 0; i < in->month.n; i++) {
        const sched_call *s = &in->month.v[i];
        int64_t day;
        int minute;
        sc_local_of(c->rg->tz, s->start_ms, &day, &minute);
        int d = (int)(day - month->first);
        if (!strcmp(s->state, "cancelled")) {
            in->excluded[in->nexcluded++] = (sc_call){.visit = customer_index(in, s->customer), .day = d};
            continue;
        }
        if (replaceable(s, d, from_day)) {
            if (sched_stage_delete_call(c, s) != 0)
                return -1;
            in->gone[i] = true;
            continue;
        }
        int loc = hospital_loc(in, s->hospital);
        sc_call f = {.visit = customer_index(in, s->customer), .loc = loc > 0 ? loc : 0, .day = d,
                     .start = minute, .duration = s->duration > 0 ? s->duration : in->norms.call_minutes,
                     .kind = !strcmp(s->kind, "pim") ? SC_KIND_PIM : SC_KIND_CALL, .fixed = true,
                     .tag = i};
        f.any_time = !strcmp(s->origin, "meeting_follow_up") && !s->pinned &&
                     !strcmp(s->state, "planned") && d >= from_day;
        in->fixed[in->nfixed++] = f;
    }
    meeting_stops(c, in, month);
    return 0;
}

/* "a | b | c" -> the call's objectives. */
static void set_objectives(const char *text, sched_call *out)
{
    out->nobjectives = 0;
    for (const char *p = text; p && *p && out->nobjectives < SCHED_OBJ_MAX;) {
        while (*p == ' ' || *p == '|')
            p++;
        size_t len = strcspn(p, "|");
        size_t end = len;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        if (end)
            snprintf(out->objectives[out->nobjectives++], sizeof out->objectives[0], "%.*s", (int)end, p);
        p += len;
    }
}

/* The customer's last done call (in the quarter so far). */
static const char *last_done(const inputs *in, const char *customer)
{
    const sched_call *best = NULL;
    const sched_calls *lists[2] = {&in->before, &in->month};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const sched_call *s = &lists[l]->v[i];
            if (!strcmp(s->customer, customer) && !strcmp(s->state, "done") &&
                (!best || s->start_ms > best->start_ms))
                best = s;
        }
    return best ? best->id : "";
}

static void fill_new_call(const sched_ctx *c, const inputs *in, const sc_period *month,
                          const sc_call *pc, sched_call *out)
{
    memset(out, 0, sizeof *out);
    const mr_hospital *h = pc->loc > 0 ? &in->hosp[pc->loc - 1] : NULL;
    out->start_ms = sc_local_ms(c->rg->tz, month->first + pc->day, pc->start);
    out->duration = pc->duration;
    snprintf(out->rep, sizeof out->rep, "%s", in->rep.id);
    snprintf(out->state, sizeof out->state, "planned");
    snprintf(out->origin, sizeof out->origin, "plan");
    snprintf(out->hospital, sizeof out->hospital, "%s", h ? h->id : "");
    snprintf(out->hospital_name, sizeof out->hospital_name, "%s", h ? h->name : "");
    if (pc->kind == SC_KIND_PIM || pc->visit < 0) {
        snprintf(out->kind, sizeof out->kind, "pim");
        snprintf(out->id, sizeof out->id, "%s.pim.%lld", in->rep.id, (long long)out->start_ms);
        return;
    }
    const mr_customer *cu = &in->cust[pc->visit];
    snprintf(out->kind, sizeof out->kind, "call");
    if (pc->talk)
        snprintf(out->origin, sizeof out->origin, "pim_talk");
    snprintf(out->id, sizeof out->id, "%s.%s.%lld", in->rep.id, cu->id, (long long)out->start_ms);
    snprintf(out->customer, sizeof out->customer, "%s", cu->id);
    snprintf(out->customer_name, sizeof out->customer_name, "%s", cu->name);
    snprintf(out->dept, sizeof out->dept, "%s", cu->department_id);
    int cls = in->visits[pc->visit].cls;
    snprintf(out->segment, sizeof out->segment, "%s", cls >= 0 ? in->norms.cls[cls].name : "");
    if (cls >= 0)
        set_objectives(in->norms.cls[cls].objectives, out);
    snprintf(out->last_call, sizeof out->last_call, "%s", last_done(in, cu->id));
}

/* A new call's id must not take the id of a call that stays (a call the
 * rep moved keeps its id, which names its first time). */
static void make_unique(const inputs *in, int from_day, const sc_period *month, const sched_ctx *c,
                        sched_call *call)
{
    for (int round = 0; round < 8; round++) {
        bool clash = false;
        for (int i = 0; i < in->month.n && !clash; i++) {
            const sched_call *s = &in->month.v[i];
            int64_t day;
            int minute;
            sc_local_of(c->rg->tz, s->start_ms, &day, &minute);
            clash = !strcmp(s->id, call->id) &&
                    (!replaceable(s, (int)(day - month->first), from_day) || !strcmp(s->state, "cancelled"));
        }
        if (!clash)
            return;
        size_t len = strlen(call->id);
        if (len + 2 < sizeof call->id)
            memcpy(call->id + len, ".r", 3);
    }
}

/* A new call that is a deleted replaceable call again, unchanged: clears
 * its gone mark and says true (it is no change of the plan). */
static bool same_again(inputs *in, const sched_call *call)
{
    for (int i = 0; i < in->month.n; i++) {
        const sched_call *s = &in->month.v[i];
        if (in->gone[i] && !strcmp(s->id, call->id) && s->start_ms == call->start_ms &&
            s->duration == call->duration && !strcmp(s->hospital, call->hospital) &&
            !strcmp(s->segment, call->segment) && !strcmp(s->origin, call->origin)) {
            in->gone[i] = false;
            return true;
        }
    }
    return false;
}

/* Writes the plan: new calls, moved any-time calls; out gets the month;
 * *changed counts the calls added, moved or removed (the net change). */
static int stage_plan(sched_ctx *c, inputs *in, const sc_period *month, int from_day,
                      const sc_plan *plan, sched_calls *out, int *changed)
{
    *changed = 0;
    for (int i = 0; i < plan->ncalls; i++) {
        const sc_call *pc = &plan->calls[i];
        sched_call call;
        if (pc->fixed && pc->tag < 0)
            continue;                /* a meeting: the meetings service's record */
        if (pc->fixed && pc->tag >= 0 && pc->tag < in->month.n) {
            call = in->month.v[pc->tag];
            int64_t at = sc_local_ms(c->rg->tz, month->first + pc->day, pc->start);
            if (at != call.start_ms) {
                call.start_ms = at;
                ++*changed;
                if (sched_stage_call(c, &call) != 0)
                    return -1;
            }
        } else {
            fill_new_call(c, in, month, pc, &call);
            make_unique(in, from_day, month, c, &call);
            *changed += same_again(in, &call) ? 0 : 1;
            if (sched_stage_call(c, &call) != 0)
                return -1;
        }
        if (out && sched_calls_push(out, &call) != 0)
            return sched_fail(c, MR_INTERNAL, "out of memory");
    }
    for (int i = 0; out && i < in->month.n; i++)
        if (!strcmp(in->month.v[i].state, "cancelled") && sched_calls_push(out, &in->month.v[i]) != 0)
            return sched_fail(c, MR_INTERNAL, "out of memory");
    for (int i = 0; i < in->month.n; i++)
        *changed += in->gone[i] ? 1 : 0;
    return 0;
}

/* PlanChanged for the rep's month, staged in the unit's tx (it commits
 * once with the plan); nothing when the plan did not change. */
static int emit_changed(sched_ctx *c, const char *rep, const sc_period *month, int changed)
{
    changed += c->plan_bias;
    if (changed <= 0)
        return 0;
    Medrep__PlanChanged pc = MEDREP__PLAN_CHANGED__INIT;
    pc.rep_id = (char *)rep;
    pc.period = (char *)month->text;
    pc.reason = (char *)(c->plan_reason ? c->plan_reason : "replan");
    pc.calls_changed = changed, pc.has_calls_changed = true;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_PLAN_CHANGED;
    ev.plan_changed = &pc;
    return sched_emit(c, &ev);
}

static int stage_summary(sched_ctx *c, const char *rep, const sc_period *month, const sc_plan *plan,
                         Medrep__PlanReply *summary, sc_shortfall *sf, int *nsf)
{
    Medrep__PlanReply r = MEDREP__PLAN_REPLY__INIT;
    Medrep__Shortfall s[SC_SHORTFALLS_MAX], *ps[SC_SHORTFALLS_MAX];
    for (int i = 0; i < plan->nshortfalls; i++) {
        medrep__shortfall__init(&s[i]);
        s[i].norm = (char *)plan->shortfalls[i].norm;
        s[i].required = plan->shortfalls[i].required, s[i].has_required = true;
        s[i].planned = plan->shortfalls[i].planned, s[i].has_planned = true;
        ps[i] = &s[i];
        if (sf)
            sf[i] = plan->shortfalls[i];
    }
    if (nsf)
        *nsf = plan->nshortfalls;
    r.shortfalls = ps;
    r.n_shortfalls = (size_t)plan->nshortfalls;
    r.travel_minutes = plan->travel, r.has_travel_minutes = true;
    r.idle_minutes = plan->idle, r.has_idle_minutes = true;
    r.norms_checked = plan->norms_checked, r.has_norms_checked = true;
    r.norms_met = plan->norms_met, r.has_norms_met = true;
    r.planned_ms = c->now_ms, r.has_planned_ms = true;
    r.period = (char *)month->text;
    if (summary) {
        summary->travel_minutes = plan->travel, summary->has_travel_minutes = true;
        summary->idle_minutes = plan->idle, summary->has_idle_minutes = true;
        summary->norms_checked = plan->norms_checked, summary->has_norms_checked = true;
        summary->norms_met = plan->norms_met, summary->has_norms_met = true;
        summary->planned_ms = c->now_ms, summary->has_planned_ms = true;
    }
    size_t len = medrep__plan_reply__get_packed_size(&r);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    medrep__plan_reply__pack(&r, buf);
    char key[200];
    mr_key(key, sizeof key, c->region, "sched:plan:%s:%s", rep, month->text);
    const char *argv[] = {"SET", key, (const char *)buf};
    size_t lens[] = {3, strlen(key), len};
    int rc = mr_tx_add(c->tx, 3, argv, lens);
    free(buf);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "out of memory");
}

static int load_inputs(sched_ctx *c, inputs *in, const char *rep, const sc_period *month,
                       const sched_overrides *ov, int *from_day)
{
    int rc = mr_md_get_rep(c->store, c->region, rep, &in->rep);
    if (rc < 0)
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    if (rc == 0)
        return sched_fail(c, MR_NOT_FOUND, "no rep '%s' in region %s", rep, c->region);
    int64_t lo = sc_local_ms(c->rg->tz, month->first, 0), hi = sc_local_ms(c->rg->tz, month->last + 1, 0);
    if (sched_norms(c, in->rep.team, &in->norms) != 0 || load_customers(c, in, rep) != 0 ||
        (in->nbusy = sched_load_busy(c, rep, lo, hi, ov, &in->busy)) < 0)
        return -1;
    for (int i = 0; i < in->nbusy; i++)      /* a meeting's hospital is a place of the day */
        if (in->busy[i].place[0] && mr_md_id_valid(in->busy[i].place) && add_hospital(c, in, in->busy[i].place) != 0)
            return -1;
    if (build_visits(c, in, ov) != 0)
        return -1;
    if (build_places(in) != 0)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    if (supplied_travel(c, in) != 0)
        return -1;
    in->ndays = (int)(month->last - month->first + 1);
    in->days = calloc((size_t)in->ndays, sizeof *in->days);
    if (!in->days)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    sc_month_days(month, c->rg->cal, c->rg->tz, in->busy, in->nbusy, in->norms.day_start, in->norms.day_end,
                  in->days);
    int y, m, d;
    mr_civil_from_days(month->first, &y, &m, &d);
    int64_t qlo = sc_local_ms(c->rg->tz, mr_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1), 0);
    if (sched_load_calls(c, rep, lo, hi, ov, &in->month) != 0 ||
        sched_load_calls(c, rep, qlo, lo, ov, &in->before) != 0)
        return -1;
    note_quarter(c, in, month);
    *from_day = (int)(in->today - month->first) + (in->minute_now >= in->norms.day_start ? 1 : 0);
    if (*from_day < 0)
        *from_day = 0;
    return split_calls(c, in, month, *from_day);
}

/* The optimistic guard of a rep's plan (once per unit of work): reads the
 * rep's plan version sched:ver:<rep>, stages the expectation that it is
 * unchanged at commit (mr_tx_expect) and its increment. A concurrent
 * unit that changed the rep's calls in between has bumped the version,
 * so this commit applies nothing and the shell answers ABORTED (an event
 * is retried later): two plans of one rep never interleave. 0, or -1
 * with ctx failed. */
static int guard_rep(sched_ctx *c, const char *rep)
{
    if (!strcmp(c->locked_rep, rep))
        return 0;
    if (c->locked_rep[0])
        return sched_fail(c, MR_INTERNAL, "one rep's plan per request");
    char key[160];
    mr_key(key, sizeof key, c->region, "sched:ver:%s", rep);
    mr_val *v = mr_store_cmd(c->store, "GET %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    }
    const char *now = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, NULL) : NULL;
    int rc = mr_tx_expect(c->tx, key, NULL, now) | mr_tx_addv(c->tx, "INCR", key, NULL);
    mr_val_free(&v);
    if (rc != 0)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    snprintf(c->locked_rep, sizeof c->locked_rep, "%s", rep);
    snprintf(c->touched_rep, sizeof c->touched_rep, "%s", rep);
    return 0;
}

int sched_touch_rep(sched_ctx *c, const char *rep)
{
    if (!rep[0] || !strcmp(c->touched_rep, rep))
        return 0;
    char key[160];
    mr_key(key, sizeof key, c->region, "sched:ver:%s", rep);
    if (mr_tx_addv(c->tx, "INCR", key, NULL) != 0)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    snprintf(c->touched_rep, sizeof c->touched_rep, "%s", rep);
    return 0;
}

void sched_unlock(sched_ctx *c)
{
    c->locked_rep[0] = 0;
    c->touched_rep[0] = 0;
}

int sched_replan(sched_ctx *c, const char *rep, const sc_period *month, const sched_overrides *ov,
                 sched_calls *out, Medrep__PlanReply *summary, sc_shortfall *shortfalls,
                 int *nshortfalls)
{
    inputs *in = calloc(1, sizeof *in);
    if (!in)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    sc_local_of(c->rg->tz, c->now_ms, &in->today, &in->minute_now);
    int from_day = 0, rc = -1;
    if (month->last < in->today) {   /* over: nothing moves */
        int64_t lo = sc_local_ms(c->rg->tz, month->first, 0), hi = sc_local_ms(c->rg->tz, month->last + 1, 0);
        rc = out ? sched_load_calls(c, rep, lo, hi, ov, out) : 0;
        if (nshortfalls)
            *nshortfalls = 0;
        inputs_free(in);
        free(in);
        return rc;
    }
    if (guard_rep(c, rep) == 0 && load_inputs(c, in, rep, month, ov, &from_day) == 0) {
        int y, m, d;
        mr_civil_from_days(month->first, &y, &m, &d);
        sc_problem p = {.nloc = in->nhosp + 1, .travel = in->travel, .home = 0, .opening = in->opening,
                        .visits = in->visits, .nvisits = in->ncust, .days = in->days, .ndays = in->ndays,
                        .from_day = from_day, .fixed = in->fixed, .nfixed = in->nfixed,
                        .excluded = in->excluded, .nexcluded = in->nexcluded,
                        .quarter_ends = m % 3 == 0, .norms = &in->norms};
        sc_plan plan;
        if (sc_plan_targets(&p) != 0 || sc_plan_make(&p, &plan) != 0)
            sched_fail(c, MR_INTERNAL, "the planner failed (out of memory or bad input)");
        else {
            int changed = 0;
            rc = stage_plan(c, in, month, from_day, &plan, out, &changed) == 0 &&
                         stage_summary(c, rep, month, &plan, summary, shortfalls, nshortfalls) == 0 &&
                         emit_changed(c, rep, month, changed) == 0
                     ? 0
                     : -1;
            sc_plan_free(&plan);
        }
    }
    inputs_free(in);
    free(in);
    return rc;
}

int sched_replan_current(sched_ctx *c, const char *rep, const sched_overrides *ov)
{
    sc_period month, next;
    sched_current_month(c, &month);
    if (sched_replan(c, rep, &month, ov, NULL, NULL, NULL, NULL) != 0)
        return -1;
    sc_period_month_of(month.last + 1, &next);
    char key[200];
    mr_key(key, sizeof key, c->region, "sched:plan:%s:%s", rep, next.text);
    mr_val *v = mr_store_cmd(c->store, "EXISTS %s", key);
    int rc = 0;
    if (!v || mr_val_type(v) != MR_VAL_INTEGER)
        rc = sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
    else if (mr_val_int(v) == 1)
        rc = sched_replan(c, rep, &next, ov, NULL, NULL, NULL, NULL);
    mr_val_free(&v);
    return rc;
}
