/* planner.c: targets from the norms, the month's day-to-hospital
 * assignment, the days' calls and routes, shortfalls, and the naive
 * baseline (planner.h). */
#include "planner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VDAYS_MAX 64          /* calls one visit can hold in a horizon */
#define REPAIR_TRIES 30        /* other days tried for a call left over */
#define EPS 1e-9
#define URGENT_KEY 1000000L   /* candidate keys below it: calls that cannot wait */
#define LEVEL_SLACK 2         /* calls a day above the even spread of what is left */
#define SLOT_PERMUTE_MAX 6    /* groups a week up to which every slot order is tried */
#define BUMP_TRIES 4          /* less important calls tried for a place on a full day */
#define MOMENT_TRIES 6        /* calls tried one by one for a good moment of their day */
#define OFF_SLOT_KEY 500       /* a customer whose hours miss its hospital's share of the day waits */

typedef struct {
    int n, ncalls;
    sc_stop stops[SC_ROUTE_MAX];
    int visit[SC_ROUTE_MAX];
    unsigned char kind[SC_ROUTE_MAX], fixed[SC_ROUTE_MAX], talk[SC_ROUTE_MAX];
    int fixed_start[SC_ROUTE_MAX];
    int tag[SC_ROUTE_MAX];
    sc_route route;
    bool routed;
} day_plan;

typedef struct {
    const sc_problem *p;
    const sc_norms *nm;
    day_plan *dp;
    int *count;               /* per visit: calls in the horizon */
    int *vdays;               /* per visit: VDAYS_MAX days of its calls */
    int *group_of_loc;        /* per location; -1 when no demand */
    int *rank_in_group;       /* per location: its place along its group's run */
    int group_size[8];
    int ngroups;
    int *open_k;              /* per day: index among open days, or -1 */
    int *group_left;          /* per (open day k, group): open days >= k of the group */
    int nopen;
    int slot_group[8];        /* open day k goes to group slot_group[k % ngroups] */
} planner;

static int dur(const sc_problem *p, int v)
{
    return p->visits[v].duration > 0 ? p->visits[v].duration : p->norms->call_minutes;
}

static bool day_open(const sc_problem *p, int d)
{
    return d >= p->from_day && p->days[d].field && !p->days[d].off;
}

int sc_travel_minutes(double lat1, double lon1, double lat2, double lon2, double speed_kmh,
                      double road_factor)
{
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    double km = 2 * r * atan2(sqrt(a), sqrt(1 - a)) * road_factor;
    return (int)ceil(km / speed_kmh * 60.0 - EPS);
}

void sc_visit_spans(const sc_problem *p, int v, int d, sc_spans *out)
{
    const sc_visit *vi = &p->visits[v];
    int wd = p->days[d].weekday;
    sc_spans day = {.n = 1, .s = {{p->norms->day_start, p->norms->day_end}}}, w, tmp;
    sc_hours_of_day(&vi->windows, wd, &w);
    sc_spans_intersect(&day, &w, &tmp);
    if (p->opening) {
        sc_hours_of_day(&p->opening[vi->loc], wd, &w);
        sc_spans_intersect(&tmp, &w, &tmp);
    }
    if (!vi->peak.any)
        sc_spans_subtract(&tmp, &vi->peak.day[wd], &tmp);
    sc_spans_subtract(&tmp, &p->days[d].blocked, out);
}

/* ---- targets ---- */

static int count_fixed(const sc_problem *p, int *fixedcnt, int *fixed_open)
{
    *fixed_open = 0;
    for (int i = 0; i < p->nfixed; i++) {
        const sc_call *c = &p->fixed[i];
        if (c->visit < 0 || c->visit >= p->nvisits || c->day < 0 || c->day >= p->ndays)
            continue;
        fixedcnt[c->visit]++;
        *fixed_open += day_open(p, c->day);
    }
    return 0;
}

static int open_days(const sc_problem *p, int *weeks)
{
    int n = 0, last_week = INT_MIN;
    *weeks = 0;
    for (int d = 0; d < p->ndays; d++)
        if (day_open(p, d)) {
            n++;
            if (p->days[d].week != last_week)
                (*weeks)++;
            last_week = p->days[d].week;
        }
    return n;
}

typedef struct {
    long key;
    int v;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->v - y->v;
}

/* Visits of class c ranked: already called in the horizon, then not yet
 * called in the quarter, then the rest. Returns the count. */
static int rank_class(const sc_problem *p, int c, const int *fixedcnt, int *out)
{
    keyed *k = malloc(sizeof *k * (size_t)(p->nvisits ? p->nvisits : 1));
    int n = 0;
    for (int v = 0; k && v < p->nvisits; v++)
        if (p->visits[v].cls == c)
            k[n++] = (keyed){(fixedcnt[v] > 0 ? 0 : 2) + (p->visits[v].called_in_quarter ? 1 : 0), v};
    if (k)
        qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int i = 0; i < n; i++)
        out[i] = k[i].v;
    free(k);
    return n;
}

static int class_cover_count(const sc_problem *p, int c, const int *ranked, int n)
{
    const sc_class_norm *cn = &p->norms->cls[c];
    int k = (int)ceil(cn->coverage_month * n - EPS);
    if (p->quarter_ends) {
        int called = 0;
        for (int i = 0; i < n; i++)
            called += p->visits[ranked[i]].called_in_quarter;
        int need_q = (int)ceil(cn->coverage_quarter * n - EPS) - called;
        int uncalled_pos = 0;   /* covering need_q uncalled ones: they come after the in-horizon ones */
        for (int i = 0; i < n && need_q > 0; i++)
            if (!p->visits[ranked[i]].called_in_quarter) {
                uncalled_pos = i + 1;
                need_q--;
            }
        if (uncalled_pos > k)
            k = uncalled_pos;
    }
    return k > n ? n : k;
}

static void cut_to_capacity(sc_problem *p, int **ranked, const int *nr, const int *fixedcnt,
                            long *demand, long cap)
{
    for (int c = p->norms->ncls - 1; c >= 0 && *demand > cap; c--)
        for (int i = nr[c] - 1; i >= 0 && *demand > cap; i--) {
            sc_visit *v = &p->visits[ranked[c][i]];
            *demand -= v->target - fixedcnt[ranked[c][i]];
            v->target = fixedcnt[ranked[c][i]];
        }
}

static void fill_to_minimum(sc_problem *p, int **ranked, const int *nr, const int *maxopp,
                            long *demand, long min_total)
{
    for (int round = 0; *demand < min_total; round++) {
        bool progress = false;
        for (int c = 0; c < p->norms->ncls && *demand < min_total; c++)
            for (int i = 0; i < nr[c] && *demand < min_total; i++) {
                sc_visit *v = &p->visits[ranked[c][i]];
                if (v->target >= maxopp[ranked[c][i]] || (round == 0 && v->target > 0))
                    continue;
                v->target++;
                (*demand)++;
                progress = true;
            }
        if (!progress && round > 0)
            break;
    }
}

int sc_plan_targets(sc_problem *p)
{
    const sc_norms *nm = p->norms;
    size_t nv = (size_t)(p->nvisits > 0 ? p->nvisits : 1);
    int *fixedcnt = calloc(nv, sizeof *fixedcnt), *maxopp = calloc(nv, sizeof *maxopp);
    int *ranked[SC_CLASSES_MAX] = {0}, nr[SC_CLASSES_MAX] = {0};
    int rc = fixedcnt && maxopp ? 0 : -1, fixed_open = 0, weeks = 0;
    if (rc == 0)
        count_fixed(p, fixedcnt, &fixed_open);
    int nopen = open_days(p, &weeks);
    long demand = 0;
    for (int c = 0; rc == 0 && c < nm->ncls; c++) {
        ranked[c] = malloc(nv * sizeof *ranked[c]);
        if (!ranked[c]) {
            rc = -1;
            break;
        }
        nr[c] = rank_class(p, c, fixedcnt, ranked[c]);
        int k = class_cover_count(p, c, ranked[c], nr[c]);
        int per = nm->cls[c].calls_per_month > 0 ? (int)ceil(nm->cls[c].calls_per_month - EPS) : 1;
        for (int i = 0; i < nr[c]; i++) {
            int v = ranked[c][i];
            maxopp[v] = fixedcnt[v] + weeks * nm->calls_per_week_per_customer;
            int t = i < k ? (per < maxopp[v] ? per : maxopp[v]) : 0;
            p->visits[v].target = t > fixedcnt[v] ? t : fixedcnt[v];
            demand += p->visits[v].target - fixedcnt[v];
        }
    }
    for (int v = 0; rc == 0 && v < p->nvisits; v++)
        if (p->visits[v].cls < 0 || p->visits[v].cls >= nm->ncls)
            p->visits[v].target = fixedcnt[v];
    if (rc == 0) {
        long cap = (long)nopen * nm->calls_per_day_max - fixed_open;
        long min_total = (long)nopen * nm->calls_per_day_min - fixed_open;
        cut_to_capacity(p, ranked, nr, fixedcnt, &demand, cap);
        fill_to_minimum(p, ranked, nr, maxopp, &demand, min_total);
    }
    for (int c = 0; c < SC_CLASSES_MAX; c++)
        free(ranked[c]);
    free(fixedcnt);
    free(maxopp);
    return rc;
}

void sc_quarter_targets(const sc_norms *n, const int *cls, const int *done, int nvisits, int *target)
{
    for (int c = 0; c < n->ncls; c++) {
        int members = 0, k, taken = 0;
        for (int v = 0; v < nvisits; v++)
            members += cls[v] == c;
        k = (int)ceil(n->cls[c].coverage_quarter * members - EPS);
        int per = n->cls[c].calls_per_month > 0 ? (int)ceil(3 * n->cls[c].calls_per_month - EPS) : 1;
        for (int pass = 0; pass < 2; pass++)      /* already called first */
            for (int v = 0; v < nvisits; v++) {
                if (cls[v] != c || (pass == 0) != (done[v] > 0))
                    continue;
                target[v] = taken < k ? per : 0;
                taken++;
            }
    }
    for (int v = 0; v < nvisits; v++)
        if (cls[v] < 0 || cls[v] >= n->ncls)
            target[v] = 0;
}

/* ---- the planner's working state ---- */

static void planner_free(planner *s)
{
    free(s->dp);
    free(s->count);
    free(s->vdays);
    free(s->group_of_loc);
    free(s->rank_in_group);
    free(s->open_k);
    free(s->group_left);
}

static int group_of_day(const planner *s, int d)
{
    return s->slot_group[s->open_k[d] % s->ngroups];
}

