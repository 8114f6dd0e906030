/* transition.c: the Transition method: checks the edge against the
 * configured flow and its guards, records who and when, applies the
 * side effects of the target state (approvals, rescheduling, the RSVP
 * deadline, follow-ups and absentee tasks when held, the summary and
 * evaluation) and emits MeetingChanged (and FollowUpDue). An illegal
 * transition or a failed guard is an error that changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "errors.h"
#include "lifecycle.h"
#include "masterdata.h"
#include "meetings.h"

static bool has_text(const char *s) { return s && s[0]; }

static bool approved_by(const Medrep__Meeting *m, const char *who)
{
    for (size_t i = 0; i < m->n_approvals; i++)
        if (strcmp(m->approvals[i], who) == 0)
            return true;
    return false;
}

static int approvals_required(const Medrep__Meeting *m)
{
    return 1 + has_text(m->second_approver_id);
}

static bool is_approver(const Medrep__Meeting *m, const char *who)
{
    return (has_text(m->approver_id) && strcmp(m->approver_id, who) == 0) ||
           (has_text(m->second_approver_id) && strcmp(m->second_approver_id, who) == 0);
}

static int add_approval(Medrep__Meeting *m, const char *who)
{
    char **arr = realloc(m->approvals, (m->n_approvals + 1) * sizeof *arr);
    if (!arr)
        return -1;
    m->approvals = arr;
    m->approvals[m->n_approvals] = strdup(who);
    return m->approvals[m->n_approvals++] ? 0 : -1;
}

static void clear_approvals(Medrep__Meeting *m)
{
    for (size_t i = 0; i < m->n_approvals; i++)
        free(m->approvals[i]);
    free(m->approvals);
    m->approvals = NULL;
    m->n_approvals = 0;
}

static int checklist_open(const Medrep__Meeting *m)
{
    int n = 0;
    for (size_t i = 0; i < m->n_checklist; i++)
        n += m->checklist[i]->day_before_ms == 0 || m->checklist[i]->day_of_ms == 0;
    return n;
}

static void gather_facts(const Medrep__Meeting *m, const Medrep__TransitionRequest *req,
                         const mt_settings *s, const char *actor, int64_t now, mt_guard_facts *f)
{
    mt_invitee items[MT_MAX_GUESTS];
    mt_guest_list g;
    mt_guests_load(m, items, &g);
    memset(f, 0, sizeof *f);
    f->actor_is_approver = is_approver(m, actor) && !approved_by(m, actor);
    f->approvals_missing = approvals_required(m) - (int)m->n_approvals - (f->actor_is_approver ? 1 : 0);
    f->invitees_expected = mt_expected_count(&g);
    f->head_count_cap = m->head_count_cap;
    f->checklist_open = checklist_open(m);
    f->now_ms = now;
    f->open_from_ms = m->start_ms - mt_int(s, "signin_opens_before_min", 60) * 60000LL;
    for (size_t i = 0; i < g.count; i++)
        f->attendees += items[i].attended;
    f->has_summary = has_text(req->summary) || has_text(m->summary);
    for (size_t i = 0; i < m->n_followups; i++)
        f->followups_open += m->followups[i]->done_ms == 0;
    f->new_start_ms = req->new_start_ms;
    f->has_comment = has_text(req->comment);
    mt_staff_policy sp = {(int)mt_int(s, "staff_small_limit", 10), (int)mt_int(s, "staff_small_min", 2),
                          (int)mt_int(s, "staff_small_max", 3), (int)mt_int(s, "staff_large_min", 3),
                          (int)mt_int(s, "staff_large_max", 5)};
    int size = m->head_count > f->invitees_expected ? m->head_count : f->invitees_expected;
    mt_staff_range(&sp, size, &f->staff_min, &f->staff_max);
    f->staff = (int)m->n_staff_ids;
}

/* ---- Side effects ---- */

static int deadline_index(mr_call *call, const Medrep__Meeting *m, bool add)
{
    char key[128], score[32];
    mr_key(key, sizeof key, call->region, "meet:deadlines");
    snprintf(score, sizeof score, "%lld", (long long)m->rsvp_deadline_ms);
    return add ? mr_tx_addv(call->tx, "ZADD", key, score, m->meeting_id, NULL)
               : mr_tx_addv(call->tx, "ZREM", key, m->meeting_id, NULL);
}

/* Local midnight of the day after the meeting, in the region's zone. */
static int64_t next_local_day(const mr_tz *tz, int64_t start_ms)
{
    mr_local_time lt;
    mr_tz_to_local(tz, start_ms / 1000, &lt);
    int y, mo, d;
    mr_civil_from_days(mr_days_from_civil(lt.year, lt.month, lt.day) + 1, &y, &mo, &d);
    return mr_tz_from_local(tz, y, mo, d, 0, 0, 0) * 1000;
}

