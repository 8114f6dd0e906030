/* test_notify_timers.c: the notify service through the broker on a real
 * Redis: a scheduled reminder reaches the inbox at its time with its
 * delivery id; unread count and mark read; cancel and move (by subject
 * and by id); quiet hours defer, urgent does not; two instances with
 * clocks skewed by minutes neither fire early nor twice; a daily digest
 * gathers non-urgent reminders into one message; a reminder whose
 * channel cannot deliver goes to the dead-letter stream with its reason;
 * bad input is refused and changes nothing. */
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
    if (h_stack_start(&stack, 1, regions, NT_TEST_CONFIG) != 0)
        return -1;
    const char *skew_ahead[] = {"MEDREP__NOTIFY__CLOCK_SKEW_MS=300000", NULL};
    const char *skew_behind[] = {"MEDREP__NOTIFY__CLOCK_SKEW_MS=-300000", NULL};
    if (h_stack_start_service(&stack, "notify", "notify-a", skew_ahead) < 0 ||
        h_stack_start_service(&stack, "notify", "notify-b", skew_behind) < 0 ||
        h_stack_wait_workers(&stack, "notify", 2, 10000) != 0)
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
    for (int i = 0; i < stack.proc_count; i++)
        if (h_proc_alive(&stack.procs[i]) == false)
            h_proc_dump_log(&stack.procs[i], 30);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static void test_delivery_and_inbox(void **state)
{
    (void)state;
    int64_t now = mr_now_ms();
    assert_int_equal(nt_schedule(client, "t1", "P1", NULL, now + 300, false), MR_OK);
    assert_int_equal(nt_schedule(client, "t2", "P1", NULL, now + 600, false), MR_OK);
    assert_int_equal(nt_schedule(client, "t3", "P1", NULL, now + 3600000, false), MR_OK);
    assert_int_equal(nt_pending_count(client, "P1"), 3);
    assert_int_equal(nt_wait_inbox(store, "P1", 2, 10000), 2);
    Medrep__InboxListReply *inbox = nt_inbox(client, "P1");
    assert_non_null(inbox);
    assert_int_equal(inbox->n_items, 2);
    assert_int_equal(inbox->unread, 2);
    char want[64];
    snprintf(want, sizeof want, "t2@%lld", (long long)(now + 600));
    assert_string_equal(inbox->items[0]->delivery_id, want);   /* newest first */
    assert_string_equal(inbox->items[0]->title, "test reminder");
    assert_int_equal(inbox->items[0]->due_ms, now + 600);
    assert_true(inbox->items[0]->delivered_ms >= now + 600);   /* never early */
    assert_false(inbox->items[0]->read);
    Medrep__InboxMarkReadRequest mark = MEDREP__INBOX_MARK_READ_REQUEST__INIT;
    char *ids[] = {inbox->items[0]->delivery_id, inbox->items[0]->delivery_id};
    mark.person_id = "P1";
    mark.delivery_ids = ids;
    mark.n_delivery_ids = 2;
    ProtobufCMessage *out = NULL;
    assert_int_equal(nt_rpc(client, "InboxMarkRead", &mark.base, &medrep__inbox_mark_read_reply__descriptor, &out), MR_OK);
    assert_int_equal(((Medrep__InboxMarkReadReply *)out)->unread, 1);
    protobuf_c_message_free_unpacked(out, NULL);
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
    inbox = nt_inbox(client, "P1");
    assert_int_equal(inbox->unread, 1);
    assert_true(inbox->items[0]->read);
    assert_false(inbox->items[1]->read);
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
    assert_int_equal(nt_pending_count(client, "P1"), 1);       /* t3 still waits */
}

