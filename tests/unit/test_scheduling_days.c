/* test_scheduling_days.c: calls a day as a rule for each field day, not
 * an average (DOMAIN.md 3.3, services/scheduling/planner.c): no move of
 * the month's local search (the merge of a small hospital visit into a
 * day already there) leaves a day below calls_per_day_min, days left
 * short by the construction are filled from days above it, no day goes
 * above calls_per_day_max, and a day that cannot be filled (half a day
 * off) is kept and stated as a shortfall, after the class norms. Every
 * check counts the calls of each day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "planner.h"

/* Calls (talks included) on day d of the plan. */
static int calls_on(const sc_plan *plan, int d)
{
    int n = 0;
    for (int i = 0; i < plan->ncalls; i++)
        n += plan->calls[i].day == d && plan->calls[i].kind == SC_KIND_CALL && plan->calls[i].visit >= 0;
    return n;
}

static bool open_day(const sc_problem *p, int d)
{
    return d >= p->from_day && p->days[d].field && !p->days[d].off;
}

static int calls_of(const sc_plan *plan, int visit)
{
    int n = 0;
    for (int i = 0; i < plan->ncalls; i++)
        n += plan->calls[i].visit == visit && plan->calls[i].kind == SC_KIND_CALL;
    return n;
}

/* The index of the shortfall named norm, or -1. */
static int shortfall_at(const sc_plan *plan, const char *norm)
{
    for (int i = 0; i < plan->nshortfalls; i++)
        if (!strcmp(plan->shortfalls[i].norm, norm))
            return i;
    return -1;
}

/* Two field days. Hospital 2 is far (40 minutes). Tuesday is there
 * anyway: three calls pinned by the rep. Customers 1 and 2 (hospital 1)
 * can only be seen on Monday; customer 0 is at hospital 2. Monday needs
 * customer 0 to reach the minimum of 3 calls; merging Monday's small
 * visit to hospital 2 into Tuesday would save 75 minutes of driving and
 * leave Monday with 2 calls: the plan must not do it. */
