/* test_scheduling_events.c: the planner (services/scheduling/planner.c)
 * around events and good moments: a meeting is a fixed stop at its
 * hospital with travel to and from it; one-to-one talks next to PIMs and
 * meetings are planned and count as calls (and the rule can be turned
 * off); calls move into their department's good moments (handover, after
 * rounds) where the day allows, and moments are parsed from the master
 * data's text; on bench-sized territories the month drives less than the
 * naive baseline while meeting more norms, and every call stays valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "hours.h"
#include "planner.h"

static sc_gen_opts opts(uint64_t seed)
{
    return (sc_gen_opts){.seed = seed, .hospitals = 6, .customers = 70, .days = 28, .radius_km = 12,
                         .share_a = 0.1, .share_b = 0.15, .share_c = 0.25, .share_d = 0.35, .windowed = 0.4};
}

/* Consecutive stops of a day leave time to travel between them. */
static void assert_travel_kept(const sc_problem *p, const sc_plan *plan)
{
    for (int i = 1; i < plan->ncalls; i++) {
        const sc_call *b = &plan->calls[i - 1], *c = &plan->calls[i];
        if (b->day == c->day)
            assert_true(c->start >= b->start + b->duration + p->travel[b->loc * p->nloc + c->loc]);
    }
}

static int calls_of(const sc_plan *plan, int visit)
{
    int n = 0;
    for (int i = 0; i < plan->ncalls; i++)
        n += plan->calls[i].visit == visit && plan->calls[i].kind == SC_KIND_CALL;
    return n;
}

/* The index of the planned stop of kind k on day d, or -1. */
static int find_stop(const sc_plan *plan, int d, sc_kind k)
{
    for (int i = 0; i < plan->ncalls; i++)
        if (plan->calls[i].day == d && plan->calls[i].kind == k)
            return i;
    return -1;
}

/* The hospital farthest from home. */
static int far_hospital(const sc_gen *g)
{
    int best = 1;
    for (int l = 1; l < g->nloc; l++)
        if (g->travel[l] > g->travel[best])
            best = l;
    return best;
}

static void test_meeting_is_a_fixed_stop_with_travel(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, true);
    nm.talks_per_event = 0;
    sc_gen g;
    sc_gen_opts o = opts(21);
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    int loc = far_hospital(&g), d = 2;                 /* a Wednesday */
    sc_call meeting = {.visit = -1, .loc = loc, .day = d, .start = 13 * 60, .duration = 95,
                       .kind = SC_KIND_MEETING, .fixed = true, .tag = -1};
    sc_spans_add(&g.days[d].blocked, meeting.start, meeting.start + meeting.duration);
    g.problem.fixed = &meeting;
    g.problem.nfixed = 1;
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan plan;
    assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
    int k = find_stop(&plan, d, SC_KIND_MEETING);
    assert_true(k >= 0);
    assert_int_equal(plan.calls[k].start, 13 * 60);
    assert_int_equal(plan.calls[k].loc, loc);
    assert_int_equal(plan.talks, 0);
    assert_travel_kept(&g.problem, &plan);
    /* the day still has calls, on both sides of the meeting, and the
     * route's travel includes the drive to the meeting's hospital */
    int before = 0, after = 0, day_travel = 0, prev = 0;
    for (int i = 0; i < plan.ncalls; i++) {
        if (plan.calls[i].day != d)
            continue;
        before += plan.calls[i].start < meeting.start;
        after += plan.calls[i].start > meeting.start;
        day_travel += g.travel[prev * g.nloc + plan.calls[i].loc];
        prev = plan.calls[i].loc;
    }
    day_travel += g.travel[prev * g.nloc];
    assert_true(before > 0 && after > 0);
    assert_true(day_travel >= 2 * g.travel[loc]);   /* at least home -> meeting -> home */
    sc_plan_free(&plan);
    sc_gen_free(&g);
}

