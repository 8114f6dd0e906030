/* test_store_keys.c: the parts of the store that need no Redis: key
 * naming with the region hash tag, building transactions, values, and a
 * store that has not connected yet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"

static void key_has_region_hash_tag(void **state)
{
    (void)state;
    char buf[64];
    int n = mr_key(buf, sizeof buf, "north", "customer:%s:%d", "C1", 7);
    assert_int_equal(n, (int)strlen("{r:north}:customer:C1:7"));
    assert_string_equal(buf, "{r:north}:customer:C1:7");
}

static void key_accepts_every_valid_region_character(void **state)
{
    (void)state;
    char buf[64];
    assert_true(mr_key(buf, sizeof buf, "Ab-9_z", "x") > 0);
    assert_string_equal(buf, "{r:Ab-9_z}:x");
}

static void key_refuses_invalid_region(void **state)
{
    (void)state;
    char buf[64] = "untouched";
    assert_int_equal(mr_key(buf, sizeof buf, "", "x"), -1);
    assert_int_equal(mr_key(buf, sizeof buf, "no}brace", "x"), -1);
    assert_int_equal(mr_key(buf, sizeof buf, "has space", "x"), -1);
    assert_int_equal(mr_key(buf, sizeof buf, "a:b", "x"), -1);
    assert_int_equal(mr_key(buf, sizeof buf, NULL, "x"), -1);
    assert_int_equal(mr_key(buf, sizeof buf, "abcdefghijklmnopqrstuvwxyz0123456", "x"), -1);
    assert_string_equal(buf, "");
}

static void key_refuses_what_does_not_fit(void **state)
{
    (void)state;
    char buf[16];
    /* "{r:north}:" is 10 characters: 5 more fit with the NUL */
    assert_int_equal(mr_key(buf, sizeof buf, "north", "%s", "12345"), 15);
    assert_int_equal(mr_key(buf, sizeof buf, "north", "%s", "123456"), -1);
    assert_string_equal(buf, "");
    assert_int_equal(mr_key(buf, 5, "north", "x"), -1);
    assert_int_equal(mr_key(buf, 0, "north", "x"), -1);
}

static void tx_counts_commands_and_resets(void **state)
{
    (void)state;
    mr_tx *tx = mr_tx_new();
    assert_non_null(tx);
    assert_int_equal(mr_tx_count(tx), 0);
    assert_int_equal(mr_tx_addv(tx, "SET", "{r:n}:a", "1", NULL), 0);
    assert_int_equal(mr_tx_addv(tx, "INCR", "{r:n}:b", NULL), 0);
    assert_int_equal(mr_tx_count(tx), 2);
    mr_tx_reset(tx);
    assert_int_equal(mr_tx_count(tx), 0);
    assert_int_equal(mr_tx_addv(tx, "DEL", "{r:n}:a", NULL), 0);
    assert_int_equal(mr_tx_count(tx), 1);
    mr_tx_free(&tx);
    assert_null(tx);
    mr_tx_free(&tx);
}

static void tx_copies_binary_arguments(void **state)
{
    (void)state;
    mr_tx *tx = mr_tx_new();
    char value[4] = {'a', '\0', 'b', '\0'};
    const char *argv[] = {"SET", "{r:n}:bin", value};
    size_t lens[] = {3, 8, 3};
    assert_int_equal(mr_tx_add(tx, 3, argv, lens), 0);
    /* the caller's buffer may change or go away after mr_tx_add */
    memset(value, 'x', sizeof value);
    assert_int_equal(mr_tx_count(tx), 1);
    mr_tx_free(&tx);
}

static void tx_grows_past_its_first_allocation(void **state)
{
    (void)state;
    mr_tx *tx = mr_tx_new();
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "{r:n}:k%d", i);
        assert_int_equal(mr_tx_addv(tx, "INCR", key, NULL), 0);
    }
    assert_int_equal(mr_tx_count(tx), 1000);
    mr_tx_free(&tx);
}

static void tx_refuses_empty_commands(void **state)
{
    (void)state;
    mr_tx *tx = mr_tx_new();
    const char *argv[] = {"PING"};
    assert_int_equal(mr_tx_add(tx, 0, argv, NULL), -1);
    assert_int_equal(mr_tx_add(tx, 1, NULL, NULL), -1);
    assert_int_equal(mr_tx_addv(tx, NULL, NULL), -1);
    assert_int_equal(mr_tx_count(tx), 0);
    mr_tx_free(&tx);
}

static void values_of_null_are_safe(void **state)
{
    (void)state;
    size_t len = 99;
    assert_int_equal(mr_val_type(NULL), 0);
    assert_int_equal(mr_val_int(NULL), 0);
    assert_null(mr_val_str(NULL, &len));
    assert_int_equal(len, 0);
    assert_int_equal(mr_val_count(NULL), 0);
    assert_null(mr_val_at(NULL, 0));
    assert_true(mr_val_is_error(NULL));
    mr_val *v = NULL;
    mr_val_free(&v);
}

static void new_store_is_not_connected(void **state)
{
    (void)state;
    mr_store_cfg cfg = {.host = "127.0.0.1", .port = 6390, .db = 2};
    mr_store *s = mr_store_new(&cfg);
    assert_non_null(s);
    assert_false(mr_store_connected(s));
    assert_string_equal(mr_store_address(s), "127.0.0.1:6390/2");
    assert_string_equal(mr_store_error(s), "");
    mr_store_free(&s);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_has_region_hash_tag),
        cmocka_unit_test(key_accepts_every_valid_region_character),
        cmocka_unit_test(key_refuses_invalid_region),
        cmocka_unit_test(key_refuses_what_does_not_fit),
        cmocka_unit_test(tx_counts_commands_and_resets),
        cmocka_unit_test(tx_copies_binary_arguments),
        cmocka_unit_test(tx_grows_past_its_first_allocation),
        cmocka_unit_test(tx_refuses_empty_commands),
        cmocka_unit_test(values_of_null_are_safe),
        cmocka_unit_test(new_store_is_not_connected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
