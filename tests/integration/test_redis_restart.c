/* test_redis_restart.c: Redis killed with SIGKILL and restarted under
 * load. Meanwhile the service answers UNAVAILABLE (and says so in its
 * Status); afterwards it answers OK again by itself; nothing is
 * half-written: the counter, the per-request record and the event stream
 * agree exactly, and every request answered OK is in them once. */
// ctest-label: fault
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "stack.h"

#define MAX_REQUESTS 200000

static char ok_ids[MAX_REQUESTS];   /* 1 when request n was answered OK */

typedef struct {
    int ok, unavailable, other;
    int ok_after_restart;
} tally;

static void count_reply(tally *t, uint64_t tag, const Medrep__Reply *r, bool restarted)
{
    int code = r->status ? (int)r->status->code : MR_OK;
    if (code == MR_OK) {
        t->ok++;
        ok_ids[tag] = 1;
        t->ok_after_restart += restarted;
    } else if (code == MR_UNAVAILABLE || code == MR_DEADLINE_EXCEEDED) {
        t->unavailable++;
    } else {
        t->other++;
        fprintf(stderr, "unexpected %s: %s\n", mr_code_name(code), r->status->message);
    }
}

static bool status_says_redis_down(h_stack *s)
{
    mr_client *c = h_stack_client(s, 2, 1000);
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = "Status";
    Medrep__Reply *reply = mr_client_call(c, "counter", &req, 3000);
    bool down = false;
    Medrep__StatusReply *st = reply->status && reply->status->code == MEDREP__CODE__OK
        ? medrep__status_reply__unpack(NULL, reply->payload.len, reply->payload.data) : NULL;
    if (st) {
        fprintf(stderr, "status during the outage: redis=%s\n", st->redis_state);
        down = strcmp(st->redis_state, "ok") != 0;
        medrep__status_reply__free_unpacked(st, NULL);
    }
    medrep__reply__free_unpacked(reply, NULL);
    mr_client_free(&c);
    return down;
}

static void test_redis_restart_under_load(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, "[service]\ncredits = 4\n"), 0);
    assert_true(h_stack_start_service(&stack, "test-counter", "counter-1", NULL) >= 0);
    assert_true(h_stack_start_service(&stack, "test-counter", "counter-2", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "counter", 2, 10000), 0);
    mr_client *c = h_stack_client(&stack, 8, 1000);
    tally t = {0};
    int64_t start = mr_mono_ms();
    bool killed = false, restarted = false, status_checked = false, status_down = false;
    uint64_t submitted = 0;
    while (mr_client_inflight(c) > 0 || mr_mono_ms() - start < 6000) {
        int64_t elapsed = mr_mono_ms() - start;
        if (!killed && elapsed > 1000) {
            h_redis_kill(&stack.redis[0], SIGKILL);
            killed = true;
        }
        if (killed && !status_checked && elapsed > 1500) {
            status_down = status_says_redis_down(&stack);
            status_checked = true;
        }
        if (!restarted && elapsed > 2500) {
            assert_int_equal(h_redis_restart(&stack.redis[0]), 0);
            restarted = true;
        }
        while (elapsed < 6000 && submitted < MAX_REQUESTS && mr_client_inflight(c) < 8) {
            uint8_t buf[64];
            char id[32];
            Medrep__Request req;
            h_probe_request(&req, "Increment", "north", 1, buf);
            snprintf(id, sizeof id, "rr-%llu", (unsigned long long)submitted);
            req.request_id = id;
            assert_int_equal(mr_client_submit(c, "counter", &req, 2000, submitted), 0);
            submitted++;
        }
        uint64_t tag;
        Medrep__Reply *reply;
        if (mr_client_poll(c, 20, &tag, &reply) == 1) {
            count_reply(&t, tag, reply, restarted);
            medrep__reply__free_unpacked(reply, NULL);
        }
    }
    fprintf(stderr, "submitted=%llu ok=%d unavailable=%d other=%d ok_after_restart=%d\n",
            (unsigned long long)submitted, t.ok, t.unavailable, t.other, t.ok_after_restart);
    assert_true(status_down);
    assert_true(t.unavailable > 0);
    assert_true(t.ok_after_restart > 0);
    assert_int_equal(t.other, 0);

    mr_store *store = h_stack_store(&stack, 0);
    long long counter = h_redis_int(store, "GET %s", "{r:north}:counter");
    long long distinct = h_redis_int(store, "HLEN %s", "{r:north}:counter:by_id");
    long long events = h_redis_int(store, "XLEN %s", "{r:north}:events");
    fprintf(stderr, "counter=%lld distinct=%lld events=%lld\n", counter, distinct, events);
    assert_int_equal(counter, distinct);
    assert_int_equal(events, distinct);
    assert_true(distinct >= t.ok);
    int missing = 0;
    for (uint64_t n = 0; n < submitted; n++) {
        if (!ok_ids[n])
            continue;
        char id[32];
        snprintf(id, sizeof id, "rr-%llu", (unsigned long long)n);
        mr_val *v = mr_store_cmd(store, "HGET {r:north}:counter:by_id %s", id);
        missing += !(v && mr_val_type(v) == MR_VAL_STRING && strcmp(mr_val_str(v, NULL), "1") == 0);
        mr_val_free(&v);
    }
    assert_int_equal(missing, 0);
    mr_store_free(&store);
    mr_client_free(&c);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_restart_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
