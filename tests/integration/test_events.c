// ctest-label: integration
/* test_events.c: durable events against a real redis-server: an event
 * committed in the same script as its change, consumer groups, pending
 * entries re-read after a crash, entries claimed from a dead consumer,
 * undecodable entries dead-lettered, and the live PUB feed. Each test uses
 * its own region, so its own stream. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zmq.h>

#include "config.h"
#include "events.h"
#include "harness.h"
#include "store.h"
#include "transport.h"

#define GENEROUS_DEADLINE_MS 30000

static h_redis redis;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static mr_store *new_store(void)
{
    mr_store_cfg cfg = {.host = "127.0.0.1", .port = redis.port};
    mr_store *s = mr_store_new(&cfg);
    assert_non_null(s);
    return s;
}

static void init_probe(Medrep__Event *ev, Medrep__Probe *probe, const char *region,
                       const char *token)
{
    medrep__probe__init(probe);
    probe->token = (char *)token;
    medrep__event__init(ev);
    ev->event_id = (char *)token;
    ev->region = (char *)region;
    ev->body_case = MEDREP__EVENT__BODY_PROBE;
    ev->probe = probe;
}

/* Commits a probe event (and nothing else) to region's stream. */
static void emit_probe(mr_store *s, const char *region, const char *token)
{
    Medrep__Probe probe;
    Medrep__Event ev;
    init_probe(&ev, &probe, region, token);
    mr_tx *tx = mr_tx_new();
    assert_int_equal(mr_events_stage(tx, &ev, 1000), 0);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
}

static long long stream_length(mr_store *s, const char *key)
{
    mr_val *v = mr_store_cmd(s, "XLEN %s", key);
    long long n = mr_val_int(v);
    mr_val_free(&v);
    return n;
}

/* Entries of group pending in region's stream. */
static long long pending_count(mr_store *s, const char *region, const char *group)
{
    char key[64];
    mr_events_stream_key(key, sizeof key, region);
    mr_val *v = mr_store_cmd(s, "XPENDING %s %s", key, group);
    long long n = mr_val_int(mr_val_at(v, 0));
    mr_val_free(&v);
    return n;
}

/* The next entry within a generous deadline; fails the test otherwise. */
static void next_entry(mr_consumer *c, mr_event_entry *out)
{
    long long deadline = mono_ms() + GENEROUS_DEADLINE_MS;
    int rc = 0;
    while (rc == 0 && mono_ms() < deadline)
        rc = mr_consumer_next(c, 200, out);
    assert_int_equal(rc, 1);
    assert_non_null(out->event);
}

static void expect_probe(const mr_event_entry *e, const char *token)
{
    assert_int_equal(e->event->body_case, MEDREP__EVENT__BODY_PROBE);
    assert_string_equal(e->event->probe->token, token);
}

static int start_redis(void **state)
{
    (void)state;
    return h_redis_start(&redis);
}

static int stop_redis(void **state)
{
    (void)state;
    h_redis_stop(&redis);
    return 0;
}

/* ---- Names ---- */

static void names_and_keys(void **state)
{
    (void)state;
    Medrep__Probe probe;
    Medrep__Event ev;
    init_probe(&ev, &probe, "north", "t");
    assert_string_equal(mr_event_type_name(&ev), "probe");
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    assert_string_equal(mr_event_type_name(&ev), "customer_regraded");
    ev.body_case = MEDREP__EVENT__BODY__NOT_SET;
    assert_string_equal(mr_event_type_name(&ev), "unknown");
    assert_string_equal(mr_event_type_name(NULL), "unknown");

    char key[64];
    assert_true(mr_events_stream_key(key, sizeof key, "north") > 0);
    assert_string_equal(key, "{r:north}:events");
    assert_int_equal(mr_events_stream_key(key, sizeof key, "no region"), -1);
}

static void stage_refuses_an_event_without_a_valid_region(void **state)
{
    (void)state;
    Medrep__Probe probe;
    Medrep__Event ev;
    init_probe(&ev, &probe, "bad region", "t");
    mr_tx *tx = mr_tx_new();
    assert_int_equal(mr_events_stage(tx, &ev, 0), -1);
    ev.region = NULL;
    assert_int_equal(mr_events_stage(tx, &ev, 0), -1);
    assert_int_equal(mr_tx_count(tx), 0);
    mr_tx_free(&tx);
}

/* ---- Producing ---- */

