/* planner.h: the call planner, a pure core (no I/O, no clock, no globals).
 *
 * Generic input: visits (each with a place, a class, a duration, weekly
 * windows, peak hours to avoid and a target number of calls), places with
 * a travel-time matrix and opening hours, and a horizon of days (field
 * day or not, time off, blocked hours, week numbers). Calls already done,
 * pinned, or added by hand are `fixed`: they stay where they are, count
 * towards their visit's target, and days before from_day are never
 * changed (replanning the rest of a cycle).
 *
 * sc_plan_targets turns the norms into per-visit targets for one norm
 * period (a month cycle): which customers of each class to call and how
 * often (coverage and calls a month), customers not yet called in the
 * quarter first; when the rep's capacity cannot hold every target it
 * drops the least important classes first (the order of norms->cls, so D
 * before C before B before A); when the targets leave days under the
 * minimum calls a day it adds calls, most important classes first.
 *
 * sc_plan_make then builds the month: hospitals are ordered in a short
 * tour and cut into as many groups as there are field days in a week
 * (norms->day_groups, or the open days of the fullest week),
 * field days take the groups in turn (the day-to-hospital assignment),
 * each day takes the most urgent and most important calls of its group
 * (filling up from the nearest other hospitals), respecting once a week
 * per customer, the conflict rule, windows, opening hours, peak hours,
 * time off and blocks; one PIM a week is reserved; each day is routed
 * (route.h) and calls that do not fit are retried on other days. Calls
 * a day is a rule for each open day, not an average: days left below
 * calls_per_day_min take calls from days above it, the cheapest move
 * first. Then, to drive less, norms->improve_passes rounds of a local
 * search over the month, each move kept only when the month's travel
 * drops and every rule of the visits still holds: a hospital visited for
 * a few calls (up to norms->detour_calls) on a day gives them to other
 * days already at that hospital; a day that goes back to a hospital it
 * left (a zig-zag forced by windows) gives one of its runs there to such
 * days. No move leaves a day below calls_per_day_min (a day already
 * below it, e.g. a half day off, loses no call) nor puts one above
 * calls_per_day_max: a day that gives calls away takes as many back from
 * days above the minimum when the month still drives less, or else
 * swaps the calls one by one with calls of those days at hospitals it
 * visits anyway (moves are costed by cheap insertion into the days'
 * current routes). Last, each
 * day's route is solved again and redrawn where that drives less (in
 * blocks per hospital: one block, or a morning and an afternoon round;
 * then runs of one to three stops moved elsewhere in the day). The whole
 * month is planned norms->plan_starts times, with the cheapest, second
 * cheapest... cut of the hospital tour into groups, and the plan meeting
 * most norms, then driving least, is kept.
 * sc_plan_check reports which norms fall short and by how much, least
 * important class first.
 *
 * Events: a PIM or a meeting (a fixed stop of kind SC_KIND_MEETING or
 * SC_KIND_PIM) takes up to norms->talks_per_event one-to-one talks with
 * customers of its hospital, each talk_minutes long within talk_window
 * minutes before or after it (DOMAIN.md 3.3: such talks count as calls),
 * most important classes first. Good moments (a visit's `moments`, the
 * department's morning handover, after rounds...) are soft: once a day is
 * planned, its calls are moved into their moments where the day still
 * routes with at most norms->moment_slack more travel and idle minutes,
 * most important classes first.
 *
 * sc_plan_naive is the baseline of the bench:
 * customers by class, nearest hospital next, greedy days, no routing. */
#ifndef SCHED_PLANNER_H
#define SCHED_PLANNER_H

#include <limits.h>
#include <stdbool.h>

#include "hours.h"
#include "norms.h"
#include "route.h"

#define SC_NO_DAY INT_MIN

typedef struct {
    int loc;                     /* its hospital: index in the travel matrix */
    int cls;                     /* norms class; -1: never planned */
    int duration;                /* minutes; 0: norms->call_minutes */
    sc_week_hours windows;       /* preferred windows (.any: none given) */
    sc_week_hours peak;          /* peak clinic hours to avoid (.any: none) */
    int target;                  /* calls wanted in the horizon, fixed ones included */
    bool called_in_quarter;      /* called earlier in the quarter, before the horizon */
    int last_call_day;           /* day index (negative) of its last call before the horizon, or SC_NO_DAY */
    sc_week_hours moments;       /* good times (its department's meeting moments): a soft
                                    preference; no span on a weekday = no preference */
} sc_visit;

