/* on_event.c: events -> reminders. Extracts the facts of an event (kind,
 * state value, anchor time, subject, people), runs the region's rules
 * (core.h): cancel rules first, then schedule rules, each recipient's
 * fire times computed in their own zone. Every write is staged in the
 * event call's tx, so it commits once per event. Reminder ids are derived
 * from rule, subject and recipient, so a later event about the same
 * subject (a meeting rescheduled) moves the same reminders. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "masterdata.h"
#include "notify.h"

#define MAX_PEOPLE 64

typedef struct {
    nt_event_kind kind;
    const char *value;          /* the state/kind field rules match on */
    int64_t anchor_ms;
    char subject[160];
    const char *rep, *dm, *approver;
    char *const *invitees, *const *staff;
    size_t n_invitees, n_staff;
    char label[160];            /* what the reminder body names */
} nt_facts;

static void meeting_facts(const Medrep__MeetingChanged *m, nt_facts *f)
{
    f->kind = NT_EV_MEETING_CHANGED;
    f->value = m->to_state;
    f->anchor_ms = m->start_ms;
    snprintf(f->subject, sizeof f->subject, "meeting:%s", m->meeting_id ? m->meeting_id : "");
    f->rep = m->rep_id, f->approver = m->approver_id;
    f->invitees = m->invitee_ids, f->n_invitees = m->n_invitee_ids;
    f->staff = m->staff_ids, f->n_staff = m->n_staff_ids;
    snprintf(f->label, sizeof f->label, "meeting %s", m->meeting_id ? m->meeting_id : "");
}

/* Fills f from ev. Returns -1 for events no rule reacts to. */
static int facts_of(const Medrep__Event *ev, int64_t now_ms, nt_facts *f)
{
    memset(f, 0, sizeof *f);
    f->anchor_ms = now_ms;
    switch (ev->body_case) {
    case MEDREP__EVENT__BODY_MEETING_CHANGED:
        meeting_facts(ev->meeting_changed, f);
        return 0;
    case MEDREP__EVENT__BODY_FOLLOW_UP_DUE: {
        const Medrep__FollowUpDue *x = ev->follow_up_due;
        f->kind = NT_EV_FOLLOW_UP_DUE, f->anchor_ms = x->due_ms, f->rep = x->rep_id, f->dm = x->dm_id;
        snprintf(f->subject, sizeof f->subject, "customer:%s:%s", x->rep_id ? x->rep_id : "",
                 x->customer_id ? x->customer_id : "");
        snprintf(f->label, sizeof f->label, "customer %s after meeting %s",
                 x->customer_id ? x->customer_id : "", x->meeting_id ? x->meeting_id : "");
        return 0;
    }
    case MEDREP__EVENT__BODY_CALL_LOGGED: {
        const Medrep__CallLogged *x = ev->call_logged;
        f->kind = NT_EV_CALL_LOGGED, f->anchor_ms = x->next_appointment_ms, f->rep = x->rep_id;
        snprintf(f->subject, sizeof f->subject, "customer:%s:%s", x->rep_id ? x->rep_id : "",
                 x->customer_id ? x->customer_id : "");
        snprintf(f->label, sizeof f->label, "customer %s", x->customer_id ? x->customer_id : "");
        return 0;
    }
    case MEDREP__EVENT__BODY_CALL_PLANNED:
    case MEDREP__EVENT__BODY_CALL_CANCELLED: {
        bool planned = ev->body_case == MEDREP__EVENT__BODY_CALL_PLANNED;
        const char *call_id = planned ? ev->call_planned->call_id : ev->call_cancelled->call_id;
        const char *customer = planned ? ev->call_planned->customer_id : ev->call_cancelled->customer_id;
        f->kind = planned ? NT_EV_CALL_PLANNED : NT_EV_CALL_CANCELLED;
        f->value = planned ? ev->call_planned->origin : ev->call_cancelled->reason;
        f->anchor_ms = planned ? ev->call_planned->start_ms : ev->call_cancelled->start_ms;
        f->rep = planned ? ev->call_planned->rep_id : ev->call_cancelled->rep_id;
        snprintf(f->subject, sizeof f->subject, "call:%s", call_id ? call_id : "");
        snprintf(f->label, sizeof f->label, "customer %s", customer ? customer : "");
        return 0;
    }
    case MEDREP__EVENT__BODY_PLAN_DUE: {
        const Medrep__PlanDue *x = ev->plan_due;
        f->kind = NT_EV_PLAN_DUE, f->value = x->kind, f->anchor_ms = x->due_ms;
        f->rep = x->rep_id, f->approver = x->approver_id;
        snprintf(f->subject, sizeof f->subject, "plan:%s:%s:%s", x->rep_id ? x->rep_id : "",
                 x->kind ? x->kind : "", x->period ? x->period : "");
        snprintf(f->label, sizeof f->label, "%s plan %s", x->kind ? x->kind : "", x->period ? x->period : "");
        return 0;
    }
    case MEDREP__EVENT__BODY_COVERAGE_BEHIND_PACE: {
        const Medrep__CoverageBehindPace *x = ev->coverage_behind_pace;
        f->kind = NT_EV_COVERAGE_BEHIND_PACE, f->value = x->segment, f->rep = x->rep_id;
        snprintf(f->subject, sizeof f->subject, "coverage:%s:%s:%s", x->rep_id ? x->rep_id : "",
                 x->segment ? x->segment : "", x->period ? x->period : "");
        snprintf(f->label, sizeof f->label, "segment %s: %.0f%% called, %.0f%% expected by now",
                 x->segment ? x->segment : "", x->actual_share * 100, x->expected_share * 100);
        return 0;
    }
    case MEDREP__EVENT__BODY_CUSTOMER_REGRADED: {
        const Medrep__CustomerRegraded *x = ev->customer_regraded;
        f->kind = NT_EV_CUSTOMER_REGRADED, f->value = x->new_segment, f->rep = x->rep_id;
        snprintf(f->subject, sizeof f->subject, "grade:%s:%s", x->customer_id ? x->customer_id : "",
                 x->product_id ? x->product_id : "");
        snprintf(f->label, sizeof f->label, "customer %s product %s: %s -> %s (%s)",
                 x->customer_id ? x->customer_id : "", x->product_id ? x->product_id : "",
                 x->old_segment ? x->old_segment : "", x->new_segment ? x->new_segment : "",
                 x->reason ? x->reason : "");
        return 0;
    }
    default:
        return -1;
    }
}

