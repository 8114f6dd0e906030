/* test_scheduling_service.c: the scheduling service through the real
 * broker on a real Redis: plans stored and answered (one PlanChanged with
 * the plan, none when planned again to the same calls), idempotent retries,
 * one call by id (GetCall), clear errors that change nothing, call reports (locking, backdating,
 * CallLogged with the adoption stage, the next appointment planned),
 * cancel / move / pin / add kept by replanning (a PlanChanged for the
 * move and for the added call), time off, grades from CustomerRegraded
 * events, follow-ups and meetings from events (a meeting over a planned
 * call moves it, with a PlanChanged),
 * attainment, the pace check, iCalendar export, and a region in another
 * time zone across a daylight-saving change. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "events.h"
#include "masterdata.h"
#include "scheduling.pb-c.h"
#include "stack.h"

#define NCUST 40
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

static h_stack stack;
static mr_client *client;
static mr_store *store;
static mr_tz *shanghai, *berlin;
static char next_month[16];          /* the month after now in Asia/Shanghai */
static int64_t next_first;           /* its first day (days since epoch) */

/* ---- helpers ---- */

static int rpc(const char *method, const char *region, const ProtobufCMessage *in,
               const ProtobufCMessageDescriptor *desc, void *out, char *msg)
{
    char buf[512];
    return mr_client_rpc(client, "scheduling", method, region, NULL, in, desc, (ProtobufCMessage **)out,
                         20000, msg ? msg : buf, 512);
}

static void commit(mr_tx *tx)
{
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_reset(tx);
}

static void emit(mr_tx *tx, Medrep__Event *ev, const char *region, const char *id)
{
    ev->region = (char *)region;
    ev->event_id = (char *)id;
    ev->occurred_ms = mr_now_ms(), ev->has_occurred_ms = true;
    ev->source = "test";
    assert_int_equal(mr_events_stage(tx, ev, 0), 0);
    commit(tx);
}

static long long redis_int(const char *fmt, const char *key)
{
    return h_redis_int(store, fmt, key);
}

/* Waits until the service has handled every event of the stream. */
static void wait_events_handled(const char *region)
{
    if (h_wait_events_handled(store, region, "scheduling", 15000) != 0)
        fail_msg("events of %s not handled in time", region);
}

static void stage_territory(mr_tx *tx, const char *region, const char *rep, const char *team,
                            int nhosp, int ncust, const char *windows)
{
    mr_rep r = {0};
    snprintf(r.id, sizeof r.id, "%s", rep);
    snprintf(r.name, sizeof r.name, "Rep %s", rep);
    snprintf(r.team, sizeof r.team, "%s", team);
    snprintf(r.dm_id, sizeof r.dm_id, "DM1");
    r.home_lat = 31.20;
    r.home_lon = 121.45;
    assert_int_equal(mr_md_stage_rep(tx, region, &r, NULL), 0);
    for (int h = 0; h < nhosp; h++) {
        mr_hospital ho = {0};
        snprintf(ho.id, sizeof ho.id, "%s-H%d", rep, h);
        snprintf(ho.name, sizeof ho.name, "Hospital %d", h);
        ho.tier = 3;
        ho.lat = 31.20 + 0.03 * (h % 3);
        ho.lon = 121.45 + 0.03 * (h / 3);
        snprintf(ho.opening_hours, sizeof ho.opening_hours, "mon-fri 08:00-17:30; sat 08:00-12:00");
        assert_int_equal(mr_md_stage_hospital(tx, region, &ho), 0);
    }
    for (int i = 0; i < ncust; i++) {
        mr_customer c = {0};
        snprintf(c.id, sizeof c.id, "%s-C%02d", rep, i);
        snprintf(c.name, sizeof c.name, "Doctor %d", i);
        c.kind = MR_CUSTOMER_PRESCRIBER;
        snprintf(c.hospital_id, sizeof c.hospital_id, "%s-H%d", rep, i % nhosp);
        snprintf(c.rep_id, sizeof c.rep_id, "%s", rep);
        snprintf(c.windows, sizeof c.windows, "%s", windows ? windows : "");
        assert_int_equal(mr_md_stage_customer(tx, region, &c, NULL), 0);
    }
    commit(tx);
}

static void regrade(mr_tx *tx, const char *region, const char *customer, const char *seg, int n)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
    g.customer_id = (char *)customer;
    g.product_id = "P1";
    g.old_segment = "";
    g.new_segment = (char *)seg;
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &g;
    char id[64];
    snprintf(id, sizeof id, "regrade-%s-%d", customer, n);
    emit(tx, &ev, region, id);
}

static Medrep__PlanReply *plan(const char *method, const char *region, const char *rep, const char *period)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = (char *)rep;
    req.period = (char *)period;
    Medrep__PlanReply *out = NULL;
    char msg[512];
    int code = rpc(method, region, &req.base, &medrep__plan_reply__descriptor, &out, msg);
    if (code != MR_OK)
        fail_msg("%s %s %s: %s %s", method, rep, period, mr_code_name(code), msg);
    return out;
}

static int calls_of(const Medrep__PlanReply *p, const char *customer, const char *state)
{
    int n = 0;
    for (size_t i = 0; i < p->n_calls; i++)
        n += !strcmp(p->calls[i]->customer_id, customer) && (!state || !strcmp(p->calls[i]->state, state));
    return n;
}

static const Medrep__PlannedCall *find_call(const Medrep__PlanReply *p, const char *id)
{
    for (size_t i = 0; i < p->n_calls; i++)
        if (!strcmp(p->calls[i]->call_id, id))
            return p->calls[i];
    return NULL;
}

/* GetCall of id in region north: the code, *out the reply when OK. */
static int get_call(const char *id, Medrep__GetCallReply **out)
{
    Medrep__GetCallRequest req = MEDREP__GET_CALL_REQUEST__INIT;
    req.call_id = (char *)id;
    *out = NULL;
    return rpc("GetCall", "north", &req.base, &medrep__get_call_reply__descriptor, out, NULL);
}

