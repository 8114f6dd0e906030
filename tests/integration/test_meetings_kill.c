/* test_meetings_kill.c: two meetings instances; 200 meetings proposed,
 * submitted and approved with requests pipelined; one instance is
 * SIGKILLed in the middle of the submissions. Every request still
 * succeeds (the client retries with the same request id; the broker
 * re-dispatches the dead worker's requests), and nothing is lost or
 * duplicated: each meeting has exactly its three history entries, version
 * 2 and three MeetingChanged events. */
// ctest-label: fault
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "meetings_testlib.h"

#define MEETINGS 200
#define WINDOW 16

static char ids[MEETINGS][24];
static int victim = -1;

static int setup(void **state)
{
    (void)state;
    if (mtl_start(NULL, NULL) != 0)
        return -1;
    victim = h_stack_start_service(&mtl_stack, "meetings", "meetings-b", NULL);
    if (victim < 0 || h_stack_wait_workers(&mtl_stack, "meetings", 2, 10000) != 0)
        return -1;
    mr_client_free(&mtl_client);
    mtl_client = h_stack_client(&mtl_stack, WINDOW, 1000);   /* retry after 1 s */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return mtl_stop();
}

static size_t build(int step, int i, uint8_t *buf, const char **method, const char **user)
{
    if (step == 0) {
        Medrep__Meeting m;
        mtl_base_meeting(&m, mr_now_ms() + 90 * DAY_MS + i * 3600000LL);
        Medrep__Invitee v = MEDREP__INVITEE__INIT, *pv = &v;
        v.customer_id = "C01";
        m.invitees = &pv, m.n_invitees = 1;
        Medrep__ProposeMeetingRequest req = MEDREP__PROPOSE_MEETING_REQUEST__INIT;
        req.meeting = &m;
        *method = "ProposeMeeting", *user = "R1";
        return medrep__propose_meeting_request__pack(&req, buf);
    }
    Medrep__TransitionRequest req = MEDREP__TRANSITION_REQUEST__INIT;
    req.meeting_id = ids[i];
    req.to_state = step == 1 ? "pending_approval" : "approved";
    *method = "Transition", *user = step == 1 ? "R1" : "DM1";
    return medrep__transition_request__pack(&req, buf);
}

/* Runs one step for every meeting, pipelined; kills the victim after
 * kill_after replies (-1: never). */
static void run_step(int step, int kill_after)
{
    int sent = 0, done = 0;
    uint8_t buf[2048];
    char rid[MEETINGS][40];
    while (done < MEETINGS) {
        while (sent < MEETINGS && mr_client_inflight(mtl_client) < WINDOW) {
            const char *method, *user;
            size_t len = build(step, sent, buf, &method, &user);
            Medrep__Request req = MEDREP__REQUEST__INIT;
            Medrep__Caller caller = MEDREP__CALLER__INIT;
            caller.user_id = (char *)user;
            snprintf(rid[sent], sizeof rid[sent], "kill-%d-%d", step, sent);
            req.request_id = rid[sent], req.region = "north", req.method = (char *)method;
            req.caller = &caller;
            req.payload.data = buf, req.payload.len = len, req.has_payload = true;
            assert_int_equal(mr_client_submit(mtl_client, "meetings", &req, 30000, (uint64_t)sent), 0);
            sent++;
        }
        uint64_t tag;
        Medrep__Reply *r = NULL;
        if (mr_client_poll(mtl_client, 100, &tag, &r) != 1)
            continue;
        if ((int)r->status->code != MR_OK)
            fail_msg("step %d meeting %llu: %s %s", step, (unsigned long long)tag, mr_code_name(r->status->code),
                     r->status->message);
        if (step == 0) {
            Medrep__ProposeMeetingReply *p = medrep__propose_meeting_reply__unpack(NULL, r->payload.len, r->payload.data);
            assert_non_null(p);
            snprintf(ids[tag], sizeof ids[tag], "%s", p->meeting_id);
            medrep__propose_meeting_reply__free_unpacked(p, NULL);
        }
        medrep__reply__free_unpacked(r, NULL);
        if (++done == kill_after)
            h_proc_kill(&mtl_stack.procs[victim], SIGKILL);
    }
}

static int changes_of(const Medrep__Event *ev, const void *arg)
{
    (void)arg;
    return ev->body_case == MEDREP__EVENT__BODY_MEETING_CHANGED;
}

static void test_kill_midway_loses_and_duplicates_nothing(void **state)
{
    (void)state;
    run_step(0, -1);
    run_step(1, MEETINGS / 3);
    run_step(2, -1);
    for (int i = 0; i < MEETINGS; i++) {
        Medrep__GetMeetingReply *r = mtl_get(ids[i]);
        assert_non_null(r);
        assert_string_equal(r->meeting->state, "approved");
        assert_int_equal(r->meeting->n_history, 3);
        assert_int_equal(r->meeting->version, 2);
        medrep__get_meeting_reply__free_unpacked(r, NULL);
    }
    assert_int_equal(mtl_count_events(changes_of, NULL), 3 * MEETINGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_midway_loses_and_duplicates_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
