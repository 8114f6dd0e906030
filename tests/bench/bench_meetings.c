/* bench_meetings.c: the meetings service through the broker on a real
 * Redis (started with the test harness): N meetings (default 10,000) with
 * 10 invitees each taken through the whole lifecycle, step by step:
 * propose, submit, approve, confirm, invitations out, checklist (both
 * rounds), open, 10 sign-ins, held, summarised, 10 follow-ups done,
 * closed. Each step is driven by several client threads (each its own
 * client with a window of requests in flight) against several meetings
 * instances, and gets operations/s and p99 latency.
 *
 * Realistic load, not a best case: the invitees come from a pool of
 * customers of the department (1,000 by default), meetings are two hours
 * apart, and a rolling 30-day meetings-per-customer rule is checked at
 * proposal and approval, so the compliance windows read real indexes.
 * Redis runs with appendfsync everysec, the production setting of
 * deploy/redis/medrep-redis.conf (the test harness starts it with
 * "always", which makes every write wait for the disk).
 *
 * References measured in the same run: the transport bench
 * (bench-transport, the raw libzmq echo and the broker's request rate,
 * printed as its own bench.transport.* lines), the built-in Status method
 * of the same service and test-counter's Increment (the cheapest write
 * through the service shell), both driven like the steps.
 * Prints "bench.meetings.<name> <value> <unit>" lines; nothing is asserted.
 *
 *   bench-meetings [--meetings N] [--threads T] [--window W] [--instances I]
 *                  [--customers C] [--no-transport] */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meetings_testlib.h"

#define GUESTS 10
#define MAX_THREADS 16
#define SPACING_MS (2 * 60 * MIN_MS)

typedef struct {
    long meetings;
    int threads, window, instances, customers;
    bool transport;
} bench_opts;

static bench_opts opts = {.meetings = 10000, .threads = 4, .window = 16, .instances = 2, .customers = 1000,
                          .transport = true};
static char (*ids)[24];        /* meeting ids, from the proposals */
static int64_t *lat_us;        /* latency samples of the current step, by request index */
static mr_client *clients[MAX_THREADS];
static atomic_long aborted_retries;
static int64_t start_ms;

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

/* Builds request (meeting i, sub-request k) into buf; returns its length. */
typedef size_t (*build_fn)(long i, int k, uint8_t *buf, const char **method, const char **user);

typedef struct {
    const char *name, *service;
    int per_meeting;
    build_fn build;
    void (*on_reply)(long i, const Medrep__Reply *r);   /* may be NULL */
} step;

/* The invitee g of meeting i, from the pool. */
static void guest_id(long i, int g, char *out, size_t cap)
{
    snprintf(out, cap, "B%04ld", (i * GUESTS + g) % opts.customers);
}

static int submit(mr_client *c, const step *st, long i, int k, uint64_t tag)
{
    uint8_t buf[4096];
    const char *method, *user;
    size_t len = st->build(i, k, buf, &method, &user);
    Medrep__Request req = MEDREP__REQUEST__INIT;
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = (char *)user;
    req.region = "north", req.method = (char *)method, req.caller = &caller;
    req.payload.data = buf, req.payload.len = len, req.has_payload = true;
    return mr_client_submit(c, st->service, &req, 60000, tag);
}

typedef struct {
    const step *st;
    int t;
} worker_arg;

/* One thread's share: the meetings i with i % threads == t, sub-request
 * major, so one meeting never has two of its requests in flight at once.
 * A request answered ABORTED (a concurrent change of the same meeting)
 * is sent again, as a client would; anything else not OK ends the bench. */
static void *worker(void *arg)
{
    const worker_arg *w = arg;
    const step *st = w->st;
    mr_client *c = clients[w->t];
    long mine = (opts.meetings - w->t + opts.threads - 1) / opts.threads;
    long n = mine * st->per_meeting, sent = 0, done = 0;
    int64_t *t0 = calloc((size_t)opts.meetings * st->per_meeting, sizeof *t0);
    while (t0 && done < n) {
        while (sent < n && mr_client_inflight(c) < (size_t)opts.window) {
            long i = w->t + (sent % mine) * opts.threads;
            int k = (int)(sent / mine);
            uint64_t tag = (uint64_t)k * (uint64_t)opts.meetings + (uint64_t)i;
            t0[tag] = mr_mono_us();
            if (submit(c, st, i, k, tag) != 0)
                break;
            sent++;
        }
        uint64_t tag;
        Medrep__Reply *r = NULL;
        if (mr_client_poll(c, 100, &tag, &r) != 1)
            continue;
        long i = (long)(tag % (uint64_t)opts.meetings);
        int k = (int)(tag / (uint64_t)opts.meetings);
        int code = r->status ? (int)r->status->code : -1;
        if (code == MR_ABORTED && submit(c, st, i, k, tag) == 0) {
            atomic_fetch_add(&aborted_retries, 1);
        } else if (code != MR_OK) {
            fprintf(stderr, "bench-meetings: %s meeting %ld #%d: %s %s\n", st->name, i, k, mr_code_name(code),
                    r->status && r->status->message ? r->status->message : "");
            exit(1);
        } else {
            lat_us[tag] = mr_mono_us() - t0[tag];
            done++;
            if (st->on_reply)
                st->on_reply(i, r);
        }
        medrep__reply__free_unpacked(r, NULL);
    }
    free(t0);
    return NULL;
}

