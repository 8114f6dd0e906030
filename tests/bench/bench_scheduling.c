/* bench_scheduling.c: what the planner costs and how good its plans are.
 * A generated region of --reps reps (default 300), each with 200 customers
 * in 15 hospitals, is planned for a month (30 days from a Monday, field
 * days Mon-Fri, the default norms). Printed, as "bench.scheduling.<name>
 * <value> <unit>" lines:
 *   - time per rep-month (p50, p99) and for the whole region, with the
 *     projection to 10,000 reps on 2 cores;
 *   - norms met (%, and reps with every norm met), calls, travel and idle
 *     minutes per rep-month, field days below calls_per_day_min (above
 *     the max) per rep-month;
 * and beside them, on the same territories in the same run, the naive
 * baseline (customers by segment, nearest hospital next, greedy days, no
 * routing), with travel per rep-month and per call compared. Then, on
 * --days random day instances (default 1000) of 8-10 calls with windows,
 * the gap of the route heuristic (used for days with more stops than
 * route_exact_max) and of the production solver to the
 * exact optimum (dynamic programming). Last, through the real broker,
 * scheduling service and Redis (started here in a temporary folder),
 * --service-reps reps (default 20) of the same size are planned with the
 * Plan method: its p50/p99 beside GetPlan of the same month (the cost of
 * the round trip and of reading a stored plan) as the reference. Nothing
 * is asserted.
 *
 *   bench-scheduling [--reps N] [--days N] [--seed S] [--service-reps N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "gen.h"
#include "masterdata.h"
#include "scheduling.pb-c.h"
#include "calls.h"
#include "stack.h"
#include "planner.h"
#include "route.h"

typedef struct {
    int reps, days, service_reps;
    uint64_t seed;
} opts;

typedef struct {
    double *us;
    long calls, travel, idle, checked, met, perfect;
    long days_below_min, days_above_max;   /* open days outside calls_per_day_min..max */
    double ab_met;          /* share of A/B norms met */
    long ab_checked;
} totals;

static void out(const char *name, double v, const char *unit)
{
    printf("bench.scheduling.%s %.2f %s\n", name, v, unit);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(p * (n - 1) + 0.5);
    return n ? v[i] : 0;
}

static void account(totals *t, int i, double us, const sc_plan *plan)
{
    t->us[i] = us;
    int calls = 0;
    for (int k = 0; k < plan->ncalls; k++)
        calls += plan->calls[k].kind == SC_KIND_CALL;
    t->calls += calls;
    t->travel += plan->travel;
    t->idle += plan->idle;
    t->checked += plan->norms_checked;
    t->met += plan->norms_met;
    t->perfect += plan->nshortfalls == 0;
    t->days_below_min += plan->days_below_min;
    t->days_above_max += plan->days_above_max;
    int ab_short = 0;
    for (int k = 0; k < plan->nshortfalls; k++)
        ab_short += plan->shortfalls[k].norm[0] == 'A' || plan->shortfalls[k].norm[0] == 'B';
    t->ab_checked += 4;   /* A and B: coverage and calls a month */
    t->ab_met += 4 - ab_short;
}

static int plan_region(const opts *o, const sc_norms *nm, totals *mine, totals *naive, double *region_s)
{
    sc_gen_opts go = {.hospitals = 15, .customers = 200, .days = 30, .radius_km = 15, .share_a = 0.1,
                      .share_b = 0.15, .share_c = 0.25, .share_d = 0.35, .windowed = 0.4};
    double total_us = 0;
    for (int r = 0; r < o->reps; r++) {
        sc_gen g;
        go.seed = o->seed * 100003 + (uint64_t)r;
        if (sc_gen_make(&go, nm, &g) != 0)
            return -1;
        sc_plan plan, base;
        int64_t t0 = mr_mono_us();
        int rc = sc_plan_targets(&g.problem) | sc_plan_make(&g.problem, &plan);
        int64_t t1 = mr_mono_us();
        rc |= sc_plan_naive(&g.problem, &base);
        int64_t t2 = mr_mono_us();
        if (rc != 0)
            return -1;
        account(mine, r, (double)(t1 - t0), &plan);
        account(naive, r, (double)(t2 - t1), &base);
        total_us += (double)(t1 - t0);
        sc_plan_free(&plan);
        sc_plan_free(&base);
        sc_gen_free(&g);
    }
    *region_s = total_us / 1e6;
    return 0;
}

