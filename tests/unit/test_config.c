/* test_config.c: INI parsing, environment overrides, scoped and typed
 * lookups, and regions (common/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static mr_config *must_parse(const char *text) {
    char err[256] = "";
    mr_config *cfg = mr_config_from_string(text, err, sizeof(err));
    if (cfg == NULL) fprintf(stderr, "unexpected error: %s\n", err);
    assert_non_null(cfg);
    return cfg;
}

/* Parsing must fail; the message must contain `want`. */
static void expect_parse_error(const char *text, const char *want) {
    char err[256] = "";
    mr_config *cfg = mr_config_from_string(text, err, sizeof(err));
    if (cfg != NULL || strstr(err, want) == NULL)
        fprintf(stderr, "text:\n%s\nerror '%s', wanted '%s'\n", text, err, want);
    assert_null(cfg);
    assert_non_null(strstr(err, want));
}

typedef struct {
    char seen[8][64];
    int count;
    int stop_at;
} section_list;

static int collect_section(const char *section, void *arg) {
    section_list *list = arg;
    snprintf(list->seen[list->count], sizeof(list->seen[0]), "%s", section);
    list->count++;
    return list->count == list->stop_at ? 42 : 0;
}

/* ---- Parsing ---- */

static void test_values_and_defaults(void **state) {
    (void)state;
    mr_config *cfg = must_parse("; a comment\n"
                                "# another\n"
                                "[broker]\n"
                                "endpoint = tcp://127.0.0.1:5555\n"
                                "name: broker-1  ; inline comment\n"
                                "\n"
                                "[ spaced ]\n"
                                "empty =\n");
    assert_string_equal(mr_config_get(cfg, "broker", "endpoint"), "tcp://127.0.0.1:5555");
    assert_string_equal(mr_config_get(cfg, "broker", "name"), "broker-1");
    assert_string_equal(mr_config_get(cfg, "spaced", "empty"), "");
    assert_null(mr_config_get(cfg, "broker", "missing"));
    assert_null(mr_config_get(cfg, "nosuch", "endpoint"));
    assert_null(mr_config_get(cfg, "Broker", "endpoint")); /* case-sensitive */
    assert_string_equal(mr_config_str(cfg, "broker", "missing", "dflt"), "dflt");
    assert_string_equal(mr_config_str(cfg, "broker", "name", "dflt"), "broker-1");
    mr_config_free(&cfg);
    assert_null(cfg);
    mr_config_free(&cfg); /* twice is harmless */
}

static void test_continuation_lines_join_with_a_space(void **state) {
    (void)state;
    mr_config *cfg = must_parse("[region.north]\n"
                                "holidays = 2026-10-01..2026-10-07,\n"
                                "    2027-01-01,\n"
                                "\t2027-02-10\n"
                                "timezone = UTC\n");
    assert_string_equal(mr_config_get(cfg, "region.north", "holidays"),
                        "2026-10-01..2026-10-07, 2027-01-01, 2027-02-10");
    assert_string_equal(mr_config_get(cfg, "region.north", "timezone"), "UTC");
    mr_config_free(&cfg);
}

static void test_bom_and_indented_first_key(void **state) {
    (void)state;
    /* an indented key right after a section header is a key, not a
     * continuation; a UTF-8 byte order mark is skipped */
    mr_config *cfg = must_parse("\xEF\xBB\xBF[a]\nk = 1\n[b]\n  ind = 3\n  more\n");
    assert_string_equal(mr_config_get(cfg, "a", "k"), "1");
    assert_string_equal(mr_config_get(cfg, "b", "ind"), "3 more");
    assert_null(mr_config_get(cfg, "a", "ind"));
    mr_config_free(&cfg);
}

static void test_long_section_names_are_kept_whole(void **state) {
    (void)state;
    /* inih itself cuts section names at 49 characters */
    const char *name = "norms@product:A-VERY-LONG-PRODUCT-IDENTIFIER-0123456789";
    char text[256];
    snprintf(text, sizeof(text), "[%s]\ncalls_per_day = 7\n", name);
    mr_config *cfg = must_parse(text);
    assert_string_equal(mr_config_get(cfg, name, "calls_per_day"), "7");
    mr_config_free(&cfg);
}

