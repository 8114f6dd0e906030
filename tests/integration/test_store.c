// ctest-label: integration
/* test_store.c: the store against real redis-servers: commands, values,
 * pipelining, scripts after SCRIPT FLUSH, transactions with dedupe and
 * atomicity, AUTH and SELECT, a server killed with SIGKILL and restarted
 * under the same store, and a pool spreading regions over two servers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "harness.h"
#include "store.h"

#define GENEROUS_DEADLINE_MS 30000

static h_redis redis;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static mr_store *store_on(int port, int db, const char *password)
{
    mr_store_cfg cfg = {.host = "127.0.0.1", .port = port, .db = db};
    if (password)
        snprintf(cfg.password, sizeof cfg.password, "%s", password);
    mr_store *s = mr_store_new(&cfg);
    assert_non_null(s);
    return s;
}

/* The string value of key, "(nil)" when missing. */
static void assert_key_is(mr_store *s, const char *key, const char *want)
{
    mr_val *v = mr_store_cmd(s, "GET %s", key);
    assert_non_null(v);
    if (want == NULL) {
        assert_int_equal(mr_val_type(v), MR_VAL_NIL);
    } else {
        assert_int_equal(mr_val_type(v), MR_VAL_STRING);
        assert_string_equal(mr_val_str(v, NULL), want);
    }
    mr_val_free(&v);
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

/* ---- Commands and values ---- */

static void command_values_have_their_types(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    char key[64];
    mr_key(key, sizeof key, "north", "bin");
    const char bin[5] = {'a', '\0', 'b', 'c', '\0'};

    mr_val *v = mr_store_cmd(s, "SET %s %b", key, bin, sizeof bin);
    assert_int_equal(mr_val_type(v), MR_VAL_STATUS);
    assert_string_equal(mr_val_str(v, NULL), "OK");
    assert_true(mr_store_connected(s));
    mr_val_free(&v);

    size_t len = 0;
    v = mr_store_cmd(s, "GET %s", key);
    assert_int_equal(mr_val_type(v), MR_VAL_STRING);
    assert_memory_equal(mr_val_str(v, &len), bin, sizeof bin);
    assert_int_equal(len, sizeof bin);
    mr_val_free(&v);

    const char *argv[] = {"INCRBY", "{r:north}:counter", "5"};
    v = mr_store_cmdv(s, 3, argv, NULL);
    assert_int_equal(mr_val_type(v), MR_VAL_INTEGER);
    assert_int_equal(mr_val_int(v), 5);
    mr_val_free(&v);

    v = mr_store_cmd(s, "GET {r:north}:missing");
    assert_int_equal(mr_val_type(v), MR_VAL_NIL);
    assert_false(mr_val_is_error(v));
    mr_val_free(&v);

    v = mr_store_cmd(s, "RPUSH {r:north}:list a b c");
    mr_val_free(&v);
    v = mr_store_cmd(s, "LRANGE {r:north}:list 0 -1");
    assert_int_equal(mr_val_count(v), 3);
    assert_string_equal(mr_val_str(mr_val_at(v, 2), NULL), "c");
    assert_null(mr_val_at(v, 3));
    mr_val_free(&v);

    /* a refusal is a value, not a connection failure */
    v = mr_store_cmd(s, "INCR %s", key);
    assert_non_null(v);
    assert_true(mr_val_is_error(v));
    assert_int_equal(mr_val_type(v), MR_VAL_ERROR);
    mr_val_free(&v);
    assert_true(mr_store_ping(s));
    assert_string_equal(mr_store_error(s), "");
    mr_store_free(&s);
}

static void select_and_auth_on_connect(void **state)
{
    (void)state;
    mr_store *db0 = store_on(redis.port, 0, NULL);
    mr_store *db3 = store_on(redis.port, 3, NULL);
    mr_val *v = mr_store_cmd(db3, "SET {r:north}:only-in-3 yes");
    mr_val_free(&v);
    assert_key_is(db0, "{r:north}:only-in-3", NULL);
    assert_key_is(db3, "{r:north}:only-in-3", "yes");

    v = mr_store_cmd(db0, "CONFIG SET requirepass s3cret");
    assert_false(mr_val_is_error(v));
    mr_val_free(&v);

    mr_store *authed = store_on(redis.port, 3, "s3cret");
    assert_key_is(authed, "{r:north}:only-in-3", "yes");
    mr_store *wrong = store_on(redis.port, 0, "nope");
    assert_false(mr_store_ping(wrong));
    assert_true(strstr(mr_store_error(wrong), "AUTH") != NULL);

    v = mr_store_cmd(authed, "CONFIG SET requirepass %s", "");
    assert_false(mr_val_is_error(v));
    mr_val_free(&v);
    mr_store_free(&wrong);
    mr_store_free(&authed);
    mr_store_free(&db3);
    mr_store_free(&db0);
}

static void unreachable_server_fails_fast_with_a_reason(void **state)
{
    (void)state;
    int port = h_free_port();
    mr_store *s = store_on(port, 0, NULL);
    assert_false(mr_store_ping(s));
    assert_false(mr_store_connected(s));
    assert_true(strstr(mr_store_error(s), "unavailable") != NULL);
    assert_null(mr_store_cmd(s, "PING"));
    assert_true(mr_store_error(s)[0] != '\0');
    mr_store_free(&s);
}

/* ---- Pipelining ---- */

static void pipeline_replies_come_in_order(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    const char *argv[] = {"INCR", "{r:north}:pipe"};
    for (int i = 0; i < 200; i++)
        assert_int_equal(mr_store_append(s, 2, argv, NULL), 0);
    assert_int_equal(mr_store_appendf(s, "GET %s", "{r:north}:pipe"), 0);
    for (int i = 1; i <= 200; i++) {
        mr_val *v = mr_store_next_reply(s);
        assert_int_equal(mr_val_int(v), i);
        mr_val_free(&v);
    }
    mr_val *v = mr_store_next_reply(s);
    assert_string_equal(mr_val_str(v, NULL), "200");
    mr_val_free(&v);
    /* nothing left to read */
    assert_null(mr_store_next_reply(s));
    assert_true(mr_store_error(s)[0] != '\0');
    mr_store_free(&s);
}

static void plain_command_after_an_unread_pipeline_gets_its_own_reply(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_store_appendf(s, "SET {r:north}:p1 one");
    mr_store_appendf(s, "SET {r:north}:p2 two");
    assert_key_is(s, "{r:north}:p2", "two");
    mr_store_free(&s);
}

/* ---- Scripts ---- */

static mr_script add_script = {
    .name = "add",
    .source = "return redis.call('INCRBY', KEYS[1], ARGV[1])",
};

static void script_survives_script_flush(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    const char *args[] = {"{r:north}:scripted", "2"};
    mr_val *v = mr_store_eval(s, &add_script, 1, 2, args, NULL);
    assert_int_equal(mr_val_int(v), 2);
    mr_val_free(&v);
    assert_int_equal(strlen(add_script.sha), 40);

    v = mr_store_cmd(s, "SCRIPT FLUSH");
    mr_val_free(&v);
    v = mr_store_eval(s, &add_script, 1, 2, args, NULL);
    assert_int_equal(mr_val_type(v), MR_VAL_INTEGER);
    assert_int_equal(mr_val_int(v), 4);
    mr_val_free(&v);
    mr_store_free(&s);
}

static void script_errors_are_values(void **state)
{
    (void)state;
    static mr_script broken = {.name = "broken", .source = "return redis.call('NOPE')"};
    static mr_script unparsable = {.name = "unparsable", .source = "this is not lua"};
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_val *v = mr_store_eval(s, &broken, 0, 0, NULL, NULL);
    assert_non_null(v);
    assert_true(mr_val_is_error(v));
    mr_val_free(&v);
    v = mr_store_eval(s, &unparsable, 0, 0, NULL, NULL);
    assert_non_null(v);
    assert_true(mr_val_is_error(v));
    mr_val_free(&v);
    assert_true(mr_store_ping(s));
    mr_store_free(&s);
}

/* ---- Transactions ---- */

static void tx_commits_once_and_returns_the_record_after(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "INCR", "{r:north}:visits", NULL);
    mr_tx_addv(tx, "HSET", "{r:north}:last", "by", "req-1", NULL);
    const char record[] = "reply\0bytes";

    mr_val *prior = NULL;
    assert_int_equal(mr_tx_commit(s, tx, "{r:north}:done:req-1", record, sizeof record, 60000,
                                  &prior),
                     MR_TX_COMMITTED);
    assert_null(prior);
    assert_int_equal(mr_tx_commit(s, tx, "{r:north}:done:req-1", "other", 5, 60000, &prior),
                     MR_TX_DUPLICATE);
    size_t len = 0;
    assert_non_null(prior);
    assert_memory_equal(mr_val_str(prior, &len), record, sizeof record);
    assert_int_equal(len, sizeof record);
    mr_val_free(&prior);
    /* a duplicate without wanting the record */
    assert_int_equal(mr_tx_commit(s, tx, "{r:north}:done:req-1", "x", 1, 60000, NULL),
                     MR_TX_DUPLICATE);

    assert_key_is(s, "{r:north}:visits", "1");
    mr_val *ttl = mr_store_cmd(s, "PTTL {r:north}:done:req-1");
    assert_true(mr_val_int(ttl) > 0 && mr_val_int(ttl) <= 60000);
    mr_val_free(&ttl);
    mr_tx_free(&tx);
    mr_store_free(&s);
}

