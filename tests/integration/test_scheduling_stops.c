/* test_scheduling_stops.c: the day route around events, through the real
 * broker and scheduling service on a real Redis: a meeting approved at a
 * hospital (where and how long from its MeetingChanged event) is a fixed
 * stop there, with the supplied travel time kept before and after it, and
 * is listed among the stops of the Plan and GetPlan replies;
 * one-to-one talks next to PIMs and meetings are planned as calls
 * (origin pim_talk) and a short talk is accepted by LogCall, a short
 * ordinary call is not; the departments' good moments (after rounds)
 * draw calls, and a hospital whose moments are turned off by scoped
 * configuration draws fewer. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

#define NCUST 36
#define NHOSP 4
#define MIN_MS 60000LL
#define DAY_MS 86400000LL
#define FAR 45                 /* supplied minutes between the meeting's hospital and the others */

static h_stack stack;
static mr_client *client;
static mr_store *store;
static mr_tz *tz;
static char month[16];
static int64_t first_day;

static int rpc(const char *method, const ProtobufCMessage *in, const ProtobufCMessageDescriptor *desc, void *out,
               char *msg)
{
    char buf[512];
    return mr_client_rpc(client, "scheduling", method, "north", NULL, in, desc, (ProtobufCMessage **)out, 20000,
                         msg ? msg : buf, 512);
}

static void commit(mr_tx *tx)
{
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_reset(tx);
}

static void emit(mr_tx *tx, Medrep__Event *ev, const char *id)
{
    ev->region = "north";
    ev->event_id = (char *)id;
    ev->occurred_ms = mr_now_ms(), ev->has_occurred_ms = true;
    ev->source = "test";
    assert_int_equal(mr_events_stage(tx, ev, 0), 0);
    commit(tx);
}

static void wait_events_handled(void)
{
    if (h_wait_events_handled(store, "north", "scheduling", 20000) != 0)
        fail_msg("events not handled in time");
}

static void stage_territory(mr_tx *tx)
{
    mr_rep r = {.home_lat = 31.20, .home_lon = 121.45};
    snprintf(r.id, sizeof r.id, "S1");
    snprintf(r.team, sizeof r.team, "ONC");
    snprintf(r.dm_id, sizeof r.dm_id, "DM1");
    assert_int_equal(mr_md_stage_rep(tx, "north", &r, NULL), 0);
    for (int h = 0; h < NHOSP; h++) {
        mr_hospital ho = {.tier = 3, .lat = 31.20 + 0.02 * h, .lon = 121.46};
        snprintf(ho.id, sizeof ho.id, "S1-H%d", h);
        snprintf(ho.name, sizeof ho.name, "Hospital %d", h);
        assert_int_equal(mr_md_stage_hospital(tx, "north", &ho), 0);
        mr_department d = {.headcount = 9};
        snprintf(d.id, sizeof d.id, "S1-D%d", h);
        snprintf(d.hospital_id, sizeof d.hospital_id, "S1-H%d", h);
        snprintf(d.meeting_moments, sizeof d.meeting_moments,
                 "handover mon-fri 07:30-08:10; rounds_end mon-fri 10:00-10:40; case_discussion thu 14:00-15:00");
        assert_int_equal(mr_md_stage_department(tx, "north", &d, NULL), 0);
    }
    for (int i = 0; i < NCUST; i++) {
        mr_customer c = {.kind = MR_CUSTOMER_PRESCRIBER};
        snprintf(c.id, sizeof c.id, "S1-C%02d", i);
        snprintf(c.hospital_id, sizeof c.hospital_id, "S1-H%d", i % NHOSP);
        snprintf(c.department_id, sizeof c.department_id, "S1-D%d", i % NHOSP);
        snprintf(c.rep_id, sizeof c.rep_id, "S1");
        assert_int_equal(mr_md_stage_customer(tx, "north", &c, NULL), 0);
    }
    commit(tx);
    const char *segs = "AABBBCCCD";
    for (int i = 0; i < NCUST; i++) {
        Medrep__Event ev = MEDREP__EVENT__INIT;
        Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
        char id[32], cust[16], seg[2] = {segs[i % 9], 0};
        snprintf(cust, sizeof cust, "S1-C%02d", i);
        snprintf(id, sizeof id, "grade-%d", i);
        g.customer_id = cust, g.product_id = "P1", g.new_segment = seg, g.rep_id = "S1";
        ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
        ev.customer_regraded = &g;
        emit(tx, &ev, id);
    }
}

