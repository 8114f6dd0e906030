/* test_gateway_cache.c: the gateway's read cache core (cache.c): keys,
 * max age, invalidation by tag and by group, answers overtaken by an
 * invalidation, the LRU bound, events mapped to entries through the
 * route table's .cache_events (single events and batches of reminders
 * delivered, through a dotted path into their items), and the published
 * table's cache rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"

static const gw_cache_tag inbox_p1 = {"inbox", "north", "P1"};
static const gw_cache_tag inbox_p2 = {"inbox", "north", "P2"};
static const gw_cache_tag inbox_p1_south = {"inbox", "south", "P1"};
static const gw_cache_tag plan_r1 = {"plan", "north", "R1"};

static bool put(gw_cache *c, const char *key, const gw_cache_tag *tag, int64_t now, int max_age,
                const char *body)
{
    return gw_cache_put(c, key, tag, gw_cache_epoch(c), now, max_age, body, strlen(body), NULL);
}

/* The cached body of key at now, or NULL (freed at the next call; c NULL just frees). */
static const char *get(gw_cache *c, const char *key, int64_t now)
{
    static char *last;
    free(last);
    last = NULL;
    if (!c)   /* only frees the last answer */
        return NULL;
    size_t len;
    const char *type;
    return gw_cache_get(c, key, now, &last, &len, &type) == 1 ? last : NULL;
}

static void keys_and_max_age(void **state)
{
    (void)state;
    gw_cache *c = gw_cache_new(100, 1000);
    assert_null(get(c, "k?a=1", 0));
    assert_true(put(c, "k?a=1", &inbox_p1, 1000, 500, "one"));
    assert_true(put(c, "k?a=2", &inbox_p1, 1000, 500, "two"));
    assert_string_equal(get(c, "k?a=1", 1000), "one");
    assert_string_equal(get(c, "k?a=2", 1499), "two");
    assert_null(get(c, "k?a=1", 1500));   /* expired at its max age */
    assert_true(put(c, "k?a=2", &inbox_p1, 1600, 500, "newer"));
    assert_string_equal(get(c, "k?a=2", 1600), "newer");
    assert_false(put(c, "big", &inbox_p1, 0, 500, "x"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789012345678901234567890123456789"));
    assert_false(put(c, "off", &inbox_p1, 0, 0, "max age 0: not kept"));
    gw_cache_stats st;
    gw_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);   /* k?a=1 expired */
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.hits, 3);
    gw_cache_free(&c);
    assert_null(c);
}

static void invalidation_by_tag_and_group(void **state)
{
    (void)state;
    gw_cache *c = gw_cache_new(100, 1000);
    put(c, "a", &inbox_p1, 0, 1000, "a");
    put(c, "b", &inbox_p1, 0, 1000, "b");
    put(c, "c", &inbox_p2, 0, 1000, "c");
    put(c, "d", &inbox_p1_south, 0, 1000, "d");
    put(c, "e", &plan_r1, 0, 1000, "e");
    assert_int_equal(gw_cache_invalidate(c, "inbox", "north", "P1"), 2);
    assert_null(get(c, "a", 1));
    assert_null(get(c, "b", 1));
    assert_non_null(get(c, "c", 1));
    assert_non_null(get(c, "d", 1));
    assert_int_equal(gw_cache_invalidate(c, "inbox", "north", NULL), 1);   /* the group in the region */
    assert_null(get(c, "c", 1));
    assert_non_null(get(c, "d", 1));
    assert_non_null(get(c, "e", 1));
    gw_cache_stats st;
    gw_cache_stats_get(c, &st);
    assert_int_equal(st.invalidated, 3);
    assert_int_equal(st.entries, 2);
    gw_cache_free(&c);
}

