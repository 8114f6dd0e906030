/* test_bad_input.c: at least 10,000 malformed messages of every kind sent
 * to the broker (random bytes, truncated envelopes, wrong frame counts,
 * oversized messages, unknown services and methods, bad payloads, forged
 * worker commands) and 5,000 sent straight to a service by a fake broker.
 * Each gets a clear error reply or is dropped; nothing crashes, nothing
 * changes, and every process exits cleanly at the end (under the
 * sanitizers that includes no leaks). */
// ctest-label: fault
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "mdp.h"
#include "stack.h"

#define BROKER_CASES 10000
#define SERVICE_CASES 5000
#define MAX_MSG 65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_bytes(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng();
}

static void *dealer_to(void *ctx, const char *endpoint)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    mr_zmq_harden(s, 16 << 20);
    zmq_connect(s, endpoint);
    return s;
}

/* Receives one reply; returns its status code, or -1 when none came. */
static int recv_reply_code(void *s, int timeout_ms)
{
    int64_t end = mr_mono_ms() + timeout_ms;
    while (mr_mono_ms() < end) {
        zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        mr_frames f;
        int n = mr_zmq_recv_frames(s, &f, ZMQ_DONTWAIT);
        int code = -1;
        if (n == 3) {
            Medrep__Reply *r = medrep__reply__unpack(NULL, f.frames[2].size, f.frames[2].data);
            if (r) {
                code = r->status ? (int)r->status->code : 0;
                medrep__reply__free_unpacked(r, NULL);
            }
        }
        if (n > 0)
            mr_zmq_frames_close(&f);
        if (code >= 0)
            return code;
    }
    return -1;
}

static void drain(void *s)
{
    mr_frames f;
    while (mr_zmq_recv_frames(s, &f, ZMQ_DONTWAIT) > 0)
        mr_zmq_frames_close(&f);
}

/* A packed valid envelope for service/method; returns its length. */
static size_t envelope(uint8_t *buf, size_t cap, const char *method, const uint8_t *payload,
                       size_t payload_len)
{
    Medrep__Request req = MEDREP__REQUEST__INIT;
    char id[32];
    snprintf(id, sizeof id, "bad-%llu", (unsigned long long)rng());
    req.request_id = id;
    req.method = (char *)method;
    req.region = "north";
    req.deadline_ms = mr_now_ms() + 5000;
    req.has_deadline_ms = true;
    req.payload.data = (uint8_t *)payload;
    req.payload.len = payload_len;
    req.has_payload = payload != NULL;
    if (medrep__request__get_packed_size(&req) > cap)
        return 0;
    return medrep__request__pack(&req, buf);
}

static int send_client(void *s, const char *service, const uint8_t *body, size_t len)
{
    mdp_frame frames[3] = {{(const uint8_t *)MDP_CLIENT, 4},
                           {(const uint8_t *)service, strlen(service)}, {body, len}};
    return mr_zmq_send_frames(s, frames, 3, 0);
}

/* Sends one malformed case to the broker. Returns 1 when a clear error
 * reply must come back, 0 when dropping it is acceptable. */
