/* test_meetings_lifecycle.c: the meetings service through the real broker
 * on a real Redis: each precondition failing alone, the proposal with
 * suggestions, approval routing (a second approver over the budget
 * threshold), the whole lifecycle with every illegal transition refused
 * at every state (changing nothing), guards, who/when history, sign-in
 * with a substitute and a walk-in, the KPIs, follow-ups and absentee
 * tasks, the summary and closing, reimbursement refused with three
 * documents, backups on decline and on the deadline, the cap and the
 * prescriber-only filter, cancellation and rescheduling, filing in
 * advance, the iCalendar export, and bad input. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <libical/ical.h>

#include "meetings_testlib.h"

#define CONFIG                                     \
    "[meetings]\n"                                 \
    "second_approver = RM1\n"                      \
    "approval_threshold_cents = 500000\n"          \
    "checklist = gifts,projector,sign_in_sheet\n"  \
    "[meetings@kind:pim]\n"                      \
    "filing_lead_hours = 48\n"

static int setup(void **state)
{
    (void)state;
    return mtl_start(CONFIG, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return mtl_stop();
}

/* ---- Preconditions ---- */

static void expect_precondition(Medrep__Meeting *m, const char *name)
{
    int code = mtl_propose(m, (const char *[]){"C01", NULL}, false, NULL, 0);
    assert_int_equal(code, MR_FAILED_PRECONDITION);
    char want[128];
    snprintf(want, sizeof want, "preconditions failed: %s", name);
    if (strcmp(mtl_msg, want) != 0)
        fail_msg("got '%s', want '%s'", mtl_msg, want);
}

static void test_each_precondition_fails_alone(void **state)
{
    (void)state;
    int64_t t = mr_now_ms() + 10 * DAY_MS;
    Medrep__Meeting m;
    mtl_base_meeting(&m, t);
    char id[64];
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    /* not listed: H2 has only filed its application */
    static char *allies2[] = {"AO_H2", "AI_H2"}, *allies3[] = {"AO_H3", "AI_H3"};
    mtl_base_meeting(&m, t);
    m.hospital_id = "H2", m.department_id = "D2", m.ally_ids = allies2;
    expect_precondition(&m, "listed");
    /* listed but the supply channel is blocked */
    mtl_base_meeting(&m, t);
    m.hospital_id = "H3", m.department_id = "D3", m.ally_ids = allies3;
    expect_precondition(&m, "channel_open");
    mtl_base_meeting(&m, t);
    m.director_agreed = false;
    expect_precondition(&m, "director_agreed");
    static char *only_in[] = {"AI_H1"}, *only_out[] = {"AO_H1"}, *wrong_title[] = {"AO_H1", "C08"};
    mtl_base_meeting(&m, t);
    m.ally_ids = only_in, m.n_ally_ids = 1;
    expect_precondition(&m, "outpatient_ally");
    mtl_base_meeting(&m, t);
    m.ally_ids = only_out, m.n_ally_ids = 1;
    expect_precondition(&m, "inpatient_ally");
    /* an inpatient resident is no associate-chief ally */
    mtl_base_meeting(&m, t);
    m.ally_ids = wrong_title, m.n_ally_ids = 2;
    expect_precondition(&m, "inpatient_ally");
    /* two failing at once are both named */
    mtl_base_meeting(&m, t);
    m.director_agreed = false, m.ally_ids = only_in, m.n_ally_ids = 1;
    assert_int_equal(mtl_propose(&m, NULL, false, NULL, 0), MR_FAILED_PRECONDITION);
    assert_string_equal(mtl_msg, "preconditions failed: director_agreed, outpatient_ally");
    /* the names travel in the reply's payload too */
    Medrep__ProposeMeetingRequest pr = MEDREP__PROPOSE_MEETING_REQUEST__INIT;
    pr.meeting = &m;
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = "R1";
    uint8_t buf[2048];
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.region = "north", req.method = "ProposeMeeting", req.caller = &caller;
    req.payload.data = buf, req.payload.len = medrep__propose_meeting_request__pack(&pr, buf), req.has_payload = true;
    Medrep__Reply *rep = mr_client_call(mtl_client, "meetings", &req, 5000);
    assert_int_equal(rep->status->code, MR_FAILED_PRECONDITION);
    Medrep__ProposeMeetingReply *fr = medrep__propose_meeting_reply__unpack(NULL, rep->payload.len, rep->payload.data);
    assert_non_null(fr);
    assert_int_equal(fr->n_failed_preconditions, 2);
    assert_string_equal(fr->failed_preconditions[0], "director_agreed");
    assert_string_equal(fr->failed_preconditions[1], "outpatient_ally");
    medrep__propose_meeting_reply__free_unpacked(fr, NULL);
    medrep__reply__free_unpacked(rep, NULL);
}

/* ---- Proposal and suggestions ---- */

