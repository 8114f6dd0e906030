/* route.h: one day's route. Given the rep's home, a travel-time matrix and
 * a set of stops (each a place, a duration and the spans of the day the
 * whole stop must fit in), find the visiting order and start times that
 * bring the rep home earliest, i.e. that minimise travel plus waiting
 * from the start of the working day.
 *
 * sc_route_exact is exact (dynamic programming over subsets and the last
 * stop, keeping the earliest feasible time, which is optimal because an
 * earlier arrival can always wait); sc_route_heuristic is an insertion
 * plus local-search heuristic for larger days. Both report times shifted
 * as late as the chosen order allows, so the rep leaves home as late as
 * possible and idle time is the waiting between departure and return.
 *
 * Pure code: no I/O, no globals. Memory: the caller owns every array. */
#ifndef SCHED_ROUTE_H
#define SCHED_ROUTE_H

#include "hours.h"

#define SC_ROUTE_MAX 24          /* stops in one day */
#define SC_ROUTE_EXACT_LIMIT 16  /* sc_route_exact refuses more stops */

typedef struct {
    int nloc;
    const int *travel;      /* nloc x nloc minutes, row-major; [i][i] = walking inside a site */
    int home;               /* location where the day starts and ends */
    int day_start, day_end; /* leave home at or after day_start, back by day_end */
} sc_route_ctx;

typedef struct {
    int loc;                /* index in the travel matrix */
    int duration;           /* minutes */
    sc_spans allowed;       /* the stop's [start, start + duration) must fit inside one span */
} sc_stop;

typedef struct {
    int n;
    int order[SC_ROUTE_MAX];   /* stop indexes in visiting order */
    int start[SC_ROUTE_MAX];   /* start minute of order[k] */
    int depart, finish;        /* leave home, back home */
    int travel, idle;          /* minutes */
} sc_route;

/* Schedules stops in the given order as early as possible, then shifts
 * it late. 0 and out filled, or -1 when the order is infeasible. */
int sc_route_eval(const sc_route_ctx *ctx, const sc_stop *stops, const int *order, int n,
                  sc_route *out);

/* The earliest return home of the order, or -1 when infeasible (fast path
 * used by the searches). */
int sc_route_finish(const sc_route_ctx *ctx, const sc_stop *stops, const int *order, int n);

/* Exact: 0 and the best route, -1 infeasible or n > SC_ROUTE_EXACT_LIMIT. */
int sc_route_exact(const sc_route_ctx *ctx, const sc_stop *stops, int n, sc_route *out);

/* Heuristic: 0 and a route, -1 when it found no feasible order. */
int sc_route_heuristic(const sc_route_ctx *ctx, const sc_stop *stops, int n, sc_route *out);

/* Exact when n <= exact_max, else heuristic. */
int sc_route_solve(const sc_route_ctx *ctx, const sc_stop *stops, int n, int exact_max,
                   sc_route *out);

#endif
