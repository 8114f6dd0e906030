/* test_meetings_flow.c: the meetings service with the real scheduling and
 * notify services behind the same broker: the follow-ups of a held
 * meeting land in scheduling as planned calls (one per attendee), the
 * MeetingChanged events reach notification (staff call-time reminders)
 * and scheduling (the rep's time kept for the meeting), a cancelled
 * meeting's pending reminders are withdrawn and the rep's time given
 * back, and the service's own deadline check (every second here)
 * invites the backup of a key guest who did not answer in time, with
 * nobody calling it; suggested slots avoid a call the rep pinned in
 * scheduling. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "meetings_testlib.h"
#include "notify.pb-c.h"
#include "scheduling.pb-c.h"

static int setup(void **state)
{
    (void)state;
    const char *more[] = {"scheduling", "notify", NULL};
    return mtl_start("[meetings]\nchecklist = projector\ndeadline_check_interval_s = 1\n", more);
}

static int teardown(void **state)
{
    (void)state;
    return mtl_stop();
}

typedef struct {
    const char *customer;
} planned_filter;

static int is_follow_up_call(const Medrep__Event *ev, const void *arg)
{
    const planned_filter *f = arg;
    return ev->body_case == MEDREP__EVENT__BODY_CALL_PLANNED && ev->call_planned->origin &&
           strcmp(ev->call_planned->origin, "meeting_follow_up") == 0 &&
           strcmp(ev->call_planned->customer_id, f->customer) == 0 &&
           strcmp(ev->call_planned->rep_id, "R1") == 0;
}

static int sign_in(const char *id, const char *who)
{
    Medrep__SignInRequest req = MEDREP__SIGN_IN_REQUEST__INIT;
    req.meeting_id = (char *)id, req.customer_id = (char *)who;
    return mtl_rpc_as("S9", "SignIn", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static int check(const char *id, const char *round)
{
    Medrep__ChecklistRequest req = MEDREP__CHECKLIST_REQUEST__INIT;
    req.meeting_id = (char *)id, req.item = "projector", req.round = (char *)round;
    return mtl_rpc_as("S9", "Checklist", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static void test_follow_ups_land_in_scheduling(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 30 * MIN_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C02", "C04", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_OK);
    assert_int_equal(check(id, "day_before"), MR_OK);
    assert_int_equal(check(id, "day_of"), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "in_progress", NULL), MR_OK);
    assert_int_equal(sign_in(id, "C01"), MR_OK);
    assert_int_equal(sign_in(id, "C02"), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "held", NULL), MR_OK);
    planned_filter c1 = {"C01"}, c2 = {"C02"}, c4 = {"C04"};
    int n1 = 0, n2 = 0;
    for (int i = 0; i < 200 && (n1 < 1 || n2 < 1); i++) {
        usleep(50000);
        n1 = mtl_count_events(is_follow_up_call, &c1);
        n2 = mtl_count_events(is_follow_up_call, &c2);
    }
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 1);
    assert_int_equal(mtl_count_events(is_follow_up_call, &c4), 0);   /* absent: no follow-up call */
}

/* Pending reminders of person for meeting id, of kind (NULL: any). */
static int reminders_of(const char *person, const char *id, const char *kind)
{
    Medrep__ListRemindersRequest req = MEDREP__LIST_REMINDERS_REQUEST__INIT;
    req.person_id = (char *)person;
    ProtobufCMessage *out = NULL;
    char msg[256], subject[96];
    snprintf(subject, sizeof subject, "meeting:%s", id);
    if (mr_client_rpc(mtl_client, "notify", "ListReminders", "north", NULL, &req.base,
                      &medrep__list_reminders_reply__descriptor, &out, 10000, msg, sizeof msg) != MR_OK)
        return -1;
    Medrep__ListRemindersReply *r = (Medrep__ListRemindersReply *)out;
    int n = 0;
    for (size_t i = 0; i < r->n_reminders; i++)
        n += strcmp(r->reminders[i]->subject_id, subject) == 0 &&
             (!kind || strcmp(r->reminders[i]->kind, kind) == 0);
    protobuf_c_message_free_unpacked(out, NULL);
    return n;
}

/* 1 when scheduling holds R1's time for meeting id (its busy entry). */
static int rep_busy_with(const char *id)
{
    char field[96];
    snprintf(field, sizeof field, "meeting:%s", id);
    mr_val *v = mr_store_cmd(mtl_store, "HEXISTS %s %s", "{r:north}:sched:rep:R1:busy", field);
    int n = (int)mr_val_int(v);
    mr_val_free(&v);
    return n;
}

