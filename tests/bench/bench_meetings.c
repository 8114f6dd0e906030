/* bench_meetings.c: the meetings service through the broker on a real
 * Redis (started with the test harness): N meetings (default 10,000) with
 * 10 invitees each taken through the whole lifecycle, step by step:
 * propose, submit, approve, confirm, invitations out, checklist (both
 * rounds), open, 10 sign-ins, held, summarised, 10 follow-ups done,
 * closed. Each step's requests are pipelined (a window in flight) and
 * each step gets operations/s and p99 latency. Beside them, measured in
 * the same run the same way, the raw request rate of the stack: the
 * built-in Status method of the same service through the same broker.
 * And a second reference, the cheapest write through the same service
 * shell: test-counter's Increment (one atomic script with its stored
 * reply, on the same redis-server, which the harness runs with
 * appendfsync always, so every write waits for the disk).
 * Prints "bench.meetings.<name> <value> <unit>" lines; nothing is asserted.
 *
 *   bench-meetings [--meetings N] [--window W] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meetings_testlib.h"

#define GUESTS 10

static const char *const GUEST_IDS[GUESTS] = {"C01", "C02", "C03", "C04", "C05",
                                              "C06", "C07", "C08", "S1",  "W1"};

typedef struct {
    long meetings;
    int window;
} bench_opts;

static char (*ids)[24];        /* meeting ids, from the proposals */
static int64_t *lat_us;        /* latency samples of the current step */