static int send_broker_case(void *s, int i)
{
    static uint8_t buf[MAX_MSG * 2];
    uint8_t payload[64];
    switch (i % 9) {
    case 0: {   /* random frames */
        int count = 1 + (int)(rng() % 10);
        for (int k = 0; k < count; k++) {
            size_t len = rng() % 64;
            random_bytes(buf, len);
            zmq_send(s, buf, len, k + 1 < count ? ZMQ_SNDMORE : 0);
        }
        return 0;
    }
    case 1: {   /* truncated envelope */
        size_t len = envelope(buf, sizeof buf, "Increment", NULL, 0);
        send_client(s, "counter", buf, rng() % len);
        return 0;
    }
    case 2: {   /* wrong frame counts with the client protocol */
        mdp_frame frames[5] = {{(const uint8_t *)MDP_CLIENT, 4}, {(const uint8_t *)"counter", 7},
                               {buf, 3}, {buf, 2}, {buf, 1}};
        size_t count = (rng() % 2) ? 2 : 5;
        mr_zmq_send_frames(s, frames, count, 0);
        return 0;
    }
    case 3: {   /* oversized (only now and then: the broker closes the connection) */
        if (i % 900 != 3)
            return send_client(s, "counter", buf, 0), 1;
        memset(buf, 'x', MAX_MSG + 100);
        send_client(s, "counter", buf, MAX_MSG + 100);
        usleep(500 * 1000);   /* the client reconnects before the next case */
        return 0;
    }
    case 4: {   /* unknown service */
        size_t len = envelope(buf, sizeof buf, "Increment", NULL, 0);
        send_client(s, "nosuch", buf, len);
        return 1;
    }
    case 5: {   /* unknown method */
        size_t len = envelope(buf, sizeof buf, "NoSuchMethod", NULL, 0);
        send_client(s, "counter", buf, len);
        return 1;
    }
    case 6: {   /* valid envelope, garbage payload */
        random_bytes(payload, sizeof payload);
        payload[0] = 0xff;
        size_t len = envelope(buf, sizeof buf, "Increment", payload, sizeof payload);
        send_client(s, "counter", buf, len);
        return 1;
    }
    case 7: {   /* forged worker commands from a peer that never registered */
        uint8_t command = (uint8_t)(rng() % 8);
        mdp_frame frames[4] = {{(const uint8_t *)MDP_WORKER, 4}, {&command, 1}, {buf, 5}, {buf, 3}};
        random_bytes(buf, 8);
        mr_zmq_send_frames(s, frames, 2 + rng() % 3, 0);
        return 0;
    }
    default: {  /* random bytes as an envelope */
        size_t len = rng() % 200;
        random_bytes(buf, len);
        send_client(s, "counter", buf, len);
        return 0;
    }
    }
}

static void test_broker_and_services_survive_bad_input(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    char extra[128];
    snprintf(extra, sizeof extra, "[broker]\nmax_msg_bytes = %d\n", MAX_MSG);
    assert_int_equal(h_stack_start(&stack, 1, regions, extra), 0);
    assert_true(h_stack_start_service(&stack, "test-counter", "counter-b", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "counter", 1, 10000), 0);
    void *ctx = zmq_ctx_new();
    void *s = dealer_to(ctx, stack.endpoint);
    int must_reply = 0, replied = 0;
    for (int i = 0; i < BROKER_CASES; i++) {
        if (send_broker_case(s, i)) {
            must_reply++;
            int code = recv_reply_code(s, 3000);
            if (code > 0)
                replied++;
            else
                fprintf(stderr, "case %d: no error reply (%d)\n", i, code);
        }
        if (i % 100 == 0)
            drain(s);
    }
    fprintf(stderr, "broker cases %d, error replies %d of %d expected\n", BROKER_CASES, replied,
            must_reply);
    assert_int_equal(replied, must_reply);

    /* everything still works and nothing changed */
    mr_client *c = h_stack_client(&stack, 4, 1000);
    mr_store *store = h_stack_store(&stack, 0);
    assert_int_equal(h_redis_int(store, "GET %s", "{r:north}:counter"), 0);
    assert_int_equal(h_call_code(c, "counter", "Increment", "north", 1, NULL, NULL), MR_OK);
    assert_int_equal(h_redis_int(store, "GET %s", "{r:north}:counter"), 1);
    mr_store_free(&store);
    mr_client_free(&c);
    zmq_close(s);
    zmq_ctx_term(ctx);
    assert_int_equal(h_stack_stop(&stack), 0);
}

/* ---- Straight to a service, through a fake broker ---- */

typedef struct {
    void *router;
    uint8_t worker_id[MDP_MAX_ID];
    size_t worker_id_len;
} fake_broker;

/* Reads what the worker sent; remembers its id from READY. Returns 1
 * when a REPLY came (and its status code in *code). */
