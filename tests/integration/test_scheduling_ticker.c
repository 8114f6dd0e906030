/* test_scheduling_ticker.c: the scheduling service's own ticker through
 * the real broker on a real Redis. A burst of CustomerRegraded events
 * marks the rep dirty and is replanned once after the quiet period, even
 * when the instance that took the events is SIGKILLed before the replan
 * (another instance finds the durable mark). The daily pace check runs
 * once per local date under a date-named request id, with two instances
 * and a restart. */
// ctest-label: fault
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "events.h"
#include "masterdata.h"
#include "scheduling.pb-c.h"
#include "stack.h"

#define NCUST 20

static void commit(mr_store *store, mr_tx *tx)
{
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_reset(tx);
}

static void stage_rep(mr_store *store)
{
    mr_tx *tx = mr_tx_new();
    mr_rep r = {.home_lat = 31.2, .home_lon = 121.45};
    snprintf(r.id, sizeof r.id, "T1");
    snprintf(r.team, sizeof r.team, "ONC");
    assert_int_equal(mr_md_stage_rep(tx, "north", &r, NULL), 0);
    for (int h = 0; h < 3; h++) {
        mr_hospital ho = {.tier = 3, .lat = 31.2 + 0.02 * h, .lon = 121.47};
        snprintf(ho.id, sizeof ho.id, "TH%d", h);
        assert_int_equal(mr_md_stage_hospital(tx, "north", &ho), 0);
    }
    for (int i = 0; i < NCUST; i++) {
        mr_customer c = {.kind = MR_CUSTOMER_PRESCRIBER};
        snprintf(c.id, sizeof c.id, "TC%02d", i);
        snprintf(c.hospital_id, sizeof c.hospital_id, "TH%d", i % 3);
        snprintf(c.rep_id, sizeof c.rep_id, "T1");
        assert_int_equal(mr_md_stage_customer(tx, "north", &c, NULL), 0);
    }
    commit(store, tx);
    mr_tx_free(&tx);
}

static void regrade(mr_store *store, int i, const char *seg, int n)
{
    mr_tx *tx = mr_tx_new();
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
    char cust[16], id[32];
    snprintf(cust, sizeof cust, "TC%02d", i);
    snprintf(id, sizeof id, "grade-%d-%d", i, n);
    g.customer_id = cust, g.product_id = "P1", g.new_segment = (char *)seg, g.rep_id = "T1";
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &g;
    ev.region = "north", ev.event_id = id, ev.source = "test";
    ev.occurred_ms = mr_now_ms(), ev.has_occurred_ms = true;
    assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
    commit(store, tx);
    mr_tx_free(&tx);
}

/* Waits until the scheduling group has read and acknowledged every event. */
static void wait_events_handled(mr_store *store)
{
    if (h_wait_events_handled(store, "north", "scheduling", 20000) != 0)
        fail_msg("events not handled in time");
}

static void wait_not_dirty(mr_store *store)
{
    for (int i = 0; i < 400; i++) {
        if (h_redis_int(store, "ZCARD %s", "{r:north}:sched:dirty") == 0)
            return;
        usleep(50000);
    }
    fail_msg("the dirty rep was not replanned in time");
}

static void next_month(char *out, size_t cap)
{
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    snprintf(out, cap, "%04d-%02d", (lt.month == 12 ? lt.year + 1 : lt.year) % 10000, lt.month % 12 + 1);
    mr_tz_free(&tz);
}

static Medrep__PlanReply *plan(mr_client *c, const char *method, const char *month)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "T1";
    req.period = (char *)month;
    Medrep__PlanReply *out = NULL;
    char msg[256];
    int code = mr_client_rpc(c, "scheduling", method, "north", NULL, &req.base, &medrep__plan_reply__descriptor,
                             (ProtobufCMessage **)&out, 20000, msg, sizeof msg);
    if (code != MR_OK)
        fail_msg("%s: %s %s", method, mr_code_name(code), msg);
    return out;
}

/* Planned calls of customer planned as segment seg; -1 when one was planned as another. */
static int planned_as(const Medrep__PlanReply *p, const char *customer, const char *seg)
{
    int n = 0;
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        if (strcmp(c->customer_id, customer) || strcmp(c->state, "planned"))
            continue;
        if (strcmp(c->segment, seg))
            return -1;
        n++;
    }
    return n;
}