static void test_proposal_suggestions(void **state)
{
    (void)state;
    Medrep__Meeting m;
    mtl_base_meeting(&m, mr_now_ms() + 20 * DAY_MS);
    m.head_count_cap = 5, m.has_head_count_cap = true;
    m.prescriber_only = true, m.has_prescriber_only = true;
    char id[64];
    assert_int_equal(mtl_propose(&m, NULL, true, id, sizeof id), MR_OK);
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_non_null(r);
    const Medrep__Meeting *g = r->meeting;
    /* A first (by id), then B up to the cap of 5, then a standby backup of the same segment */
    const char *want[] = {"C01", "C02", "C03", "RISKY", "C04", "C05"};
    assert_int_equal(g->n_invitees, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(g->invitees[i]->customer_id, want[i]);
    assert_string_equal(g->invitees[5]->backup_for, "C04");
    assert_string_equal(g->invitees[5]->status, "standby");
    assert_string_equal(g->invitees[4]->segment, "B");
    assert_int_equal(r->expected, 5);
    assert_string_equal(g->approver_id, "DM1");
    assert_true(g->second_approver_id == NULL || g->second_approver_id[0] == 0);
    assert_int_equal(g->n_checklist, 3);
    assert_int_equal(g->duration_min, 35);
    assert_int_equal(r->staff_min, 2);
    assert_int_equal(r->staff_max, 3);
    assert_int_equal(r->staff_call_ms, g->start_ms - 60 * MIN_MS);
    assert_int_equal(r->setup_by_ms, g->start_ms - 10 * MIN_MS);
    medrep__get_meeting_reply__free_unpacked(r, NULL);

    /* Suggest: speakers without compliance risk, KOL first; slots from the moments */
    Medrep__SuggestRequest sq = MEDREP__SUGGEST_REQUEST__INIT;
    sq.department_id = "D1", sq.product_id = "P1", sq.kind = "in_department";
    sq.days = 7, sq.has_days = true;
    ProtobufCMessage *out = NULL;
    assert_int_equal(mtl_rpc_as("R1", "Suggest", &sq.base, &medrep__suggest_reply__descriptor, &out), MR_OK);
    Medrep__SuggestReply *s = (Medrep__SuggestReply *)out;
    assert_true(s->n_speaker_ids >= 3);
    assert_string_equal(s->speaker_ids[0], "C01");
    for (size_t i = 0; i < s->n_speaker_ids; i++)
        assert_string_not_equal(s->speaker_ids[i], "RISKY");
    assert_true(s->n_slot_start_ms >= 2);       /* 7 days hold at least a field day */
    /* by local day (Asia/Shanghai, UTC+8); on one day handover before rounds_end */
#define LOCAL_DAY(ms) (((ms) + 8 * 3600000LL) / DAY_MS)
    int same_day = 0;
    for (size_t i = 1; i < s->n_slot_start_ms; i++) {
        assert_true(LOCAL_DAY(s->slot_start_ms[i]) >= LOCAL_DAY(s->slot_start_ms[i - 1]));
        if (LOCAL_DAY(s->slot_start_ms[i]) == LOCAL_DAY(s->slot_start_ms[i - 1])) {
            assert_string_equal(s->slot_names[i - 1], "handover");
            assert_string_equal(s->slot_names[i], "rounds_end");
            assert_true(s->slot_start_ms[i] > s->slot_start_ms[i - 1]);
            same_day++;
        }
    }
    assert_true(same_day >= 1);
    /* a committed meeting of one of the staff takes its slot out */
    int64_t first = s->slot_start_ms[0], second = s->slot_start_ms[1];
    medrep__suggest_reply__free_unpacked(s, NULL);
    static char *busy_staff[] = {"ST9", "ST8"};
    char busy_id[64];
    mtl_base_meeting(&m, first);
    m.staff_ids = busy_staff, m.n_staff_ids = 2;
    assert_int_equal(mtl_propose(&m, (const char *[]){"C07", NULL}, false, busy_id, sizeof busy_id), MR_OK);
    sq.staff_ids = busy_staff, sq.n_staff_ids = 1;
    out = NULL;
    assert_int_equal(mtl_rpc_as("R1", "Suggest", &sq.base, &medrep__suggest_reply__descriptor, &out), MR_OK);
    s = (Medrep__SuggestReply *)out;
    assert_int_equal(s->slot_start_ms[0], first);      /* a mere proposal blocks nothing */
    medrep__suggest_reply__free_unpacked(s, NULL);
    assert_int_equal(mtl_approve(busy_id), MR_OK);
    out = NULL;
    assert_int_equal(mtl_rpc_as("R1", "Suggest", &sq.base, &medrep__suggest_reply__descriptor, &out), MR_OK);
    s = (Medrep__SuggestReply *)out;
    assert_int_equal(s->slot_start_ms[0], second);
    medrep__suggest_reply__free_unpacked(s, NULL);
    /* with a rep, scheduling is asked for the rep's fixed calls: here it does not run */
    sq.rep_id = "R1";
    assert_int_equal(mtl_rpc_as("R1", "Suggest", &sq.base, &medrep__suggest_reply__descriptor, NULL), MR_UNAVAILABLE);
    assert_non_null(strstr(mtl_msg, "scheduling"));

    /* a speaker with high compliance risk is refused */
    mtl_base_meeting(&m, mr_now_ms() + 21 * DAY_MS);
    m.speaker_id = "RISKY";
    assert_int_equal(mtl_propose(&m, (const char *[]){"C02", NULL}, false, NULL, 0), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "compliance risk"));
}

