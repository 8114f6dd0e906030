/* settings.c: reads the grading configuration (see settings.h), scoped
 * per product and region, checking every value's range. */
#include "settings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const mr_config *cfg;
    const char *section;
    const char *scopes[3];
    char scope_buf[2][96];
    char *err;
    size_t errcap;
    int failed;
} lookup;

static void lookup_init(lookup *l, const mr_config *cfg, const char *section, const char *region,
                        const char *product, char *err, size_t errcap)
{
    memset(l, 0, sizeof *l);
    l->cfg = cfg;
    l->section = section;
    l->err = err;
    l->errcap = errcap;
    int n = 0;
    if (product && product[0]) {
        snprintf(l->scope_buf[0], sizeof l->scope_buf[0], "product:%s", product);
        l->scopes[n++] = l->scope_buf[0];
    }
    if (region && region[0]) {
        snprintf(l->scope_buf[1], sizeof l->scope_buf[1], "region:%s", region);
        l->scopes[n++] = l->scope_buf[1];
    }
    l->scopes[n] = NULL;
}

static void dbl(lookup *l, const char *key, double min, double max, double *out)
{
    const char *t = mr_config_scoped(l->cfg, l->section, key, l->scopes);
    if (!t || l->failed)
        return;
    char *end;
    double v = strtod(t, &end);
    if (end == t || *end || !isfinite(v) || v < min || v > max) {
        snprintf(l->err, l->errcap, "[%s] %s = '%s' must be a number from %g to %g", l->section,
                 key, t, min, max);
        l->failed = 1;
        return;
    }
    *out = v;
}

static void integer(lookup *l, const char *key, int min, int max, int *out)
{
    double v = *out;
    dbl(l, key, min, max, &v);
    if (!l->failed && v != floor(v)) {
        snprintf(l->err, l->errcap, "[%s] %s must be a whole number", l->section, key);
        l->failed = 1;
    }
    *out = (int)v;
}

/* A choice between two words: *out = (value == yes). */
static void choice(lookup *l, const char *key, const char *yes, const char *no, bool *out)
{
    const char *t = mr_config_scoped(l->cfg, l->section, key, l->scopes);
    if (!t || l->failed)
        return;
    if (strcmp(t, yes) == 0 || strcmp(t, no) == 0) {
        *out = strcmp(t, yes) == 0;
        return;
    }
    snprintf(l->err, l->errcap, "[%s] %s = '%s' must be %s or %s", l->section, key, t, yes, no);
    l->failed = 1;
}

static void risk(lookup *l, const char *key, int *out)
{
    const char *t = mr_config_scoped(l->cfg, l->section, key, l->scopes);
    if (!t || l->failed)
        return;
    int v = sc_risk_level(t);
    if (v < 0) {
        snprintf(l->err, l->errcap, "[%s] %s = '%s' must be low, medium or high", l->section, key, t);
        l->failed = 1;
        return;
    }
    *out = v;
}

int sc_settings_grade(const mr_config *cfg, const char *region, const char *product,
                      sc_grade_cfg *out, char *err, size_t errcap)
{
    lookup l;
    lookup_init(&l, cfg, "scoring", region, product, err, errcap);
    sc_grade_cfg_default(out);
    integer(&l, "months", 1, SC_MAX_MONTHS, &out->months);
    choice(&l, "potential_measure", "patients", "market", &out->potential_by_patients);
    choice(&l, "potential_threshold", "percentile", "absolute", &out->potential_percentile);
    dbl(&l, "potential_percentile", 0, 100, &out->potential_pct);
    dbl(&l, "potential_absolute", 0, 1e12, &out->potential_abs);
    choice(&l, "support_measure", "share", "absolute", &out->support_by_share);
    dbl(&l, "support_share", 0, 1, &out->support_share);
    dbl(&l, "support_absolute", 0, 1e12, &out->support_abs);
    dbl(&l, "status_share_2", 0, 1, &out->status_share[2]);
    dbl(&l, "status_share_3", 0, 1, &out->status_share[3]);
    dbl(&l, "status_share_4", 0, 1, &out->status_share[4]);
    integer(&l, "prelisting_status", -4, -2, &out->prelisting_status);
    integer(&l, "potential_buckets", 1, 100, &out->potential_buckets);
    integer(&l, "strategic_min_potential_score", 0, 100, &out->strategic_min_score);
    integer(&l, "growth_min_potential_score", 0, 100, &out->growth_min_score);
    risk(&l, "speaker_bar_risk", &out->speaker_bar_risk);
    if (!l.failed && !(out->status_share[2] <= out->status_share[3] &&
                       out->status_share[3] <= out->status_share[4])) {
        snprintf(err, errcap, "[scoring] status_share_2 <= status_share_3 <= status_share_4 must hold");
        l.failed = 1;
    }
    return l.failed ? -1 : 0;
}

int sc_settings_hospital(const mr_config *cfg, const char *region, const char *product,
                         sc_hospital_cfg *out, char *err, size_t errcap)
{
    lookup l;
    lookup_init(&l, cfg, "hospital_grade", region, product, err, errcap);
    sc_hospital_cfg_default(out);
    dbl(&l, "weight_beds", 0, 1e6, &out->w_beds);
    dbl(&l, "weight_tier", 0, 1e6, &out->w_tier);
    dbl(&l, "weight_outpatient", 0, 1e6, &out->w_outpatient);
    dbl(&l, "weight_usage", 0, 1e6, &out->w_usage);
    dbl(&l, "weight_competition", 0, 1e6, &out->w_competition);
    dbl(&l, "beds_full", 1e-9, 1e9, &out->beds_full);
    dbl(&l, "outpatient_full", 1e-9, 1e9, &out->outpatient_full);
    dbl(&l, "usage_full", 1e-9, 1e12, &out->usage_full);
    dbl(&l, "competitors_full", 1e-9, 1e6, &out->competitors_full);
    dbl(&l, "cut_a", 0, 100, &out->cut_a);
    dbl(&l, "cut_b", 0, 100, &out->cut_b);
    if (!l.failed && out->cut_b > out->cut_a) {
        snprintf(err, errcap, "[hospital_grade] cut_b must not exceed cut_a");
        l.failed = 1;
    }
    return l.failed ? -1 : 0;
}