static void test_cancel_and_move(void **state)
{
    (void)state;
    int64_t now = mr_now_ms();
    assert_int_equal(nt_schedule(client, "c1", "P2", "meeting:M1", now + 800, false), MR_OK);
    assert_int_equal(nt_schedule(client, "c2", "P2", "meeting:M1", now + 900, false), MR_OK);
    assert_int_equal(nt_schedule(client, "c3", "P2", "meeting:M2", now + 3600000, false), MR_OK);
    assert_int_equal(nt_schedule(client, "c4", "P2", NULL, now + 3600000, false), MR_OK);
    Medrep__CancelRemindersRequest cancel = MEDREP__CANCEL_REMINDERS_REQUEST__INIT;
    cancel.subject_id = "meeting:M1";
    ProtobufCMessage *out = NULL;
    assert_int_equal(nt_rpc(client, "CancelReminders", &cancel.base, &medrep__cancel_reminders_reply__descriptor, &out), MR_OK);
    assert_int_equal(((Medrep__CancelRemindersReply *)out)->cancelled, 2);
    protobuf_c_message_free_unpacked(out, NULL);

    /* move M2 by subject from an hour ahead to 500 ms ahead, c4 by id */
    Medrep__MoveRemindersRequest move = MEDREP__MOVE_REMINDERS_REQUEST__INIT;
    move.subject_id = "meeting:M2";
    move.has_delta_ms = true;
    move.delta_ms = -3600000 + 500;
    assert_int_equal(nt_rpc(client, "MoveReminders", &move.base, &medrep__move_reminders_reply__descriptor, &out), MR_OK);
    assert_int_equal(((Medrep__MoveRemindersReply *)out)->moved, 1);
    protobuf_c_message_free_unpacked(out, NULL);
    Medrep__MoveRemindersRequest move1 = MEDREP__MOVE_REMINDERS_REQUEST__INIT;
    move1.reminder_id = "c4";
    move1.has_due_ms = true;
    move1.due_ms = now + 700;
    assert_int_equal(nt_rpc(client, "MoveReminders", &move1.base, &medrep__move_reminders_reply__descriptor, NULL), MR_OK);

    assert_int_equal(nt_wait_inbox(store, "P2", 2, 10000), 2);
    usleep(1200 * 1000);   /* the cancelled ones would have fired by now */
    Medrep__InboxListReply *inbox = nt_inbox(client, "P2");
    assert_int_equal(inbox->n_items, 2);
    char c3[64], c4[64];
    snprintf(c3, sizeof c3, "c3@%lld", (long long)(now + 500));
    snprintf(c4, sizeof c4, "c4@%lld", (long long)(now + 700));
    assert_string_equal(inbox->items[0]->delivery_id, c4);
    assert_string_equal(inbox->items[1]->delivery_id, c3);
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
    assert_int_equal(nt_pending_count(client, "P2"), 0);
    /* moving or cancelling what was delivered finds nothing */
    assert_int_equal(nt_rpc(client, "MoveReminders", &move1.base, &medrep__move_reminders_reply__descriptor, &out), MR_OK);
    assert_int_equal(((Medrep__MoveRemindersReply *)out)->moved, 0);
    protobuf_c_message_free_unpacked(out, NULL);
}

/* The local minute of day of t in Asia/Shanghai (the test region's zone). */
static int local_minute(int64_t t_ms)
{
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    mr_local_time lt;
    mr_tz_to_local(tz, t_ms / 1000, &lt);
    mr_tz_free(&tz);
    return lt.hour * 60 + lt.minute;
}

static void test_quiet_hours(void **state)
{
    (void)state;
    int64_t now = mr_now_ms();
    int m = local_minute(now);
    char window[32];
    int start = (m + 1440 - 60) % 1440, end = (m + 120) % 1440;
    snprintf(window, sizeof window, "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60);
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "P3";
    pref.quiet_hours = window;
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_OK);
    assert_int_equal(nt_schedule(client, "q1", "P3", NULL, now + 200, false), MR_OK);
    assert_int_equal(nt_schedule(client, "q2", "P3", NULL, now + 200, true), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "P3", 1, 10000), 1);
    usleep(500 * 1000);
    assert_int_equal(nt_inbox_size(store, "P3"), 1);   /* only the urgent one */
    Medrep__ListRemindersReply *list = nt_pending(client, "P3");
    assert_int_equal(list->n_reminders, 1);
    assert_string_equal(list->reminders[0]->reminder_id, "q1");
    int64_t due = list->reminders[0]->due_ms;
    assert_int_equal(local_minute(due), end);          /* deferred to the window's end */
    assert_true(due > now + 60 * 60000 && due <= now + 121 * 60000);
    medrep__list_reminders_reply__free_unpacked(list, NULL);
}

/* Both instances run with clocks 5 minutes off, one ahead, one behind:
 * "now" comes from Redis, so nothing fires early and nothing twice. */
static void test_skewed_clocks(void **state)
{
    (void)state;
    int64_t now = mr_now_ms();
    char id[32];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "skew%d", i);
        assert_int_equal(nt_schedule(client, id, "P4", NULL, now + 300 + i * 5, false), MR_OK);
    }
    assert_int_equal(nt_wait_inbox(store, "P4", 200, 20000), 200);
    usleep(500 * 1000);
    Medrep__InboxListReply *inbox = nt_inbox(client, "P4");
    assert_int_equal(inbox->n_items, 200);
    for (size_t i = 0; i < inbox->n_items; i++) {
        assert_true(inbox->items[i]->delivered_ms >= inbox->items[i]->due_ms);
        assert_true(inbox->items[i]->delivered_ms < inbox->items[i]->due_ms + 60000);
    }
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
}

/* A kind whose channel list names no channel the service has: the entry
 * goes to the dead-letter stream with its reason, and nothing else. */