static void on_signal(int sig)
{
    h_stack_stop(&mtl_stack);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Builds request i of a step into req (payload packed into buf). */
typedef size_t (*build_fn)(long i, int sub, uint8_t *buf, const char **method, const char **user);

static void report(const char *step, long n, int64_t elapsed_us)
{
    qsort(lat_us, (size_t)n, sizeof *lat_us, cmp_i64);
    printf("bench.meetings.%s_ops %.0f ops/s\n", step, n * 1e6 / (double)(elapsed_us ? elapsed_us : 1));
    printf("bench.meetings.%s_p99 %lld us\n", step, (long long)lat_us[(size_t)((n - 1) * 0.99)]);
    fflush(stdout);
}

/* Runs n requests (meeting i, sub-request k) with a window in flight;
 * on_reply (may be NULL) sees each OK reply. Exits on any error. */
static void run_step(const char *step, const bench_opts *o, int per_meeting, const char *service, build_fn build,
                     void (*on_reply)(long i, const Medrep__Reply *r))
{
    long n = o->meetings * per_meeting, sent = 0, done = 0;
    int64_t *t0 = calloc((size_t)n, sizeof *t0);
    uint8_t buf[4096];
    int64_t start = mr_mono_us();
    while (done < n) {
        while (sent < n && mr_client_inflight(mtl_client) < (size_t)o->window) {
            const char *method, *user;
            size_t len = build(sent / per_meeting, (int)(sent % per_meeting), buf, &method, &user);
            Medrep__Request req = MEDREP__REQUEST__INIT;
            Medrep__Caller caller = MEDREP__CALLER__INIT;
            caller.user_id = (char *)user;
            req.region = "north", req.method = (char *)method, req.caller = &caller;
            req.payload.data = buf, req.payload.len = len, req.has_payload = true;
            t0[sent] = mr_mono_us();
            if (mr_client_submit(mtl_client, service, &req, 30000, (uint64_t)sent) != 0)
                break;
            sent++;
        }
        uint64_t tag;
        Medrep__Reply *r = NULL;
        if (mr_client_poll(mtl_client, 100, &tag, &r) != 1)
            continue;
        lat_us[done++] = mr_mono_us() - t0[tag];
        if (!r->status || (int)r->status->code != MR_OK) {
            fprintf(stderr, "bench-meetings: %s #%llu: %s %s\n", step, (unsigned long long)tag,
                    r->status ? mr_code_name(r->status->code) : "?", r->status && r->status->message ? r->status->message : "");
            exit(1);
        }
        if (on_reply)
            on_reply((long)tag / per_meeting, r);
        medrep__reply__free_unpacked(r, NULL);
    }
    report(step, n, mr_mono_us() - start);
    free(t0);
}

/* ---- The steps ---- */

static int64_t start_ms;

static size_t b_status(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    (void)i, (void)k, (void)buf;
    *method = "Status", *user = "bench";
    return 0;
}

static size_t b_increment(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    (void)k;
    Medrep__Probe p = MEDREP__PROBE__INIT;
    p.value = i, p.has_value = true;
    *method = "Increment", *user = "bench";
    return medrep__probe__pack(&p, buf);
}

static size_t b_propose(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    (void)k;
    Medrep__Meeting m;
    mtl_base_meeting(&m, start_ms + i % 1000);
    Medrep__Invitee inv[GUESTS], *pinv[GUESTS];
    for (int g = 0; g < GUESTS; g++) {
        medrep__invitee__init(&inv[g]);
        inv[g].customer_id = (char *)GUEST_IDS[g];
        pinv[g] = &inv[g];
    }
    m.invitees = pinv, m.n_invitees = GUESTS;
    Medrep__ProposeMeetingRequest req = MEDREP__PROPOSE_MEETING_REQUEST__INIT;
    req.meeting = &m;
    *method = "ProposeMeeting", *user = "R1";
    return medrep__propose_meeting_request__pack(&req, buf);
}

static void got_id(long i, const Medrep__Reply *r)
{
    Medrep__ProposeMeetingReply *p = medrep__propose_meeting_reply__unpack(NULL, r->payload.len, r->payload.data);
    if (!p)
        exit(1);
    snprintf(ids[i], sizeof ids[i], "%s", p->meeting_id);
    medrep__propose_meeting_reply__free_unpacked(p, NULL);
}

static const char *step_to, *step_user;

static size_t b_transition(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    (void)k;
    Medrep__TransitionRequest req = MEDREP__TRANSITION_REQUEST__INIT;
    req.meeting_id = ids[i], req.to_state = (char *)step_to;
    if (strcmp(step_to, "summarised") == 0)
        req.summary = "bench summary", req.director_comments = "fine";
    *method = "Transition", *user = step_user;
    return medrep__transition_request__pack(&req, buf);
}

static size_t b_check(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    Medrep__ChecklistRequest req = MEDREP__CHECKLIST_REQUEST__INIT;
    req.meeting_id = ids[i], req.item = "projector", req.round = k ? "day_of" : "day_before";
    *method = "Checklist", *user = "S9";
    return medrep__checklist_request__pack(&req, buf);
}

static size_t b_signin(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    Medrep__SignInRequest req = MEDREP__SIGN_IN_REQUEST__INIT;
    req.meeting_id = ids[i], req.customer_id = (char *)GUEST_IDS[k];
    *method = "SignIn", *user = "S9";
    return medrep__sign_in_request__pack(&req, buf);
}

static size_t b_followup(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    Medrep__FollowUpDoneRequest req = MEDREP__FOLLOW_UP_DONE_REQUEST__INIT;
    req.meeting_id = ids[i], req.customer_id = (char *)GUEST_IDS[k];
    *method = "FollowUpDone", *user = "R1";
    return medrep__follow_up_done_request__pack(&req, buf);
}

static void transition_step(const bench_opts *o, const char *name, const char *to, const char *user)
{
    step_to = to, step_user = user;
    run_step(name, o, 1, "meetings", b_transition, NULL);
}

int main(int argc, char **argv)
{
    bench_opts o = {.meetings = 10000, .window = 32};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--meetings") == 0)
            o.meetings = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--window") == 0)
            o.window = atoi(argv[i + 1]);
    }
    if (o.meetings < 1 || o.window < 1)
        return fprintf(stderr, "usage: bench-meetings [--meetings N] [--window W]\n"), 2;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (mtl_start("[meetings]\nchecklist = projector\ndeadline_check_interval_s = 0\n[service]\nlog_level = warn\n", NULL) != 0)
        return fprintf(stderr, "bench-meetings: the stack did not start\n"), 1;
    ids = calloc((size_t)o.meetings, sizeof *ids);
    lat_us = calloc((size_t)o.meetings * GUESTS, sizeof *lat_us);
    printf("bench.meetings.meetings %ld count\nbench.meetings.invitees_each %d count\n", o.meetings, GUESTS);
    if (h_stack_start_service(&mtl_stack, "test-counter", "counter-a", NULL) < 0 ||
        h_stack_wait_workers(&mtl_stack, "counter", 1, 10000) != 0)
        return fprintf(stderr, "bench-meetings: test-counter did not start\n"), 1;
    run_step("ref_status", &o, 1, "meetings", b_status, NULL);   /* the references, same path */
    run_step("ref_increment", &o, 1, "counter", b_increment, NULL);
    start_ms = mr_now_ms() + 30 * MIN_MS;                        /* sign-in opens 1 hour before */
    int64_t t = mr_mono_us();
    run_step("propose", &o, 1, "meetings", b_propose, got_id);
    transition_step(&o, "submit", "pending_approval", "R1");
    transition_step(&o, "approve", "approved", "DM1");
    transition_step(&o, "confirm", "confirmed", "R1");
    transition_step(&o, "invitations_out", "invitations_out", "R1");
    run_step("checklist", &o, 2, "meetings", b_check, NULL);
    transition_step(&o, "open", "in_progress", "R1");
    run_step("sign_in", &o, GUESTS, "meetings", b_signin, NULL);
    transition_step(&o, "held", "held", "R1");
    transition_step(&o, "summarised", "summarised", "R1");
    run_step("follow_up_done", &o, GUESTS, "meetings", b_followup, NULL);
    transition_step(&o, "closed", "closed", "R1");
    int64_t total = mr_mono_us() - t;
    printf("bench.meetings.lifecycle_meetings %.1f meetings/s\n", o.meetings * 1e6 / (double)total);
    printf("bench.meetings.lifecycle_requests %.0f ops/s\n", o.meetings * (7.0 + 2 + 2 * GUESTS + 2) * 1e6 / (double)total);
    free(ids);
    free(lat_us);
    return mtl_stop() == 0 ? 0 : 1;
}