static int emit_follow_up(mr_call *call, const Medrep__Meeting *m, const char *customer, int64_t due,
                          const char *dm)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__FollowUpDue fu = MEDREP__FOLLOW_UP_DUE__INIT;
    fu.meeting_id = m->meeting_id;
    fu.customer_id = (char *)customer;
    fu.rep_id = m->rep_id;
    fu.due_ms = due, fu.has_due_ms = true;
    fu.dm_id = (char *)dm;
    ev.body_case = MEDREP__EVENT__BODY_FOLLOW_UP_DUE;
    ev.follow_up_due = &fu;
    return mr_call_emit(call, &ev);
}

/* Held: one follow-up per attendee (event to scheduling), a gift and
 * materials task per expected guest who did not come. */
static int on_held(mr_call *call, const mt_settings *s, Medrep__Meeting *m)
{
    const mr_tz *tz = mt_region_tz(mr_service_state(call->svc), call->region);
    mr_rep rep;
    const char *dm = mr_md_get_rep(call->store, call->region, m->rep_id, &rep) == 1 ? rep.dm_id : "";
    size_t n = 0;
    for (size_t i = 0; i < m->n_invitees; i++)
        n += m->invitees[i]->attended;
    int64_t *due = calloc(n + 1, sizeof *due);
    m->followups = calloc(n + 1, sizeof *m->followups);
    m->absentee_tasks = calloc(m->n_invitees + 1, sizeof *m->absentee_tasks);
    if (!due || !m->followups || !m->absentee_tasks || !tz) {
        free(due);
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    }
    mt_followups_spread(next_local_day(tz, m->start_ms), (int)mt_int(s, "followup_within_days", 7), n, due);
    for (size_t i = 0, k = 0; i < m->n_invitees; i++) {
        Medrep__Invitee *v = m->invitees[i];
        if (!v->attended) {
            if (mt_invitee_counts(v))
                m->absentee_tasks[m->n_absentee_tasks++] = strdup(v->customer_id);
            continue;
        }
        Medrep__FollowUp *f = calloc(1, sizeof *f);
        if (!f || emit_follow_up(call, m, v->customer_id, due[k], dm) != 0) {
            free(f);
            free(due);
            return mr_call_fail(call, MR_INTERNAL, "could not stage a follow-up"), -1;
        }
        medrep__follow_up__init(f);
        char key[200];
        mr_key(key, sizeof key, call->region, "meet:fu:%s", v->customer_id);
        mr_tx_addv(call->tx, "SADD", key, m->meeting_id, NULL);
        f->customer_id = strdup(v->customer_id);
        f->due_ms = due[k++], f->has_due_ms = true;
        m->followups[m->n_followups++] = f;
    }
    free(due);
    return deadline_index(call, m, false);
}

static int on_summarised(mr_call *call, const mt_settings *s, Medrep__Meeting *m,
                         const Medrep__TransitionRequest *req)
{
    if ((has_text(req->summary) && mt_set_str(&m->summary, req->summary)) ||
        (has_text(req->director_comments) && mt_set_str(&m->director_comments, req->director_comments)) ||
        (has_text(req->feedback) && mt_set_str(&m->feedback, req->feedback)))
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    mr_listing listing;
    bool open = false;
    mr_md_get_listing(call->store, call->region, m->hospital_id, m->product_id, &listing, &open);
    int key = 0, came = 0;
    for (size_t i = 0; i < m->n_invitees; i++) {
        came += m->invitees[i]->attended;
        key += m->invitees[i]->attended && mt_in_list(mt_str(s, "key_segments"), m->invitees[i]->segment);
    }
    m->evaluation_score = mt_evaluation_score(mt_double(s, "evaluation_hardware_weight", 0.2), open, key,
                                              came, false, 0, 0);
    m->has_evaluation_score = true;
    return 0;
}

static int apply_target(mr_call *call, const mt_settings *s, Medrep__Meeting *m, mt_state to,
                        const Medrep__TransitionRequest *req, const char *actor)
{
    switch (to) {
    case MT_RESCHEDULED:
        if (mt_filed_in_advance(call, s, req->new_start_ms) != 0)
            return -1;
        m->start_ms = req->new_start_ms;
        m->rsvp_deadline_ms = m->start_ms - mt_int(s, "rsvp_deadline_hours", 24) * 3600000LL;
        clear_approvals(m);
        return deadline_index(call, m, false);
    case MT_PENDING_APPROVAL:
        clear_approvals(m);
        if (has_text(req->comment))
            return mt_set_str(&m->compliance_comment, req->comment);
        return 0;
    case MT_APPROVED:
        return add_approval(m, actor);
    case MT_INVITATIONS_OUT:
        return deadline_index(call, m, true);
    case MT_HELD:
        return on_held(call, s, m);
    case MT_SUMMARISED:
        return on_summarised(call, s, m, req);
    case MT_CANCELLED:
        return deadline_index(call, m, false);
    default:
        return 0;
    }
}