static void tx_without_dedupe_runs_every_time(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "INCRBY", "{r:north}:plain", "3", NULL);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    assert_key_is(s, "{r:north}:plain", "6");
    mr_tx_reset(tx);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
    mr_store_free(&s);
}

static void tx_expectations_guard_the_commit(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_tx *tx = mr_tx_new();
    /* absent as expected: applies, and sets the version */
    mr_tx_expect(tx, "{r:north}:rec", "version", NULL);
    mr_tx_addv(tx, "HSET", "{r:north}:rec", "version", "1", "state", "proposed", NULL);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    /* a second writer that also read "absent" loses: nothing applied */
    mr_tx_reset(tx);
    mr_tx_expect(tx, "{r:north}:rec", "version", NULL);
    mr_tx_addv(tx, "HSET", "{r:north}:rec", "version", "1", "state", "cancelled", NULL);
    mr_tx_addv(tx, "INCR", "{r:north}:side-effect", NULL);
    assert_int_equal(mr_tx_commit(s, tx, "{r:north}:done:x", "r", 1, 60000, NULL), MR_TX_CONFLICT);
    mr_val *v = mr_store_cmd(s, "HGET {r:north}:rec state");
    assert_string_equal(mr_val_str(v, NULL), "proposed");
    mr_val_free(&v);
    v = mr_store_cmd(s, "EXISTS {r:north}:side-effect {r:north}:done:x");
    assert_int_equal(mr_val_int(v), 0);
    mr_val_free(&v);
    /* the right version applies; a plain string key can be expected too */
    mr_tx_reset(tx);
    mr_tx_expect(tx, "{r:north}:rec", "version", "1");
    mr_tx_expect(tx, "{r:north}:side-effect", NULL, NULL);
    mr_tx_addv(tx, "HSET", "{r:north}:rec", "version", "2", "state", "approved", NULL);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    v = mr_store_cmd(s, "HGET {r:north}:rec state");
    assert_string_equal(mr_val_str(v, NULL), "approved");
    mr_val_free(&v);
    mr_tx_free(&tx);
    mr_store_free(&s);
}

