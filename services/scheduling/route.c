/* route.c: day routes with time windows (route.h). */
#include "route.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define INF_TIME INT_MAX

static int tt(const sc_route_ctx *ctx, int a, int b)
{
    return ctx->travel[a * ctx->nloc + b];
}

/* The earliest start >= arrival at which the stop fits in a span, or -1. */
static int earliest_start(const sc_stop *s, int arrival)
{
    for (int i = 0; i < s->allowed.n; i++) {
        int st = arrival > s->allowed.s[i].start ? arrival : s->allowed.s[i].start;
        if (st + s->duration <= s->allowed.s[i].end)
            return st;
    }
    return -1;
}

/* The latest start >= lo whose end is <= end_by, or -1. */
static int latest_start(const sc_stop *s, int end_by, int lo)
{
    for (int i = s->allowed.n - 1; i >= 0; i--) {
        int e = end_by < s->allowed.s[i].end ? end_by : s->allowed.s[i].end;
        int st = e - s->duration;
        if (st >= s->allowed.s[i].start && st >= lo)
            return st;
    }
    return -1;
}

/* Forward pass: earliest starts into starts (may be NULL); returns the
 * return-home time or -1; *travel gets the travel minutes. */
static int forward(const sc_route_ctx *ctx, const sc_stop *stops, const int *order, int n,
                   int *starts, int *travel)
{
    int t = ctx->day_start, loc = ctx->home, tr = 0;
    for (int k = 0; k < n; k++) {
        const sc_stop *s = &stops[order[k]];
        int d = tt(ctx, loc, s->loc);
        int st = earliest_start(s, t + d);
        if (st < 0)
            return -1;
        if (starts)
            starts[k] = st;
        tr += d;
        t = st + s->duration;
        loc = s->loc;
    }
    int d = n ? tt(ctx, loc, ctx->home) : 0;
    if (t + d > ctx->day_end)
        return -1;
    if (travel)
        *travel = tr + d;
    return t + d;
}

int sc_route_finish(const sc_route_ctx *ctx, const sc_stop *stops, const int *order, int n)
{
    return forward(ctx, stops, order, n, NULL, NULL);
}

