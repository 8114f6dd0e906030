/* grade.c: the pure grading core (see grade.h). Every decision here is a
 * comparison with a configured number; the explanation says which. */
#include "grade.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void sc_grade_cfg_default(sc_grade_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->months = 3;
    cfg->potential_percentile = true;
    cfg->potential_pct = 50;
    cfg->support_by_share = true;
    cfg->support_share = 0.20;
    cfg->status_share[2] = 0.10;
    cfg->status_share[3] = 0.25;
    cfg->status_share[4] = 0.50;
    cfg->prelisting_status = -3;
    cfg->potential_buckets = 5;
    cfg->strategic_min_score = 3;
    cfg->growth_min_score = 2;
    cfg->speaker_bar_risk = 2;
}

/* ---- Monthly means ---- */

/* Index of the i-th latest distinct month in m (months compared as text,
 * which orders "YYYY-MM" correctly); the later entry of a duplicate wins. */
static bool is_latest_entry_of_month(const sc_month *m, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++)
        if (strcmp(m[j].month, m[i].month) == 0)
            return false;
    return true;
}

sc_means sc_means_of(const sc_month *m, size_t n, int last)
{
    sc_means out = {.patients = -1};
    char bound[8] = "";      /* months taken so far are all > bound */
    double patients = 0;
    int with_patients = 0;
    for (int k = 0; k < last; k++) {
        long best = -1;
        for (size_t i = 0; i < n; i++) {
            if (!is_latest_entry_of_month(m, n, i))
                continue;
            if (bound[0] && strcmp(m[i].month, bound) >= 0)
                continue;
            if (best < 0 || strcmp(m[i].month, m[best].month) > 0)
                best = (long)i;
        }
        if (best < 0)
            break;
        memcpy(bound, m[best].month, sizeof bound);
        out.our += m[best].our;
        out.market += m[best].market;
        if (m[best].patients >= 0)
            patients += m[best].patients, with_patients++;
        out.months++;
    }
    if (out.months > 0) {
        out.our /= out.months;
        out.market /= out.months;
    }
    if (with_patients > 0)
        out.patients = patients / with_patients;
    return out;
}

double sc_share(double our, double market)
{
    if (market <= 0)
        return our > 0 ? 1.0 : 0.0;
    double s = our / market;
    return s > 1 ? 1 : (s < 0 ? 0 : s);
}

double sc_potential_value(const sc_grade_cfg *cfg, const sc_means *m)
{
    if (cfg->potential_by_patients)
        return m->patients < 0 ? 0 : m->patients;
    return m->market;
}

void sc_percentile_ranks(double p, long n, long *lo, long *hi, double *frac)
{
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    double r = p / 100.0 * (double)(n - 1);
    *lo = (long)floor(r);
    *hi = *lo + 1 < n ? *lo + 1 : *lo;
    *frac = r - (double)*lo;
}

int sc_potential_score(const sc_grade_cfg *cfg, long below, long total)
{
    if (total <= 0 || below <= 0)
        return 0;
    int buckets = cfg->potential_buckets > 0 ? cfg->potential_buckets : 1;
    int score = (int)((double)below * buckets / (double)total);
    return score >= buckets ? buckets - 1 : score;
}

int sc_risk_level(const char *text)
{
    if (!text)
        return -1;
    if (strcmp(text, "low") == 0)
        return 0;
    if (strcmp(text, "medium") == 0)
        return 1;
    if (strcmp(text, "high") == 0)
        return 2;
    return -1;
}

/* ---- Segment ---- */

static void threshold_name(const sc_grade_cfg *cfg, char *buf, size_t cap)
{
    if (!cfg->potential_percentile)
        snprintf(buf, cap, "threshold");
    else if (cfg->potential_pct == 50)
        snprintf(buf, cap, "region median");
    else
        snprintf(buf, cap, "region p%g", cfg->potential_pct);
}

/* Decides high/low support and writes the support part of the reason. */
static bool support_high(const sc_grade_cfg *cfg, const sc_means *m, char *buf, size_t cap)
{
    if (cfg->support_by_share) {
        double share = sc_share(m->our, m->market);
        bool high = share >= cfg->support_share;
        snprintf(buf, cap, "share %.0f%% %s %.0f%%", share * 100, high ? ">=" : "<",
                 cfg->support_share * 100);
        return high;
    }
    bool high = m->our >= cfg->support_abs;
    snprintf(buf, cap, "our %.4g/month %s %.4g", m->our, high ? ">=" : "<", cfg->support_abs);
    return high;
}

static void grade_segment(const sc_grade_cfg *cfg, const sc_means *m, const sc_region_view *r,
                          sc_grade *out)
{
    double pot = sc_potential_value(cfg, m);
    double threshold = cfg->potential_percentile ? r->threshold : cfg->potential_abs;
    bool pot_high = pot >= threshold;
    char tname[32], sup[80];
    threshold_name(cfg, tname, sizeof tname);
    bool sup_high = support_high(cfg, m, sup, sizeof sup);
    out->segment = pot_high ? (sup_high ? 'A' : 'B') : (sup_high ? 'C' : 'D');
    snprintf(out->segment_reason, sizeof out->segment_reason, "%c: %s %.4g %s %s %.4g; %s",
             out->segment, cfg->potential_by_patients ? "patients/week" : "potential", pot,
             pot_high ? ">=" : "<", tname, threshold, sup);
}

