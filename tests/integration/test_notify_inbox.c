/* test_notify_inbox.c: the notify service's inbox retention and its daily
 * digest at the person's local time, through the broker on a real Redis:
 * an inbox keeps the newest [notify] inbox_max_items items (trimmed by the
 * mover soon after it delivers directly; on the generic path of a person
 * with an outside channel too), and drops items older than inbox_max_age_s; a digest set to a
 * local time of day with seconds (in a zone other than the region's)
 * fires at that instant with what it gathered; a regraded customer
 * reaching the rep's inbox; quiet hours over both daylight-saving nights. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "calls.h"
#include "notify_testlib.h"

static h_stack stack;
static mr_client *client;
static mr_store *store;

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions,
                      NT_TEST_CONFIG "[notify@region:north]\ninbox_max_items = 3\ninbox_max_age_s = 2\n") != 0 ||
        h_stack_start_service(&stack, "notify", "notify-1", NULL) < 0 ||
        h_stack_wait_workers(&stack, "notify", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 2000);
    store = h_stack_store(&stack, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

typedef struct {
    const char *person;
    long count;
} delivered_to;

static void count_person(const Medrep__ReminderDelivered *d, void *arg)
{
    delivered_to *t = arg;
    if (d->recipient_id && strcmp(d->recipient_id, t->person) == 0 && strcmp(d->channel, "inbox") == 0)
        t->count++;
}

/* Waits until want inbox deliveries to person were committed; returns the count. */
static long wait_delivered(const char *person, long want)
{
    delivered_to t = {.person = person};
    for (int64_t end = mr_mono_ms() + 10000; mr_mono_ms() < end; usleep(50 * 1000)) {
        t.count = 0;
        nt_each_delivered(store, count_person, &t);
        if (t.count >= want)
            break;
    }
    return t.count;
}

static long long redis_count(const char *cmd, const char *kind, const char *person)
{
    char key[128];
    snprintf(key, sizeof key, "{r:north}:notify:%s:%s", kind, person);
    return h_redis_int(store, cmd, key);
}

/* Waits until the person's inbox has no more than want items (the mover
 * trims what it delivered to every trim_interval_ms); returns the size. */
static long long wait_trimmed(const char *person, long long want)
{
    int64_t end = mr_mono_ms() + 10000;
    long long n;
    while ((n = nt_inbox_size(store, person)) > want && mr_mono_ms() < end)
        usleep(20 * 1000);
    return n;
}

/* Five reminders to person, 100 ms apart: the inbox keeps the newest three. */
static void check_cap(const char *person)
{
    int64_t now = mr_now_ms();
    char id[32];
    for (int i = 1; i <= 5; i++) {
        snprintf(id, sizeof id, "%s-c%d", person, i);
        assert_int_equal(nt_schedule(client, id, person, NULL, now + 100 * i, false), MR_OK);
    }
    assert_int_equal(wait_delivered(person, 5), 5);
    assert_int_equal(wait_trimmed(person, 3), 3);
    assert_int_equal(redis_count("ZCARD %s", "box", person), 3);
    assert_int_equal(redis_count("SCARD %s", "boxread", person), 0);
    Medrep__InboxListReply *inbox = nt_inbox(client, person);
    assert_non_null(inbox);
    assert_int_equal(inbox->n_items, 3);
    assert_int_equal(inbox->unread, 3);
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "%s-c%d@", person, 5 - i);    /* newest first */
        assert_int_equal(strncmp(inbox->items[i]->delivery_id, id, strlen(id)), 0);
    }
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
}

static void test_cap_inbox_only(void **state)
{
    (void)state;
    check_cap("PF");
    /* the mover trimmed it, and took PF off its list of inboxes to trim */
    assert_int_equal(h_redis_int(store, "SISMEMBER %s PF", "{r:north}:notify:inboxdirty"), 0);
}

/* A person with the inbox and a webhook takes the generic path (the
 * webhook to a loopback address is refused: a dead letter for that
 * channel); the inbox is capped the same way. */
