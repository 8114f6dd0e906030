/* test_scheduling_norms.c: the norms as configuration (per team and
 * region through scoped sections, with clear errors), customer classes,
 * attainment counting and the pace check (services/scheduling/norms.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config.h"
#include "norms.h"

static void test_defaults_follow_the_domain(void **state)
{
    (void)state;
    sc_norms n;
    mr_config *cfg = mr_config_from_string("", NULL, 0);
    char err[256];
    const char *onc[] = {"team:ONC", NULL}, *other[] = {"team:GI", NULL};
    assert_int_equal(sc_norms_load(cfg, onc, &n, err, sizeof err), 0);
    assert_int_equal(n.calls_per_day_min, 10);
    assert_int_equal(sc_norms_load(cfg, other, &n, err, sizeof err), 0);
    assert_int_equal(n.calls_per_day_min, 12);
    assert_int_equal(n.calls_per_day_max, 15);
    int a = sc_norms_class_index(&n, "A"), d = sc_norms_class_index(&n, "D");
    assert_true(a >= 0 && d > a);
    assert_true(n.cls[a].calls_per_month == 4 && n.cls[a].coverage_month == 0.9);
    assert_true(n.cls[d].coverage_quarter == 0.6);
    assert_int_equal(sc_norms_class_of(&n, false, NULL, "head_nurse"), sc_norms_class_index(&n, "np_support"));
    assert_int_equal(sc_norms_class_of(&n, false, NULL, "pharmacy_director"),
                     sc_norms_class_index(&n, "np_leadership"));
    assert_int_equal(sc_norms_class_of(&n, true, "", NULL), sc_norms_class_index(&n, "none"));
    assert_int_equal(sc_norms_class_of(&n, false, NULL, "astronaut"), -1);
    mr_config_free(&cfg);
}

static void test_scoped_configuration(void **state)
{
    (void)state;
    const char *text = "[scheduling]\n"
                       "calls_per_day_min = 11\n"
                       "C.calls_per_month = 2\n"
                       "conflict_days = 6\n"
                       "day_start = 07:30\n"
                       "[scheduling@region:north]\n"
                       "calls_per_day_min = 9\n"
                       "[scheduling@team:ONC]\n"
                       "classes = A,B,C\n"
                       "A.calls_per_month = 5\n"
                       "group.head_nurse = C\n"
                       "group.storekeeper = C\n"
                       "group.procurement = C\n"
                       "group.pharmacy_lead = C\n"
                       "group.laboratory = C\n"
                       "group.leadership = C\n"
                       "group.pharmacy_director = C\n"
                       "group.non_prescribing_kol = C\n"
                       "group.medical_affairs = C\n"
                       "group.medical_education = C\n";
    char err[256];
    mr_config *cfg = mr_config_from_string(text, err, sizeof err);
    assert_non_null(cfg);
    sc_norms n;
    const char *north[] = {"team:GI", "region:north", NULL};
    assert_int_equal(sc_norms_load(cfg, north, &n, err, sizeof err), 0);
    assert_int_equal(n.calls_per_day_min, 9);
    assert_int_equal(n.conflict_days, 6);
    assert_int_equal(n.day_start, 450);
    assert_true(n.cls[sc_norms_class_index(&n, "C")].calls_per_month == 2);
    const char *onc[] = {"team:ONC", "region:south", NULL};
    assert_int_equal(sc_norms_load(cfg, onc, &n, err, sizeof err), 0);
    assert_int_equal(n.ncls, 3);
    assert_true(n.cls[0].calls_per_month == 5);
    assert_int_equal(n.calls_per_day_min, 11);
    assert_int_equal(sc_norms_class_of(&n, true, "D", NULL), -1);
    mr_config_free(&cfg);
}

static void test_bad_values_are_named(void **state)
{
    (void)state;
    const char *bad[] = {
        "[scheduling]\ncalls_per_day_max = lots\n",
        "[scheduling]\nA.coverage_month = 1.5\n",
        "[scheduling]\nday_start = 8am\n",
        "[scheduling]\ncalls_per_day_min = 20\ncalls_per_day_max = 15\n",
        "[scheduling]\nclasses = A,B\n",                 /* groups point at missing classes */
        "[scheduling]\nconflict_days = 2.5\n",
        "[scheduling]\nplan_starts = 0\n",
        "[scheduling]\nday_groups = 9\n",
    };
    const char *key[] = {"calls_per_day_max", "A.coverage_month", "day_start", "calls_per_day_min",
                         "group.", "conflict_days", "plan_starts", "day_groups"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        mr_config *cfg = mr_config_from_string(bad[i], err, sizeof err);
        assert_non_null(cfg);
        sc_norms n;
        assert_int_equal(sc_norms_load(cfg, NULL, &n, err, sizeof err), -1);
        assert_non_null(strstr(err, key[i]));
        mr_config_free(&cfg);
    }
}

static void test_attainment_counting(void **state)
{
    (void)state;
    sc_norms n;
    sc_norms_defaults(&n, false);
    int a = sc_norms_class_index(&n, "A"), d = sc_norms_class_index(&n, "D");
    int cls[4] = {a, a, d, d};
    sc_att_call calls[] = {
        {a, 0, true, true, true},  {a, 0, true, true, true}, {a, 1, false, true, true},
        {a, 1, false, true, false}, {d, 2, true, false, true}, /* done without a plan */
    };
    sc_attainment at;
    sc_attainment_compute(&n, cls, 4, calls, 5, 1.0, 10, &at);
    assert_int_equal(at.cls[a].customers, 2);
    assert_int_equal(at.cls[a].covered, 1);
    assert_true(at.cls[a].coverage == 0.5);
    assert_true(at.cls[a].frequency == (2.0 / 2) / 4);
    assert_true(at.cls[d].coverage == 0.5);
    assert_int_equal(at.done, 3);
    assert_int_equal(at.planned, 4);
    assert_int_equal(at.planned_past, 3);
    assert_true(at.adherence == 2.0 / 3);
    assert_true(at.call_rate == 0.3);
    /* 2 of 3 done calls went to A; the norms want A: 2*4*0.9 = 7.2 of 7.2 + 2*1*0.2 = 7.6 */
    assert_true(at.match > (2.0 / 3) / (7.2 / 7.6) - 1e-9 && at.match < (2.0 / 3) / (7.2 / 7.6) + 1e-9);
}

static void test_pace(void **state)
{
    (void)state;
    double exp, act;
    /* 40 calls needed in 20 days; 10 done after 10 days: projection 20 < 40 */
    assert_true(sc_behind_pace(40, 10, 10, 20, 1.0, &exp, &act));
    assert_true(exp == 0.5 && act == 0.25);
    assert_false(sc_behind_pace(40, 20, 10, 20, 1.0, &exp, &act));
    assert_false(sc_behind_pace(40, 18, 10, 20, 0.9, &exp, &act));
    assert_false(sc_behind_pace(0, 0, 10, 20, 1.0, &exp, &act));
    assert_false(sc_behind_pace(40, 0, 0, 20, 1.0, &exp, &act));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_follow_the_domain),
        cmocka_unit_test(test_scoped_configuration),
        cmocka_unit_test(test_bad_values_are_named),
        cmocka_unit_test(test_attainment_counting),
        cmocka_unit_test(test_pace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
