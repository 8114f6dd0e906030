/* grade.h: the pure grading core of the scoring service (DOMAIN.md 2).
 *
 * No I/O, no clock, no globals: the shell reads prescription data, the
 * region's distribution and master data, and hands them in; the core
 * decides the segment A-D, the dual score, the key-account tier with the
 * compliance flag, the hospital grade, and writes a one-line explanation
 * a rep understands. Every number is a field of a configuration struct
 * (filled from the [scoring] section, scoped per product and region). */
#ifndef MEDREP_SCORING_GRADE_H
#define MEDREP_SCORING_GRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "masterdata.h"

#define SC_MAX_MONTHS 16   /* at most this many months are averaged */

typedef struct {
    int months;                   /* months in the "monthly" mean (3) */
    bool potential_by_patients;   /* potential = patients a week instead of the market */
    bool potential_percentile;    /* threshold: percentile within the region, else absolute */
    double potential_pct;         /* the percentile (50 = the median) */
    double potential_abs;         /* the absolute threshold */
    bool support_by_share;        /* support = our share, else our prescriptions */
    double support_share;         /* 0.20 */
    double support_abs;           /* our prescriptions a month */
    double status_share[5];       /* [2], [3], [4]: lowest share for status 2, 3, 4 */
    int prelisting_status;        /* before listing without a stance: -3 (indifferent) */
    int potential_buckets;        /* 5: quintiles, score 0 .. buckets-1 */
    int strategic_min_score;      /* key account: potential score for strategic (3) */
    int growth_min_score;         /* and for growth (2) */
    int speaker_bar_risk;         /* 0 low, 1 medium, 2 high: at or above this a customer is flagged */
} sc_grade_cfg;

/* The documented defaults (DOMAIN.md 2.1, 2.2 and the (choice)s). */
void sc_grade_cfg_default(sc_grade_cfg *cfg);

typedef struct {
    char month[8];                /* "YYYY-MM" */
    double our, market, patients; /* patients < 0: not given */
} sc_month;

typedef struct {
    int months;                   /* months averaged; 0 = no data */
    double our, market, patients; /* means; patients < 0 when never given */
} sc_means;

/* Means over the `last` most recent months of m[0..n) (any order; a
 * month given twice counts once, the later entry wins). */
sc_means sc_means_of(const sc_month *m, size_t n, int last);

/* Our share of the therapy area: our/market, 1 when the market is 0 but
 * we have prescriptions, 0 when both are 0; capped at 1. */
double sc_share(double our, double market);

/* The potential value used for thresholds (market or patients). */
double sc_potential_value(const sc_grade_cfg *cfg, const sc_means *m);

/* Where the percentile p (0..100) of n sorted values lies: the value is
 * v[lo] + frac * (v[hi] - v[lo]) (linear interpolation; p = 50 is the
 * usual median). n must be > 0. */
void sc_percentile_ranks(double p, long n, long *lo, long *hi, double *frac);

/* The potential score 0 .. buckets-1 from the number of region values
 * strictly below this one and the region's count. */
int sc_potential_score(const sc_grade_cfg *cfg, long below, long total);

typedef struct {
    bool prescriber;
    bool kol, guideline_author, opinion_leader;
    int compliance_risk;          /* 0 low, 1 medium, 2 high, -1 unknown (low) */
    mr_listing listing;           /* the hospital's listing of the product */
    int stance;                   /* before listing, from call reports: -4..-2, 0 = none */
    int adoption_stage;           /* 0..4 */
} sc_customer_view;

typedef struct {
    double threshold;             /* potential threshold resolved for the region */
    long below, total;            /* region values strictly below this one, and count */
} sc_region_view;

typedef struct {
    char segment;                 /* 'A'..'D', or 0: no segment yet */
    int status;                   /* -4..+4 */
    int potential_score;          /* 0..4 */
    int adoption_stage;
    char tier[12];                /* strategic, growth, basic */
    bool compliance_risk;         /* never proposed as a speaker */
    char segment_reason[160];
    char explanation[400];
} sc_grade;

/* Grades one customer for one product. */
void sc_grade_customer(const sc_grade_cfg *cfg, const sc_means *m, const sc_region_view *region,
                       const sc_customer_view *c, sc_grade *out);

/* The prescription-status score alone (DOMAIN.md 2.2). */
int sc_prescription_status(const sc_grade_cfg *cfg, const sc_means *m, const sc_customer_view *c);

/* "low" 0, "medium" 1, "high" 2, anything else -1. */
int sc_risk_level(const char *text);

/* ---- Hospital grade (DOMAIN.md 2.4) ---- */

typedef struct {
    double w_beds, w_tier, w_outpatient, w_usage, w_competition;   /* weights */
    double beds_full, outpatient_full, usage_full, competitors_full; /* value that scores 1 */
    double cut_a, cut_b;          /* score (0..100) at or above: A, B; else C */
} sc_hospital_cfg;

void sc_hospital_cfg_default(sc_hospital_cfg *cfg);

typedef struct {
    int tier, beds, outpatient_visits;
    double usage;                 /* therapy-area prescriptions a month of its customers */
    int competitors;              /* competing products */
} sc_hospital_view;

typedef struct {
    char grade;                   /* 'A', 'B', 'C' */
    double score;                 /* 0..100 */
    char explanation[256];
} sc_hospital_grade;

void sc_grade_hospital(const sc_hospital_cfg *cfg, const sc_hospital_view *h,
                       sc_hospital_grade *out);

#endif
