/* test_clock.c: clocks, civil dates, time zones across daylight saving
 * changes, and work calendars (common/clock.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

/* ---- Clocks ---- */

static void test_clocks(void **state) {
    (void)state;
    int64_t now = mr_now_ms();
    assert_true(now > 1767225600000LL);   /* after 2026-01-01 */
    assert_true(now < 4102444800000LL);   /* before 2100-01-01 */
    int64_t m1 = mr_mono_ms(), u1 = mr_mono_us();
    int64_t m2 = mr_mono_ms(), u2 = mr_mono_us();
    assert_true(m2 >= m1);
    assert_true(u2 >= u1);
    assert_true(u1 / 1000 >= m1 && u1 / 1000 <= m2);
}

/* ---- Civil dates ---- */

static void test_known_day_numbers(void **state) {
    (void)state;
    assert_int_equal(mr_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(mr_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(mr_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(mr_days_from_civil(2026, 11, 24), 20781);
    assert_int_equal(mr_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(mr_days_from_civil(0, 3, 1), -719468);
    assert_int_equal(mr_days_from_civil(9999, 12, 31), 2932896);
    int y, m, d;
    mr_civil_from_days(-719162, &y, &m, &d);
    assert_int_equal(y, 1);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    mr_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    mr_civil_from_days(mr_days_from_civil(-4713, 11, 24), &y, &m, &d);
    assert_int_equal(y, -4713);
    assert_int_equal(m, 11);
    assert_int_equal(d, 24);
}

/* Walks day by day over about 2,700 years each side of 1970: each day
 * number must give a real date, one day after the previous one, and map
 * back to the same number. */
static void test_round_trip_over_a_wide_range(void **state) {
    (void)state;
    int py, pm, pd;
    mr_civil_from_days(-1000001, &py, &pm, &pd);
    for (int64_t days = -1000000; days <= 1000000; days++) {
        int y, m, d;
        mr_civil_from_days(days, &y, &m, &d);
        if (!mr_date_valid(y, m, d) || mr_days_from_civil(y, m, d) != days) {
            fprintf(stderr, "day %lld -> %d-%d-%d\n", (long long)days, y, m, d);
            fail();
        }
        bool next_day = (y == py && m == pm && d == pd + 1);
        bool next_month = (y == py && m == pm + 1 && d == 1);
        bool next_year = (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        if (!(next_day || next_month || next_year)) {
            fprintf(stderr, "%d-%d-%d followed by %d-%d-%d\n", py, pm, pd, y, m, d);
            fail();
        }
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_far_years_round_trip(void **state) {
    (void)state;
    static const int years[] = {-1000000, -400, -1, 0, 1, 1582, 1900, 2100, 100000, 5000000};
    for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++) {
        for (int m = 1; m <= 12; m++) {
            int y2, m2, d2;
            mr_civil_from_days(mr_days_from_civil(years[i], m, 28), &y2, &m2, &d2);
            assert_int_equal(y2, years[i]);
            assert_int_equal(m2, m);
            assert_int_equal(d2, 28);
        }
    }
}

static void test_weekdays(void **state) {
    (void)state;
    assert_int_equal(mr_weekday_from_days(0), 4);                                /* Thu */
    assert_int_equal(mr_weekday_from_days(mr_days_from_civil(2026, 11, 24)), 2); /* Tue */
    assert_int_equal(mr_weekday_from_days(mr_days_from_civil(2000, 1, 1)), 6);   /* Sat */
    assert_int_equal(mr_weekday_from_days(mr_days_from_civil(1969, 12, 28)), 0); /* Sun */
    assert_int_equal(mr_weekday_from_days(mr_days_from_civil(1, 1, 1)), 1);      /* Mon */
    for (int64_t days = -3000; days < 3000; days++)
        assert_int_equal(mr_weekday_from_days(days + 1), (mr_weekday_from_days(days) + 1) % 7);
}

static void test_leap_years_and_valid_dates(void **state) {
    (void)state;
    assert_true(mr_date_valid(2000, 2, 29));
    assert_true(mr_date_valid(2024, 2, 29));
    assert_true(mr_date_valid(2400, 2, 29));
    assert_true(mr_date_valid(0, 2, 29));
    assert_false(mr_date_valid(1900, 2, 29));
    assert_false(mr_date_valid(2023, 2, 29));
    assert_false(mr_date_valid(2100, 2, 29));
    assert_false(mr_date_valid(2026, 4, 31));
    assert_true(mr_date_valid(2026, 12, 31));
    assert_false(mr_date_valid(2026, 0, 1));
    assert_false(mr_date_valid(2026, 13, 1));
    assert_false(mr_date_valid(2026, 1, 0));
    assert_false(mr_date_valid(2026, 1, 32));
    assert_int_equal(mr_days_from_civil(2024, 3, 1) - mr_days_from_civil(2024, 2, 28), 2);
    assert_int_equal(mr_days_from_civil(2100, 3, 1) - mr_days_from_civil(2100, 2, 28), 1);
    assert_int_equal(mr_days_from_civil(2001, 1, 1) - mr_days_from_civil(2000, 1, 1), 366);
}

static void test_date_parse(void **state) {
    (void)state;
    int y = 0, m = 0, d = 0;
    assert_int_equal(mr_date_parse("2026-10-01", &y, &m, &d), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 10);
    assert_int_equal(d, 1);
    assert_int_equal(mr_date_parse("2024-02-29", &y, &m, &d), 0);
    static const char *const bad[] = {"2026-02-30", "2026-13-01", "2026-1-01", "2026-01-1",
                                      "20260101",   "2026/01/01", "2026-01-01x", " 2026-01-01",
                                      "",           "2026-0a-01", "+026-01-01", "2023-02-29"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mr_date_parse(bad[i], &y, &m, &d), -1);
    assert_int_equal(mr_date_parse(NULL, &y, &m, &d), -1);
}

/* ---- Time zones ---- */

static void expect_local(const mr_tz *tz, int64_t unix_s, int y, int m, int d, int hh, int mm,
                         int ss, int offset) {
    mr_local_time t;
    mr_tz_to_local(tz, unix_s, &t);
    if (t.year != y || t.month != m || t.day != d || t.hour != hh || t.minute != mm ||
        t.second != ss || t.utc_offset_s != offset)
        fprintf(stderr, "%s %lld: got %04d-%02d-%02d %02d:%02d:%02d %+d\n", mr_tz_name(tz),
                (long long)unix_s, t.year, t.month, t.day, t.hour, t.minute, t.second,
                t.utc_offset_s);
    assert_int_equal(t.year, y);
    assert_int_equal(t.month, m);
    assert_int_equal(t.day, d);
    assert_int_equal(t.hour, hh);
    assert_int_equal(t.minute, mm);
    assert_int_equal(t.second, ss);
    assert_int_equal(t.utc_offset_s, offset);
    assert_int_equal(t.weekday, mr_weekday_from_days(mr_days_from_civil(y, m, d)));
}

static void test_zone_loading(void **state) {
    (void)state;
    mr_tz *tz = mr_tz_load("Europe/Berlin");
    assert_non_null(tz);
    assert_string_equal(mr_tz_name(tz), "Europe/Berlin");
    mr_tz_free(&tz);
    assert_null(tz);
    mr_tz_free(&tz);
    static const char *const bad[] = {"Mars/Olympus", "", "europe/berlin", "Europe",
                                      "../../../etc/passwd", "Europe/../Europe/Berlin",
                                      "/usr/share/zoneinfo/Europe/Berlin", "Europe/Berlin ",
                                      "zone.tab"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tz = mr_tz_load(bad[i]);
        if (tz) fprintf(stderr, "loaded '%s'\n", bad[i]);
        assert_null(tz);
    }
    assert_null(mr_tz_load(NULL));
}

static void test_utc(void **state) {
    (void)state;
    mr_tz *tz = mr_tz_load("UTC");
    assert_non_null(tz);
    expect_local(tz, 0, 1970, 1, 1, 0, 0, 0, 0);
    expect_local(tz, 1782864000, 2026, 7, 1, 0, 0, 0, 0);
    expect_local(tz, -1, 1969, 12, 31, 23, 59, 59, 0);
    assert_int_equal(mr_tz_from_local(tz, 2026, 7, 1, 0, 0, 0), 1782864000);
    mr_tz_free(&tz);
    tz = mr_tz_load("Etc/UTC");
    assert_non_null(tz);
    expect_local(tz, 1782864000, 2026, 7, 1, 0, 0, 0, 0);
    mr_tz_free(&tz);
}

static void test_shanghai_is_utc_plus_8_all_year(void **state) {
    (void)state;
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    assert_non_null(tz);
    expect_local(tz, 1782864000, 2026, 7, 1, 8, 0, 0, 28800);   /* 2026-07-01T00:00Z */
    expect_local(tz, 1768435200, 2026, 1, 15, 8, 0, 0, 28800);  /* 2026-01-15T00:00Z */
    expect_local(tz, 1768435200 - 8 * 3600 - 1, 2026, 1, 14, 23, 59, 59, 28800);
    assert_int_equal(mr_tz_from_local(tz, 2026, 1, 15, 8, 0, 0), 1768435200);
    assert_int_equal(mr_tz_from_local(tz, 2026, 7, 1, 0, 0, 0), 1782864000 - 28800);
    for (int64_t t = 1767225600; t < 1767225600 + 366 * 86400; t += 3600) {
        mr_local_time lt;
        mr_tz_to_local(tz, t, &lt);
        assert_int_equal(lt.utc_offset_s, 28800);
    }
    mr_tz_free(&tz);
}

/* Berlin 2026: CET (+1) to CEST (+2) at 2026-03-29 01:00Z (02:00 local),
 * back at 2026-10-25 01:00Z (03:00 CEST -> 02:00 CET). */
static void test_berlin_across_dst(void **state) {
    (void)state;
    mr_tz *tz = mr_tz_load("Europe/Berlin");
    assert_non_null(tz);
    const int64_t spring = 1774746000, autumn = 1792890000;

    expect_local(tz, spring - 1, 2026, 3, 29, 1, 59, 59, 3600);
    expect_local(tz, spring, 2026, 3, 29, 3, 0, 0, 7200);
    /* the gap: 02:00..02:59 does not exist; 02:30 means 03:30 CEST */
    assert_int_equal(mr_tz_from_local(tz, 2026, 3, 29, 2, 30, 0), spring + 1800);
    assert_int_equal(mr_tz_from_local(tz, 2026, 3, 29, 2, 0, 0), spring);
    assert_int_equal(mr_tz_from_local(tz, 2026, 3, 29, 1, 59, 59), spring - 1);
    assert_int_equal(mr_tz_from_local(tz, 2026, 3, 29, 3, 0, 0), spring);

    expect_local(tz, autumn - 1, 2026, 10, 25, 2, 59, 59, 7200);
    expect_local(tz, autumn, 2026, 10, 25, 2, 0, 0, 3600);
    /* the overlap: 02:30 happens twice; the first (CEST) is chosen */
    expect_local(tz, autumn - 1800, 2026, 10, 25, 2, 30, 0, 7200);
    expect_local(tz, autumn + 1800, 2026, 10, 25, 2, 30, 0, 3600);
    assert_int_equal(mr_tz_from_local(tz, 2026, 10, 25, 2, 30, 0), autumn - 1800);
    assert_int_equal(mr_tz_from_local(tz, 2026, 10, 25, 2, 0, 0), autumn - 3600);
    assert_int_equal(mr_tz_from_local(tz, 2026, 10, 25, 1, 59, 59), autumn - 3601);
    assert_int_equal(mr_tz_from_local(tz, 2026, 10, 25, 3, 0, 0), autumn + 3600);

    /* summer and winter far from the changes */
    assert_int_equal(mr_tz_from_local(tz, 2026, 7, 1, 2, 0, 0), 1782864000);
    expect_local(tz, 1768435200, 2026, 1, 15, 1, 0, 0, 3600);
    mr_tz_free(&tz);
}

/* New York 2026: EST (-5) to EDT (-4) at 2026-03-08 07:00Z (02:00 local),
 * back at 2026-11-01 06:00Z (02:00 EDT -> 01:00 EST). */
static void test_new_york_across_dst(void **state) {
    (void)state;
    mr_tz *tz = mr_tz_load("America/New_York");
    assert_non_null(tz);
    const int64_t spring = 1772953200, autumn = 1793512800;

    expect_local(tz, spring - 1, 2026, 3, 8, 1, 59, 59, -18000);
    expect_local(tz, spring, 2026, 3, 8, 3, 0, 0, -14400);
    assert_int_equal(mr_tz_from_local(tz, 2026, 3, 8, 2, 30, 0), 1772955000); /* 03:30 EDT */
    assert_int_equal(mr_tz_from_local(tz, 2026, 3, 8, 3, 30, 0), 1772955000);

    expect_local(tz, autumn - 1, 2026, 11, 1, 1, 59, 59, -14400);
    expect_local(tz, autumn, 2026, 11, 1, 1, 0, 0, -18000);
    assert_int_equal(mr_tz_from_local(tz, 2026, 11, 1, 1, 30, 0), 1793511000); /* EDT */
    expect_local(tz, 1793514600, 2026, 11, 1, 1, 30, 0, -18000);                 /* again, EST */
    assert_int_equal(mr_tz_from_local(tz, 2026, 11, 1, 2, 0, 0), autumn + 3600);

    /* the local date differs from the UTC date in the evening */
    expect_local(tz, 1782864000, 2026, 6, 30, 20, 0, 0, -14400);
    mr_tz_free(&tz);
}

/* Every 15 minutes through a year: local -> instant -> local keeps the wall
 * time, and gives back the instant except for the second pass through a
 * repeated hour, where it gives the earlier one. */
static void check_year_round_trip(const char *zone) {
    mr_tz *tz = mr_tz_load(zone);
    assert_non_null(tz);
    for (int64_t t = 1767225600; t < 1767225600 + 365 * 86400; t += 900) {
        mr_local_time a, b;
        mr_tz_to_local(tz, t, &a);
        int64_t back = mr_tz_from_local(tz, a.year, a.month, a.day, a.hour, a.minute, a.second);
        mr_tz_to_local(tz, back, &b);
        assert_int_equal(b.hour, a.hour);
        assert_int_equal(b.minute, a.minute);
        assert_int_equal(b.day, a.day);
        if (back != t) {
            assert_true(back < t);
            assert_true(b.utc_offset_s > a.utc_offset_s);
            assert_int_equal(t - back, b.utc_offset_s - a.utc_offset_s);
        }
    }
    mr_tz_free(&tz);
}

static void test_round_trip_through_a_year(void **state) {
    (void)state;
    check_year_round_trip("Europe/Berlin");
    check_year_round_trip("America/New_York");
    check_year_round_trip("Asia/Shanghai");
    check_year_round_trip("Australia/Lord_Howe"); /* half-hour daylight saving */
}

static void test_history_and_far_future(void **state) {
    (void)state;
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    assert_non_null(tz);
    /* China kept daylight saving 1986-1991: 1988-07-01T00:00Z was 09:00 */
    expect_local(tz, 583718400, 1988, 7, 1, 9, 0, 0, 32400);
    mr_tz_free(&tz);
    tz = mr_tz_load("Europe/Berlin");
    assert_non_null(tz);
    /* 2100-07-01T00:00Z: the rules go on */
    expect_local(tz, 4118083200, 2100, 7, 1, 2, 0, 0, 7200);
    /* out of range instants are clamped, not undefined */
    mr_local_time t;
    mr_tz_to_local(tz, INT64_MAX, &t); /* 9999-12-31T23:59:59Z, an hour ahead */
    assert_int_equal(t.year, 10000);
    assert_int_equal(t.hour, 0);
    mr_tz_to_local(tz, INT64_MIN, &t);
    assert_int_equal(t.year, 1);
    mr_tz_free(&tz);
}

typedef struct {
    const mr_tz *tz;
    int failures;
} thread_arg;

static void *convert_many(void *p) {
    thread_arg *arg = p;
    for (int64_t t = 1767225600; t < 1767225600 + 200 * 86400; t += 3593) {
        mr_local_time lt;
        mr_tz_to_local(arg->tz, t, &lt);
        int64_t back =
            mr_tz_from_local(arg->tz, lt.year, lt.month, lt.day, lt.hour, lt.minute, lt.second);
        if (back != t && back != t - 3600) arg->failures++;
    }
    return NULL;
}

static void test_zones_shared_between_threads(void **state) {
    (void)state;
    mr_tz *berlin = mr_tz_load("Europe/Berlin");
    mr_tz *ny = mr_tz_load("America/New_York");
    assert_non_null(berlin);
    assert_non_null(ny);
    pthread_t threads[4];
    thread_arg args[4] = {{berlin, 0}, {ny, 0}, {berlin, 0}, {ny, 0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, convert_many, &args[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    mr_tz_free(&berlin);
    mr_tz_free(&ny);
}

/* ---- Work calendars ---- */

static mr_calendar *must_calendar(const char *days, const char *holidays, const char *workdays) {
    char err[256] = "";
    mr_calendar *cal = mr_calendar_parse(days, holidays, workdays, err, sizeof(err));
    if (cal == NULL) fprintf(stderr, "calendar error: %s\n", err);
    assert_non_null(cal);
    return cal;
}

static void test_default_calendar_is_monday_to_friday(void **state) {
    (void)state;
    mr_calendar *cal = must_calendar(NULL, NULL, NULL);
    assert_true(mr_calendar_is_field_day(cal, 2026, 11, 23));  /* Mon */
    assert_true(mr_calendar_is_field_day(cal, 2026, 11, 27));  /* Fri */
    assert_false(mr_calendar_is_field_day(cal, 2026, 11, 28)); /* Sat */
    assert_false(mr_calendar_is_field_day(cal, 2026, 11, 29)); /* Sun */
    assert_false(mr_calendar_is_field_day(cal, 2026, 2, 30));  /* no such day */
    assert_int_equal(mr_calendar_field_days(cal, 2026, 11, 23, 2026, 11, 29), 5);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 11, 23, 2026, 11, 23), 1);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 11, 28, 2026, 11, 29), 0);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 11, 29, 2026, 11, 23), 0); /* reversed */
    assert_int_equal(mr_calendar_field_days(cal, 2026, 1, 1, 2026, 12, 31), 261);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 2, 30, 2026, 3, 31), 0);
    mr_calendar_free(&cal);
    cal = must_calendar("", "", "");
    assert_int_equal(mr_calendar_field_days(cal, 2026, 1, 1, 2026, 12, 31), 261);
    mr_calendar_free(&cal);
    assert_null(cal);
}

/* A Golden Week style break: 2026-10-01 (Thu) .. 10-07 (Wed) off, and
 * Saturday 10-10 worked to make up. */
static void test_holidays_and_make_up_days(void **state) {
    (void)state;
    mr_calendar *cal =
        must_calendar("mon,tue,wed,thu,fri", "2026-10-01..2026-10-07, 2027-01-01", "2026-10-10");
    assert_true(mr_calendar_is_field_day(cal, 2026, 9, 30));
    assert_false(mr_calendar_is_field_day(cal, 2026, 10, 1));
    assert_false(mr_calendar_is_field_day(cal, 2026, 10, 5)); /* Monday, in the range */
    assert_false(mr_calendar_is_field_day(cal, 2026, 10, 7));
    assert_true(mr_calendar_is_field_day(cal, 2026, 10, 8));
    assert_true(mr_calendar_is_field_day(cal, 2026, 10, 10)); /* Saturday, made up */
    assert_false(mr_calendar_is_field_day(cal, 2026, 10, 11));
    assert_false(mr_calendar_is_field_day(cal, 2027, 1, 1));
    /* Mon 9-28 .. Sun 10-11: 28,29,30 + 8,9 + 10 */
    assert_int_equal(mr_calendar_field_days(cal, 2026, 9, 28, 2026, 10, 11), 6);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 10, 1, 2026, 10, 7), 0);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 10, 10, 2026, 10, 10), 1);
    assert_int_equal(mr_calendar_field_days(cal, 2026, 1, 1, 2027, 1, 31), 261 - 5 + 1 + 21 - 1);
    mr_calendar_free(&cal);
}

