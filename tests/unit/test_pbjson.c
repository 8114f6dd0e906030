/* test_pbjson.c: JSON <-> protobuf through descriptors (pbjson.h): round
 * trips of scalars, 64-bit integers, enums, bytes, repeated fields, nested
 * messages and oneofs; clear errors for unknown fields, wrong types and
 * out-of-range numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "envelope.pb-c.h"
#include "events.pb-c.h"
#include "pbjson.h"

static ProtobufCMessage *parse(const ProtobufCMessageDescriptor *d, const char *text, char *err)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    ProtobufCMessage *m = mr_pb_from_json(d, j, err, 256);
    json_decref(j);
    return m;
}

static void request_round_trip(void **state)
{
    (void)state;
    char err[256] = "";
    Medrep__Request *r = (Medrep__Request *)parse(&medrep__request__descriptor,
        "{\"request_id\":\"r1\",\"deadline_ms\":\"1790000000123\",\"method\":\"Status\","
        "\"caller\":{\"user_id\":\"u7\",\"role\":\"rep\"},\"payload\":\"aGVsbG8=\"}", err);
    assert_non_null(r);
    assert_string_equal(r->request_id, "r1");
    assert_true(r->has_deadline_ms);
    assert_int_equal(r->deadline_ms, 1790000000123LL);
    assert_string_equal(r->caller->user_id, "u7");
    assert_int_equal(r->payload.len, 5);
    assert_memory_equal(r->payload.data, "hello", 5);
    json_t *back = mr_pb_to_json(&r->base);
    assert_string_equal(json_string_value(json_object_get(back, "payload")), "aGVsbG8=");
    assert_int_equal(json_integer_value(json_object_get(back, "deadline_ms")), 1790000000123LL);
    assert_null(json_object_get(back, "region"));   /* absent stays absent */
    json_decref(back);
    medrep__request__free_unpacked(r, NULL);
}

static void enums_repeated_and_oneof(void **state)
{
    (void)state;
    char err[256] = "";
    Medrep__Status *st = (Medrep__Status *)parse(&medrep__status__descriptor,
        "{\"code\":\"NOT_FOUND\",\"message\":\"x\"}", err);
    assert_non_null(st);
    assert_int_equal(st->code, MEDREP__CODE__NOT_FOUND);
    json_t *j = mr_pb_to_json(&st->base);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "NOT_FOUND");
    json_decref(j);
    medrep__status__free_unpacked(st, NULL);

    Medrep__StatusReply *sr = (Medrep__StatusReply *)parse(&medrep__status_reply__descriptor,
        "{\"regions\":[\"north\",\"south\"],\"uptime_ms\":5}", err);
    assert_non_null(sr);
    assert_int_equal(sr->n_regions, 2);
    assert_string_equal(sr->regions[1], "south");
    medrep__status_reply__free_unpacked(sr, NULL);

    Medrep__Event *ev = (Medrep__Event *)parse(&medrep__event__descriptor,
        "{\"event_id\":\"e1\",\"probe\":{\"token\":\"t\",\"value\":3}}", err);
    assert_non_null(ev);
    assert_int_equal(ev->body_case, MEDREP__EVENT__BODY_PROBE);
    assert_int_equal(ev->probe->value, 3);
    j = mr_pb_to_json(&ev->base);
    assert_non_null(json_object_get(j, "probe"));
    assert_null(json_object_get(j, "call_logged"));
    json_decref(j);
    medrep__event__free_unpacked(ev, NULL);
}

static void errors_name_the_field(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(parse(&medrep__request__descriptor, "{\"nosuch\":1}", err));
    assert_non_null(strstr(err, "nosuch"));
    assert_null(parse(&medrep__request__descriptor, "{\"method\":5}", err));
    assert_non_null(strstr(err, "method"));
    assert_null(parse(&medrep__worker_info__descriptor, "{\"credits\":99999999999}", err));
    assert_non_null(strstr(err, "out of range"));
    assert_null(parse(&medrep__status__descriptor, "{\"code\":\"NOPE\"}", err));
    assert_null(parse(&medrep__request__descriptor, "{\"payload\":\"***\"}", err));
    assert_null(parse(&medrep__request__descriptor, "{\"caller\":[1]}", err));
    assert_null(parse(&medrep__status_reply__descriptor, "{\"regions\":[\"a\",2]}", err));
    assert_non_null(strstr(err, "regions"));
    assert_null(parse(&medrep__request__descriptor, "[]", err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_round_trip),
        cmocka_unit_test(enums_repeated_and_oneof),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
