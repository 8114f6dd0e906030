/* test_gateway_batch_events.c: batches of reminders delivered (one
 * reminders_delivered event for many deliveries, as notify's mover writes
 * them) reach the gateway's read cache and its changes feed, on a real
 * stack (redis, broker with its live feed, notify, gateway). The batch is
 * written straight into the region's event stream (XADD, as
 * common/events.c stages events), so the test does not depend on which
 * notify path produces batches:
 *   - /changes shows each item of a batch as a reminder_delivered change
 *     of its own, with the batch's envelope and cursor, only to the item's
 *     recipient (a rep sees their items, an admin all, a third rep none);
 *   - a batch drops the cached inboxes of its recipients and nobody
 *     else's: after it, with notify stopped, the recipients' inboxes can
 *     no longer be answered (not cached any more) while a third person's
 *     still comes from the cache. */
// ctest-label: integration
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "events.h"
#include "http.h"
#include "stack.h"

static h_stack stack;
static int port, notify_proc;
static char tok_p1[96], tok_p2[96], tok_p3[96], tok_admin[96];

static int setup(void **state)
{
    (void)state;
    port = h_free_port();
    char extra[512];
    snprintf(extra, sizeof extra,
             "[gateway]\nport = %d\nthreads = 2\nauth_region = north\ntoken_cache_ms = 0\ntimeout_ms = 1000\n"
             "rate_per_second = 100000\nrate_burst = 100000\nread_cache_ms = 60000\nfeed_silence_ms = 3000\n"
             "[feed]\nheartbeat_ms = 100\n",
             port);
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, extra) != 0 ||
        (notify_proc = h_stack_start_service(&stack, "notify", "notify-b1", NULL)) < 0 ||
        h_stack_start_service(&stack, "gateway", "gateway-b1", NULL) < 0 ||
        h_stack_wait_workers(&stack, "notify", 1, 10000) != 0)
        return -1;
    if (h_stack_token(&stack, "--user P1 --role rep --region north", tok_p1, sizeof tok_p1, NULL, 0) != 0 ||
        h_stack_token(&stack, "--user P2 --role rep --region north", tok_p2, sizeof tok_p2, NULL, 0) != 0 ||
        h_stack_token(&stack, "--user P3 --role rep --region north", tok_p3, sizeof tok_p3, NULL, 0) != 0 ||
        h_stack_token(&stack, "--user A1 --role region_admin --region north", tok_admin, sizeof tok_admin,
                      NULL, 0) != 0)
        return -1;
    return h_http_wait_metric(port, "medrep_gateway_cache_feed_trusted", 1, 10000) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* GET path as token: the status, and the body into body (cap bytes). */
static int get(const char *path, const char *token, char *body, size_t cap)
{
    h_http_answer a;
    int status = h_http(port, "GET", path, token, NULL, &a);
    if (body)
        snprintf(body, cap, "%s", a.body ? a.body : "");
    h_http_answer_free(&a);
    return status;
}

/* XADDs a reminders_delivered event of region north into its stream, one
 * item per recipient (delivery ids "<tag>-<i>"); the entry id into id. */
static void xadd_batch(const char *tag, size_t n, const char *const *recipients, char *id, size_t cap)
{
    Medrep__ReminderDelivered items[8], *ptrs[8];
    char delivery[8][48];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        snprintf(delivery[i], sizeof delivery[i], "%s-%zu", tag, i);
        items[i] = (Medrep__ReminderDelivered)MEDREP__REMINDER_DELIVERED__INIT;
        items[i].reminder_id = "rem-batch";
        items[i].delivery_id = delivery[i];
        items[i].recipient_id = (char *)recipients[i];
        items[i].channel = "inbox";
        ptrs[i] = &items[i];
    }
    Medrep__RemindersDelivered batch = MEDREP__REMINDERS_DELIVERED__INIT;
    batch.n_deliveries = n;
    batch.deliveries = ptrs;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.event_id = (char *)tag;
    ev.region = "north";
    ev.source = "test-batch";
    ev.request_id = "req-batch";
    ev.has_occurred_ms = true;
    ev.occurred_ms = mr_now_ms();
    ev.body_case = MEDREP__EVENT__BODY_REMINDERS_DELIVERED;
    ev.reminders_delivered = &batch;
    size_t len = medrep__event__get_packed_size(&ev);
    uint8_t *packed = malloc(len);
    assert_non_null(packed);
    medrep__event__pack(&ev, packed);
    char key[96];
    mr_events_stream_key(key, sizeof key, "north");
    const char *argv[] = {"XADD", key, "*", "type", "reminders_delivered", "ev", (const char *)packed};
    const size_t lens[] = {4, strlen(key), 1, 4, strlen("reminders_delivered"), 2, len};
    mr_store *store = h_stack_store(&stack, 0);
    mr_val *v = mr_store_cmdv(store, 7, argv, lens);
    const char *got = mr_val_str(v, NULL);
    assert_non_null(got);
    snprintf(id, cap, "%s", got);
    mr_val_free(&v);
    mr_store_free(&store);
    free(packed);
}

/* The changes of entry cursor in token's /changes since the start: how
 * many, their delivery ids joined with ',' into ids (cap bytes). Checks
 * each is a reminder_delivered with the batch's envelope and an event id
 * of its own. */