static void tx_refused_applies_nothing(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_val *v = mr_store_cmd(s, "SET {r:north}:a-string text");
    mr_val_free(&v);
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "SET", "{r:north}:first", "1", NULL);
    mr_tx_addv(tx, "XADD", "{r:north}:stream", "*", "f", "v", NULL);
    mr_tx_addv(tx, "HSET", "{r:north}:a-string", "f", "v", NULL);
    assert_int_equal(mr_tx_commit(s, tx, "{r:north}:done:refused", "r", 1, 60000, NULL),
                     MR_TX_FAILED);
    assert_true(strstr(mr_store_error(s), "WRONGTYPE") != NULL);
    assert_key_is(s, "{r:north}:first", NULL);
    assert_key_is(s, "{r:north}:done:refused", NULL);
    v = mr_store_cmd(s, "EXISTS {r:north}:stream");
    assert_int_equal(mr_val_int(v), 0);
    mr_val_free(&v);
    mr_tx_free(&tx);
    mr_store_free(&s);
}

static void tx_script_is_reloaded_after_script_flush(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "INCR", "{r:north}:flushed", NULL);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_val *v = mr_store_cmd(s, "SCRIPT FLUSH");
    mr_val_free(&v);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    assert_key_is(s, "{r:north}:flushed", "2");
    mr_tx_free(&tx);
    mr_store_free(&s);
}

/* ---- Failure and recovery ---- */