static bool has_room(const planner *s, int v, int d)
{
    const sc_problem *p = s->p;
    int week = p->days[d].week, in_week = 0, gap = s->nm->conflict_days;
    const int *days = &s->vdays[(size_t)v * VDAYS_MAX];
    if (s->count[v] >= VDAYS_MAX)
        return false;
    for (int i = 0; i < s->count[v]; i++) {
        if (days[i] == d || (gap > 0 && abs(days[i] - d) < gap))
            return false;
        in_week += p->days[days[i]].week == week;
    }
    if (in_week >= s->nm->calls_per_week_per_customer)
        return false;
    int last = p->visits[v].last_call_day;
    return last == SC_NO_DAY || gap <= 0 || d - last >= gap;
}

static bool fits_day(const planner *s, int v, int d, sc_spans *spans)
{
    sc_visit_spans(s->p, v, d, spans);
    for (int i = 0; i < spans->n; i++)
        if (spans->s[i].end - spans->s[i].start >= dur(s->p, v))
            return true;
    return false;
}

static bool excluded(const sc_problem *p, int v, int d)
{
    for (int i = 0; i < p->nexcluded; i++)
        if (p->excluded[i].visit == v && p->excluded[i].day == d)
            return true;
    return false;
}

/* Whether day d may hold a call on v by the rules of the visits (its
 * target aside). */
static bool may_add(const planner *s, int v, int d, sc_spans *spans)
{
    const sc_problem *p = s->p;
    return p->visits[v].cls >= 0 && !excluded(p, v, d) && day_open(p, d) && has_room(s, v, d) &&
           fits_day(s, v, d, spans);
}

static bool may_call(const planner *s, int v, int d, sc_spans *spans)
{
    return s->count[v] < s->p->visits[v].target && may_add(s, v, d, spans);
}

static void note_call(planner *s, int v, int d)
{
    if (v < 0 || s->count[v] >= VDAYS_MAX)
        return;
    s->vdays[(size_t)v * VDAYS_MAX + s->count[v]++] = d;
}

static void forget_call(planner *s, int v, int d)
{
    int *days = &s->vdays[(size_t)v * VDAYS_MAX];
    for (int i = 0; i < s->count[v]; i++)
        if (days[i] == d) {
            days[i] = days[--s->count[v]];
            return;
        }
}

static int day_push(day_plan *dp, const sc_stop *st, int visit, sc_kind kind, bool fixed)
{
    if (dp->n >= SC_ROUTE_MAX)
        return -1;
    dp->stops[dp->n] = *st;
    dp->visit[dp->n] = visit;
    dp->kind[dp->n] = (unsigned char)kind;
    dp->fixed[dp->n] = fixed;
    dp->talk[dp->n] = 0;
    dp->fixed_start[dp->n] = st->allowed.n ? st->allowed.s[0].start : 0;
    dp->tag[dp->n] = -1;
    dp->ncalls += visit >= 0;
    dp->n++;
    return 0;
}

static void day_pop(day_plan *dp)
{
    dp->n--;
    dp->ncalls -= dp->visit[dp->n] >= 0;
}

static bool next_perm(int *a, int n);
static void drive_less(const sc_route_ctx *ctx, const day_plan *dp, sc_route *best);

/* Whether stop k must start before noon (a morning window). */
static bool morning_stop(const day_plan *dp, int k)
{
    const sc_spans *a = &dp->stops[k].allowed;
    return a->n && a->s[a->n - 1].end - dp->stops[k].duration < 12 * 60;
}

/* Appends the stops of phase (0 morning, 1 the rest, -1 all) in blocks
 * per hospital, the blocks in the order blk[0..m) (reversed when rev),
 * each block's stops by their earliest allowed start. Returns the count. */
static int block_order(const day_plan *dp, const int *blk, int m, int phase, bool rev, int *order, int n)
{
    for (int i = 0; i < m; i++) {
        int b = rev ? m - 1 - i : i, first = n;
        for (int k = 0; k < dp->n; k++)
            if (dp->stops[k].loc == blk[b] && (phase < 0 || morning_stop(dp, k) == (phase == 0))) {
                int at = n++, key = dp->stops[k].allowed.n ? dp->stops[k].allowed.s[0].start : 0;
                while (at > first && (dp->stops[order[at - 1]].allowed.n ? dp->stops[order[at - 1]].allowed.s[0].start : 0) > key) {
                    order[at] = order[at - 1];
                    at--;
                }
                order[at] = k;
            }
    }
    return n;
}

/* The route solver brings the rep home earliest, which under windows
 * can zig-zag between hospitals. Keeps instead, when one is feasible and
 * drives less, an order in blocks per hospital: one block each, or a
 * morning round (customers who must be seen before noon) then an
 * afternoon round in the same or the reverse order, the hospitals in
 * every order up to SLOT_PERMUTE_MAX of them; least travel, then the
 * earliest return. */
static void fewer_switches(const planner *s, day_plan *dp)
{
    const sc_problem *p = s->p;
    sc_route_ctx ctx = {p->nloc, p->travel, p->home, s->nm->day_start, s->nm->day_end};
    int blk[SC_ROUTE_MAX], m = 0, order[SC_ROUTE_MAX];
    for (int k = 0; k < dp->route.n; k++) {
        int loc = dp->stops[dp->route.order[k]].loc, seen = 0;
        for (int b = 0; b < m; b++)
            seen |= blk[b] == loc;
        if (!seen)
            blk[m++] = loc;
    }
    if (m < 2)
        return;
    sc_route best = dp->route, r;
    if (m > SLOT_PERMUTE_MAX) {
        drive_less(&ctx, dp, &best);
        dp->route = best;
        return;
    }
    for (int i = 1; i < m; i++)   /* sorted, for next_perm to visit every order */
        for (int j = i; j > 0 && blk[j - 1] > blk[j]; j--) {
            int t = blk[j];
            blk[j] = blk[j - 1];
            blk[j - 1] = t;
        }
    do
        for (int shape = 0; shape < 3; shape++) {
            int n = shape == 0 ? block_order(dp, blk, m, -1, false, order, 0)
                               : block_order(dp, blk, m, 1, shape == 2, order, block_order(dp, blk, m, 0, false, order, 0));
            if (n == dp->n && sc_route_eval(&ctx, dp->stops, order, dp->n, &r) == 0 &&
                (r.travel < best.travel || (r.travel == best.travel && r.finish < best.finish)))
                best = r;
        }
    while (next_perm(blk, m));
    drive_less(&ctx, dp, &best);
    dp->route = best;
}

/* order with the run order[i..i+len) moved to start at position j of
 * what is left, into out. */
static void move_run(const int *order, int n, int i, int len, int j, int *out)
{
    int rest[SC_ROUTE_MAX], m = 0, k = 0;
    for (int x = 0; x < n; x++)
        if (x < i || x >= i + len)
            rest[m++] = order[x];
    for (int x = 0; x < j; x++)
        out[k++] = rest[x];
    for (int x = 0; x < len; x++)
        out[k++] = order[i + x];
    for (int x = j; x < m; x++)
        out[k++] = rest[x];
}

/* Or-opt on travel: moves runs of one to three stops elsewhere in the
 * day while that drives less (or as much, home earlier) and stays
 * feasible. */
static void drive_less(const sc_route_ctx *ctx, const day_plan *dp, sc_route *best)
{
    int n = dp->n, order[SC_ROUTE_MAX], trial[SC_ROUTE_MAX];
    sc_route r;
    memcpy(order, best->order, sizeof *order * (size_t)n);
    for (int pass = 0, better = 1; better && pass < 20; pass++) {
        better = 0;
        for (int len = 1; len <= 3 && !better; len++)
            for (int i = 0; i + len <= n && !better; i++)
                for (int j = 0; j <= n - len && !better; j++) {
                    if (j == i)
                        continue;
                    move_run(order, n, i, len, j, trial);
                    if (sc_route_eval(ctx, dp->stops, trial, n, &r) == 0 &&
                        (r.travel < best->travel || (r.travel == best->travel && r.finish < best->finish))) {
                        *best = r;
                        memcpy(order, trial, sizeof *order * (size_t)n);
                        better = 1;
                    }
                }
        for (int i = 0; i < n - 1 && !better; i++)      /* 2-opt: a stretch driven backwards */
            for (int j = i + 1; j < n && !better; j++) {
                memcpy(trial, order, sizeof *order * (size_t)n);
                for (int x = i, y = j; x < y; x++, y--) {
                    int tmp = trial[x];
                    trial[x] = trial[y];
                    trial[y] = tmp;
                }
                if (sc_route_eval(ctx, dp->stops, trial, n, &r) == 0 &&
                    (r.travel < best->travel || (r.travel == best->travel && r.finish < best->finish))) {
                    *best = r;
                    memcpy(order, trial, sizeof *order * (size_t)n);
                    better = 1;
                }
            }
    }
}

static int route_day(const planner *s, int d, day_plan *dp)
{
    const sc_problem *p = s->p;
    (void)d;
    sc_route_ctx ctx = {p->nloc, p->travel, p->home, s->nm->day_start, s->nm->day_end};
    dp->routed = sc_route_solve(&ctx, dp->stops, dp->n, s->nm->route_exact_max, &dp->route) == 0;
    return dp->routed ? 0 : -1;
}

/* Improves a closed tour over n places by reversing segments (2-opt). */
static void two_opt(const sc_problem *p, int *tour, int n)
{
    const int *t = p->travel;
    int nl = p->nloc;
    for (int pass = 0, better = 1; better && pass < 50; pass++) {
        better = 0;
        for (int i = 0; i < n - 1; i++)
            for (int j = i + 2; j < n; j++) {
                int a = tour[i], b = tour[i + 1], c = tour[j], d = tour[(j + 1) % n];
                if (a == d)
                    continue;
                if (t[a * nl + c] + t[b * nl + d] < t[a * nl + b] + t[c * nl + d]) {
                    for (int x = i + 1, y = j; x < y; x++, y--) {
                        int tmp = tour[x];
                        tour[x] = tour[y];
                        tour[y] = tmp;
                    }
                    better = 1;
                }
            }
    }
}

/* Cuts tour (starting at offset `rot`) into ngroups runs of about equal
 * load into group[]; returns the cost of driving each run from home and
 * back. */
static long cut_tour(const sc_problem *p, const int *tour, int n, int rot, const int *load, long total,
                     int ngroups, int *group)
{
    long acc = 0, cost = 0;
    int prev = p->home;
    for (int i = 0, g = 0, in_group = 0; i < n; i++) {
        int l = tour[(i + rot) % n];
        double half = load[l] / 2.0;
        if (in_group > 0 && g < ngroups - 1 &&
            ((double)acc + half > (double)total * (g + 1) / ngroups || n - i <= ngroups - 1 - g)) {
            cost += p->travel[prev * p->nloc + p->home];
            prev = p->home;
            g++;
            in_group = 0;
        }
        group[l] = g;
        cost += p->travel[prev * p->nloc + l];
        prev = l;
        in_group++;
        acc += load[l];
    }
    return cost + p->travel[prev * p->nloc + p->home];
}

