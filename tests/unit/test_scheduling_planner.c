/* test_scheduling_planner.c: the month planner (services/scheduling/
 * planner.c) on generated territories: norms met on feasible instances;
 * shortfalls on infeasible ones, least important class first and the
 * most important met; windows, opening and peak hours, time off, blocks,
 * once a week and the conflict rule respected by every call; replanning
 * keeps done and pinned calls; any horizon with explicit targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gen.h"
#include "planner.h"

static sc_gen_opts opts(uint64_t seed, int hospitals, int customers)
{
    return (sc_gen_opts){.seed = seed, .hospitals = hospitals, .customers = customers, .days = 28,
                         .radius_km = 12, .share_a = 0.1, .share_b = 0.15, .share_c = 0.25,
                         .share_d = 0.35, .windowed = 0.4};
}

/* Every call fits its visit's spans that day, calls of a day do not
 * overlap and leave time to travel, and the per-customer rules hold. */
static void assert_plan_valid(const sc_problem *p, const sc_plan *plan)
{
    const sc_norms *nm = p->norms;
    for (int i = 0; i < plan->ncalls; i++) {
        const sc_call *c = &plan->calls[i];
        assert_true(c->day >= 0 && c->day < p->ndays);
        if (i > 0 && plan->calls[i - 1].day == c->day) {
            const sc_call *b = &plan->calls[i - 1];
            assert_true(c->start >= b->start + b->duration + p->travel[b->loc * p->nloc + c->loc]);
        }
        if (c->fixed)
            continue;
        assert_true(p->days[c->day].field && !p->days[c->day].off);
        assert_true(c->start >= nm->day_start && c->start + c->duration <= nm->day_end);
        if (c->kind != SC_KIND_CALL)
            continue;
        sc_spans sp;
        sc_visit_spans(p, c->visit, c->day, &sp);
        bool inside = false;
        for (int w = 0; w < sp.n; w++)
            inside |= c->start >= sp.s[w].start && c->start + c->duration <= sp.s[w].end;
        assert_true(inside);
        int same_week = 0;
        for (int j = 0; j < plan->ncalls; j++) {
            const sc_call *o = &plan->calls[j];
            if (j == i || o->visit != c->visit || o->kind != SC_KIND_CALL)
                continue;
            assert_true(abs(o->day - c->day) >= nm->conflict_days);
            same_week += p->days[o->day].week == p->days[c->day].week;
        }
        assert_true(same_week < nm->calls_per_week_per_customer);
    }
}

static int calls_of(const sc_plan *plan, int visit)
{
    int n = 0;
    for (int i = 0; i < plan->ncalls; i++)
        n += plan->calls[i].visit == visit && plan->calls[i].kind == SC_KIND_CALL;
    return n;
}

static void test_feasible_month_meets_every_norm(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, true);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sc_gen g;
        sc_gen_opts o = opts(seed, 6, 70);
        assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
        assert_int_equal(sc_plan_targets(&g.problem), 0);
        sc_plan plan;
        int64_t t0 = mr_mono_us();
        assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
        int64_t t1 = mr_mono_us();
        for (int i = 0; i < plan.nshortfalls; i++)
            print_message("seed %d shortfall %s %.1f/%.1f\n", (int)seed, plan.shortfalls[i].norm,
                          plan.shortfalls[i].planned, plan.shortfalls[i].required);
        assert_int_equal(plan.nshortfalls, 0);
        assert_int_equal(plan.norms_met, plan.norms_checked);
        assert_true(plan.norms_checked >= 10);
        assert_plan_valid(&g.problem, &plan);
        int a = sc_norms_class_index(&nm, "A");
        for (int v = 0; v < g.nvisits; v++)
            if (g.visits[v].cls == a)
                assert_int_equal(calls_of(&plan, v), g.visits[v].target);
        print_message("seed %d: %d calls, travel %d, idle %d, %lld us\n", (int)seed, plan.ncalls,
                      plan.travel, plan.idle, (long long)(t1 - t0));
        sc_plan_free(&plan);
        sc_gen_free(&g);
    }
}

static void test_time_off_and_blocks_respected(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    sc_gen g;
    sc_gen_opts o = opts(11, 5, 60);
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    g.days[8].off = true;                              /* a Tuesday off */
    sc_spans_add(&g.days[9].blocked, 12 * 60, 18 * 60); /* Wednesday afternoon off */
    g.days[3].field = false;                           /* a holiday */
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan plan;
    assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
    assert_plan_valid(&g.problem, &plan);
    int on9 = 0;
    for (int i = 0; i < plan.ncalls; i++) {
        assert_true(plan.calls[i].day != 8 && plan.calls[i].day != 3);
        if (plan.calls[i].day == 9) {
            assert_true(plan.calls[i].start + plan.calls[i].duration <= 12 * 60);
            on9++;
        }
    }
    assert_true(on9 > 0);
    sc_plan_free(&plan);
    sc_gen_free(&g);
}

static int index_of(const sc_plan *plan, const char *prefix)
{
    for (int i = 0; i < plan->nshortfalls; i++)
        if (!strncmp(plan->shortfalls[i].norm, prefix, strlen(prefix)))
            return i;
    return -1;
}