static void overtaken_answers_are_not_kept(void **state)
{
    (void)state;
    gw_cache *c = gw_cache_new(100, 1000);
    uint64_t before = gw_cache_epoch(c);   /* a read is sent */
    gw_cache_invalidate(c, "inbox", "north", "P1");   /* a change lands meanwhile */
    assert_false(gw_cache_put(c, "a", &inbox_p1, before, 0, 1000, "old", 3, NULL));
    assert_null(get(c, "a", 0));
    /* an invalidation of someone else does not hold the answer back */
    assert_true(gw_cache_put(c, "b", &inbox_p2, before, 0, 1000, "fine", 4, NULL));
    uint64_t later = gw_cache_epoch(c);
    gw_cache_invalidate(c, "inbox", "north", NULL);   /* group-wide overtakes everyone */
    assert_false(gw_cache_put(c, "c", &inbox_p2, later, 0, 1000, "old", 3, NULL));
    /* too many invalidations since the read to tell: refused */
    uint64_t long_ago = gw_cache_epoch(c);
    for (int i = 0; i < 300; i++)
        gw_cache_invalidate(c, "plan", "north", "R9");
    assert_false(gw_cache_put(c, "d", &inbox_p2, long_ago, 0, 1000, "old", 3, NULL));
    gw_cache_stats st;
    gw_cache_stats_get(c, &st);
    assert_int_equal(st.refused, 3);
    gw_cache_free(&c);
}

static void least_recently_used_goes_first(void **state)
{
    (void)state;
    gw_cache *c = gw_cache_new(2, 1000);
    put(c, "a", &inbox_p1, 0, 1000, "a");
    put(c, "b", &inbox_p2, 0, 1000, "b");
    assert_non_null(get(c, "a", 1));   /* a is now the most recent */
    put(c, "c", &plan_r1, 0, 1000, "c");
    assert_null(get(c, "b", 2));
    assert_non_null(get(c, "a", 2));
    assert_non_null(get(c, "c", 2));
    gw_cache_stats st;
    gw_cache_stats_get(c, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.entries, 2);
    gw_cache_free(&c);
}

static const gw_route routes[] = {
    {.http_method = "GET", .pattern = "/inbox", .cache = "inbox", .cache_events = "reminder_delivered:recipient_id"},
    {.http_method = "GET", .pattern = "/plan", .cache = "plan",
     .cache_events = "call_planned:rep_id,call_cancelled:*"},
    {.http_method = "GET", .pattern = "/uncached", .cache_events = "call_planned:rep_id"},
};

static void events_drop_their_entries(void **state)
{
    (void)state;
    gw_cache *c = gw_cache_new(100, 1000);
    put(c, "i1", &inbox_p1, 0, 1000, "i1");
    put(c, "i2", &inbox_p2, 0, 1000, "i2");
    put(c, "p1", &plan_r1, 0, 1000, "p1");
    gw_cache_tag plan_r2 = {"plan", "north", "R2"};
    put(c, "p2", &plan_r2, 0, 1000, "p2");

    Medrep__ReminderDelivered rd = MEDREP__REMINDER_DELIVERED__INIT;
    rd.recipient_id = "P1";
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    ev.reminder_delivered = &rd;
    assert_int_equal(gw_cache_apply_event(c, routes, 3, &ev), 1);
    assert_null(get(c, "i1", 1));
    assert_non_null(get(c, "i2", 1));

    ev.region = "south";   /* another region's event drops nothing here */
    rd.recipient_id = "P2";
    assert_int_equal(gw_cache_apply_event(c, routes, 3, &ev), 0);
    assert_non_null(get(c, "i2", 1));

    Medrep__CallPlanned cp = MEDREP__CALL_PLANNED__INIT;
    cp.rep_id = "R1";
    ev = (Medrep__Event)MEDREP__EVENT__INIT;
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_CALL_PLANNED;
    ev.call_planned = &cp;
    assert_int_equal(gw_cache_apply_event(c, routes, 3, &ev), 1);
    assert_null(get(c, "p1", 1));
    assert_non_null(get(c, "p2", 1));

    Medrep__CallCancelled cc = MEDREP__CALL_CANCELLED__INIT;
    cc.rep_id = "R7";   /* "*": the whole group in the region */
    ev = (Medrep__Event)MEDREP__EVENT__INIT;
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_CALL_CANCELLED;
    ev.call_cancelled = &cc;
    assert_int_equal(gw_cache_apply_event(c, routes, 3, &ev), 1);
    assert_null(get(c, "p2", 1));
    assert_non_null(get(c, "i2", 1));

    Medrep__CustomerRegraded cr = MEDREP__CUSTOMER_REGRADED__INIT;   /* no route names it */
    ev = (Medrep__Event)MEDREP__EVENT__INIT;
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &cr;
    assert_int_equal(gw_cache_apply_event(c, routes, 3, &ev), 0);
    assert_non_null(get(c, "i2", 1));
    gw_cache_free(&c);
}

