/* test_scheduling_improve.c: the month planner's travel improvement
 * (services/scheduling/planner.c: the local search that moves detours
 * and zig-zag runs to days already at their hospitals, swaps calls
 * between days, and the several starts with other day groups): it drives
 * less than the plan without it and meets exactly as many norms; no move
 * breaks a rule of the visits (windows, once a week, the conflict rule,
 * calls a day); more starts are never worse; a move that would break the
 * conflict rule or once a week is refused even where it would save a
 * drive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "planner.h"

static sc_gen_opts region_opts(uint64_t seed)
{
    return (sc_gen_opts){.seed = seed, .hospitals = 15, .customers = 200, .days = 30, .radius_km = 15,
                         .share_a = 0.1, .share_b = 0.15, .share_c = 0.25, .share_d = 0.35, .windowed = 0.4};
}

/* Every planned call fits its visit's spans that day; calls of a day do
 * not overlap and leave time to drive; once a week and the conflict rule
 * hold per customer; no day holds more than calls_per_day_max calls. */
static void assert_rules_hold(const sc_problem *p, const sc_plan *plan)
{
    const sc_norms *nm = p->norms;
    int *per_day = calloc((size_t)p->ndays, sizeof *per_day);
    assert_non_null(per_day);
    for (int i = 0; i < plan->ncalls; i++) {
        const sc_call *c = &plan->calls[i];
        if (i > 0 && plan->calls[i - 1].day == c->day) {
            const sc_call *b = &plan->calls[i - 1];
            assert_true(c->start >= b->start + b->duration + p->travel[b->loc * p->nloc + c->loc]);
        }
        if (c->kind != SC_KIND_CALL || c->fixed)
            continue;
        per_day[c->day]++;
        sc_spans sp;
        sc_visit_spans(p, c->visit, c->day, &sp);
        bool inside = false;
        for (int w = 0; w < sp.n; w++)
            inside |= c->start >= sp.s[w].start && c->start + c->duration <= sp.s[w].end;
        assert_true(inside || c->talk);
        for (int j = 0; j < plan->ncalls; j++) {
            const sc_call *o = &plan->calls[j];
            if (j == i || o->visit != c->visit || o->kind != SC_KIND_CALL)
                continue;
            assert_true(abs(o->day - c->day) >= (nm->conflict_days > 1 ? nm->conflict_days : 1));
            assert_true(nm->calls_per_week_per_customer > 1 || p->days[o->day].week != p->days[c->day].week);
        }
    }
    for (int d = 0; d < p->ndays; d++)
        assert_true(per_day[d] <= nm->calls_per_day_max);
    free(per_day);
}

static int calls_of(const sc_plan *plan, int visit)
{
    int n = 0;
    for (int i = 0; i < plan->ncalls; i++)
        n += plan->calls[i].visit == visit && plan->calls[i].kind == SC_KIND_CALL;
    return n;
}

/* Plans one generated rep-month with the given norms. */
static void plan_region(uint64_t seed, const sc_norms *nm, sc_plan *plan, sc_gen *g)
{
    sc_gen_opts o = region_opts(seed);
    assert_int_equal(sc_gen_make(&o, nm, g), 0);
    assert_int_equal(sc_plan_targets(&g->problem), 0);
    assert_int_equal(sc_plan_make(&g->problem, plan), 0);
}

static void test_local_search_drives_less_and_keeps_every_norm(void **state)
{
    (void)state;
    sc_norms with, without;
    sc_norms_defaults(&with, false);
    with.plan_starts = 1;
    without = with;
    without.improve_passes = 0;
    long travel_with = 0, travel_without = 0;
    for (uint64_t seed = 21; seed <= 23; seed++) {
        sc_gen g1, g2;
        sc_plan a, b;
        plan_region(seed, &with, &a, &g1);
        plan_region(seed, &without, &b, &g2);
        print_message("seed %d: travel %d with the local search, %d without; norms %d/%d and %d/%d\n", (int)seed,
                      a.travel, b.travel, a.norms_met, a.norms_checked, b.norms_met, b.norms_checked);
        assert_rules_hold(&g1.problem, &a);
        assert_int_equal(a.norms_met, b.norms_met);      /* moves keep every visit's count */
        assert_int_equal(a.norms_checked, b.norms_checked);
        for (int v = 0; v < g1.nvisits; v++)
            assert_int_equal(calls_of(&a, v), calls_of(&b, v));
        assert_true(a.travel <= b.travel);
        travel_with += a.travel;
        travel_without += b.travel;
        sc_plan_free(&a);
        sc_plan_free(&b);
        sc_gen_free(&g1);
        sc_gen_free(&g2);
    }
    assert_true(travel_with < travel_without);
}