/* ---- Approval routing ---- */

static void test_second_approver_over_budget(void **state)
{
    (void)state;
    Medrep__Meeting m;
    mtl_base_meeting(&m, mr_now_ms() + 30 * DAY_MS);
    m.budget_cents = 600000, m.head_count = 10, m.has_head_count = true;
    char id[64];
    assert_int_equal(mtl_propose(&m, (const char *[]){"C06", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "pending_approval", NULL), MR_OK);
    /* someone who is no approver */
    assert_int_equal(mtl_transition("R1", id, "approved", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "not a required approver"));
    /* the DM approves: the state waits for the second approver */
    assert_int_equal(mtl_transition("DM1", id, "approved", NULL), MR_OK);
    mtl_state_is(id, "pending_approval");
    assert_int_equal(mtl_transition("DM1", id, "approved", NULL), MR_FAILED_PRECONDITION);
    assert_int_equal(mtl_transition("RM1", id, "approved", NULL), MR_OK);
    mtl_state_is(id, "approved");
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_string_equal(r->meeting->second_approver_id, "RM1");
    assert_int_equal(r->meeting->n_approvals, 2);
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    /* under the threshold one approval is enough; a rejection needs a comment */
    mtl_base_meeting(&m, mr_now_ms() + 31 * DAY_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C06", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "pending_approval", NULL), MR_OK);
    assert_int_equal(mtl_transition("DM1", id, "rejected", NULL), MR_FAILED_PRECONDITION);
    assert_int_equal(mtl_transition("DM1", id, "rejected", "no budget this quarter"), MR_OK);
    mtl_state_is(id, "rejected");
}

/* ---- The whole lifecycle ---- */

static bool legal(const char *from, const char *to)
{
    static const char *const edges[] = {
        "proposed>pending_approval", "pending_approval>approved", "pending_approval>rejected",
        "approved>confirmed", "confirmed>invitations_out", "invitations_out>in_progress",
        "in_progress>held", "held>summarised", "summarised>closed", "rescheduled>pending_approval"};
    char e[80];
    snprintf(e, sizeof e, "%s>%s", from, to);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        if (strcmp(edges[i], e) == 0)
            return true;
    const char *before = "proposed,pending_approval,approved,confirmed,invitations_out,in_progress,rescheduled";
    bool b = strstr(before, from) != NULL;
    return (strcmp(to, "cancelled") == 0 && b) || (strcmp(to, "rescheduled") == 0 && b && strcmp(from, "rescheduled") != 0);
}

static const char *const STATES[] = {"proposed", "pending_approval", "approved", "rejected", "confirmed",
                                     "invitations_out", "in_progress", "held", "summarised", "closed",
                                     "cancelled", "rescheduled"};

/* Every illegal target from the meeting's current state is refused and
 * changes nothing (same version, same history). */
static void illegal_all_refused(const char *id, const char *state)
{
    Medrep__GetMeetingReply *before = mtl_get(id);
    assert_string_equal(before->meeting->state, state);
    for (size_t i = 0; i < sizeof STATES / sizeof STATES[0]; i++) {
        if (legal(state, STATES[i]))
            continue;
        assert_int_equal(mtl_transition("DM1", id, STATES[i], "x"), MR_FAILED_PRECONDITION);
        assert_non_null(strstr(mtl_msg, "illegal transition"));
    }
    Medrep__GetMeetingReply *after = mtl_get(id);
    assert_int_equal(after->meeting->version, before->meeting->version);
    assert_int_equal(after->meeting->n_history, before->meeting->n_history);
    medrep__get_meeting_reply__free_unpacked(before, NULL);
    medrep__get_meeting_reply__free_unpacked(after, NULL);
}

static int sign_in(const char *id, const char *who, const char *substitute_for)
{
    Medrep__SignInRequest req = MEDREP__SIGN_IN_REQUEST__INIT;
    req.meeting_id = (char *)id, req.customer_id = (char *)who, req.substitute_for = (char *)substitute_for;
    return mtl_rpc_as("S9", "SignIn", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static int check(const char *id, const char *item, const char *round)
{
    Medrep__ChecklistRequest req = MEDREP__CHECKLIST_REQUEST__INIT;
    req.meeting_id = (char *)id, req.item = (char *)item, req.round = (char *)round;
    return mtl_rpc_as("S9", "Checklist", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static int doc(const char *id, const char *name)
{
    Medrep__DocumentRequest req = MEDREP__DOCUMENT_REQUEST__INIT;
    req.meeting_id = (char *)id, req.document = (char *)name;
    return mtl_rpc_as("R1", "AttachDocument", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static int reimburse(const char *id)
{
    Medrep__ReimburseRequest req = MEDREP__REIMBURSE_REQUEST__INIT;
    req.meeting_id = (char *)id;
    return mtl_rpc_as("R1", "Reimburse", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static int follow_up_done(const char *id, const char *who)
{
    Medrep__FollowUpDoneRequest req = MEDREP__FOLLOW_UP_DONE_REQUEST__INIT;
    req.meeting_id = (char *)id, req.customer_id = (char *)who;
    return mtl_rpc_as("R1", "FollowUpDone", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

/* Appends a CallLogged event as scheduling would. */
static void log_call(const char *customer, int64_t start_ms)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CallLogged cl = MEDREP__CALL_LOGGED__INIT;
    char eid[64];
    snprintf(eid, sizeof eid, "call-%s-%lld", customer, (long long)start_ms);
    ev.event_id = eid, ev.region = "north";
    cl.call_id = eid, cl.rep_id = "R1", cl.customer_id = (char *)customer, cl.product_id = "P1";
    cl.start_ms = start_ms, cl.has_start_ms = true;
    ev.body_case = MEDREP__EVENT__BODY_CALL_LOGGED;
    ev.call_logged = &cl;
    mr_tx *tx = mr_tx_new();
    assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
    assert_int_equal(mr_tx_commit(mtl_store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
}

typedef struct {
    const char *meeting;
    const char *to_state;
} ev_filter;

static int is_change(const Medrep__Event *ev, const void *arg)
{
    const ev_filter *f = arg;
    return ev->body_case == MEDREP__EVENT__BODY_MEETING_CHANGED &&
           strcmp(ev->meeting_changed->meeting_id, f->meeting) == 0 &&
           (!f->to_state || strcmp(ev->meeting_changed->to_state, f->to_state) == 0);
}

/* A change that says where, how long and what kind the meeting is (what
 * scheduling makes its stop from). */
static int is_placed_change(const Medrep__Event *ev, const void *arg)
{
    if (!is_change(ev, arg))
        return 0;
    const Medrep__MeetingChanged *m = ev->meeting_changed;
    return m->hospital_id && !strcmp(m->hospital_id, "H1") && m->kind && !strcmp(m->kind, "in_department") &&
           m->has_duration_min && m->duration_min > 0;
}

static int64_t g_start;
static int is_follow_up(const Medrep__Event *ev, const void *arg)
{
    if (ev->body_case != MEDREP__EVENT__BODY_FOLLOW_UP_DUE || strcmp(ev->follow_up_due->meeting_id, arg) != 0)
        return 0;
    const Medrep__FollowUpDue *f = ev->follow_up_due;
    /* due after the meeting day and within the 7 days that follow it */
    assert_true(f->due_ms > g_start);
    assert_true(f->due_ms < g_start + 8 * DAY_MS);
    assert_string_equal(f->rep_id, "R1");
    assert_string_equal(f->dm_id, "DM1");
    return 1;
}

static void test_whole_lifecycle(void **state)
{
    (void)state;
    Medrep__Meeting m;
    g_start = mr_now_ms() + 30 * MIN_MS;
    mtl_base_meeting(&m, g_start);
    static char *staff[] = {"ST1", "ST2"};
    m.staff_ids = staff, m.n_staff_ids = 2;
    char id[64];
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C02", "C03", "C04", "C05>C04", NULL}, false, id,
                                 sizeof id), MR_OK);
    illegal_all_refused(id, "proposed");
    assert_int_equal(mtl_transition("R1", id, "pending_approval", NULL), MR_OK);
    illegal_all_refused(id, "pending_approval");
    assert_int_equal(mtl_transition("DM1", id, "approved", NULL), MR_OK);
    illegal_all_refused(id, "approved");
    assert_int_equal(mtl_transition("R1", id, "confirmed", "director confirmed the list"), MR_OK);
    illegal_all_refused(id, "confirmed");
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_OK);
    illegal_all_refused(id, "invitations_out");
    /* the checklist guards the opening: checked the day before and on the day */
    assert_int_equal(mtl_transition("R1", id, "in_progress", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "3 checklist item(s) not checked"));
    const char *items[] = {"gifts", "projector", "sign_in_sheet"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(check(id, items[i], "day_before"), MR_OK);
        assert_int_equal(check(id, items[i], "day_of"), MR_OK);
    }
    assert_int_equal(check(id, "balloons", "day_of"), MR_NOT_FOUND);
    assert_int_equal(check(id, "gifts", "someday"), MR_INVALID_ARGUMENT);
    /* sign-in is not open before the meeting is in progress */
    assert_int_equal(sign_in(id, "C01", NULL), MR_FAILED_PRECONDITION);
    assert_int_equal(mtl_transition("R1", id, "in_progress", NULL), MR_OK);
    illegal_all_refused(id, "in_progress");
    assert_int_equal(mtl_transition("R1", id, "held", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "nobody signed in"));
    assert_int_equal(sign_in(id, "C01", NULL), MR_OK);
    assert_int_equal(sign_in(id, "C02", NULL), MR_OK);
    assert_int_equal(sign_in(id, "S1", "C03"), MR_OK);      /* a substitute */
    assert_int_equal(sign_in(id, "W1", NULL), MR_OK);       /* a walk-in */
    assert_int_equal(sign_in(id, "S1", "NOBODY"), MR_OK);   /* already signed: idempotent */
    assert_int_equal(mtl_transition("R1", id, "held", NULL), MR_OK);
    illegal_all_refused(id, "held");
    /* KPIs: expected C01..C04 (C05 stayed on standby), 4 attendees, 2 expected came */
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_int_equal(r->expected, 4);
    assert_int_equal(r->attendees, 4);
    assert_int_equal(r->expected_came, 2);
    assert_true(r->attendance_rate > 0.999 && r->attendance_rate < 1.001);
    assert_true(r->attendee_accuracy > 0.499 && r->attendee_accuracy < 0.501);
    /* follow-ups for the 4 attendees; gift-and-materials tasks for the absentees C03 and C04 */
    assert_int_equal(r->meeting->n_followups, 4);
    assert_int_equal(r->meeting->n_absentee_tasks, 2);
    assert_string_equal(r->meeting->absentee_tasks[0], "C03");
    assert_string_equal(r->meeting->absentee_tasks[1], "C04");
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    assert_int_equal(mtl_count_events(is_follow_up, id), 4);
    /* reimbursement needs all four documents */
    assert_int_equal(doc(id, "notice"), MR_OK);
    assert_int_equal(doc(id, "sign_in_sheet"), MR_OK);
    assert_int_equal(doc(id, "invoice"), MR_OK);
    assert_int_equal(reimburse(id), MR_FAILED_PRECONDITION);
    assert_string_equal(mtl_msg, "reimbursement refused: missing expense_detail");
    assert_int_equal(doc(id, "expense_detail"), MR_OK);
    assert_int_equal(reimburse(id), MR_OK);
    assert_int_equal(reimburse(id), MR_ALREADY_EXISTS);
    /* the summary is required */
    assert_int_equal(mtl_transition("R1", id, "summarised", NULL), MR_FAILED_PRECONDITION);
    Medrep__TransitionRequest tr = MEDREP__TRANSITION_REQUEST__INIT;
    tr.meeting_id = id, tr.to_state = "summarised";
    tr.summary = "Good attendance, the talk kept to 20 minutes";
    tr.director_comments = "Useful for the ward";
    tr.feedback = "Questions on renal dosing";
    assert_int_equal(mtl_rpc_as("R1", "Transition", &tr.base, &medrep__transition_reply__descriptor, NULL), MR_OK);
    illegal_all_refused(id, "summarised");
    r = mtl_get(id);
    assert_string_equal(r->meeting->director_comments, "Useful for the ward");
    /* channel open (0.5) + 2 of 4 attendees are A/B guests (0.25) */
    assert_true(r->meeting->evaluation_score > 74.9 && r->meeting->evaluation_score < 75.1);
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    /* closed only when every follow-up is done */
    assert_int_equal(mtl_transition("R1", id, "closed", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "4 follow-up(s) not done"));
    /* a call logged on C01 by the rep after the meeting does C01's follow-up */
    /* (events are handled in order: when C01's is seen, C02's was handled) */
    log_call("C02", g_start - DAY_MS);   /* before the meeting: not a follow-up */
    log_call("C01", g_start + DAY_MS);
    int open = 4;
    for (int i = 0; i < 200 && open > 3; i++) {
        usleep(50000);
        r = mtl_get(id);
        open = 0;
        for (size_t k = 0; k < r->meeting->n_followups; k++)
            open += r->meeting->followups[k]->done_ms == 0;
        medrep__get_meeting_reply__free_unpacked(r, NULL);
    }
    assert_int_equal(open, 3);
    assert_int_equal(mtl_transition("R1", id, "closed", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "3 follow-up(s) not done"));
    const char *att[] = {"C02", "S1", "W1"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(follow_up_done(id, att[i]), MR_OK);
    assert_int_equal(follow_up_done(id, "C04"), MR_NOT_FOUND);
    assert_int_equal(mtl_transition("R1", id, "closed", NULL), MR_OK);
    illegal_all_refused(id, "closed");
    /* who and when: every step in the history, and one MeetingChanged per step */
    r = mtl_get(id);
    assert_int_equal(r->meeting->n_history, 9);
    assert_string_equal(r->meeting->history[2]->actor_id, "DM1");
    assert_string_equal(r->meeting->history[2]->to_state, "approved");
    assert_true(r->meeting->history[2]->at_ms > 0);
    assert_string_equal(r->meeting->history[3]->comment, "director confirmed the list");
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    /* later: attendees' prescriptions against non-attendees' of the department */
    Medrep__RxChange ch[4], *pch[4];
    const char *who[] = {"C01", "C02", "C04", "C07"};
    double before[] = {0.10, 0.20, 0.10, 0.30}, after[] = {0.20, 0.30, 0.12, 0.28};
    for (int i = 0; i < 4; i++) {
        medrep__rx_change__init(&ch[i]);
        ch[i].customer_id = (char *)who[i];
        ch[i].share_before = before[i], ch[i].has_share_before = true;
        ch[i].share_after = after[i], ch[i].has_share_after = true;
        pch[i] = &ch[i];
    }
    Medrep__EvaluateRequest eq = MEDREP__EVALUATE_REQUEST__INIT;
    eq.meeting_id = id, eq.changes = pch, eq.n_changes = 2;   /* attendees only: no comparison */
    assert_int_equal(mtl_rpc_as("R1", "Evaluate", &eq.base, &medrep__evaluate_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    eq.n_changes = 4;
    ProtobufCMessage *eout = NULL;
    assert_int_equal(mtl_rpc_as("R1", "Evaluate", &eq.base, &medrep__evaluate_reply__descriptor, &eout), MR_OK);
    Medrep__EvaluateReply *er = (Medrep__EvaluateReply *)eout;
    assert_true(er->attendee_change_points > 9.99 && er->attendee_change_points < 10.01);
    assert_true(er->non_attendee_change_points > -0.01 && er->non_attendee_change_points < 0.01);
    /* 0.2 x hardware 0.75 + 0.8 x (10 points of 10) = 0.95 */
    assert_true(er->evaluation_score > 94.99 && er->evaluation_score < 95.01);
    protobuf_c_message_free_unpacked(eout, NULL);
    ev_filter all = {id, NULL}, inv = {id, "invitations_out"};
    assert_int_equal(mtl_count_events(is_change, &all), 9);
    /* the event carries what a reminder needs, and the meeting's place */
    assert_int_equal(mtl_count_events(is_change, &inv), 1);
    assert_int_equal(mtl_count_events(is_placed_change, &all), 9);
}

static int is_invitation(const Medrep__Event *ev, const void *arg)
{
    return ev->body_case == MEDREP__EVENT__BODY_INVITATION_SENT && strcmp(ev->invitation_sent->meeting_id, arg) == 0;
}

static int rsvp(const char *id, const char *who, const char *answer, char *backup, size_t cap)
{
    Medrep__RsvpRequest req = MEDREP__RSVP_REQUEST__INIT;
    req.meeting_id = (char *)id, req.customer_id = (char *)who, req.answer = (char *)answer;
    ProtobufCMessage *out = NULL;
    int code = mtl_rpc_as(who, "Rsvp", &req.base, &medrep__rsvp_reply__descriptor, &out);
    if (backup)
        snprintf(backup, cap, "%s", code == MR_OK && ((Medrep__RsvpReply *)out)->backup_invited
                                        ? ((Medrep__RsvpReply *)out)->backup_invited : "");
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
    return code;
}

static void to_invitations_out(const char *id)
{
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_OK);
}

static void test_backups_on_decline_and_deadline(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64], backup[64];
    /* decline: the RSVP deadline (24 h before) is still ahead */
    mtl_base_meeting(&m, mr_now_ms() + 40 * DAY_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C04", "C02>C01", "C05>C04", NULL}, false, id,
                                 sizeof id), MR_OK);
    assert_int_equal(rsvp(id, "C01", "declined", NULL, 0), MR_FAILED_PRECONDITION); /* not sent yet */
    to_invitations_out(id);
    assert_int_equal(rsvp(id, "C04", "accepted", backup, sizeof backup), MR_OK);
    assert_string_equal(backup, "");
    assert_int_equal(rsvp(id, "C01", "declined", backup, sizeof backup), MR_OK);
    assert_string_equal(backup, "C02");
    assert_int_equal(rsvp(id, "C01", "maybe", NULL, 0), MR_INVALID_ARGUMENT);
    assert_int_equal(rsvp(id, "C07", "accepted", NULL, 0), MR_NOT_FOUND);
    assert_int_equal(mtl_count_events(is_invitation, id), 1);
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_int_equal(r->expected, 2);   /* C04 and the backup C02 */
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    Medrep__CheckDeadlinesRequest cq = MEDREP__CHECK_DEADLINES_REQUEST__INIT;
    ProtobufCMessage *out = NULL;
    assert_int_equal(mtl_rpc_as("ops", "CheckDeadlines", &cq.base, &medrep__check_deadlines_reply__descriptor, &out), MR_OK);
    protobuf_c_message_free_unpacked(out, NULL);
    assert_int_equal(mtl_count_events(is_invitation, id), 1);  /* its deadline is ahead */

    /* deadline: a meeting 2 hours ahead has its RSVP deadline behind it */
    mtl_base_meeting(&m, mr_now_ms() + 2 * 3600000LL);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C04", "C07", "C02>C01", "C05>C04", NULL}, false,
                                 id, sizeof id), MR_OK);
    to_invitations_out(id);
    assert_int_equal(rsvp(id, "C04", "accepted", NULL, 0), MR_OK);
    out = NULL;
    assert_int_equal(mtl_rpc_as("ops", "CheckDeadlines", &cq.base, &medrep__check_deadlines_reply__descriptor, &out), MR_OK);
    Medrep__CheckDeadlinesReply *cd = (Medrep__CheckDeadlinesReply *)out;
    assert_true(cd->meetings_checked >= 1);
    assert_int_equal(cd->backups_invited, 1);   /* C01 silent: C02 invited; C04 answered; C07 no key guest */
    protobuf_c_message_free_unpacked(out, NULL);
    r = mtl_get(id);
    assert_string_equal(r->meeting->invitees[0]->rsvp, "no_answer");
    assert_string_equal(r->meeting->invitees[3]->status, "expected");
    assert_string_equal(r->meeting->invitees[4]->status, "standby");
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    assert_int_equal(mtl_count_events(is_invitation, id), 1);
    /* a second check finds nothing more to do */
    out = NULL;
    assert_int_equal(mtl_rpc_as("ops", "CheckDeadlines", &cq.base, &medrep__check_deadlines_reply__descriptor, &out), MR_OK);
    assert_int_equal(((Medrep__CheckDeadlinesReply *)out)->backups_invited, 0);
    protobuf_c_message_free_unpacked(out, NULL);
}

static int invite(const char *id, const char *who)
{
    Medrep__Invitee v = MEDREP__INVITEE__INIT, *pv = &v;
    v.customer_id = (char *)who;
    Medrep__InviteRequest req = MEDREP__INVITE_REQUEST__INIT;
    req.meeting_id = (char *)id, req.invitees = &pv, req.n_invitees = 1;
    return mtl_rpc_as("R1", "Invite", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static void test_cap_and_prescriber_only(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 50 * DAY_MS);
    m.prescriber_only = true, m.has_prescriber_only = true;
    m.head_count_cap = 3, m.has_head_count_cap = true;
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C02", "C03", "C04", NULL}, false, NULL, 0),
                     MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "cap of 3"));
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "N1", NULL}, false, NULL, 0), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "prescriber-only"));
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "INT1", NULL}, false, NULL, 0), MR_FAILED_PRECONDITION);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C02", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(invite(id, "C03"), MR_OK);
    assert_int_equal(invite(id, "C04"), MR_FAILED_PRECONDITION);
    assert_int_equal(invite(id, "N1"), MR_FAILED_PRECONDITION);
    assert_int_equal(invite(id, "GHOST"), MR_NOT_FOUND);
    /* staff by size: 2-3 for a small meeting, 3-5 for a large one */
    static char *one[] = {"ST1"};
    mtl_base_meeting(&m, mr_now_ms() + 52 * DAY_MS);
    m.staff_ids = one, m.n_staff_ids = 1;
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "staff: 1 staff named, 2-3 needed"));
    mtl_base_meeting(&m, mr_now_ms() + 53 * DAY_MS);
    m.kind = "out_of_department", m.head_count = 30;   /* a large meeting, two staff */
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "2 staff named, 3-5 needed"));
    /* the default cap of an in-department meeting is 10 */
    mtl_base_meeting(&m, mr_now_ms() + 51 * DAY_MS);
    Medrep__GetMeetingReply *r;
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    r = mtl_get(id);
    assert_int_equal(r->meeting->head_count_cap, 10);
    medrep__get_meeting_reply__free_unpacked(r, NULL);
}

