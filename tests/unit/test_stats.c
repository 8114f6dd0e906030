/* test_stats.c: the latency histogram (stats.h) and random ids (ids.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ids.h"
#include "stats.h"

static void empty_histogram_gives_zero(void **state)
{
    (void)state;
    mr_hist h;
    mr_hist_reset(&h);
    assert_int_equal(mr_hist_quantile(&h, 0.5), 0);
}

static void quantiles_within_bucket_resolution(void **state)
{
    (void)state;
    static mr_hist h;
    mr_hist_reset(&h);
    for (int us = 1; us <= 10000; us++)
        mr_hist_add(&h, us);
    int64_t p50 = mr_hist_quantile(&h, 0.50);
    int64_t p99 = mr_hist_quantile(&h, 0.99);
    assert_in_range(p50, 5000, 5500);
    assert_in_range(p99, 9900, 10000);
    assert_int_equal(mr_hist_quantile(&h, 1.0), 10000);
    assert_int_equal(h.total, 10000);
}

static void quantile_never_exceeds_max(void **state)
{
    (void)state;
    mr_hist h;
    mr_hist_reset(&h);
    mr_hist_add(&h, 37);
    assert_int_equal(mr_hist_quantile(&h, 0.5), 37);
    mr_hist_add(&h, 0);
    mr_hist_add(&h, -5);
    assert_true(mr_hist_quantile(&h, 0.1) <= 1);
}

static void random_ids_are_hex_and_distinct(void **state)
{
    (void)state;
    char a[33], b[33], small[9];
    mr_random_id(a, sizeof a);
    mr_random_id(b, sizeof b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    mr_random_id(small, sizeof small);
    assert_int_equal(strlen(small), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_histogram_gives_zero),
        cmocka_unit_test(quantiles_within_bucket_resolution),
        cmocka_unit_test(quantile_never_exceeds_max),
        cmocka_unit_test(random_ids_are_hex_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