static void run_step(const step *st)
{
    long n = opts.meetings * st->per_meeting;
    pthread_t th[MAX_THREADS];
    worker_arg args[MAX_THREADS];
    int64_t start = mr_mono_us();
    for (int t = 0; t < opts.threads; t++) {
        args[t] = (worker_arg){st, t};
        pthread_create(&th[t], NULL, worker, &args[t]);
    }
    for (int t = 0; t < opts.threads; t++)
        pthread_join(th[t], NULL);
    int64_t elapsed = mr_mono_us() - start;
    qsort(lat_us, (size_t)n, sizeof *lat_us, cmp_i64);
    printf("bench.meetings.%s_ops %.0f ops/s\n", st->name, n * 1e6 / (double)(elapsed ? elapsed : 1));
    printf("bench.meetings.%s_p99 %lld us\n", st->name, (long long)lat_us[(size_t)((n - 1) * 0.99)]);
    fflush(stdout);
}

/* ---- The requests ---- */

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
    mtl_base_meeting(&m, start_ms + i * SPACING_MS);
    Medrep__Invitee inv[GUESTS], *pinv[GUESTS];
    char gid[GUESTS][16];
    for (int g = 0; g < GUESTS; g++) {
        medrep__invitee__init(&inv[g]);
        guest_id(i, g, gid[g], sizeof gid[g]);
        inv[g].customer_id = gid[g];
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
    char gid[16];
    guest_id(i, k, gid, sizeof gid);
    Medrep__SignInRequest req = MEDREP__SIGN_IN_REQUEST__INIT;
    req.meeting_id = ids[i], req.customer_id = gid;
    *method = "SignIn", *user = "S9";
    return medrep__sign_in_request__pack(&req, buf);
}

static size_t b_followup(long i, int k, uint8_t *buf, const char **method, const char **user)
{
    char gid[16];
    guest_id(i, k, gid, sizeof gid);
    Medrep__FollowUpDoneRequest req = MEDREP__FOLLOW_UP_DONE_REQUEST__INIT;
    req.meeting_id = ids[i], req.customer_id = gid;
    *method = "FollowUpDone", *user = "R1";
    return medrep__follow_up_done_request__pack(&req, buf);
}

static void transition_step(const char *name, const char *to, const char *user)
{
    step_to = to, step_user = user;
    run_step(&(step){name, "meetings", 1, b_transition, NULL});
}

/* ---- Setup ---- */

/* The pool of customers of D1, with their segments for P1 (delivered to
 * the meetings service as CustomerRegraded events). 0 or -1. */
static int seed_pool(void)
{
    static const char *const titles[] = {"chief", "associate_chief", "attending", "resident"};
    static const char *const segs[] = {"A", "B", "C", "D"};
    mr_tx *tx = mr_tx_new();
    int rc = tx ? 0 : -1;
    for (int c = 0; c < opts.customers && rc == 0; c++) {
        char id[16];
        snprintf(id, sizeof id, "B%04d", c);
        mtl_customer(tx, id, "H1", "D1", true, titles[c % 4], c % 2 ? "inpatient" : "outpatient", false, "low");
        mtl_segment_event(tx, id, segs[c % 4]);
        if ((c + 1) % 200 == 0 || c + 1 == opts.customers) {
            rc = mr_tx_commit(mtl_store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
            mr_tx_reset(tx);
        }
    }
    mr_tx_free(&tx);
    for (int i = 0; rc == 0 && i < 600; i++) {
        if (h_redis_int(mtl_store, "HLEN %s", "{r:north}:meet:seg:P1") == 10 + opts.customers)
            return 0;
        usleep(50000);
    }
    return -1;
}

/* Starts the extra meetings instances and test-counter; production fsync. */
static int setup_stack(void)
{
    for (int i = 1; i < opts.instances; i++) {
        char inst[32];
        snprintf(inst, sizeof inst, "meetings-%c", 'a' + i);
        if (h_stack_start_service(&mtl_stack, "meetings", inst, NULL) < 0)
            return -1;
    }
    if (h_stack_wait_workers(&mtl_stack, "meetings", opts.instances, 10000) != 0 ||
        h_stack_start_service(&mtl_stack, "test-counter", "counter-a", NULL) < 0 ||
        h_stack_wait_workers(&mtl_stack, "counter", 1, 10000) != 0)
        return -1;
    mr_val *v = mr_store_cmd(mtl_store, "CONFIG SET appendfsync everysec");
    int rc = v && mr_val_type(v) == MR_VAL_STATUS ? 0 : -1;
    mr_val_free(&v);
    for (int t = 0; rc == 0 && t < opts.threads; t++)
        rc = (clients[t] = h_stack_client(&mtl_stack, opts.window, 30000)) ? 0 : -1;
    return rc == 0 ? seed_pool() : -1;
}

/* The transport bench of the same build, run now: its lines as they come. */
static void transport_reference(void)
{
    char bin[512], cmd[600], line[512];
    snprintf(cmd, sizeof cmd, "%s --requests 20000 --calls 2000 2>&1", h_bin("bench-transport", bin, sizeof bin));
    FILE *p = popen(cmd, "r");
    while (p && fgets(line, sizeof line, p))
        if (strncmp(line, "bench.", 6) == 0)
            fputs(line, stdout);
    if (!p || pclose(p) != 0)
        printf("bench.meetings.transport_reference failed\n");
    fflush(stdout);
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (strcmp(a, "--no-transport") == 0) {
            opts.transport = false;
            continue;
        }
        long n = atol(v);
        i++;
        if (strcmp(a, "--meetings") == 0) opts.meetings = n;
        else if (strcmp(a, "--threads") == 0) opts.threads = (int)n;
        else if (strcmp(a, "--window") == 0) opts.window = (int)n;
        else if (strcmp(a, "--instances") == 0) opts.instances = (int)n;
        else if (strcmp(a, "--customers") == 0) opts.customers = (int)n;
        else return -1;
    }
    return opts.meetings < 1 || opts.threads < 1 || opts.threads > MAX_THREADS || opts.window < 1 ||
                   opts.instances < 1 || opts.instances > 8 || opts.customers < GUESTS || opts.customers > 9999
               ? -1 : 0;
}

