/* test_scheduling_kill.c: two scheduling instances behind the broker; one
 * is SIGKILLed while call reports, plans and grade events flow. Every
 * report is stored once with one CallLogged event, every plan call in the
 * index has its record (and the other way round), and every event is
 * handled by the surviving instance. Concurrent replans of one rep on
 * two instances never interleave (an optimistic version check at commit:
 * the loser is answered ABORTED and retried): the stored plan is one
 * plan. */
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

#define REPORTS 120
#define NCUST 20

static void stage_rep(mr_store *store)
{
    mr_tx *tx = mr_tx_new();
    mr_rep r = {.home_lat = 31.2, .home_lon = 121.45};
    snprintf(r.id, sizeof r.id, "K1");
    snprintf(r.team, sizeof r.team, "ONC");
    assert_int_equal(mr_md_stage_rep(tx, "north", &r, NULL), 0);
    for (int h = 0; h < 3; h++) {
        mr_hospital ho = {.tier = 3, .lat = 31.2 + 0.02 * h, .lon = 121.47};
        snprintf(ho.id, sizeof ho.id, "KH%d", h);
        snprintf(ho.name, sizeof ho.name, "Hospital %d", h);
        assert_int_equal(mr_md_stage_hospital(tx, "north", &ho), 0);
    }
    for (int i = 0; i < NCUST; i++) {
        mr_customer c = {.kind = MR_CUSTOMER_PRESCRIBER};
        snprintf(c.id, sizeof c.id, "KC%02d", i);
        snprintf(c.hospital_id, sizeof c.hospital_id, "KH%d", i % 3);
        snprintf(c.rep_id, sizeof c.rep_id, "K1");
        assert_int_equal(mr_md_stage_customer(tx, "north", &c, NULL), 0);
    }
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
}

static void regrade(mr_store *store, int i)
{
    mr_tx *tx = mr_tx_new();
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
    char cust[16], id[32];
    snprintf(cust, sizeof cust, "KC%02d", i % NCUST);
    snprintf(id, sizeof id, "kill-regrade-%d", i);
    g.customer_id = cust;
    g.product_id = "P1";
    g.new_segment = i % 2 ? "A" : "B";
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &g;
    ev.region = "north";
    ev.event_id = id;
    assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
}

static int submit_report(mr_client *c, int i, int64_t now)
{
    Medrep__CallReport r = MEDREP__CALL_REPORT__INIT;
    char *objs[] = {"one", "two", "three"};
    char cust[16];
    snprintf(cust, sizeof cust, "KC%02d", i % NCUST);
    r.rep_id = "K1";
    r.customer_id = cust;
    r.start_ms = now - (int64_t)(i + 1) * 60000, r.has_start_ms = true;
    r.objectives = objs, r.n_objectives = 3;
    Medrep__LogCallRequest req = MEDREP__LOG_CALL_REQUEST__INIT;
    req.report = &r;
    uint8_t buf[512];
    Medrep__Request env = MEDREP__REQUEST__INIT;
    char rid[32];
    snprintf(rid, sizeof rid, "kill-report-%d", i);
    env.request_id = rid;
    env.method = "LogCall";
    env.region = "north";
    env.payload.data = buf;
    env.payload.len = medrep__log_call_request__pack(&req, buf);
    env.has_payload = true;
    return mr_client_submit(c, "scheduling", &env, 30000, (uint64_t)i);
}

static long long count_type(mr_store *store, const char *type)
{
    mr_val *v = mr_store_cmd(store, "XRANGE %s - +", "{r:north}:events");
    long long n = 0;
    for (size_t i = 0; v && i < mr_val_count(v); i++) {
        const mr_val *f = mr_val_at(mr_val_at(v, i), 1);
        for (size_t k = 0; k + 1 < mr_val_count(f); k += 2)
            if (!strcmp(mr_val_str(mr_val_at(f, k), NULL), "type") &&
                !strcmp(mr_val_str(mr_val_at(f, k + 1), NULL), type))
                n++;
    }
    mr_val_free(&v);
    return n;
}