/* FAR minutes between S1-H2 and every other place, both ways. */
static void supply_travel(void)
{
    Medrep__TravelTime t[2 * NHOSP], *pt[2 * NHOSP];
    char ids[NHOSP][16];
    int n = 0;
    for (int h = 0; h < NHOSP; h++) {
        if (h == 2)
            snprintf(ids[h], sizeof ids[h], "home:S1");
        else
            snprintf(ids[h], sizeof ids[h], "S1-H%d", h);
        for (int dir = 0; dir < 2; dir++) {
            medrep__travel_time__init(&t[n]);
            t[n].from_id = dir ? "S1-H2" : ids[h];
            t[n].to_id = dir ? ids[h] : "S1-H2";
            t[n].minutes = FAR, t[n].has_minutes = true;
            pt[n] = &t[n];
            n++;
        }
    }
    Medrep__SetTravelTimesRequest req = MEDREP__SET_TRAVEL_TIMES_REQUEST__INIT;
    req.times = pt, req.n_times = (size_t)n;
    Medrep__SetTravelTimesReply *out = NULL;
    assert_int_equal(rpc("SetTravelTimes", &req.base, &medrep__set_travel_times_reply__descriptor, &out, NULL), MR_OK);
    medrep__set_travel_times_reply__free_unpacked(out, NULL);
}

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    /* grade events only record segments here (a long quiet period, no
     * ticker); hospital 3 does not use its departments' moments */
    if (h_stack_start(&stack, 1, regions,
                      "[scheduling]\nregrade_quiet_ms = 600000\nticker_interval_ms = 0\n"
                      "[scheduling@hospital:S1-H3]\ngood_moments = none\n") != 0)
        return -1;
    if (h_stack_start_service(&stack, "scheduling", "sched-s", NULL) < 0 ||
        h_stack_wait_workers(&stack, "scheduling", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 4, 20000);
    store = h_stack_store(&stack, 0);
    tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, mr_now_ms() / 1000, &lt);
    int y = lt.month == 12 ? lt.year + 1 : lt.year, m = lt.month == 12 ? 1 : lt.month + 1;
    snprintf(month, sizeof month, "%04d-%02d", y % 10000, m % 100);
    first_day = mr_days_from_civil(y, m, 1);
    mr_tx *tx = mr_tx_new();
    stage_territory(tx);
    mr_tx_free(&tx);
    wait_events_handled();
    supply_travel();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    mr_tz_free(&tz);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static Medrep__PlanReply *plan(const char *method)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = "S1";
    req.period = month;
    Medrep__PlanReply *out = NULL;
    char msg[512];
    int code = rpc(method, &req.base, &medrep__plan_reply__descriptor, &out, msg);
    if (code != MR_OK)
        fail_msg("%s: %s %s", method, mr_code_name(code), msg);
    return out;
}

static int minute_of(int64_t ms)
{
    mr_local_time lt;
    mr_tz_to_local(tz, ms / 1000, &lt);
    return lt.hour * 60 + lt.minute;
}

static int hospital_no(const char *id)
{
    return id && !strncmp(id, "S1-H", 4) ? atoi(id + 4) : -1;
}

/* A weekday of the next month, the nth one, at local hour:00. */
static int64_t weekday_at(int nth, int hour)
{
    for (int64_t d = first_day, k = 0;; d++) {
        int wd = mr_weekday_from_days(d);
        if (wd >= 1 && wd <= 5 && k++ == nth) {
            int y, m, dd;
            mr_civil_from_days(d, &y, &m, &dd);
            return mr_tz_from_local(tz, y, m, dd, hour, 0, 0) * 1000;
        }
    }
}

