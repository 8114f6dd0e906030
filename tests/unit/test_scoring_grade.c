/* test_scoring_grade.c: the pure grading core (services/scoring/grade.c):
 * monthly means over the last months with data, segments exactly at each
 * threshold (percentile and absolute, share and absolute support), a zero
 * market, no data, non-prescribers, the prescription-status score at each
 * share cut and before listing, potential quintiles, the key-account tier
 * and compliance flag, and the hospital grade at its cut-offs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grade.h"

static sc_month month(const char *m, double our, double market, double patients)
{
    sc_month x = {.our = our, .market = market, .patients = patients};
    snprintf(x.month, sizeof x.month, "%s", m);
    return x;
}

static sc_customer_view listed_prescriber(void)
{
    return (sc_customer_view){.prescriber = true, .listing = MR_LISTING_LISTED};
}

static void means_use_the_last_months_with_data(void **state)
{
    (void)state;
    /* unordered, a gap (2026-03 missing), and a duplicate month: later entry wins */
    sc_month m[] = {month("2026-05", 10, 100, -1), month("2026-01", 1000, 1000, -1),
                    month("2026-02", 40, 400, 8), month("2026-04", 0, 50, -1),
                    month("2026-04", 20, 200, 4)};
    sc_means r = sc_means_of(m, 5, 3);
    assert_int_equal(r.months, 3);   /* 2026-05, 2026-04, 2026-02 */
    assert_true(r.our == (10 + 20 + 40) / 3.0);
    assert_true(r.market == (100 + 200 + 400) / 3.0);
    assert_true(r.patients == 6);    /* mean of the months that gave it */
    sc_means one = sc_means_of(m, 1, 3);
    assert_int_equal(one.months, 1);
    assert_true(one.patients < 0);
    sc_means none = sc_means_of(NULL, 0, 3);
    assert_int_equal(none.months, 0);
}

static void share_handles_a_zero_market(void **state)
{
    (void)state;
    assert_true(sc_share(0, 0) == 0);
    assert_true(sc_share(5, 0) == 1);
    assert_true(sc_share(30, 20) == 1);
    assert_true(sc_share(5, 20) == 0.25);
}

static sc_grade grade(const sc_grade_cfg *cfg, double our, double market, double threshold)
{
    sc_means m = {.months = 3, .our = our, .market = market, .patients = -1};
    sc_region_view r = {.threshold = threshold, .below = 5, .total = 10};
    sc_customer_view c = listed_prescriber();
    sc_grade g;
    sc_grade_customer(cfg, &m, &r, &c, &g);
    return g;
}

static void segments_at_the_thresholds(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    /* potential exactly at the median is high; share exactly 20% is high */
    assert_int_equal(grade(&cfg, 36, 180, 180).segment, 'A');
    assert_int_equal(grade(&cfg, 35.99, 180, 180).segment, 'B');
    assert_int_equal(grade(&cfg, 36, 179.99, 180).segment, 'C');
    assert_int_equal(grade(&cfg, 0, 100, 180).segment, 'D');
    sc_grade g = grade(&cfg, 24.72, 412, 180);
    assert_int_equal(g.segment, 'B');
    assert_string_equal(g.segment_reason, "B: potential 412 >= region median 180; share 6% < 20%");
}

static void absolute_thresholds(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    cfg.potential_percentile = false;
    cfg.potential_abs = 200;
    cfg.support_by_share = false;
    cfg.support_abs = 30;
    /* the region's threshold is ignored in absolute mode */
    assert_int_equal(grade(&cfg, 30, 200, 9999).segment, 'A');
    assert_int_equal(grade(&cfg, 29.9, 200, 0).segment, 'B');
    assert_int_equal(grade(&cfg, 30, 199, 0).segment, 'C');
    sc_grade g = grade(&cfg, 10, 100, 0);
    assert_int_equal(g.segment, 'D');
    assert_non_null(strstr(g.segment_reason, "< threshold 200"));
    assert_non_null(strstr(g.segment_reason, "our 10/month < 30"));
    cfg.potential_percentile = true;
    cfg.potential_pct = 75;
    assert_non_null(strstr(grade(&cfg, 1, 1, 5).segment_reason, "region p75 5"));
}

