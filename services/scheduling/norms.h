/* norms.h: the visit norms of DOMAIN.md 3.1-3.3 as data, and attainment
 * (3.5) computed from calls.
 *
 * Norms come from the configuration section [scheduling] refined by
 * scopes ("team:ONC", "region:north", "product:P1"): see sc_norms_load
 * for every key and its default. Customers fall into classes: a
 * prescriber's class is its segment ("A".."D", "none" without one); a
 * non-prescriber's class is group.<group> (e.g. group.storekeeper =
 * np_support). Classes are listed most important first in `classes`:
 * that order is the order in which capacity is given, and the reverse is
 * the order in which norms are sacrificed (D before C before B before A).
 *
 * Loading reads an immutable mr_config (no I/O); attainment is pure. */
#ifndef SCHED_NORMS_H
#define SCHED_NORMS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define SC_CLASSES_MAX 12
#define SC_CLASS_NAME_MAX 24

typedef struct {
    char name[SC_CLASS_NAME_MAX];
    double calls_per_month;      /* per customer called; 0 = as needed */
    double coverage_month;       /* share of the class's customers called in the month */
    double coverage_quarter;     /* share called in the quarter */
    bool high_value;             /* counts as A/B for match and the pace check */
    char objectives[256];        /* a planned call's objectives, "a | b | c" */
} sc_class_norm;

typedef struct {
    sc_class_norm cls[SC_CLASSES_MAX];
    int ncls;                    /* most important first */
    int calls_per_day_min;       /* ONC 10, others 12 */
    int calls_per_day_max;       /* 15 */
    int call_minutes;            /* planned call length, 15..30 */
    int call_minutes_min, call_minutes_max;
    int calls_per_week_per_customer;   /* routine: 1 */
    int conflict_days;           /* no second call on a customer within N days */
    int pims_per_week;           /* 1 */
    int pim_minutes;             /* 35 */
    int pim_start;               /* minute of day */
    int day_start, day_end;      /* working day, minutes */
    int same_site_minutes;       /* walking between departments of one hospital */
    double speed_kmh;            /* travel speed model */
    double road_factor;          /* road distance / straight-line distance */
    int route_exact_max;         /* exact day routes up to this many stops */
    int min_objectives;          /* a call report needs at least this many */
    int backdate_days;           /* a call may be reported this many days late */
    double pace_tolerance;       /* behind pace when the projection is below norm x this */
    int talks_per_event;         /* one-to-one talks planned around a PIM or meeting; 0: the rule is off */
    int talk_minutes;            /* a planned talk's length */
    int talk_minutes_min;        /* a reported talk may be this short */
    int talk_window;             /* a talk counts as a call within this many minutes of the event */
    int moment_slack;            /* extra travel + idle minutes a day accepted to call in good moments */
    int day_groups;              /* hospital groups the field days take in turn; 0: the field days
                                    of the fullest week of the horizon */
    int detour_calls;            /* a hospital visit of at most this many calls is moved to other days */
    int improve_passes;          /* passes of the month's travel improvement (0: none) */
    int plan_starts;             /* plans tried with different day groups; the best is kept */
    char group_class[16][2][SC_CLASS_NAME_MAX];  /* non-prescriber group -> class */
    int ngroups;
} sc_norms;

/* Fills out from [scheduling] with scopes (NULL-terminated, may be NULL).
 * Keys (defaults in brackets):
 *   classes [A,B,np_support,np_leadership,C,D,np_as_needed,none]
 *   <class>.calls_per_month, <class>.coverage_month, <class>.coverage_quarter,
 *   <class>.high_value                 (DOMAIN.md 3.1/3.2)
 *   <class>.objectives = a | b | c     (a planned call's objectives; defaults from
 *                                      the segment strategies of DOMAIN.md 2.1)
 *   group.<group> = <class>            (non-prescriber groups of 3.2)
 *   calls_per_day_min [12; ONC 10 through [scheduling@team:ONC]]
 *   calls_per_day_max [15], call_minutes [20], call_minutes_min [15],
 *   call_minutes_max [30], calls_per_week_per_customer [1],
 *   conflict_days [4], pims_per_week [1], pim_minutes [35], pim_start [12:00],
 *   day_start [08:00], day_end [18:00], same_site_minutes [5],
 *   speed_kmh [30], road_factor [1.3], route_exact_max [10],
 *   min_objectives [3], backdate_days [3], pace_tolerance [1.0],
 *   talks_per_event [2], talk_minutes [10], talk_minutes_min [5],
 *   talk_window [30], moment_slack [20],
 *   day_groups [0], detour_calls [6], improve_passes [2], plan_starts [3]
 * Returns 0, or -1 with a message naming the key in err. */
int sc_norms_load(const mr_config *cfg, const char *const *scopes, sc_norms *out, char *err,
                  size_t errcap);

/* The norms with every default (tests, the bench). */
void sc_norms_defaults(sc_norms *out, bool onc_team);

/* The class index of a customer: prescribers by segment (NULL or "" is
 * "none"), non-prescribers by group. -1 when the class is unknown. */
int sc_norms_class_of(const sc_norms *n, bool prescriber, const char *segment, const char *group);
int sc_norms_class_index(const sc_norms *n, const char *name);

/* ---- Attainment (DOMAIN.md 3.5) ----
 * Counting rules: a call is done when its report was submitted; planned
 * when it is scheduled in the period (done calls were planned too, unless
 * added unplanned); coverage counts customers with at least one done call
 * in the period among the class's customers; frequency is done calls per
 * customer of the class divided by the class's calls_per_month scaled to
 * the period's share of a month; adherence is done planned calls divided
 * by planned calls whose time has passed; call rate is done calls per
 * elapsed field day; match is the share of done calls that went to high
 * value classes divided by the share the norms ask for (1 = in proportion). */

typedef struct {
    int cls;                     /* class of the customer */
    int customer;                /* customer index */
    bool done;
    bool planned;                /* it was in the plan (not added unplanned) */
    bool past;                   /* its time has passed */
} sc_att_call;

typedef struct {
    int customers;               /* in the class */
    int covered;                 /* with a done call */
    int done_calls;
    double coverage;             /* covered / customers */
    double frequency;            /* done calls per customer / norm */
} sc_att_class;

typedef struct {
    sc_att_class cls[SC_CLASSES_MAX];
    int done, planned, planned_past, done_planned;
    double adherence, call_rate, match;
} sc_attainment;

/* customer_cls[i] is the class of customer i (ncust of them); month_share
 * is the period's length in months (1 for a month, 0.25 for a week);
 * field_days_elapsed the field days passed in the period. */
void sc_attainment_compute(const sc_norms *n, const int *customer_cls, int ncust,
                           const sc_att_call *calls, int ncalls, double month_share,
                           int field_days_elapsed, sc_attainment *out);

/* Pace: `achieved` of `required` (calls of a class) after `elapsed` of
 * `total` field days. True when the month's projection at the same pace
 * falls below required x tolerance. *expected gets elapsed/total (the
 * share that should be reached by now), *actual achieved/required. */
bool sc_behind_pace(double required, double achieved, int elapsed, int total, double tolerance,
                    double *expected, double *actual);

#endif
