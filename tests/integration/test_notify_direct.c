/* test_notify_direct.c: inbox-only reminders delivered by the mover
 * itself (services/notify/direct.c, mover.c) on a real stack: the inbox
 * item and the ReminderDelivered event it packs in Lua read back as the
 * C path would write them (every field; unread count; mark read, which
 * emits one InboxRead, none when marked again); the
 * reminder is gone with the delivery; a preference change after
 * scheduling takes effect (the reminder goes the generic way, through the
 * sender); the same delivery id scheduled again after its delivery is not
 * delivered twice; reminders due together are reported in batch events of
 * at most delivered_event_max items; the mover's later tidy-up takes a
 * delivered reminder out of its person's set, but not one scheduled again
 * with the same id meanwhile; and notify's own event consumer
 * acknowledges its reminders_delivered events without counting or
 * handling them. */
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
    if (h_stack_start(&stack, 1, regions, NT_TEST_CONFIG "delivered_event_max = 3\ntrim_interval_ms = 1500\n") != 0 ||
        h_stack_start_service(&stack, "notify", "notify-d", NULL) < 0 ||
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

/* What the ReminderDelivered events of one reminder said. */
typedef struct {
    const char *rid;   /* the reminder looked for */
    int count;
    bool batch;        /* last seen in a reminders_delivered batch */
    char event_id[160], source[128], delivery_id[160], recipient[64], channel[16];
    int64_t occurred_ms;
} seen_event;

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "(null)");
}

static void record_delivery(const Medrep__ReminderDelivered *d, const Medrep__Event *ev, void *arg)
{
    seen_event *out = arg;
    if (!d->reminder_id || strcmp(d->reminder_id, out->rid) != 0)
        return;
    out->count++;
    out->batch = ev->body_case == MEDREP__EVENT__BODY_REMINDERS_DELIVERED;
    copy(out->event_id, sizeof out->event_id, ev->event_id);
    copy(out->source, sizeof out->source, ev->source);
    copy(out->delivery_id, sizeof out->delivery_id, d->delivery_id);
    copy(out->recipient, sizeof out->recipient, d->recipient_id);
    copy(out->channel, sizeof out->channel, d->channel);
    assert_string_equal(ev->region, "north");
    assert_true(ev->has_occurred_ms);
    out->occurred_ms = ev->occurred_ms;
}

/* Reads every event of the north stream and records those of reminder rid
 * (from single events and from the mover's batches). */
static seen_event events_of(const char *rid)
{
    seen_event out = {.rid = rid};
    assert_true(nt_each_delivery_event(store, record_delivery, &out) >= 0);
    return out;
}

