/* test_gateway_cache.c: the gateway's read cache on a real stack (redis,
 * broker with its live event feed, notify, two gateways). Gateway 1
 * keeps inbox answers for a minute and follows the feed (heartbeats
 * every 100 ms, silence after 1 s); gateway 2 would keep them for a
 * second but never hears its feed (its address leads nowhere); it runs
 * in the "loop" HTTP mode (one thread for HTTP and the broker).
 *   - a cached inbox is dropped by the event of a reminder delivered into
 *     it (a change made through another path) and shows the new item;
 *   - a write through the gateway (mark read) is visible in the next read;
 *   - a caller without access to a cached answer still gets 403 (401 for
 *     a revoked token);
 *   - with the feed never heard, nothing is cached (answers pass through);
 *   - heartbeats keep the cache alive while nothing happens;
 *   - the cache key tells query parameters apart;
 *   - a regrade event of one rep drops the cached grades of that rep's
 *     customers only (entries are tagged with the customer's owner);
 *   - the max age of a group: its own section, else [gateway], else the
 *     group's default;
 *   - a mark-read through the broker (not the gateway) drops the cached
 *     inbox by its inbox_read event, well before the max age;
 *   - a broker restart (its feed's events while down are never
 *     published) drops gateway 1's whole cache: a reminder delivered
 *     while the broker was down is seen at once after, not after the
 *     max age of a minute.
 * Hits, misses and invalidations are read back from /metrics. */
// ctest-label: integration
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "calls.h"
#include "events.h"
#include "http.h"
#include "masterdata.h"
#include "notify_testlib.h"

static h_stack stack;
static mr_client *client;
static int port1, port2;
static char tok_p1[96], tok_p2[96], tok_dm[96], tok_gone[96], gone_hash[72];


/* Waits until the gateway on port reports its feed trusted (1) or not (0). */
static bool feed_trusted_is(int port, int want)
{
    return h_http_wait_metric(port, "medrep_gateway_cache_feed_trusted", want, 10000);
}

