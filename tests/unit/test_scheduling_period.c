/* test_scheduling_period.c: periods (months, ISO weeks, days, quarters),
 * month days from a region's calendar with time off and meetings, local
 * times across daylight saving (services/scheduling/period.c), and the
 * quarter's targets (planner.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "clock.h"
#include "period.h"
#include "planner.h"

static void test_parse_periods(void **state)
{
    (void)state;
    sc_period p;
    char err[128];
    assert_int_equal(sc_period_parse("2026-12", &p, err, sizeof err), 0);
    assert_int_equal(p.kind, 'M');
    assert_int_equal(p.first, mr_days_from_civil(2026, 12, 1));
    assert_int_equal(p.last, mr_days_from_civil(2026, 12, 31));
    assert_int_equal(sc_period_parse("2026-W01", &p, err, sizeof err), 0);
    assert_int_equal(p.first, mr_days_from_civil(2025, 12, 29));   /* ISO: week 1 holds Jan 4 */
    assert_int_equal(p.last - p.first, 6);
    assert_int_equal(sc_period_parse("2026-W53", &p, err, sizeof err), 0);   /* 2026 has 53 weeks */
    assert_int_equal(sc_period_parse("2027-W53", &p, err, sizeof err), -1);
    assert_int_equal(sc_period_parse("2028-02-29", &p, err, sizeof err), 0);
    assert_int_equal(p.kind, 'D');
    assert_int_equal(sc_period_parse("2027-02-29", &p, err, sizeof err), -1);
    assert_int_equal(sc_period_parse("2026-Q4", &p, err, sizeof err), 0);
    assert_int_equal(p.first, mr_days_from_civil(2026, 10, 1));
    assert_int_equal(p.last, mr_days_from_civil(2026, 12, 31));
    const char *bad[] = {"", "2026", "2026-13", "2026-00", "2026-Q5", "2026-W00", "26-12", "2026-12-01x", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(sc_period_parse(bad[i], &p, err, sizeof err), -1);
    assert_int_equal(sc_period_parse(NULL, &p, err, sizeof err), -1);
    char w[16];
    sc_iso_week_text(mr_days_from_civil(2027, 1, 1), w, sizeof w);
    assert_string_equal(w, "2026-W53");
    sc_iso_week_text(mr_days_from_civil(2026, 12, 2), w, sizeof w);
    assert_string_equal(w, "2026-W49");
}

static void test_month_days_calendar_and_busy(void **state)
{
    (void)state;
    char err[128];
    mr_calendar *cal = mr_calendar_parse("mon,tue,wed,thu,fri", "2026-10-01..2026-10-07", "2026-10-10", err, sizeof err);
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    assert_non_null(cal);
    sc_period m;
    sc_period_parse("2026-10", &m, err, sizeof err);
    sc_busy busy[2] = {
        {.start_ms = sc_local_ms(tz, mr_days_from_civil(2026, 10, 12), 0), .end_ms = sc_local_ms(tz, mr_days_from_civil(2026, 10, 13), 0)},
        {.start_ms = sc_local_ms(tz, mr_days_from_civil(2026, 10, 14), 13 * 60), .end_ms = sc_local_ms(tz, mr_days_from_civil(2026, 10, 14), 15 * 60)},
    };
    sc_day days[31];
    sc_month_days(&m, cal, tz, busy, 2, 8 * 60, 18 * 60, days);
    assert_false(days[0].field);       /* national holiday */
    assert_false(days[6].field);
    assert_true(days[8].field);        /* Fri 9th */
    assert_true(days[9].field);        /* Sat 10th, a make-up workday */
    assert_false(days[10].field);      /* Sun */
    assert_true(days[11].off);         /* whole day off */
    assert_false(days[13].off);
    assert_int_equal(days[13].blocked.n, 1);
    assert_int_equal(days[13].blocked.s[0].start, 13 * 60);
    assert_int_equal(days[13].blocked.s[0].end, 15 * 60);
    assert_int_equal(days[12].week + 1, days[19].week);
    mr_tz_free(&tz);
    mr_calendar_free(&cal);
}

static void test_local_times_across_dst(void **state)
{
    (void)state;
    mr_tz *tz = mr_tz_load("Europe/Berlin");
    int64_t fri = mr_days_from_civil(2027, 3, 26), mon = mr_days_from_civil(2027, 3, 29);
    int64_t a = sc_local_ms(tz, fri, 9 * 60), b = sc_local_ms(tz, mon, 9 * 60);
    assert_int_equal(a, (mr_days_from_civil(2027, 3, 26) * 86400 + 8 * 3600) * 1000LL);   /* UTC+1 */
    assert_int_equal(b, (mr_days_from_civil(2027, 3, 29) * 86400 + 7 * 3600) * 1000LL);   /* UTC+2 */
    int64_t d;
    int minute;
    sc_local_of(tz, b, &d, &minute);
    assert_int_equal(d, mon);
    assert_int_equal(minute, 9 * 60);
    /* the day of the change is 23 hours long */
    int64_t sun = mr_days_from_civil(2027, 3, 28);
    assert_int_equal(sc_local_ms(tz, sun + 1, 0) - sc_local_ms(tz, sun, 0), 23 * 3600000LL);
    mr_tz_free(&tz);
}

static void test_quarter_targets(void **state)
{
    (void)state;
    sc_norms n;
    sc_norms_defaults(&n, false);
    int a = sc_norms_class_index(&n, "A"), c = sc_norms_class_index(&n, "C"), d = sc_norms_class_index(&n, "D");
    int cls[10] = {a, a, c, c, c, c, c, d, d, -1};
    int done[10] = {0, 0, 0, 0, 0, 0, 2, 0, 1, 0};
    int target[10];
    sc_quarter_targets(&n, cls, done, 10, target);
    assert_int_equal(target[0], 12);       /* A: 100% of customers, 3 x 4 calls */
    assert_int_equal(target[1], 12);
    int c_targets = 0;
    for (int i = 2; i <= 6; i++)
        c_targets += target[i] > 0;
    assert_int_equal(c_targets, 4);        /* C: 80% of 5 */
    assert_int_equal(target[6], 3);        /* the one already called is kept */
    assert_int_equal(target[8], 1);        /* D: 60% of 2 = 2, called first */
    assert_int_equal(target[7], 1);
    assert_int_equal(target[9], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_periods),
        cmocka_unit_test(test_month_days_calendar_and_busy),
        cmocka_unit_test(test_local_times_across_dst),
        cmocka_unit_test(test_quarter_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