static int changes_of(const char *token, const char *cursor, char *ids, size_t cap)
{
    static char body[1 << 17];
    assert_int_equal(get("/v1/regions/north/changes?since=0", token, body, sizeof body), 200);
    json_t *feed = json_loads(body, 0, NULL);
    assert_non_null(feed);
    int n = 0;
    ids[0] = '\0';
    json_t *entry;
    size_t i;
    json_array_foreach(json_object_get(feed, "changes"), i, entry) {
        if (strcmp(json_string_value(json_object_get(entry, "cursor")), cursor) != 0)
            continue;
        assert_string_equal(json_string_value(json_object_get(entry, "type")), "reminder_delivered");
        json_t *ev = json_object_get(entry, "event");
        json_t *rd0 = json_object_get(ev, "reminder_delivered");
        char want_id[160];   /* each item has an id of its own */
        snprintf(want_id, sizeof want_id, "dlv:%s", json_string_value(json_object_get(rd0, "delivery_id")));
        assert_string_equal(json_string_value(json_object_get(ev, "event_id")), want_id);
        assert_string_equal(json_string_value(json_object_get(ev, "region")), "north");
        assert_string_equal(json_string_value(json_object_get(ev, "request_id")), "req-batch");
        assert_null(json_object_get(ev, "reminders_delivered"));
        json_t *rd = json_object_get(ev, "reminder_delivered");
        assert_string_equal(json_string_value(json_object_get(rd, "channel")), "inbox");
        size_t used = strlen(ids);
        snprintf(ids + used, cap - used, "%s%s", n ? "," : "",
                 json_string_value(json_object_get(rd, "delivery_id")));
        n++;
    }
    json_decref(feed);
    return n;
}

static void test_changes_show_each_item_to_its_recipient(void **state)
{
    (void)state;
    char cursor[64], ids[256];
    xadd_batch("batch-c", 3, (const char *const[]){"P1", "P2", "P1"}, cursor, sizeof cursor);
    assert_int_equal(changes_of(tok_p1, cursor, ids, sizeof ids), 2);
    assert_string_equal(ids, "batch-c-0,batch-c-2");
    assert_int_equal(changes_of(tok_p2, cursor, ids, sizeof ids), 1);
    assert_string_equal(ids, "batch-c-1");
    assert_int_equal(changes_of(tok_admin, cursor, ids, sizeof ids), 3);
    assert_string_equal(ids, "batch-c-0,batch-c-1,batch-c-2");
    assert_int_equal(changes_of(tok_p3, cursor, ids, sizeof ids), 0);
    /* P3 saw nothing of the entry but its cursor moves past it */
    char body[4096];
    assert_int_equal(get("/v1/regions/north/changes?since=0", tok_p3, body, sizeof body), 200);
    json_t *feed = json_loads(body, 0, NULL);
    assert_non_null(feed);
    assert_string_equal(json_string_value(json_object_get(feed, "next")), cursor);
    json_decref(feed);
}

static const char *inbox_path(int person)
{
    static char path[3][64];
    snprintf(path[person - 1], sizeof path[0], "/v1/regions/north/people/P%d/inbox", person);
    return path[person - 1];
}

/* Waits until the gateway counts at least want more invalidations than before (10 s at most). */
static bool invalidated_at_least(long long before, long long want)
{
    for (int64_t end = mr_mono_ms() + 10000; mr_mono_ms() < end; usleep(50 * 1000))
        if (h_http_metric(port, "medrep_gateway_cache_invalidations_total") - before >= want)
            return true;
    return false;
}

static void test_batch_drops_recipients_cached_inboxes(void **state)
{
    (void)state;
    const char *tokens[] = {tok_p1, tok_p2, tok_p3};
    char body[3][4096], again[4096];
    long long hits = h_http_metric(port, "medrep_gateway_cache_hits_total");
    for (int p = 1; p <= 3; p++) {   /* cached, then read from the cache */
        assert_int_equal(get(inbox_path(p), tokens[p - 1], body[p - 1], sizeof body[0]), 200);
        assert_int_equal(get(inbox_path(p), tokens[p - 1], again, sizeof again), 200);
        assert_string_equal(body[p - 1], again);
    }
    assert_true(h_http_metric(port, "medrep_gateway_cache_hits_total") - hits >= 3);

    long long dropped = h_http_metric(port, "medrep_gateway_cache_invalidations_total");
    char cursor[64];
    xadd_batch("batch-i", 3, (const char *const[]){"P1", "P2", "P1"}, cursor, sizeof cursor);
    assert_true(invalidated_at_least(dropped, 2));   /* P1's and P2's inbox entries */

    /* without notify, only a cached answer can still be 200 */
    h_proc_kill(&stack.procs[notify_proc], SIGTERM);
    assert_int_equal(get(inbox_path(3), tok_p3, again, sizeof again), 200);
    assert_string_equal(again, body[2]);
    assert_int_not_equal(get(inbox_path(1), tok_p1, NULL, 0), 200);
    assert_int_not_equal(get(inbox_path(2), tok_p2, NULL, 0), 200);
    assert_int_equal(h_http_metric(port, "medrep_gateway_cache_invalidations_total") - dropped, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_show_each_item_to_its_recipient),
        cmocka_unit_test(test_batch_drops_recipients_cached_inboxes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