static void test_regrades_replanned_once_across_sigkill(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions,
                                   "[scheduling]\nregrade_quiet_ms = 3000\nticker_interval_ms = 100\n"
                                   "ticker_lease_ms = 500\ndaily_check_at = off\n"), 0);
    int a = h_stack_start_service(&stack, "scheduling", "sched-t1", NULL);
    assert_true(a >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scheduling", 1, 10000), 0);
    mr_store *store = h_stack_store(&stack, 0);
    mr_client *c = h_stack_client(&stack, 4, 20000);
    stage_rep(store);
    for (int i = 0; i < NCUST; i++)
        regrade(store, i, i < 4 ? "A" : i < 10 ? "B" : "D", 0);
    wait_events_handled(store);
    wait_not_dirty(store);
    char month[16];
    next_month(month, sizeof month);
    Medrep__PlanReply *p = plan(c, "Plan", month);
    assert_true(planned_as(p, "TC19", "D") >= 1);
    medrep__plan_reply__free_unpacked(p, NULL);
    long long ver0 = h_redis_int(store, "GET %s", "{r:north}:sched:ver:T1");
    /* a burst of five grade changes: marked, not yet replanned */
    for (int i = 15; i < 20; i++)
        regrade(store, i, "A", 1);
    wait_events_handled(store);
    assert_int_equal(h_redis_int(store, "ZCARD %s", "{r:north}:sched:dirty"), 1);
    assert_int_equal(h_redis_int(store, "GET %s", "{r:north}:sched:ver:T1"), ver0);
    /* the instance dies before the quiet period is over; another takes over */
    h_proc_kill(&stack.procs[a], SIGKILL);
    stack.procs[a].pid = 0;     /* killed on purpose */
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-t2", NULL) >= 0);
    wait_not_dirty(store);
    /* one replan for the five changes, and it used them */
    assert_int_equal(h_redis_int(store, "GET %s", "{r:north}:sched:ver:T1"), ver0 + 1);
    p = plan(c, "GetPlan", month);
    assert_true(planned_as(p, "TC19", "A") >= 3);
    assert_true(planned_as(p, "TC15", "A") >= 3);
    medrep__plan_reply__free_unpacked(p, NULL);
    /* ReplanDirty by hand: a bad id is refused, a clean rep is left alone */
    Medrep__ReplanDirtyRequest rd = MEDREP__REPLAN_DIRTY_REQUEST__INIT;
    Medrep__ReplanDirtyReply *ro = NULL;
    char msg[256];
    rd.rep_id = "bad id!";
    assert_int_equal(mr_client_rpc(c, "scheduling", "ReplanDirty", "north", NULL, &rd.base,
                                   &medrep__replan_dirty_reply__descriptor, (ProtobufCMessage **)&ro, 20000, msg,
                                   sizeof msg), MR_INVALID_ARGUMENT);
    rd.rep_id = "T1";
    assert_int_equal(mr_client_rpc(c, "scheduling", "ReplanDirty", "north", NULL, &rd.base,
                                   &medrep__replan_dirty_reply__descriptor, (ProtobufCMessage **)&ro, 20000, msg,
                                   sizeof msg), MR_OK);
    assert_false(ro->replanned);
    medrep__replan_dirty_reply__free_unpacked(ro, NULL);
    assert_int_equal(h_redis_int(store, "GET %s", "{r:north}:sched:ver:T1"), ver0 + 1);
    mr_client_free(&c);
    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

static void test_daily_check_once_per_date(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions,
                                   "[scheduling]\nticker_interval_ms = 100\nticker_lease_ms = 500\n"
                                   "[scheduling@region:north]\ndaily_check_at = 00:00\n"), 0);
    mr_store *store = h_stack_store(&stack, 0);
    stage_rep(store);
    int d1 = h_stack_start_service(&stack, "scheduling", "sched-d1", NULL);
    assert_true(d1 >= 0);
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-d2", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scheduling", 2, 10000), 0);
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    mr_tz_free(&tz);
    char date[16], cmd[64], reply[96];
    snprintf(date, sizeof date, "%04d-%02d-%02d", lt.year % 10000, lt.month % 100, lt.day % 100);
    snprintf(cmd, sizeof cmd, "HGET %%s %s", date);
    snprintf(reply, sizeof reply, "{r:north}:reply:scheduling:sch-daily-north-%s", date);
    long long runs = 0;
    for (int i = 0; i < 200 && runs == 0; i++) {
        runs = h_redis_int(store, cmd, "{r:north}:sched:pace:runs");
        usleep(50000);
    }
    assert_int_equal(runs, 1);
    assert_int_equal(h_redis_int(store, "EXISTS %s", reply), 1);
    /* the lease names one live instance */
    mr_val *v = mr_store_cmd(store, "GET %s", "{r:north}:sched:ticker:lease");
    const char *holder = v && mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, NULL) : "";
    assert_true(!strcmp(holder, "sched-d1") || !strcmp(holder, "sched-d2"));
    mr_val_free(&v);
    /* a restart (a fresh ticker) and more ticks: still once */
    h_proc_kill(&stack.procs[d1], SIGTERM);
    stack.procs[d1].pid = 0;
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-d3", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scheduling", 2, 10000), 0);
    usleep(1500 * 1000);
    assert_int_equal(h_redis_int(store, cmd, "{r:north}:sched:pace:runs"), 1);
    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regrades_replanned_once_across_sigkill),
        cmocka_unit_test(test_daily_check_once_per_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