/* Groups: hospitals with demand on a short closed tour, cut into
 * `ngroups` runs of about equal demand, at the rotation whose runs are
 * cheapest to drive from home: the month's day-to-hospital assignment. */
static void make_groups(planner *s, int ngroups, int variant)
{
    const sc_problem *p = s->p;
    int *load = calloc((size_t)p->nloc, sizeof *load), *tour = malloc(sizeof *tour * (size_t)p->nloc);
    int *trial = malloc(sizeof *trial * (size_t)p->nloc);
    bool *used = calloc((size_t)p->nloc, sizeof *used);
    long total = 0;
    int n = 0;
    for (int l = 0; l < p->nloc; l++)
        s->group_of_loc[l] = -1;
    for (int v = 0; load && v < p->nvisits; v++)
        if (p->visits[v].target > 0) {
            load[p->visits[v].loc] += p->visits[v].target;
            total += p->visits[v].target;
        }
    for (int at = p->home; load && tour && used && trial;) {
        int best = -1;
        for (int l = 0; l < p->nloc; l++)
            if (!used[l] && load[l] > 0 &&
                (best < 0 || p->travel[at * p->nloc + l] < p->travel[at * p->nloc + best]))
                best = l;
        if (best < 0)
            break;
        used[best] = true;
        tour[n++] = best;
        at = best;
    }
    if (ngroups > n)
        ngroups = n > 0 ? n : 1;
    if (ngroups > 8)            /* slot_group's size; a week has at most 7 field days */
        ngroups = 8;
    if (n > 3)
        two_opt(p, tour, n);
    keyed *rots = malloc(sizeof *rots * (size_t)(n > 0 ? n : 1));
    for (int rot = 0; rots && rot < n; rot++) {
        for (int l = 0; l < p->nloc; l++)
            trial[l] = -1;
        rots[rot] = (keyed){cut_tour(p, tour, n, rot, load, total, ngroups, trial), rot};
    }
    if (rots)
        qsort(rots, (size_t)n, sizeof *rots, cmp_keyed);
    int best_rot = rots && n > 0 ? rots[variant % n].v : 0;
    for (int l = 0; l < p->nloc; l++)
        s->group_of_loc[l] = -1;
    if (n > 0)
        cut_tour(p, tour, n, best_rot, load, total, ngroups, s->group_of_loc);
    free(rots);
    s->ngroups = ngroups;
    for (int i = 0; tour && i < n; i++) {   /* places along each run */
        int l = tour[(i + best_rot) % n], g = s->group_of_loc[l];
        if (g >= 0 && g < 8)
            s->rank_in_group[l] = s->group_size[g]++;
    }
    free(load);
    free(tour);
    free(trial);
    free(used);
}

/* Next permutation of a[0..n) in lexicographic order; false after the last. */
static bool next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int x = i + 1, y = n - 1; x < y; x++, y--) {
        t = a[x];
        a[x] = a[y];
        a[y] = t;
    }
    return true;
}

/* Which group takes which slot of the week: the order under which most
 * targeted calls (high-value ones weigh more) fall on days whose hours
 * suit the customer, so that windows and weekdays agree. */
static void choose_slots(planner *s)
{
    const sc_problem *p = s->p;
    int P = s->ngroups, perm[8], best_score = -1;
    for (int i = 0; i < P; i++)
        perm[i] = s->slot_group[i] = i;
    if (P < 2 || P > SLOT_PERMUTE_MAX || s->nopen == 0)
        return;
    /* fit[v][slot]: open days of that slot on which v could be called */
    int *fit = calloc((size_t)(p->nvisits ? p->nvisits : 1) * (size_t)P, sizeof *fit);
    if (!fit)
        return;
    sc_spans sp;
    for (int v = 0; v < p->nvisits; v++)
        for (int d = 0; p->visits[v].target > 0 && d < p->ndays; d++)
            if (s->open_k[d] >= 0 && fits_day(s, v, d, &sp))
                fit[v * P + s->open_k[d] % P]++;
    do {
        int score = 0;
        for (int slot = 0; slot < P; slot++)
            for (int v = 0; v < p->nvisits; v++) {
                if (s->group_of_loc[p->visits[v].loc] != perm[slot] || p->visits[v].cls < 0)
                    continue;
                int got = fit[v * P + slot] < p->visits[v].target ? fit[v * P + slot] : p->visits[v].target;
                score += got * (s->nm->cls[p->visits[v].cls].high_value ? 10 : 1);
            }
        if (score > best_score) {
            best_score = score;
            memcpy(s->slot_group, perm, sizeof *perm * (size_t)P);
        }
    } while (next_perm(perm, P));
    free(fit);
}

/* How many hospital groups the open days take in turn: day_groups, or
 * the open days of the fullest week, so that each group comes back once
 * a week (a partial first or last week does not lower it). */
static int group_count(const sc_problem *p)
{
    if (p->norms->day_groups > 0)
        return p->norms->day_groups;
    int best = 1;
    for (int d = 0, n = 0; d < p->ndays; d++) {
        n = d > 0 && p->days[d].week == p->days[d - 1].week ? n : 0;
        n += day_open(p, d);
        best = n > best ? n : best;
    }
    return best;
}

static int planner_init(planner *s, const sc_problem *p, int variant)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->nm = p->norms;
    size_t nv = (size_t)(p->nvisits > 0 ? p->nvisits : 1), nd = (size_t)(p->ndays > 0 ? p->ndays : 1);
    s->dp = calloc(nd, sizeof *s->dp);
    s->count = calloc(nv, sizeof *s->count);
    s->vdays = calloc(nv * VDAYS_MAX, sizeof *s->vdays);
    s->group_of_loc = calloc((size_t)(p->nloc > 0 ? p->nloc : 1), sizeof *s->group_of_loc);
    s->rank_in_group = calloc((size_t)(p->nloc > 0 ? p->nloc : 1), sizeof *s->rank_in_group);
    s->open_k = calloc(nd, sizeof *s->open_k);
    if (!s->dp || !s->count || !s->vdays || !s->group_of_loc || !s->rank_in_group || !s->open_k)
        return -1;
    int weeks = 0;
    s->nopen = open_days(p, &weeks);
    make_groups(s, group_count(p), variant);
    s->group_left = calloc((size_t)(s->nopen + 1) * (size_t)s->ngroups, sizeof *s->group_left);
    if (!s->group_left)
        return -1;
    for (int d = 0, k = 0; d < p->ndays; d++)
        s->open_k[d] = day_open(p, d) ? k++ : -1;
    choose_slots(s);
    for (int k = s->nopen - 1; k >= 0; k--)
        for (int g = 0; g < s->ngroups; g++)
            s->group_left[k * s->ngroups + g] =
                s->group_left[(k + 1) * s->ngroups + g] + (s->slot_group[k % s->ngroups] == g);
    return 0;
}

/* Fixed calls: into their day's plan (open days) and the visit counts. */
static void place_fixed(planner *s)
{
    const sc_problem *p = s->p;
    for (int i = 0; i < p->nfixed; i++) {
        const sc_call *c = &p->fixed[i];
        if (c->day < 0 || c->day >= p->ndays || c->visit >= p->nvisits)
            continue;
        if (c->visit >= 0)
            note_call(s, c->visit, c->day);
        sc_stop st = {.loc = c->loc, .duration = c->duration,
                      .allowed = {.n = 1, .s = {{c->start, c->start + c->duration}}}};
        if (c->any_time && c->visit >= 0) {
            sc_spans sp;
            sc_visit_spans(p, c->visit, c->day, &sp);
            if (sp.n)
                st.allowed = sp;
        }
        if (day_push(&s->dp[c->day], &st, c->visit, c->kind, true) == 0) {
            day_plan *dp = &s->dp[c->day];
            dp->tag[dp->n - 1] = c->tag;
            dp->fixed_start[dp->n - 1] = c->start;
        }
    }
}

/* ---- one day ---- */

/* The PIM goes to the hospital of the day with the most high-value
 * calls; on a day still empty, to the group's hospital with the most
 * high-value calls still wanted (its customers come to the PIM and its
 * talks). -1 when there is none. */
static int pim_location(const planner *s, const day_plan *dp, int g)
{
    const sc_problem *p = s->p;
    int best = -1, best_load = -1;
    for (int l = 0; l < p->nloc; l++) {
        int load = 0, here = 0;
        for (int k = 0; k < dp->n; k++)
            if (dp->stops[k].loc == l && dp->visit[k] >= 0) {
                int c = p->visits[dp->visit[k]].cls;
                here++;
                load += c >= 0 && s->nm->cls[c].high_value ? 1000 : 1;
            }
        if (!here && s->group_of_loc[l] != g)
            continue;
        for (int v = 0; dp->n == 0 && v < p->nvisits; v++)
            if (p->visits[v].loc == l && p->visits[v].cls >= 0 && s->count[v] < p->visits[v].target)
                load += s->nm->cls[p->visits[v].cls].high_value ? 1000 : 1;
        if (load > best_load) {
            best = l;
            best_load = load;
        }
    }
    return best;
}

static void add_pim(planner *s, int d, int g)
{
    int loc = pim_location(s, &s->dp[d], g);
    if (loc < 0)
        return;
    sc_spans want = {.n = 1, .s = {{s->nm->pim_start, s->nm->pim_start + s->nm->pim_minutes}}}, ok;
    sc_spans_subtract(&want, &s->p->days[d].blocked, &ok);
    if (ok.n != 1 || sc_spans_minutes(&ok) != s->nm->pim_minutes)
        return;
    sc_stop st = {.loc = loc, .duration = s->nm->pim_minutes, .allowed = ok};
    day_push(&s->dp[d], &st, -1, SC_KIND_PIM, false);
}

/* The day runs along its group's hospitals (forward in even weeks,
 * backward in odd ones), so each hospital has a share of the day: true
 * when v's spans sp hold a call in its hospital's share. Customers who
 * do not fit it wait for a week where they do (fewer zig-zags). */
static bool fits_slot(const planner *s, int v, int d, const sc_spans *sp)
{
    const sc_problem *p = s->p;
    int loc = p->visits[v].loc, g = s->group_of_loc[loc];
    if (g < 0 || g >= 8 || s->group_size[g] < 2)
        return true;
    int size = s->group_size[g], r = s->rank_in_group[loc];
    if (p->days[d].week % 2)
        r = size - 1 - r;
    int len = (s->nm->day_end - s->nm->day_start) / size, a = s->nm->day_start + r * len;
    sc_spans slot = {.n = 1, .s = {{a - len / 2, a + len + len / 2}}}, in;
    sc_spans_intersect(sp, &slot, &in);
    for (int i = 0; i < in.n; i++)
        if (in.s[i].end - in.s[i].start >= dur(p, v))
            return true;
    return false;
}

