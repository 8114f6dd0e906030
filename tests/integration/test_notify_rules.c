/* test_notify_rules.c: events from the other services turn into
 * reminders by the rules of DOMAIN.md section 5, through a real notify
 * process: meeting staff call and set-up times, day-before reminders that
 * are already too late dropped, a rescheduled meeting moving its
 * reminders, a cancelled one cancelling them and telling the invitees
 * (urgent); a follow-up reminding the rep and escalating to the DM, undone
 * by the call being logged; coverage behind pace reaching the rep and the
 * DM found in the master data; the morning itinerary at 07:30 in the
 * rep's own zone, once per day; per-region rule overrides; the approval
 * request, invitations, outcome, quarter plan approval and next
 * appointment. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "calls.h"
#include "masterdata.h"
#include "notify_testlib.h"

#define H 3600000LL
#define MIN 60000LL

static h_stack stack;
static mr_client *client;
static mr_store *store;

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions,
                      NT_TEST_CONFIG "[notify.rule.grade_changed@region:north]\nenabled = false\n"
                                     "[notify.rule.plan_week@region:north]\noffsets = -2h\n") != 0 ||
        h_stack_start_service(&stack, "notify", "notify-r", NULL) < 0 ||
        h_stack_wait_workers(&stack, "notify", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 2000);
    store = h_stack_store(&stack, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* Waits until notify handled `want` events of type in total. */
static void wait_handled(const char *type, long long want)
{
    const char *fmt = "HGET {r:north}:handled:notify %s";
    int64_t end = mr_mono_ms() + 10000;
    while (h_redis_int(store, fmt, type) < want && mr_mono_ms() < end)
        usleep(20 * 1000);
    assert_int_equal(h_redis_int(store, fmt, type), want);
}

static void emit_meeting(const char *to_state, int64_t start_ms)
{
    static char *invitees[] = {"C1", "C2"}, *staff[] = {"S1"};
    Medrep__MeetingChanged m = MEDREP__MEETING_CHANGED__INIT;
    m.meeting_id = "M1";
    m.to_state = (char *)to_state;
    m.has_start_ms = true;
    m.start_ms = start_ms;
    m.rep_id = "R1";
    m.approver_id = "A1";
    m.invitee_ids = invitees;
    m.n_invitee_ids = 2;
    m.staff_ids = staff;
    m.n_staff_ids = 1;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &m;
    assert_int_equal(nt_emit(store, &ev), 0);
}

/* The due time of person's pending reminder of kind; -1 if none, and the
 * number of such in *count. */
static int64_t due_of(const char *person, const char *kind, int *count)
{
    Medrep__ListRemindersReply *r = nt_pending(client, person);
    assert_non_null(r);
    int64_t due = -1;
    *count = 0;
    for (size_t i = 0; i < r->n_reminders; i++)
        if (strcmp(r->reminders[i]->kind, kind) == 0)
            due = r->reminders[i]->due_ms, (*count)++;
    medrep__list_reminders_reply__free_unpacked(r, NULL);
    return due;
}

static bool inbox_has(const char *person, const char *kind)
{
    Medrep__InboxListReply *r = nt_inbox(client, person);
    bool found = false;
    for (size_t i = 0; r && i < r->n_items; i++)
        found |= strcmp(r->items[i]->kind, kind) == 0;
    if (r)
        medrep__inbox_list_reply__free_unpacked(r, NULL);
    return found;
}

static void test_meeting_lifecycle(void **state)
{
    (void)state;
    int n;
    int64_t start = mr_now_ms() + 2 * H;
    emit_meeting("confirmed", start);
    wait_handled("meeting_changed", 1);
    assert_int_equal(due_of("S1", "meeting_staff_call", &n), start - H);
    assert_int_equal(due_of("S1", "meeting_setup", &n), start - 25 * MIN);
    assert_int_equal(due_of("R1", "meeting_staff_call", &n), start - H);
    assert_int_equal(nt_pending_count(client, "C1"), 0);   /* the day before is long past */
    assert_int_equal(nt_pending_count(client, "A1"), 0);

    /* rescheduled: cancelled, then confirmed again at a new time */
    emit_meeting("rescheduled", start);
    wait_handled("meeting_changed", 2);
    assert_int_equal(nt_pending_count(client, "S1"), 0);
    int64_t later = start + 26 * H;
    emit_meeting("confirmed", later);
    wait_handled("meeting_changed", 3);
    assert_int_equal(due_of("S1", "meeting_staff_call", &n), later - H);
    assert_int_equal(due_of("C1", "meeting_day_before", &n), later - 24 * H);
    assert_int_equal(due_of("C2", "meeting_day_before", &n), later - 24 * H);

    /* cancelled: everything pending goes; invitees and staff are told now */
    emit_meeting("cancelled", later);
    wait_handled("meeting_changed", 4);
    due_of("C1", "meeting_day_before", &n);    /* the cancellation notice itself may still wait */
    assert_int_equal(n, 0);
    due_of("S1", "meeting_setup", &n);
    assert_int_equal(n, 0);
    assert_int_equal(nt_pending_count(client, "R1"), 0);
    assert_int_equal(nt_wait_inbox(store, "C2", 1, 10000), 1);
    assert_int_equal(nt_wait_inbox(store, "S1", 1, 10000), 1);
    assert_true(inbox_has("C1", "meeting_cancelled"));
    assert_true(inbox_has("S1", "meeting_cancelled"));
    assert_false(inbox_has("R1", "meeting_cancelled"));
}