static const gw_route batch_routes[] = {
    {.http_method = "GET", .pattern = "/inbox", .cache = "inbox",
     .cache_events = "reminder_delivered:recipient_id,reminders_delivered:deliveries.recipient_id"},
    {.http_method = "GET", .pattern = "/plan", .cache = "plan", .cache_events = "call_planned:rep_id"},
};

/* A reminders_delivered event of region north with one item per
 * recipient (NULL: an item without recipient_id). */
typedef struct {
    Medrep__ReminderDelivered items[4];
    Medrep__ReminderDelivered *ptrs[4];
    Medrep__RemindersDelivered batch;
    Medrep__Event ev;
} batch_event;

static void batch_init(batch_event *b, size_t n, const char *const *recipients)
{
    b->batch = (Medrep__RemindersDelivered)MEDREP__REMINDERS_DELIVERED__INIT;
    for (size_t i = 0; i < n; i++) {
        b->items[i] = (Medrep__ReminderDelivered)MEDREP__REMINDER_DELIVERED__INIT;
        b->items[i].recipient_id = (char *)recipients[i];
        b->items[i].channel = "inbox";
        b->ptrs[i] = &b->items[i];
    }
    b->batch.n_deliveries = n;
    b->batch.deliveries = b->ptrs;
    b->ev = (Medrep__Event)MEDREP__EVENT__INIT;
    b->ev.region = "north";
    b->ev.body_case = MEDREP__EVENT__BODY_REMINDERS_DELIVERED;
    b->ev.reminders_delivered = &b->batch;
}

/* Inbox entries of P1, P2, P3 (north), P1 (south) and a plan entry. */
static gw_cache *batch_cache(void)
{
    gw_cache *c = gw_cache_new(100, 1000);
    static const gw_cache_tag inbox_p3 = {"inbox", "north", "P3"};
    put(c, "i1", &inbox_p1, 0, 1000, "i1");
    put(c, "i1b", &inbox_p1, 0, 1000, "i1b");
    put(c, "i2", &inbox_p2, 0, 1000, "i2");
    put(c, "i3", &inbox_p3, 0, 1000, "i3");
    put(c, "s1", &inbox_p1_south, 0, 1000, "s1");
    put(c, "p1", &plan_r1, 0, 1000, "p1");
    return c;
}