static void test_kill_one_instance(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NULL), 0);
    int a = h_stack_start_service(&stack, "scheduling", "sched-k1", NULL);
    assert_true(a >= 0);
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-k2", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scheduling", 2, 10000), 0);
    mr_store *store = h_stack_store(&stack, 0);
    stage_rep(store);
    mr_client *c = h_stack_client(&stack, 8, 2000);
    int64_t now = mr_now_ms();
    int sent = 0, answered = 0, ok = 0;
    bool killed = false;
    while (answered < REPORTS) {
        while (sent < REPORTS && sent - answered < 8 && submit_report(c, sent, now) == 0) {
            if (sent % 10 == 0)
                regrade(store, sent / 10);
            sent++;
        }
        if (sent >= REPORTS / 3 && !killed) {
            h_proc_kill(&stack.procs[a], SIGKILL);
            killed = true;
        }
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 1000, &tag, &reply) == 1) {
            answered++;
            ok += !reply->status || (int)reply->status->code == MR_OK;
            medrep__reply__free_unpacked(reply, NULL);
        }
    }
    assert_true(killed);
    assert_int_equal(ok, REPORTS);
    /* every report once, with one CallLogged event each */
    mr_val *keys = mr_store_cmd(store, "KEYS %s", "{r:north}:sched:report:*");
    assert_int_equal(mr_val_count(keys), REPORTS);
    mr_val_free(&keys);
    assert_int_equal(count_type(store, "call_logged"), REPORTS);
    /* the events were all handled by the survivor */
    for (int i = 0; i < 200; i++) {
        mr_val *v = mr_store_cmd(store, "XPENDING %s %s", "{r:north}:events", "scheduling");
        long long pending = v && mr_val_count(v) ? mr_val_int(mr_val_at(v, 0)) : -1;
        mr_val_free(&v);
        if (pending == 0 && h_redis_int(store, "HLEN %s", "{r:north}:sched:seg:KC11") == 1)
            break;
        usleep(100000);
    }
    for (int i = 0; i < REPORTS / 10; i++) {
        char key[64];
        snprintf(key, sizeof key, "{r:north}:sched:seg:KC%02d", i % NCUST);
        assert_int_equal(h_redis_int(store, "HLEN %s", key), 1);
    }
    /* index and records agree */
    mr_val *ids = mr_store_cmd(store, "ZRANGE %s 0 -1", "{r:north}:sched:rep:K1:calls");
    for (size_t i = 0; i < mr_val_count(ids); i++) {
        char key[256];
        snprintf(key, sizeof key, "{r:north}:sched:call:%s", mr_val_str(mr_val_at(ids, i), NULL));
        assert_int_equal(h_redis_int(store, "EXISTS %s", key), 1);
    }
    mr_val *recs = mr_store_cmd(store, "KEYS %s", "{r:north}:sched:call:*");
    assert_int_equal(mr_val_count(recs), mr_val_count(ids));
    assert_true(mr_val_count(ids) >= REPORTS);
    mr_val_free(&recs);
    mr_val_free(&ids);
    mr_client_free(&c);
    mr_store_free(&store);
    stack.procs[a].pid = 0;     /* killed on purpose */
    assert_int_equal(h_stack_stop(&stack), 0);
}

