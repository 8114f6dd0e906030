/* test_service_shell.c: the service shell and the broker through real
 * processes: a request takes effect once and its retry gets the stored
 * reply; clear errors for unknown services, methods and regions, bad
 * payloads and passed deadlines; Status of one named instance; the
 * client's bound on requests in flight, and the broker's bound on what
 * one client may have outstanding; a read-only method answers without the
 * stored-reply lookup, and one that tries to write fails INTERNAL. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "calls.h"
#include "errors.h"
#include "stack.h"

static h_stack stack;
static mr_client *client;
static mr_store *store;

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, "[broker]\nmax_per_client = 4\n") != 0)
        return -1;
    if (h_stack_start_service(&stack, "test-counter", "counter-a", NULL) < 0 ||
        h_stack_wait_workers(&stack, "counter", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 16, 1000);
    store = h_stack_store(&stack, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static long long counter(void)
{
    return h_redis_int(store, "GET %s", "{r:north}:counter");
}

static void test_retry_replays_stored_reply(void **state)
{
    (void)state;
    long long before = counter();
    bool replayed = true;
    assert_int_equal(h_call_code(client, "counter", "Increment", "north", 1, "req-once", &replayed), MR_OK);
    assert_false(replayed);
    assert_int_equal(counter(), before + 1);
    assert_int_equal(h_call_code(client, "counter", "Increment", "north", 1, "req-once", &replayed), MR_OK);
    assert_true(replayed);
    assert_int_equal(counter(), before + 1);
    assert_int_equal(h_call_code(client, "counter", "Increment", "north", 1, "req-twice", &replayed), MR_OK);
    assert_int_equal(counter(), before + 2);
}

static void test_clear_errors_change_nothing(void **state)
{
    (void)state;
    long long before = counter();
    assert_int_equal(h_call_code(client, "nosuch", "Increment", "north", 1, NULL, NULL), MR_NOT_FOUND);
    assert_int_equal(h_call_code(client, "counter", "Explode", "north", 1, NULL, NULL), MR_UNIMPLEMENTED);
    assert_int_equal(h_call_code(client, "counter", "Increment", "south", 1, NULL, NULL), MR_NOT_FOUND);
    assert_int_equal(h_call_code(client, "counter", "Increment", "no such!", 1, NULL, NULL),
                     MR_INVALID_ARGUMENT);
    assert_int_equal(h_call_code(client, "counter", "Increment", NULL, 1, NULL, NULL), MR_INVALID_ARGUMENT);

    Medrep__Request req = MEDREP__REQUEST__INIT;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0x0f, 0x12};
    req.method = "Increment";
    req.region = "north";
    req.payload.data = junk;
    req.payload.len = sizeof junk;
    req.has_payload = true;
    Medrep__Reply *reply = mr_client_call(client, "counter", &req, 5000);
    assert_int_equal(reply->status->code, MR_INVALID_ARGUMENT);
    assert_non_null(strstr(reply->status->message, "Probe"));
    medrep__reply__free_unpacked(reply, NULL);
    assert_int_equal(counter(), before);
}

/* Redis's count of GET commands so far (INFO commandstats). */
static long long get_calls(void)
{
    mr_val *v = mr_store_cmd(store, "INFO commandstats");
    const char *text = v ? mr_val_str(v, NULL) : NULL;
    const char *at = text ? strstr(text, "cmdstat_get:calls=") : NULL;
    long long n = at ? atoll(at + strlen("cmdstat_get:calls=")) : 0;
    mr_val_free(&v);
    return n;
}

/* Read (marked) does its own GET of the counter and nothing else;
 * ReadUnmarked also pays the shell's GET of a stored reply. */
static void test_read_only_skips_reply_lookup(void **state)
{
    (void)state;
    enum { N = 20 };
    long long g0 = get_calls();
    for (int i = 0; i < N; i++)
        assert_int_equal(h_call_code(client, "counter", "Read", "north", 0, NULL, NULL), MR_OK);
    long long g1 = get_calls();
    for (int i = 0; i < N; i++)
        assert_int_equal(h_call_code(client, "counter", "ReadUnmarked", "north", 0, NULL, NULL), MR_OK);
    long long g2 = get_calls();
    assert_int_equal(g1 - g0, N);
    assert_int_equal(g2 - g1, 2 * N);
    /* a retried read reads again: nothing is stored for it */
    bool replayed = true;
    assert_int_equal(h_call_code(client, "counter", "Read", "north", 0, "ro-1", &replayed), MR_OK);
    assert_false(replayed);
    assert_int_equal(h_redis_int(store, "EXISTS %s", "{r:north}:reply:counter:ro-1"), 0);
}