/* Reps P1 and P2 with one customer each (CU1, CU2). */
static int stage_customers(void)
{
    mr_store *store = h_stack_store(&stack, 0);
    mr_tx *tx = mr_tx_new();
    int rc = 0;
    for (int i = 1; i <= 2; i++) {
        mr_rep r = {0};
        snprintf(r.id, sizeof r.id, "P%d", i);
        snprintf(r.dm_id, sizeof r.dm_id, "D1");
        snprintf(r.team, sizeof r.team, "ONC");
        mr_customer c = {0};
        snprintf(c.id, sizeof c.id, "CU%d", i);
        snprintf(c.rep_id, sizeof c.rep_id, "P%d", i);
        rc |= mr_md_stage_rep(tx, "north", &r, NULL) | mr_md_stage_customer(tx, "north", &c, NULL);
    }
    if (rc == 0 && mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) != MR_TX_COMMITTED)
        rc = -1;
    mr_tx_free(&tx);
    mr_store_free(&store);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    port1 = h_free_port();
    port2 = h_free_port();
    char extra[768];
    snprintf(extra, sizeof extra,
             NT_TEST_CONFIG "[gateway]\nport = %d\nthreads = 2\nauth_region = north\ntoken_cache_ms = 0\n"
                            "rate_per_second = 100000\nrate_burst = 100000\nread_cache_ms = 60000\n"
                            "feed_silence_ms = 1000\n"
                            "[gateway@cache:plan]\nread_cache_ms = 2500\n[feed]\nheartbeat_ms = 100\n",
             port1);
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, extra) != 0 ||
        h_stack_start_service(&stack, "notify", "notify-c1", NULL) < 0 ||
        h_stack_start_service(&stack, "scoring", "scoring-c1", NULL) < 0 ||
        h_stack_start_service(&stack, "gateway", "gateway-1", NULL) < 0)
        return -1;
    char port_env[64], feed_env[96];
    snprintf(port_env, sizeof port_env, "MEDREP__GATEWAY__PORT=%d", port2);
    snprintf(feed_env, sizeof feed_env, "MEDREP__FEED__ENDPOINT=tcp://127.0.0.1:%d", h_free_port());
    const char *env2[] = {port_env, feed_env, "MEDREP__GATEWAY__READ_CACHE_MS=1000",
                          "MEDREP__GATEWAY__HTTP_MODE=loop", NULL};
    if (h_stack_start_service(&stack, "gateway", "gateway-2", env2) < 0 ||
        h_stack_wait_workers(&stack, "notify", 1, 10000) != 0 ||
        h_stack_wait_workers(&stack, "scoring", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 2000);
    if (stage_customers() != 0)
        return -1;
    assert_int_equal(h_stack_token(&stack, "--user P1 --role rep --region north", tok_p1, sizeof tok_p1, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user P2 --role rep --region north", tok_p2, sizeof tok_p2, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user D1 --role dm --region north", tok_dm, sizeof tok_dm, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user P1 --role rep --region north", tok_gone, sizeof tok_gone, gone_hash, sizeof gone_hash), 0);
    return h_http_wait_up(port1, 10000) && h_http_wait_up(port2, 10000) && feed_trusted_is(port1, 1) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* GET path on port as token: the status, and the body into body (cap bytes). */
static int get(int port, const char *path, const char *token, char *body, size_t cap)
{
    h_http_answer a;
    int status = h_http(port, "GET", path, token, NULL, &a);
    if (body)
        snprintf(body, cap, "%s", a.body ? a.body : "");
    h_http_answer_free(&a);
    return status;
}

/* Schedules a reminder for person due at due_ms (delivered into the inbox by notify). */
static void deliver_at(const char *id, const char *person, const char *title, int64_t due_ms)
{
    Medrep__ScheduleReminderRequest q = MEDREP__SCHEDULE_REMINDER_REQUEST__INIT;
    q.reminder_id = (char *)id;
    q.person_id = (char *)person;
    q.subject_id = "test:cache";
    q.kind = "manual";
    q.title = (char *)title;
    q.has_due_ms = q.has_urgent = true;
    q.due_ms = due_ms;
    q.urgent = true;
    assert_int_equal(nt_rpc(client, "ScheduleReminder", &q.base, &medrep__schedule_reminder_reply__descriptor,
                            NULL),
                     MR_OK);
}

static void deliver_now(const char *id, const char *person, const char *title)
{
    deliver_at(id, person, title, mr_now_ms());
}

/* Reads path on port until its body contains want (10 s at most). */
static bool eventually_contains(int port, const char *path, const char *token, const char *want)
{
    char body[8192];
    for (int64_t end = mr_mono_ms() + 10000; mr_mono_ms() < end; usleep(50 * 1000))
        if (get(port, path, token, body, sizeof body) == 200 && strstr(body, want))
            return true;
    return false;
}

static const char *inbox_p1 = "/v1/regions/north/people/P1/inbox";

static void test_event_drops_cached_inbox(void **state)
{
    (void)state;
    char first[8192], again[8192];
    long long hits = h_http_metric(port1, "medrep_gateway_cache_hits_total");
    assert_int_equal(get(port1, inbox_p1, tok_p1, first, sizeof first), 200);
    assert_null(strstr(first, "Delivered by notify"));
    assert_int_equal(get(port1, inbox_p1, tok_p1, again, sizeof again), 200);
    assert_string_equal(first, again);
    assert_true(h_http_metric(port1, "medrep_gateway_cache_hits_total") > hits);

    long long dropped = h_http_metric(port1, "medrep_gateway_cache_invalidations_total");
    deliver_now("rc-1", "P1", "Delivered by notify");
    /* the answer is cached for a minute: only the event can bring the new item */
    assert_true(eventually_contains(port1, inbox_p1, tok_p1, "Delivered by notify"));
    assert_true(h_http_metric(port1, "medrep_gateway_cache_invalidations_total") > dropped);
}

static void test_write_visible_at_once(void **state)
{
    (void)state;
    deliver_now("rc-2", "P1", "Mark me read");
    assert_true(eventually_contains(port1, inbox_p1, tok_p1, "Mark me read"));
    char body[8192];
    assert_int_equal(get(port1, inbox_p1, tok_p1, body, sizeof body), 200);   /* cached now */
    json_t *inbox = json_loads(body, 0, NULL);
    assert_non_null(inbox);
    long long unread = json_integer_value(json_object_get(inbox, "unread"));
    assert_true(unread >= 1);
    const char *delivery = NULL;
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(inbox, "items"), i, item) {
        if (!json_boolean_value(json_object_get(item, "read")))
            delivery = json_string_value(json_object_get(item, "delivery_id"));
    }
    assert_non_null(delivery);
    char mark[256];
    snprintf(mark, sizeof mark, "{\"delivery_ids\":[\"%s\"]}", delivery);
    json_decref(inbox);   /* delivery is not used past here */
    h_http_answer a;
    assert_int_equal(h_http(port1, "POST", "/v1/regions/north/people/P1/inbox/read", tok_p1, mark, &a), 200);
    h_http_answer_free(&a);
    /* the very next read through this gateway sees the write */
    assert_int_equal(get(port1, inbox_p1, tok_p1, body, sizeof body), 200);
    inbox = json_loads(body, 0, NULL);
    assert_non_null(inbox);
    assert_int_equal(json_integer_value(json_object_get(inbox, "unread")), unread - 1);
    json_decref(inbox);
}

static void test_access_before_cache(void **state)
{
    (void)state;
    char body[8192];
    assert_int_equal(get(port1, inbox_p1, tok_p1, body, sizeof body), 200);
    assert_int_equal(get(port1, inbox_p1, tok_gone, NULL, 0), 200);
    long long hits = h_http_metric(port1, "medrep_gateway_cache_hits_total");
    /* the same request, cached, from callers who may not see it */
    assert_int_equal(get(port1, inbox_p1, tok_p2, body, sizeof body), 403);
    assert_non_null(strstr(body, "PERMISSION_DENIED"));
    assert_int_equal(get(port1, inbox_p1, tok_dm, NULL, 0), 403);   /* people's own things */
    assert_int_equal(get(port1, inbox_p1, NULL, NULL, 0), 401);
    char bin[512], command[1400];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s token revoke %s >/dev/null", bin, stack.config_path,
             gone_hash);
    assert_int_equal(system(command), 0);
    assert_int_equal(get(port1, inbox_p1, tok_gone, NULL, 0), 401);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_hits_total"), hits);   /* none served from it */
    assert_int_equal(get(port1, inbox_p1, tok_p1, NULL, 0), 200);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_hits_total"), hits + 1);
}

static void test_unheard_feed_passes_through(void **state)
{
    (void)state;
    /* gateway 2 never hears a heartbeat: no answer may be cached, since
     * no event could drop it */
    assert_int_equal(h_http_metric(port2, "medrep_gateway_cache_feed_trusted"), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(get(port2, inbox_p1, tok_p1, NULL, 0), 200);
    assert_int_equal(h_http_metric(port2, "medrep_gateway_cache_hits_total"), 0);
    assert_int_equal(h_http_metric(port2, "medrep_gateway_cache_stored_total"), 0);
    assert_int_equal(h_http_metric(port2, "medrep_gateway_cache_entries"), 0);
    deliver_now("rc-3", "P1", "Seen without the feed");
    assert_true(eventually_contains(port2, inbox_p1, tok_p1, "Seen without the feed"));
    assert_int_equal(h_http_metric(port2, "medrep_gateway_cache_hits_total"), 0);
}

static void test_heartbeat_keeps_cache_alive(void **state)
{
    (void)state;
    const char *path = "/v1/regions/north/people/P2/inbox";   /* nobody changes P2's inbox */
    char first[8192], again[8192];
    assert_int_equal(get(port1, path, tok_p2, first, sizeof first), 200);
    long long clears = h_http_metric(port1, "medrep_gateway_cache_clears_total");
    /* idle for longer than the silence limit: only heartbeats come */
    usleep(1800 * 1000);
    long long hits = h_http_metric(port1, "medrep_gateway_cache_hits_total");
    assert_int_equal(get(port1, path, tok_p2, again, sizeof again), 200);
    assert_string_equal(first, again);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_hits_total"), hits + 1);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_clears_total"), clears);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_feed_trusted"), 1);
}