static void report_plans(const char *who, totals *t, int reps)
{
    char name[96];
    snprintf(name, sizeof name, "%s.rep_month_p50", who);
    out(name, pct(t->us, reps, 0.5) / 1000, "ms");
    snprintf(name, sizeof name, "%s.rep_month_p99", who);
    out(name, pct(t->us, reps, 0.99) / 1000, "ms");
    snprintf(name, sizeof name, "%s.norms_met", who);
    out(name, 100.0 * (double)t->met / (double)(t->checked ? t->checked : 1), "%");
    snprintf(name, sizeof name, "%s.ab_norms_met", who);
    out(name, 100.0 * t->ab_met / (double)(t->ab_checked ? t->ab_checked : 1), "%");
    snprintf(name, sizeof name, "%s.reps_all_norms_met", who);
    out(name, 100.0 * (double)t->perfect / reps, "%");
    snprintf(name, sizeof name, "%s.calls_per_rep_month", who);
    out(name, (double)t->calls / reps, "calls");
    snprintf(name, sizeof name, "%s.travel_per_rep_month", who);
    out(name, (double)t->travel / reps, "min");
    snprintf(name, sizeof name, "%s.travel_per_call", who);
    out(name, (double)t->travel / (double)(t->calls ? t->calls : 1), "min");
    snprintf(name, sizeof name, "%s.idle_per_rep_month", who);
    out(name, (double)t->idle / reps, "min");
    snprintf(name, sizeof name, "%s.days_below_min_per_rep_month", who);
    out(name, (double)t->days_below_min / reps, "days");
    snprintf(name, sizeof name, "%s.days_above_max_per_rep_month", who);
    out(name, (double)t->days_above_max / reps, "days");
}

/* ---- day routes against the exact optimum ---- */

static void random_day(uint64_t *rs, int n, int *travel, int *nloc, sc_stop *stops)
{
    *nloc = 1 + 1 + (int)sc_gen_rand(rs, 3);      /* home + 1..3 hospitals */
    double x[4], y[4];
    for (int l = 0; l < *nloc; l++) {
        x[l] = sc_gen_rand(rs, 20000) / 1000.0;
        y[l] = sc_gen_rand(rs, 20000) / 1000.0;
    }
    for (int a = 0; a < *nloc; a++)
        for (int b = 0; b < *nloc; b++) {
            double dx = x[a] - x[b], dy = y[a] - y[b], km = 1.3 * __builtin_sqrt(dx * dx + dy * dy);
            travel[a * *nloc + b] = a == b ? (a ? 5 : 0) : (int)(km / 30 * 60 + 0.999);
        }
    for (int i = 0; i < n; i++) {
        sc_stop *s = &stops[i];
        memset(s, 0, sizeof *s);
        s->loc = 1 + (int)sc_gen_rand(rs, (uint32_t)(*nloc - 1));
        s->duration = 15 + 5 * (int)sc_gen_rand(rs, 3);
        int kind = (int)sc_gen_rand(rs, 3);
        if (kind == 0)
            sc_spans_add(&s->allowed, 480, 1050);
        else {
            int a = 480 + 30 * (int)sc_gen_rand(rs, 14);
            sc_spans_add(&s->allowed, a, a + 90 + 30 * (int)sc_gen_rand(rs, 5));
            if (kind == 2) {
                int b = 780 + 30 * (int)sc_gen_rand(rs, 6);
                sc_spans_add(&s->allowed, b, b + 90);
            }
        }
    }
}

static void bench_routes(const opts *o, const sc_norms *nm)
{
    uint64_t rs = o->seed * 7919 + 1;
    int done = 0, tries = 0, optimal = 0;
    double gap = 0, gap_travel = 0, exact_us = 0, heur_us = 0, worst = 0;
    while (done < o->days && tries < o->days * 20) {
        tries++;
        int travel[16], nloc, n = 8 + (int)sc_gen_rand(&rs, 3);
        sc_stop stops[10];
        random_day(&rs, n, travel, &nloc, stops);
        sc_route_ctx ctx = {nloc, travel, 0, 480, 1080};
        sc_route ex, he;
        int64_t t0 = mr_mono_us();
        int erc = sc_route_exact(&ctx, stops, n, &ex);
        int64_t t1 = mr_mono_us();
        int hrc = sc_route_heuristic(&ctx, stops, n, &he);
        int64_t t2 = mr_mono_us();
        if (erc != 0)
            continue;        /* infeasible days say nothing about the gap */
        exact_us += (double)(t1 - t0);
        heur_us += (double)(t2 - t1);
        double best = ex.finish - ctx.day_start, got = hrc == 0 ? he.finish - ctx.day_start : 2 * best;
        double g = got / best - 1;
        gap += g;
        worst = g > worst ? g : worst;
        optimal += g < 1e-9;
        gap_travel += hrc == 0 ? (double)he.travel - ex.travel : 0;
        done++;
    }
    out("route.instances", done, "days");
    out("route.heuristic_gap_mean", 100 * gap / (done ? done : 1), "%");
    out("route.heuristic_gap_worst", 100 * worst, "%");
    out("route.heuristic_optimal", 100.0 * optimal / (done ? done : 1), "%");
    out("route.heuristic_extra_travel_mean", gap_travel / (done ? done : 1), "min");
    out("route.heuristic_us_mean", heur_us / (done ? done : 1), "us");
    out("route.exact_us_mean", exact_us / (done ? done : 1), "us");
    out("route.production_gap_mean", nm->route_exact_max >= 10 ? 0.0 : 100 * gap / (done ? done : 1), "%");
}