static int candidates(const planner *s, int d, int g, bool own_group, keyed *out)
{
    const sc_problem *p = s->p;
    int k = s->open_k[d], n = 0;
    sc_spans sp;
    for (int v = 0; v < p->nvisits; v++) {
        int vg = s->group_of_loc[p->visits[v].loc];
        if ((vg == g) != own_group || !may_call(s, v, d, &sp))
            continue;
        int left = p->visits[v].target - s->count[v];
        long key;
        if (own_group) {
            int opp = vg >= 0 ? s->group_left[k * s->ngroups + vg] : 1;
            key = (left >= opp ? 0 : URGENT_KEY) + p->visits[v].cls * 1000L + (100 - left) +
                  (fits_slot(s, v, d, &sp) ? 0 : OFF_SLOT_KEY);
        } else {
            int near = INT_MAX;
            for (int l = 0; l < p->nloc; l++)
                if (s->group_of_loc[l] == g && p->travel[p->visits[v].loc * p->nloc + l] < near)
                    near = p->travel[p->visits[v].loc * p->nloc + l];
            key = (long)(near == INT_MAX ? 100000 : near) * 100 + p->visits[v].cls;
        }
        out[n++] = (keyed){key, v};
    }
    qsort(out, (size_t)n, sizeof *out, cmp_keyed);
    return n;
}

static void take(planner *s, int d, const keyed *c, int n, int upto)
{
    day_plan *dp = &s->dp[d];
    for (int i = 0; i < n && dp->ncalls < upto; i++) {
        sc_stop st = {.loc = s->p->visits[c[i].v].loc, .duration = dur(s->p, c[i].v)};
        sc_visit_spans(s->p, c[i].v, d, &st.allowed);
        if (day_push(dp, &st, c[i].v, SC_KIND_CALL, false) == 0)
            note_call(s, c[i].v, d);
    }
}

/* Takes stop k out of the day (the visit counts are the caller's). */
static void day_remove(day_plan *dp, int k)
{
    int after = dp->n - k - 1;
    dp->ncalls -= dp->visit[k] >= 0;
    memmove(&dp->stops[k], &dp->stops[k + 1], sizeof dp->stops[0] * (size_t)after);
    memmove(&dp->visit[k], &dp->visit[k + 1], sizeof dp->visit[0] * (size_t)after);
    memmove(&dp->kind[k], &dp->kind[k + 1], (size_t)after);
    memmove(&dp->fixed[k], &dp->fixed[k + 1], (size_t)after);
    memmove(&dp->talk[k], &dp->talk[k + 1], (size_t)after);
    memmove(&dp->fixed_start[k], &dp->fixed_start[k + 1], sizeof dp->fixed_start[0] * (size_t)after);
    memmove(&dp->tag[k], &dp->tag[k + 1], sizeof dp->tag[0] * (size_t)after);
    dp->n--;
}

/* Routes the day, dropping the last non-fixed stops until it fits. */
static void settle_day(planner *s, int d)
{
    day_plan *dp = &s->dp[d];
    while (route_day(s, d, dp) != 0) {
        int k = dp->n - 1;
        while (k >= 0 && (dp->fixed[k] || dp->kind[k] != SC_KIND_CALL))
            k--;
        if (k < 0)   /* only fixed stops and PIMs left: give up the PIM */
            for (k = dp->n - 1; k >= 0 && dp->fixed[k];)
                k--;
        if (k < 0)
            return;
        if (dp->visit[k] >= 0)
            forget_call(s, dp->visit[k], d);
        day_remove(dp, k);
    }
}

/* The calls a day should hold to spread what is left evenly over the
 * open days left (a little more, as later days may not fit them all),
 * within the norms' calls a day. */
static int day_quota(const planner *s, int d)
{
    long left = 0;
    for (int v = 0; v < s->p->nvisits; v++)
        if (s->p->visits[v].cls >= 0 && s->count[v] < s->p->visits[v].target)
            left += s->p->visits[v].target - s->count[v];
    int days = s->nopen - s->open_k[d];
    long q = days > 0 ? (left + days - 1) / days + LEVEL_SLACK : left;
    q += s->dp[d].ncalls;
    if (q < s->nm->calls_per_day_min)
        q = s->nm->calls_per_day_min;
    return q > s->nm->calls_per_day_max ? s->nm->calls_per_day_max : (int)q;
}

static void add_event_talks(planner *s, int d, bool fixed_ones);

static void plan_day(planner *s, int d, bool pim_day, keyed *buf)
{
    int g = group_of_day(s, d), quota = day_quota(s, d);
    if (pim_day) {              /* first, so that its talks find their customers */
        add_pim(s, d, g);
        add_event_talks(s, d, false);
    }
    int n = candidates(s, d, g, true, buf), urgent = 0;
    while (urgent < n && buf[urgent].key < URGENT_KEY)
        urgent++;
    take(s, d, buf, urgent, s->nm->calls_per_day_max);
    take(s, d, buf + urgent, n - urgent, quota);
    if (s->dp[d].ncalls < s->nm->calls_per_day_min) {
        n = candidates(s, d, g, false, buf);
        take(s, d, buf, n, s->nm->calls_per_day_min);
    }
    settle_day(s, d);
}

/* The open days of each week that get a PIM: the week's second open day
 * (or its first), unless fixed PIMs already meet pims_per_week. */
static void choose_pim_days(const planner *s, bool *pim)
{
    const sc_problem *p = s->p;
    for (int d = 0; d < p->ndays;) {
        int week = p->days[d].week, e = d, have = 0, open[8], nopen = 0;
        while (e < p->ndays && p->days[e].week == week)
            e++;
        for (int i = 0; i < p->nfixed; i++)
            have += p->fixed[i].kind == SC_KIND_PIM && p->fixed[i].day >= d && p->fixed[i].day < e;
        for (int x = d; x < e && nopen < 8; x++)
            if (day_open(p, x))
                open[nopen++] = x;
        for (int need = s->nm->pims_per_week - have, i = 0; need > 0 && i < nopen; need--, i++)
            pim[open[(1 + 2 * i) < nopen ? 1 + 2 * i : i]] = true;
        d = e;
    }
}

/* ---- talks next to events (DOMAIN.md 3.3) ---- */

/* May v have a talk on day d (no window check: the customer comes to the event)? */
static bool may_talk(const planner *s, int v, int d)
{
    const sc_problem *p = s->p;
    return p->visits[v].cls >= 0 && !excluded(p, v, d) && s->count[v] < p->visits[v].target &&
           day_open(p, d) && has_room(s, v, d);
}

/* The spans next to the event [a, b) where a talk may be held. */
static void talk_spans(const planner *s, int d, int a, int b, sc_spans *out)
{
    const sc_norms *nm = s->nm;
    sc_spans near = {0}, day = {.n = 1, .s = {{nm->day_start, nm->day_end}}}, tmp;
    sc_spans_add(&near, a - nm->talk_window, a);
    sc_spans_add(&near, b, b + nm->talk_window);
    sc_spans_intersect(&near, &day, &tmp);
    sc_spans_subtract(&tmp, &s->p->days[d].blocked, out);
}

/* Up to talks_per_event talks with customers of the event's hospital,
 * most important class first, then most calls still wanted. */
static void add_talks(planner *s, int d, int loc, int a, int b)
{
    const sc_problem *p = s->p;
    day_plan *dp = &s->dp[d];
    keyed order[SC_ROUTE_MAX];
    int n = 0;
    for (int v = 0; v < p->nvisits; v++) {
        if (p->visits[v].loc != loc || !may_talk(s, v, d))
            continue;
        long key = p->visits[v].cls * 1000L - (p->visits[v].target - s->count[v]);
        if (n < SC_ROUTE_MAX)
            order[n++] = (keyed){key, v};
        else if (key < order[n - 1].key)
            order[n - 1] = (keyed){key, v};
        qsort(order, (size_t)n, sizeof *order, cmp_keyed);
    }
    sc_spans near, own;
    talk_spans(s, d, a, b, &near);
    for (int i = 0, added = 0; near.n && i < n && added < s->nm->talks_per_event &&
                               dp->ncalls < s->nm->calls_per_day_max; i++) {
        sc_stop st = {.loc = loc, .duration = s->nm->talk_minutes};
        sc_visit_spans(p, order[i].v, d, &own);   /* the customer's own windows hold for talks too */
        sc_spans_intersect(&near, &own, &st.allowed);
        bool fits = false;
        for (int k = 0; k < st.allowed.n; k++)
            fits |= st.allowed.s[k].end - st.allowed.s[k].start >= st.duration;
        if (fits && day_push(dp, &st, order[i].v, SC_KIND_CALL, false) == 0) {
            dp->talk[dp->n - 1] = 1;
            note_call(s, order[i].v, d);
            added++;
        }
    }
}

/* Talks next to the day's fixed PIMs and meetings, and the planned PIM. */
static void add_event_talks(planner *s, int d, bool fixed_ones)
{
    day_plan *dp = &s->dp[d];
    if (s->nm->talks_per_event <= 0)
        return;
    for (int k = 0, n = dp->n; k < n; k++) {
        if (dp->visit[k] >= 0 || (bool)dp->fixed[k] != fixed_ones || !dp->stops[k].allowed.n)
            continue;
        int a = fixed_ones ? dp->fixed_start[k] : dp->stops[k].allowed.s[0].start;
        add_talks(s, d, dp->stops[k].loc, a, a + dp->stops[k].duration);
    }
}

/* ---- good moments (soft) ---- */

/* The part of stop k's allowed spans inside its customer's good moments
 * on day d; false when no call fits in it. */
static bool moment_spans(const planner *s, const day_plan *dp, int k, int d, sc_spans *out)
{
    const sc_visit *vi = &s->p->visits[dp->visit[k]];
    if (vi->moments.any)
        return false;
    sc_spans_intersect(&dp->stops[k].allowed, &vi->moments.day[s->p->days[d].weekday], out);
    for (int i = 0; i < out->n; i++)
        if (out->s[i].end - out->s[i].start >= dp->stops[k].duration)
            return true;
    return false;
}

static bool in_spans(const sc_spans *sp, int start, int duration)
{
    for (int i = 0; i < sp->n; i++)
        if (start >= sp->s[i].start && start + duration <= sp->s[i].end)
            return true;
    return false;
}