static void batch_event_drops_each_recipients_inbox(void **state)
{
    (void)state;
    gw_cache *c = batch_cache();
    uint64_t before = gw_cache_epoch(c);   /* a read of P3 sent before the batch */
    batch_event b;
    batch_init(&b, 3, (const char *const[]){"P1", "P2", "P1"});
    assert_int_equal(gw_cache_apply_event(c, batch_routes, 2, &b.ev), 3);
    assert_null(get(c, "i1", 1));
    assert_null(get(c, "i1b", 1));
    assert_null(get(c, "i2", 1));
    assert_non_null(get(c, "i3", 1));   /* nobody else's */
    assert_non_null(get(c, "s1", 1));   /* nor another region's */
    assert_non_null(get(c, "p1", 1));
    /* a batch is one group-wide note: an answer computed meanwhile is not kept */
    static const gw_cache_tag inbox_p4 = {"inbox", "north", "P4"};
    assert_false(gw_cache_put(c, "i4", &inbox_p4, before, 2, 1000, "old", 3, NULL));
    assert_true(gw_cache_put(c, "i4", &inbox_p4, gw_cache_epoch(c), 2, 1000, "new", 3, NULL));
    gw_cache_stats st;
    gw_cache_stats_get(c, &st);
    assert_int_equal(st.invalidated, 3);
    gw_cache_free(&c);
}

static void batch_item_without_recipient_drops_the_group(void **state)
{
    (void)state;
    gw_cache *c = batch_cache();
    batch_event b;
    batch_init(&b, 2, (const char *const[]){"P1", NULL});
    assert_int_equal(gw_cache_apply_event(c, batch_routes, 2, &b.ev), 4);
    assert_null(get(c, "i2", 1));
    assert_null(get(c, "i3", 1));
    assert_non_null(get(c, "s1", 1));
    assert_non_null(get(c, "p1", 1));
    gw_cache_free(&c);

    c = batch_cache();
    batch_init(&b, 1, (const char *const[]){""});   /* an empty id is no id */
    assert_int_equal(gw_cache_apply_event(c, batch_routes, 2, &b.ev), 4);
    gw_cache_free(&c);

    c = batch_cache();
    b.ev.reminders_delivered = NULL;   /* a body-less batch names nobody: the group goes */
    assert_int_equal(gw_cache_apply_event(c, batch_routes, 2, &b.ev), 4);
    gw_cache_free(&c);
}

static void empty_batch_drops_nothing(void **state)
{
    (void)state;
    gw_cache *c = batch_cache();
    uint64_t before = gw_cache_epoch(c);
    batch_event b;
    batch_init(&b, 0, NULL);
    assert_int_equal(gw_cache_apply_event(c, batch_routes, 2, &b.ev), 0);
    assert_non_null(get(c, "i1", 1));
    assert_int_equal(gw_cache_epoch(c), before);   /* no invalidation noted */
    gw_cache_free(&c);
}

/* The published table: the inbox route follows both kinds of delivery events. */
static void published_inbox_route_follows_batches(void **state)
{
    (void)state;
    gw_cache *c = batch_cache();
    batch_event b;
    batch_init(&b, 2, (const char *const[]){"P2", "P3"});
    assert_int_equal(gw_cache_apply_event(c, gw_routes, gw_route_count, &b.ev), 2);
    assert_non_null(get(c, "i1", 1));
    assert_null(get(c, "i2", 1));
    assert_null(get(c, "i3", 1));
    assert_non_null(get(c, "p1", 1));
    gw_cache_free(&c);
}

/* The path syntax is general: a repeated string field names one id per value. */
static void repeated_string_field_names_each_value(void **state)
{
    (void)state;
    static const gw_route invitees[] = {
        {.http_method = "GET", .pattern = "/inbox", .cache = "inbox",
         .cache_events = "meeting_changed:invitee_ids"},
    };
    const char *item = "meeting_changed:invitee_ids";
    assert_true(gw_cache_event_item_valid(item, strlen(item)));
    gw_cache *c = batch_cache();
    char *ids[] = {"P2", "P3"};
    Medrep__MeetingChanged mc = MEDREP__MEETING_CHANGED__INIT;
    mc.n_invitee_ids = 2;
    mc.invitee_ids = ids;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &mc;
    assert_int_equal(gw_cache_apply_event(c, invitees, 1, &ev), 2);
    assert_non_null(get(c, "i1", 1));
    assert_null(get(c, "i2", 1));
    assert_null(get(c, "i3", 1));
    gw_cache_free(&c);
}

