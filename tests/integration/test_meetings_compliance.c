/* test_meetings_compliance.c: compliance rules of one shape through the
 * real meetings service: a blocking and a warning gift cap (the warning
 * needs a comment), a rolling 30-day window per customer that counts
 * committed future meetings and ignores cancelled and merely proposed
 * ones, a monthly window per speaker, a rule scoped to one meeting kind,
 * and per-person honoraria and travel. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "meetings_testlib.h"

#define CONFIG                                                                                    \
    "[meetings]\nsecond_approver = RM1\n"                                                        \
    "[meetings.rule.gift]\nlimit = gift_per_attendee\nmax = 20000\naction = block\n"             \
    "[meetings.rule.gift_soft]\nlimit = gift_per_attendee\nmax = 10000\naction = warn\n"         \
    "[meetings.rule.freq]\nlimit = meetings_per_customer\nmax = 2\nwindow = rolling\ndays = 30\n" \
    "action = block\n"                                                                           \
    "[meetings.rule.speaker]\nlimit = meetings_per_speaker\nmax = 1\nwindow = period\n"          \
    "period = month\naction = warn\n"                                                            \
    "[meetings.rule.spend]\nlimit = spend_per_attendee\nmax = 50000\naction = warn\n"            \
    "[meetings.rule.spend@kind:pim]\naction = block\n"                                           \
    "[meetings.rule.honorarium]\nlimit = honorarium_per_person\nmax = 100000\naction = block\n"  \
    "[meetings.rule.travel]\nlimit = travel_per_person\nmax = 50000\naction = warn\n"

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

static int64_t base_ms;

static int submit(const char *id, const char *comment)
{
    return mtl_transition("R1", id, "pending_approval", comment);
}

static void propose_one(Medrep__Meeting *m, const char *guest, char *id)
{
    assert_int_equal(mtl_propose(m, (const char *[]){guest, NULL}, false, id, 64), MR_OK);
}

static void test_gift_block_and_warn(void **state)
{
    (void)state;
    base_ms = mr_now_ms() + 5 * DAY_MS;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, base_ms);
    m.gift_cents_per_attendee = 25000;
    propose_one(&m, "C01", id);   /* the proposal records the findings */
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_int_equal(r->meeting->n_findings, 2);
    assert_string_equal(r->meeting->findings[0]->rule, "gift");
    assert_string_equal(r->meeting->findings[0]->action, "block");
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    assert_int_equal(submit(id, "a valuable book"), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "1 compliance rule(s) block"));
    mtl_state_is(id, "proposed");

    mtl_base_meeting(&m, base_ms + 3600000);
    m.gift_cents_per_attendee = 15000;
    propose_one(&m, "C01", id);
    assert_int_equal(submit(id, NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "1 compliance warning(s) need a comment"));
    assert_int_equal(submit(id, "professional books, priced by the publisher"), MR_OK);
    r = mtl_get(id);
    assert_string_equal(r->meeting->compliance_comment, "professional books, priced by the publisher");
    medrep__get_meeting_reply__free_unpacked(r, NULL);
}

static void test_rolling_window_with_future_committed(void **state)
{
    (void)state;
    int64_t t = mr_now_ms() + 200 * DAY_MS;
    Medrep__Meeting m;
    char a[64], b[64], c[64], d[64];
    mtl_base_meeting(&m, t + 40 * DAY_MS);
    propose_one(&m, "C07", a);
    assert_int_equal(mtl_approve(a), MR_OK);
    mtl_base_meeting(&m, t + 60 * DAY_MS);
    propose_one(&m, "C07", b);
    assert_int_equal(mtl_approve(b), MR_OK);     /* 20 days apart: 2 in a window, allowed */
    /* a mere proposal does not count */
    mtl_base_meeting(&m, t + 45 * DAY_MS);
    propose_one(&m, "C07", d);
    /* a third between them: 40, 50 and 60 fit in one 30-day window */
    mtl_base_meeting(&m, t + 50 * DAY_MS);
    propose_one(&m, "C07", c);
    assert_int_equal(submit(c, "needed"), MR_FAILED_PRECONDITION);
    Medrep__GetMeetingReply *r = mtl_get(c);
    bool found = false;
    for (size_t i = 0; i < r->meeting->n_findings; i++)
        if (strcmp(r->meeting->findings[i]->rule, "freq") == 0) {
            assert_string_equal(r->meeting->findings[i]->subject, "C07");
            assert_true(r->meeting->findings[i]->value > 2.9 && r->meeting->findings[i]->value < 3.1);
            found = true;
        }
    assert_true(found);
    medrep__get_meeting_reply__free_unpacked(r, NULL);
    /* the future committed meeting cancelled: it no longer counts */
    assert_int_equal(mtl_transition("R1", b, "cancelled", "clash"), MR_OK);
    assert_int_equal(submit(c, NULL), MR_OK);
}