static void count_moment(const planner *s, int d, const sc_call *c, sc_plan *out)
{
    const sc_visit *vi = c->visit >= 0 ? &s->p->visits[c->visit] : NULL;
    if (!vi || vi->moments.any || c->kind != SC_KIND_CALL || c->fixed || c->talk)
        return;
    const sc_spans *m = &vi->moments.day[s->p->days[d].weekday];
    if (!m->n)
        return;
    out->moment_calls++;
    out->moment_met += in_spans(m, c->start, c->duration);
}

/* Routes stops with the given allowed spans; keeps the route when it is
 * feasible and costs at most `limit` travel + idle minutes. */
static bool try_route(const planner *s, day_plan *dp, const sc_stop *stops, int limit)
{
    const sc_problem *p = s->p;
    sc_route_ctx ctx = {p->nloc, p->travel, p->home, s->nm->day_start, s->nm->day_end};
    sc_route r;
    if (sc_route_solve(&ctx, stops, dp->n, s->nm->route_exact_max, &r) != 0 || r.travel + r.idle > limit)
        return false;
    dp->route = r;
    return true;
}

/* Moves the day's calls into their good moments where the day still
 * routes within moment_slack: all at once, else one by one, most
 * important class first. The stops keep their own spans (later passes
 * see the day as before); only the route changes. */
static void prefer_moments(const planner *s, int d)
{
    const sc_problem *p = s->p;
    day_plan *dp = &s->dp[d];
    if (!dp->routed || dp->n < 1)
        return;
    sc_stop trial[SC_ROUTE_MAX];
    sc_spans want[SC_ROUTE_MAX];
    keyed cand[SC_ROUTE_MAX];
    int n = 0, limit = dp->route.travel + dp->route.idle + s->nm->moment_slack;
    memcpy(trial, dp->stops, sizeof *trial * (size_t)dp->n);
    for (int k = 0; k < dp->n; k++)
        if (dp->visit[k] >= 0 && !dp->fixed[k] && !dp->talk[k] && moment_spans(s, dp, k, d, &want[k]))
            cand[n++] = (keyed){p->visits[dp->visit[k]].cls, k};
    if (!n)
        return;
    qsort(cand, (size_t)n, sizeof *cand, cmp_keyed);
    for (int i = 0; i < n; i++)
        trial[cand[i].v].allowed = want[cand[i].v];
    if (try_route(s, dp, trial, limit))
        return;
    memcpy(trial, dp->stops, sizeof *trial * (size_t)dp->n);
    for (int i = 0; i < n && i < MOMENT_TRIES; i++) {
        int k = cand[i].v;
        trial[k].allowed = want[k];
        if (!try_route(s, dp, trial, limit))
            trial[k].allowed = dp->stops[k].allowed;
    }
}

/* Adds visit v to day d if the day still routes. True when it did. */
static bool try_insert(planner *s, int v, int d)
{
    day_plan *dp = &s->dp[d];
    if (dp->ncalls >= s->nm->calls_per_day_max)
        return false;
    sc_route keep = dp->route;
    bool was = dp->routed;
    sc_stop st = {.loc = s->p->visits[v].loc, .duration = dur(s->p, v)};
    sc_visit_spans(s->p, v, d, &st.allowed);
    if (day_push(dp, &st, v, SC_KIND_CALL, false) != 0)
        return false;
    if (route_day(s, d, dp) == 0) {
        note_call(s, v, d);
        return true;
    }
    day_pop(dp);
    dp->route = keep;
    dp->routed = was;
    return false;
}

/* Puts v in place of the day's movable call at index k; keeps it when the
 * day still routes. */
static bool swap_in(planner *s, int v, int d, int k)
{
    const sc_problem *p = s->p;
    day_plan *dp = &s->dp[d];
    sc_stop old = dp->stops[k];
    int old_visit = dp->visit[k];
    sc_route keep = dp->route;
    bool was = dp->routed;
    dp->stops[k] = (sc_stop){.loc = p->visits[v].loc, .duration = dur(p, v)};
    sc_visit_spans(p, v, d, &dp->stops[k].allowed);
    dp->visit[k] = v;
    if (route_day(s, d, dp) == 0) {
        forget_call(s, old_visit, d);
        note_call(s, v, d);
        return true;
    }
    dp->stops[k] = old;
    dp->visit[k] = old_visit;
    dp->route = keep;
    dp->routed = was;
    return false;
}

/* Replaces one of the day's movable calls of a less important class than
 * v (least important first) by v, sacrificing it. True when it did. */
static bool try_bump(planner *s, int v, int d)
{
    const sc_problem *p = s->p;
    day_plan *dp = &s->dp[d];
    keyed order[SC_ROUTE_MAX];
    int n = 0, at[SC_ROUTE_MAX];
    sc_spans sp;
    sc_visit_spans(p, v, d, &sp);
    for (int k = 0; k < dp->n; k++)
        at[k] = -1;
    for (int k = 0; dp->routed && k < dp->route.n; k++)
        at[dp->route.order[k]] = dp->route.start[k];
    for (int k = 0; k < dp->n; k++) {
        if (dp->fixed[k] || dp->talk[k] || dp->visit[k] < 0 || p->visits[dp->visit[k]].cls <= p->visits[v].cls)
            continue;
        bool inside = false;   /* calls already in v's hours free the right time */
        for (int w = 0; w < sp.n && at[k] >= 0; w++)
            inside |= at[k] >= sp.s[w].start && at[k] < sp.s[w].end;
        order[n++] = (keyed){(inside ? 0 : 100) - p->visits[dp->visit[k]].cls, k};
    }
    qsort(order, (size_t)n, sizeof *order, cmp_keyed);
    for (int i = 0; i < n && i < BUMP_TRIES; i++)
        if (swap_in(s, v, d, order[i].v))
            return true;
    return false;
}

/* Open days where v may go, nearest to the day's other stops first. */
static int repair_days(const planner *s, int v, keyed *days)
{
    const sc_problem *p = s->p;
    int nd = 0;
    sc_spans sp;
    for (int d = 0; d < p->ndays; d++) {
        if (s->open_k[d] < 0 || !may_call(s, v, d, &sp))
            continue;
        int near = INT_MAX;
        for (int k = 0; k < s->dp[d].n; k++) {
            int t = p->travel[p->visits[v].loc * p->nloc + s->dp[d].stops[k].loc];
            near = t < near ? t : near;
        }
        days[nd++] = (keyed){near, d};
    }
    qsort(days, (size_t)nd, sizeof *days, cmp_keyed);
    return nd;
}

/* Calls left over, most important classes first: other days, nearest
 * first, in free room or in place of a less important call. */
static void repair(planner *s)
{
    const sc_problem *p = s->p;
    keyed *days = malloc(sizeof *days * (size_t)(p->ndays > 0 ? p->ndays : 1));
    for (int c = 0; days && c < s->nm->ncls; c++)
        for (int v = 0; v < p->nvisits; v++) {
            if (p->visits[v].cls != c || s->count[v] >= p->visits[v].target)
                continue;
            int nd = repair_days(s, v, days);
            for (int i = 0, tries = 0; i < nd && tries < REPAIR_TRIES && s->count[v] < p->visits[v].target; i++) {
                int d = days[i].v;
                if (!has_room(s, v, d))
                    continue;
                tries++;
                if (!try_insert(s, v, d))
                    try_bump(s, v, d);
            }
        }
    free(days);
}

/* ---- fewer hospital switches ---- */

static bool visits_loc(const day_plan *dp, int loc)
{
    for (int k = 0; k < dp->n; k++)
        if (dp->stops[k].loc == loc)
            return true;
    return false;
}

static int day_travel(const day_plan *dp)
{
    return dp->routed ? dp->route.travel : 0;
}

/* Day e with a call on v added into its current route at the place that
 * drives least (then returns earliest), into *out, the travel increase in
 * *inc; false when no place fits (cheap insertion: the route is not
 * solved again; the last pass redraws every route). */
static bool cheap_insert(const planner *s, int v, int e, day_plan *out, int *inc)
{
    const sc_problem *p = s->p;
    const day_plan *dp = &s->dp[e];
    if (!dp->routed || dp->route.n != dp->n || dp->ncalls >= s->nm->calls_per_day_max)
        return false;
    sc_route_ctx ctx = {p->nloc, p->travel, p->home, s->nm->day_start, s->nm->day_end};
    *out = *dp;
    sc_stop st = {.loc = p->visits[v].loc, .duration = dur(p, v)};
    sc_visit_spans(p, v, e, &st.allowed);
    if (day_push(out, &st, v, SC_KIND_CALL, false) != 0)
        return false;
    int order[SC_ROUTE_MAX], n = dp->n, best = -1;
    sc_route r;
    for (int at = 0; at <= n; at++) {
        memcpy(order, dp->route.order, sizeof *order * (size_t)n);
        memmove(order + at + 1, order + at, sizeof *order * (size_t)(n - at));
        order[at] = n;
        if (sc_route_eval(&ctx, out->stops, order, n + 1, &r) == 0 &&
            (best < 0 || r.travel < out->route.travel || (r.travel == out->route.travel && r.finish < out->route.finish))) {
            out->route = r;
            best = at;
        }
    }
    if (best < 0)
        return false;
    out->routed = true;
    *inc = out->route.travel - dp->route.travel;
    return true;
}

/* Routes dp (was with the stops pick[k] taken out) in was's order without
 * them (cheap: a feasible order stays feasible with fewer stops), or
 * solves it again when that fails. 0, or -1 when it does not route. */
static int route_without(const planner *s, const day_plan *was, const unsigned char *pick, day_plan *dp)
{
    const sc_problem *p = s->p;
    sc_route_ctx ctx = {p->nloc, p->travel, p->home, s->nm->day_start, s->nm->day_end};
    int newidx[SC_ROUTE_MAX], order[SC_ROUTE_MAX], n = 0;
    for (int k = 0, j = 0; k < was->n; k++)
        newidx[k] = pick[k] ? -1 : j++;
    for (int i = 0; was->routed && i < was->route.n; i++)
        if (newidx[was->route.order[i]] >= 0)
            order[n++] = newidx[was->route.order[i]];
    if (was->routed && n == dp->n && sc_route_eval(&ctx, dp->stops, order, n, &dp->route) == 0) {
        dp->routed = true;
        return 0;
    }
    return route_day(s, 0, dp);
}

/* Scratch days of the month's improvement (one allocation, ~130 KB). */
typedef struct {
    day_plan save;                   /* the day calls are moved off, as it was */
    day_plan trial, best;            /* a host with the call in; the best such */
    day_plan spare;                  /* a donor day without its call (level_cost) */
    day_plan host_was[SC_ROUTE_MAX]; /* each host before it took a moved call */
    day_plan donor_was[SC_ROUTE_MAX];/* each donor before it gave a call back (refill_day) */
    int donor[SC_ROUTE_MAX], donor_v[SC_ROUTE_MAX];
} scratch;