/* ---- through the service ---- */

static const char *const bench_windows[] = {"", "", "mon-fri 08:00-10:30", "mon,wed,fri 13:30-16:30",
                                            "tue,thu 08:00-12:00; mon,wed,fri 14:00-17:00"};

static int stage_service_rep(mr_store *store, int r, uint64_t *rs)
{
    mr_tx *tx = mr_tx_new();
    mr_rep rep = {.home_lat = 31.2, .home_lon = 121.45};
    snprintf(rep.id, sizeof rep.id, "B%d", r);
    snprintf(rep.team, sizeof rep.team, "GI");
    snprintf(rep.dm_id, sizeof rep.dm_id, "DM%d", r / 10);
    int rc = mr_md_stage_rep(tx, "north", &rep, NULL);
    for (int h = 0; h < 15; h++) {
        mr_hospital ho = {.tier = 3};
        snprintf(ho.id, sizeof ho.id, "B%d-H%d", r, h);
        snprintf(ho.name, sizeof ho.name, "Hospital %d", h);
        ho.lat = 31.2 + ((int)sc_gen_rand(rs, 2000) - 1000) / 1000.0 * 0.135;
        ho.lon = 121.45 + ((int)sc_gen_rand(rs, 2000) - 1000) / 1000.0 * 0.135;
        snprintf(ho.opening_hours, sizeof ho.opening_hours, "mon-fri 08:00-17:30; sat 08:00-12:00");
        rc |= mr_md_stage_hospital(tx, "north", &ho);
    }
    static const char segs[] = "AABBBCCCCCDDDDDDD";
    for (int i = 0; i < 200; i++) {
        mr_customer c = {.kind = MR_CUSTOMER_PRESCRIBER};
        snprintf(c.id, sizeof c.id, "B%d-C%d", r, i);
        snprintf(c.name, sizeof c.name, "Doctor %d", i);
        snprintf(c.hospital_id, sizeof c.hospital_id, "B%d-H%u", r, sc_gen_rand(rs, 15));
        snprintf(c.rep_id, sizeof c.rep_id, "B%d", r);
        snprintf(c.windows, sizeof c.windows, "%s", bench_windows[sc_gen_rand(rs, 5)]);
        rc |= mr_md_stage_customer(tx, "north", &c, NULL);
        char key[96], seg[2] = {segs[sc_gen_rand(rs, sizeof segs - 1)], 0};
        snprintf(key, sizeof key, "{r:north}:sched:seg:%s", c.id);
        rc |= mr_tx_addv(tx, "HSET", key, "P1", seg, NULL);
    }
    if (rc == 0 && mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) != MR_TX_COMMITTED)
        rc = -1;
    mr_tx_free(&tx);
    return rc;
}

static double timed_call(mr_client *c, const char *method, const char *rep, const char *month, int *ncalls)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = (char *)rep;
    req.period = (char *)month;
    Medrep__PlanReply *out = NULL;
    char msg[256];
    int64_t t0 = mr_mono_us();
    int code = mr_client_rpc(c, "scheduling", method, "north", NULL, &req.base, &medrep__plan_reply__descriptor,
                             (ProtobufCMessage **)&out, 60000, msg, sizeof msg);
    double us = (double)(mr_mono_us() - t0);
    if (code != MR_OK) {
        fprintf(stderr, "bench-scheduling: %s %s: %s\n", method, rep, msg);
        return -1;
    }
    *ncalls = (int)out->n_calls;
    if (getenv("BENCH_DEBUG"))
        for (size_t i = 0; i < out->n_shortfalls; i++)
            fprintf(stderr, "%s %s: %s %.1f of %.1f\n", method, rep, out->shortfalls[i]->norm,
                    out->shortfalls[i]->planned, out->shortfalls[i]->required);
    medrep__plan_reply__free_unpacked(out, NULL);
    return us;
}