/* Calls of rep stored for the next month. */
static long long month_calls_stored(const char *rep)
{
    int y, m, d;
    mr_civil_from_days(next_first, &y, &m, &d);
    int64_t lo = mr_tz_from_local(shanghai, y, m, 1, 0, 0, 0) * 1000;
    int64_t hi = mr_tz_from_local(shanghai, m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1, 0, 0, 0) * 1000;
    char key[128], a[32], b[32];
    snprintf(key, sizeof key, "{r:north}:sched:rep:%s:calls", rep);
    snprintf(a, sizeof a, "%lld", (long long)lo);
    snprintf(b, sizeof b, "(%lld", (long long)hi);
    mr_val *v = mr_store_cmd(store, "ZCOUNT %s %s %s", key, a, b);
    long long n = v && mr_val_type(v) == MR_VAL_INTEGER ? mr_val_int(v) : -1;
    mr_val_free(&v);
    return n;
}

/* Waits until no rep of region north waits for its debounced replan. */
static void wait_replanned(void)
{
    for (int i = 0; i < 400; i++) {
        if (redis_int("ZCARD %s", "{r:north}:sched:dirty") == 0)
            return;
        usleep(50000);
    }
    fail_msg("dirty reps not replanned in time");
}

/* ---- setup ---- */

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", "west", NULL};
    /* grade changes replan after a short quiet period; no daily check here
     * (test_scheduling_ticker covers it) */
    if (h_stack_start(&stack, 1, regions,
                      "[scheduling]\nregrade_quiet_ms = 200\nticker_interval_ms = 100\ndaily_check_at = off\n"
                      "[scheduling@team:ONC]\ncalls_per_day_min = 6\n") != 0)
        return -1;
    const char *env[] = {"MEDREP__REGION_WEST__TIMEZONE=Europe/Berlin", NULL};
    if (h_stack_start_service(&stack, "scheduling", "sched-a", env) < 0 ||
        h_stack_wait_workers(&stack, "scheduling", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 4, 20000);
    store = h_stack_store(&stack, 0);
    shanghai = mr_tz_load("Asia/Shanghai");
    berlin = mr_tz_load("Europe/Berlin");
    mr_local_time lt;
    mr_tz_to_local(shanghai, mr_now_ms() / 1000, &lt);
    int y = lt.month == 12 ? lt.year + 1 : lt.year, m = lt.month == 12 ? 1 : lt.month + 1;
    snprintf(next_month, sizeof next_month, "%04d-%02d", y % 10000, m % 100);
    next_first = mr_days_from_civil(y, m, 1);
    mr_tx *tx = mr_tx_new();
    stage_territory(tx, "north", "R1", "ONC", 4, NCUST, NULL);
    stage_territory(tx, "north", "R9", "GI", 1, 2, NULL);
    const char *segs = "AABBBCCCCD";
    for (int i = 0; i < NCUST; i++) {
        char id[16], s[2] = {segs[i % 10], 0};
        snprintf(id, sizeof id, "R1-C%02d", i);
        regrade(tx, "north", id, s, 0);
    }
    mr_tx_free(&tx);
    wait_events_handled("north");
    wait_replanned();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    mr_tz_free(&shanghai);
    mr_tz_free(&berlin);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* ---- tests ---- */

static int plan_changed_count(const char *rep, const char *period, char *last_reason, int *last_changed);

static void test_plan_month_stored_and_replayed(void **state)
{
    (void)state;
    char reason[32] = "";
    int changed = 0, before = plan_changed_count("R1", next_month, reason, &changed);
    Medrep__PlanReply *p = plan("Plan", "north", "R1", next_month);
    /* one PlanChanged, committed with the plan */
    assert_int_equal(plan_changed_count("R1", next_month, reason, &changed), before + 1);
    assert_string_equal(reason, "plan");
    assert_int_equal(changed, (int)p->n_calls);
    assert_true(p->n_calls > 50);
    assert_true(p->norms_checked > 0);
    assert_string_equal(p->timezone, "Asia/Shanghai");
    for (size_t i = 0; i < p->n_calls; i++) {
        mr_local_time lt;
        mr_tz_to_local(shanghai, p->calls[i]->start_ms / 1000, &lt);
        char month[32];
        snprintf(month, sizeof month, "%04d-%02d", lt.year, lt.month);
        assert_string_equal(month, next_month);
        assert_true(lt.weekday >= 1 && lt.weekday <= 5);
        assert_true(lt.hour * 60 + lt.minute >= 8 * 60);
        assert_string_equal(p->calls[i]->state, "planned");
        if (!strcmp(p->calls[i]->kind, "call"))
            assert_true(p->calls[i]->n_objectives >= 3);
    }
    /* A customers (every 10th and 11th) get at least their 4 calls */
    assert_true(calls_of(p, "R1-C00", NULL) >= 4);
    assert_true(calls_of(p, "R1-C01", NULL) >= 4);
    long long stored = month_calls_stored("R1");
    assert_int_equal(stored, (long long)p->n_calls);
    /* GetPlan answers the same calls */
    Medrep__PlanReply *g = plan("GetPlan", "north", "R1", next_month);
    assert_int_equal(g->n_calls, p->n_calls);
    for (size_t i = 0; i < p->n_calls; i++)
        assert_string_equal(g->calls[i]->call_id, p->calls[i]->call_id);
    /* a retry with the same request id is a replay; nothing changes */
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "R1";
    req.period = next_month;
    uint8_t buf[128];
    Medrep__Request env = MEDREP__REQUEST__INIT;
    env.method = "Plan";
    env.region = "north";
    env.request_id = "plan-once";
    env.payload.data = buf;
    env.payload.len = medrep__plan_request__pack(&req, buf);
    env.has_payload = true;
    Medrep__Reply *r1 = mr_client_call(client, "scheduling", &env, 20000);
    Medrep__Reply *r2 = mr_client_call(client, "scheduling", &env, 20000);
    assert_int_equal(r1->status ? r1->status->code : 0, MR_OK);
    assert_true(r2->has_replayed && r2->replayed);
    medrep__reply__free_unpacked(r1, NULL);
    medrep__reply__free_unpacked(r2, NULL);
    assert_int_equal(month_calls_stored("R1"), stored);
    /* planning again to the same plan changes nothing: no event (nor on the replay) */
    assert_int_equal(plan_changed_count("R1", next_month, reason, &changed), before + 1);
    medrep__plan_reply__free_unpacked(p, NULL);
    medrep__plan_reply__free_unpacked(g, NULL);
}

static void test_get_call(void **state)
{
    (void)state;
    Medrep__PlanReply *p = plan("GetPlan", "north", "R1", next_month);
    assert_true(p->n_calls > 0);
    long long stored = month_calls_stored("R1");
    /* found: the stored call, its rep included, whatever asked for */
    for (size_t i = 0; i < p->n_calls; i += p->n_calls / 3 + 1) {
        const Medrep__PlannedCall *want = p->calls[i];
        Medrep__GetCallReply *r = NULL;
        assert_int_equal(get_call(want->call_id, &r), MR_OK);
        assert_non_null(r->call);
        assert_string_equal(r->call->call_id, want->call_id);
        assert_string_equal(r->call->rep_id, "R1");
        assert_string_equal(r->call->customer_id, want->customer_id);
        assert_string_equal(r->call->state, want->state);
        assert_int_equal(r->call->start_ms, want->start_ms);
        assert_int_equal(r->call->duration_min, want->duration_min);
        assert_int_equal(r->call->n_objectives, want->n_objectives);
        medrep__get_call_reply__free_unpacked(r, NULL);
    }
    medrep__plan_reply__free_unpacked(p, NULL);
    /* not found: a well-formed id nobody stored */
    Medrep__GetCallReply *r = NULL;
    char msg[512];
    Medrep__GetCallRequest req = MEDREP__GET_CALL_REQUEST__INIT;
    req.call_id = "R1.no-such-call.1";
    assert_int_equal(rpc("GetCall", "north", &req.base, &medrep__get_call_reply__descriptor, &r, msg), MR_NOT_FOUND);
    assert_non_null(strstr(msg, "R1.no-such-call.1"));
    assert_null(r);
    /* another region does not see north's calls */
    p = plan("GetPlan", "north", "R1", next_month);
    req.call_id = p->calls[0]->call_id;
    assert_int_equal(rpc("GetCall", "west", &req.base, &medrep__get_call_reply__descriptor, &r, NULL), MR_NOT_FOUND);
    medrep__plan_reply__free_unpacked(p, NULL);
    /* bad ids: absent, empty, oversized, characters a key cannot hold */
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char just_over[193];
    memset(just_over, 'b', sizeof just_over - 1);
    just_over[sizeof just_over - 1] = '\0';
    assert_int_equal(get_call(NULL, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(get_call("", &r), MR_INVALID_ARGUMENT);
    assert_int_equal(get_call(big, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(get_call(just_over, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(get_call("R1.*", &r), MR_INVALID_ARGUMENT);
    assert_int_equal(get_call("a b", &r), MR_INVALID_ARGUMENT);
    assert_int_equal(get_call("{r:west}:x", &r), MR_INVALID_ARGUMENT);
    assert_null(r);
    /* reads change nothing */
    assert_int_equal(month_calls_stored("R1"), stored);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    long long before = month_calls_stored("R1");
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    Medrep__PlanReply *out = NULL;
    req.rep_id = "no such!";
    req.period = next_month;
    assert_int_equal(rpc("Plan", "north", &req.base, &medrep__plan_reply__descriptor, &out, NULL), MR_INVALID_ARGUMENT);
    req.rep_id = "R1";
    req.period = "2026-13";
    assert_int_equal(rpc("Plan", "north", &req.base, &medrep__plan_reply__descriptor, &out, NULL), MR_INVALID_ARGUMENT);
    req.period = "2026-W60";
    assert_int_equal(rpc("Plan", "north", &req.base, &medrep__plan_reply__descriptor, &out, NULL), MR_INVALID_ARGUMENT);
    req.rep_id = "R404";
    req.period = next_month;
    assert_int_equal(rpc("Plan", "north", &req.base, &medrep__plan_reply__descriptor, &out, NULL), MR_NOT_FOUND);
    Medrep__CancelCallRequest cr = MEDREP__CANCEL_CALL_REQUEST__INIT;
    cr.call_id = "nope";
    Medrep__CancelCallReply *cout = NULL;
    assert_int_equal(rpc("CancelCall", "north", &cr.base, &medrep__cancel_call_reply__descriptor, &cout, NULL), MR_NOT_FOUND);
    Medrep__TimeOffRequest to = MEDREP__TIME_OFF_REQUEST__INIT;
    to.rep_id = "R1";
    to.start_ms = 2000, to.has_start_ms = true;
    to.end_ms = 1000, to.has_end_ms = true;
    Medrep__TimeOffReply *tout = NULL;
    assert_int_equal(rpc("AddTimeOff", "north", &to.base, &medrep__time_off_reply__descriptor, &tout, NULL), MR_INVALID_ARGUMENT);
    /* a payload that is not the method's message */
    Medrep__Request env = MEDREP__REQUEST__INIT;
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x7f};
    env.method = "LogCall";
    env.region = "north";
    env.payload.data = junk;
    env.payload.len = sizeof junk;
    env.has_payload = true;
    Medrep__Reply *r = mr_client_call(client, "scheduling", &env, 20000);
    assert_int_equal(r->status->code, MR_INVALID_ARGUMENT);
    medrep__reply__free_unpacked(r, NULL);
    assert_int_equal(month_calls_stored("R1"), before);
}

static int log_call(const char *customer, int64_t start_ms, int nobj, int stage, int64_t next_ms,
                    const char *call_id, Medrep__LogCallReply **out, char *msg)
{
    Medrep__CallReport rep = MEDREP__CALL_REPORT__INIT;
    char *objs[] = {"present the new data", "ask about first-line use", "agree a trial patient", "x"};
    char *keys[] = {"efficacy in elderly"}, *mats[] = {"leaflet v3"}, *needs[] = {"safety"};
    rep.call_id = (char *)call_id;
    rep.rep_id = "R1";
    rep.customer_id = (char *)customer;
    rep.product_id = "P1";
    rep.start_ms = start_ms, rep.has_start_ms = true;
    rep.duration_min = 20, rep.has_duration_min = true;
    rep.objectives = objs;
    rep.n_objectives = (size_t)nobj;
    rep.key_messages = keys, rep.n_key_messages = 1;
    rep.materials = mats, rep.n_materials = 1;
    rep.need_keywords = needs, rep.n_need_keywords = 1;
    rep.commitment = "two patients this month";
    rep.adoption_stage_after = stage, rep.has_adoption_stage_after = true;
    if (next_ms)
        rep.next_appointment_ms = next_ms, rep.has_next_appointment_ms = true;
    Medrep__LogCallRequest req = MEDREP__LOG_CALL_REQUEST__INIT;
    req.report = &rep;
    return rpc("LogCall", "north", &req.base, &medrep__log_call_reply__descriptor, out, msg);
}

/* PlanChanged events of rep and period in the north stream (reason into
 * last_reason, calls_changed of the last into *last_changed). */
static int plan_changed_count(const char *rep, const char *period, char *last_reason, int *last_changed)
{
    mr_val *v = mr_store_cmd(store, "XRANGE {r:north}:events - + COUNT 100000");
    int n = 0;
    for (size_t i = 0; v && i < mr_val_count(v); i++) {
        const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
        for (size_t f = 0; f + 1 < mr_val_count(fields); f += 2) {
            size_t len = 0;
            const char *data = mr_val_str(mr_val_at(fields, f + 1), &len);
            if (strcmp(mr_val_str(mr_val_at(fields, f), NULL), "ev") != 0 || !data)
                continue;
            Medrep__Event *ev = medrep__event__unpack(NULL, len, (const uint8_t *)data);
            if (ev && ev->body_case == MEDREP__EVENT__BODY_PLAN_CHANGED && !strcmp(ev->plan_changed->rep_id, rep) &&
                !strcmp(ev->plan_changed->period, period)) {
                n++;
                snprintf(last_reason, 32, "%s", ev->plan_changed->reason);
                *last_changed = ev->plan_changed->calls_changed;
            }
            if (ev)
                medrep__event__free_unpacked(ev, NULL);
        }
    }
    mr_val_free(&v);
    return n;
}

/* The last event of the stream of a type, unpacked (caller frees). */
static Medrep__Event *last_event(const char *region, const char *type)
{
    char key[64];
    snprintf(key, sizeof key, "{r:%s}:events", region);
    mr_val *v = mr_store_cmd(store, "XREVRANGE %s + - COUNT 200", key);
    Medrep__Event *found = NULL;
    for (size_t i = 0; v && !found && i < mr_val_count(v); i++) {
        const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
        const char *t = NULL, *data = NULL;
        size_t len = 0;
        for (size_t f = 0; f + 1 < mr_val_count(fields); f += 2) {
            const char *k = mr_val_str(mr_val_at(fields, f), NULL);
            if (!strcmp(k, "type"))
                t = mr_val_str(mr_val_at(fields, f + 1), NULL);
            else if (!strcmp(k, "ev"))
                data = mr_val_str(mr_val_at(fields, f + 1), &len);
        }
        if (t && data && !strcmp(t, type))
            found = medrep__event__unpack(NULL, len, (const uint8_t *)data);
    }
    mr_val_free(&v);
    return found;
}

/* A weekday 10:00 local in the next month. */
static int64_t next_month_weekday(int nth, int hour)
{
    for (int64_t d = next_first, k = 0;; d++) {
        int wd = mr_weekday_from_days(d);
        if (wd >= 1 && wd <= 5 && k++ == nth) {
            int y, m, dd;
            mr_civil_from_days(d, &y, &m, &dd);
            return mr_tz_from_local(shanghai, y, m, dd, hour, 0, 0) * 1000;
        }
    }
}

static void test_call_report_locks_and_plans_next(void **state)
{
    (void)state;
    Medrep__LogCallReply *out = NULL;
    char msg[512];
    int64_t now = mr_now_ms(), next = next_month_weekday(6, 10);
    assert_int_equal(log_call("R1-C05", now - HOUR_MS, 3, 2, next, NULL, &out, msg), MR_OK);
    char id[192], next_id[192];
    snprintf(id, sizeof id, "%s", out->call_id);
    snprintf(next_id, sizeof next_id, "%s", out->next_call_id);
    medrep__log_call_reply__free_unpacked(out, NULL);
    Medrep__Event *ev = last_event("north", "call_logged");
    assert_non_null(ev);
    assert_string_equal(ev->call_logged->call_id, id);
    assert_int_equal(ev->call_logged->adoption_stage_before, -1);
    assert_int_equal(ev->call_logged->adoption_stage_after, 2);
    medrep__event__free_unpacked(ev, NULL);
    /* submitted: locked */
    out = NULL;
    assert_int_equal(log_call("R1-C05", now - HOUR_MS, 3, 3, 0, id, &out, msg), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(msg, "locked"));
    /* the stage is remembered: the next report starts from it */
    assert_int_equal(log_call("R1-C06", now - 2 * HOUR_MS, 3, -1, 0, NULL, &out, msg), MR_OK);
    medrep__log_call_reply__free_unpacked(out, NULL);
    /* bad reports */
    assert_int_equal(log_call("R1-C05", now - 10 * DAY_MS, 3, 2, 0, NULL, &out, msg), MR_FAILED_PRECONDITION);
    assert_non_null(strstr(msg, "backdating"));
    assert_int_equal(log_call("R1-C07", now - HOUR_MS, 2, 2, 0, NULL, &out, msg), MR_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "objectives"));
    assert_int_equal(log_call("R1-C07", now + HOUR_MS, 3, 2, 0, NULL, &out, msg), MR_INVALID_ARGUMENT);
    assert_int_equal(log_call("R1-C07", now - HOUR_MS, 3, 9, 0, NULL, &out, msg), MR_INVALID_ARGUMENT);
    assert_int_equal(log_call("R9-C00", now - HOUR_MS, 3, 2, 0, NULL, &out, msg), MR_FAILED_PRECONDITION);
    assert_int_equal(log_call("R1-C99", now - HOUR_MS, 3, 2, 0, NULL, &out, msg), MR_NOT_FOUND);
    /* the next appointment is a pinned planned call, kept by a replan */
    Medrep__PlanReply *p = plan("Plan", "north", "R1", next_month);
    const Medrep__PlannedCall *nc = find_call(p, next_id);
    assert_non_null(nc);
    assert_true(nc->pinned);
    assert_int_equal(nc->start_ms, next);
    assert_string_equal(nc->origin, "next_appointment");
    /* planned calls carry the customer's last call when it is in the same quarter */
    mr_local_time lt;
    mr_tz_to_local(shanghai, now / 1000, &lt);
    int ny, nm, nd;
    mr_civil_from_days(next_first, &ny, &nm, &nd);
    for (size_t i = 0; i < p->n_calls && ny == lt.year && (nm - 1) / 3 == (lt.month - 1) / 3; i++)
        if (!strcmp(p->calls[i]->customer_id, "R1-C05") && !strcmp(p->calls[i]->origin, "plan"))
            assert_string_equal(p->calls[i]->last_call_id, id);
    medrep__plan_reply__free_unpacked(p, NULL);
}

static void test_cancel_move_add_kept_by_replanning(void **state)
{
    (void)state;
    Medrep__PlanReply *p = plan("Plan", "north", "R1", next_month);
    const Medrep__PlannedCall *a = NULL, *b = NULL;
    for (size_t i = 0; i < p->n_calls && !a; i++)
        if (!strcmp(p->calls[i]->origin, "plan") && !strcmp(p->calls[i]->kind, "call"))
            a = p->calls[i];
    assert_non_null(a);
    char a_id[192], a_cust[64], b_id[192], b_cust[64];
    int64_t a_day = a->start_ms;
    snprintf(a_id, sizeof a_id, "%s", a->call_id);
    snprintf(a_cust, sizeof a_cust, "%s", a->customer_id);
    medrep__plan_reply__free_unpacked(p, NULL);

    Medrep__CancelCallRequest cr = MEDREP__CANCEL_CALL_REQUEST__INIT;
    cr.call_id = a_id;
    cr.reason = "doctor away";
    Medrep__CancelCallReply *cout = NULL;
    assert_int_equal(rpc("CancelCall", "north", &cr.base, &medrep__cancel_call_reply__descriptor, &cout, NULL), MR_OK);
    medrep__cancel_call_reply__free_unpacked(cout, NULL);
    Medrep__Event *ev = last_event("north", "call_cancelled");
    assert_non_null(ev);
    assert_string_equal(ev->call_cancelled->call_id, a_id);
    medrep__event__free_unpacked(ev, NULL);
    cout = NULL;
    assert_int_equal(rpc("CancelCall", "north", &cr.base, &medrep__cancel_call_reply__descriptor, &cout, NULL),
                     MR_FAILED_PRECONDITION);
    Medrep__GetCallReply *got = NULL;   /* a cancelled call is still found, as cancelled */
    assert_int_equal(get_call(a_id, &got), MR_OK);
    assert_string_equal(got->call->state, "cancelled");
    assert_string_equal(got->call->rep_id, "R1");
    medrep__get_call_reply__free_unpacked(got, NULL);

    /* the replanned rest: a's customer is not planned again that day */
    p = plan("GetPlan", "north", "R1", next_month);
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        if (!strcmp(c->customer_id, a_cust) && strcmp(c->call_id, a_id))
            assert_true(llabs(c->start_ms - a_day) >= 12 * HOUR_MS);
        if (!b && !strcmp(c->origin, "plan") && !strcmp(c->kind, "call") && strcmp(c->customer_id, a_cust))
            b = c;
    }
    assert_non_null(b);
    snprintf(b_id, sizeof b_id, "%s", b->call_id);
    snprintf(b_cust, sizeof b_cust, "%s", b->customer_id);
    medrep__plan_reply__free_unpacked(p, NULL);

    /* the rep moves b to 07:40 of the 9th weekday: pinned there */
    int64_t moved = next_month_weekday(9, 7) + 40 * 60000;
    Medrep__UpdateCallRequest ur = MEDREP__UPDATE_CALL_REQUEST__INIT;
    ur.call_id = b_id;
    ur.start_ms = moved, ur.has_start_ms = true;
    Medrep__UpdateCallReply *uout = NULL;
    char reason[32] = "";
    int changed = 0, events = plan_changed_count("R1", next_month, reason, &changed);
    assert_int_equal(rpc("UpdateCall", "north", &ur.base, &medrep__update_call_reply__descriptor, &uout, NULL), MR_OK);
    assert_true(uout->call->pinned);
    medrep__update_call_reply__free_unpacked(uout, NULL);
    /* one PlanChanged for the month, the moved call counted */
    assert_int_equal(plan_changed_count("R1", next_month, reason, &changed), events + 1);
    assert_string_equal(reason, "update_call");
    assert_true(changed >= 1);
    /* pinning it again where it is changes nothing: no event */
    Medrep__UpdateCallRequest again = MEDREP__UPDATE_CALL_REQUEST__INIT;
    again.call_id = b_id;
    again.pinned = true, again.has_pinned = true;
    assert_int_equal(rpc("UpdateCall", "north", &again.base, &medrep__update_call_reply__descriptor, &uout, NULL),
                     MR_OK);
    medrep__update_call_reply__free_unpacked(uout, NULL);
    assert_int_equal(plan_changed_count("R1", next_month, reason, &changed), events + 1);

    /* the rep adds a call by hand */
    Medrep__AddCallRequest ar = MEDREP__ADD_CALL_REQUEST__INIT;
    ar.rep_id = "R1";
    ar.customer_id = "R1-C09";
    ar.start_ms = next_month_weekday(12, 16), ar.has_start_ms = true;
    Medrep__AddCallReply *aout = NULL;
    assert_int_equal(rpc("AddCall", "north", &ar.base, &medrep__add_call_reply__descriptor, &aout, NULL), MR_OK);
    char added[192];
    snprintf(added, sizeof added, "%s", aout->call_id);
    medrep__add_call_reply__free_unpacked(aout, NULL);
    /* one PlanChanged for it */
    assert_int_equal(plan_changed_count("R1", next_month, reason, &changed), events + 2);
    assert_string_equal(reason, "add_call");
    assert_true(changed >= 1);

    p = plan("Plan", "north", "R1", next_month);
    const Medrep__PlannedCall *c = find_call(p, a_id);
    assert_non_null(c);
    assert_string_equal(c->state, "cancelled");
    c = find_call(p, b_id);
    assert_non_null(c);
    assert_int_equal(c->start_ms, moved);
    assert_true(c->pinned);
    c = find_call(p, added);
    assert_non_null(c);
    assert_string_equal(c->origin, "manual");
    /* no call of b's customer within the conflict window of the pinned one */
    for (size_t i = 0; i < p->n_calls; i++)
        if (!strcmp(p->calls[i]->customer_id, b_cust) && strcmp(p->calls[i]->call_id, b_id) &&
            strcmp(p->calls[i]->state, "cancelled"))
            assert_true(llabs(p->calls[i]->start_ms - moved) >= 3 * DAY_MS);
    medrep__plan_reply__free_unpacked(p, NULL);
}

static void test_time_off_and_meeting_block_time(void **state)
{
    (void)state;
    int64_t day = next_month_weekday(3, 0);   /* local midnight of a weekday */
    Medrep__TimeOffRequest to = MEDREP__TIME_OFF_REQUEST__INIT;
    to.rep_id = "R1";
    to.start_ms = day, to.has_start_ms = true;
    to.end_ms = day + DAY_MS, to.has_end_ms = true;
    to.reason = "training";
    Medrep__TimeOffReply *tout = NULL;
    assert_int_equal(rpc("AddTimeOff", "north", &to.base, &medrep__time_off_reply__descriptor, &tout, NULL), MR_OK);
    medrep__time_off_reply__free_unpacked(tout, NULL);
    /* a meeting approved at the time of a planned call (not on that day)
     * blocks from an hour before to an hour after: the call moves */
    int64_t mstart = 0;
    Medrep__PlanReply *p = plan("GetPlan", "north", "R1", next_month);
    for (size_t i = 0; i < p->n_calls && !mstart; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        if (!strcmp(c->state, "planned") && !c->pinned && strcmp(c->origin, "manual") != 0 &&
            (c->start_ms < day || c->start_ms >= day + DAY_MS))
            mstart = c->start_ms;
    }
    medrep__plan_reply__free_unpacked(p, NULL);
    assert_true(mstart > 0);
    mr_tx *tx = mr_tx_new();
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__MeetingChanged mc = MEDREP__MEETING_CHANGED__INIT;
    mc.meeting_id = "M1";
    mc.from_state = "proposed";
    mc.to_state = "approved";
    mc.rep_id = "R1";
    mc.start_ms = mstart, mc.has_start_ms = true;
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &mc;
    char reason[32] = "";
    int changed = 0, events = plan_changed_count("R1", next_month, reason, &changed);
    emit(tx, &ev, "north", "meeting-1");
    wait_events_handled("north");
    /* the replan the meeting caused is announced, with its reason */
    assert_int_equal(plan_changed_count("R1", next_month, reason, &changed), events + 1);
    assert_string_equal(reason, "replan");
    assert_true(changed >= 1);
    p = plan("GetPlan", "north", "R1", next_month);
    int on_day = 0;
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        if (!strcmp(c->state, "cancelled"))
            continue;
        on_day += c->start_ms >= day && c->start_ms < day + DAY_MS;
        int64_t end = c->start_ms + c->duration_min * 60000LL;
        assert_false(c->start_ms < mstart + HOUR_MS && end > mstart - HOUR_MS);
    }
    assert_int_equal(on_day, 0);
    medrep__plan_reply__free_unpacked(p, NULL);
    mr_tx_free(&tx);
}

static void test_regrade_and_follow_up_events(void **state)
{
    (void)state;
    char reason[32] = "";
    int changed = 0, events = plan_changed_count("R1", next_month, reason, &changed);
    mr_tx *tx = mr_tx_new();
    /* a D customer becomes A: the stored next-month plan follows */
    regrade(tx, "north", "R1-C19", "A", 1);
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__FollowUpDue fu = MEDREP__FOLLOW_UP_DUE__INIT;
    fu.meeting_id = "M1";
    fu.customer_id = "R1-C18";
    fu.rep_id = "R1";
    fu.due_ms = mr_now_ms() + 7 * DAY_MS, fu.has_due_ms = true;
    ev.body_case = MEDREP__EVENT__BODY_FOLLOW_UP_DUE;
    ev.follow_up_due = &fu;
    emit(tx, &ev, "north", "follow-up-1");
    emit(tx, &ev, "north", "follow-up-1-again");   /* a second delivery adds nothing */
    wait_events_handled("north");
    wait_replanned();
    assert_int_equal(redis_int("HLEN %s", "{r:north}:sched:seg:R1-C19"), 1);
    Medrep__PlanReply *p = plan("GetPlan", "north", "R1", next_month);
    assert_true(calls_of(p, "R1-C19", "planned") >= 3);
    medrep__plan_reply__free_unpacked(p, NULL);
    /* the debounced replan (ReplanDirty) announced the rewritten month */
    assert_true(plan_changed_count("R1", next_month, reason, &changed) > events);
    assert_string_equal(reason, "replan");
    assert_true(changed > 0);
    mr_val *v = mr_store_cmd(store, "KEYS %s", "{r:north}:sched:call:R1.R1-C18.fu.*");
    assert_int_equal(mr_val_count(v), 1);
    mr_val_free(&v);
    Medrep__Event *pe = last_event("north", "call_planned");
    assert_non_null(pe);
    assert_string_equal(pe->call_planned->origin, "meeting_follow_up");
    medrep__event__free_unpacked(pe, NULL);
    mr_tx_free(&tx);
}

static void test_attainment_and_pace(void **state)
{
    (void)state;
    mr_local_time lt;
    mr_tz_to_local(shanghai, mr_now_ms() / 1000, &lt);
    char month[32];
    snprintf(month, sizeof month, "%04d-%02d", lt.year, lt.month);
    Medrep__AttainmentRequest ar = MEDREP__ATTAINMENT_REQUEST__INIT;
    ar.rep_id = "R1";
    ar.period = month;
    Medrep__AttainmentReply *at = NULL;
    assert_int_equal(rpc("Attainment", "north", &ar.base, &medrep__attainment_reply__descriptor, &at, NULL), MR_OK);
    assert_int_equal(at->done, 2);               /* the two reports of this test run */
    assert_int_equal(at->reps, 1);
    int customers = 0;
    for (size_t i = 0; i < at->n_segments; i++)
        customers += at->segments[i]->customers;
    assert_int_equal(customers, NCUST);
    medrep__attainment_reply__free_unpacked(at, NULL);
    ar.rep_id = NULL;
    ar.team = "ONC";
    at = NULL;
    assert_int_equal(rpc("Attainment", "north", &ar.base, &medrep__attainment_reply__descriptor, &at, NULL), MR_OK);
    assert_int_equal(at->reps, 1);
    medrep__attainment_reply__free_unpacked(at, NULL);
    ar.period = "last week";
    at = NULL;
    assert_int_equal(rpc("Attainment", "north", &ar.base, &medrep__attainment_reply__descriptor, &at, NULL),
                     MR_INVALID_ARGUMENT);

    /* pace: A and B need 4 calls each; two reports are far behind unless the month just began */
    mr_calendar *cal = mr_calendar_parse(NULL, NULL, NULL, NULL, 0);
    int elapsed = lt.day > 1 ? mr_calendar_field_days(cal, lt.year, lt.month, 1, lt.year, lt.month, lt.day - 1) : 0;
    mr_calendar_free(&cal);
    Medrep__PaceCheckRequest pr = MEDREP__PACE_CHECK_REQUEST__INIT;
    Medrep__PaceCheckReply *po = NULL;
    assert_int_equal(rpc("CheckPace", "north", &pr.base, &medrep__pace_check_reply__descriptor, &po, NULL), MR_OK);
    long long xlen = redis_int("XLEN %s", "{r:north}:events");
    if (elapsed > 0) {
        assert_int_equal(po->n_behind, 2);       /* R1:A and R1:B; R9 has no graded customers */
        Medrep__Event *ev = last_event("north", "coverage_behind_pace");
        assert_non_null(ev);
        assert_string_equal(ev->coverage_behind_pace->rep_id, "R1");
        medrep__event__free_unpacked(ev, NULL);
    } else
        assert_int_equal(po->n_behind, 0);
    medrep__pace_check_reply__free_unpacked(po, NULL);
    /* told once a day */
    po = NULL;
    assert_int_equal(rpc("CheckPace", "north", &pr.base, &medrep__pace_check_reply__descriptor, &po, NULL), MR_OK);
    medrep__pace_check_reply__free_unpacked(po, NULL);
    assert_int_equal(redis_int("XLEN %s", "{r:north}:events"), xlen);
}

static void test_ical_export(void **state)
{
    (void)state;
    char week[32];
    int64_t monday = next_first + 7 - ((mr_weekday_from_days(next_first) + 6) % 7);
    int y, m, d;
    mr_civil_from_days(monday, &y, &m, &d);
    snprintf(week, sizeof week, "%04d-%02d-%02d", y, m, d);   /* one day */
    Medrep__PlanIcalRequest er = MEDREP__PLAN_ICAL_REQUEST__INIT;
    er.rep_id = "R1";
    er.period = week;
    Medrep__PlanIcalReply *out = NULL;
    assert_int_equal(rpc("ExportIcal", "north", &er.base, &medrep__plan_ical_reply__descriptor, &out, NULL), MR_OK);
    Medrep__PlanReply *p = plan("GetPlan", "north", "R1", week);
    icalcomponent *cal = icalparser_parse_string(out->ics);
    assert_non_null(cal);
    int n = icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT);
    assert_int_equal(n, (int)p->n_calls);
    assert_true(n > 0);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    struct icaltimetype st = icalcomponent_get_dtstart(ev);
    assert_int_equal((int64_t)icaltime_as_timet(st) * 1000, p->calls[0]->start_ms);
    icalcomponent_free(cal);
    medrep__plan_reply__free_unpacked(p, NULL);
    medrep__plan_ical_reply__free_unpacked(out, NULL);
}

static void test_other_time_zone_across_dst(void **state)
{
    (void)state;
    /* the next spring-forward in Europe/Berlin after now */
    mr_local_time lt;
    mr_tz_to_local(berlin, mr_now_ms() / 1000, &lt);
    int year = lt.month >= 3 ? lt.year + 1 : lt.year;
    char month[32];
    snprintf(month, sizeof month, "%04d-03", year);
    mr_tx *tx = mr_tx_new();
    stage_territory(tx, "west", "W1", "ONC", 2, 10, "mon-fri 09:00-11:00");
    for (int i = 0; i < 10; i++) {
        char id[32];
        snprintf(id, sizeof id, "W1-C%02d", i);
        regrade(tx, "west", id, "A", 0);
    }
    wait_events_handled("west");
    Medrep__PlanReply *p = plan("Plan", "west", "W1", month);
    assert_string_equal(p->timezone, "Europe/Berlin");
    int offsets[2] = {0, 0};
    for (size_t i = 0; i < p->n_calls; i++) {
        if (strcmp(p->calls[i]->kind, "call"))
            continue;
        mr_local_time c;
        mr_tz_to_local(berlin, p->calls[i]->start_ms / 1000, &c);
        int minute = c.hour * 60 + c.minute;
        assert_true(minute >= 9 * 60 && minute + p->calls[i]->duration_min <= 11 * 60);
        offsets[c.utc_offset_s == 7200] = 1;
    }
    assert_true(offsets[0] && offsets[1]);   /* calls on both sides of the change */
    assert_true(calls_of(p, "W1-C00", NULL) >= 4);
    medrep__plan_reply__free_unpacked(p, NULL);
    mr_tx_free(&tx);
}

static void test_quarter_plan_and_approval(void **state)
{
    (void)state;
    mr_local_time lt;
    mr_tz_to_local(shanghai, mr_now_ms() / 1000, &lt);
    char quarter[32];
    snprintf(quarter, sizeof quarter, "%04d-Q%d", lt.year, (lt.month - 1) / 3 + 1);
    Medrep__QuarterPlanRequest qr = MEDREP__QUARTER_PLAN_REQUEST__INIT;
    qr.rep_id = "R1";
    qr.quarter = quarter;
    Medrep__QuarterPlanReply *q = NULL;
    assert_int_equal(rpc("QuarterPlan", "north", &qr.base, &medrep__quarter_plan_reply__descriptor, &q, NULL), MR_OK);
    assert_string_equal(q->state, "awaiting_approval");
    assert_int_equal(q->n_targets, NCUST);
    int a_targets = 0;
    for (size_t i = 0; i < q->n_targets; i++)
        if (!strcmp(q->targets[i]->segment, "A")) {
            assert_int_equal(q->targets[i]->calls_target, 12);
            assert_true(q->targets[i]->n_objectives >= 3);
            a_targets++;
        }
    assert_true(a_targets >= 8);
    medrep__quarter_plan_reply__free_unpacked(q, NULL);
    Medrep__Event *ev = last_event("north", "plan_due");
    assert_non_null(ev);
    assert_string_equal(ev->plan_due->kind, "quarter");
    assert_string_equal(ev->plan_due->approver_id, "DM1");
    medrep__event__free_unpacked(ev, NULL);
    Medrep__ApproveQuarterRequest ar = MEDREP__APPROVE_QUARTER_REQUEST__INIT;
    ar.rep_id = "R1";
    ar.quarter = quarter;
    ar.approver_id = "DM9";
    Medrep__ApproveQuarterReply *ao = NULL;
    assert_int_equal(rpc("ApproveQuarter", "north", &ar.base, &medrep__approve_quarter_reply__descriptor, &ao, NULL),
                     MR_PERMISSION_DENIED);
    ar.approver_id = "DM1";
    assert_int_equal(rpc("ApproveQuarter", "north", &ar.base, &medrep__approve_quarter_reply__descriptor, &ao, NULL), MR_OK);
    medrep__approve_quarter_reply__free_unpacked(ao, NULL);
    /* unchanged targets stay approved, and nobody is asked again */
    long long xlen = redis_int("XLEN %s", "{r:north}:events");
    q = NULL;
    assert_int_equal(rpc("QuarterPlan", "north", &qr.base, &medrep__quarter_plan_reply__descriptor, &q, NULL), MR_OK);
    assert_string_equal(q->state, "approved");
    medrep__quarter_plan_reply__free_unpacked(q, NULL);
    assert_int_equal(redis_int("XLEN %s", "{r:north}:events"), xlen);
    /* a plan of a quarter is refused by Plan */
    Medrep__PlanRequest pr = MEDREP__PLAN_REQUEST__INIT;
    pr.rep_id = "R1";
    pr.period = quarter;
    Medrep__PlanReply *p = NULL;
    assert_int_equal(rpc("Plan", "north", &pr.base, &medrep__plan_reply__descriptor, &p, NULL), MR_INVALID_ARGUMENT);
}

static void test_supplied_travel_times(void **state)
{
    (void)state;
    Medrep__TravelTime t1 = MEDREP__TRAVEL_TIME__INIT, t2 = MEDREP__TRAVEL_TIME__INIT;
    t1.from_id = "home:R9", t1.to_id = "R9-H0", t1.minutes = 90, t1.has_minutes = true;
    t2.from_id = "R9-H0", t2.to_id = "home:R9", t2.minutes = 90, t2.has_minutes = true;
    Medrep__TravelTime *ts[] = {&t1, &t2};
    Medrep__SetTravelTimesRequest req = MEDREP__SET_TRAVEL_TIMES_REQUEST__INIT;
    req.times = ts, req.n_times = 2;
    Medrep__SetTravelTimesReply *out = NULL;
    assert_int_equal(rpc("SetTravelTimes", "north", &req.base, &medrep__set_travel_times_reply__descriptor, &out, NULL), MR_OK);
    medrep__set_travel_times_reply__free_unpacked(out, NULL);
    t2.minutes = 5000;
    assert_int_equal(rpc("SetTravelTimes", "north", &req.base, &medrep__set_travel_times_reply__descriptor, &out, NULL),
                     MR_INVALID_ARGUMENT);
    t2.minutes = 90;
    t2.to_id = "bad id!";
    assert_int_equal(rpc("SetTravelTimes", "north", &req.base, &medrep__set_travel_times_reply__descriptor, &out, NULL),
                     MR_INVALID_ARGUMENT);
    /* the rep lives next to the hospital by the speed model, 90 minutes away by the supplied times */
    Medrep__PlanReply *p = plan("Plan", "north", "R9", next_month);
    assert_true(p->n_calls > 0);
    for (size_t i = 0; i < p->n_calls; i++) {
        mr_local_time lt;
        mr_tz_to_local(shanghai, p->calls[i]->start_ms / 1000, &lt);
        assert_true(lt.hour * 60 + lt.minute >= 8 * 60 + 90);
        assert_true(lt.hour * 60 + lt.minute + p->calls[i]->duration_min <= 18 * 60 - 90);
    }
    medrep__plan_reply__free_unpacked(p, NULL);
}

/* Runs the medrep CLI with args; output copied to out; its exit status. */
static int run_cli(const char *args, char *out, size_t cap)
{
    char bin[512], command[1400];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s --region north %s 2>&1", bin, stack.config_path, args);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = '\0';
    int status = p ? pclose(p) : -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    static char out[1 << 17];
    char args[256], day[32];
    int64_t d = next_first;
    while (mr_weekday_from_days(d) < 1 || mr_weekday_from_days(d) > 5)
        d++;
    int y, m, dd;
    mr_civil_from_days(d, &y, &m, &dd);
    snprintf(day, sizeof day, "%04d-%02d-%02d", y, m, dd);
    snprintf(args, sizeof args, "plan R1 %s --stored", day);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "Plan of R1"));
    assert_non_null(strstr(out, "Doctor "));
    assert_non_null(strstr(out, "Hospital "));
    snprintf(args, sizeof args, "--json plan R1 %s --stored", day);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"call_id\""));
    snprintf(args, sizeof args, "export ical R1 %s", day);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "BEGIN:VCALENDAR"));
    assert_int_equal(run_cli("attainment --rep R1 2026-11", out, sizeof out), 0);
    assert_non_null(strstr(out, "SEGMENT"));
    mr_local_time lt;
    mr_tz_to_local(shanghai, mr_now_ms() / 1000, &lt);
    snprintf(args, sizeof args, "plan R1 %04d-Q%d", lt.year, (lt.month - 1) / 3 + 1);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "Quarter plan of R1"));
    assert_int_equal(run_cli("plan R1 someday", out, sizeof out), 2);
    assert_int_equal(run_cli("calls log --rep R1", out, sizeof out), 2);
    assert_int_equal(run_cli("calls cancel no.such.call", out, sizeof out), 1);
    assert_non_null(strstr(out, "NOT_FOUND"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_month_stored_and_replayed),
        cmocka_unit_test(test_get_call),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_call_report_locks_and_plans_next),
        cmocka_unit_test(test_cancel_move_add_kept_by_replanning),
        cmocka_unit_test(test_time_off_and_meeting_block_time),
        cmocka_unit_test(test_regrade_and_follow_up_events),
        cmocka_unit_test(test_attainment_and_pace),
        cmocka_unit_test(test_ical_export),
        cmocka_unit_test(test_other_time_zone_across_dst),
        cmocka_unit_test(test_quarter_plan_and_approval),
        cmocka_unit_test(test_supplied_travel_times),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