static void test_concurrent_plans_do_not_interleave(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NULL), 0);
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-c1", NULL) >= 0);
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-c2", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scheduling", 2, 10000), 0);
    mr_store *store = h_stack_store(&stack, 0);
    stage_rep(store);
    for (int i = 0; i < NCUST; i++)
        regrade(store, i);
    mr_client *c = h_stack_client(&stack, 8, 20000);
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    char month[32];
    snprintf(month, sizeof month, "%04d-%02d", lt.month == 12 ? lt.year + 1 : lt.year, lt.month % 12 + 1);
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "K1";
    req.period = month;
    Medrep__PlanReply *first = NULL;
    char msg[256];
    assert_int_equal(mr_client_rpc(c, "scheduling", "Plan", "north", NULL, &req.base, &medrep__plan_reply__descriptor,
                                   (ProtobufCMessage **)&first, 20000, msg, sizeof msg), MR_OK);
    medrep__plan_reply__free_unpacked(first, NULL);
    /* six days off, asked at once on two instances: each replans with its own day off */
    int y = lt.month == 12 ? lt.year + 1 : lt.year, m = lt.month % 12 + 1;
    int64_t off[6];
    for (int i = 0; i < 6; i++) {
        off[i] = mr_tz_from_local(tz, y, m, 3 + 4 * i, 0, 0, 0) * 1000;
        Medrep__TimeOffRequest to = MEDREP__TIME_OFF_REQUEST__INIT;
        to.rep_id = "K1";
        to.start_ms = off[i], to.has_start_ms = true;
        to.end_ms = off[i] + 86400000LL, to.has_end_ms = true;
        uint8_t buf[128];
        Medrep__Request env = MEDREP__REQUEST__INIT;
        env.method = "AddTimeOff";
        env.region = "north";
        env.payload.data = buf;
        env.payload.len = medrep__time_off_request__pack(&to, buf);
        env.has_payload = true;
        assert_int_equal(mr_client_submit(c, "scheduling", &env, 30000, (uint64_t)i), 0);
    }
    for (int answered = 0; answered < 6;) {
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 1000, &tag, &reply) != 1)
            continue;
        int code = reply->status ? (int)reply->status->code : 0;
        medrep__reply__free_unpacked(reply, NULL);
        if (code == MR_ABORTED) {   /* lost the race: nothing was stored; ask again */
            Medrep__TimeOffRequest to = MEDREP__TIME_OFF_REQUEST__INIT;
            to.rep_id = "K1";
            to.start_ms = off[tag], to.has_start_ms = true;
            to.end_ms = off[tag] + 86400000LL, to.has_end_ms = true;
            uint8_t buf[128];
            Medrep__Request env = MEDREP__REQUEST__INIT;
            env.method = "AddTimeOff";
            env.region = "north";
            env.payload.data = buf;
            env.payload.len = medrep__time_off_request__pack(&to, buf);
            env.has_payload = true;
            assert_int_equal(mr_client_submit(c, "scheduling", &env, 30000, tag), 0);
            continue;
        }
        answered++;
        assert_int_equal(code, MR_OK);
    }
    assert_int_equal(h_redis_int(store, "HLEN %s", "{r:north}:sched:rep:K1:busy"), 6);
    /* one plan in Redis: no call on any day off, no customer twice a day */
    Medrep__PlanReply *g = NULL;
    assert_int_equal(mr_client_rpc(c, "scheduling", "GetPlan", "north", NULL, &req.base, &medrep__plan_reply__descriptor,
                                   (ProtobufCMessage **)&g, 20000, msg, sizeof msg), MR_OK);
    assert_true(g->n_calls > 0);
    for (size_t i = 0; i < g->n_calls; i++)
        for (int k = 0; k < 6; k++)
            assert_false(g->calls[i]->start_ms >= off[k] && g->calls[i]->start_ms < off[k] + 86400000LL);
    for (size_t i = 0; i < g->n_calls; i++)
        for (size_t j = i + 1; j < g->n_calls; j++)
            if (!strcmp(g->calls[i]->kind, "call") && !strcmp(g->calls[i]->customer_id, g->calls[j]->customer_id))
                assert_true(llabs(g->calls[i]->start_ms - g->calls[j]->start_ms) >= 86400000LL);
    medrep__plan_reply__free_unpacked(g, NULL);
    mr_tz_free(&tz);
    mr_client_free(&c);
    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