static void event_commits_with_its_change_and_only_once(void **state)
{
    (void)state;
    mr_store *s = new_store();
    Medrep__Probe probe;
    Medrep__Event ev;
    init_probe(&ev, &probe, "ev1", "grade-changed");
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "HSET", "{r:ev1}:customer:C1", "segment", "A", NULL);
    assert_int_equal(mr_events_stage(tx, &ev, 1000), 0);
    for (int attempt = 0; attempt < 2; attempt++)
        assert_true(mr_tx_commit(s, tx, "{r:ev1}:done:req-7", "ok", 2, 60000, NULL) !=
                    MR_TX_FAILED);
    assert_int_equal(stream_length(s, "{r:ev1}:events"), 1);

    mr_val *v = mr_store_cmd(s, "XRANGE {r:ev1}:events - +");
    const mr_val *fields = mr_val_at(mr_val_at(v, 0), 1);
    assert_int_equal(mr_val_count(fields), 4);
    assert_string_equal(mr_val_str(mr_val_at(fields, 0), NULL), "type");
    assert_string_equal(mr_val_str(mr_val_at(fields, 1), NULL), "probe");
    assert_string_equal(mr_val_str(mr_val_at(fields, 2), NULL), "ev");
    size_t len = 0;
    const char *packed = mr_val_str(mr_val_at(fields, 3), &len);
    Medrep__Event *back = medrep__event__unpack(NULL, len, (const uint8_t *)packed);
    assert_non_null(back);
    assert_string_equal(back->probe->token, "grade-changed");
    medrep__event__free_unpacked(back, NULL);
    mr_val_free(&v);

    v = mr_store_cmd(s, "HGET {r:ev1}:customer:C1 segment");
    assert_string_equal(mr_val_str(v, NULL), "A");
    mr_val_free(&v);
    mr_tx_free(&tx);
    mr_store_free(&s);
}

static void refused_change_leaves_no_event(void **state)
{
    (void)state;
    mr_store *s = new_store();
    mr_val *v = mr_store_cmd(s, "SET {r:ev2}:customer:C1 not-a-hash");
    mr_val_free(&v);
    Medrep__Probe probe;
    Medrep__Event ev;
    init_probe(&ev, &probe, "ev2", "never");
    mr_tx *tx = mr_tx_new();
    assert_int_equal(mr_events_stage(tx, &ev, 1000), 0);
    mr_tx_addv(tx, "HSET", "{r:ev2}:customer:C1", "segment", "A", NULL);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_FAILED);
    assert_int_equal(stream_length(s, "{r:ev2}:events"), 0);
    mr_tx_free(&tx);
    mr_store_free(&s);
}

/* ---- Consuming ---- */

static void each_group_reads_every_event_once(void **state)
{
    (void)state;
    mr_store *s = new_store();
    /* emitted before any consumer existed: still handled */
    emit_probe(s, "ev3", "first");
    mr_consumer *scoring = mr_consumer_new(s, "ev3", "scoring", "scoring-1", NULL);
    mr_consumer *notify = mr_consumer_new(s, "ev3", "notify", "notify-1", NULL);
    assert_non_null(scoring);
    assert_non_null(notify);
    assert_string_equal(mr_consumer_region(scoring), "ev3");

    mr_event_entry e;
    next_entry(scoring, &e);
    expect_probe(&e, "first");
    assert_int_equal(e.deliveries, 1);
    char dedupe[128];
    assert_true(mr_consumer_dedupe_key(scoring, e.id, dedupe, sizeof dedupe) > 0);
    char want[128];
    snprintf(want, sizeof want, "{r:ev3}:done:scoring:%s", e.id);
    assert_string_equal(dedupe, want);
    assert_int_equal(mr_consumer_ack(scoring, e.id), 0);
    mr_event_entry_clear(&e);

    emit_probe(s, "ev3", "second");
    next_entry(scoring, &e);
    expect_probe(&e, "second");
    assert_int_equal(mr_consumer_ack(scoring, e.id), 0);
    mr_event_entry_clear(&e);
    assert_int_equal(mr_consumer_next(scoring, 50, &e), 0);

    next_entry(notify, &e);
    expect_probe(&e, "first");
    mr_consumer_ack(notify, e.id);
    mr_event_entry_clear(&e);
    next_entry(notify, &e);
    expect_probe(&e, "second");
    mr_consumer_ack(notify, e.id);
    mr_event_entry_clear(&e);

    assert_int_equal(pending_count(s, "ev3", "scoring"), 0);
    assert_int_equal(pending_count(s, "ev3", "notify"), 0);
    mr_consumer_free(&notify);
    mr_consumer_free(&scoring);
    assert_null(scoring);
    mr_store_free(&s);
}