static void test_merge_never_leaves_a_day_below_the_minimum(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    nm.pims_per_week = 0;
    nm.talks_per_event = 0;
    nm.calls_per_day_min = 3;
    nm.calls_per_day_max = 6;
    nm.improve_passes = 4;
    nm.plan_starts = 1;
    int travel[9] = {0, 5, 40, 5, 5, 40, 40, 40, 5};
    sc_visit v[6];
    memset(v, 0, sizeof v);
    for (int i = 0; i < 6; i++) {
        v[i].loc = i == 1 || i == 2 ? 1 : 2;
        v[i].cls = 0;
        v[i].target = 1;
        v[i].windows.any = v[i].peak.any = true;
        v[i].last_call_day = SC_NO_DAY;
    }
    for (int i = 1; i <= 2; i++) {          /* Monday only */
        v[i].windows.any = false;
        v[i].windows.day[1].n = 1;
        v[i].windows.day[1].s[0] = (sc_span){8 * 60, 18 * 60};
    }
    sc_day days[2] = {{.field = true, .weekday = 1, .week = 0}, {.field = true, .weekday = 2, .week = 0}};
    sc_call pinned[3];
    for (int i = 0; i < 3; i++)
        pinned[i] = (sc_call){.visit = 3 + i, .loc = 2, .day = 1, .start = 9 * 60 + 30 * i, .duration = 20,
                              .kind = SC_KIND_CALL, .fixed = true, .tag = i};
    sc_problem p = {.nloc = 3, .travel = travel, .home = 0, .visits = v, .nvisits = 6, .days = days,
                    .ndays = 2, .fixed = pinned, .nfixed = 3, .norms = &nm};
    sc_plan plan;
    assert_int_equal(sc_plan_make(&p, &plan), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(calls_of(&plan, i), 1);
    print_message("calls a day: %d %d, travel %d\n", calls_on(&plan, 0), calls_on(&plan, 1), plan.travel);
    for (int d = 0; d < 2; d++) {
        assert_true(calls_on(&plan, d) >= nm.calls_per_day_min);
        assert_true(calls_on(&plan, d) <= nm.calls_per_day_max);
    }
    assert_int_equal(plan.days_below_min, 0);
    assert_int_equal(plan.days_above_max, 0);
    assert_int_equal(shortfall_at(&plan, "days_at_calls_per_day_min"), -1);
    assert_int_equal(shortfall_at(&plan, "days_within_calls_per_day_max"), -1);
    sc_plan_free(&plan);

    /* the same month with no minimum: the merge is made (it saves the drive) */
    nm.calls_per_day_min = 0;
    assert_int_equal(sc_plan_make(&p, &plan), 0);
    assert_int_equal(calls_on(&plan, 0), 2);
    assert_int_equal(calls_on(&plan, 1), 4);
    sc_plan_free(&plan);
}

static sc_gen_opts region_opts(uint64_t seed)
{
    return (sc_gen_opts){.seed = seed, .hospitals = 15, .customers = 200, .days = 30, .radius_km = 15,
                         .share_a = 0.1, .share_b = 0.15, .share_c = 0.25, .share_d = 0.35, .windowed = 0.4};
}

/* Generated months (the bench's territories): every open day holds
 * calls_per_day_min..max calls, and the plan's figures say so. */
static void test_every_day_of_a_month_within_min_and_max(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    nm.plan_starts = 1;
    for (uint64_t seed = 51; seed <= 52; seed++) {
        sc_gen g;
        sc_gen_opts o = region_opts(seed);
        assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
        assert_int_equal(sc_plan_targets(&g.problem), 0);
        sc_plan plan;
        assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
        int below = 0, above = 0;
        for (int d = 0; d < g.ndays; d++) {
            if (!open_day(&g.problem, d))
                continue;
            below += calls_on(&plan, d) < nm.calls_per_day_min;
            above += calls_on(&plan, d) > nm.calls_per_day_max;
        }
        print_message("seed %d: %d days below the minimum, %d above the maximum\n", (int)seed, below, above);
        assert_int_equal(below, 0);
        assert_int_equal(above, 0);
        assert_int_equal(plan.days_below_min, 0);
        assert_int_equal(plan.calls_below_min, 0);
        assert_int_equal(plan.days_above_max, 0);
        assert_int_equal(shortfall_at(&plan, "days_at_calls_per_day_min"), -1);
        sc_plan_free(&plan);
        sc_gen_free(&g);
    }
}

/* Half a day off (the afternoon blocked) cannot hold the minimum: the
 * day keeps what fits, no other day goes below the minimum, and the plan
 * states the shortfall (one day, the calls it lacks) after the norms of
 * every class. */
static void test_a_day_that_cannot_be_filled_is_stated(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    nm.plan_starts = 1;
    sc_gen g;
    sc_gen_opts o = region_opts(53);
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    int half = 2;                             /* a Wednesday */
    assert_true(open_day(&g.problem, half));
    sc_spans_add(&g.days[half].blocked, 11 * 60, nm.day_end);
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan plan;
    assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
    int open = 0, on_half = calls_on(&plan, half);
    for (int d = 0; d < g.ndays; d++) {
        if (!open_day(&g.problem, d))
            continue;
        open++;
        if (d != half)
            assert_true(calls_on(&plan, d) >= nm.calls_per_day_min);
        assert_true(calls_on(&plan, d) <= nm.calls_per_day_max);
    }
    print_message("half day: %d calls\n", on_half);
    assert_true(on_half > 0 && on_half < nm.calls_per_day_min);
    assert_int_equal(plan.days_below_min, 1);
    assert_int_equal(plan.calls_below_min, nm.calls_per_day_min - on_half);
    int at = shortfall_at(&plan, "days_at_calls_per_day_min");
    assert_true(at >= 0);
    assert_true(plan.shortfalls[at].required == open);
    assert_true(plan.shortfalls[at].planned == open - 1);
    for (int i = at + 1; i < plan.nshortfalls; i++)
        assert_null(strchr(plan.shortfalls[i].norm, '.'));   /* class norms come first */
    assert_true(plan.norms_met < plan.norms_checked);
    sc_plan_free(&plan);
    sc_gen_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_never_leaves_a_day_below_the_minimum),
        cmocka_unit_test(test_every_day_of_a_month_within_min_and_max),
        cmocka_unit_test(test_a_day_that_cannot_be_filled_is_stated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