static void test_cancel_and_reschedule(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 60 * DAY_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C04", NULL}, false, id, sizeof id), MR_OK);
    to_invitations_out(id);
    assert_int_equal(h_redis_int(mtl_store, "ZCARD %s", "{r:north}:meet:deadlines") >= 1, 1);
    /* rescheduling needs a new time and goes back through approval */
    assert_int_equal(mtl_transition("R1", id, "rescheduled", NULL), MR_FAILED_PRECONDITION);
    Medrep__TransitionRequest tr = MEDREP__TRANSITION_REQUEST__INIT;
    tr.meeting_id = id, tr.to_state = "rescheduled";
    tr.new_start_ms = mr_now_ms() + 61 * DAY_MS, tr.has_new_start_ms = true;
    assert_int_equal(mtl_rpc_as("R1", "Transition", &tr.base, &medrep__transition_reply__descriptor, NULL), MR_OK);
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_int_equal(r->meeting->start_ms, tr.new_start_ms);
    assert_int_equal(r->meeting->n_approvals, 0);
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    assert_int_equal(mtl_transition("DM1", id, "approved", NULL), MR_FAILED_PRECONDITION);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_OK);
    /* cancelling needs a reason, and tells everyone who was told */
    assert_int_equal(mtl_transition("R1", id, "cancelled", NULL), MR_FAILED_PRECONDITION);
    assert_int_equal(mtl_transition("R1", id, "cancelled", "the director is away"), MR_OK);
    ev_filter f = {id, "cancelled"};
    assert_int_equal(mtl_count_events(is_change, &f), 1);
    mr_val *v = mr_store_cmd(mtl_store, "ZSCORE %s %s", "{r:north}:meet:deadlines", id);
    assert_int_equal(mr_val_type(v), MR_VAL_NIL);   /* no backup will be invited any more */
    mr_val_free(&v);
    assert_int_equal(rsvp(id, "C01", "declined", NULL, 0), MR_FAILED_PRECONDITION);
    illegal_all_refused(id, "cancelled");
}