static void zero_market_and_patients_measure(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    /* nothing prescribed at all: low potential (unless the threshold is 0), low support */
    assert_int_equal(grade(&cfg, 0, 0, 10).segment, 'D');
    assert_int_equal(grade(&cfg, 0, 0, 0).segment, 'B');
    cfg.potential_by_patients = true;
    sc_means m = {.months = 3, .our = 50, .market = 100, .patients = 12};
    sc_region_view r = {.threshold = 12, .below = 0, .total = 1};
    sc_customer_view c = listed_prescriber();
    sc_grade g;
    sc_grade_customer(&cfg, &m, &r, &c, &g);
    assert_int_equal(g.segment, 'A');
    assert_non_null(strstr(g.segment_reason, "patients/week 12 >= region median 12"));
}

static void no_data_and_non_prescribers_have_no_segment(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    sc_means none = {.patients = -1};
    sc_region_view r = {.threshold = 10, .below = 0, .total = 10};
    sc_customer_view c = listed_prescriber();
    sc_grade g;
    sc_grade_customer(&cfg, &none, &r, &c, &g);
    assert_int_equal(g.segment, 0);
    assert_int_equal(g.status, 0);
    assert_non_null(strstr(g.explanation, "no segment yet"));
    sc_means m = {.months = 3, .our = 50, .market = 100, .patients = -1};
    c.prescriber = false;
    sc_grade_customer(&cfg, &m, &r, &c, &g);
    assert_int_equal(g.segment, 0);
    assert_non_null(strstr(g.explanation, "non-prescriber"));
}

static int status_for(const sc_grade_cfg *cfg, double our, double market, mr_listing listing, int stance)
{
    sc_means m = {.months = 3, .our = our, .market = market, .patients = -1};
    sc_customer_view c = {.prescriber = true, .listing = listing, .stance = stance};
    return sc_prescription_status(cfg, &m, &c);
}

static void prescription_status_at_each_cut(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    assert_int_equal(status_for(&cfg, 0, 100, MR_LISTING_LISTED, 0), 0);
    assert_int_equal(status_for(&cfg, 9.99, 100, MR_LISTING_LISTED, 0), 1);
    assert_int_equal(status_for(&cfg, 10, 100, MR_LISTING_LISTED, 0), 2);
    assert_int_equal(status_for(&cfg, 24.99, 100, MR_LISTING_LISTED, 0), 2);
    assert_int_equal(status_for(&cfg, 25, 100, MR_LISTING_LISTED, 0), 3);
    assert_int_equal(status_for(&cfg, 49.99, 100, MR_LISTING_LISTED, 0), 3);
    assert_int_equal(status_for(&cfg, 50, 100, MR_LISTING_LISTED, 0), 4);
    assert_int_equal(status_for(&cfg, 5, 0, MR_LISTING_LISTED, 0), 4);   /* zero market */
}

static void prescription_status_before_listing(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    assert_int_equal(status_for(&cfg, 50, 100, MR_LISTING_NOT_LISTED, 0), -3);
    assert_int_equal(status_for(&cfg, 50, 100, MR_LISTING_NOT_LISTED, -4), -4);
    assert_int_equal(status_for(&cfg, 50, 100, MR_LISTING_NOT_LISTED, -2), -2);
    assert_int_equal(status_for(&cfg, 50, 100, MR_LISTING_APPLIED, -4), -1);
    cfg.prelisting_status = -2;
    assert_int_equal(status_for(&cfg, 0, 0, MR_LISTING_NOT_LISTED, 0), -2);
}

static void percentiles_and_quintiles(void **state)
{
    (void)state;
    long lo, hi;
    double frac;
    sc_percentile_ranks(50, 4, &lo, &hi, &frac);   /* median of 4: between ranks 1 and 2 */
    assert_int_equal(lo, 1);
    assert_int_equal(hi, 2);
    assert_true(frac == 0.5);
    sc_percentile_ranks(50, 5, &lo, &hi, &frac);
    assert_int_equal(lo, 2);
    assert_true(frac == 0);
    sc_percentile_ranks(100, 1, &lo, &hi, &frac);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 0);
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    assert_int_equal(sc_potential_score(&cfg, 0, 10), 0);
    assert_int_equal(sc_potential_score(&cfg, 1, 10), 0);
    assert_int_equal(sc_potential_score(&cfg, 2, 10), 1);   /* exactly the 20% boundary */
    assert_int_equal(sc_potential_score(&cfg, 8, 10), 4);
    assert_int_equal(sc_potential_score(&cfg, 9, 10), 4);
    assert_int_equal(sc_potential_score(&cfg, 0, 0), 0);
}