static void pending_entry_is_read_again_after_a_crash(void **state)
{
    (void)state;
    mr_store *s = new_store();
    mr_consumer *c = mr_consumer_new(s, "ev4", "meetings", "meetings-a", NULL);
    emit_probe(s, "ev4", "unfinished");
    mr_event_entry e;
    next_entry(c, &e);
    char id[48];
    snprintf(id, sizeof id, "%s", e.id);
    mr_event_entry_clear(&e);
    /* the instance dies before acknowledging */
    mr_consumer_free(&c);

    c = mr_consumer_new(s, "ev4", "meetings", "meetings-a", NULL);
    next_entry(c, &e);
    assert_string_equal(e.id, id);
    expect_probe(&e, "unfinished");
    assert_int_equal(mr_consumer_ack(c, e.id), 0);
    mr_event_entry_clear(&e);
    assert_int_equal(mr_consumer_next(c, 50, &e), 0);
    assert_int_equal(pending_count(s, "ev4", "meetings"), 0);
    mr_consumer_free(&c);
    mr_store_free(&s);
}

static void live_consumer_claims_what_a_dead_one_left(void **state)
{
    (void)state;
    mr_store *s = new_store();
    mr_consumer_opts opts = {.claim_min_idle_ms = 100, .claim_interval_ms = 50};
    mr_consumer *dead = mr_consumer_new(s, "ev5", "notify", "notify-dead", &opts);
    mr_consumer *live = mr_consumer_new(s, "ev5", "notify", "notify-live", &opts);
    emit_probe(s, "ev5", "orphan");
    mr_event_entry e;
    next_entry(dead, &e);
    char id[48];
    snprintf(id, sizeof id, "%s", e.id);
    mr_event_entry_clear(&e);
    mr_consumer_free(&dead); /* never comes back */

    next_entry(live, &e);
    assert_string_equal(e.id, id);
    expect_probe(&e, "orphan");
    assert_int_equal(mr_consumer_ack(live, e.id), 0);
    mr_event_entry_clear(&e);
    assert_int_equal(pending_count(s, "ev5", "notify"), 0);
    mr_consumer_free(&live);
    mr_store_free(&s);
}

static void undecodable_entries_are_dead_lettered(void **state)
{
    (void)state;
    mr_store *s = new_store();
    mr_consumer *c = mr_consumer_new(s, "ev6", "scoring", "scoring-1", NULL);
    const char garbage[] = {0x0a, (char)0xff, 0x01};
    mr_val *v = mr_store_cmd(s, "XADD {r:ev6}:events * type probe ev %b", garbage, sizeof garbage);
    mr_val_free(&v);
    v = mr_store_cmd(s, "XADD {r:ev6}:events * type probe other-field x");
    mr_val_free(&v);
    /* a well-formed event of another region in this region's stream */
    Medrep__Probe probe;
    Medrep__Event ev;
    init_probe(&ev, &probe, "elsewhere", "misfiled");
    uint8_t packed[128];
    size_t len = medrep__event__pack(&ev, packed);
    v = mr_store_cmd(s, "XADD {r:ev6}:events * type probe ev %b", packed, len);
    mr_val_free(&v);
    emit_probe(s, "ev6", "good");

    mr_event_entry e;
    next_entry(c, &e);
    expect_probe(&e, "good");
    assert_int_equal(mr_consumer_ack(c, e.id), 0);
    mr_event_entry_clear(&e);

    assert_int_equal(stream_length(s, "{r:ev6}:events:dead"), 3);
    assert_int_equal(pending_count(s, "ev6", "scoring"), 0);
    v = mr_store_cmd(s, "XRANGE {r:ev6}:events:dead - + COUNT 1");
    const mr_val *fields = mr_val_at(mr_val_at(v, 0), 1);
    bool has_reason = false;
    for (size_t i = 0; i + 1 < mr_val_count(fields); i += 2)
        if (strcmp(mr_val_str(mr_val_at(fields, i), NULL), "reason") == 0)
            has_reason = strstr(mr_val_str(mr_val_at(fields, i + 1), NULL), "undecodable") != NULL;
    assert_true(has_reason);
    mr_val_free(&v);
    mr_consumer_free(&c);
    mr_store_free(&s);
}