/* Whether the gateway on port reports this max age of group in /metrics. */
static bool max_age_is(int port, const char *group, const char *seconds)
{
    char want[160];
    snprintf(want, sizeof want, "medrep_gateway_cache_max_age_seconds{group=\"%s\"} %s\n", group, seconds);
    h_http_answer a;
    bool found = h_http(port, "GET", "/metrics", NULL, NULL, &a) == 200 && a.body && strstr(a.body, want);
    h_http_answer_free(&a);
    return found;
}

static void test_max_age_settings(void **state)
{
    (void)state;
    /* gateway 1: [gateway] 60000 for all groups, [gateway@cache:plan] 2500 */
    assert_true(max_age_is(port1, "inbox", "60.000"));
    assert_true(max_age_is(port1, "grades", "60.000"));
    assert_true(max_age_is(port1, "plan", "2.500"));
    /* gateway 2: [gateway] overridden to 1000 by the environment; the
     * group's own section still wins */
    assert_true(max_age_is(port2, "inbox", "1.000"));
    assert_true(max_age_is(port2, "grades", "1.000"));
    assert_true(max_age_is(port2, "plan", "2.500"));
}

static void test_key_has_the_query(void **state)
{
    (void)state;
    deliver_now("rc-4", "P1", "Fourth");
    assert_true(eventually_contains(port1, inbox_p1, tok_p1, "Fourth"));
    char one[8192], five[8192], one_again[8192];
    const char *p1 = "/v1/regions/north/people/P1/inbox?page_size=1";
    const char *p5 = "/v1/regions/north/people/P1/inbox?page_size=5";
    for (int round = 0; round < 2; round++) {   /* the second round is answered from the cache */
        assert_int_equal(get(port1, p1, tok_p1, one, sizeof one), 200);
        assert_int_equal(get(port1, p5, tok_p1, five, sizeof five), 200);
    }
    assert_int_equal(get(port1, p1, tok_p1, one_again, sizeof one_again), 200);
    assert_string_equal(one, one_again);
    json_t *a = json_loads(one, 0, NULL), *b = json_loads(five, 0, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(json_array_size(json_object_get(a, "items")), 1);
    assert_true(json_array_size(json_object_get(b, "items")) >= 3);
    json_decref(a);
    json_decref(b);
    /* a bad query parameter is still refused, cache or not */
    assert_int_equal(get(port1, "/v1/regions/north/people/P1/inbox?no_such_field=1", tok_p1, NULL, 0), 400);
}

static void test_regrade_drops_the_reps_grades(void **state)
{
    (void)state;
    const char *cu1 = "/v1/regions/north/customers/CU1/grades", *cu2 = "/v1/regions/north/customers/CU2/grades";
    for (int round = 0; round < 2; round++) {
        assert_int_equal(get(port1, cu1, tok_p1, NULL, 0), 200);
        assert_int_equal(get(port1, cu2, tok_p2, NULL, 0), 200);
    }
    assert_int_equal(get(port1, cu2, tok_p1, NULL, 0), 403);   /* another rep's customer, cached or not */
    long long dropped = h_http_metric(port1, "medrep_gateway_cache_invalidations_total");
    mr_store *store = h_stack_store(&stack, 0);
    Medrep__CustomerRegraded rg = MEDREP__CUSTOMER_REGRADED__INIT;
    rg.customer_id = "CU1";
    rg.rep_id = "P1";
    rg.product_id = "P-X";
    rg.new_segment = "A";
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &rg;
    assert_int_equal(nt_emit(store, &ev), 0);
    mr_store_free(&store);
    for (int64_t end = mr_mono_ms() + 10000;
         mr_mono_ms() < end && h_http_metric(port1, "medrep_gateway_cache_invalidations_total") <= dropped;)
        usleep(50 * 1000);
    assert_true(h_http_metric(port1, "medrep_gateway_cache_invalidations_total") > dropped);
    long long misses = h_http_metric(port1, "medrep_gateway_cache_misses_total");
    assert_int_equal(get(port1, cu2, tok_p2, NULL, 0), 200);   /* P2's: still cached */
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_misses_total"), misses);
    assert_int_equal(get(port1, cu1, tok_p1, NULL, 0), 200);   /* P1's: dropped, asked again */
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_misses_total"), misses + 1);
}

/* The unread count and an unread delivery of P1's inbox read through port. */
static long long unread_of(int port, char *delivery, size_t cap)
{
    char body[8192];
    assert_int_equal(get(port, inbox_p1, tok_p1, body, sizeof body), 200);
    json_t *inbox = json_loads(body, 0, NULL);
    assert_non_null(inbox);
    long long unread = json_integer_value(json_object_get(inbox, "unread"));
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(inbox, "items"), i, item) {
        if (delivery && !json_boolean_value(json_object_get(item, "read")))
            snprintf(delivery, cap, "%s", json_string_value(json_object_get(item, "delivery_id")));
    }
    json_decref(inbox);
    return unread;
}