static void test_follow_up_escalation(void **state)
{
    (void)state;
    int n;
    int64_t due = mr_now_ms() + 500;
    Medrep__FollowUpDue f = MEDREP__FOLLOW_UP_DUE__INIT;
    f.meeting_id = "M7", f.customer_id = "C9", f.rep_id = "R7", f.dm_id = "D7";
    f.has_due_ms = true;
    f.due_ms = due;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_FOLLOW_UP_DUE;
    ev.follow_up_due = &f;
    assert_int_equal(nt_emit(store, &ev), 0);
    wait_handled("follow_up_due", 1);
    assert_int_equal(due_of("D7", "follow_up_overdue", &n), due + 24 * H);
    assert_int_equal(nt_wait_inbox(store, "R7", 1, 10000), 1);
    assert_true(inbox_has("R7", "follow_up"));

    /* the follow-up call is logged: the escalation is cancelled */
    Medrep__CallLogged c = MEDREP__CALL_LOGGED__INIT;
    c.call_id = "K9", c.rep_id = "R7", c.customer_id = "C9";
    Medrep__Event ev2 = MEDREP__EVENT__INIT;
    ev2.body_case = MEDREP__EVENT__BODY_CALL_LOGGED;
    ev2.call_logged = &c;
    assert_int_equal(nt_emit(store, &ev2), 0);
    wait_handled("call_logged", 1);
    assert_int_equal(nt_pending_count(client, "D7"), 0);
}

static void test_coverage_reaches_dm_from_master_data(void **state)
{
    (void)state;
    mr_rep rep = {0};
    strcpy(rep.id, "R5"), strcpy(rep.name, "Rep Five"), strcpy(rep.team, "ONC"), strcpy(rep.dm_id, "D5");
    mr_tx *tx = mr_tx_new();
    assert_int_equal(mr_md_stage_rep(tx, "north", &rep, NULL), 0);
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
    Medrep__CoverageBehindPace cov = MEDREP__COVERAGE_BEHIND_PACE__INIT;
    cov.rep_id = "R5", cov.segment = "A", cov.period = "2026-11";
    cov.has_expected_share = cov.has_actual_share = true;
    cov.expected_share = 0.6, cov.actual_share = 0.3;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_COVERAGE_BEHIND_PACE;
    ev.coverage_behind_pace = &cov;
    assert_int_equal(nt_emit(store, &ev), 0);
    assert_int_equal(nt_wait_inbox(store, "R5", 1, 10000), 1);
    assert_int_equal(nt_wait_inbox(store, "D5", 1, 10000), 1);
    assert_true(inbox_has("D5", "coverage_behind"));
}

/* Unix ms of local hh:mm on the local date `days` after today in zone. */
static int64_t local_at(const char *zone, int days, int hh, int mm)
{
    mr_tz *tz = mr_tz_load(zone);
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    int y, m, d;
    mr_civil_from_days(mr_days_from_civil(lt.year, lt.month, lt.day) + days, &y, &m, &d);
    int64_t t = mr_tz_from_local(tz, y, m, d, hh, mm, 0) * 1000;
    mr_tz_free(&tz);
    return t;
}

static void emit_call_planned(const char *call_id, const char *rep, int64_t start)
{
    Medrep__CallPlanned c = MEDREP__CALL_PLANNED__INIT;
    c.call_id = (char *)call_id, c.rep_id = (char *)rep, c.customer_id = "C1", c.origin = "plan";
    c.has_start_ms = true;
    c.start_ms = start;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_CALL_PLANNED;
    ev.call_planned = &c;
    assert_int_equal(nt_emit(store, &ev), 0);
}

static void test_itinerary_in_local_time(void **state)
{
    (void)state;
    int n;
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "R3";
    pref.timezone = "Europe/Berlin";
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_OK);
    emit_call_planned("K1", "R2", local_at("Asia/Shanghai", 2, 10, 0));
    emit_call_planned("K2", "R2", local_at("Asia/Shanghai", 2, 15, 0));
    emit_call_planned("K3", "R3", local_at("Europe/Berlin", 3, 11, 0));
    wait_handled("call_planned", 3);
    assert_int_equal(due_of("R2", "itinerary", &n), local_at("Asia/Shanghai", 2, 7, 30));
    assert_int_equal(n, 1);                                  /* one per day */
    assert_int_equal(due_of("R3", "itinerary", &n), local_at("Europe/Berlin", 3, 7, 30));
}

