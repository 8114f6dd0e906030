/* test_scheduling_route.c: weekly hours and spans, and day routes with
 * time windows (services/scheduling/hours.c, route.c): the exact solver
 * is checked against exhaustive search over every order; the heuristic
 * is never better than the optimum and stays feasible; every start lies
 * inside its window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "hours.h"
#include "route.h"

/* ---- hours ---- */

static void test_hours_parse(void **state)
{
    (void)state;
    sc_week_hours h;
    char err[128];
    assert_int_equal(sc_hours_parse("mon-fri 08:00-12:00 13:30-17:30; sat 08:00-12:00", &h, err, sizeof err), 0);
    assert_false(h.any);
    assert_int_equal(h.day[1].n, 2);
    assert_int_equal(h.day[1].s[0].start, 480);
    assert_int_equal(h.day[1].s[1].end, 1050);
    assert_int_equal(h.day[6].n, 1);
    assert_int_equal(h.day[0].n, 0);
    assert_int_equal(sc_hours_parse("fri-mon 10:00-11:00", &h, err, sizeof err), 0);
    assert_int_equal(h.day[0].n, 1);
    assert_int_equal(h.day[3].n, 0);
    assert_int_equal(sc_hours_parse("  ", &h, err, sizeof err), 0);
    assert_true(h.any);
    assert_int_equal(sc_hours_parse("mon 08:00-07:00", &h, err, sizeof err), -1);
    assert_int_equal(sc_hours_parse("moon 08:00-09:00", &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "moon"));
    assert_int_equal(sc_hours_parse("mon", &h, err, sizeof err), -1);
    assert_int_equal(sc_hours_parse("mon 8:00-9:00", &h, err, sizeof err), -1);
    assert_int_equal(sc_hours_parse("mon 08:00-25:00", &h, err, sizeof err), -1);
}

static void test_spans(void **state)
{
    (void)state;
    sc_spans a = {0}, b = {0}, r;
    sc_spans_add(&a, 480, 720);
    sc_spans_add(&a, 780, 1050);
    sc_spans_add(&a, 700, 800);           /* merges everything */
    assert_int_equal(a.n, 1);
    assert_int_equal(a.s[0].end, 1050);
    sc_spans_add(&b, 540, 600);
    sc_spans_add(&b, 1000, 1200);
    sc_spans_subtract(&a, &b, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.s[0].end, 540);
    assert_int_equal(r.s[1].start, 600);
    assert_int_equal(r.s[1].end, 1000);
    assert_int_equal(sc_spans_minutes(&r), 60 + 400);
    sc_spans_intersect(&a, &b, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.s[1].end, 1050);
}

/* ---- routes ---- */

typedef struct {
    int travel[12 * 12];
    int nloc;
    sc_stop stops[12];
    int n;
    sc_route_ctx ctx;
} instance;

static void random_instance(uint64_t *rs, int n, instance *in)
{
    memset(in, 0, sizeof *in);
    in->nloc = 4 + (int)sc_gen_rand(rs, 4);
    int x[12], y[12];
    for (int l = 0; l < in->nloc; l++) {
        x[l] = (int)sc_gen_rand(rs, 40);
        y[l] = (int)sc_gen_rand(rs, 40);
    }
    for (int a = 0; a < in->nloc; a++)
        for (int b = 0; b < in->nloc; b++)
            in->travel[a * in->nloc + b] = a == b ? (a ? 5 : 0) : abs(x[a] - x[b]) + abs(y[a] - y[b]);
    in->n = n;
    for (int i = 0; i < n; i++) {
        sc_stop *s = &in->stops[i];
        s->loc = 1 + (int)sc_gen_rand(rs, (uint32_t)(in->nloc - 1));
        s->duration = 15 + 5 * (int)sc_gen_rand(rs, 4);
        int kind = (int)sc_gen_rand(rs, 4);
        if (kind == 0)
            sc_spans_add(&s->allowed, 480, 1080);
        else {
            int a = 480 + 30 * (int)sc_gen_rand(rs, 14);
            sc_spans_add(&s->allowed, a, a + 60 + 30 * (int)sc_gen_rand(rs, 6));
            if (kind == 3) {
                int b = 480 + 30 * (int)sc_gen_rand(rs, 18);
                sc_spans_add(&s->allowed, b, b + 60);
            }
        }
    }
    in->ctx = (sc_route_ctx){in->nloc, in->travel, 0, 480, 1080};
}

/* Every permutation (Heap's algorithm); the best return time or -1. */
static int exhaustive(const instance *in)
{
    int order[12], c[12] = {0}, best = INT_MAX;
    for (int i = 0; i < in->n; i++)
        order[i] = i;
    int f = sc_route_finish(&in->ctx, in->stops, order, in->n);
    if (f >= 0)
        best = f;
    for (int i = 1; i < in->n;) {
        if (c[i] < i) {
            int j = i % 2 ? c[i] : 0, t = order[j];
            order[j] = order[i];
            order[i] = t;
            f = sc_route_finish(&in->ctx, in->stops, order, in->n);
            if (f >= 0 && f < best)
                best = f;
            c[i]++;
            i = 1;
        } else
            c[i++] = 0;
    }
    return best == INT_MAX ? -1 : best;
}

