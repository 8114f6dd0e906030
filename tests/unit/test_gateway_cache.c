/* test_gateway_cache.c: the gateway's read cache core (cache.c): keys,
 * max age, invalidation by tag and by group, answers overtaken by an
 * invalidation, the LRU bound, events mapped to entries through the
 * route table's .cache_events, and the published table's cache rows. */
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

/* Checks one "type:field" item of a route's .cache_events against the
 * event descriptors: the type is a body of medrep.Event, the field one of
 * its string fields (or "*"). */
static void check_event_item(const char *item, size_t len, void *arg)
{
    (void)arg;
    char text[128], *colon;
    snprintf(text, sizeof text, "%.*s", (int)len, item);
    colon = strchr(text, ':');
    assert_non_null(colon);
    *colon = '\0';
    const ProtobufCFieldDescriptor *body =
        protobuf_c_message_descriptor_get_field_by_name(&medrep__event__descriptor, text);
    if (!body)
        fail_msg("no event type '%s'", text);
    assert_int_equal(body->type, PROTOBUF_C_TYPE_MESSAGE);
    if (strcmp(colon + 1, "*") == 0)
        return;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
        (const ProtobufCMessageDescriptor *)body->descriptor, colon + 1);
    if (!f || f->type != PROTOBUF_C_TYPE_STRING)
        fail_msg("event type '%s' has no string field '%s'", text, colon + 1);
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
        cmocka_unit_test(drop_lists),
        cmocka_unit_test(route_table_cache_rows_are_sound),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    get(NULL, NULL, 0);
    return failed;
}