static void test_region_rule_overrides(void **state)
{
    (void)state;
    int n;
    Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
    g.customer_id = "C1", g.product_id = "P1", g.old_segment = "B", g.new_segment = "A", g.rep_id = "R8";
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &g;
    assert_int_equal(nt_emit(store, &ev), 0);
    int64_t due = mr_now_ms() + 3 * H;
    Medrep__PlanDue p = MEDREP__PLAN_DUE__INIT;
    p.rep_id = "R8", p.kind = "week", p.period = "2026-W49";
    p.has_due_ms = true;
    p.due_ms = due;
    Medrep__Event ev2 = MEDREP__EVENT__INIT;
    ev2.body_case = MEDREP__EVENT__BODY_PLAN_DUE;
    ev2.plan_due = &p;
    assert_int_equal(nt_emit(store, &ev2), 0);
    wait_handled("plan_due", 1);
    wait_handled("customer_regraded", 1);
    assert_int_equal(due_of("R8", "plan_week_due", &n), due - 2 * H);   /* offsets = -2h here */
    assert_int_equal(n, 1);
    usleep(300 * 1000);
    assert_int_equal(nt_inbox_size(store, "R8"), 0);     /* grade_changed is off in north */
    assert_int_equal(nt_pending_count(client, "R8"), 1);
}

/* A meeting other than M1's, with its own people. */
static void emit_meeting_of(const char *id, const char *rep, const char *approver, const char *guest,
                            const char *to_state, int64_t start_ms)
{
    char *invitees[] = {(char *)guest};
    Medrep__MeetingChanged m = MEDREP__MEETING_CHANGED__INIT;
    m.meeting_id = (char *)id;
    m.to_state = (char *)to_state;
    m.has_start_ms = true;
    m.start_ms = start_ms;
    m.rep_id = (char *)rep;
    m.approver_id = (char *)approver;
    m.invitee_ids = invitees;
    m.n_invitee_ids = 1;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &m;
    assert_int_equal(nt_emit(store, &ev), 0);
}

/* The rest of DOMAIN.md section 5: the approval request to the manager,
 * the invitations, the outcome, the quarter plan awaiting approval and
 * the next-appointment reminder, each reaching its recipient (and only
 * them). */
static void test_approval_invitation_outcome_plans(void **state)
{
    (void)state;
    int n;
    int64_t start = mr_now_ms() + 10 * 24 * H;
    emit_meeting_of("MX5", "RX5", "AX5", "GX5", "pending_approval", start);
    assert_int_equal(nt_wait_inbox(store, "AX5", 1, 10000), 1);
    assert_true(inbox_has("AX5", "meeting_approval"));
    emit_meeting_of("MX5", "RX5", "AX5", "GX5", "invitations_out", start);
    assert_int_equal(nt_wait_inbox(store, "GX5", 1, 10000), 1);
    assert_true(inbox_has("GX5", "meeting_invitation"));
    emit_meeting_of("MX5", "RX5", "AX5", "GX5", "summarised", start);
    assert_int_equal(nt_wait_inbox(store, "RX5", 1, 10000), 1);
    assert_int_equal(nt_wait_inbox(store, "AX5", 2, 10000), 2);
    assert_true(inbox_has("RX5", "meeting_outcome"));
    assert_true(inbox_has("AX5", "meeting_outcome"));
    assert_false(inbox_has("GX5", "meeting_outcome"));

    Medrep__PlanDue p = MEDREP__PLAN_DUE__INIT;
    p.rep_id = "RX6", p.kind = "quarter", p.period = "2027-Q1", p.approver_id = "AX6";
    p.has_due_ms = true;
    p.due_ms = mr_now_ms() + 20 * 24 * H;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_PLAN_DUE;
    ev.plan_due = &p;
    assert_int_equal(nt_emit(store, &ev), 0);
    assert_int_equal(nt_wait_inbox(store, "AX6", 1, 10000), 1);
    assert_true(inbox_has("AX6", "plan_quarter_approval"));

    int64_t next = mr_now_ms() + 3 * 24 * H;
    Medrep__CallLogged c = MEDREP__CALL_LOGGED__INIT;
    c.call_id = "LX7", c.rep_id = "RX7", c.customer_id = "KX7";
    c.has_next_appointment_ms = true;
    c.next_appointment_ms = next;
    Medrep__Event ev2 = MEDREP__EVENT__INIT;
    ev2.body_case = MEDREP__EVENT__BODY_CALL_LOGGED;
    ev2.call_logged = &c;
    assert_int_equal(nt_emit(store, &ev2), 0);
    int64_t end = mr_mono_ms() + 10000;
    while (due_of("RX7", "next_appointment", &n) < 0 && mr_mono_ms() < end)
        usleep(50 * 1000);
    assert_int_equal(due_of("RX7", "next_appointment", &n), next - 24 * H);
    assert_int_equal(n, 1);
    assert_int_equal(nt_pending_count(client, "RX6"), 0);    /* the quarter plan goes to the approver */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meeting_lifecycle),
        cmocka_unit_test(test_follow_up_escalation),
        cmocka_unit_test(test_coverage_reaches_dm_from_master_data),
        cmocka_unit_test(test_itinerary_in_local_time),
        cmocka_unit_test(test_region_rule_overrides),
        cmocka_unit_test(test_approval_invitation_outcome_plans),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
