/* events_in.c: what the scheduling service does with other services'
 * events: a regraded customer (the rep's cycle is marked dirty and
 * replanned once after a quiet period, dirty.c), a meeting that blocks
 * or frees the rep's time and is a stop at its hospital, a follow-up
 * call that is due. Each changes only the rest of the rep's current cycle
 * (replan.c); every effect goes into the event's tx, so it is committed
 * once per event. */
#include "scheduling_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "masterdata.h"

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

static bool passing(const sched_ctx *c)
{
    return c->code == MR_UNAVAILABLE || c->code == MR_ABORTED;
}

/* 0 handled (or nothing to do), -1 try later (Redis away, rep busy). */
static int outcome(const sched_ctx *c)
{
    return passing(c) ? -1 : 0;
}

/* After a replan: a failure other than Redis (no such rep, bad
 * configuration) drops the replan's staged writes so that the event's own
 * effect, staged next, still commits. */
static void settle(sched_ctx *c)
{
    if (c->code != MR_OK && !passing(c)) {
        sched_unlock(c);
        mr_tx_reset(c->tx);
        c->code = MR_OK;
    }
}

static bool in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; word[0] && p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && !strncmp(p, word, n))
            return true;
        p += len;
    }
    return false;
}

static const char *cfg_str(const sched_ctx *c, const char *key, const char *def)
{
    char r[64];
    snprintf(r, sizeof r, "region:%s", c->region);
    const char *scopes[] = {r, NULL};
    const char *v = mr_config_scoped(c->st->cfg, "scheduling", key, scopes);
    return v ? v : def;
}

static int on_regraded(sched_ctx *c, const Medrep__CustomerRegraded *g)
{
    if (!g->customer_id || !mr_md_id_valid(g->customer_id) || !g->product_id || !mr_md_id_valid(g->product_id))
        return 0;
    const char *seg = g->new_segment ? g->new_segment : "";
    char rep[MR_ID_MAX] = "";
    if (g->rep_id && mr_md_id_valid(g->rep_id))
        snprintf(rep, sizeof rep, "%s", g->rep_id);
    else {
        mr_customer cu;
        int got = mr_md_get_customer(c->store, c->region, g->customer_id, &cu);
        if (got < 0)
            return -1;
        if (got == 1)
            snprintf(rep, sizeof rep, "%s", cu.rep_id);
    }
    long quiet = atol(cfg_str(c, "regrade_quiet_ms", "60000"));
    if (rep[0] && quiet <= 0) {   /* no debounce: replan at once */
        sched_overrides ov = {.seg_customer = g->customer_id, .seg_product = g->product_id, .seg_value = seg};
        sched_replan_current(c, rep, &ov);
    } else if (rep[0] && sched_mark_dirty(c, rep, quiet, atol(cfg_str(c, "regrade_max_wait_ms", "600000"))) != 0)
        return outcome(c);
    settle(c);
    char key[160];
    mr_key(key, sizeof key, c->region, "sched:seg:%s", g->customer_id);
    if (seg[0])
        mr_tx_addv(c->tx, "HSET", key, g->product_id, seg, NULL);
    else
        mr_tx_addv(c->tx, "HDEL", key, g->product_id, NULL);
    return outcome(c);
}

/* Where and how long the meeting is held, from the event: its hospital,
 * else the hospital of its first known invitee; none for a meeting out
 * of the department (a hotel or restaurant). place "" when none (the
 * meeting then only blocks time). 0, or -1 when Redis failed. */
static int meeting_place(sched_ctx *c, const Medrep__MeetingChanged *m, char *place, size_t cap, bool *pim,
                         long *minutes)
{
    bool away = m->kind && !strcmp(m->kind, "out_of_department");
    place[0] = 0;
    *pim = m->kind && !strcmp(m->kind, "pim");
    if (m->has_duration_min && m->duration_min > 0 && m->duration_min <= 600)
        *minutes = m->duration_min;
    if (m->hospital_id && mr_md_id_valid(m->hospital_id) && !away)
        snprintf(place, cap, "%s", m->hospital_id);
    for (size_t i = 0; !away && !place[0] && i < m->n_invitee_ids; i++) {
        mr_customer cu;
        if (!m->invitee_ids[i] || !mr_md_id_valid(m->invitee_ids[i]))
            continue;
        int got = mr_md_get_customer(c->store, c->region, m->invitee_ids[i], &cu);
        if (got < 0)
            return -1;
        if (got == 1 && cu.hospital_id[0])
            snprintf(place, cap, "%s", cu.hospital_id);
    }
    return 0;
}

static int on_meeting(sched_ctx *c, const Medrep__MeetingChanged *m)
{
    if (!m->rep_id || !mr_md_id_valid(m->rep_id) || !m->meeting_id || !mr_md_id_valid(m->meeting_id) ||
        !m->to_state)
        return 0;
    bool block = in_list(cfg_str(c, "meeting_block_states", "approved,confirmed"), m->to_state);
    bool release = in_list(cfg_str(c, "meeting_release_states", "cancelled,rejected"), m->to_state);
    if ((!block && !release) || (block && (!m->has_start_ms || m->start_ms <= 0)))
        return 0;
    long lead = atol(cfg_str(c, "meeting_lead_minutes", "60"));
    long len = atol(cfg_str(c, "meeting_minutes", "60"));
    char key[160], tag[96], val[160];
    sc_busy b = {.pim = false};
    if (block && meeting_place(c, m, b.place, sizeof b.place, &b.pim, &len) != 0)
        return -1;
    mr_key(key, sizeof key, c->region, "sched:rep:%s:busy", m->rep_id);
    snprintf(tag, sizeof tag, "meeting:%s", m->meeting_id);
    b.start_ms = m->start_ms - lead * MIN_MS;
    b.end_ms = m->start_ms + len * MIN_MS;
    snprintf(val, sizeof val, "%lld:%lld:%s:%s", (long long)b.start_ms, (long long)b.end_ms,
             b.pim ? "pim" : "mtg", b.place);
    sched_overrides ov = {.busy = &b, .nbusy = block ? 1 : 0, .drop_busy = tag};
    sched_replan_current(c, m->rep_id, &ov);
    settle(c);
    if (block)
        mr_tx_addv(c->tx, "HSET", key, tag, val, NULL);
    else
        mr_tx_addv(c->tx, "HDEL", key, tag, NULL);
    return outcome(c);
}