static void assert_route_valid(const instance *in, const sc_route *r)
{
    int seen = 0, busy = 0, loc = 0, t = r->depart;
    for (int k = 0; k < r->n; k++) {
        const sc_stop *s = &in->stops[r->order[k]];
        seen |= 1 << r->order[k];
        bool inside = false;
        for (int w = 0; w < s->allowed.n; w++)
            inside |= r->start[k] >= s->allowed.s[w].start &&
                      r->start[k] + s->duration <= s->allowed.s[w].end;
        assert_true(inside);
        assert_true(r->start[k] >= t + in->travel[loc * in->nloc + s->loc]);
        t = r->start[k] + s->duration;
        loc = s->loc;
        busy += s->duration;
    }
    assert_int_equal(seen, (1 << in->n) - 1);
    assert_true(r->depart >= in->ctx.day_start);
    assert_true(r->finish <= in->ctx.day_end);
    assert_int_equal(r->finish - r->depart, r->travel + r->idle + busy);
    assert_true(r->idle >= 0);
}

static void test_exact_matches_exhaustive_search(void **state)
{
    (void)state;
    uint64_t rs = 42;
    int feasible = 0, infeasible = 0;
    for (int round = 0; round < 300; round++) {
        instance in;
        random_instance(&rs, 3 + round % 5, &in);   /* 3..7 stops */
        int best = exhaustive(&in);
        sc_route r;
        int rc = sc_route_exact(&in.ctx, in.stops, in.n, &r);
        if (best < 0) {
            assert_int_equal(rc, -1);
            infeasible++;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(r.finish, best);
        assert_route_valid(&in, &r);
        feasible++;
    }
    /* the generator must exercise both outcomes */
    assert_true(feasible > 100);
    assert_true(infeasible > 5);
}

static void test_heuristic_feasible_and_never_below_optimum(void **state)
{
    (void)state;
    uint64_t rs = 7;
    long gap = 0;
    int solved = 0;
    for (int round = 0; round < 200; round++) {
        instance in;
        random_instance(&rs, 8 + round % 3, &in);    /* 8..10 stops */
        sc_route ex, he;
        int erc = sc_route_exact(&in.ctx, in.stops, in.n, &ex);
        int hrc = sc_route_heuristic(&in.ctx, in.stops, in.n, &he);
        if (hrc == 0) {
            assert_int_equal(erc, 0);      /* a heuristic route proves feasibility */
            assert_route_valid(&in, &he);
            assert_true(he.finish >= ex.finish);
            gap += he.finish - ex.finish;
            solved++;
        }
        if (erc == 0)
            assert_route_valid(&in, &ex);
    }
    assert_true(solved > 50);
    print_message("heuristic: %d solved, mean gap %.2f min\n", solved, (double)gap / solved);
}

static void test_infeasible_and_edge_cases(void **state)
{
    (void)state;
    int travel[4] = {0, 10, 10, 5};
    sc_route_ctx ctx = {2, travel, 0, 480, 1080};
    sc_stop two[2] = {{.loc = 1, .duration = 30, .allowed = {.n = 1, .s = {{600, 630}}}},
                      {.loc = 1, .duration = 30, .allowed = {.n = 1, .s = {{600, 640}}}}};
    sc_route r;
    assert_int_equal(sc_route_exact(&ctx, two, 2, &r), -1);
    assert_int_equal(sc_route_heuristic(&ctx, two, 2, &r), -1);
    /* nothing to do: an empty day */
    assert_int_equal(sc_route_exact(&ctx, two, 0, &r), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.travel, 0);
    /* a stop that ends after the day cannot be reached home in time */
    sc_stop late = {.loc = 1, .duration = 30, .allowed = {.n = 1, .s = {{1045, 1076}}}};
    assert_int_equal(sc_route_exact(&ctx, &late, 1, &r), -1);
    /* waiting is shifted away: leave as late as possible */
    sc_stop one = {.loc = 1, .duration = 20, .allowed = {.n = 1, .s = {{600, 700}}}};
    assert_int_equal(sc_route_exact(&ctx, &one, 1, &r), 0);
    assert_int_equal(r.start[0], 600);
    assert_int_equal(r.depart, 590);
    assert_int_equal(r.finish, 630);
    assert_int_equal(r.idle, 0);
    assert_int_equal(r.travel, 20);
    /* too many stops for the exact solver */
    sc_stop many[SC_ROUTE_EXACT_LIMIT + 1];
    for (int i = 0; i <= SC_ROUTE_EXACT_LIMIT; i++)
        many[i] = one;
    assert_int_equal(sc_route_exact(&ctx, many, SC_ROUTE_EXACT_LIMIT + 1, &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hours_parse),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_exact_matches_exhaustive_search),
        cmocka_unit_test(test_heuristic_feasible_and_never_below_optimum),
        cmocka_unit_test(test_infeasible_and_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