static bool movable(const day_plan *dp, int k);
static int take_out(planner *s, int d, int k, day_plan *was);

/* ---- every day at calls_per_day_min ---- */

/* Day d with a call on v added, into *out, its travel increase in *inc:
 * by cheap insertion into its route, or by routing an empty or unrouted
 * day. False when it does not fit. */
static bool insert_call(const planner *s, int v, int d, day_plan *out, int *inc)
{
    const day_plan *dp = &s->dp[d];
    if (dp->n && dp->routed)
        return cheap_insert(s, v, d, out, inc);
    if (dp->ncalls >= s->nm->calls_per_day_max)
        return false;
    *out = *dp;
    sc_stop st = {.loc = s->p->visits[v].loc, .duration = dur(s->p, v)};
    sc_visit_spans(s->p, v, d, &st.allowed);
    if (day_push(out, &st, v, SC_KIND_CALL, false) != 0 || route_day(s, d, out) != 0)
        return false;
    *inc = out->route.travel;
    return true;
}

/* The travel change of moving movable call k of day e to day d (the
 * rules of the visits hold), into *cost, day d with the call in
 * x->trial. False when the call cannot go to day d. */
static bool level_cost(planner *s, int e, int k, int d, scratch *x, int *cost)
{
    int v = s->dp[e].visit[k], inc = 0;
    sc_spans sp;
    forget_call(s, v, e);
    bool ok = may_call(s, v, d, &sp) && insert_call(s, v, d, &x->trial, &inc);
    note_call(s, v, e);
    if (!ok)
        return false;
    unsigned char pick[SC_ROUTE_MAX] = {0};
    day_plan *w = &x->spare;
    *w = s->dp[e];
    pick[k] = 1;
    day_remove(w, k);
    if (w->n && route_without(s, &s->dp[e], pick, w) != 0)
        return false;
    *cost = inc - (day_travel(&s->dp[e]) - (w->n ? day_travel(w) : 0));
    return true;
}

/* The cheapest call of a day above calls_per_day_min that day d can take
 * (its day in *from, its stop in *at, the travel change in *cost_out,
 * day d with it in x->best). */
static bool cheapest_donor(planner *s, int d, scratch *x, int *from, int *at, int *cost_out)
{
    const sc_problem *p = s->p;
    int best = INT_MAX;
    for (int e = p->from_day < 0 ? 0 : p->from_day; e < p->ndays; e++) {
        if (e == d || s->open_k[e] < 0 || !s->dp[e].routed || s->dp[e].ncalls <= s->nm->calls_per_day_min)
            continue;
        for (int k = 0, cost = 0; k < s->dp[e].n; k++)
            if (movable(&s->dp[e], k) && level_cost(s, e, k, d, x, &cost) && cost < best) {
                best = cost;
                *from = e;
                *at = k;
                x->best = x->trial;
            }
    }
    *cost_out = best;
    return best < INT_MAX;
}

/* A call beyond its visit's target for day d (no day above the minimum
 * can give one): the cheapest insertion, then the most important class;
 * true when one was added. */
static bool extra_call(planner *s, int d, scratch *x)
{
    const sc_problem *p = s->p;
    long best = LONG_MAX;
    int bv = -1;
    sc_spans sp;
    for (int v = 0, inc = 0; v < p->nvisits; v++)
        if (may_add(s, v, d, &sp) && insert_call(s, v, d, &x->trial, &inc) &&
            (long)inc * SC_CLASSES_MAX + p->visits[v].cls < best) {
            best = (long)inc * SC_CLASSES_MAX + p->visits[v].cls;
            bv = v;
            x->best = x->trial;
        }
    if (bv < 0)
        return false;
    s->dp[d] = x->best;
    note_call(s, bv, d);
    return true;
}

/* Days below calls_per_day_min (the month's calls spread unevenly) take
 * calls from days above it, the cheapest move first, else calls beyond
 * the targets, until they reach it or no call can come. */
static void level_days(planner *s, scratch *x)
{
    const sc_problem *p = s->p;
    for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++) {
        int e = -1, k = -1, cost = 0;
        while (s->open_k[d] >= 0 && s->dp[d].ncalls < s->nm->calls_per_day_min) {
            if (!cheapest_donor(s, d, x, &e, &k, &cost)) {
                if (!extra_call(s, d, x))
                    break;
                continue;
            }
            int v = s->dp[e].visit[k];
            if (take_out(s, e, k, &x->save) != 0) {
                s->dp[e] = x->save;        /* cannot happen: fewer stops still route */
                note_call(s, v, e);
                break;
            }
            s->dp[d] = x->best;
            note_call(s, v, d);
        }
    }
}

/* The best other day already at v's hospital that takes v: its travel
 * increase in *delta and the day with v in x->best; -1 when none.
 * Changes no day. */
static int best_host(planner *s, int v, int d, scratch *x, int *delta)
{
    const sc_problem *p = s->p;
    int best = -1;
    sc_spans sp;
    for (int e = p->from_day < 0 ? 0 : p->from_day; e < p->ndays; e++) {
        if (e == d || s->open_k[e] < 0 || !visits_loc(&s->dp[e], p->visits[v].loc) || !may_call(s, v, e, &sp))
            continue;
        int inc = 0;
        if (!cheap_insert(s, v, e, &x->trial, &inc))
            continue;
        if (best < 0 || inc < *delta) {
            best = e;
            *delta = inc;
            x->best = x->trial;
        }
        if (best >= 0 && *delta <= s->nm->same_site_minutes)
            break;                         /* no host can take it for less */
    }
    return best;
}

/* Takes the n calls moved off day d back out of the days they went to
 * (hosts, the first `placed` of them, latest first), and restores day d. */
static void undo_moves(planner *s, int d, const int *moved, const int *hosts, int placed, int n, const scratch *x)
{
    for (int i = placed - 1; i >= 0; i--) {
        s->dp[hosts[i]] = x->host_was[i];
        forget_call(s, moved[i], hosts[i]);
    }
    s->dp[d] = x->save;
    for (int i = 0; i < n; i++)
        note_call(s, moved[i], d);
}

/* The calls day d must keep when a move takes calls off it: never
 * fewer than calls_per_day_min, and a day already below the minimum (a
 * day that could not be filled) loses none. */
static int day_floor(const planner *s, int d)
{
    int n = s->dp[d].ncalls, min = s->nm->calls_per_day_min;
    return n < min ? n : min;
}

/* Day d takes `need` calls back from days above calls_per_day_min, the
 * cheapest first, while the month's travel still drops (*gain, the
 * minutes saved so far, goes down by each one's cost). True when it took
 * them all; else it undoes what it took. */
static bool refill_day(planner *s, int d, int need, scratch *x, int *gain)
{
    int done = 0;
    for (; done < need && done < SC_ROUTE_MAX; done++) {
        int e = -1, k = -1, cost = 0;
        if (!cheapest_donor(s, d, x, &e, &k, &cost) || *gain - cost <= 0)
            break;
        int v = s->dp[e].visit[k];
        if (take_out(s, e, k, &x->donor_was[done]) != 0) {
            s->dp[e] = x->donor_was[done];
            note_call(s, v, e);
            break;
        }
        s->dp[d] = x->best;
        note_call(s, v, d);
        x->donor[done] = e;
        x->donor_v[done] = v;
        *gain -= cost;
    }
    if (done >= need)
        return true;
    for (int i = done - 1; i >= 0; i--) {
        s->dp[x->donor[i]] = x->donor_was[i];
        forget_call(s, x->donor_v[i], d);
        note_call(s, x->donor_v[i], x->donor[i]);
    }
    return false;
}

/* Moves the stops pick[k] of day d (movable calls only, at most
 * detour_calls of them) to other days already at their hospital when
 * the month's travel drops and day d keeps day_floor calls (hosts stay
 * within calls_per_day_max: cheap_insert); else changes nothing. True
 * when it moved them. */
static bool move_off(planner *s, int d, const unsigned char *pick, scratch *x)
{
    int keep_min = day_floor(s, d);
    day_plan *dp = &s->dp[d];
    int moved[SC_ROUTE_MAX], hosts[SC_ROUTE_MAX], n = 0;
    for (int k = 0; k < dp->n; k++)
        if (pick[k]) {
            if (dp->fixed[k] || dp->talk[k] || dp->visit[k] < 0 || n == s->nm->detour_calls)
                return false;
            moved[n++] = dp->visit[k];
        }
    int need = keep_min - (dp->ncalls - n);   /* calls day d must take back */
    if (!n)
        return false;
    x->save = *dp;
    int gain = day_travel(dp);
    for (int k = dp->n - 1; k >= 0; k--)
        if (pick[k])
            day_remove(dp, k);
    for (int i = 0; i < n; i++)
        forget_call(s, moved[i], d);
    bool ok = dp->n == 0 ? (dp->routed = false, true) : route_without(s, &x->save, pick, dp) == 0;
    gain -= day_travel(dp);
    ok = ok && gain > n * s->nm->same_site_minutes;   /* each call costs a host at least that */
    int placed = 0;
    for (; ok && placed < n; placed++) {
        int delta = 0, e = best_host(s, moved[placed], d, x, &delta);
        if (e < 0)
            break;
        x->host_was[placed] = s->dp[e];
        s->dp[e] = x->best;
        note_call(s, moved[placed], e);
        hosts[placed] = e;
        gain -= delta;
    }
    if (ok && placed == n && gain > 0 && refill_day(s, d, need, x, &gain))
        return true;
    undo_moves(s, d, moved, hosts, placed, n, x);
    return false;
}

static bool swap_out(planner *s, int d, int ka, scratch *x);

/* Marks in pick the stops of day d at loc; returns how many there are. */
static int mark_loc(const day_plan *dp, int loc, unsigned char *pick)
{
    int n = 0;
    for (int k = 0; k < dp->n; k++)
        n += pick[k] = dp->stops[k].loc == loc;
    return n;
}

/* Day d's visit to loc, when a few calls (detour_calls): its calls go to
 * days already at loc where the month's travel drops; when the day may
 * not lose them (day_floor), they swap one by one with calls of such
 * days at hospitals day d visits anyway. */