static void test_dead_letter(void **state)
{
    (void)state;
    mr_val *v = mr_store_cmd(store, "HSET {r:north}:notify:pref:P5 ch:manual pigeon");
    mr_val_free(&v);
    assert_int_equal(nt_schedule(client, "d1", "P5", NULL, mr_now_ms() + 100, false), MR_OK);
    int64_t end = mr_mono_ms() + 10000;
    while (h_redis_int(store, "XLEN %s", "{r:north}:notify:dead") < 1 && mr_mono_ms() < end)
        usleep(20 * 1000);
    v = mr_store_cmd(store, "XRANGE {r:north}:notify:dead - +");
    assert_int_equal(mr_val_count(v), 1);
    const mr_val *fields = mr_val_at(mr_val_at(v, 0), 1);
    bool reason = false;
    for (size_t i = 0; i + 1 < mr_val_count(fields); i += 2)
        if (strcmp(mr_val_str(mr_val_at(fields, i), NULL), "reason") == 0)
            reason = strstr(mr_val_str(mr_val_at(fields, i + 1), NULL), "channel") != NULL;
    assert_true(reason);
    mr_val_free(&v);
    assert_int_equal(nt_inbox_size(store, "P5"), 0);
}

/* An entry that cannot be committed (here the person's inbox key holds a
 * string) stays pending, is reclaimed and retried, and after max_attempts
 * goes to the dead-letter stream; the entries around it are delivered. */
static void test_stalled_entry_dead_letter(void **state)
{
    (void)state;
    mr_val *v = mr_store_cmd(store, "SET {r:north}:notify:box:P7 not-a-zset");
    mr_val_free(&v);
    int64_t now = mr_now_ms();
    assert_int_equal(nt_schedule(client, "x1", "P8", NULL, now + 100, false), MR_OK);
    assert_int_equal(nt_schedule(client, "x2", "P7", NULL, now + 100, false), MR_OK);
    assert_int_equal(nt_schedule(client, "x3", "P8", NULL, now + 100, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "P8", 2, 10000), 2);
    char reasons[1024] = "";
    int64_t end = mr_mono_ms() + 20000;
    while (!strstr(reasons, "attempts") && mr_mono_ms() < end) {
        usleep(50 * 1000);
        mr_val *d = mr_store_cmd(store, "XRANGE {r:north}:notify:dead - +");
        reasons[0] = '\0';
        for (size_t i = 0; i < mr_val_count(d); i++) {
            const mr_val *f = mr_val_at(mr_val_at(d, i), 1);
            for (size_t j = 0; j < mr_val_count(f); j++)
                snprintf(reasons + strlen(reasons), sizeof reasons - strlen(reasons), "%s ",
                         mr_val_str(mr_val_at(f, j), NULL));
        }
        mr_val_free(&d);
    }
    assert_non_null(strstr(reasons, "x2"));
    assert_non_null(strstr(reasons, "not delivered after 4 attempts"));
    assert_int_equal(nt_pending_count(client, "P7"), 0);   /* dead-lettered: no longer pending */
    v = mr_store_cmd(store, "GET {r:north}:notify:box:P7");
    assert_string_equal(mr_val_str(v, NULL), "not-a-zset");
    mr_val_free(&v);
}

/* A person with a daily digest gets non-urgent reminders gathered into one
 * message at the digest time (here moved to now to fire it); urgent ones
 * still come at once. */