static void test_talks_next_to_events_count_as_calls(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, true);
    sc_gen g;
    sc_gen_opts o = opts(22);
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    int loc = far_hospital(&g), d = 3;
    sc_call meeting = {.visit = -1, .loc = loc, .day = d, .start = 15 * 60, .duration = 60,
                       .kind = SC_KIND_MEETING, .fixed = true, .tag = -1};
    sc_spans_add(&g.days[d].blocked, meeting.start, meeting.start + meeting.duration);
    g.problem.fixed = &meeting;
    g.problem.nfixed = 1;
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan plan;
    assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
    assert_travel_kept(&g.problem, &plan);
    assert_true(plan.talks > 0);
    int at_meeting = 0;
    for (int i = 0; i < plan.ncalls; i++) {
        const sc_call *c = &plan.calls[i];
        if (!c->talk)
            continue;
        assert_int_equal(c->kind, SC_KIND_CALL);
        assert_true(c->visit >= 0);
        assert_int_equal(c->duration, nm.talk_minutes);
        /* next to a PIM or the meeting of its day, at the same hospital */
        bool near = false;
        for (int j = 0; j < plan.ncalls; j++) {
            const sc_call *e = &plan.calls[j];
            if (e->day != c->day || e->visit >= 0 || e->loc != c->loc)
                continue;
            near |= c->start + c->duration >= e->start - nm.talk_window &&
                    c->start <= e->start + e->duration + nm.talk_window;
        }
        assert_true(near);
        assert_int_equal(g.visits[c->visit].loc, c->loc);
        at_meeting += c->day == d && c->loc == loc;
        /* a talk is one of the customer's calls: never above the target */
        assert_true(calls_of(&plan, c->visit) <= g.visits[c->visit].target);
    }
    assert_true(at_meeting >= 1 && at_meeting <= nm.talks_per_event);
    assert_int_equal(plan.nshortfalls, 0);
    sc_plan_free(&plan);
    /* the rule off: no talks */
    nm.talks_per_event = 0;
    assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
    assert_int_equal(plan.talks, 0);
    for (int i = 0; i < plan.ncalls; i++)
        assert_false(plan.calls[i].talk);
    sc_plan_free(&plan);
    sc_gen_free(&g);
}

/* Calls of visits with moments that start inside 10:00-10:40. */
static int in_moment(const sc_gen *g, const sc_plan *plan, const bool *has)
{
    int n = 0;
    for (int i = 0; i < plan->ncalls; i++) {
        const sc_call *c = &plan->calls[i];
        n += c->visit >= 0 && has[c->visit] && !c->talk && c->start >= 10 * 60 && c->start + c->duration <= 10 * 60 + 40;
    }
    (void)g;
    return n;
}

static void test_good_moments_are_preferred(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, true);
    sc_gen g;
    sc_gen_opts o = opts(23);
    o.windowed = 0;
    assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
    assert_int_equal(sc_plan_targets(&g.problem), 0);
    sc_plan plain;
    assert_int_equal(sc_plan_make(&g.problem, &plain), 0);
    assert_int_equal(plain.moment_calls, 0);
    /* the departments of hospital 2 hold their ward-round moment 10:00-10:40 */
    bool *has = calloc((size_t)g.nvisits, sizeof *has);
    char err[128];
    sc_week_hours m;
    assert_int_equal(sc_moments_parse("handover mon-fri 07:30-08:10; rounds_end mon-fri 10:00-10:40", "rounds_end",
                                      &m, err, sizeof err), 0);
    for (int v = 0; v < g.nvisits; v++)
        if (g.visits[v].loc == 2) {
            g.visits[v].moments = m;
            has[v] = true;
        }
    sc_plan pref;
    assert_int_equal(sc_plan_make(&g.problem, &pref), 0);
    assert_travel_kept(&g.problem, &pref);
    print_message("moment calls %d, in a moment %d (without moments %d)\n", pref.moment_calls, pref.moment_met,
                  in_moment(&g, &plain, has));
    assert_true(pref.moment_calls > 0);
    assert_int_equal(pref.moment_met, in_moment(&g, &pref, has));
    assert_true(pref.moment_met > in_moment(&g, &plain, has));
    /* soft: the same calls and norms, each day within the slack */
    assert_int_equal(pref.ncalls, plain.ncalls);
    assert_int_equal(pref.norms_met, plain.norms_met);
    assert_true(pref.travel + pref.idle <= plain.travel + plain.idle + nm.moment_slack * plain.days_routed);
    sc_plan_free(&pref);
    /* no slack: never a minute more */
    nm.moment_slack = 0;
    assert_int_equal(sc_plan_make(&g.problem, &pref), 0);
    assert_true(pref.travel + pref.idle <= plain.travel + plain.idle);
    sc_plan_free(&pref);
    sc_plan_free(&plain);
    free(has);
    sc_gen_free(&g);
}