static void merge_detour(planner *s, int d, int loc, scratch *x)
{
    unsigned char pick[SC_ROUTE_MAX];
    bool changed = true;
    while (changed && s->dp[d].routed) {
        int n = mark_loc(&s->dp[d], loc, pick);
        if (!n || n > s->nm->detour_calls || move_off(s, d, pick, x))
            return;
        changed = false;                  /* a swap takes one call away from loc */
        for (int k = 0; !changed && k < s->dp[d].n; k++)
            changed = pick[k] && movable(&s->dp[d], k) && swap_out(s, d, k, x);
    }
}

/* Hospital visits of a few calls (detour_calls) cost a detour each: their
 * calls go to days already at that hospital where the month's travel
 * drops (merge_detour). */
static void consolidate(planner *s, scratch *x)
{
    const sc_problem *p = s->p;
    for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++)
        for (int loc = 0; s->open_k[d] >= 0 && loc < p->nloc; loc++)
            if (loc != p->home && visits_loc(&s->dp[d], loc))
                merge_detour(s, d, loc, x);
}

/* Marks in pick the stops of a block (a run of the route at one hospital)
 * of a hospital the day's route enters more than once: the run starting
 * at route position *at or after. False when there is none left. */
static bool next_revisit(const day_plan *dp, int *at, unsigned char *pick)
{
    const sc_route *r = &dp->route;
    for (; *at < r->n; (*at)++) {
        int loc = dp->stops[r->order[*at]].loc, end = *at, entries = 0;
        if (*at > 0 && dp->stops[r->order[*at - 1]].loc == loc)
            continue;                      /* not the start of a run */
        while (end < r->n && dp->stops[r->order[end]].loc == loc)
            end++;
        for (int k = 0; k < r->n; k++)
            entries += dp->stops[r->order[k]].loc == loc && (k == 0 || dp->stops[r->order[k - 1]].loc != loc);
        if (entries < 2)
            continue;
        memset(pick, 0, SC_ROUTE_MAX);
        for (int k = *at; k < end; k++)
            pick[r->order[k]] = 1;
        *at = end;
        return true;
    }
    return false;
}

/* Takes movable stop k out of day d (counts and route). 0, or -1 when
 * the day no longer routes (the caller restores it). */
static int take_out(planner *s, int d, int k, day_plan *was)
{
    unsigned char pick[SC_ROUTE_MAX] = {0};
    *was = s->dp[d];
    pick[k] = 1;
    forget_call(s, s->dp[d].visit[k], d);
    day_remove(&s->dp[d], k);
    return s->dp[d].n == 0 ? (s->dp[d].routed = false, 0) : route_without(s, was, pick, &s->dp[d]);
}

/* Whether visit v's call on day `from` may move to day `to` by the rules
 * of the visits (a cheap check before a move is tried). */
static bool could_go(planner *s, int v, int from, int to)
{
    sc_spans sp;
    forget_call(s, v, from);
    bool ok = may_call(s, v, to, &sp);
    note_call(s, v, from);
    return ok;
}

/* Exchanges call ka of day d and call kb of day e (each goes to the
 * other day, at a hospital that day already visits) when both days still
 * route, every rule of the visits holds and the two days drive less
 * together; else changes nothing. True when it did. */
static bool swap_calls(planner *s, int d, int ka, int e, int kb, scratch *x)
{
    int a = s->dp[d].visit[ka], b = s->dp[e].visit[kb], inc = 0;
    int before = day_travel(&s->dp[d]) + day_travel(&s->dp[e]);
    sc_spans sp;
    bool ok = take_out(s, d, ka, &x->save) == 0;
    ok = take_out(s, e, kb, &x->host_was[0]) == 0 && ok;
    ok = ok && may_call(s, a, e, &sp) && may_call(s, b, d, &sp) && cheap_insert(s, a, e, &x->trial, &inc);
    if (ok) {
        s->dp[e] = x->trial;
        note_call(s, a, e);
        ok = cheap_insert(s, b, d, &x->best, &inc);
        if (ok) {
            s->dp[d] = x->best;
            note_call(s, b, d);
            if (day_travel(&s->dp[d]) + day_travel(&s->dp[e]) < before)
                return true;
            forget_call(s, b, d);
        }
        forget_call(s, a, e);
    }
    s->dp[d] = x->save;
    s->dp[e] = x->host_was[0];
    note_call(s, a, d);
    note_call(s, b, e);
    return false;
}

/* Whether stop k of dp is a call the month's improvement may move. */
static bool movable(const day_plan *dp, int k)
{
    return !dp->fixed[k] && !dp->talk[k] && dp->visit[k] >= 0 && dp->kind[k] == SC_KIND_CALL;
}

/* Stop ka of day d (in a run of a hospital the day enters twice) swaps
 * with a call of another day that is at ka's hospital, the call being at
 * a hospital day d visits anyway. True when a swap was made. */
static bool swap_out(planner *s, int d, int ka, scratch *x)
{
    const sc_problem *p = s->p;
    int h = s->dp[d].stops[ka].loc, a = s->dp[d].visit[ka];
    for (int e = p->from_day < 0 ? 0 : p->from_day; e < p->ndays; e++) {
        if (e == d || s->open_k[e] < 0 || !s->dp[e].routed || !visits_loc(&s->dp[e], h) || !could_go(s, a, d, e))
            continue;
        for (int kb = 0; kb < s->dp[e].n; kb++) {
            int g = s->dp[e].stops[kb].loc;
            if (g != h && movable(&s->dp[e], kb) && visits_loc(&s->dp[d], g) &&
                could_go(s, s->dp[e].visit[kb], e, d) && swap_calls(s, d, ka, e, kb, x))
                return true;
        }
    }
    return false;
}

/* Zig-zags: a day that goes back to a hospital it left gives one of the
 * runs there to other days already at that hospital when the month's
 * travel drops, keeping the day at its day_floor (move_off); else
 * swaps the run's calls one by one with calls of such days at hospitals
 * the day visits anyway. */
static void unzig(planner *s, scratch *x)
{
    const sc_problem *p = s->p;
    unsigned char pick[SC_ROUTE_MAX];
    for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++) {
        if (s->open_k[d] < 0)
            continue;
        for (int at = 0; s->dp[d].routed && next_revisit(&s->dp[d], &at, pick);) {
            bool changed = move_off(s, d, pick, x);
            for (int k = 0; !changed && k < s->dp[d].n; k++)
                changed = pick[k] && movable(&s->dp[d], k) && swap_out(s, d, k, x);
            if (changed)
                at = 0;                    /* the day's route changed: scan it again */
        }
    }
}

/* Days below calls_per_day_min filled first (level_days); then the
 * month's travel improvement: improve_passes rounds of moving detours
 * and zig-zag runs to days already at their hospitals. */
static void improve_month(planner *s)
{
    scratch *x = malloc(sizeof *x);
    if (x)
        level_days(s, x);
    for (int i = 0; x && i < s->nm->improve_passes; i++) {
        consolidate(s, x);
        unzig(s, x);
    }
    free(x);
}

/* Solves a routed day again (the month's improvement inserted and took
 * out calls without doing so): keeps the solver's route when it drives
 * less. */
static void resolve_day(const planner *s, day_plan *dp)
{
    sc_route keep = dp->route;
    if (route_day(s, 0, dp) != 0 || dp->route.travel >= keep.travel) {
        dp->route = keep;
        dp->routed = true;
    }
}

/* ---- output ---- */

static int plan_push(sc_plan *out, const sc_call *c)
{
    if (out->ncalls == out->cap) {
        int cap = out->cap ? out->cap * 2 : 256;
        sc_call *n = realloc(out->calls, sizeof *n * (size_t)cap);
        if (!n)
            return -1;
        out->calls = n;
        out->cap = cap;
    }
    out->calls[out->ncalls++] = *c;
    return 0;
}

static int emit_day(const planner *s, int d, sc_plan *out)
{
    const day_plan *dp = &s->dp[d];
    for (int k = 0; k < dp->n; k++) {
        int i = dp->routed ? dp->route.order[k] : k;
        sc_call c = {.visit = dp->visit[i], .loc = dp->stops[i].loc, .day = d,
                     .start = dp->routed ? dp->route.start[k] : dp->fixed_start[i],
                     .duration = dp->stops[i].duration, .kind = dp->kind[i], .fixed = dp->fixed[i],
                     .tag = dp->tag[i], .talk = dp->talk[i]};
        if (plan_push(out, &c) != 0)
            return -1;
        out->talks += c.talk;
        count_moment(s, d, &c, out);
    }
    if (dp->routed && dp->n) {
        out->travel += dp->route.travel;
        out->idle += dp->route.idle;
        out->days_routed++;
    }
    return 0;
}

static int emit(const planner *s, sc_plan *out)
{
    for (int d = 0; d < s->p->ndays; d++)
        if (emit_day(s, d, out) != 0)
            return -1;
    return 0;
}

static bool valid_problem(const sc_problem *p)
{
    if (!p->norms || p->nloc <= 0 || !p->travel || p->home < 0 || p->home >= p->nloc ||
        p->ndays < 0 || p->nvisits < 0 || (p->nvisits && !p->visits) || (p->ndays && !p->days))
        return false;
    for (int v = 0; v < p->nvisits; v++)
        if (p->visits[v].loc < 0 || p->visits[v].loc >= p->nloc)
            return false;
    for (int i = 0; i < p->nfixed; i++)
        if (p->fixed[i].loc < 0 || p->fixed[i].loc >= p->nloc)
            return false;
    return true;
}

/* One plan of the month with the variant-th cheapest cut of the
 * hospitals into day groups. 0 or -1. */
static int plan_once(const sc_problem *p, int variant, sc_plan *out)
{
    memset(out, 0, sizeof *out);
    planner s;
    bool *pim = calloc((size_t)(p->ndays > 0 ? p->ndays : 1), sizeof *pim);
    keyed *buf = malloc(sizeof *buf * (size_t)(p->nvisits > 0 ? p->nvisits : 1));
    int rc = planner_init(&s, p, variant) == 0 && pim && buf ? 0 : -1;
    if (rc == 0) {
        place_fixed(&s);
        for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++)
            if (s.open_k[d] >= 0)     /* before any day takes their customers */
                add_event_talks(&s, d, true);
        choose_pim_days(&s, pim);
        for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++)
            if (s.open_k[d] >= 0)
                plan_day(&s, d, pim[d], buf);
            else if (d >= p->from_day && s.dp[d].n)
                route_day(&s, d, &s.dp[d]);
        repair(&s);
        improve_month(&s);
        for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++) {
            if (s.dp[d].routed) {
                resolve_day(&s, &s.dp[d]);
                fewer_switches(&s, &s.dp[d]);
            }
            prefer_moments(&s, d);
        }
        rc = emit(&s, out);
    }
    if (rc == 0)
        sc_plan_check(p, out);
    free(pim);
    free(buf);
    planner_free(&s);
    return rc;
}