/* InboxRead events of person in the north stream; *last_count: the last one's count. */
static int inbox_read_count(const char *person, int *last_count)
{
    mr_val *v = mr_store_cmd(store, "XRANGE {r:north}:events - + COUNT 100000");
    int n = 0;
    for (size_t i = 0; v && i < mr_val_count(v); i++) {
        const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
        for (size_t f = 0; f + 1 < mr_val_count(fields); f += 2) {
            size_t len = 0;
            const char *data = mr_val_str(mr_val_at(fields, f + 1), &len);
            if (strcmp(mr_val_str(mr_val_at(fields, f), NULL), "ev") != 0 || !data)
                continue;
            Medrep__Event *ev = medrep__event__unpack(NULL, len, (const uint8_t *)data);
            if (ev && ev->body_case == MEDREP__EVENT__BODY_INBOX_READ && !strcmp(ev->inbox_read->person_id, person)) {
                n++;
                *last_count = ev->inbox_read->count;
            }
            if (ev)
                medrep__event__free_unpacked(ev, NULL);
        }
    }
    mr_val_free(&v);
    return n;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* Waits until notify's group has nothing pending on the events stream. */
static long long wait_no_pending(void)
{
    int64_t end = mr_mono_ms() + 5000;
    long long n;
    for (;;) {
        mr_val *v = mr_store_cmd(store, "XPENDING {r:north}:events notify");
        n = mr_val_is_error(v) ? -1 : mr_val_int(mr_val_at(v, 0));
        mr_val_free(&v);
        if (n == 0 || mr_mono_ms() > end)
            return n;
        usleep(20 * 1000);
    }
}

/* Waits until the mover has tidied up after its deliveries (its tidy list
 * is empty); returns what is left. */
static long long wait_tidied(void)
{
    int64_t end = mr_mono_ms() + 10000;
    long long n;
    while ((n = h_redis_int(store, "LLEN %s", "{r:north}:notify:tidy")) > 0 && mr_mono_ms() < end)
        usleep(20 * 1000);
    return n;
}

static void test_direct_delivery(void **state)
{
    (void)state;
    int64_t due = mr_now_ms() + 300;
    char did[64];
    snprintf(did, sizeof did, "d1@%lld", (long long)due);
    assert_int_equal(nt_schedule(client, "d1", "PD1", "meeting:MD1", due, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "PD1", 1, 10000), 1);

    seen_event e = events_of("d1");
    assert_int_equal(e.count, 1);
    assert_true(ends_with(e.source, "-mover"));     /* delivered by the mover, not a sender */
    assert_string_equal(e.delivery_id, did);
    assert_string_equal(e.recipient, "PD1");
    assert_string_equal(e.channel, "inbox");
    char want_id[80];
    snprintf(want_id, sizeof want_id, "dlvs:%s", did);   /* a batch named by its first delivery */
    assert_true(e.batch);
    assert_string_equal(e.event_id, want_id);
    assert_true(e.occurred_ms >= due && e.occurred_ms < due + 10000);

    Medrep__InboxListReply *inbox = nt_inbox(client, "PD1");
    assert_non_null(inbox);
    assert_int_equal(inbox->n_items, 1);
    assert_int_equal(inbox->unread, 1);
    const Medrep__InboxItem *it = inbox->items[0];
    assert_string_equal(it->delivery_id, did);
    assert_string_equal(it->kind, "manual");
    assert_string_equal(it->title, "test reminder");
    assert_string_equal(it->body, "");
    assert_int_equal(it->due_ms, due);
    assert_int_equal(it->delivered_ms, e.occurred_ms);
    assert_false(it->read);
    medrep__inbox_list_reply__free_unpacked(inbox, NULL);

    /* gone with the delivery: no pending reminder; and once the mover has
     * tidied up after it, no member of its person's and subject's sets */
    assert_int_equal(nt_pending_count(client, "PD1"), 0);
    assert_int_equal(h_redis_int(store, "EXISTS %s", "{r:north}:notify:rem:d1"), 0);
    assert_int_equal(wait_tidied(), 0);
    assert_int_equal(h_redis_int(store, "SCARD %s", "{r:north}:notify:person:PD1"), 0);
    assert_int_equal(h_redis_int(store, "SCARD %s", "{r:north}:notify:subj:meeting:MD1"), 0);

    char *ids[] = {did};
    Medrep__InboxMarkReadRequest mark = MEDREP__INBOX_MARK_READ_REQUEST__INIT;
    mark.person_id = "PD1";
    mark.delivery_ids = ids;
    mark.n_delivery_ids = 1;
    Medrep__InboxMarkReadReply *read = NULL;
    assert_int_equal(nt_rpc(client, "InboxMarkRead", &mark.base, &medrep__inbox_mark_read_reply__descriptor,
                            (ProtobufCMessage **)&read), MR_OK);
    assert_int_equal(read->unread, 0);
    medrep__inbox_mark_read_reply__free_unpacked(read, NULL);
    /* one InboxRead with the change; marking it again changes nothing and emits nothing */
    int count = 0;
    assert_int_equal(inbox_read_count("PD1", &count), 1);
    assert_int_equal(count, 1);
    assert_int_equal(nt_rpc(client, "InboxMarkRead", &mark.base, &medrep__inbox_mark_read_reply__descriptor,
                            (ProtobufCMessage **)&read), MR_OK);
    assert_int_equal(read->unread, 0);
    medrep__inbox_mark_read_reply__free_unpacked(read, NULL);
    assert_int_equal(inbox_read_count("PD1", &count), 1);

    /* notify's consumer acknowledged its own event without handling it */
    assert_int_equal(wait_no_pending(), 0);
    mr_val *v = mr_store_cmd(store, "HGET {r:north}:handled:notify reminders_delivered");
    assert_null(mr_val_str(v, NULL));
    mr_val_free(&v);
}

/* A preference change after scheduling: the stored mark no longer matches,
 * so the reminder goes through the ready stream and the sender, which
 * reads the preferences again. */
static void test_preference_change(void **state)
{
    (void)state;
    int64_t due = mr_now_ms() + 3000;   /* the change lands well before (a loaded machine too) */
    assert_int_equal(nt_schedule(client, "d2", "PD2", NULL, due, false), MR_OK);
    Medrep__ChannelChoice all = MEDREP__CHANNEL_CHOICE__INIT;
    char *inbox_only[] = {"inbox"};
    all.kind = "*";
    all.channels = inbox_only;
    all.n_channels = 1;
    Medrep__ChannelChoice *choices[] = {&all};
    Medrep__SetPreferencesRequest pref = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    pref.person_id = "PD2";
    pref.channels = choices;
    pref.n_channels = 1;
    assert_int_equal(nt_rpc(client, "SetPreferences", &pref.base, &medrep__set_preferences_reply__descriptor, NULL),
                     MR_OK);
    assert_int_equal(nt_wait_inbox(store, "PD2", 1, 10000), 1);
    seen_event e = events_of("d2");
    assert_int_equal(e.count, 1);
    assert_true(strstr(e.source, "-sender") != NULL);

    /* scheduled after the change: direct again */
    assert_int_equal(nt_schedule(client, "d3", "PD2", NULL, mr_now_ms() + 200, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "PD2", 2, 10000), 2);
    e = events_of("d3");
    assert_int_equal(e.count, 1);
    assert_true(ends_with(e.source, "-mover"));
}

/* The same reminder id and due time scheduled again after its delivery:
 * its delivery id is in the inbox already, so it is not delivered again. */
static void test_no_repeat(void **state)
{
    (void)state;
    int64_t due = mr_now_ms() + 200;
    assert_int_equal(nt_schedule(client, "d4", "PD4", NULL, due, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "PD4", 1, 10000), 1);
    assert_int_equal(nt_schedule(client, "d4", "PD4", NULL, due, false), MR_OK);
    int64_t end = mr_mono_ms() + 5000;
    while (h_redis_int(store, "EXISTS %s", "{r:north}:notify:rem:d4") == 1 && mr_mono_ms() < end)
        usleep(20 * 1000);
    assert_int_equal(h_redis_int(store, "EXISTS %s", "{r:north}:notify:rem:d4"), 0);
    assert_int_equal(nt_pending_count(client, "PD4"), 0);
    assert_int_equal(nt_inbox_size(store, "PD4"), 1);
    assert_int_equal(events_of("d4").count, 1);
}

/* What the batch events about reminders "bt<n>" held. */
typedef struct {
    int deliveries, events, largest, seen[8];
    char ids[8][96];
} batch_tally;

static void tally_batch_item(const Medrep__ReminderDelivered *d, const Medrep__Event *ev, void *arg)
{
    batch_tally *t = arg;
    if (ev->body_case != MEDREP__EVENT__BODY_REMINDERS_DELIVERED || !d->reminder_id ||
        strncmp(d->reminder_id, "bt", 2) != 0)
        return;
    int n = atoi(d->reminder_id + 2);
    assert_true(n >= 0 && n < 8);
    t->seen[n]++;
    t->deliveries++;
    if ((int)ev->reminders_delivered->n_deliveries > t->largest)
        t->largest = (int)ev->reminders_delivered->n_deliveries;
    for (int i = 0; i < t->events; i++)
        if (strcmp(t->ids[i], ev->event_id) == 0)
            return;
    assert_true(t->events < 8);
    snprintf(t->ids[t->events++], sizeof t->ids[0], "%s", ev->event_id);
}

/* Eight reminders to three people due at the same moment: delivered by
 * the mover in one step, reported in batch events of at most
 * delivered_event_max (3) items each, every reminder exactly once, each
 * event with an id of its own; the reminders are gone. */
static void test_batch_events(void **state)
{
    (void)state;
    int64_t due = mr_now_ms() + 1500;
    char id[16], person[16];
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "bt%d", i);
        snprintf(person, sizeof person, "PB%d", i % 3);
        assert_int_equal(nt_schedule(client, id, person, NULL, due, false), MR_OK);
    }
    assert_int_equal(nt_wait_inbox(store, "PB0", 3, 10000), 3);
    assert_int_equal(nt_wait_inbox(store, "PB1", 3, 10000), 3);
    assert_int_equal(nt_wait_inbox(store, "PB2", 2, 10000), 2);
    batch_tally t = {0};
    assert_true(nt_each_delivery_event(store, tally_batch_item, &t) >= 0);
    assert_int_equal(t.deliveries, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(t.seen[i], 1);
    assert_true(t.largest > 1 && t.largest <= 3);   /* batched, never above the cap */
    assert_true(t.events >= 3);
    for (int i = 0; i < 3; i++) {
        snprintf(person, sizeof person, "PB%d", i);
        assert_int_equal(nt_pending_count(client, person), 0);
    }
    assert_int_equal(h_redis_int(store, "EXISTS %s", "{r:north}:notify:rem:bt0"), 0);
}