static void test_mark_read_elsewhere_drops_cached_inbox(void **state)
{
    (void)state;
    deliver_now("rc-5", "P1", "Read through the broker");
    assert_true(eventually_contains(port1, inbox_p1, tok_p1, "Read through the broker"));
    char delivery[128] = "";
    long long unread = unread_of(port1, delivery, sizeof delivery);   /* cached for a minute now */
    assert_true(unread >= 1);
    assert_true(delivery[0]);
    long long hits = h_http_metric(port1, "medrep_gateway_cache_hits_total");
    assert_int_equal(unread_of(port1, NULL, 0), unread);
    assert_true(h_http_metric(port1, "medrep_gateway_cache_hits_total") > hits);
    long long dropped = h_http_metric(port1, "medrep_gateway_cache_invalidations_total");
    /* marked read through the broker, as the CLI does: only inbox_read can tell gateway 1 */
    char *ids[] = {delivery};
    Medrep__InboxMarkReadRequest mark = MEDREP__INBOX_MARK_READ_REQUEST__INIT;
    mark.person_id = "P1";
    mark.delivery_ids = ids;
    mark.n_delivery_ids = 1;
    assert_int_equal(nt_rpc(client, "InboxMarkRead", &mark.base, &medrep__inbox_mark_read_reply__descriptor, NULL),
                     MR_OK);
    long long now = unread;
    for (int64_t end = mr_mono_ms() + 10000; mr_mono_ms() < end && now == unread; usleep(50 * 1000))
        now = unread_of(port1, NULL, 0);
    assert_int_equal(now, unread - 1);   /* well before the minute of max age */
    assert_true(h_http_metric(port1, "medrep_gateway_cache_invalidations_total") > dropped);
}