static void test_custom_field_days(void **state) {
    (void)state;
    mr_calendar *cal = must_calendar(" SUN, thu ,", NULL, "2026-11-28");
    assert_true(mr_calendar_is_field_day(cal, 2026, 11, 29));  /* Sun */
    assert_true(mr_calendar_is_field_day(cal, 2026, 11, 26));  /* Thu */
    assert_false(mr_calendar_is_field_day(cal, 2026, 11, 23)); /* Mon */
    assert_true(mr_calendar_is_field_day(cal, 2026, 11, 28));  /* Sat, a listed workday */
    assert_int_equal(mr_calendar_field_days(cal, 2026, 11, 23, 2026, 11, 29), 3);
    mr_calendar_free(&cal);
}

/* Counting must agree with asking day by day, over ranges that start and
 * end everywhere around overlapping holidays and make-up days. */
static void test_counts_agree_with_day_by_day(void **state) {
    (void)state;
    mr_calendar *cal = must_calendar("mon,tue,wed,thu,fri,sat",
                                     "2026-01-01..2026-01-10, 2026-01-05..2026-01-15, "
                                     "2026-01-16, 2026-02-14..2026-02-20, 2026-05-01",
                                     "2026-01-18, 2026-02-22, 2026-02-22, 2026-03-01");
    int64_t base = mr_days_from_civil(2025, 12, 20);
    for (int64_t a = base; a < base + 90; a += 3) {
        int expected = 0;
        for (int64_t b = a; b < a + 150; b++) {
            int y, m, d, y1, m1, d1;
            mr_civil_from_days(b, &y, &m, &d);
            mr_civil_from_days(a, &y1, &m1, &d1);
            expected += mr_calendar_is_field_day(cal, y, m, d);
            assert_int_equal(mr_calendar_field_days(cal, y1, m1, d1, y, m, d), expected);
        }
    }
    /* January 2026: 1-16 off, 17 Sat, 18 Sun made up, 19-31 Mon-Sat */
    assert_int_equal(mr_calendar_field_days(cal, 2026, 1, 1, 2026, 1, 31), 1 + 1 + 12);
    /* a century, no holidays: 6 of every 7 days */
    mr_calendar *plain = must_calendar("mon,tue,wed,thu,fri,sat", NULL, NULL);
    int64_t span = mr_days_from_civil(2100, 1, 1) - mr_days_from_civil(2000, 1, 1);
    int count = mr_calendar_field_days(plain, 2000, 1, 1, 2099, 12, 31);
    assert_true(count >= span / 7 * 6 && count <= span / 7 * 6 + 6);
    assert_int_equal(count, 31307);
    mr_calendar_free(&plain);
    mr_calendar_free(&cal);
}