static void store_answers_again_after_redis_comes_back(void **state)
{
    (void)state;
    mr_store *s = store_on(redis.port, 0, NULL);
    mr_val *v = mr_store_cmd(s, "SET {r:north}:durable kept");
    assert_false(mr_val_is_error(v));
    mr_val_free(&v);

    h_redis_kill(&redis, SIGKILL);
    for (int i = 0; i < 3; i++) {
        assert_null(mr_store_cmd(s, "GET {r:north}:durable"));
        assert_true(mr_store_error(s)[0] != '\0');
        assert_false(mr_store_connected(s));
    }
    /* a pipeline while Redis is away: every reply NULL, in order */
    mr_store_appendf(s, "PING");
    mr_store_appendf(s, "PING");
    assert_null(mr_store_next_reply(s));
    assert_null(mr_store_next_reply(s));
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "INCR", "{r:north}:while-down", NULL);
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_FAILED);

    assert_int_equal(h_redis_restart(&redis), 0);
    long long deadline = mono_ms() + GENEROUS_DEADLINE_MS;
    while (!mr_store_ping(s) && mono_ms() < deadline)
        sleep_ms(50);
    assert_true(mr_store_connected(s));
    assert_key_is(s, "{r:north}:durable", "kept");
    /* scripts are gone after a restart: the tx reloads its own */
    assert_int_equal(mr_tx_commit(s, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    assert_key_is(s, "{r:north}:while-down", "1");
    mr_tx_free(&tx);
    mr_store_free(&s);
}

/* ---- Pool ---- */

static void pool_maps_regions_to_their_servers(void **state)
{
    (void)state;
    h_redis south;
    assert_int_equal(h_redis_start(&south), 0);
    char text[512], err[256];
    snprintf(text, sizeof text,
             "[region.north]\nredis = 127.0.0.1:%d/0\n"
             "[region.south]\nredis = 127.0.0.1:%d/0\n"
             "[region.east]\nredis = 127.0.0.1:%d/0\n",
             redis.port, south.port, redis.port);
    mr_config *cfg = mr_config_from_string(text, err, sizeof err);
    assert_non_null(cfg);
    mr_store_pool *pool = mr_store_pool_new(cfg, err, sizeof err);
    assert_non_null(pool);

    assert_int_equal(mr_store_pool_region_count(pool), 3);
    assert_string_equal(mr_store_pool_region_name(pool, 0), "north");
    assert_string_equal(mr_store_pool_region_name(pool, 1), "south");
    assert_string_equal(mr_store_pool_region_name(pool, 2), "east");
    assert_null(mr_store_pool_region_name(pool, 3));
    mr_store *north = mr_store_pool_get(pool, "north");
    mr_store *south_store = mr_store_pool_get(pool, "south");
    assert_non_null(north);
    assert_non_null(south_store);
    assert_true(north != south_store);
    assert_ptr_equal(mr_store_pool_get(pool, "east"), north);
    assert_null(mr_store_pool_get(pool, "west"));

    mr_val *v = mr_store_cmd(south_store, "SET {r:south}:where south-server");
    mr_val_free(&v);
    mr_store *direct_south = store_on(south.port, 0, NULL);
    mr_store *direct_north = store_on(redis.port, 0, NULL);
    assert_key_is(direct_south, "{r:south}:where", "south-server");
    assert_key_is(direct_north, "{r:south}:where", NULL);

    mr_store_free(&direct_north);
    mr_store_free(&direct_south);
    mr_store_pool_free(&pool);
    assert_null(pool);
    mr_config_free(&cfg);
    h_redis_stop(&south);
}

static void pool_without_regions_is_refused(void **state)
{
    (void)state;
    char err[256] = "";
    mr_config *cfg = mr_config_from_string("[broker]\nendpoint = tcp://127.0.0.1:1\n", err,
                                           sizeof err);
    assert_non_null(cfg);
    assert_null(mr_store_pool_new(cfg, err, sizeof err));
    assert_true(err[0] != '\0');
    mr_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_values_have_their_types),
        cmocka_unit_test(select_and_auth_on_connect),
        cmocka_unit_test(unreachable_server_fails_fast_with_a_reason),
        cmocka_unit_test(pipeline_replies_come_in_order),
        cmocka_unit_test(plain_command_after_an_unread_pipeline_gets_its_own_reply),
        cmocka_unit_test(script_survives_script_flush),
        cmocka_unit_test(script_errors_are_values),
        cmocka_unit_test(tx_commits_once_and_returns_the_record_after),
        cmocka_unit_test(tx_without_dedupe_runs_every_time),
        cmocka_unit_test(tx_refused_applies_nothing),
        cmocka_unit_test(tx_expectations_guard_the_commit),
        cmocka_unit_test(tx_script_is_reloaded_after_script_flush),
        cmocka_unit_test(store_answers_again_after_redis_comes_back),
        cmocka_unit_test(pool_maps_regions_to_their_servers),
        cmocka_unit_test(pool_without_regions_is_refused),
    };
    return cmocka_run_group_tests(tests, start_redis, stop_redis);
}