int sc_route_eval(const sc_route_ctx *ctx, const sc_stop *stops, const int *order, int n,
                  sc_route *out)
{
    int early[SC_ROUTE_MAX], travel = 0;
    if (n > SC_ROUTE_MAX)
        return -1;
    int finish = forward(ctx, stops, order, n, early, &travel);
    if (finish < 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->finish = finish;
    out->travel = travel;
    if (n == 0) {
        out->depart = out->finish = ctx->day_start;
        return 0;
    }
    int end_by = finish - tt(ctx, stops[order[n - 1]].loc, ctx->home), busy = 0;
    for (int k = n - 1; k >= 0; k--) {
        const sc_stop *s = &stops[order[k]];
        int st = latest_start(s, end_by, early[k]);
        out->order[k] = order[k];
        out->start[k] = st >= 0 ? st : early[k];
        busy += s->duration;
        int prev = k ? stops[order[k - 1]].loc : ctx->home;
        end_by = out->start[k] - tt(ctx, prev, s->loc);
    }
    out->depart = out->start[0] - tt(ctx, ctx->home, stops[order[0]].loc);
    out->idle = out->finish - out->depart - travel - busy;
    return 0;
}

/* ---- exact: DP over (subset, last stop) ---- */

typedef struct {
    int *time;               /* earliest end of service at last, INF_TIME when unreachable */
    int *travel;             /* travel so far (tie-break) */
    signed char *parent;     /* previous last stop, -1 for the first */
} dp_tables;

static int dp_alloc(dp_tables *t, size_t cells)
{
    t->time = malloc(cells * sizeof *t->time);
    t->travel = malloc(cells * sizeof *t->travel);
    t->parent = malloc(cells);
    if (!t->time || !t->travel || !t->parent)
        return -1;
    for (size_t i = 0; i < cells; i++)
        t->time[i] = INF_TIME;
    return 0;
}

static void dp_free(dp_tables *t)
{
    free(t->time);
    free(t->travel);
    free(t->parent);
}

static bool better(int time, int travel, int old_time, int old_travel)
{
    return time < old_time || (time == old_time && travel < old_travel);
}

static void dp_extend(const sc_route_ctx *ctx, const sc_stop *stops, int n, dp_tables *t,
                      unsigned mask, int last)
{
    size_t cell = (size_t)mask * (size_t)n + (size_t)last;
    int now = t->time[cell];
    for (int j = 0; j < n; j++) {
        if (mask & (1u << j))
            continue;
        int d = tt(ctx, stops[last].loc, stops[j].loc);
        int st = earliest_start(&stops[j], now + d);
        if (st < 0 || st + stops[j].duration + tt(ctx, stops[j].loc, ctx->home) > ctx->day_end)
            continue;
        size_t next = (size_t)(mask | (1u << j)) * (size_t)n + (size_t)j;
        int end = st + stops[j].duration, trav = t->travel[cell] + d;
        if (better(end, trav, t->time[next], t->travel[next])) {
            t->time[next] = end;
            t->travel[next] = trav;
            t->parent[next] = (signed char)last;
        }
    }
}

int sc_route_exact(const sc_route_ctx *ctx, const sc_stop *stops, int n, sc_route *out)
{
    if (n > SC_ROUTE_EXACT_LIMIT || n < 0)
        return -1;
    if (n == 0)
        return sc_route_eval(ctx, stops, NULL, 0, out);
    size_t cells = ((size_t)1 << n) * (size_t)n;
    dp_tables t;
    if (dp_alloc(&t, cells) != 0) {
        dp_free(&t);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int d = tt(ctx, ctx->home, stops[i].loc);
        int st = earliest_start(&stops[i], ctx->day_start + d);
        size_t cell = ((size_t)1 << i) * (size_t)n + (size_t)i;
        if (st >= 0) {
            t.time[cell] = st + stops[i].duration;
            t.travel[cell] = d;
            t.parent[cell] = -1;
        }
    }
    for (unsigned mask = 1; mask < (1u << n); mask++)
        for (int last = 0; last < n; last++)
            if ((mask & (1u << last)) && t.time[(size_t)mask * n + last] != INF_TIME)
                dp_extend(ctx, stops, n, &t, mask, last);
    unsigned full = (1u << n) - 1;
    int best = -1, best_time = INF_TIME, best_travel = INF_TIME;
    for (int last = 0; last < n; last++) {
        size_t cell = (size_t)full * n + last;
        if (t.time[cell] == INF_TIME)
            continue;
        int d = tt(ctx, stops[last].loc, ctx->home);
        if (t.time[cell] + d <= ctx->day_end &&
            better(t.time[cell] + d, t.travel[cell] + d, best_time, best_travel)) {
            best = last;
            best_time = t.time[cell] + d;
            best_travel = t.travel[cell] + d;
        }
    }
    int order[SC_ROUTE_EXACT_LIMIT];
    unsigned mask = full;
    for (int k = n - 1, cur = best; k >= 0 && cur >= 0; k--) {
        order[k] = cur;
        int prev = t.parent[(size_t)mask * n + cur];
        mask &= ~(1u << cur);
        cur = prev;
    }
    dp_free(&t);
    return best < 0 ? -1 : sc_route_eval(ctx, stops, order, n, out);
}

/* ---- heuristic: insertion, then moves while they help ---- */

static int key_deadline(const sc_stop *s)
{
    return s->allowed.n ? s->allowed.s[s->allowed.n - 1].end - s->duration : 0;
}

static int key_open(const sc_stop *s)
{
    return s->allowed.n ? s->allowed.s[0].start : 0;
}

/* Insertion sort of idx by key (n is small). */
static void sort_by(const sc_stop *stops, int *idx, int n, int (*key)(const sc_stop *))
{
    for (int i = 1; i < n; i++) {
        int v = idx[i], k = key(&stops[v]), j = i - 1;
        while (j >= 0 && key(&stops[idx[j]]) > k) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = v;
    }
}

/* Cost of an order: return time, then travel; INT_MAX when infeasible. */
static long long cost(const sc_route_ctx *ctx, const sc_stop *stops, const int *order, int n)
{
    int travel = 0, f = forward(ctx, stops, order, n, NULL, &travel);
    return f < 0 ? LLONG_MAX : (long long)f * 4096 + travel;
}

static void insert_at(int *order, int n, int pos, int v)
{
    memmove(order + pos + 1, order + pos, (size_t)(n - pos) * sizeof *order);
    order[pos] = v;
}

/* Cheapest feasible insertion of the stops in idx order. 0 or -1. */
static int build(const sc_route_ctx *ctx, const sc_stop *stops, const int *idx, int n,
                 int *order)
{
    for (int k = 0; k < n; k++) {
        long long best = LLONG_MAX;
        int best_pos = -1;
        for (int pos = 0; pos <= k; pos++) {
            insert_at(order, k, pos, idx[k]);
            long long c = cost(ctx, stops, order, k + 1);
            if (c < best) {
                best = c;
                best_pos = pos;
            }
            memmove(order + pos, order + pos + 1, (size_t)(k - pos) * sizeof *order);
        }
        if (best_pos < 0)
            return -1;
        insert_at(order, k, best_pos, idx[k]);
    }
    return 0;
}

/* Moves one stop elsewhere, or swaps two, while that lowers the cost. */
static void improve(const sc_route_ctx *ctx, const sc_stop *stops, int *order, int n)
{
    long long cur = cost(ctx, stops, order, n);
    for (int pass = 0, changed = 1; changed && pass < 64; pass++) {
        changed = 0;
        int trial[SC_ROUTE_MAX];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                if (i == j)
                    continue;
                memcpy(trial, order, (size_t)n * sizeof *order);
                int v = trial[i];
                memmove(trial + i, trial + i + 1, (size_t)(n - i - 1) * sizeof *trial);
                insert_at(trial, n - 1, j, v);
                long long c = cost(ctx, stops, trial, n);
                if (c >= cur) {
                    memcpy(trial, order, (size_t)n * sizeof *order);
                    trial[i] = order[j];
                    trial[j] = order[i];
                    c = cost(ctx, stops, trial, n);
                }
                if (c < cur) {
                    memcpy(order, trial, (size_t)n * sizeof *order);
                    cur = c;
                    changed = 1;
                }
            }
    }
}