static void test_digest(void **state)
{
    (void)state;
    int64_t now = mr_now_ms();
    int m = (local_minute(now) + 180) % 1440;
    char at[8];
    snprintf(at, sizeof at, "%02d:%02d", m / 60, m % 60);
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "P6";
    pref.digest = at;
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_OK);
    assert_int_equal(nt_schedule(client, "g1", "P6", NULL, now + 100, false), MR_OK);
    assert_int_equal(nt_schedule(client, "g2", "P6", NULL, now + 150, false), MR_OK);
    assert_int_equal(nt_schedule(client, "g3", "P6", NULL, now + 200, true), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "P6", 1, 10000), 1);          /* the urgent one */
    int64_t end = mr_mono_ms() + 10000;
    while (h_redis_int(store, "HLEN %s", "{r:north}:notify:digest:P6") < 2 && mr_mono_ms() < end)
        usleep(20 * 1000);
    assert_int_equal(h_redis_int(store, "HLEN %s", "{r:north}:notify:digest:P6"), 2);
    Medrep__ListRemindersReply *list = nt_pending(client, "P6");
    assert_int_equal(list->n_reminders, 1);
    assert_string_equal(list->reminders[0]->reminder_id, "digest.P6");
    assert_int_equal(local_minute(list->reminders[0]->due_ms), m);
    medrep__list_reminders_reply__free_unpacked(list, NULL);
    /* fire the digest now */
    Medrep__MoveRemindersRequest move = MEDREP__MOVE_REMINDERS_REQUEST__INIT;
    move.reminder_id = "digest.P6";
    move.has_due_ms = true;
    move.due_ms = mr_now_ms() + 100;
    assert_int_equal(nt_rpc(client, "MoveReminders", &move.base, &medrep__move_reminders_reply__descriptor, NULL), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "P6", 2, 10000), 2);
    Medrep__InboxListReply *inbox = nt_inbox(client, "P6");
    assert_string_equal(inbox->items[0]->kind, "digest");
    assert_string_equal(inbox->items[0]->title, "Daily digest: 2 reminder(s)");
    assert_non_null(strstr(inbox->items[0]->body, "(manual)"));
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);
    assert_int_equal(h_redis_int(store, "HLEN %s", "{r:north}:notify:digest:P6"), 0);
    assert_int_equal(nt_pending_count(client, "P6"), 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    long long keys_before = h_redis_int(store, "DBSIZE%s", "");
    assert_int_equal(nt_schedule(client, "b1", "", NULL, mr_now_ms() + 1000, false), MR_INVALID_ARGUMENT);
    assert_int_equal(nt_schedule(client, "b 2", "P9", NULL, mr_now_ms() + 1000, false), MR_INVALID_ARGUMENT);
    assert_int_equal(nt_schedule(client, "b3", "P9", NULL, 0, false), MR_INVALID_ARGUMENT);
    assert_int_equal(nt_schedule(client, "b4", "P9", "bad subject", mr_now_ms(), false), MR_INVALID_ARGUMENT);
    Medrep__MoveRemindersRequest move = MEDREP__MOVE_REMINDERS_REQUEST__INIT;
    move.subject_id = "s";
    move.reminder_id = "r";
    move.has_delta_ms = true;
    assert_int_equal(nt_rpc(client, "MoveReminders", &move.base, &medrep__move_reminders_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    move.reminder_id = NULL;
    move.has_due_ms = true;
    assert_int_equal(nt_rpc(client, "MoveReminders", &move.base, &medrep__move_reminders_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    Medrep__CancelRemindersRequest cancel = MEDREP__CANCEL_REMINDERS_REQUEST__INIT;
    assert_int_equal(nt_rpc(client, "CancelReminders", &cancel.base, &medrep__cancel_reminders_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "P9";
    pref.timezone = "Mars/Olympus";
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    pref.timezone = NULL;
    pref.quiet_hours = "late";
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    Medrep__InboxListRequest list = MEDREP__INBOX_LIST_REQUEST__INIT;
    assert_int_equal(nt_rpc(client, "InboxList", &list.base, &medrep__inbox_list_reply__descriptor, NULL), MR_INVALID_ARGUMENT);
    /* an undecodable payload */
    Medrep__Request req = MEDREP__REQUEST__INIT;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    req.method = "ScheduleReminder";
    req.region = "north";
    req.has_payload = true;
    req.payload.data = junk;
    req.payload.len = sizeof junk;
    Medrep__Reply *reply = mr_client_call(client, "notify", &req, 5000);
    assert_int_equal(reply->status->code, MR_INVALID_ARGUMENT);
    medrep__reply__free_unpacked(reply, NULL);
    assert_int_equal(h_redis_int(store, "DBSIZE%s", ""), keys_before);
}

/* Random bytes at every method: each gets a clear answer, nothing
 * crashes (h_stack_stop checks the processes exit cleanly). */
static void test_random_payloads(void **state)
{
    (void)state;
    static const char *methods[] = {"ScheduleReminder", "ScheduleReminders", "CancelReminders",
                                    "MoveReminders", "ListReminders", "InboxList", "InboxMarkRead",
                                    "SetPreferences"};
    unsigned seed = 7;
    uint8_t buf[96];
    for (int round = 0; round < 100; round++) {
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
            size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)rand_r(&seed);
            Medrep__Request req = MEDREP__REQUEST__INIT;
            req.method = (char *)methods[m];
            req.region = "north";
            req.has_payload = true;
            req.payload.data = buf;
            req.payload.len = len;
            Medrep__Reply *reply = mr_client_call(client, "notify", &req, 5000);
            int code = reply->status ? (int)reply->status->code : MR_OK;
            assert_true(code == MR_OK || code == MR_INVALID_ARGUMENT || code == MR_RESOURCE_EXHAUSTED);
            medrep__reply__free_unpacked(reply, NULL);
        }
    }
    assert_int_equal(nt_schedule(client, "alive", "P10", NULL, mr_now_ms() + 50, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "P10", 1, 10000), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_delivery_and_inbox),
        cmocka_unit_test(test_cancel_and_move),
        cmocka_unit_test(test_quiet_hours),
        cmocka_unit_test(test_skewed_clocks),
        cmocka_unit_test(test_dead_letter),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_stalled_entry_dead_letter),
        cmocka_unit_test(test_random_payloads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