static void test_ical_export(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 70 * DAY_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C04", NULL}, false, id, sizeof id), MR_OK);
    Medrep__ExportIcalRequest req = MEDREP__EXPORT_ICAL_REQUEST__INIT;
    req.meeting_id = id;
    ProtobufCMessage *out = NULL;
    assert_int_equal(mtl_rpc_as("R1", "ExportIcal", &req.base, &medrep__export_ical_reply__descriptor, &out), MR_OK);
    const char *ics = ((Medrep__ExportIcalReply *)out)->ics;
    if (getenv("MT_DEBUG"))
        fputs(ics, stderr);
    assert_non_null(strstr(ics, "BEGIN:VCALENDAR"));
    assert_non_null(strstr(ics, "METHOD:REQUEST"));
    char uid[96];
    snprintf(uid, sizeof uid, "UID:%s@medrep", id);
    assert_non_null(strstr(ics, uid));
    /* parse it back: lines are folded at 75 octets */
    icalcomponent *cal = icalparser_parse_string(ics);
    assert_non_null(cal);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_non_null(ev);
    assert_string_equal(icalcomponent_get_summary(ev), "New indication of Cardiozol");
    assert_int_equal(icaltime_as_timet(icalcomponent_get_dtstart(ev)), m.start_ms / 1000);
    assert_int_equal(icaltime_as_timet(icalcomponent_get_dtend(ev)), m.start_ms / 1000 + 35 * 60);
    int attendees = 0;
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
        const char *who = icalproperty_get_attendee(p);
        assert_true(strcmp(who, "urn:medrep:customer:C01") == 0 || strcmp(who, "urn:medrep:customer:C04") == 0);
        attendees++;
    }
    assert_int_equal(attendees, 2);
    assert_non_null(strstr(icalcomponent_get_description(ev), "Asia/Shanghai"));
    icalcomponent_free(cal);
    protobuf_c_message_free_unpacked(out, NULL);
}