static void test_syntax_errors_name_the_line(void **state) {
    (void)state;
    expect_parse_error("[a]\nk = 1\nthis line has no equals sign\n", "line 3:");
    expect_parse_error("[a]\nk = 1\n[b\nq = 2\n", "line 3:");
    expect_parse_error("k = 1\n[a]\n", "line 1: key 'k' outside a named section");
    expect_parse_error("[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\n", "line 6: duplicate key 'k' in [a]");
    expect_parse_error("[a]\n= value\n", "line 2: missing key name");
    /* the first of several errors is reported */
    expect_parse_error("[a]\n\nk = 1\nbad\nk = 2\n", "line 4:");
    expect_parse_error("[a]\nk = 1\nk = 2\nbad\n", "line 3: duplicate");
}

static void test_overlong_line_is_an_error(void **state) {
    (void)state;
    char text[600];
    int n = snprintf(text, sizeof(text), "[a]\nok = 1\nholidays = ");
    memset(text + n, 'x', 300);
    strcpy(text + n + 300, "\nafter = 2\n");
    expect_parse_error(text, "line 3: line longer than");
}

static void test_load_file_errors_name_file_and_line(void **state) {
    (void)state;
    char path[] = "/tmp/medrep-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[a]\nk = 1\n\noops\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    char err[512] = "", want[300];
    assert_null(mr_config_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s:4: ", path);
    assert_non_null(strstr(err, want));

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    text = "[a]\nk = from file\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    mr_config *cfg = mr_config_load(path, err, sizeof(err));
    assert_non_null(cfg);
    assert_string_equal(mr_config_get(cfg, "a", "k"), "from file");
    mr_config_free(&cfg);
    unlink(path);

    assert_null(mr_config_load("/nonexistent/medrep.ini", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/medrep.ini: cannot open"));
}

/* ---- Environment overrides ---- */

static void test_environment_overrides_file(void **state) {
    (void)state;
    setenv("MEDREP__REGION_NORTH__REDIS", "10.0.0.7:6380/2", 1);
    setenv("MEDREP__REGION_NORTH__TIMEZONE", "Asia/Shanghai", 1);
    setenv("MEDREP__ONLY_ENV__KEY", "from-env", 1);
    mr_config *cfg = must_parse("[region.north]\nredis = 127.0.0.1:6379\n");
    unsetenv("MEDREP__REGION_NORTH__REDIS");
    unsetenv("MEDREP__REGION_NORTH__TIMEZONE");
    unsetenv("MEDREP__ONLY_ENV__KEY");

    /* the override wins, and creates keys the file lacks */
    assert_string_equal(mr_config_get(cfg, "region.north", "redis"), "10.0.0.7:6380/2");
    assert_string_equal(mr_config_get(cfg, "region.north", "timezone"), "Asia/Shanghai");
    /* a section looked up by name sees its overrides... */
    assert_string_equal(mr_config_get(cfg, "only.env", "key"), "from-env");
    assert_string_equal(mr_config_get(cfg, "only_env", "KEY"), "from-env");
    /* ...but is not listed as a section of the file */
    section_list list = {.stop_at = -1};
    assert_int_equal(mr_config_each_section(cfg, "", collect_section, &list), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.seen[0], "region.north");
    mr_region_cfg regions[4];
    char err[256];
    int count = mr_config_regions(cfg, regions, 4, err, sizeof(err));
    assert_int_equal(count, 1);
    assert_string_equal(regions[0].redis_host, "10.0.0.7");
    assert_int_equal(regions[0].redis_port, 6380);
    assert_int_equal(regions[0].redis_db, 2);
    assert_string_equal(regions[0].timezone, "Asia/Shanghai");
    mr_config_free(&cfg);
}

static void test_environment_is_read_at_load_time(void **state) {
    (void)state;
    mr_config *cfg = must_parse("[a]\nk = file\n");
    setenv("MEDREP__A__K", "later", 1);
    assert_string_equal(mr_config_get(cfg, "a", "k"), "file");
    mr_config *again = must_parse("[a]\nk = file\n");
    unsetenv("MEDREP__A__K");
    assert_string_equal(mr_config_get(again, "a", "k"), "later");
    mr_config_free(&cfg);
    mr_config_free(&again);
}

static void test_environment_names_for_scoped_sections(void **state) {
    (void)state;
    setenv("MEDREP__NORMS_TEAM_ONC__CALLS_PER_DAY", "9", 1);
    mr_config *cfg = must_parse("[norms]\ncalls_per_day = 12\n"
                                "[norms@team:ONC]\ncalls_per_day = 10\n");
    unsetenv("MEDREP__NORMS_TEAM_ONC__CALLS_PER_DAY");
    const char *const scopes[] = {"team:ONC", NULL};
    assert_string_equal(mr_config_scoped(cfg, "norms", "calls_per_day", scopes), "9");
    assert_string_equal(mr_config_get(cfg, "norms", "calls_per_day"), "12");
    mr_config_free(&cfg);
}

static void test_no_file_means_environment_only(void **state) {
    (void)state;
    char err[256] = "";
    setenv("MEDREP__BROKER__ENDPOINT", "tcp://0.0.0.0:7000", 1);
    mr_config *cfg = mr_config_load(NULL, err, sizeof(err));
    mr_config *cfg2 = mr_config_load("", err, sizeof(err));
    unsetenv("MEDREP__BROKER__ENDPOINT");
    assert_non_null(cfg);
    assert_non_null(cfg2);
    assert_string_equal(mr_config_get(cfg, "broker", "endpoint"), "tcp://0.0.0.0:7000");
    assert_string_equal(mr_config_get(cfg2, "broker", "endpoint"), "tcp://0.0.0.0:7000");
    assert_null(mr_config_get(cfg, "broker", "other"));
    mr_config_free(&cfg);
    mr_config_free(&cfg2);
}

/* ---- Scoped lookups and sections ---- */

static void test_scoped_lookup_order(void **state) {
    (void)state;
    mr_config *cfg = must_parse("[norms]\n"
                                "calls_per_day = 12\n"
                                "visits_per_week = 20\n"
                                "[norms@team:ONC]\n"
                                "calls_per_day = 10\n"
                                "[norms@product:P1]\n"
                                "calls_per_day = 8\n"
                                "visits_per_week = 15\n");
    const char *const product_first[] = {"product:P1", "team:ONC", NULL};
    const char *const team_first[] = {"team:ONC", "product:P1", NULL};
    const char *const unknown[] = {"team:XYZ", NULL};
    assert_string_equal(mr_config_scoped(cfg, "norms", "calls_per_day", product_first), "8");
    assert_string_equal(mr_config_scoped(cfg, "norms", "calls_per_day", team_first), "10");
    assert_string_equal(mr_config_scoped(cfg, "norms", "visits_per_week", team_first), "15");
    assert_string_equal(mr_config_scoped(cfg, "norms", "calls_per_day", unknown), "12");
    assert_string_equal(mr_config_scoped(cfg, "norms", "calls_per_day", NULL), "12");
    assert_null(mr_config_scoped(cfg, "norms", "missing", product_first));
    mr_config_free(&cfg);
}

static void test_each_section_in_file_order(void **state) {
    (void)state;
    mr_config *cfg = must_parse("[region.south]\nredis = h:1\n"
                                "[broker]\nk = v\n"
                                "[region.north]\n"
                                "[region.south]\nother = 2\n"
                                "[region.east]\nredis = h:2\n");
    section_list list = {.stop_at = -1};
    assert_int_equal(mr_config_each_section(cfg, "region.", collect_section, &list), 0);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.seen[0], "region.south");
    assert_string_equal(list.seen[1], "region.north"); /* a section without keys counts */
    assert_string_equal(list.seen[2], "region.east");

    section_list all = {.stop_at = -1};
    assert_int_equal(mr_config_each_section(cfg, NULL, collect_section, &all), 0);
    assert_int_equal(all.count, 4);
    assert_string_equal(all.seen[1], "broker");

    section_list stop = {.stop_at = 2};
    assert_int_equal(mr_config_each_section(cfg, "", collect_section, &stop), 42);
    assert_int_equal(stop.count, 2);
    mr_config_free(&cfg);
}

/* ---- Typed getters ---- */

static const char *typed_text = "[t]\n"
                                "n = 42\n"
                                "neg = -7\n"
                                "plus = +5\n"
                                "junk = 12abc\n"
                                "blank =\n"
                                "sci = 1e3\n"
                                "huge = 99999999999999999999\n"
                                "ratio = 0.75\n"
                                "nan = nan\n"
                                "inf = inf\n"
                                "yes = Yes\n"
                                "off = off\n"
                                "one = 1\n"
                                "maybe = maybe\n";

static void test_int_getter(void **state) {
    (void)state;
    mr_config *cfg = must_parse(typed_text);
    char err[256];
    long long v = 0;
    assert_int_equal(mr_config_int(cfg, "t", "n", 1, 0, 100, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 42);
    assert_int_equal(mr_config_int(cfg, "t", "neg", 1, -10, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -7);
    assert_int_equal(mr_config_int(cfg, "t", "plus", 1, 0, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 5);
    assert_int_equal(mr_config_int(cfg, "t", "absent", 17, 0, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 17); /* the default is not range-checked */

    v = 99;
    assert_int_equal(mr_config_int(cfg, "t", "junk", 1, 0, 100, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "[t] junk: '12abc' is not an integer"));
    assert_int_equal(v, 99); /* untouched on error */
    assert_int_equal(mr_config_int(cfg, "t", "blank", 1, 0, 100, &v, err, sizeof(err)), -1);
    assert_int_equal(mr_config_int(cfg, "t", "sci", 1, 0, 10000, &v, err, sizeof(err)), -1);
    assert_int_equal(mr_config_int(cfg, "t", "huge", 1, 0, 100, &v, err, sizeof(err)), -1);
    assert_int_equal(mr_config_int(cfg, "t", "n", 1, 0, 41, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "[t] n: 42 is outside [0, 41]"));
    assert_int_equal(mr_config_int(cfg, "t", "neg", 1, 0, 10, &v, err, sizeof(err)), -1);
    mr_config_free(&cfg);

    setenv("MEDREP__T__N", "4x", 1);
    cfg = must_parse(typed_text);
    unsetenv("MEDREP__T__N");
    assert_int_equal(mr_config_int(cfg, "t", "n", 1, 0, 100, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "MEDREP__T__N: '4x' is not an integer"));
    mr_config_free(&cfg);
}

static void test_double_getter(void **state) {
    (void)state;
    mr_config *cfg = must_parse(typed_text);
    char err[256];
    double v = 0;
    assert_int_equal(mr_config_double(cfg, "t", "ratio", 0.5, 0, 1, &v, err, sizeof(err)), 0);
    assert_true(v == 0.75);
    assert_int_equal(mr_config_double(cfg, "t", "sci", 0.5, 0, 1e4, &v, err, sizeof(err)), 0);
    assert_true(v == 1000.0);
    assert_int_equal(mr_config_double(cfg, "t", "absent", 0.25, 0, 1, &v, err, sizeof(err)), 0);
    assert_true(v == 0.25);
    assert_int_equal(mr_config_double(cfg, "t", "ratio", 0.5, 0, 0.5, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "[t] ratio: 0.75 is outside [0, 0.5]"));
    assert_int_equal(mr_config_double(cfg, "t", "junk", 0.5, 0, 1e9, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a finite number"));
    assert_int_equal(mr_config_double(cfg, "t", "nan", 0.5, -1e9, 1e9, &v, err, sizeof(err)), -1);
    assert_int_equal(mr_config_double(cfg, "t", "inf", 0.5, -1e9, 1e9, &v, err, sizeof(err)), -1);
    assert_int_equal(mr_config_double(cfg, "t", "blank", 0.5, -1e9, 1e9, &v, err, sizeof(err)), -1);
    mr_config_free(&cfg);
}

static void test_bool_getter(void **state) {
    (void)state;
    mr_config *cfg = must_parse(typed_text);
    char err[256];
    bool v = false;
    assert_int_equal(mr_config_bool(cfg, "t", "yes", false, &v, err, sizeof(err)), 0);
    assert_true(v);
    assert_int_equal(mr_config_bool(cfg, "t", "off", true, &v, err, sizeof(err)), 0);
    assert_false(v);
    assert_int_equal(mr_config_bool(cfg, "t", "one", false, &v, err, sizeof(err)), 0);
    assert_true(v);
    assert_int_equal(mr_config_bool(cfg, "t", "absent", true, &v, err, sizeof(err)), 0);
    assert_true(v);
    assert_int_equal(mr_config_bool(cfg, "t", "maybe", false, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "[t] maybe: 'maybe' is not a boolean"));
    assert_int_equal(mr_config_bool(cfg, "t", "n", false, &v, err, sizeof(err)), -1);
    mr_config_free(&cfg);
}

/* ---- Regions ---- */

static void test_region_names(void **state) {
    (void)state;
    assert_true(mr_region_name_valid("north"));
    assert_true(mr_region_name_valid("cn-east_2"));
    assert_true(mr_region_name_valid("A"));
    assert_true(mr_region_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    assert_false(mr_region_name_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    assert_false(mr_region_name_valid(""));
    assert_false(mr_region_name_valid(NULL));
    assert_false(mr_region_name_valid("no rth"));
    assert_false(mr_region_name_valid("north.1"));
    assert_false(mr_region_name_valid("nörd"));
    assert_false(mr_region_name_valid("a/b"));
}

static void test_regions_parse_with_defaults(void **state) {
    (void)state;
    mr_config *cfg = must_parse("[broker]\nendpoint = x\n"
                                "[region.north]\n"
                                "redis = 127.0.0.1:6379/3\n"
                                "redis_password = s3cret\n"
                                "timezone = Asia/Shanghai\n"
                                "field_days = mon,tue,wed,thu,fri,sat\n"
                                "holidays = 2026-10-01..2026-10-07, 2027-01-01\n"
                                "workdays = 2026-10-10\n"
                                "[region.south-2]\n"
                                "redis = redis.internal:7000\n"
                                "[region.v6]\n"
                                "redis = [::1]:6390/1\n");
    mr_region_cfg r[3];
    char err[256] = "";
    assert_int_equal(mr_config_regions(cfg, r, 3, err, sizeof(err)), 3);

    assert_string_equal(r[0].name, "north");
    assert_string_equal(r[0].redis_host, "127.0.0.1");
    assert_int_equal(r[0].redis_port, 6379);
    assert_int_equal(r[0].redis_db, 3);
    assert_string_equal(r[0].redis_password, "s3cret");
    assert_string_equal(r[0].timezone, "Asia/Shanghai");
    assert_string_equal(r[0].field_days, "mon,tue,wed,thu,fri,sat");
    assert_string_equal(r[0].holidays, "2026-10-01..2026-10-07, 2027-01-01");
    assert_string_equal(r[0].workdays, "2026-10-10");

    assert_string_equal(r[1].name, "south-2");
    assert_string_equal(r[1].redis_host, "redis.internal");
    assert_int_equal(r[1].redis_port, 7000);
    assert_int_equal(r[1].redis_db, 0);
    assert_string_equal(r[1].redis_password, "");
    assert_string_equal(r[1].timezone, "UTC");
    assert_string_equal(r[1].field_days, "mon,tue,wed,thu,fri");
    assert_string_equal(r[1].holidays, "");
    assert_string_equal(r[1].workdays, "");

    assert_string_equal(r[2].redis_host, "::1");
    assert_int_equal(r[2].redis_port, 6390);
    assert_int_equal(r[2].redis_db, 1);

    /* more regions than room is an error, not a silent cut */
    assert_int_equal(mr_config_regions(cfg, r, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 2 regions"));
    mr_config_free(&cfg);

    cfg = must_parse("[broker]\nendpoint = x\n");
    assert_int_equal(mr_config_regions(cfg, r, 3, err, sizeof(err)), 0);
    mr_config_free(&cfg);
}

/* One [region.<name>] section with body must be rejected with `want`. */
static void expect_region_error(const char *name, const char *body, const char *want) {
    char text[512], err[256] = "";
    snprintf(text, sizeof(text), "[region.%s]\n%s", name, body);
    mr_config *cfg = must_parse(text);
    mr_region_cfg r[2];
    int n = mr_config_regions(cfg, r, 2, err, sizeof(err));
    if (n != -1 || strstr(err, want) == NULL)
        fprintf(stderr, "region %s: n=%d err='%s', wanted '%s'\n", name, n, err, want);
    assert_int_equal(n, -1);
    assert_non_null(strstr(err, want));
    mr_config_free(&cfg);
}

static void test_invalid_regions_are_rejected(void **state) {
    (void)state;
    expect_region_error("no rth", "redis = h:1\n", "invalid region name 'no rth'");
    expect_region_error("", "redis = h:1\n", "invalid region name ''");
    expect_region_error("abcdefghijklmnopqrstuvwxyz0123456", "redis = h:1\n",
                        "invalid region name");
    expect_region_error("north", "timezone = UTC\n", "[region.north] redis: missing");
    expect_region_error("north", "redis = localhost\n", "'localhost' is not host:port[/db]");
    expect_region_error("north", "redis = :6379\n", "is not host:port");
    expect_region_error("north", "redis = h:0\n", "is not host:port");
    expect_region_error("north", "redis = h:65536\n", "is not host:port");
    expect_region_error("north", "redis = h:63x9\n", "is not host:port");
    expect_region_error("north", "redis = h:6379/\n", "is not host:port");
    expect_region_error("north", "redis = h:6379/one\n", "is not host:port");
    expect_region_error("north", "redis = [::1:6379\n", "is not host:port");
    expect_region_error("north", "redis = h:1\ntimezone = Mars/Olympus\n",
                        "unknown time zone 'Mars/Olympus'");
    expect_region_error("north", "redis = h:1\nholidays = 2026-02-30\n",
                        "[region.north] calendar: holidays");
    expect_region_error("north", "redis = h:1\nfield_days = mon,funday\n", "calendar: field_days");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_defaults),
        cmocka_unit_test(test_continuation_lines_join_with_a_space),
        cmocka_unit_test(test_bom_and_indented_first_key),
        cmocka_unit_test(test_long_section_names_are_kept_whole),
        cmocka_unit_test(test_syntax_errors_name_the_line),
        cmocka_unit_test(test_overlong_line_is_an_error),
        cmocka_unit_test(test_load_file_errors_name_file_and_line),
        cmocka_unit_test(test_environment_overrides_file),
        cmocka_unit_test(test_environment_is_read_at_load_time),
        cmocka_unit_test(test_environment_names_for_scoped_sections),
        cmocka_unit_test(test_no_file_means_environment_only),
        cmocka_unit_test(test_scoped_lookup_order),
        cmocka_unit_test(test_each_section_in_file_order),
        cmocka_unit_test(test_int_getter),
        cmocka_unit_test(test_double_getter),
        cmocka_unit_test(test_bool_getter),
        cmocka_unit_test(test_region_names),
        cmocka_unit_test(test_regions_parse_with_defaults),
        cmocka_unit_test(test_invalid_regions_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