static void test_talks_and_good_moments(void **state)
{
    (void)state;
    Medrep__PlanReply *p = plan("Plan");
    int talks = 0, in_moment[NHOSP] = {0}, calls[NHOSP] = {0};
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        int h = hospital_no(c->hospital_id), at = minute_of(c->start_ms);
        if (strcmp(c->kind, "call") || h < 0)
            continue;
        if (!strcmp(c->origin, "pim_talk")) {
            talks++;
            assert_int_equal(c->duration_min, 10);
            /* next to a PIM of the same day and hospital, within 30 minutes */
            bool near = false;
            for (size_t j = 0; j < p->n_calls; j++) {
                const Medrep__PlannedCall *e = p->calls[j];
                if (strcmp(e->kind, "pim") || strcmp(e->hospital_id, c->hospital_id) ||
                    llabs(e->start_ms - c->start_ms) > DAY_MS / 2)
                    continue;
                near |= c->start_ms + 10 * MIN_MS >= e->start_ms - 30 * MIN_MS &&
                        c->start_ms <= e->start_ms + (e->duration_min + 30) * MIN_MS;
            }
            assert_true(near);
            continue;
        }
        calls[h]++;
        in_moment[h] += at >= 10 * 60 && at + c->duration_min <= 10 * 60 + 40;
    }
    print_message("talks %d; in the 10:00 moment: %d/%d %d/%d %d/%d, moments off %d/%d\n", talks, in_moment[0],
                  calls[0], in_moment[1], calls[1], in_moment[2], calls[2], in_moment[3], calls[3]);
    assert_true(talks >= 3);             /* a PIM a week, with its talks */
    int on = in_moment[0] + in_moment[1] + in_moment[2], on_calls = calls[0] + calls[1] + calls[2];
    assert_true(on >= 6);
    assert_true((double)on / on_calls > (double)in_moment[3] / (calls[3] ? calls[3] : 1));
    medrep__plan_reply__free_unpacked(p, NULL);
}

static void test_meeting_is_a_stop_at_its_hospital(void **state)
{
    (void)state;
    int64_t start = weekday_at(7, 14);
    /* where, how long and what kind travel in the event itself */
    mr_tx *tx = mr_tx_new();
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__MeetingChanged mc = MEDREP__MEETING_CHANGED__INIT;
    mc.meeting_id = "MX1", mc.from_state = "proposed", mc.to_state = "approved", mc.rep_id = "S1";
    mc.start_ms = start, mc.has_start_ms = true;
    mc.kind = "in_department", mc.hospital_id = "S1-H2";
    mc.duration_min = 35, mc.has_duration_min = true;
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &mc;
    emit(tx, &ev, "meeting-mx1");
    mr_tx_free(&tx);
    wait_events_handled();
    assert_true(h_redis_int(store, "HEXISTS %s meeting:MX1", "{r:north}:sched:rep:S1:busy") == 1);
    Medrep__PlanReply *p = plan("GetPlan");
    int64_t lo = start - 60 * MIN_MS, hi = start + 35 * MIN_MS;   /* staff arrive an hour early */
    int talks = 0, that_day = 0;
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        if (!strcmp(c->state, "cancelled") || c->start_ms < start - DAY_MS / 2 || c->start_ms > start + DAY_MS / 2)
            continue;
        that_day++;
        int64_t end = c->start_ms + c->duration_min * MIN_MS;
        assert_false(c->start_ms < hi && end > lo);        /* nothing during the meeting */
        if (hospital_no(c->hospital_id) != 2) {             /* the drive to and from it is kept */
            assert_true(end <= lo - FAR * MIN_MS || c->start_ms >= hi + FAR * MIN_MS);
        } else if (!strcmp(c->origin, "pim_talk"))
            talks += end >= lo - 30 * MIN_MS && c->start_ms <= hi + 30 * MIN_MS;
    }
    print_message("calls that day %d, talks next to the meeting %d\n", that_day, talks);
    assert_true(that_day >= 4);
    assert_true(talks >= 1 && talks <= 2);
    /* the meeting is listed as a stop of the plan, at its hospital */
    assert_int_equal(p->n_stops, 1);
    assert_string_equal(p->stops[0]->kind, "meeting");
    assert_string_equal(p->stops[0]->meeting_id, "MX1");
    assert_string_equal(p->stops[0]->hospital_id, "S1-H2");
    assert_true(p->stops[0]->start_ms == lo && p->stops[0]->end_ms == hi);
    medrep__plan_reply__free_unpacked(p, NULL);
    p = plan("Plan");                                       /* Plan lists it too */
    assert_int_equal(p->n_stops, 1);
    assert_string_equal(p->stops[0]->meeting_id, "MX1");
    assert_string_equal(p->stops[0]->hospital_id, "S1-H2");
    medrep__plan_reply__free_unpacked(p, NULL);
}