static void test_cap_with_outside_channel(void **state)
{
    (void)state;
    Medrep__ChannelChoice all = MEDREP__CHANNEL_CHOICE__INIT;
    char *both[] = {"inbox", "webhook"};
    all.kind = "*";
    all.channels = both;
    all.n_channels = 2;
    Medrep__ChannelChoice *choices[] = {&all};
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "PG";
    pref.channels = choices;
    pref.n_channels = 1;
    pref.webhook_url = "http://127.0.0.1:9/hook";
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_OK);
    check_cap("PG");
    assert_true(h_redis_int(store, "XLEN %s", "{r:north}:notify:dead") >= 5);
}

/* An item older than inbox_max_age_s goes once the person's inbox is
 * trimmed after the next delivery, and its read mark with it (the unread
 * count stays right). */
static void test_age(void **state)
{
    (void)state;
    int64_t now = mr_now_ms();
    assert_int_equal(nt_schedule(client, "age1", "PA", NULL, now + 100, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "PA", 1, 10000), 1);
    /* read before it ages out: its read mark must go with it */
    Medrep__InboxListReply *first = nt_inbox(client, "PA");
    assert_non_null(first);
    assert_int_equal(first->n_items, 1);
    char *ids[] = {first->items[0]->delivery_id};
    Medrep__InboxMarkReadRequest mark = MEDREP__INBOX_MARK_READ_REQUEST__INIT;
    mark.person_id = "PA";
    mark.delivery_ids = ids;
    mark.n_delivery_ids = 1;
    assert_int_equal(nt_rpc(client, "InboxMarkRead", &mark.base, &medrep__inbox_mark_read_reply__descriptor, NULL),
                     MR_OK);
    medrep__inbox_list_reply__free_unpacked(first, NULL);
    assert_int_equal(redis_count("SCARD %s", "boxread", "PA"), 1);
    usleep(2600 * 1000);
    assert_int_equal(nt_schedule(client, "age2", "PA", NULL, mr_now_ms() + 100, false), MR_OK);
    assert_int_equal(wait_delivered("PA", 2), 2);
    assert_int_equal(wait_trimmed("PA", 1), 1);
    Medrep__InboxListReply *inbox = nt_inbox(client, "PA");
    assert_non_null(inbox);
    assert_int_equal(inbox->n_items, 1);
    assert_int_equal(strncmp(inbox->items[0]->delivery_id, "age2@", 5), 0);
    assert_int_equal(inbox->unread, 1);
    assert_int_equal(redis_count("ZCARD %s", "box", "PA"), 1);
    assert_int_equal(redis_count("SCARD %s", "boxread", "PA"), 0);
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
}

/* The digest set to a local time a few seconds ahead, in Asia/Kolkata
 * (UTC+05:30, the region is UTC): non-urgent reminders are gathered, and
 * the digest fires at that instant with both, not before. */
static void test_digest_at_local_time(void **state)
{
    (void)state;
    mr_tz *tz = mr_tz_load("Asia/Kolkata");
    assert_non_null(tz);
    int64_t target_s = mr_now_ms() / 1000 + 3;
    mr_local_time lt;
    mr_tz_to_local(tz, target_s, &lt);
    mr_tz_free(&tz);
    char at[16];
    snprintf(at, sizeof at, "%02d:%02d:%02d", lt.hour, lt.minute, lt.second);
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "PD";
    pref.timezone = "Asia/Kolkata";
    pref.digest = at;
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_OK);
    int64_t now = mr_now_ms();
    assert_int_equal(nt_schedule(client, "d1", "PD", NULL, now + 100, false), MR_OK);
    assert_int_equal(nt_schedule(client, "d2", "PD", NULL, now + 200, false), MR_OK);
    int64_t end = mr_mono_ms() + 10000;
    while (redis_count("HLEN %s", "digest", "PD") < 2 && mr_mono_ms() < end)
        usleep(20 * 1000);
    assert_int_equal(redis_count("HLEN %s", "digest", "PD"), 2);
    assert_int_equal(nt_inbox_size(store, "PD"), 0);             /* waiting for the digest */
    assert_int_equal(nt_wait_inbox(store, "PD", 1, 10000), 1);
    Medrep__InboxListReply *inbox = nt_inbox(client, "PD");
    assert_non_null(inbox);
    assert_int_equal(inbox->n_items, 1);
    assert_string_equal(inbox->items[0]->kind, "digest");
    assert_string_equal(inbox->items[0]->title, "Daily digest: 2 reminder(s)");
    assert_int_equal(inbox->items[0]->due_ms, target_s * 1000);  /* the local HH:MM:SS */
    assert_true(inbox->items[0]->delivered_ms >= target_s * 1000);
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
    assert_int_equal(redis_count("HLEN %s", "digest", "PD"), 0);
}