/* Whether plan a beats plan b: more norms met, then less travel. */
static bool better_plan(const sc_plan *a, const sc_plan *b)
{
    if (a->norms_met != b->norms_met)
        return a->norms_met > b->norms_met;
    return a->travel < b->travel;
}

int sc_plan_make(const sc_problem *p, sc_plan *out)
{
    memset(out, 0, sizeof *out);
    if (!valid_problem(p))
        return -1;
    int starts = p->norms->plan_starts > 0 ? p->norms->plan_starts : 1;
    if (plan_once(p, 0, out) != 0) {
        sc_plan_free(out);
        return -1;
    }
    for (int v = 1; v < starts; v++) {
        sc_plan other;
        if (plan_once(p, v, &other) == 0 && better_plan(&other, out)) {
            sc_plan_free(out);
            *out = other;
        } else
            sc_plan_free(&other);
    }
    return 0;
}

/* ---- the naive baseline ---- */

/* The naive order: calls in the order appended, each fixed stop or PIM
 * put at the first place where the day stays feasible. 0 or -1. */
static int naive_order(const sc_route_ctx *ctx, const day_plan *dp, int *order)
{
    int n = 0;
    for (int k = 0; k < dp->n; k++)
        if (!dp->fixed[k] && dp->kind[k] == SC_KIND_CALL)
            order[n++] = k;
    for (int k = 0; k < dp->n; k++) {
        if (!dp->fixed[k] && dp->kind[k] == SC_KIND_CALL)
            continue;
        int pos = 0;
        for (; pos <= n; pos++) {
            memmove(order + pos + 1, order + pos, sizeof *order * (size_t)(n - pos));
            order[pos] = k;
            if (sc_route_finish(ctx, dp->stops, order, n + 1) >= 0)
                break;
            memmove(order + pos, order + pos + 1, sizeof *order * (size_t)(n - pos));
        }
        if (pos > n)
            return -1;
        n++;
    }
    return 0;
}

static bool naive_order_ok(const sc_route_ctx *ctx, const day_plan *dp)
{
    int order[SC_ROUTE_MAX];
    return naive_order(ctx, dp, order) == 0 && sc_route_finish(ctx, dp->stops, order, dp->n) >= 0;
}

static bool naive_route(const sc_route_ctx *ctx, day_plan *dp)
{
    int order[SC_ROUTE_MAX];
    return naive_order(ctx, dp, order) == 0 &&
           sc_route_eval(ctx, dp->stops, order, dp->n, &dp->route) == 0;
}

/* Appends visits greedily: best class first, then nearest to where the
 * rep stands, keeping each append feasible; no reordering. */
static void naive_day(planner *s, int d, bool pim_day)
{
    const sc_problem *p = s->p;
    day_plan *dp = &s->dp[d];
    sc_route_ctx ctx = {p->nloc, p->travel, p->home, s->nm->day_start, s->nm->day_end};
    unsigned char *tried = calloc((size_t)(p->nvisits ? p->nvisits : 1), 1);
    int at = p->home;
    while (tried && dp->ncalls < s->nm->calls_per_day_max) {
        int best = -1;
        long best_key = LONG_MAX;
        sc_spans sp;
        for (int v = 0; v < p->nvisits; v++) {
            if (tried[v] || !may_call(s, v, d, &sp))
                continue;
            long key = (long)p->visits[v].cls * 100000 + p->travel[at * p->nloc + p->visits[v].loc];
            if (key < best_key) {
                best_key = key;
                best = v;
            }
        }
        if (best < 0)
            break;
        tried[best] = 1;
        sc_stop st = {.loc = p->visits[best].loc, .duration = dur(p, best)};
        sc_visit_spans(p, best, d, &st.allowed);
        day_push(dp, &st, best, SC_KIND_CALL, false);
        if (naive_order_ok(&ctx, dp)) {
            note_call(s, best, d);
            at = st.loc;
        } else
            day_pop(dp);
    }
    free(tried);
    if (pim_day) {
        add_pim(s, d, group_of_day(s, d));
        if (!naive_order_ok(&ctx, dp))
            day_pop(dp);
    }
    dp->routed = naive_route(&ctx, dp);
}

int sc_plan_naive(const sc_problem *p, sc_plan *out)
{
    memset(out, 0, sizeof *out);
    if (!valid_problem(p))
        return -1;
    planner s;
    bool *pim = calloc((size_t)(p->ndays > 0 ? p->ndays : 1), sizeof *pim);
    int rc = planner_init(&s, p, 0) == 0 && pim ? 0 : -1;
    if (rc == 0) {
        place_fixed(&s);
        for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++)
            if (s.open_k[d] >= 0)     /* before any day takes their customers */
                add_event_talks(&s, d, true);
        choose_pim_days(&s, pim);
        for (int d = p->from_day < 0 ? 0 : p->from_day; d < p->ndays; d++)
            if (s.open_k[d] >= 0)
                naive_day(&s, d, pim[d]);
        rc = emit(&s, out);
    }
    if (rc == 0)
        sc_plan_check(p, out);
    free(pim);
    planner_free(&s);
    return rc;
}

/* ---- shortfalls ---- */

static void shortfall(sc_plan *out, const char *cls, const char *norm, double required,
                      double planned)
{
    out->norms_checked++;
    if (planned + EPS >= required) {
        out->norms_met++;
        return;
    }
    if (out->nshortfalls >= SC_SHORTFALLS_MAX)
        return;
    sc_shortfall *f = &out->shortfalls[out->nshortfalls++];
    snprintf(f->norm, sizeof f->norm, "%s%s%s", cls ? cls : "", cls ? "." : "", norm);
    f->required = required;
    f->planned = planned;
}

static int cmp_int_desc(const void *a, const void *b)
{
    return *(const int *)b - *(const int *)a;
}

static void check_class(const sc_problem *p, sc_plan *out, int c, const int *calls, int *buf)
{
    const sc_class_norm *cn = &p->norms->cls[c];
    int n = 0, covered = 0, covered_q = 0;
    for (int v = 0; v < p->nvisits; v++)
        if (p->visits[v].cls == c) {
            buf[n++] = calls[v];
            covered += calls[v] > 0;
            covered_q += calls[v] > 0 || p->visits[v].called_in_quarter;
        }
    if (!n)
        return;
    int need = (int)ceil(cn->coverage_month * n - EPS);
    if (need > 0)
        shortfall(out, cn->name, "coverage_month", need, covered);
    if (cn->calls_per_month > 0 && need > 0) {
        qsort(buf, (size_t)n, sizeof *buf, cmp_int_desc);
        double got = 0;
        for (int i = 0; i < need; i++)
            got += buf[i] < cn->calls_per_month ? buf[i] : cn->calls_per_month;
        shortfall(out, cn->name, "calls_per_month", need * cn->calls_per_month, got);
    }
    int need_q = (int)ceil(cn->coverage_quarter * n - EPS);
    if (p->quarter_ends && need_q > 0)
        shortfall(out, cn->name, "coverage_quarter", need_q, covered_q);
}

/* Calls a day as a rule for each open day, not an average (DOMAIN.md
 * 3.3: a day's plan holds calls_per_day_min..max calls): the days below
 * the minimum and above the maximum, each a norm of its own. */
static void check_days(const sc_problem *p, sc_plan *out, int open)
{
    int *per_day = calloc((size_t)(p->ndays > 0 ? p->ndays : 1), sizeof *per_day);
    out->days_below_min = out->days_above_max = out->calls_below_min = 0;
    if (!per_day || open <= 0) {
        free(per_day);
        return;
    }
    for (int i = 0; i < out->ncalls; i++)
        if (out->calls[i].kind == SC_KIND_CALL && out->calls[i].visit >= 0 && out->calls[i].day >= 0 &&
            out->calls[i].day < p->ndays)
            per_day[out->calls[i].day]++;
    for (int d = 0; d < p->ndays; d++) {
        if (!day_open(p, d))
            continue;
        int lack = p->norms->calls_per_day_min - per_day[d];
        out->days_below_min += lack > 0;
        out->calls_below_min += lack > 0 ? lack : 0;
        out->days_above_max += per_day[d] > p->norms->calls_per_day_max;
    }
    free(per_day);
    shortfall(out, NULL, "days_at_calls_per_day_min", open, open - out->days_below_min);
    shortfall(out, NULL, "days_within_calls_per_day_max", open, open - out->days_above_max);
}

static void check_rhythm(const sc_problem *p, sc_plan *out)
{
    int weeks = 0, open = open_days(p, &weeks), calls = 0, pim_weeks = 0, last_week = INT_MIN;
    int pims_in_week = 0;
    for (int i = 0; i < out->ncalls; i++) {
        const sc_call *c = &out->calls[i];
        if (c->kind == SC_KIND_CALL && c->visit >= 0 && day_open(p, c->day))
            calls++;
    }
    if (open > 0)
        shortfall(out, NULL, "calls_per_day", p->norms->calls_per_day_min, (double)calls / open);
    check_days(p, out, open);
    for (int d = 0; d < p->ndays; d++) {
        if (!day_open(p, d))
            continue;
        if (p->days[d].week != last_week) {
            pim_weeks += pims_in_week >= p->norms->pims_per_week;
            pims_in_week = 0;
            last_week = p->days[d].week;
            for (int i = 0; i < out->ncalls; i++)
                pims_in_week += out->calls[i].kind == SC_KIND_PIM &&
                                p->days[out->calls[i].day].week == last_week;
        }
    }
    pim_weeks += last_week != INT_MIN && pims_in_week >= p->norms->pims_per_week;
    if (weeks > 0 && p->norms->pims_per_week > 0)
        shortfall(out, NULL, "pims_per_week", weeks, pim_weeks);
}

void sc_plan_check(const sc_problem *p, sc_plan *out)
{
    out->nshortfalls = out->norms_checked = out->norms_met = 0;
    size_t nv = (size_t)(p->nvisits > 0 ? p->nvisits : 1);
    int *calls = calloc(nv, sizeof *calls), *buf = malloc(nv * sizeof *buf);
    if (!calls || !buf) {
        free(calls);
        free(buf);
        return;
    }
    for (int i = 0; i < out->ncalls; i++)
        if (out->calls[i].kind == SC_KIND_CALL && out->calls[i].visit >= 0 &&
            out->calls[i].visit < p->nvisits)
            calls[out->calls[i].visit]++;
    for (int c = p->norms->ncls - 1; c >= 0; c--)
        check_class(p, out, c, calls, buf);
    check_rhythm(p, out);
    free(calls);
    free(buf);
}

void sc_plan_free(sc_plan *plan)
{
    free(plan->calls);
    plan->calls = NULL;
    plan->ncalls = plan->cap = 0;
}