static int log_talk(int64_t start, int minutes, const char *customer)
{
    const char *objectives[] = {"present the new data", "answer the dosing question", "agree on a trial"};
    Medrep__CallReport r = MEDREP__CALL_REPORT__INIT;
    r.rep_id = "S1", r.customer_id = (char *)customer;
    r.start_ms = start, r.has_start_ms = true;
    r.duration_min = minutes, r.has_duration_min = true;
    r.objectives = (char **)objectives, r.n_objectives = 3;
    Medrep__LogCallRequest req = MEDREP__LOG_CALL_REQUEST__INIT;
    req.report = &r;
    Medrep__LogCallReply *out = NULL;
    int code = rpc("LogCall", &req.base, &medrep__log_call_reply__descriptor, &out, NULL);
    if (out)
        medrep__log_call_reply__free_unpacked(out, NULL);
    return code;
}

static void test_short_talk_next_to_a_meeting_counts(void **state)
{
    (void)state;
    /* a meeting held an hour ago at S1-H1 (recorded as the rep's busy time) */
    int64_t now = mr_now_ms(), mstart = now - 90 * MIN_MS;
    char val[96];
    snprintf(val, sizeof val, "%lld:%lld:mtg:S1-H1", (long long)(mstart - 60 * MIN_MS), (long long)(mstart + 35 * MIN_MS));
    mr_val *v = mr_store_cmd(store, "HSET {r:north}:sched:rep:S1:busy meeting:MX0 %s", val);
    mr_val_free(&v);
    /* 8 minutes right after it: a talk, counted as a done call */
    assert_int_equal(log_talk(mstart + 40 * MIN_MS, 8, "S1-C01"), MR_OK);
    /* 8 minutes far from any event: too short for a call */
    assert_int_equal(log_talk(now - 26 * 60 * MIN_MS, 8, "S1-C05"), MR_INVALID_ARGUMENT);
    char key[128];
    snprintf(key, sizeof key, "{r:north}:sched:call:S1.S1-C01.%lld", (long long)(mstart + 40 * MIN_MS));
    assert_int_equal(h_redis_int(store, "EXISTS %s", key), 1);
    Medrep__AttainmentRequest ar = MEDREP__ATTAINMENT_REQUEST__INIT;
    ar.rep_id = "S1";
    mr_local_time lt;
    mr_tz_to_local(tz, now / 1000, &lt);
    char day[16];
    snprintf(day, sizeof day, "%04d-%02d-%02d", lt.year % 10000, lt.month % 100, lt.day % 100);
    mr_tz_to_local(tz, (mstart + 40 * MIN_MS) / 1000, &lt);
    snprintf(day, sizeof day, "%04d-%02d-%02d", lt.year % 10000, lt.month % 100, lt.day % 100);
    ar.period = day;
    Medrep__AttainmentReply *at = NULL;
    assert_int_equal(rpc("Attainment", &ar.base, &medrep__attainment_reply__descriptor, &at, NULL), MR_OK);
    assert_int_equal(at->done, 1);
    medrep__attainment_reply__free_unpacked(at, NULL);
}

static void test_meeting_out_of_the_department_only_blocks_time(void **state)
{
    (void)state;
    int64_t start = weekday_at(9, 18);
    /* at a restaurant: neither its named hospital nor its invitee's is a stop */
    static char *invitees[] = {"S1-C01"};
    mr_tx *tx = mr_tx_new();
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__MeetingChanged mc = MEDREP__MEETING_CHANGED__INIT;
    mc.meeting_id = "MX2", mc.from_state = "proposed", mc.to_state = "approved", mc.rep_id = "S1";
    mc.start_ms = start, mc.has_start_ms = true;
    mc.kind = "out_of_department", mc.hospital_id = "S1-H3";
    mc.duration_min = 40, mc.has_duration_min = true;
    mc.invitee_ids = invitees, mc.n_invitee_ids = 1;
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &mc;
    emit(tx, &ev, "meeting-mx2");
    mr_tx_free(&tx);
    wait_events_handled();
    Medrep__PlanReply *p = plan("GetPlan");
    const Medrep__PlanStop *st = NULL;
    for (size_t i = 0; i < p->n_stops; i++)
        if (!strcmp(p->stops[i]->meeting_id, "MX2"))
            st = p->stops[i];
    assert_non_null(st);
    assert_null(st->hospital_id);
    assert_true(st->start_ms == start - 60 * MIN_MS && st->end_ms == start + 40 * MIN_MS);
    medrep__plan_reply__free_unpacked(p, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_talks_and_good_moments),
        cmocka_unit_test(test_meeting_is_a_stop_at_its_hospital),
        cmocka_unit_test(test_short_talk_next_to_a_meeting_counts),
        cmocka_unit_test(test_meeting_out_of_the_department_only_blocks_time),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
