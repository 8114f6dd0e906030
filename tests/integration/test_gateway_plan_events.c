/* test_gateway_plan_events.c: plans rewritten without the gateway reach
 * its read cache and its changes feed through scheduling's plan_changed
 * events, on a real stack (redis, broker with its live feed, scheduling,
 * gateway). The plan group's max age is a minute here, so only the event
 * can bring a new plan within the test's few seconds:
 *   - a Plan call through the broker (not the gateway) drops the cached
 *     plan of the rep and the next GET shows the new plan;
 *   - time off through the broker replans the month: the cached plan is
 *     dropped again and shows the calls gone;
 *   - /changes for the rep lists both plan_changed entries (reasons "plan"
 *     and "time_off"); another rep's feed does not show them. */
// ctest-label: integration
#include <jansson.h>
#include <setjmp.h>
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
#include "events.h"
#include "http.h"
#include "masterdata.h"
#include "scheduling.pb-c.h"
#include "stack.h"

#define NCUST 8

static h_stack stack;
static mr_client *client;
static int port;
static char tok_r1[96], tok_r2[96];
static char next_month[16], plan_path[96];
static int64_t month_lo_ms, month_hi_ms;

static void stage_rep(mr_tx *tx, const char *id)
{
    mr_rep r = {0};
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.name, sizeof r.name, "Rep %s", id);
    snprintf(r.team, sizeof r.team, "ONC");
    snprintf(r.dm_id, sizeof r.dm_id, "DM1");
    r.home_lat = 31.20, r.home_lon = 121.45;
    assert_int_equal(mr_md_stage_rep(tx, "north", &r, NULL), 0);
}

/* Rep R1 with two hospitals and NCUST graded customers; rep R2 with none. */
static int stage_territory(void)
{
    mr_tx *tx = mr_tx_new();
    stage_rep(tx, "R1");
    stage_rep(tx, "R2");
    for (int h = 0; h < 2; h++) {
        mr_hospital ho = {0};
        snprintf(ho.id, sizeof ho.id, "H%d", h);
        snprintf(ho.name, sizeof ho.name, "Hospital %d", h);
        ho.tier = 3;
        ho.lat = 31.20 + 0.03 * h, ho.lon = 121.45;
        snprintf(ho.opening_hours, sizeof ho.opening_hours, "mon-fri 08:00-17:30");
        assert_int_equal(mr_md_stage_hospital(tx, "north", &ho), 0);
    }
    for (int i = 0; i < NCUST; i++) {
        mr_customer c = {0};
        snprintf(c.id, sizeof c.id, "C%02d", i);
        snprintf(c.name, sizeof c.name, "Doctor %d", i);
        c.kind = MR_CUSTOMER_PRESCRIBER;
        snprintf(c.hospital_id, sizeof c.hospital_id, "H%d", i % 2);
        snprintf(c.rep_id, sizeof c.rep_id, "R1");
        assert_int_equal(mr_md_stage_customer(tx, "north", &c, NULL), 0);
        Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
        g.customer_id = c.id;
        g.product_id = "P1";
        g.old_segment = "";
        g.new_segment = i < 4 ? "A" : "B";
        g.rep_id = "R1";
        Medrep__Event ev = MEDREP__EVENT__INIT;
        char eid[80];
        snprintf(eid, sizeof eid, "seed-%s", c.id);
        ev.event_id = eid;
        ev.region = "north";
        ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
        ev.customer_regraded = &g;
        assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
    }
    mr_store *store = h_stack_store(&stack, 0);
    int rc = mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
    if (rc == 0)
        rc = h_wait_events_handled(store, "north", "scheduling", 10000);
    mr_store_free(&store);
    mr_tx_free(&tx);
    return rc;
}

static void set_month(void)
{
    mr_tz *sh = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(sh, mr_now_ms() / 1000, &lt);
    int y = lt.month == 12 ? lt.year + 1 : lt.year, m = lt.month == 12 ? 1 : lt.month + 1;
    snprintf(next_month, sizeof next_month, "%04d-%02d", y % 10000, m % 100);
    month_lo_ms = mr_tz_from_local(sh, y, m, 1, 0, 0, 0) * 1000;
    month_hi_ms = mr_tz_from_local(sh, m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1, 0, 0, 0) * 1000;
    mr_tz_free(&sh);
    snprintf(plan_path, sizeof plan_path, "/v1/regions/north/reps/R1/plans/%s", next_month);
}