typedef struct {
    bool field;                  /* a field day of the calendar */
    bool off;                    /* the rep is away all day */
    int weekday;                 /* 0 = Sunday */
    int week;                    /* week number (monotone), for the per-week rules */
    sc_spans blocked;            /* hours without calls: time off, meetings */
} sc_day;

/* A meeting (from the meetings service) is a fixed stop at its hospital:
 * the route drives to it and away from it like any other stop. */
typedef enum { SC_KIND_CALL = 0, SC_KIND_PIM = 1, SC_KIND_MEETING = 2 } sc_kind;

typedef struct {
    int visit;                   /* index in visits; -1 for a PIM or meeting */
    int loc;
    int day, start, duration;    /* start in minutes of the local day */
    sc_kind kind;
    bool fixed;                  /* done, pinned or added: it does not move */
    bool any_time;               /* fixed to its day only: the planner picks the time */
    int tag;                     /* the caller's handle of a fixed call, copied through; -1 else */
    bool talk;                   /* a one-to-one talk next to a PIM or meeting (counts as a call) */
} sc_call;

typedef struct {
    int nloc;
    const int *travel;           /* nloc x nloc minutes */
    int home;                    /* the rep's home base location */
    const sc_week_hours *opening;/* per location, NULL: always open */
    sc_visit *visits;            /* targets are written by sc_plan_targets */
    int nvisits;
    const sc_day *days;
    int ndays;
    int from_day;                /* days before are history */
    const sc_call *fixed;
    int nfixed;
    const sc_call *excluded;     /* (visit, day) pairs never to plan: cancelled calls */
    int nexcluded;
    bool quarter_ends;           /* the horizon closes the quarter */
    const sc_norms *norms;
} sc_problem;

typedef struct {
    char norm[48];               /* "D.coverage_month", "A.calls_per_month", "calls_per_day", ... */
    double required, planned;
} sc_shortfall;

#define SC_SHORTFALLS_MAX 48

typedef struct {
    sc_call *calls;              /* owned (sc_plan_free); sorted by day and start */
    int ncalls, cap;
    sc_shortfall shortfalls[SC_SHORTFALLS_MAX];
    int nshortfalls;
    int norms_checked, norms_met;
    int travel, idle;            /* minutes over the planned days */
    int days_routed;
    int moment_calls;            /* calls on a day when their customer has a good moment */
    int moment_met;              /* of them, calls placed inside a good moment */
    int talks;                   /* one-to-one talks planned next to PIMs and meetings */
    int days_below_min;          /* open days with fewer than calls_per_day_min calls */
    int calls_below_min;         /* the calls those days lack to reach the minimum */
    int days_above_max;          /* open days with more than calls_per_day_max calls */
} sc_plan;

/* Sets every visit's target from the norms (see above). 0 or -1 on bad input. */
int sc_plan_targets(sc_problem *p);

/* Plans days from_day.. ; out gets every call of the horizon (fixed ones
 * included) and its shortfalls. 0, or -1 on bad input / out of memory. */
int sc_plan_make(const sc_problem *p, sc_plan *out);

/* The baseline: same targets, greedy. 0 or -1. */
int sc_plan_naive(const sc_problem *p, sc_plan *out);

/* Fills out->shortfalls and the norm counters from out->calls: per
 * class (least important first), then calls_per_day (the average),
 * days_at_calls_per_day_min and days_within_calls_per_day_max (required:
 * the open days; planned: the days that keep the rule; the counts also in
 * days_below_min, calls_below_min, days_above_max) and pims_per_week. */
void sc_plan_check(const sc_problem *p, sc_plan *out);

void sc_plan_free(sc_plan *plan);

/* The quarter's targets: for each class the customers to call this
 * quarter (coverage_quarter of them, those already called first) and how
 * often (3 x calls_per_month, at least 1). cls and done are per visit;
 * target (out) is 0 for visits not targeted. */
void sc_quarter_targets(const sc_norms *n, const int *cls, const int *done, int nvisits, int *target);

/* The spans of day d in which visit v may be called (windows, opening
 * hours, working day, minus peak hours and the day's blocks). */
void sc_visit_spans(const sc_problem *p, int v, int d, sc_spans *out);

/* Travel minutes between two points from the speed model. */
int sc_travel_minutes(double lat1, double lon1, double lat2, double lon2, double speed_kmh,
                      double road_factor);

#endif