static const char CONFIG[] =
    "[meetings]\nchecklist = projector\ndeadline_check_interval_s = 0\n"
    "signin_opens_before_min = 100000000\n"
    "[meetings.rule.gift]\nlimit = gift_per_attendee\nmax = 20000\nwindow = meeting\naction = block\n"
    "[meetings.rule.customer_month]\nlimit = meetings_per_customer\nmax = 4\nwindow = rolling\ndays = 30\n"
    "action = warn\n"
    "[service]\nlog_level = warn\n";

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) != 0)
        return fprintf(stderr, "usage: bench-meetings [--meetings N] [--threads 1-16] [--window W] "
                               "[--instances 1-8] [--customers 10-9999] [--no-transport]\n"), 2;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (opts.transport)
        transport_reference();
    if (mtl_start(CONFIG, NULL) != 0 || setup_stack() != 0)
        return fprintf(stderr, "bench-meetings: the stack did not start\n"), 1;
    ids = calloc((size_t)opts.meetings, sizeof *ids);
    lat_us = calloc((size_t)opts.meetings * GUESTS, sizeof *lat_us);
    printf("bench.meetings.meetings %ld count\nbench.meetings.invitees_each %d count\n", opts.meetings, GUESTS);
    printf("bench.meetings.client_threads %d count\nbench.meetings.instances %d count\n", opts.threads, opts.instances);
    printf("bench.meetings.redis_appendfsync everysec setting\n");
    run_step(&(step){"ref_status", "meetings", 1, b_status, NULL});
    run_step(&(step){"ref_increment", "counter", 1, b_increment, NULL});
    start_ms = mr_now_ms() + DAY_MS;
    int64_t t = mr_mono_us();
    run_step(&(step){"propose", "meetings", 1, b_propose, got_id});
    transition_step("submit", "pending_approval", "R1");
    transition_step("approve", "approved", "DM1");
    transition_step("confirm", "confirmed", "R1");
    transition_step("invitations_out", "invitations_out", "R1");
    run_step(&(step){"checklist", "meetings", 2, b_check, NULL});
    transition_step("open", "in_progress", "R1");
    run_step(&(step){"sign_in", "meetings", GUESTS, b_signin, NULL});
    transition_step("held", "held", "R1");
    transition_step("summarised", "summarised", "R1");
    run_step(&(step){"follow_up_done", "meetings", GUESTS, b_followup, NULL});
    transition_step("closed", "closed", "R1");
    int64_t total = mr_mono_us() - t;
    printf("bench.meetings.lifecycle_seconds %.1f s\n", total / 1e6);
    printf("bench.meetings.lifecycle_meetings %.1f meetings/s\n", opts.meetings * 1e6 / (double)total);
    printf("bench.meetings.lifecycle_requests %.0f ops/s\n", opts.meetings * (9.0 + 2 + 2 * GUESTS) * 1e6 / (double)total);
    printf("bench.meetings.aborted_retries %ld count\n", atomic_load(&aborted_retries));
    for (int i = 0; i < opts.threads; i++)
        mr_client_free(&clients[i]);
    free(ids);
    free(lat_us);
    return mtl_stop() == 0 ? 0 : 1;
}