static int setup(void **state)
{
    (void)state;
    port = h_free_port();
    char extra[512];
    snprintf(extra, sizeof extra,
             "[gateway]\nport = %d\nthreads = 2\nauth_region = north\ntoken_cache_ms = 0\n"
             "rate_per_second = 100000\nrate_burst = 100000\n[gateway@cache:plan]\nread_cache_ms = 60000\n"
             "[scheduling]\nregrade_quiet_ms = 100000\nticker_interval_ms = 100\ndaily_check_at = off\n",
             port);
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, extra) != 0 ||
        h_stack_start_service(&stack, "scheduling", "sched-pe", NULL) < 0 ||
        h_stack_start_service(&stack, "gateway", "gateway-pe", NULL) < 0 ||
        h_stack_wait_workers(&stack, "scheduling", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 4, 20000);
    set_month();
    if (stage_territory() != 0)
        return -1;
    assert_int_equal(h_stack_token(&stack, "--user R1 --role rep --region north --team ONC", tok_r1, sizeof tok_r1, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user R2 --role rep --region north --team ONC", tok_r2, sizeof tok_r2, NULL, 0), 0);
    return h_http_wait_up(port, 10000) && h_http_wait_metric(port, "medrep_gateway_cache_feed_trusted", 1, 10000) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* GET path as token: the status; the body into body (cap bytes). */
static int get(const char *path, const char *token, char *body, size_t cap)
{
    h_http_answer a;
    int status = h_http(port, "GET", path, token, NULL, &a);
    if (body)
        snprintf(body, cap, "%s", a.body ? a.body : "");
    h_http_answer_free(&a);
    return status;
}

/* A string field of a JSON object, "" when absent. */
static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The number of calls of kind "call" in R1's plan of next month, read through the gateway. */
static int planned_calls(void)
{
    static char body[1 << 18];
    assert_int_equal(get(plan_path, tok_r1, body, sizeof body), 200);
    json_t *plan = json_loads(body, 0, NULL);
    assert_non_null(plan);
    int n = 0;
    json_t *call;
    size_t i;
    json_array_foreach(json_object_get(plan, "calls"), i, call) {
        n += !strcmp(str_of(call, "kind"), "call") ? 1 : 0;
    }
    json_decref(plan);
    return n;
}

/* A cached answer: asked twice, the second is a cache hit. Returns the calls. */
static int cached_calls(void)
{
    int first = planned_calls();
    long long hits = h_http_metric(port, "medrep_gateway_cache_hits_total");
    assert_int_equal(planned_calls(), first);
    assert_true(h_http_metric(port, "medrep_gateway_cache_hits_total") > hits);
    return first;
}

/* Reads the plan until its call count differs from was (10 s at most, the max age is 60 s). */
static int changed_calls(int was)
{
    int now = was;
    for (int64_t end = mr_mono_ms() + 10000; mr_mono_ms() < end && now == was; usleep(50 * 1000))
        now = planned_calls();
    return now;
}

static void rpc_ok(const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply)
{
    char msg[256] = "";
    ProtobufCMessage *out = NULL;
    int code = mr_client_rpc(client, "scheduling", method, "north", NULL, req, reply, &out, 20000, msg, sizeof msg);
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
    if (code != MR_OK)
        fail_msg("%s: %s %s", method, mr_code_name(code), msg);
}

static void test_plan_elsewhere_drops_cached_plan(void **state)
{
    (void)state;
    assert_int_equal(cached_calls(), 0);   /* nothing planned yet; cached for a minute */
    long long dropped = h_http_metric(port, "medrep_gateway_cache_invalidations_total");
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "R1";
    req.period = next_month;
    rpc_ok("Plan", &req.base, &medrep__plan_reply__descriptor);
    int planned = changed_calls(0);
    assert_true(planned > 0);
    assert_true(h_http_metric(port, "medrep_gateway_cache_invalidations_total") > dropped);
}

static void test_time_off_elsewhere_drops_cached_plan(void **state)
{
    (void)state;
    int before = cached_calls();
    assert_true(before > 0);
    Medrep__TimeOffRequest req = MEDREP__TIME_OFF_REQUEST__INIT;
    req.rep_id = "R1";
    req.start_ms = month_lo_ms, req.has_start_ms = true;
    req.end_ms = month_hi_ms, req.has_end_ms = true;
    rpc_ok("AddTimeOff", &req.base, &medrep__time_off_reply__descriptor);
    assert_int_equal(changed_calls(before), 0);   /* the whole month off: no calls */
}

static void test_changes_feed_shows_plan_changed(void **state)
{
    (void)state;
    static char body[1 << 18];
    assert_int_equal(get("/v1/regions/north/changes?since=0", tok_r1, body, sizeof body), 200);
    json_t *feed = json_loads(body, 0, NULL);
    assert_non_null(feed);
    int plan = 0, time_off = 0;
    json_t *entry;
    size_t i;
    json_array_foreach(json_object_get(feed, "changes"), i, entry) {
        if (strcmp(str_of(entry, "type"), "plan_changed") != 0)
            continue;
        json_t *pc = json_object_get(json_object_get(entry, "event"), "plan_changed");
        assert_string_equal(json_string_value(json_object_get(pc, "rep_id")), "R1");
        if (strcmp(str_of(pc, "period"), next_month) != 0)
            continue;
        const char *reason = json_string_value(json_object_get(pc, "reason"));
        plan += reason && !strcmp(reason, "plan");
        time_off += reason && !strcmp(reason, "time_off");
        assert_true(json_integer_value(json_object_get(pc, "calls_changed")) > 0);
    }
    json_decref(feed);
    assert_int_equal(plan, 1);
    assert_int_equal(time_off, 1);
    /* another rep's feed: not R1's plan */
    assert_int_equal(get("/v1/regions/north/changes?since=0", tok_r2, body, sizeof body), 200);
    assert_null(strstr(body, "plan_changed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_elsewhere_drops_cached_plan),
        cmocka_unit_test(test_time_off_elsewhere_drops_cached_plan),
        cmocka_unit_test(test_changes_feed_shows_plan_changed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
