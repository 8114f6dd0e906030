/* test_transport_kill.c: two workers of one service, 10,000 requests
 * from 4 clients, one worker killed with SIGKILL midway. Every request
 * must be answered OK, and none may take effect twice: the service's own
 * counter in Redis equals the number of distinct request ids, and each id
 * was applied exactly once. */
// ctest-label: fault
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "errors.h"
#include "events.pb-c.h"
#include "calls.h"
#include "stack.h"
#include "store.h"

#define CLIENTS 4
#define PER_CLIENT 2500
#define WINDOW 32

static h_stack stack;

typedef struct {
    int index;
    int ok;
    int failed;
    uint64_t retries;
    atomic_int *sent_total;
} client_job;

static void *client_main(void *arg)
{
    client_job *job = arg;
    mr_client *c = h_stack_client(&stack, WINDOW, 300);
    uint8_t payload[64];
    int submitted = 0, done = 0;
    while (done < PER_CLIENT) {
        while (submitted < PER_CLIENT && mr_client_inflight(c) < WINDOW) {
            Medrep__Request req;
            h_probe_request(&req, "Increment", "north", 1, payload);
            if (mr_client_submit(c, "counter", &req, 30000, (uint64_t)submitted) != 0)
                break;
            submitted++;
            atomic_fetch_add(job->sent_total, 1);
        }
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 100, &tag, &reply) == 1) {
            if (reply->status && reply->status->code == MEDREP__CODE__OK)
                job->ok++;
            else {
                job->failed++;
                fprintf(stderr, "client %d: %s %s\n", job->index,
                        mr_code_name(reply->status ? (int)reply->status->code : 0),
                        reply->status && reply->status->message ? reply->status->message : "");
            }
            medrep__reply__free_unpacked(reply, NULL);
            done++;
        }
    }
    job->retries = mr_client_retries(c);
    mr_client_free(&c);
    return NULL;
}

/* Counts the request ids applied more than once. */
static long long ids_applied_twice(mr_store *store)
{
    mr_val *v = mr_store_cmd(store, "HVALS %s", "{r:north}:counter:by_id");
    long long twice = 0;
    for (size_t i = 0; v && i < mr_val_count(v); i++)
        if (strcmp(mr_val_str(mr_val_at(v, i), NULL), "1") != 0)
            twice++;
    mr_val_free(&v);
    return twice;
}

static void test_kill_worker_midway(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NULL), 0);
    int w1 = h_stack_start_service(&stack, "test-counter", "counter-1", NULL);
    int w2 = h_stack_start_service(&stack, "test-counter", "counter-2", NULL);
    assert_true(w1 >= 0 && w2 >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "counter", 2, 10000), 0);

    atomic_int sent = 0;
    client_job jobs[CLIENTS];
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i] = (client_job){.index = i, .sent_total = &sent};
        pthread_create(&threads[i], NULL, client_main, &jobs[i]);
    }
    while (atomic_load(&sent) < CLIENTS * PER_CLIENT / 2)
        usleep(1000);
    h_proc_kill(&stack.procs[w1], SIGKILL);
    fprintf(stderr, "killed counter-1 after %d requests sent\n", atomic_load(&sent));
    int ok = 0, failed = 0;
    uint64_t retries = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        ok += jobs[i].ok;
        failed += jobs[i].failed;
        retries += jobs[i].retries;
    }
    fprintf(stderr, "answered ok=%d failed=%d client retries=%llu\n", ok, failed,
            (unsigned long long)retries);
    assert_int_equal(ok, CLIENTS * PER_CLIENT);
    assert_int_equal(failed, 0);

    mr_store *store = h_stack_store(&stack, 0);
    long long counter = h_redis_int(store, "GET %s", "{r:north}:counter");
    long long distinct = h_redis_int(store, "HLEN %s", "{r:north}:counter:by_id");
    long long events = h_redis_int(store, "XLEN %s", "{r:north}:events");
    fprintf(stderr, "counter=%lld distinct ids=%lld events=%lld\n", counter, distinct, events);
    assert_int_equal(distinct, CLIENTS * PER_CLIENT);
    assert_int_equal(counter, distinct);
    assert_int_equal(events, distinct);
    assert_int_equal(ids_applied_twice(store), 0);
    mr_store_free(&store);
    stack.procs[w1].pid = 0;   /* already reaped by h_proc_kill */
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_worker_midway),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
