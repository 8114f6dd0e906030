/* test_scoring_masterdata.c: the pure parts of common/masterdata.c the
 * scoring imports rely on: id rules, strict field parsing from CSV text
 * (every type, bad values refused, over-long text refused), the
 * "stored identically" comparison that makes re-imports change nothing,
 * listing names, keys, and staging into a transaction (no Redis). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "masterdata.h"

static void ids(void **state)
{
    (void)state;
    assert_true(mr_md_id_valid("C-1.x_y:z"));
    assert_false(mr_md_id_valid(""));
    assert_false(mr_md_id_valid(NULL));
    assert_false(mr_md_id_valid("has space"));
    assert_false(mr_md_id_valid("brace}"));
    char long_id[80];
    memset(long_id, 'a', 63);
    long_id[63] = '\0';
    assert_true(mr_md_id_valid(long_id));
    long_id[63] = 'a';
    long_id[64] = '\0';
    assert_false(mr_md_id_valid(long_id));
}

static void set_fields_strictly(void **state)
{
    (void)state;
    mr_hospital h = {0};
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "id", "H1"), 0);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "tier", "3"), 0);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "lat", "31.25"), 0);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "lon", ""), 0);   /* empty decimal = 0 */
    assert_string_equal(h.id, "H1");
    assert_int_equal(h.tier, 3);
    assert_true(h.lat == 31.25);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "tier", "3x"), -2);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "tier", ""), -2);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "beds", "99999999999"), -2);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "lat", "nan"), -2);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "colour", "red"), -1);
    assert_int_equal(mr_md_set_field(MR_MD_HOSPITAL, &h, "id", "bad id"), -2);
    assert_int_equal(h.tier, 3);   /* a refused value leaves the field alone */

    mr_customer c = {0};
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "kol", "yes"), 0);
    assert_true(c.kol);
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "kol", "0"), 0);
    assert_false(c.kol);
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "kol", "maybe"), -2);
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "kind", "non_prescriber"), 0);
    assert_int_equal(c.kind, MR_CUSTOMER_NON_PRESCRIBER);
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "kind", "robot"), -2);
    char big[300];
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "windows", big), -2);   /* 299 > 255 */
    assert_int_equal(mr_md_set_field(MR_MD_CUSTOMER, &c, "windows", "mon 08:00-09:00"), 0);
    assert_string_equal(c.windows, "mon 08:00-09:00");
}

static void same_means_stored_identically(void **state)
{
    (void)state;
    mr_rep a = {0}, b = {0};
    mr_md_set_field(MR_MD_REP, &a, "id", "R1");
    mr_md_set_field(MR_MD_REP, &a, "home_lat", "31.2");
    b = a;
    assert_true(mr_md_same(MR_MD_REP, &a, &b));
    mr_md_set_field(MR_MD_REP, &b, "team", "ONC");
    assert_false(mr_md_same(MR_MD_REP, &a, &b));
    b = a;
    b.home_lat = 31.2000000000001;   /* below the stored precision: the same */
    assert_true(mr_md_same(MR_MD_REP, &a, &b));
    b.home_lat = 31.21;
    assert_false(mr_md_same(MR_MD_REP, &a, &b));
    b = a;
    strcpy(b.id, "R2");
    assert_false(mr_md_same(MR_MD_REP, &a, &b));
}

static void listings_and_keys(void **state)
{
    (void)state;
    assert_string_equal(mr_listing_name(MR_LISTING_APPLIED), "applied");
    assert_int_equal(mr_listing_parse("listed"), MR_LISTING_LISTED);
    assert_int_equal(mr_listing_parse("Listed"), -1);
    assert_int_equal(mr_listing_parse(NULL), -1);
    char buf[128];
    assert_true(mr_md_key(buf, sizeof buf, "north", MR_MD_CUSTOMER, "C1") > 0);
    assert_string_equal(buf, "{r:north}:md:customer:C1");
    assert_int_equal(mr_md_key(buf, sizeof buf, "north", MR_MD_CUSTOMER, "bad id"), -1);
    assert_true(mr_md_index(buf, sizeof buf, "rep", "R7", "customers") > 0);
    assert_string_equal(buf, "md:rep:R7:customers");
    assert_true(mr_md_index(buf, sizeof buf, NULL, NULL, "customers") > 0);
    assert_string_equal(buf, "md:customers");
}

static void staging_moves_indexes(void **state)
{
    (void)state;
    mr_tx *tx = mr_tx_new();
    mr_customer old = {0}, now = {0};
    strcpy(old.id, "C1");
    strcpy(old.rep_id, "R1");
    strcpy(old.hospital_id, "H1");
    now = old;
    strcpy(now.rep_id, "R2");
    assert_int_equal(mr_md_stage_customer(tx, "north", &now, &old), 0);
    /* HSET, SADD md:customers, hospital index, rep SREM + SADD, rep's hospitals */
    assert_int_equal(mr_tx_count(tx), 6);
    mr_tx_reset(tx);
    assert_int_equal(mr_md_stage_customer(tx, "north", &now, NULL), 0);
    assert_int_equal(mr_tx_count(tx), 5);
    mr_tx_reset(tx);
    strcpy(now.id, "bad id");
    assert_int_equal(mr_md_stage_customer(tx, "north", &now, NULL), -1);
    assert_int_equal(mr_md_stage_listing(tx, "north", "H1", "P1", MR_LISTING_LISTED, true), 0);
    assert_int_equal(mr_md_stage_listing(tx, "north", "H1", "bad id", MR_LISTING_LISTED, true), -1);
    mr_tx_free(&tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids),
        cmocka_unit_test(set_fields_strictly),
        cmocka_unit_test(same_means_stored_identically),
        cmocka_unit_test(listings_and_keys),
        cmocka_unit_test(staging_moves_indexes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