/* Filed in advance: PIMs here must be proposed (and rescheduled) 48 hours ahead. */
static void test_filed_in_advance(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + DAY_MS);
    m.kind = "pim";
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "at least 48 hours"));
    mtl_base_meeting(&m, mr_now_ms() + 3 * DAY_MS);
    m.kind = "pim";
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    Medrep__TransitionRequest tr = MEDREP__TRANSITION_REQUEST__INIT;
    tr.meeting_id = id, tr.to_state = "rescheduled";
    tr.new_start_ms = mr_now_ms() + DAY_MS, tr.has_new_start_ms = true;
    assert_int_equal(mtl_rpc_as("R1", "Transition", &tr.base, &medrep__transition_reply__descriptor, NULL),
                     MR_FAILED_PRECONDITION);
    mtl_state_is(id, "proposed");   /* nothing changed */
    tr.new_start_ms = mr_now_ms() + 4 * DAY_MS;
    assert_int_equal(mtl_rpc_as("R1", "Transition", &tr.base, &medrep__transition_reply__descriptor, NULL), MR_OK);
    mtl_base_meeting(&m, mr_now_ms() + DAY_MS);   /* the rule is the PIMs': an in-department meeting is fine */
    assert_int_equal(mtl_propose(&m, (const char *[]){"C02", NULL}, false, NULL, 0), MR_OK);
}