/* ---- Dual score ---- */

int sc_prescription_status(const sc_grade_cfg *cfg, const sc_means *m, const sc_customer_view *c)
{
    if (c->listing == MR_LISTING_APPLIED)
        return -1;
    if (c->listing != MR_LISTING_LISTED)
        return c->stance >= -4 && c->stance <= -2 ? c->stance : cfg->prelisting_status;
    if (m->months == 0 || m->our <= 0)
        return 0;
    double share = sc_share(m->our, m->market);
    for (int s = 4; s >= 2; s--)
        if (share >= cfg->status_share[s])
            return s;
    return 1;
}

/* ---- Key account ---- */

static void grade_key_account(const sc_grade_cfg *cfg, const sc_customer_view *c, sc_grade *out)
{
    int influence = (c->kol || c->guideline_author) ? 2 : (c->opinion_leader ? 1 : 0);
    if (influence == 2 && out->potential_score >= cfg->strategic_min_score)
        snprintf(out->tier, sizeof out->tier, "strategic");
    else if (influence >= 1 && out->potential_score >= cfg->growth_min_score)
        snprintf(out->tier, sizeof out->tier, "growth");
    else
        snprintf(out->tier, sizeof out->tier, "basic");
    out->compliance_risk = c->compliance_risk >= cfg->speaker_bar_risk;
}

static const char *influence_text(const sc_customer_view *c)
{
    if (c->kol)
        return "KOL";
    if (c->guideline_author)
        return "guideline author";
    if (c->opinion_leader)
        return "opinion leader";
    return "no influence";
}

void sc_grade_customer(const sc_grade_cfg *cfg, const sc_means *m, const sc_region_view *region,
                       const sc_customer_view *c, sc_grade *out)
{
    memset(out, 0, sizeof *out);
    out->adoption_stage = c->adoption_stage;
    if (!c->prescriber)
        snprintf(out->segment_reason, sizeof out->segment_reason, "non-prescriber: not segmented");
    else if (m->months == 0)
        snprintf(out->segment_reason, sizeof out->segment_reason, "no segment yet: no prescription data");
    else
        grade_segment(cfg, m, region, out);
    out->status = c->prescriber ? sc_prescription_status(cfg, m, c) : 0;
    out->potential_score = m->months > 0 ? sc_potential_score(cfg, region->below, region->total) : 0;
    grade_key_account(cfg, c, out);
    snprintf(out->explanation, sizeof out->explanation,
             "%s; status %+d (%s); potential score %d; %s (%s)%s; adoption %d",
             out->segment_reason, out->status, mr_listing_name(c->listing), out->potential_score,
             out->tier, influence_text(c), out->compliance_risk ? "; compliance risk: no speaking" : "",
             out->adoption_stage);
}

/* ---- Hospital grade ---- */

void sc_hospital_cfg_default(sc_hospital_cfg *cfg)
{
    *cfg = (sc_hospital_cfg){.w_beds = 0.25, .w_tier = 0.20, .w_outpatient = 0.20,
                             .w_usage = 0.25, .w_competition = 0.10, .beds_full = 1000,
                             .outpatient_full = 3000, .usage_full = 1000,
                             .competitors_full = 5, .cut_a = 70, .cut_b = 40};
}

static double ratio(double v, double full)
{
    if (full <= 0)
        return 0;
    double r = v / full;
    return r > 1 ? 1 : (r < 0 ? 0 : r);
}

void sc_grade_hospital(const sc_hospital_cfg *cfg, const sc_hospital_view *h,
                       sc_hospital_grade *out)
{
    double parts[5] = {ratio(h->beds, cfg->beds_full), ratio(h->tier, 3),
                       ratio(h->outpatient_visits, cfg->outpatient_full),
                       ratio(h->usage, cfg->usage_full),
                       1 - ratio(h->competitors, cfg->competitors_full)};
    double w[5] = {cfg->w_beds, cfg->w_tier, cfg->w_outpatient, cfg->w_usage, cfg->w_competition};
    double sum = 0, wsum = 0;
    for (int i = 0; i < 5; i++)
        sum += w[i] * parts[i], wsum += w[i];
    out->score = wsum > 0 ? 100 * sum / wsum : 0;
    out->grade = out->score >= cfg->cut_a ? 'A' : (out->score >= cfg->cut_b ? 'B' : 'C');
    snprintf(out->explanation, sizeof out->explanation,
             "%c: score %.1f %s (A >= %g, B >= %g); beds %d, tier %d, outpatient %d/day, "
             "usage %.4g/month, %d competitors",
             out->grade, out->score, out->grade == 'C' ? "<" : ">=",
             cfg->cut_a, cfg->cut_b, h->beds, h->tier, h->outpatient_visits, h->usage,
             h->competitors);
}