static void consumer_reports_redis_failure_and_recovers(void **state)
{
    (void)state;
    mr_store *s = new_store();
    mr_consumer *c = mr_consumer_new(s, "ev7", "scoring", "scoring-1", NULL);
    mr_event_entry e;
    assert_int_equal(mr_consumer_next(c, 50, &e), 0);
    h_redis_kill(&redis, SIGKILL);
    assert_int_equal(mr_consumer_next(c, 50, &e), -1);
    assert_true(mr_store_error(s)[0] != '\0');
    assert_int_equal(h_redis_restart(&redis), 0);
    long long deadline = mono_ms() + GENEROUS_DEADLINE_MS;
    while (!mr_store_ping(s) && mono_ms() < deadline)
        nanosleep(&(struct timespec){.tv_nsec = 50000000L}, NULL);
    emit_probe(s, "ev7", "after-restart");
    next_entry(c, &e);
    expect_probe(&e, "after-restart");
    mr_consumer_ack(c, e.id);
    mr_event_entry_clear(&e);
    mr_consumer_free(&c);
    mr_store_free(&s);
}

/* ---- Feed ---- */

static mr_config *feed_config(void)
{
    char text[256], err[256];
    snprintf(text, sizeof text, "[region.feed1]\nredis = 127.0.0.1:%d/0\n", redis.port);
    mr_config *cfg = mr_config_from_string(text, err, sizeof err);
    assert_non_null(cfg);
    return cfg;
}

/* Emits probes until one arrives on sub (the feed and the subscription
 * take a moment to be ready; no timing is assumed). */
static void expect_probe_on_feed(mr_store *s, void *sub)
{
    long long deadline = mono_ms() + GENEROUS_DEADLINE_MS;
    while (mono_ms() < deadline) {
        emit_probe(s, "feed1", "watched");
        zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 250) != 1)
            continue;
        char topic[64] = {0};
        int n = zmq_recv(sub, topic, sizeof topic - 1, 0);
        assert_true(n > 0);
        assert_string_equal(topic, "feed1.probe");
        int more = 0;
        size_t more_len = sizeof more;
        zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &more_len);
        assert_true(more);
        uint8_t body[512];
        n = zmq_recv(sub, body, sizeof body, 0);
        assert_true(n > 0 && n < (int)sizeof body);
        Medrep__Event *ev = medrep__event__unpack(NULL, (size_t)n, body);
        assert_non_null(ev);
        assert_string_equal(ev->probe->token, "watched");
        assert_string_equal(ev->region, "feed1");
        medrep__event__free_unpacked(ev, NULL);
        zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &more_len);
        assert_true(more);   /* the sequence frame */
        n = zmq_recv(sub, body, sizeof body, 0);
        mr_feed_seq seq;
        assert_true(n > 0 && mr_feed_seq_decode(body, (size_t)n, &seq));
        assert_true(seq.session != 0 && seq.counter >= 1);
        return;
    }
    fail_msg("no event on the feed within %d ms", GENEROUS_DEADLINE_MS);
}

static void feed_publishes_events(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    mr_config *cfg = feed_config();
    char endpoint[64], err[256];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", h_free_port());
    mr_feed *feed = mr_feed_start(zctx, cfg, endpoint, err, sizeof err);
    assert_non_null(feed);

    /* the endpoint is taken now */
    char err2[256] = "";
    assert_null(mr_feed_start(zctx, cfg, endpoint, err2, sizeof err2));
    assert_true(err2[0] != '\0');

    void *sub = zmq_socket(zctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "feed1.", 6);
    assert_int_equal(zmq_connect(sub, endpoint), 0);

    mr_store *s = new_store();
    expect_probe_on_feed(s, sub);

    mr_feed_stop(&feed);
    assert_null(feed);
    mr_feed_stop(&feed);
    mr_store_free(&s);
    zmq_close(sub);
    mr_config_free(&cfg);
    zmq_ctx_term(zctx);
}

/* One message of an unfiltered subscription: its sequence, whether it
 * is a heartbeat, and for events the probe token (into token). */
