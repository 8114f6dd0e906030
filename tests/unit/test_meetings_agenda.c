/* test_meetings_agenda.c: the agenda template (validated), staff sizing
 * and call times, follow-up spreading over 7 days, evaluation score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agenda.h"

#define LIMITS "video:5-10,talk:0-25,qa:5-5,director:5-5"
#define DAY 86400000LL

static void agenda_validation(void **state)
{
    (void)state;
    mt_agenda a;
    char err[256];
    assert_int_equal(mt_agenda_parse("video:5,talk:20,qa:5,director:5", LIMITS, 35, &a, err, sizeof err), 0);
    assert_int_equal(a.count, 4);
    assert_int_equal(a.total, 35);
    /* the talk over its limit */
    assert_int_equal(mt_agenda_parse("video:5,talk:30,qa:5,director:5", LIMITS, 45, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "talk"));
    /* phases that do not add up */
    assert_int_equal(mt_agenda_parse("video:10,talk:20,qa:5,director:5", LIMITS, 35, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "add up to 40"));
    /* a phase missing from the agenda, or unknown to the template */
    assert_int_equal(mt_agenda_parse("video:10,talk:20,qa:5", LIMITS, 35, &a, err, sizeof err), -1);
    assert_int_equal(mt_agenda_parse("video:5,talk:20,qa:5,director:5,dance:0", LIMITS, 35, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "dance"));
    assert_int_equal(mt_agenda_parse("video=5", LIMITS, 35, &a, err, sizeof err), -1);
}

static void staff_and_times(void **state)
{
    (void)state;
    mt_staff_policy p = {10, 2, 3, 3, 5};
    int lo, hi;
    mt_staff_range(&p, 8, &lo, &hi);
    assert_int_equal(lo, 2), assert_int_equal(hi, 3);
    mt_staff_range(&p, 30, &lo, &hi);
    assert_int_equal(lo, 3), assert_int_equal(hi, 5);
    assert_int_equal(mt_call_time_ms(10 * 3600000LL, 60), 9 * 3600000LL);
    assert_int_equal(mt_setup_by_ms(10 * 3600000LL, 10), 10 * 3600000LL - 600000);
}

static void followups_within_seven_days(void **state)
{
    (void)state;
    int64_t due[20];
    int64_t first = 50 * DAY;
    mt_followups_spread(first, 7, 20, due);
    for (int i = 0; i < 20; i++) {
        assert_true(due[i] > first);
        assert_true(due[i] < first + 7 * DAY);
    }
    assert_int_equal(due[0], first + DAY - 1);     /* 3 a day: ceil(20/7) */
    assert_int_equal(due[3], first + 2 * DAY - 1);
    assert_int_equal(due[19], first + 7 * DAY - 1);
    mt_followups_spread(first, 7, 2, due);
    assert_int_equal(due[1], first + 2 * DAY - 1);
}

static void evaluation(void **state)
{
    (void)state;
    /* hardware only: channel open (0.5) + 3 of 6 attendees key (0.25) */
    double s = mt_evaluation_score(0.2, true, 3, 6, false, 0, 0);
    assert_true(s > 74.99 && s < 75.01);
    /* with prescriptions: 0.2*0.75 + 0.8*(5/10) = 0.55 */
    s = mt_evaluation_score(0.2, true, 3, 6, true, 5, 10);
    assert_true(s > 54.99 && s < 55.01);
    s = mt_evaluation_score(0.2, false, 0, 0, true, -3, 10);
    assert_true(s > -0.01 && s < 0.01);
}

static void prescription_change(void **state)
{
    (void)state;
    double before[] = {0.10, 0.20, 0.10, 0.30}, after[] = {0.20, 0.30, 0.12, 0.28};
    bool came[] = {true, true, false, false};
    int n;
    double a = mt_mean_change_points(before, after, came, 4, true, &n);
    assert_int_equal(n, 2);
    assert_true(a > 9.99 && a < 10.01);
    double b = mt_mean_change_points(before, after, came, 4, false, &n);
    assert_true(b > -0.01 && b < 0.01);
    assert_int_equal(mt_mean_change_points(before, after, came, 0, true, &n) == 0, 1);
}

static void month_shift(void **state)
{
    (void)state;
    char m[8];
    mt_month_shift(2026, 11, -3, m);
    assert_string_equal(m, "2026-08");
    mt_month_shift(2026, 11, 2, m);
    assert_string_equal(m, "2027-01");
    mt_month_shift(2026, 1, -1, m);
    assert_string_equal(m, "2025-12");
    mt_month_shift(2026, 3, -14, m);
    assert_string_equal(m, "2025-01");
}

/* A worked example: shares summed over months (not averaged), months
 * outside the range and other customers ignored, no market -> -1. */
static void share_from_monthly_data(void **state)
{
    (void)state;
    const mt_rx_month rows[] = {
        {"C1", "2026-08", 2, 20}, {"C1", "2026-09", 4, 20}, {"C1", "2026-10", 0, 20},  /* before: 6/60 */
        {"C1", "2026-12", 10, 25}, {"C1", "2027-01", 5, 25},                          /* after: 15/50 */
        {"C1", "2026-11", 99, 100},                                                   /* the meeting's month */
        {"C2", "2026-09", 5, 10}, {"C3", "2026-09", 0, 0},
    };
    size_t n = sizeof rows / sizeof rows[0];
    double b = mt_rx_share(rows, n, "C1", "2026-08", "2026-10");
    double a = mt_rx_share(rows, n, "C1", "2026-12", "2027-02");
    assert_true(b > 0.0999 && b < 0.1001);
    assert_true(a > 0.2999 && a < 0.3001);
    assert_true(mt_rx_share(rows, n, "C2", "2026-08", "2026-10") > 0.4999);
    assert_true(mt_rx_share(rows, n, "C2", "2026-12", "2027-02") < 0);   /* no data after */
    assert_true(mt_rx_share(rows, n, "C3", "2026-08", "2026-10") < 0);   /* no market */
    assert_true(mt_rx_share(rows, n, "C9", "2026-08", "2026-10") < 0);
    /* attendee C1 gained 20 points, non-attendee C4 lost 5: the difference scores */
    double before[] = {b, 0.30}, after[] = {a, 0.25};
    bool came[] = {true, false};
    int na, nn;
    double da = mt_mean_change_points(before, after, came, 2, true, &na);
    double dn = mt_mean_change_points(before, after, came, 2, false, &nn);
    assert_true(da - dn > 24.99 && da - dn < 25.01);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agenda_validation),
        cmocka_unit_test(staff_and_times),
        cmocka_unit_test(followups_within_seven_days),
        cmocka_unit_test(evaluation),
        cmocka_unit_test(prescription_change),
        cmocka_unit_test(month_shift),
        cmocka_unit_test(share_from_monthly_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
