/* test_errors.c: status code names and their way back (common/errors.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "errors.h"

static void test_names_of_known_codes(void **state) {
    (void)state;
    assert_string_equal(mr_code_name(MR_OK), "OK");
    assert_string_equal(mr_code_name(MR_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(mr_code_name(MR_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
    assert_string_equal(mr_code_name(MR_FAILED_PRECONDITION), "FAILED_PRECONDITION");
    assert_string_equal(mr_code_name(MR_UNAVAILABLE), "UNAVAILABLE");
}

static void test_unknown_codes_are_named_unknown(void **state) {
    (void)state;
    assert_string_equal(mr_code_name(-1), "UNKNOWN");
    assert_string_equal(mr_code_name(MR_UNAVAILABLE + 1), "UNKNOWN");
    assert_string_equal(mr_code_name(1000000), "UNKNOWN");
}

static void test_every_code_round_trips(void **state) {
    (void)state;
    for (int code = MR_OK; code <= MR_UNAVAILABLE; code++) {
        const char *name = mr_code_name(code);
        assert_non_null(name);
        assert_true(code == MR_UNKNOWN || strcmp(name, "UNKNOWN") != 0);
        assert_int_equal(mr_code_from_name(name), code);
    }
}

static void test_names_match_the_proto_enum(void **state) {
    (void)state;
    for (int code = MR_OK; code <= MR_UNAVAILABLE; code++) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&medrep__code__descriptor, code);
        assert_non_null(v);
        assert_string_equal(mr_code_name(code), v->name);
    }
}

static void test_from_name_ignores_case_and_rejects_others(void **state) {
    (void)state;
    assert_int_equal(mr_code_from_name("not_found"), MR_NOT_FOUND);
    assert_int_equal(mr_code_from_name("Resource_Exhausted"), MR_RESOURCE_EXHAUSTED);
    assert_int_equal(mr_code_from_name("NOT FOUND"), -1);
    assert_int_equal(mr_code_from_name("NOT_FOUNDX"), -1);
    assert_int_equal(mr_code_from_name(""), -1);
    assert_int_equal(mr_code_from_name(NULL), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_of_known_codes),
        cmocka_unit_test(test_unknown_codes_are_named_unknown),
        cmocka_unit_test(test_every_code_round_trips),
        cmocka_unit_test(test_names_match_the_proto_enum),
        cmocka_unit_test(test_from_name_ignores_case_and_rejects_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