static int fake_take(fake_broker *fb, int timeout_ms, int *code)
{
    int64_t end = mr_mono_ms() + timeout_ms;
    while (mr_mono_ms() < end) {
        zmq_pollitem_t item = {fb->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 20) <= 0)
            continue;
        mr_frames f;
        int n = mr_zmq_recv_frames(fb->router, &f, ZMQ_DONTWAIT);
        int got = 0;
        mdp_inbound in;
        if (n > 0 && mdp_parse_inbound(f.frames, f.count, &in, NULL) == 0) {
            if (in.kind == MDP_IN_WORKER_READY) {
                memcpy(fb->worker_id, in.peer.data, in.peer.size);
                fb->worker_id_len = in.peer.size;
            } else if (in.kind == MDP_IN_WORKER_REPLY) {
                Medrep__Reply *r = medrep__reply__unpack(NULL, in.body.size, in.body.data);
                *code = r && r->status ? (int)r->status->code : 0;
                if (r)
                    medrep__reply__free_unpacked(r, NULL);
                got = 1;
            }
        }
        if (n > 0)
            mr_zmq_frames_close(&f);
        if (got)
            return 1;
    }
    return 0;
}

static void fake_send(fake_broker *fb, const mdp_frame *args, size_t nargs, uint8_t command)
{
    mdp_frame frames[8];
    frames[0] = (mdp_frame){fb->worker_id, fb->worker_id_len};
    frames[1] = (mdp_frame){(const uint8_t *)MDP_WORKER, 4};
    frames[2] = (mdp_frame){&command, 1};
    for (size_t i = 0; i < nargs; i++)
        frames[3 + i] = args[i];
    mr_zmq_send_frames(fb->router, frames, 3 + nargs, 0);
}

static void test_service_survives_bad_requests(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NULL), 0);
    void *ctx = zmq_ctx_new();
    fake_broker fb = {.router = zmq_socket(ctx, ZMQ_ROUTER)};
    mr_zmq_harden(fb.router, 16 << 20);
    char endpoint[64], env[96];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", h_free_port());
    assert_int_equal(zmq_bind(fb.router, endpoint), 0);
    snprintf(env, sizeof env, "MEDREP__BROKER__ENDPOINT=%s", endpoint);
    const char *const envs[] = {env, NULL};
    assert_true(h_stack_start_service(&stack, "test-counter", "counter-f", envs) >= 0);
    int code = 0;
    fake_take(&fb, 5000, &code);
    assert_true(fb.worker_id_len > 0);

    static uint8_t body[4096];
    int replies = 0, errors = 0;
    for (int i = 0; i < SERVICE_CASES; i++) {
        size_t len = rng() % 300;
        random_bytes(body, len);
        if (i % 3 == 1)
            len = envelope(body, sizeof body, "Increment", NULL, 0) * (rng() % 100) / 100;
        mdp_frame args[3] = {{(const uint8_t *)"client-x", 8}, {(const uint8_t *)"rid", 3}, {body, len}};
        if (i % 7 == 0) {
            fake_send(&fb, args, rng() % 3, MDP_REQUEST);   /* wrong frame count: dropped */
            continue;
        }
        fake_send(&fb, args, 3, MDP_REQUEST);
        if (fake_take(&fb, 3000, &code)) {
            replies++;
            errors += code != MR_OK;
        }
        if (i % 50 == 0)
            fake_send(&fb, NULL, 0, MDP_HEARTBEAT);
    }
    fprintf(stderr, "service cases %d, replies %d, error replies %d\n", SERVICE_CASES, replies, errors);
    assert_true(replies > SERVICE_CASES / 2);
    assert_int_equal(errors, replies);

    mr_store *store = h_stack_store(&stack, 0);
    assert_int_equal(h_redis_int(store, "EXISTS %s", "{r:north}:counter"), 0);
    mr_store_free(&store);
    zmq_close(fb.router);
    zmq_ctx_term(ctx);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broker_and_services_survive_bad_input),
        cmocka_unit_test(test_service_survives_bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