static void expect_calendar_error(const char *days, const char *holidays, const char *workdays,
                                  const char *want) {
    char err[256] = "";
    mr_calendar *cal = mr_calendar_parse(days, holidays, workdays, err, sizeof(err));
    if (cal != NULL || strstr(err, want) == NULL)
        fprintf(stderr, "error '%s', wanted '%s'\n", err, want);
    assert_null(cal);
    assert_non_null(strstr(err, want));
}

static void test_malformed_calendars(void **state) {
    (void)state;
    expect_calendar_error("mon,funday", NULL, NULL, "field_days: 'funday'");
    expect_calendar_error("monday", NULL, NULL, "field_days");
    expect_calendar_error(NULL, "2026-02-30", NULL, "holidays: '2026-02-30'");
    expect_calendar_error(NULL, "2026-10-07..2026-10-01", NULL,
                          "holidays: '2026-10-07..2026-10-01'");
    expect_calendar_error(NULL, "2026-10-01..", NULL, "holidays");
    expect_calendar_error(NULL, "2026-10-01 2026-10-02", NULL, "holidays");
    expect_calendar_error(NULL, "christmas", NULL, "holidays: 'christmas'");
    expect_calendar_error(NULL, NULL, "2026/10/10", "workdays: '2026/10/10'");
    expect_calendar_error(NULL, "2026-10-01..2026-10-07", "2026-10-03",
                          "workdays: 2026-10-03 is also a holiday");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_known_day_numbers),
        cmocka_unit_test(test_round_trip_over_a_wide_range),
        cmocka_unit_test(test_far_years_round_trip),
        cmocka_unit_test(test_weekdays),
        cmocka_unit_test(test_leap_years_and_valid_dates),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_zone_loading),
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_shanghai_is_utc_plus_8_all_year),
        cmocka_unit_test(test_berlin_across_dst),
        cmocka_unit_test(test_new_york_across_dst),
        cmocka_unit_test(test_round_trip_through_a_year),
        cmocka_unit_test(test_history_and_far_future),
        cmocka_unit_test(test_zones_shared_between_threads),
        cmocka_unit_test(test_default_calendar_is_monday_to_friday),
        cmocka_unit_test(test_holidays_and_make_up_days),
        cmocka_unit_test(test_custom_field_days),
        cmocka_unit_test(test_counts_agree_with_day_by_day),
        cmocka_unit_test(test_malformed_calendars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