static void groups_of_a_list(const char *group, size_t len, void *arg)
{
    char *out = arg;
    strncat(out, group, len);
    strcat(out, "|");
}

static void drop_lists(void **state)
{
    (void)state;
    char out[64] = "";
    gw_cache_each_group("inbox,plan", groups_of_a_list, out);
    assert_string_equal(out, "inbox|plan|");
}

/* Checks one "type:path" item of a route's .cache_events against the
 * event descriptors (gw_cache_event_item_valid). */
static void check_event_item(const char *item, size_t len, void *arg)
{
    (void)arg;
    if (!gw_cache_event_item_valid(item, len))
        fail_msg("cache event item '%.*s' names no string field of an event body", (int)len, item);
}

static bool item_valid(const char *item)
{
    return gw_cache_event_item_valid(item, strlen(item));
}

static void event_items_are_checked_against_descriptors(void **state)
{
    (void)state;
    assert_true(item_valid("reminder_delivered:recipient_id"));
    assert_true(item_valid("reminders_delivered:deliveries.recipient_id"));
    assert_true(item_valid("call_cancelled:*"));
    assert_false(item_valid("reminders_delivered:deliveries"));          /* a message, not a string */
    assert_false(item_valid("reminders_delivered:deliveries.nobody"));
    assert_false(item_valid("reminders_delivered:deliveries."));
    assert_false(item_valid("reminder_delivered:recipient_id.more"));   /* through a string */
    assert_false(item_valid("inbox_read:count"));                        /* not a string */
    assert_false(item_valid("no_such_event:id"));
    assert_false(item_valid("region:*"));                                /* an envelope field, not a body */
    assert_false(item_valid("reminder_delivered"));
    assert_false(item_valid(":recipient_id"));
}

static void group_is_cached_somewhere(const char *group, size_t len, void *arg)
{
    (void)arg;
    bool found = false;
    for (size_t i = 0; i < gw_route_count; i++)
        found = found || (gw_routes[i].cache && strlen(gw_routes[i].cache) == len &&
                          memcmp(gw_routes[i].cache, group, len) == 0);
    if (!found)
        fail_msg("no route caches group '%.*s'", (int)len, group);
}

/* The published table: cacheable routes are GET routes whose events name
 * real event types and fields; every dropped group is cached by a route. */
static void route_table_cache_rows_are_sound(void **state)
{
    (void)state;
    int cached = 0;
    for (size_t i = 0; i < gw_route_count; i++) {
        const gw_route *r = &gw_routes[i];
        if (r->cache) {
            cached++;
            assert_string_equal(r->http_method, "GET");
            assert_null(r->text_field);
            assert_true(strlen(r->cache) < 32);
            assert_non_null(r->cache_events);
            gw_cache_each_group(r->cache_events, check_event_item, NULL);
        }
        if (r->cache_drops) {
            assert_string_equal(r->http_method, "POST");
            gw_cache_each_group(r->cache_drops, group_is_cached_somewhere, NULL);
        }
    }
    assert_true(cached >= 3);   /* inbox, plan, grades */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_and_max_age),
        cmocka_unit_test(invalidation_by_tag_and_group),
        cmocka_unit_test(overtaken_answers_are_not_kept),
        cmocka_unit_test(least_recently_used_goes_first),
        cmocka_unit_test(events_drop_their_entries),
        cmocka_unit_test(batch_event_drops_each_recipients_inbox),
        cmocka_unit_test(batch_item_without_recipient_drops_the_group),
        cmocka_unit_test(empty_batch_drops_nothing),
        cmocka_unit_test(published_inbox_route_follows_batches),
        cmocka_unit_test(repeated_string_field_names_each_value),
        cmocka_unit_test(drop_lists),
        cmocka_unit_test(event_items_are_checked_against_descriptors),
        cmocka_unit_test(route_table_cache_rows_are_sound),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    get(NULL, NULL, 0);
    return failed;
}