static sc_grade tiered(const sc_grade_cfg *cfg, sc_customer_view c, long below)
{
    sc_means m = {.months = 3, .our = 50, .market = 100, .patients = -1};
    sc_region_view r = {.threshold = 10, .below = below, .total = 10};
    sc_grade g;
    sc_grade_customer(cfg, &m, &r, &c, &g);
    return g;
}

static void key_account_tier_and_compliance(void **state)
{
    (void)state;
    sc_grade_cfg cfg;
    sc_grade_cfg_default(&cfg);
    sc_customer_view kol = listed_prescriber();
    kol.kol = true;
    assert_string_equal(tiered(&cfg, kol, 6).tier, "strategic");   /* score 3 = the minimum */
    assert_string_equal(tiered(&cfg, kol, 5).tier, "growth");      /* score 2 */
    assert_string_equal(tiered(&cfg, kol, 3).tier, "basic");       /* score 1 */
    sc_customer_view ol = listed_prescriber();
    ol.opinion_leader = true;
    assert_string_equal(tiered(&cfg, ol, 9).tier, "growth");
    assert_string_equal(tiered(&cfg, listed_prescriber(), 9).tier, "basic");
    kol.compliance_risk = 1;
    assert_false(tiered(&cfg, kol, 9).compliance_risk);
    kol.compliance_risk = 2;
    sc_grade g = tiered(&cfg, kol, 9);
    assert_true(g.compliance_risk);
    assert_non_null(strstr(g.explanation, "no speaking"));
    cfg.speaker_bar_risk = 1;
    kol.compliance_risk = 1;
    assert_true(tiered(&cfg, kol, 9).compliance_risk);
}

static void hospital_grade_at_the_cut_offs(void **state)
{
    (void)state;
    sc_hospital_cfg cfg;
    sc_hospital_cfg_default(&cfg);
    cfg = (sc_hospital_cfg){.w_beds = 1, .beds_full = 1000, .outpatient_full = 1, .usage_full = 1,
                            .competitors_full = 1, .cut_a = 70, .cut_b = 40};
    sc_hospital_grade g;
    sc_hospital_view h = {.tier = 3, .beds = 700};
    sc_grade_hospital(&cfg, &h, &g);
    assert_int_equal(g.grade, 'A');
    assert_true(g.score == 70);
    h.beds = 699;
    sc_grade_hospital(&cfg, &h, &g);
    assert_int_equal(g.grade, 'B');
    h.beds = 400;
    sc_grade_hospital(&cfg, &h, &g);
    assert_int_equal(g.grade, 'B');
    h.beds = 399;
    sc_grade_hospital(&cfg, &h, &g);
    assert_int_equal(g.grade, 'C');
    h.beds = 5000;   /* capped at full */
    sc_grade_hospital(&cfg, &h, &g);
    assert_true(g.score == 100);
    /* the default weights: a big tier-3 hospital with heavy use and no competitors is A */
    sc_hospital_cfg_default(&cfg);
    sc_hospital_view big = {.tier = 3, .beds = 1200, .outpatient_visits = 4000, .usage = 2000};
    sc_grade_hospital(&cfg, &big, &g);
    assert_int_equal(g.grade, 'A');
    assert_non_null(strstr(g.explanation, "A: score 100.0"));
    sc_hospital_view small = {.tier = 1, .beds = 50, .outpatient_visits = 100, .competitors = 5};
    sc_grade_hospital(&cfg, &small, &g);
    assert_int_equal(g.grade, 'C');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(means_use_the_last_months_with_data),
        cmocka_unit_test(share_handles_a_zero_market),
        cmocka_unit_test(segments_at_the_thresholds),
        cmocka_unit_test(absolute_thresholds),
        cmocka_unit_test(zero_market_and_patients_measure),
        cmocka_unit_test(no_data_and_non_prescribers_have_no_segment),
        cmocka_unit_test(prescription_status_at_each_cut),
        cmocka_unit_test(prescription_status_before_listing),
        cmocka_unit_test(percentiles_and_quintiles),
        cmocka_unit_test(key_account_tier_and_compliance),
        cmocka_unit_test(hospital_grade_at_the_cut_offs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