/* The id of the newest entry of north's event stream into id ("" when none). */
static void newest_event(char *id, size_t cap)
{
    char key[64];
    mr_events_stream_key(key, sizeof key, "north");
    mr_store *store = h_stack_store(&stack, 0);
    const char *argv[] = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    mr_val *v = mr_store_cmdv(store, 6, argv, NULL);
    size_t len = 0;
    const char *text = mr_val_count(v) > 0 ? mr_val_str(mr_val_at(mr_val_at(v, 0), 0), &len) : NULL;
    snprintf(id, cap, "%.*s", text ? (int)len : 0, text ? text : "");
    mr_val_free(&v);
    mr_store_free(&store);
}

static void test_broker_restart_drops_cache(void **state)
{
    (void)state;
    char body[8192];
    assert_int_equal(get(port1, inbox_p1, tok_p1, body, sizeof body), 200);
    long long hits = h_http_metric(port1, "medrep_gateway_cache_hits_total");
    assert_int_equal(get(port1, inbox_p1, tok_p1, NULL, 0), 200);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_hits_total"), hits + 1);   /* cached */
    long long clears = h_http_metric(port1, "medrep_gateway_cache_clears_total");
    /* due in a moment: notify delivers it (straight into Redis) while the broker is down */
    char before[64], now[64];
    deliver_at("rc-lost", "P1", "Delivered while the feed was down", mr_now_ms() + 500);
    newest_event(before, sizeof before);
    h_proc_kill(&stack.broker, SIGKILL);
    int64_t end = mr_mono_ms() + 10000;
    do {
        usleep(50 * 1000);
        newest_event(now, sizeof now);
    } while (strcmp(now, before) == 0 && mr_mono_ms() < end);
    assert_string_not_equal(now, before);   /* reminder_delivered is in the stream, never on the feed */
    assert_int_equal(h_stack_restart_broker(&stack), 0);
    assert_int_equal(h_stack_wait_workers(&stack, "notify", 1, 10000), 0);
    /* seen within seconds, not after the minute of max age */
    assert_true(eventually_contains(port1, inbox_p1, tok_p1, "Delivered while the feed was down"));
    assert_true(h_http_metric(port1, "medrep_gateway_cache_clears_total") > clears);
    assert_true(feed_trusted_is(port1, 1));
    /* and caching resumes */
    assert_int_equal(get(port1, inbox_p1, tok_p1, NULL, 0), 200);
    hits = h_http_metric(port1, "medrep_gateway_cache_hits_total");
    assert_int_equal(get(port1, inbox_p1, tok_p1, NULL, 0), 200);
    assert_int_equal(h_http_metric(port1, "medrep_gateway_cache_hits_total"), hits + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_drops_cached_inbox),
        cmocka_unit_test(test_write_visible_at_once),
        cmocka_unit_test(test_access_before_cache),
        cmocka_unit_test(test_unheard_feed_passes_through),
        cmocka_unit_test(test_heartbeat_keeps_cache_alive),
        cmocka_unit_test(test_max_age_settings),
        cmocka_unit_test(test_key_has_the_query),
        cmocka_unit_test(test_regrade_drops_the_reps_grades),
        cmocka_unit_test(test_mark_read_elsewhere_drops_cached_inbox),
        cmocka_unit_test(test_broker_restart_drops_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