static void test_read_only_write_fails_internal(void **state)
{
    (void)state;
    assert_int_equal(h_call_code(client, "counter", "Increment", "north", 1, NULL, NULL), MR_OK);
    long long before = counter();
    long long events = h_redis_int(store, "XLEN %s", "{r:north}:events");
    assert_true(events > 0);
    bool replayed = true;
    assert_int_equal(h_call_code(client, "counter", "ReadWrite", "north", 0, "ro-liar", &replayed),
                     MR_INTERNAL);
    assert_false(replayed);
    assert_int_equal(counter(), before);
    assert_int_equal(h_redis_int(store, "XLEN %s", "{r:north}:events"), events);
    assert_int_equal(h_redis_int(store, "EXISTS %s", "{r:north}:reply:counter:ro-liar"), 0);
    /* the service keeps serving */
    assert_int_equal(h_call_code(client, "counter", "Read", "north", 0, NULL, NULL), MR_OK);
}

static void test_deadline_is_reported(void **state)
{
    (void)state;
    uint8_t buf[64];
    Medrep__Request req;
    /* shorter than the worker's heartbeat liveness (5 x 100 ms) */
    h_probe_request(&req, "Sleep", "north", 400, buf);
    Medrep__Reply *reply = mr_client_call(client, "counter", &req, 150);
    assert_int_equal(reply->status->code, MR_DEADLINE_EXCEEDED);
    medrep__reply__free_unpacked(reply, NULL);
    /* a request already past its deadline is refused by the broker */
    h_probe_request(&req, "Increment", "north", 1, buf);
    req.deadline_ms = 1000;
    req.has_deadline_ms = true;
    reply = mr_client_call(client, "counter", &req, 300);
    assert_int_equal(reply->status->code, MR_DEADLINE_EXCEEDED);
    medrep__reply__free_unpacked(reply, NULL);
}

static void test_status_of_named_instance(void **state)
{
    (void)state;
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = "Status";
    req.target_instance = "counter-a";
    Medrep__Reply *reply = mr_client_call(client, "counter", &req, 5000);
    assert_int_equal(reply->status->code, MR_OK);
    Medrep__StatusReply *st = medrep__status_reply__unpack(NULL, reply->payload.len, reply->payload.data);
    assert_non_null(st);
    assert_string_equal(st->instance, "counter-a");
    assert_string_equal(st->service, "counter");
    assert_string_equal(st->redis_state, "ok");
    assert_true(st->requests_served > 0);
    medrep__status_reply__free_unpacked(st, NULL);
    medrep__reply__free_unpacked(reply, NULL);

    Medrep__Request other = MEDREP__REQUEST__INIT;
    other.method = "Status";
    other.target_instance = "counter-zzz";
    reply = mr_client_call(client, "counter", &other, 5000);
    assert_int_equal(reply->status->code, MR_NOT_FOUND);
    medrep__reply__free_unpacked(reply, NULL);
}

static void test_client_bounds_requests_in_flight(void **state)
{
    (void)state;
    mr_client *small = h_stack_client(&stack, 2, 1000);
    uint8_t buf[64];
    Medrep__Request req;
    h_probe_request(&req, "Sleep", "north", 100, buf);
    assert_int_equal(mr_client_submit(small, "counter", &req, 5000, 1), 0);
    h_probe_request(&req, "Sleep", "north", 100, buf);
    assert_int_equal(mr_client_submit(small, "counter", &req, 5000, 2), 0);
    h_probe_request(&req, "Sleep", "north", 100, buf);
    assert_int_equal(mr_client_submit(small, "counter", &req, 5000, 3), -1);
    int done = 0;
    while (done < 2) {
        uint64_t tag;
        Medrep__Reply *reply;
        if (mr_client_poll(small, 1000, &tag, &reply) == 1) {
            assert_int_equal(reply->status->code, MR_OK);
            medrep__reply__free_unpacked(reply, NULL);
            done++;
        }
    }
    assert_int_equal(mr_client_inflight(small), 0);
    mr_client_free(&small);
}

static void test_broker_bounds_requests_per_client(void **state)
{
    (void)state;
    mr_client *greedy = h_stack_client(&stack, 10, 5000);
    for (uint64_t i = 0; i < 10; i++) {
        uint8_t buf[64];
        Medrep__Request req;
        h_probe_request(&req, "Sleep", "north", 100, buf);
        assert_int_equal(mr_client_submit(greedy, "counter", &req, 5000, i), 0);
    }
    int ok = 0, exhausted = 0, done = 0;
    while (done < 10) {
        uint64_t tag;
        Medrep__Reply *reply;
        if (mr_client_poll(greedy, 1000, &tag, &reply) != 1)
            continue;
        ok += reply->status->code == MEDREP__CODE__OK;
        exhausted += reply->status->code == MEDREP__CODE__RESOURCE_EXHAUSTED;
        medrep__reply__free_unpacked(reply, NULL);
        done++;
    }
    assert_int_equal(ok, 4);
    assert_int_equal(exhausted, 6);
    mr_client_free(&greedy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_replays_stored_reply),
        cmocka_unit_test(test_clear_errors_change_nothing),
        cmocka_unit_test(test_read_only_skips_reply_lookup),
        cmocka_unit_test(test_read_only_write_fails_internal),
        cmocka_unit_test(test_deadline_is_reported),
        cmocka_unit_test(test_status_of_named_instance),
        cmocka_unit_test(test_client_bounds_requests_in_flight),
        cmocka_unit_test(test_broker_bounds_requests_per_client),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