/* The DM of the event, or of its rep from the master data. */
static const char *resolve_dm(mr_event_call *call, const nt_facts *f, mr_rep *rep)
{
    if (f->dm && f->dm[0])
        return f->dm;
    if (f->rep && mr_md_id_valid(f->rep) && mr_md_get_rep(call->store, call->region, f->rep, rep) == 1 &&
        rep->dm_id[0])
        return rep->dm_id;
    return NULL;
}

/* The people of roles mask (deduplicated), at most cap. */
static size_t people_of(mr_event_call *call, const nt_facts *f, unsigned mask, const char **out,
                        size_t cap, mr_rep *rep)
{
    size_t n = 0;
    const char *single[3] = {mask & NT_TO_REP ? f->rep : NULL,
                             mask & NT_TO_DM ? resolve_dm(call, f, rep) : NULL,
                             mask & NT_TO_APPROVER ? f->approver : NULL};
    const char *candidates[MAX_PEOPLE * 2 + 3];
    size_t m = 0;
    for (size_t i = 0; i < 3; i++)
        candidates[m++] = single[i];
    for (size_t i = 0; (mask & NT_TO_INVITEES) && i < f->n_invitees && i < MAX_PEOPLE; i++)
        candidates[m++] = f->invitees[i];
    for (size_t i = 0; (mask & NT_TO_STAFF) && i < f->n_staff && i < MAX_PEOPLE; i++)
        candidates[m++] = f->staff[i];
    for (size_t i = 0; i < m && n < cap; i++) {
        bool dup = !candidates[i] || !nt_id_valid(candidates[i]);
        for (size_t j = 0; !dup && j < n; j++)
            dup = strcmp(out[j], candidates[i]) == 0;
        if (!dup)
            out[n++] = candidates[i];
    }
    return n;
}