/* ---- The method ---- */

static int partial_approval(mr_call *call, Medrep__Meeting *m, const char *actor, int64_t base)
{
    const char *other = strcmp(m->approver_id, actor) == 0 ? m->second_approver_id : m->approver_id;
    if (add_approval(m, actor) || mt_history_add(m, m->state, m->state, actor, call->now_ms, "approved; awaiting the second approver"))
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    if (mt_save(call, m, base) != 0 || mt_emit_changed(call, m, m->state, m->state, actor, other) != 0)
        return call->code;
    Medrep__TransitionReply r = MEDREP__TRANSITION_REPLY__INIT;
    r.meeting = m;
    r.awaiting = (char *)other;
    return mr_call_reply(call, &r.base);
}

static void legal_targets(const mt_flow *flow, mt_state from, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < flow->count && used < cap; i++)
        if (flow->edges[i].from == from) {
            int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", mt_state_name(flow->edges[i].to));
            used += n > 0 ? (size_t)n : 0;
        }
}

static int do_transition(mr_call *call, const Medrep__TransitionRequest *req, Medrep__Meeting *m,
                         const char *actor)
{
    mt_settings s;
    mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
    mt_flow flow;
    char err[512];
    const char *flow_text = mt_get(&s, "meetings", "flow");
    if (mt_flow_parse(flow_text ? flow_text : MT_DEFAULT_FLOW, &flow, err, sizeof err) != 0)
        return mr_call_fail(call, MR_INTERNAL, "configuration: %s", err);
    int from = mt_state_parse(m->state), to = mt_state_parse(req->to_state);
    if (to < 0)
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "unknown state '%s'", req->to_state ? req->to_state : "");
    const mt_edge *edge = from < 0 ? NULL : mt_flow_find(&flow, (mt_state)from, (mt_state)to);
    if (!edge) {
        legal_targets(&flow, (mt_state)from, err, sizeof err);
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "illegal transition %s -> %s (from %s: %s)", m->state,
                            req->to_state, m->state, err[0] ? err : "none");
    }
    mt_guard_facts f;
    gather_facts(m, req, &s, actor, call->now_ms, &f);
    if (to != MT_APPROVED)
        f.approvals_missing = 0; /* one approver may reject alone */
    if (edge->guards & (1u << MT_G_COMPLIANCE)) {
        int warnings = 0;
        f.blocking_findings = mt_compliance_check(call, &s, m, &warnings);
        if (f.blocking_findings < 0)
            return call->code;
        f.uncommented_warnings = has_text(req->comment) ? 0 : warnings;
    }
    int64_t base = m->version;
    if ((edge->guards & (1u << MT_G_APPROVER)) && to == MT_APPROVED && f.actor_is_approver && f.approvals_missing > 0)
        return partial_approval(call, m, actor, base);
    if (mt_guards_check(edge, &f, err, sizeof err) > 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "%s -> %s refused: %s", m->state, req->to_state, err);
    char from_name[32];
    snprintf(from_name, sizeof from_name, "%s", m->state);
    if (apply_target(call, &s, m, (mt_state)to, req, actor) != 0)
        return call->code ? call->code : mr_call_fail(call, MR_INTERNAL, "out of memory");
    if (mt_set_str(&m->state, req->to_state) || mt_history_add(m, from_name, req->to_state, actor, call->now_ms, req->comment))
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    if (mt_save(call, m, base) != 0 || mt_emit_changed(call, m, from_name, req->to_state, actor, NULL) != 0)
        return call->code;
    Medrep__TransitionReply r = MEDREP__TRANSITION_REPLY__INIT;
    r.meeting = m;
    return mr_call_reply(call, &r.base);
}

int mt_method_transition(mr_call *call)
{
    Medrep__TransitionRequest *req = mr_call_decode(call, &medrep__transition_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    const char *actor = mt_actor(call);
    if (actor && (!req->comment || strlen(req->comment) <= 2000) && mt_load_call(call, req->meeting_id, &m) == 0)
        do_transition(call, req, m, actor);
    else if (actor && call->code == MR_OK)
        mr_call_fail(call, MR_INVALID_ARGUMENT, "comment longer than 2000 bytes");
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__transition_request__free_unpacked(req, NULL);
    return call->code;
}