/* A customer's segment changed: the rep is told (the built-in rule, on
 * in this region). */
static void test_grade_changed(void **state)
{
    (void)state;
    Medrep__CustomerRegraded g = MEDREP__CUSTOMER_REGRADED__INIT;
    g.customer_id = "K1", g.product_id = "P1", g.old_segment = "C", g.new_segment = "A", g.rep_id = "PR";
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &g;
    assert_int_equal(nt_emit(store, &ev), 0);
    assert_int_equal(nt_wait_inbox(store, "PR", 1, 10000), 1);
    Medrep__InboxListReply *inbox = nt_inbox(client, "PR");
    assert_non_null(inbox);
    assert_string_equal(inbox->items[0]->kind, "grade_changed");
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
}

static int64_t utc(int y, int m, int d, int h, int mi)
{
    return ((int64_t)mr_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

/* The due time stored for reminder id of person. */
static int64_t stored_due(const char *person, const char *id)
{
    Medrep__ListRemindersReply *r = nt_pending(client, person);
    assert_non_null(r);
    int64_t due = -1;
    for (size_t i = 0; i < r->n_reminders; i++)
        if (strcmp(r->reminders[i]->reminder_id, id) == 0)
            due = r->reminders[i]->due_ms;
    medrep__list_reminders_reply__free_unpacked(r, NULL);
    return due;
}

/* Daylight-saving nights in Europe/Berlin with quiet hours 22:00-07:00:
 * a reminder due in the night of the spring change (2027-03-28, 02:00
 * CET -> 03:00 CEST) waits until 07:00 CEST = 05:00 UTC; in the autumn
 * night (2027-10-31, 03:00 CEST -> 02:00 CET) one due at the first 02:30
 * waits until 07:00 CET = 06:00 UTC; urgent ones do not wait. */
static void test_dst_nights(void **state)
{
    (void)state;
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "PB";
    pref.timezone = "Europe/Berlin";
    pref.quiet_hours = "22:00-07:00";
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_OK);
    assert_int_equal(nt_schedule(client, "spring", "PB", NULL, utc(2027, 3, 28, 1, 30), false), MR_OK);
    assert_int_equal(nt_schedule(client, "autumn", "PB", NULL, utc(2027, 10, 31, 0, 30), false), MR_OK);
    assert_int_equal(nt_schedule(client, "urgent", "PB", NULL, utc(2027, 3, 28, 1, 30), true), MR_OK);
    assert_int_equal(nt_schedule(client, "evening", "PB", NULL, utc(2027, 3, 27, 20, 59), false), MR_OK);
    assert_int_equal(stored_due("PB", "spring"), utc(2027, 3, 28, 5, 0));
    assert_int_equal(stored_due("PB", "autumn"), utc(2027, 10, 31, 6, 0));
    assert_int_equal(stored_due("PB", "urgent"), utc(2027, 3, 28, 1, 30));
    assert_int_equal(stored_due("PB", "evening"), utc(2027, 3, 27, 20, 59));   /* 21:59 CET: not yet quiet */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_inbox_only),
        cmocka_unit_test(test_cap_with_outside_channel),
        cmocka_unit_test(test_digest_at_local_time),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_grade_changed),
        cmocka_unit_test(test_dst_nights),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