static int bench_service(const opts *o)
{
    h_stack stack;
    const char *regions[] = {"north", NULL};
    /* no daily check during the measurement (the ticker's CheckPace) */
    if (h_stack_start(&stack, 1, regions, "[service]\nlog_level = warn\n[scheduling]\ndaily_check_at = off\n") != 0)
        return -1;
    int rc = h_stack_start_service(&stack, "scheduling", "sched-bench", NULL) < 0 ||
                     h_stack_wait_workers(&stack, "scheduling", 1, 10000) != 0
                 ? -1
                 : 0;
    mr_store *store = h_stack_store(&stack, 0);
    mr_client *c = h_stack_client(&stack, 4, 60000);
    uint64_t rs = o->seed * 31 + 7;
    double *plan_us = calloc((size_t)o->service_reps, sizeof *plan_us);
    double *get_us = calloc((size_t)o->service_reps, sizeof *get_us);
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    char month[32];
    snprintf(month, sizeof month, "%04d-%02d", lt.month == 12 ? lt.year + 1 : lt.year, lt.month % 12 + 1);
    long calls = 0;
    for (int r = 0; rc == 0 && r < o->service_reps; r++) {
        char rep[32];
        int n = 0;
        snprintf(rep, sizeof rep, "B%d", r);
        if (stage_service_rep(store, r, &rs) != 0 || (plan_us[r] = timed_call(c, "Plan", rep, month, &n)) < 0 ||
            (get_us[r] = timed_call(c, "GetPlan", rep, month, &n)) < 0)
            rc = -1;
        calls += n;
    }
    if (rc == 0) {
        out("service.plan_rep_month_p50", pct(plan_us, o->service_reps, 0.5) / 1000, "ms");
        out("service.plan_rep_month_p99", pct(plan_us, o->service_reps, 0.99) / 1000, "ms");
        out("service.get_plan_p50", pct(get_us, o->service_reps, 0.5) / 1000, "ms");
        out("service.calls_per_rep_month", (double)calls / o->service_reps, "calls");
    }
    mr_tz_free(&tz);
    free(plan_us);
    free(get_us);
    mr_client_free(&c);
    mr_store_free(&store);
    if (h_stack_stop(&stack) != 0)
        rc = -1;
    return rc;
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.reps = 300, .days = 1000, .seed = 1, .service_reps = 20};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--reps") && v)
            o->reps = atoi(v), i++;
        else if (!strcmp(argv[i], "--days") && v)
            o->days = atoi(v), i++;
        else if (!strcmp(argv[i], "--seed") && v)
            o->seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(argv[i], "--service-reps") && v)
            o->service_reps = atoi(v), i++;
        else {
            fprintf(stderr, "usage: bench-scheduling [--reps N] [--days N] [--seed S] [--service-reps N]\n");
            return -1;
        }
    }
    return o->reps > 0 && o->days > 0 && o->service_reps >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    sc_norms nm;
    sc_norms_defaults(&nm, false);
    totals mine = {.us = calloc((size_t)o.reps, sizeof(double))}, naive = {.us = calloc((size_t)o.reps, sizeof(double))};
    double region_s = 0;
    if (!mine.us || !naive.us || plan_region(&o, &nm, &mine, &naive, &region_s) != 0) {
        fprintf(stderr, "bench-scheduling: planning failed\n");
        free(mine.us);
        free(naive.us);
        return 1;
    }
    out("reps", o.reps, "reps");
    out("region_plan_time", region_s, "s");
    out("projected_10000_reps_2_cores", region_s / o.reps * 10000 / 2, "s");
    report_plans("plan", &mine, o.reps);
    report_plans("naive", &naive, o.reps);
    out("travel_per_call_vs_naive", 100.0 * (1 - ((double)mine.travel / (double)(mine.calls ? mine.calls : 1)) /
                                                    ((double)naive.travel / (double)(naive.calls ? naive.calls : 1))),
        "% less");
    out("travel_per_rep_month_vs_naive", 100.0 * (1 - (double)mine.travel / (double)(naive.travel ? naive.travel : 1)),
        "% less");
    out("norms_met_vs_naive", 100.0 * ((double)mine.met / (double)(mine.checked ? mine.checked : 1) -
                                       (double)naive.met / (double)(naive.checked ? naive.checked : 1)),
        "points more");
    bench_routes(&o, &nm);
    free(mine.us);
    free(naive.us);
    if (o.service_reps > 0 && bench_service(&o) != 0) {
        fprintf(stderr, "bench-scheduling: the service bench failed\n");
        return 1;
    }
    return 0;
}