static int cancel_subject(nt_state *st, mr_event_call *call, const char *subject)
{
    char **ids = NULL;
    long n = nt_subject_ids(call->store, call->region, subject, &ids);
    int rc = n < 0 ? -1 : 0;
    for (long i = 0; rc == 0 && i < n; i++)
        rc = nt_stage_cancel(st, call->store, call->tx, call->region, ids[i]) < 0 ? -1 : 0;
    nt_free_ids(ids, n);
    return rc;
}

/* Schedules one reminder for one person. 0 or -1. */
static int schedule_for(nt_state *st, mr_event_call *call, const nt_rule *rule, const nt_facts *f,
                        const char *person, const char *kind, int64_t due, const char *rid)
{
    char body[320];
    snprintf(body, sizeof body, "%s", f->label);
    nt_reminder r = {.id = rid, .person = person, .kind = kind, .title = rule->title, .body = body,
                     .subject = rule->per_day ? "" : f->subject, .due_ms = due, .urgent = rule->urgent};
    if (!nt_id_valid(rid)) {
        mr_warn("notify_rule_skipped", "rule=%s reason=id too long", rule->name);
        return 0;
    }
    return nt_stage_schedule(st, call->store, call->tx, call->region, &r, NULL);
}

static int apply_schedule(nt_state *st, mr_event_call *call, const nt_rule *rule,
                          const nt_facts *subject_facts, int64_t now)
{
    nt_facts copy = *subject_facts, *f = &copy;
    if (rule->anchor_event)
        f->anchor_ms = now;
    const char *people[MAX_PEOPLE];
    mr_rep rep;
    size_t n = people_of(call, f, rule->recipients, people, MAX_PEOPLE, &rep);
    for (size_t p = 0; p < n; p++) {
        nt_person who;
        int64_t times[NT_MAX_OFFSETS + 1];
        char rid[512], date[16];
        if (nt_person_load(st, call->store, call->region, people[p], rule->kind, &who) != 0)
            return -1;
        int count = nt_rule_times(rule, who.tz, f->anchor_ms, now, times, NT_MAX_OFFSETS + 1);
        for (int i = 0; i < count; i++) {
            nt_local_date(who.tz, times[i], date, sizeof date);
            if (rule->per_day)
                snprintf(rid, sizeof rid, "%s.%s.%s", rule->name, people[p], date);
            else
                snprintf(rid, sizeof rid, "%s.%s.%s.%d", rule->name, f->subject, people[p], i);
            if (schedule_for(st, call, rule, f, people[p], rule->kind, times[i], rid) != 0)
                return -1;
        }
    }
    if (!rule->escalate_to || f->anchor_ms + rule->escalate_after_ms < now - rule->max_late_ms)
        return 0;
    n = people_of(call, f, rule->escalate_to, people, MAX_PEOPLE, &rep);
    for (size_t p = 0; p < n; p++) {
        char rid[512];
        int64_t due = f->anchor_ms + rule->escalate_after_ms;
        snprintf(rid, sizeof rid, "%s.%s.%s.esc", rule->name, f->subject, people[p]);
        if (schedule_for(st, call, rule, f, people[p], rule->escalate_kind, due < now ? now : due, rid) != 0)
            return -1;
    }
    return 0;
}

int nt_on_event(mr_event_call *call)
{
    nt_state *st = mr_service_state(call->svc);
    const nt_region *reg = nt_region_find(st, call->region);
    int64_t now = call->now_ms + st->set.clock_skew_ms;
    nt_facts f;
    if (!reg || facts_of(call->ev, now, &f) != 0)
        return 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < reg->rule_count; i++) {
            const nt_rule *rule = &reg->rules[i];
            if (rule->cancel != (pass == 0) || !nt_rule_matches(rule, f.kind, f.value) ||
                (pass == 1 && !rule->anchor_event && f.anchor_ms <= 0))
                continue;
            int rc = pass == 0 ? cancel_subject(st, call, f.subject) : apply_schedule(st, call, rule, &f, now);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}
