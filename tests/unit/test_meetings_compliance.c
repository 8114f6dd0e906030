/* test_meetings_compliance.c: compliance rules of one shape: parsing,
 * fixed and rolling windows with committed future meetings, which states
 * count, warn vs block findings, and the four reimbursement documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compliance.h"

#define DAY 86400000LL

static void parse_rules(void **state)
{
    (void)state;
    mt_rule r;
    char err[256];
    assert_int_equal(mt_rule_parse(&r, "gift", "gift_per_attendee", "20000", NULL, NULL, NULL, NULL,
                                   "warn", err, sizeof err), 0);
    assert_int_equal(r.limit, MT_LIM_GIFT_PER_ATTENDEE);
    assert_int_equal(r.window, MT_WIN_MEETING);
    assert_int_equal(r.action, MT_ACT_WARN);
    assert_true(r.states & (1u << MT_CONFIRMED));
    assert_false(r.states & (1u << MT_CANCELLED));
    assert_int_equal(mt_rule_parse(&r, "x", "bribes", "1", NULL, NULL, NULL, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "bribes"));
    assert_int_equal(mt_rule_parse(&r, "x", "gift_per_attendee", "ten", NULL, NULL, NULL, NULL, NULL, err, sizeof err), -1);
    assert_int_equal(mt_rule_parse(&r, "x", "meetings_per_customer", "2", "rolling", "0", NULL, NULL, NULL, err, sizeof err), -1);
    assert_int_equal(mt_rule_parse(&r, "x", "meetings_per_customer", "2", "period", NULL, "decade", NULL, NULL, err, sizeof err), -1);
    assert_int_equal(mt_rule_parse(&r, "x", "meetings_per_customer", "2", "weekly", NULL, NULL, NULL, NULL, err, sizeof err), -1);
    assert_int_equal(mt_rule_parse(&r, "x", "meetings_per_customer", "2", NULL, NULL, NULL, "held,gone", NULL, err, sizeof err), -1);
    assert_int_equal(mt_rule_parse(&r, "x", "meetings_per_customer", "2", NULL, NULL, NULL, NULL, "shout", err, sizeof err), -1);
}

static void rolling_window_counts_future_committed(void **state)
{
    (void)state;
    mt_rule r;
    char err[256];
    assert_int_equal(mt_rule_parse(&r, "freq", "meetings_per_customer", "2", "rolling", "30", NULL,
                                   "approved,confirmed,invitations_out,held,closed", "block", err,
                                   sizeof err), 0);
    int64_t t = 100 * DAY;
    /* one held 20 days before, one confirmed 25 days after (future, committed) */
    mt_other o[] = {{t - 20 * DAY, MT_HELD}, {t + 25 * DAY, MT_CONFIRMED}};
    /* no 30-day window holds all three (45 days apart), but each pair fits */
    assert_int_equal(mt_window_count(&r, t, 0, 0, o, 2), 2);
    /* a future committed meeting 5 days after makes three in one window */
    mt_other o2[] = {{t - 20 * DAY, MT_HELD}, {t + 5 * DAY, MT_CONFIRMED}};
    assert_int_equal(mt_window_count(&r, t, 0, 0, o2, 2), 3);
    /* ... unless it is in a state the rule does not count */
    mt_other o3[] = {{t - 20 * DAY, MT_HELD}, {t + 5 * DAY, MT_CANCELLED}};
    assert_int_equal(mt_window_count(&r, t, 0, 0, o3, 2), 2);
    /* the window edge: exactly 30 days before is outside */
    mt_other o4[] = {{t - 30 * DAY, MT_HELD}, {t - 1, MT_HELD}};
    assert_int_equal(mt_window_count(&r, t, 0, 0, o4, 2), 2);
    mt_finding f[4];
    size_t n = mt_finding_add(f, 0, 4, 0, &r, "c1", 3);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].action, MT_ACT_BLOCK);
    assert_string_equal(f[0].subject, "c1");
    assert_int_equal(mt_finding_add(f, n, 4, 0, &r, "c2", 2), 1); /* at the limit: fine */
}

static void fixed_period_window(void **state)
{
    (void)state;
    mt_rule r;
    char err[256];
    assert_int_equal(mt_rule_parse(&r, "spk", "meetings_per_speaker", "1", "period", NULL, "month",
                                   NULL, "warn", err, sizeof err), 0);
    int64_t from = 0, to = 30 * DAY, t = 10 * DAY;
    mt_other o[] = {{29 * DAY, MT_APPROVED}, {31 * DAY, MT_APPROVED}, {2 * DAY, MT_PROPOSED}};
    /* the approved one in the month counts; next month's and the mere proposal do not */
    assert_int_equal(mt_window_count(&r, t, from, to, o, 3), 2);
    mt_finding f[2];
    assert_int_equal(mt_finding_add(f, 0, 2, 3, &r, "s1", 2), 1);
    assert_int_equal(f[0].action, MT_ACT_WARN);
    assert_int_equal(f[0].rule, 3);
}

static void four_documents(void **state)
{
    (void)state;
    const char *req = "notice,sign_in_sheet,invoice,expense_detail";
    char missing[256];
    assert_int_equal(mt_documents_missing(req, "notice,sign_in_sheet,invoice", missing, sizeof missing), 1);
    assert_string_equal(missing, "expense_detail");
    assert_int_equal(mt_documents_missing(req, "invoice,expense_detail,notice,sign_in_sheet", missing, sizeof missing), 0);
    assert_string_equal(missing, "");
    assert_int_equal(mt_documents_missing(req, "", missing, sizeof missing), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_rules),
        cmocka_unit_test(rolling_window_counts_future_committed),
        cmocka_unit_test(fixed_period_window),
        cmocka_unit_test(four_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