/* A reminder id delivered, then scheduled again for the same person and
 * subject before the mover tidied up after the delivery: the tidy-up
 * leaves the new reminder in the person's and subject's sets (it is
 * listed as pending). Tries until the second schedule lands before the
 * tidy-up (the tidy entry is seen waiting). */
static void test_tidy_keeps_rescheduled(void **state)
{
    (void)state;
    bool raced = false;
    for (int round = 0; round < 10 && !raced; round++) {
        char id[32], person[32];
        snprintf(id, sizeof id, "t%d", round);
        snprintf(person, sizeof person, "PT%d", round);
        assert_int_equal(nt_schedule(client, id, person, "meeting:MT", mr_now_ms() + 100, false), MR_OK);
        assert_int_equal(nt_wait_inbox(store, person, 1, 10000), 1);
        assert_int_equal(nt_schedule(client, id, person, "meeting:MT", mr_now_ms() + 600000, false), MR_OK);
        raced = h_redis_int(store, "LLEN %s", "{r:north}:notify:tidy") > 0;
        assert_int_equal(wait_tidied(), 0);
        assert_int_equal(nt_pending_count(client, person), 1);
        char key[80];
        snprintf(key, sizeof key, "{r:north}:notify:person:%s", person);
        assert_int_equal(h_redis_int(store, "SCARD %s", key), 1);
        char member[80];
        snprintf(member, sizeof member, "SISMEMBER %%s %s", id);
        assert_int_equal(h_redis_int(store, member, "{r:north}:notify:subj:meeting:MT"), 1);
    }
    assert_true(raced);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_delivery),
        cmocka_unit_test(test_preference_change),
        cmocka_unit_test(test_no_repeat),
        cmocka_unit_test(test_batch_events),
        cmocka_unit_test(test_tidy_keeps_rescheduled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