static void test_shortfall_sacrifices_d_before_c_before_b_before_a(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    sc_gen g;
    sc_gen_opts o = opts(5, 6, 160);
    o.share_a = 0.4;
    o.share_b = 0.3;
    o.share_c = 0.15;
    o.share_d = 0.15;
    o.windowed = 0;
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan plan;
    assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
    assert_plan_valid(&g.problem, &plan);
    for (int i = 0; i < plan.nshortfalls; i++)
        print_message("shortfall %s %.1f/%.1f\n", plan.shortfalls[i].norm, plan.shortfalls[i].planned,
                      plan.shortfalls[i].required);
    int a = index_of(&plan, "A."), b = index_of(&plan, "B."), c = index_of(&plan, "C."),
        d = index_of(&plan, "D.");
    assert_int_equal(a, -1);                 /* the most important class is served */
    assert_true(b >= 0 && c >= 0 && d >= 0); /* the others fall short ... */
    assert_true(d < c && c < b);             /* ... reported least important first */
    assert_true(plan.shortfalls[b].planned < plan.shortfalls[b].required);
    /* D gets nothing before B is full */
    int dcls = sc_norms_class_index(&nm, "D"), dcalls = 0;
    for (int i = 0; i < plan.ncalls; i++)
        dcalls += plan.calls[i].visit >= 0 && g.visits[plan.calls[i].visit].cls == dcls;
    assert_int_equal(dcalls, 0);
    sc_plan_free(&plan);
    sc_gen_free(&g);
}

static void test_replanning_keeps_done_and_pinned_calls(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, true);
    sc_gen g;
    sc_gen_opts o = opts(3, 6, 80);
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan first;
    assert_int_equal(sc_plan_make(&g.problem, &first), 0);
    /* days 0..9 are done; one later call is pinned at another time */
    sc_call *fixed = calloc((size_t)first.ncalls, sizeof *fixed);
    int nfixed = 0, pinned = -1;
    for (int i = 0; i < first.ncalls; i++) {
        sc_call c = first.calls[i];
        if (c.day < 10 || (pinned < 0 && c.day == 16 && c.kind == SC_KIND_CALL)) {
            if (c.day == 16) {
                c.start = 7 * 60 + 30;      /* the rep moved it before the working day */
                pinned = nfixed;
            }
            c.fixed = true;
            fixed[nfixed++] = c;
        }
    }
    assert_true(pinned >= 0);
    /* a grade change: one customer becomes A */
    int a = sc_norms_class_index(&nm, "A"), d = sc_norms_class_index(&nm, "D"), up = -1;
    for (int v = 0; v < g.nvisits; v++)
        if (g.visits[v].cls == d && (up < 0 || calls_of(&first, v) < calls_of(&first, up)))
            up = v;
    assert_true(up >= 0);
    int up_done = 0;
    for (int f = 0; f < nfixed; f++)
        up_done += fixed[f].visit == up;
    g.visits[up].cls = a;
    g.problem.fixed = fixed;
    g.problem.nfixed = nfixed;
    g.problem.from_day = 10;
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan second;
    assert_int_equal(sc_plan_make(&g.problem, &second), 0);
    assert_plan_valid(&g.problem, &second);
    for (int f = 0; f < nfixed; f++) {
        bool found = false;
        for (int i = 0; i < second.ncalls; i++)
            found |= second.calls[i].fixed && second.calls[i].visit == fixed[f].visit &&
                     second.calls[i].day == fixed[f].day && second.calls[i].start == fixed[f].start;
        assert_true(found);
    }
    for (int i = 0; i < second.ncalls; i++)
        if (second.calls[i].day < 10)
            assert_true(second.calls[i].fixed);
    /* the new A customer is called every remaining week (days 10-27 hold 3 more weeks) */
    assert_true(calls_of(&second, up) >= (up_done + 3 < 4 ? up_done + 3 : 4));
    free(fixed);
    sc_plan_free(&first);
    sc_plan_free(&second);
    sc_gen_free(&g);
}

static void test_any_horizon_with_explicit_targets(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    nm.conflict_days = 0;
    nm.calls_per_week_per_customer = 7;
    nm.pims_per_week = 0;
    nm.calls_per_day_min = 0;
    int travel[9] = {0, 20, 30, 20, 5, 15, 30, 15, 5};
    sc_visit v[4];
    memset(v, 0, sizeof v);
    for (int i = 0; i < 4; i++) {
        v[i].loc = 1 + i % 2;
        v[i].cls = 0;
        v[i].target = 2;
        v[i].windows.any = v[i].peak.any = true;
        v[i].last_call_day = SC_NO_DAY;
    }
    char err[64];
    assert_int_equal(sc_hours_parse("mon-sun 14:00-15:00", &v[3].windows, err, sizeof err), 0);
    sc_day days[3] = {{.field = true, .weekday = 1}, {.field = true, .weekday = 2}, {.field = true, .weekday = 3}};
    sc_problem p = {.nloc = 3, .travel = travel, .home = 0, .visits = v, .nvisits = 4,
                    .days = days, .ndays = 3, .norms = &nm};
    sc_plan plan;
    assert_int_equal(sc_plan_make(&p, &plan), 0);
    assert_plan_valid(&p, &plan);
    for (int i = 0; i < 4; i++)
        assert_int_equal(calls_of(&plan, i), 2);
    for (int i = 0; i < plan.ncalls; i++)
        if (plan.calls[i].visit == 3)
            assert_true(plan.calls[i].start >= 14 * 60 && plan.calls[i].start + 20 <= 15 * 60);
    sc_plan_free(&plan);
    /* bad input is refused */
    p.home = 7;
    assert_int_equal(sc_plan_make(&p, &plan), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feasible_month_meets_every_norm),
        cmocka_unit_test(test_time_off_and_blocks_respected),
        cmocka_unit_test(test_shortfall_sacrifices_d_before_c_before_b_before_a),
        cmocka_unit_test(test_replanning_keeps_done_and_pinned_calls),
        cmocka_unit_test(test_any_horizon_with_explicit_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