static void test_speaker_per_month_warns(void **state)
{
    (void)state;
    int64_t t = mr_now_ms() + 300 * DAY_MS;
    Medrep__Meeting m;
    char a[64], b[64];
    mtl_base_meeting(&m, t);
    m.speaker_id = "C02";
    propose_one(&m, "C03", a);
    assert_int_equal(submit(a, NULL), MR_OK);
    mtl_base_meeting(&m, t + 3600000);
    m.speaker_id = "C02";
    propose_one(&m, "C04", b);
    assert_int_equal(submit(b, NULL), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(mtl_msg, "warning"));
    assert_int_equal(submit(b, "second talk approved by medical affairs"), MR_OK);
}

static void test_rule_scoped_by_kind(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char a[64], b[64];
    mtl_base_meeting(&m, mr_now_ms() + 400 * DAY_MS);
    m.budget_cents = 300000, m.head_count = 5, m.has_head_count = true;   /* 60000 a head */
    propose_one(&m, "C05", a);
    assert_int_equal(submit(a, NULL), MR_FAILED_PRECONDITION);            /* warns */
    assert_int_equal(submit(a, "a hotel room was needed"), MR_OK);
    mtl_base_meeting(&m, mr_now_ms() + 401 * DAY_MS);
    m.kind = "pim";
    m.budget_cents = 300000, m.head_count = 5, m.has_head_count = true;
    propose_one(&m, "C05", b);
    assert_int_equal(submit(b, "a hotel room was needed"), MR_FAILED_PRECONDITION);  /* blocks for a PIM */
    assert_non_null(strstr(mtl_msg, "block"));
}

static int expense(const char *id, const char *person, const char *kind, int64_t cents)
{
    Medrep__Expense e = MEDREP__EXPENSE__INIT;
    e.person_id = (char *)person, e.kind = (char *)kind, e.cents = cents, e.has_cents = true;
    Medrep__ExpenseRequest req = MEDREP__EXPENSE_REQUEST__INIT;
    req.meeting_id = (char *)id, req.expense = &e;
    return mtl_rpc_as("R1", "AddExpense", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

static void test_honoraria_and_travel_per_person(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 500 * DAY_MS);
    m.speaker_id = "C01";
    propose_one(&m, "C06", id);
    assert_int_equal(expense(id, "C01", "honorarium", 80000), MR_OK);
    assert_int_equal(expense(id, "C02", "honorarium", 80000), MR_OK);   /* another person */
    assert_int_equal(expense(id, "C01", "honorarium", 30000), MR_FAILED_PRECONDITION);
    assert_int_equal(expense(id, "C01", "travel", 60000), MR_OK);       /* over the travel cap: warns */
    assert_int_equal(expense(id, "C01", "travel", -5), MR_INVALID_ARGUMENT);
    Medrep__GetMeetingReply *r = mtl_get(id);
    assert_int_equal(r->meeting->n_expenses, 3);
    medrep__get_meeting_reply__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gift_block_and_warn),
        cmocka_unit_test(test_rolling_window_with_future_committed),
        cmocka_unit_test(test_speaker_per_month_warns),
        cmocka_unit_test(test_rule_scoped_by_kind),
        cmocka_unit_test(test_honoraria_and_travel_per_person),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