static void test_bad_input(void **state)
{
    (void)state;
    Medrep__Meeting m;
    mtl_base_meeting(&m, mr_now_ms() - 1000);
    assert_int_equal(mtl_propose(&m, NULL, false, NULL, 0), MR_INVALID_ARGUMENT);
    mtl_base_meeting(&m, mr_now_ms() + DAY_MS);
    m.kind = "party";
    assert_int_equal(mtl_propose(&m, NULL, false, NULL, 0), MR_INVALID_ARGUMENT);
    mtl_base_meeting(&m, mr_now_ms() + DAY_MS);
    m.department_id = "D2";   /* not a department of H1 */
    assert_int_equal(mtl_propose(&m, NULL, false, NULL, 0), MR_NOT_FOUND);
    mtl_base_meeting(&m, mr_now_ms() + DAY_MS);
    m.theme = "";
    assert_int_equal(mtl_propose(&m, NULL, false, NULL, 0), MR_INVALID_ARGUMENT);
    assert_int_equal(mtl_transition("R1", "nope", "approved", NULL), MR_NOT_FOUND);
    assert_int_equal(mtl_transition("R1", "bad id!", "approved", NULL), MR_INVALID_ARGUMENT);
    assert_int_equal(mtl_transition(NULL, "nope", "approved", NULL), MR_INVALID_ARGUMENT);
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 80 * DAY_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "flying", NULL), MR_INVALID_ARGUMENT);
    /* a payload that is no TransitionRequest */
    Medrep__Request req = MEDREP__REQUEST__INIT;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    req.region = "north", req.method = "Transition";
    req.payload.data = junk, req.payload.len = sizeof junk, req.has_payload = true;
    Medrep__Reply *rep = mr_client_call(mtl_client, "meetings", &req, 5000);
    assert_int_equal(rep->status->code, MR_INVALID_ARGUMENT);
    medrep__reply__free_unpacked(rep, NULL);
    mtl_state_is(id, "proposed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_precondition_fails_alone),
        cmocka_unit_test(test_proposal_suggestions),
        cmocka_unit_test(test_second_approver_over_budget),
        cmocka_unit_test(test_whole_lifecycle),
        cmocka_unit_test(test_backups_on_decline_and_deadline),
        cmocka_unit_test(test_cap_and_prescriber_only),
        cmocka_unit_test(test_cancel_and_reschedule),
        cmocka_unit_test(test_ical_export),
        cmocka_unit_test(test_filed_in_advance),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