static void test_moments_parse(void **state)
{
    (void)state;
    sc_week_hours m;
    char err[128];
    const char *text = "handover mon-fri 07:45-08:15; rounds_end mon-fri 10:00-10:30; case_discussion thu 14:00-15:00";
    assert_int_equal(sc_moments_parse(text, "handover,rounds_end", &m, err, sizeof err), 0);
    assert_false(m.any);
    assert_int_equal(m.day[1].n, 2);
    assert_int_equal(m.day[1].s[0].start, 7 * 60 + 45);
    assert_int_equal(m.day[1].s[1].end, 10 * 60 + 30);
    assert_int_equal(m.day[4].n, 2);             /* case discussion not named */
    assert_int_equal(m.day[0].n, 0);
    assert_int_equal(sc_moments_parse(text, "", &m, err, sizeof err), 0);
    assert_int_equal(m.day[4].n, 3);
    assert_int_equal(sc_moments_parse("", NULL, &m, err, sizeof err), 0);
    assert_false(m.any);
    assert_int_equal(m.day[1].n, 0);
    assert_int_equal(sc_moments_parse("handover", NULL, &m, err, sizeof err), -1);
    assert_int_equal(sc_moments_parse("handover xyz 07:00-08:00", NULL, &m, err, sizeof err), -1);
    assert_int_equal(sc_moments_parse("handover mon 09:00-08:00", NULL, &m, err, sizeof err), -1);
}

static void test_month_drives_less_than_the_baseline(void **state)
{
    (void)state;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    for (uint64_t seed = 7; seed <= 7; seed++) {
        sc_gen_opts o = {.seed = seed, .hospitals = 15, .customers = 200, .days = 30, .radius_km = 15,
                         .share_a = 0.1, .share_b = 0.15, .share_c = 0.25, .share_d = 0.35, .windowed = 0.4};
        sc_gen g;
        assert_int_equal(sc_gen_make(&o, &nm, &g), 0);
        assert_int_equal(sc_plan_targets(&g.problem), 0);
        sc_plan plan, base;
        assert_int_equal(sc_plan_make(&g.problem, &plan), 0);
        assert_int_equal(sc_plan_naive(&g.problem, &base), 0);
        assert_travel_kept(&g.problem, &plan);
        print_message("seed %d: travel %d vs baseline %d, norms met %d/%d vs %d/%d\n", (int)seed, plan.travel,
                      base.travel, plan.norms_met, plan.norms_checked, base.norms_met, base.norms_checked);
        assert_true(plan.travel < base.travel);
        assert_true(plan.norms_met >= base.norms_met);
        sc_plan_free(&plan);
        sc_plan_free(&base);
        sc_gen_free(&g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meeting_is_a_fixed_stop_with_travel),
        cmocka_unit_test(test_talks_next_to_events_count_as_calls),
        cmocka_unit_test(test_good_moments_are_preferred),
        cmocka_unit_test(test_moments_parse),
        cmocka_unit_test(test_month_drives_less_than_the_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