int sc_route_heuristic(const sc_route_ctx *ctx, const sc_stop *stops, int n, sc_route *out)
{
    if (n > SC_ROUTE_MAX || n < 0)
        return -1;
    int (*keys[2])(const sc_stop *) = {key_deadline, key_open};
    int best[SC_ROUTE_MAX];
    long long best_cost = LLONG_MAX;
    for (int k = 0; k < 2; k++) {
        int idx[SC_ROUTE_MAX], order[SC_ROUTE_MAX];
        for (int i = 0; i < n; i++)
            idx[i] = i;
        sort_by(stops, idx, n, keys[k]);
        if (build(ctx, stops, idx, n, order) != 0)
            continue;
        improve(ctx, stops, order, n);
        long long c = cost(ctx, stops, order, n);
        if (c < best_cost) {
            best_cost = c;
            memcpy(best, order, (size_t)n * sizeof *order);
        }
    }
    return best_cost == LLONG_MAX ? -1 : sc_route_eval(ctx, stops, best, n, out);
}

int sc_route_solve(const sc_route_ctx *ctx, const sc_stop *stops, int n, int exact_max,
                   sc_route *out)
{
    if (n <= exact_max && n <= SC_ROUTE_EXACT_LIMIT)
        return sc_route_exact(ctx, stops, n, out);
    return sc_route_heuristic(ctx, stops, n, out);
}