static void recv_feed_message(void *sub, mr_feed_seq *seq, bool *heartbeat, char *token, size_t cap)
{
    zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
    assert_int_equal(zmq_poll(&item, 1, GENEROUS_DEADLINE_MS), 1);
    mr_frames f;
    assert_int_equal(mr_zmq_recv_frames(sub, &f, ZMQ_DONTWAIT), 3);
    *heartbeat = mr_feed_is_heartbeat(f.frames[0].data, f.frames[0].size);
    assert_true(mr_feed_seq_decode(f.frames[2].data, f.frames[2].size, seq));
    token[0] = '\0';
    if (!*heartbeat) {
        Medrep__Event *ev = medrep__event__unpack(NULL, f.frames[1].size, f.frames[1].data);
        assert_non_null(ev);
        snprintf(token, cap, "%s", ev->probe ? ev->probe->token : "");
        medrep__event__free_unpacked(ev, NULL);
    } else {
        assert_int_equal(f.frames[1].size, 0);
    }
    mr_zmq_frames_close(&f);
}

/* Heartbeats come while idle; the counter grows by one per message
 * (events and heartbeats alike); a restarted feed has a new session. */
static void feed_sequences_and_heartbeats(void **state)
{
    (void)state;
    char text[256], err[256];
    snprintf(text, sizeof text, "[region.feed1]\nredis = 127.0.0.1:%d/0\n[feed]\nheartbeat_ms = 30\n", redis.port);
    mr_config *cfg = mr_config_from_string(text, err, sizeof err);
    assert_non_null(cfg);
    mr_store *s = new_store();
    void *zctx = zmq_ctx_new();
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", h_free_port());
    mr_feed *feed = mr_feed_start(zctx, cfg, endpoint, err, sizeof err);
    assert_non_null(feed);
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(sub, endpoint), 0);
    mr_feed_seq first, seq;
    bool heartbeat;
    char token[64];
    recv_feed_message(sub, &first, &heartbeat, token, sizeof token);
    assert_true(heartbeat);   /* nothing else happens: idle */
    emit_probe(s, "feed1", "in-between");
    bool probe_seen = false;
    for (uint64_t want = first.counter + 1; !probe_seen || want < first.counter + 4; want++) {
        recv_feed_message(sub, &seq, &heartbeat, token, sizeof token);
        assert_true(seq.session == first.session);
        assert_true(seq.counter == want);   /* no gap */
        probe_seen = probe_seen || strcmp(token, "in-between") == 0;
    }
    mr_feed_stop(&feed);
    /* started again (on another port: the old one may not be released yet) */
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", h_free_port());
    feed = mr_feed_start(zctx, cfg, endpoint, err, sizeof err);
    assert_non_null(feed);
    assert_int_equal(zmq_connect(sub, endpoint), 0);
    /* what the first session sent may still be queued: then the new one's */
    int read = 0;
    do
        recv_feed_message(sub, &seq, &heartbeat, token, sizeof token);
    while (seq.session == first.session && ++read < 10000);
    assert_true(seq.session != first.session);
    mr_feed_stop(&feed);
    zmq_close(sub);
    zmq_ctx_term(zctx);
    mr_store_free(&s);
    mr_config_free(&cfg);
}

static void feed_stops_while_redis_is_away(void **state)
{
    (void)state;
    void *zctx = zmq_ctx_new();
    char text[128], err[256];
    snprintf(text, sizeof text, "[region.gone]\nredis = 127.0.0.1:%d/0\n", h_free_port());
    mr_config *cfg = mr_config_from_string(text, err, sizeof err);
    assert_non_null(cfg);
    mr_feed *feed = mr_feed_start(zctx, cfg, "inproc://feed-gone", err, sizeof err);
    assert_non_null(feed);
    mr_feed_stop(&feed);
    mr_config_free(&cfg);
    zmq_ctx_term(zctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_keys),
        cmocka_unit_test(stage_refuses_an_event_without_a_valid_region),
        cmocka_unit_test(event_commits_with_its_change_and_only_once),
        cmocka_unit_test(refused_change_leaves_no_event),
        cmocka_unit_test(each_group_reads_every_event_once),
        cmocka_unit_test(pending_entry_is_read_again_after_a_crash),
        cmocka_unit_test(live_consumer_claims_what_a_dead_one_left),
        cmocka_unit_test(undecodable_entries_are_dead_lettered),
        cmocka_unit_test(consumer_reports_redis_failure_and_recovers),
        cmocka_unit_test(feed_publishes_events),
        cmocka_unit_test(feed_sequences_and_heartbeats),
        cmocka_unit_test(feed_stops_while_redis_is_away),
    };
    return cmocka_run_group_tests(tests, start_redis, stop_redis);
}
