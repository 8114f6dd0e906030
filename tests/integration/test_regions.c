/* test_regions.c: two regions on two redis-servers. A request for one
 * region reads and writes only that region's Redis, and its keys carry the
 * region's hash tag. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "calls.h"
#include "errors.h"
#include "stack.h"

/* Every key of this Redis starts with the tag of region. */
static void assert_keys_only_of(mr_store *store, const char *region)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "{r:%s}:", region);
    mr_val *keys = mr_store_cmd(store, "KEYS *");
    assert_non_null(keys);
    assert_true(mr_val_count(keys) > 0);
    for (size_t i = 0; i < mr_val_count(keys); i++) {
        const char *key = mr_val_str(mr_val_at(keys, i), NULL);
        if (strncmp(key, prefix, strlen(prefix)) != 0)
            fail_msg("key %s found in the redis of region %s", key, region);
    }
    mr_val_free(&keys);
}

static void test_each_region_stays_in_its_redis(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", "south", NULL};
    assert_int_equal(h_stack_start(&stack, 2, regions, NULL), 0);
    assert_true(h_stack_start_service(&stack, "test-counter", "counter-r", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "counter", 1, 10000), 0);
    mr_client *c = h_stack_client(&stack, 8, 1000);
    mr_store *north = h_stack_store(&stack, 0);
    mr_store *south = h_stack_store(&stack, 1);

    for (int i = 0; i < 5; i++)
        assert_int_equal(h_call_code(c, "counter", "Increment", "north", 1, NULL, NULL), MR_OK);
    assert_int_equal(h_redis_int(north, "GET %s", "{r:north}:counter"), 5);
    assert_int_equal(h_redis_int(south, "EXISTS %s", "{r:south}:counter"), 0);
    assert_int_equal(h_redis_int(south, "EXISTS %s", "{r:north}:counter"), 0);
    assert_keys_only_of(south, "south");   /* only its own event stream, made at start */

    for (int i = 0; i < 3; i++)
        assert_int_equal(h_call_code(c, "counter", "Increment", "south", 1, NULL, NULL), MR_OK);
    assert_int_equal(h_redis_int(south, "GET %s", "{r:south}:counter"), 3);
    assert_int_equal(h_redis_int(north, "GET %s", "{r:north}:counter"), 5);
    assert_int_equal(h_redis_int(north, "EXISTS %s", "{r:south}:counter"), 0);
    assert_keys_only_of(north, "north");
    assert_keys_only_of(south, "south");

    mr_store_free(&north);
    mr_store_free(&south);
    mr_client_free(&c);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_region_stays_in_its_redis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