/* Submits Plan of rep K1 for month under request id rid. */
static void submit_plan(mr_client *c, const char *month, const char *rid, uint64_t tag)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "K1";
    req.period = (char *)month;
    uint8_t buf[128];
    Medrep__Request env = MEDREP__REQUEST__INIT;
    env.method = "Plan";
    env.region = "north";
    env.request_id = (char *)rid;
    env.payload.data = buf;
    env.payload.len = medrep__plan_request__pack(&req, buf);
    env.has_payload = true;
    assert_int_equal(mr_client_submit(c, "scheduling", &env, 30000, tag), 0);
}

static void test_two_concurrent_plan_calls(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    /* grade events only mark the rep dirty here (a long quiet period): the
     * version moves by the plans alone */
    assert_int_equal(h_stack_start(&stack, 1, regions, "[scheduling]\nregrade_quiet_ms = 600000\n"), 0);
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-p1", NULL) >= 0);
    assert_true(h_stack_start_service(&stack, "scheduling", "sched-p2", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scheduling", 2, 10000), 0);
    mr_store *store = h_stack_store(&stack, 0);
    stage_rep(store);
    for (int i = 0; i < NCUST; i++)
        regrade(store, i);
    mr_client *c = h_stack_client(&stack, 8, 30000);
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    char month[32];
    snprintf(month, sizeof month, "%04d-%02d", lt.month == 12 ? lt.year + 1 : lt.year, lt.month % 12 + 1);
    long long ver0 = h_redis_int(store, "GET %s", "{r:north}:sched:ver:K1");
    int ok = 0, aborted = 0;
    for (int round = 0; round < 4; round++) {
        char r1[32], r2[32];
        snprintf(r1, sizeof r1, "plan-a-%d", round);
        snprintf(r2, sizeof r2, "plan-b-%d", round);
        submit_plan(c, month, r1, 1);
        submit_plan(c, month, r2, 2);
        for (int answered = 0; answered < 2;) {
            uint64_t tag;
            Medrep__Reply *reply = NULL;
            if (mr_client_poll(c, 1000, &tag, &reply) != 1)
                continue;
            int code = reply->status ? (int)reply->status->code : 0;
            medrep__reply__free_unpacked(reply, NULL);
            assert_true(code == MR_OK || code == MR_ABORTED);
            ok += code == MR_OK;
            aborted += code == MR_ABORTED;
            answered++;
        }
    }
    print_message("plans committed %d, aborted %d\n", ok, aborted);
    assert_true(ok >= 4);                 /* at least one of each pair */
    /* the version moved once per committed plan, never for an aborted one */
    assert_int_equal(h_redis_int(store, "GET %s", "{r:north}:sched:ver:K1") - ver0, ok);
    /* one plan: index and records agree, no customer twice a day */
    mr_val *ids = mr_store_cmd(store, "ZRANGE %s 0 -1", "{r:north}:sched:rep:K1:calls");
    mr_val *recs = mr_store_cmd(store, "KEYS %s", "{r:north}:sched:call:*");
    assert_int_equal(mr_val_count(recs), mr_val_count(ids));
    mr_val_free(&recs);
    mr_val_free(&ids);
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "K1";
    req.period = month;
    Medrep__PlanReply *g = NULL;
    char msg[256];
    assert_int_equal(mr_client_rpc(c, "scheduling", "GetPlan", "north", NULL, &req.base, &medrep__plan_reply__descriptor,
                                   (ProtobufCMessage **)&g, 20000, msg, sizeof msg), MR_OK);
    assert_true(g->n_calls > 0);
    for (size_t i = 0; i < g->n_calls; i++)
        for (size_t j = i + 1; j < g->n_calls; j++)
            if (!strcmp(g->calls[i]->kind, "call") && !strcmp(g->calls[i]->customer_id, g->calls[j]->customer_id))
                assert_true(llabs(g->calls[i]->start_ms - g->calls[j]->start_ms) >= 86400000LL);
    medrep__plan_reply__free_unpacked(g, NULL);
    mr_tz_free(&tz);
    mr_client_free(&c);
    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_one_instance),
        cmocka_unit_test(test_concurrent_plans_do_not_interleave),
        cmocka_unit_test(test_two_concurrent_plan_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