static void test_reminders_and_cancellation(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    static char *staff[] = {"ST1"};
    mtl_base_meeting(&m, mr_now_ms() + 3 * DAY_MS);
    m.staff_ids = staff, m.n_staff_ids = 1;
    assert_int_equal(mtl_propose(&m, (const char *[]){"C03", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    int n = 0;
    for (int i = 0; i < 200 && n < 1; i++) {
        usleep(50000);
        n = reminders_of("ST1", id, "meeting_staff_call");
    }
    assert_int_equal(n, 1);   /* the staff call time, 1 hour before the start */
    int busy = 0;
    for (int i = 0; i < 200 && busy < 1; i++) {
        usleep(50000);
        busy = rep_busy_with(id);
    }
    assert_int_equal(busy, 1);   /* scheduling keeps the rep's time for the meeting */
    assert_int_equal(mtl_transition("R1", id, "cancelled", "the director fell ill"), MR_OK);
    for (int i = 0; i < 200 && (n > 0 || busy > 0); i++) {
        usleep(50000);
        n = reminders_of("ST1", id, "meeting_staff_call");
        busy = rep_busy_with(id);
    }
    assert_int_equal(n, 0);
    assert_int_equal(busy, 0);   /* and gives it back */
}

static int is_invitation(const Medrep__Event *ev, const void *arg)
{
    return ev->body_case == MEDREP__EVENT__BODY_INVITATION_SENT && strcmp(ev->invitation_sent->meeting_id, arg) == 0 &&
           strcmp(ev->invitation_sent->reason, "no_answer") == 0 && strcmp(ev->invitation_sent->customer_id, "C03") == 0;
}

/* Suggested slots of D1 for rep R1 over the next 7 days (caller frees). */
static Medrep__SuggestReply *suggest_for_r1(void)
{
    Medrep__SuggestRequest sq = MEDREP__SUGGEST_REQUEST__INIT;
    sq.department_id = "D1", sq.product_id = "P1", sq.kind = "in_department", sq.rep_id = "R1";
    sq.days = 7, sq.has_days = true;
    ProtobufCMessage *out = NULL;
    assert_int_equal(mtl_rpc_as("R1", "Suggest", &sq.base, &medrep__suggest_reply__descriptor, &out), MR_OK);
    return (Medrep__SuggestReply *)out;
}

/* A call the rep pinned in scheduling takes the slots it overlaps out of
 * the suggestions (asked of scheduling through the broker). */
static void test_slots_fit_the_reps_plan(void **state)
{
    (void)state;
    Medrep__SuggestReply *s = suggest_for_r1();
    assert_true(s->n_slot_start_ms >= 2);
    /* the first slot whose staff call time is not about to pass */
    int64_t first = s->slot_start_ms[0] - 30 * MIN_MS > mr_now_ms() + 5 * MIN_MS ? s->slot_start_ms[0]
                                                                                 : s->slot_start_ms[1];
    size_t before = s->n_slot_start_ms;
    medrep__suggest_reply__free_unpacked(s, NULL);
    Medrep__AddCallRequest ac = MEDREP__ADD_CALL_REQUEST__INIT;
    ac.rep_id = "R1", ac.customer_id = "C07";
    ac.start_ms = first - 30 * MIN_MS, ac.has_start_ms = true;   /* during the staff call time */
    ac.duration_min = 20, ac.has_duration_min = true;
    char msg[256];
    assert_int_equal(mr_client_rpc(mtl_client, "scheduling", "AddCall", "north", NULL, &ac.base,
                                   &medrep__add_call_reply__descriptor, NULL, 10000, msg, sizeof msg), MR_OK);
    s = suggest_for_r1();
    assert_int_equal(s->n_slot_start_ms, before - 1);
    for (size_t i = 0; i < s->n_slot_start_ms; i++)
        assert_true(s->slot_start_ms[i] != first);
    medrep__suggest_reply__free_unpacked(s, NULL);
}

static void test_deadline_check_runs_by_itself(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 2 * 3600000LL);   /* its RSVP deadline (24 h before) has passed */
    assert_int_equal(mtl_propose(&m, (const char *[]){"C02", "C03>C02", NULL}, false, id, sizeof id), MR_OK);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_OK);
    int n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        usleep(100000);
        n = mtl_count_events(is_invitation, id);
    }
    assert_int_equal(n, 1);
    usleep(1500000);   /* later checks change nothing */
    assert_int_equal(mtl_count_events(is_invitation, id), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_ups_land_in_scheduling),
        cmocka_unit_test(test_reminders_and_cancellation),
        cmocka_unit_test(test_deadline_check_runs_by_itself),
        cmocka_unit_test(test_slots_fit_the_reps_plan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