/* The follow-up becomes a planned call on the first field day from
 * tomorrow (not after the due day when one is open), its time left to
 * the planner. */
static int follow_up_day(const sched_ctx *c, int64_t due_ms, int64_t *day)
{
    int64_t today, due;
    int minute;
    sc_local_of(c->rg->tz, c->now_ms, &today, &minute);
    sc_local_of(c->rg->tz, due_ms > 0 ? due_ms : c->now_ms + 7 * DAY_MS, &due, &minute);
    for (int64_t d = today + 1; d <= today + 31; d++) {
        int y, m, dd;
        mr_civil_from_days(d, &y, &m, &dd);
        if (mr_calendar_is_field_day(c->rg->cal, y, m, dd) || d >= due) {
            *day = d;
            return 0;
        }
    }
    *day = today + 1;
    return 0;
}

static int on_follow_up(sched_ctx *c, const Medrep__FollowUpDue *f)
{
    if (!f->rep_id || !mr_md_id_valid(f->rep_id) || !f->customer_id || !mr_md_id_valid(f->customer_id) ||
        !f->meeting_id || !mr_md_id_valid(f->meeting_id))
        return 0;
    mr_customer cu;
    mr_rep rep;
    int g1 = mr_md_get_customer(c->store, c->region, f->customer_id, &cu);
    int g2 = mr_md_get_rep(c->store, c->region, f->rep_id, &rep);
    if (g1 < 0 || g2 < 0)
        return -1;
    sc_norms n;
    if (g1 == 0 || g2 == 0 || sched_norms(c, rep.team, &n) != 0)
        return 0;
    sched_call fu;
    memset(&fu, 0, sizeof fu);
    snprintf(fu.id, sizeof fu.id, "%s.%s.fu.%s", f->rep_id, f->customer_id, f->meeting_id);
    int got = sched_get_call(c, fu.id, &fu);
    if (got != 0)
        return got < 0 ? -1 : 0;     /* already planned */
    int64_t day;
    follow_up_day(c, f->due_ms, &day);
    snprintf(fu.rep, sizeof fu.rep, "%s", f->rep_id);
    snprintf(fu.customer, sizeof fu.customer, "%s", f->customer_id);
    snprintf(fu.customer_name, sizeof fu.customer_name, "%s", cu.name);
    snprintf(fu.hospital, sizeof fu.hospital, "%s", cu.hospital_id);
    snprintf(fu.dept, sizeof fu.dept, "%s", cu.department_id);
    snprintf(fu.state, sizeof fu.state, "planned");
    snprintf(fu.origin, sizeof fu.origin, "meeting_follow_up");
    snprintf(fu.kind, sizeof fu.kind, "call");
    fu.start_ms = sc_local_ms(c->rg->tz, day, n.day_start);
    fu.duration = n.call_minutes;
    sched_overrides ov = {.calls = &fu, .ncalls = 1};
    int64_t fday;
    int fmin;
    sc_local_of(c->rg->tz, fu.start_ms, &fday, &fmin);
    sc_period month;
    sc_period_month_of(fday, &month);
    /* staged first: the replan may write it again at the time it picks */
    if (sched_stage_call(c, &fu) != 0)
        return outcome(c);
    sched_replan(c, fu.rep, &month, &ov, NULL, NULL, NULL, NULL);
    if (c->code != MR_OK && !passing(c)) {
        settle(c);
        sched_stage_call(c, &fu);
    }
    if (c->code != MR_OK)
        return outcome(c);
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CallPlanned body = MEDREP__CALL_PLANNED__INIT;
    body.call_id = fu.id;
    body.rep_id = fu.rep;
    body.customer_id = fu.customer;
    body.start_ms = fu.start_ms, body.has_start_ms = true;
    body.origin = fu.origin;
    ev.body_case = MEDREP__EVENT__BODY_CALL_PLANNED;
    ev.call_planned = &body;
    sched_emit(c, &ev);
    return outcome(c);
}

/* Dispatch; a unit that will not be committed releases its lock at once. */
int sched_on_event(mr_event_call *call)
{
    sched_ctx c;
    sched_ctx_from_event(&c, call);
    if (c.code != MR_OK)
        return 0;
    const Medrep__Event *ev = call->ev;
    int rc = 0;
    if (ev->body_case == MEDREP__EVENT__BODY_CUSTOMER_REGRADED && ev->customer_regraded)
        rc = on_regraded(&c, ev->customer_regraded);
    else if (ev->body_case == MEDREP__EVENT__BODY_MEETING_CHANGED && ev->meeting_changed)
        rc = on_meeting(&c, ev->meeting_changed);
    else if (ev->body_case == MEDREP__EVENT__BODY_FOLLOW_UP_DUE && ev->follow_up_due)
        rc = on_follow_up(&c, ev->follow_up_due);
    if (rc != 0)
        sched_unlock(&c);
    return rc;
}
