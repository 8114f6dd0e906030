/* test_events_kill.c: durable events. An event emitted while its consumer
 * service is down is handled once it starts; with two instances of the
 * consumer, 10,000 events are each handled once in effect, also when one
 * instance is SIGKILLed midway (the other claims what it left pending). */
// ctest-label: fault
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "events.h"
#include "ids.h"
#include "stack.h"

#define SINK_KEY "{r:north}:sink:sink"

static const char *const sink_env[] = {"MEDREP_TEST_SERVICE=sink", NULL};

/* Waits until HLEN of the sink reaches want; returns the last length. */
static long long wait_handled(mr_store *store, long long want, int timeout_ms)
{
    int64_t end = mr_mono_ms() + timeout_ms;
    long long n = 0;
    while ((n = h_redis_int(store, "HLEN %s", SINK_KEY)) < want && mr_mono_ms() < end)
        usleep(20 * 1000);
    return n;
}

/* Appends count Probe events to the north stream, 500 per transaction. */
static void emit_probes(mr_store *store, int count)
{
    mr_tx *tx = mr_tx_new();
    for (int i = 0; i < count; i++) {
        char id[33];
        mr_random_id(id, sizeof id);
        Medrep__Probe probe = MEDREP__PROBE__INIT;
        Medrep__Event ev = MEDREP__EVENT__INIT;
        ev.event_id = id;
        ev.region = "north";
        ev.body_case = MEDREP__EVENT__BODY_PROBE;
        ev.probe = &probe;
        assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
        if (mr_tx_count(tx) == 500 || i == count - 1) {
            assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
            mr_tx_reset(tx);
        }
    }
    mr_tx_free(&tx);
}

static long long values_not_one(mr_store *store)
{
    mr_val *v = mr_store_cmd(store, "HVALS %s", SINK_KEY);
    long long bad = 0;
    for (size_t i = 0; v && i < mr_val_count(v); i++)
        bad += strcmp(mr_val_str(mr_val_at(v, i), NULL), "1") != 0;
    mr_val_free(&v);
    return bad;
}

static void test_event_waits_for_consumer_then_survives_kill(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NULL), 0);
    assert_true(h_stack_start_service(&stack, "test-counter", "counter-e", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "counter", 1, 10000), 0);
    mr_client *c = h_stack_client(&stack, 8, 1000);
    mr_store *store = h_stack_store(&stack, 0);

    /* 1. events emitted while the sink service has never run */
    for (int i = 0; i < 50; i++)
        assert_int_equal(h_call_code(c, "counter", "Increment", "north", 1, NULL, NULL), MR_OK);
    usleep(300 * 1000);
    assert_int_equal(h_redis_int(store, "HLEN %s", SINK_KEY), 0);
    int sink1 = h_stack_start_service(&stack, "test-counter", "sink-1", sink_env);
    assert_true(sink1 >= 0);
    assert_int_equal(wait_handled(store, 50, 20000), 50);

    /* 2. two instances, 10,000 events, one killed midway */
    int sink2 = h_stack_start_service(&stack, "test-counter", "sink-2", sink_env);
    assert_true(sink2 >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "sink", 2, 10000), 0);
    emit_probes(store, 10000);
    long long before_kill = wait_handled(store, 50 + 4000, 60000);
    h_proc_kill(&stack.procs[sink1], SIGKILL);
    stack.procs[sink1].pid = 0;
    fprintf(stderr, "sink-1 killed with %lld events handled\n", before_kill);
    long long handled = wait_handled(store, 10050, 120000);
    usleep(1500 * 1000);   /* anything handled twice would show up by now */
    handled = h_redis_int(store, "HLEN %s", SINK_KEY);
    fprintf(stderr, "handled %lld distinct events\n", handled);
    assert_int_equal(handled, 10050);
    assert_int_equal(values_not_one(store), 0);
    assert_int_equal(h_redis_int(store, "HGET %s probe", "{r:north}:handled:sink"), 10050);
    mr_val *pending = mr_store_cmd(store, "XPENDING %s sink", "{r:north}:events");
    assert_non_null(pending);
    assert_int_equal(mr_val_int(mr_val_at(pending, 0)), 0);
    mr_val_free(&pending);

    mr_client_free(&c);
    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_waits_for_consumer_then_survives_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