static void test_strict_rules_hold_under_a_long_search(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, true);
    nm.conflict_days = 6;            /* stricter than the default */
    nm.improve_passes = 6;
    nm.detour_calls = 20;
    nm.plan_starts = 2;
    for (uint64_t seed = 31; seed <= 32; seed++) {
        sc_gen g;
        sc_plan plan;
        plan_region(seed, &nm, &plan, &g);
        assert_rules_hold(&g.problem, &plan);
        sc_plan_free(&plan);
        sc_gen_free(&g);
    }
}

static void test_more_starts_are_never_worse(void **state)
{
    (void)state;
    sc_norms one, three;
    sc_norms_defaults(&one, false);
    one.plan_starts = 1;
    three = one;
    three.plan_starts = 3;
    for (uint64_t seed = 41; seed <= 42; seed++) {
        sc_gen g1, g3;
        sc_plan a, b;
        plan_region(seed, &one, &a, &g1);
        plan_region(seed, &three, &b, &g3);
        assert_true(b.norms_met >= a.norms_met);
        if (b.norms_met == a.norms_met)
            assert_true(b.travel <= a.travel);
        assert_rules_hold(&g3.problem, &b);
        sc_plan_free(&a);
        sc_plan_free(&b);
        sc_gen_free(&g1);
        sc_gen_free(&g3);
    }
}

/* Two weeks; hospital 2 is far. Customer 0 there wants two calls, and
 * one day at hospital 2 would save a long drive, but the conflict rule
 * and once a week forbid it: the plan keeps two days there, apart.
 * Customer 1 there wants one call: it joins one of those days instead of
 * costing a drive of its own. */
static void test_a_move_that_breaks_a_rule_is_refused(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    nm.pims_per_week = 0;
    nm.calls_per_day_min = 0;
    nm.improve_passes = 4;
    int travel[9] = {0, 10, 40, 10, 5, 35, 40, 35, 5};
    sc_visit v[8];
    memset(v, 0, sizeof v);
    for (int i = 0; i < 8; i++) {
        v[i].loc = i < 2 ? 2 : 1;
        v[i].cls = 0;
        v[i].target = i == 0 ? 2 : 1;
        v[i].windows.any = v[i].peak.any = true;
        v[i].last_call_day = SC_NO_DAY;
    }
    sc_day days[12];
    for (int d = 0; d < 12; d++)
        days[d] = (sc_day){.weekday = (1 + d) % 7, .field = (1 + d) % 7 >= 1 && (1 + d) % 7 <= 5, .week = d / 7};
    sc_problem p = {.nloc = 3, .travel = travel, .home = 0, .visits = v, .nvisits = 8,
                    .days = days, .ndays = 12, .norms = &nm};
    sc_plan plan;
    assert_int_equal(sc_plan_make(&p, &plan), 0);
    assert_rules_hold(&p, &plan);
    for (int i = 0; i < 8; i++)
        assert_int_equal(calls_of(&plan, i), v[i].target);
    int far_days = 0, seen = -1;
    for (int i = 0; i < plan.ncalls; i++)
        if (plan.calls[i].loc == 2 && plan.calls[i].day != seen) {
            far_days++;
            seen = plan.calls[i].day;
        }
    assert_int_equal(far_days, 2);
    sc_plan_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_search_drives_less_and_keeps_every_norm),
        cmocka_unit_test(test_strict_rules_hold_under_a_long_search),
        cmocka_unit_test(test_more_starts_are_never_worse),
        cmocka_unit_test(test_a_move_that_breaks_a_rule_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
