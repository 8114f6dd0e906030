/* test_notify_kill.c: durable timers under faults. 10,000 reminders for
 * 100 people, two notify instances, one SIGKILLed midway through the
 * deliveries: every reminder is delivered, none twice by delivery id
 * (counted from the ReminderDelivered events committed with each
 * delivery, and from the inboxes). One instance delivers inbox-only
 * reminders in its mover, the other through its sender. Then Redis itself
 * is SIGKILLed and restarted midway through 2,000 more: the same holds.
 * Each time, the movers' deferred tidy-up finishes too: no delivered
 * reminder is left in its person's set. */
// ctest-label: fault
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "calls.h"
#include "notify_testlib.h"

#define PEOPLE 100

#define BATCH 500

/* Schedules count reminders "<prefix><i>" for people P0..P99, due spread
 * over [first_ms, first_ms + spread_ms), in subjects "<prefix>:<i/1000>",
 * BATCH per ScheduleReminders request, requests pipelined. */
static void schedule_many(mr_client *c, const char *prefix, int count, int64_t first_ms, int spread_ms)
{
    int submitted = 0, done = 0;
    Medrep__ScheduleReminderRequest items[BATCH], *ptrs[BATCH];
    char ids[BATCH][32], people[BATCH][16], subjects[BATCH][32];
    size_t cap = 256 * BATCH;
    uint8_t *buf = malloc(cap);
    while (done < count) {
        while (submitted < count && mr_client_inflight(c) < 4) {
            int n = count - submitted < BATCH ? count - submitted : BATCH;
            for (int j = 0; j < n; j++) {
                int i = submitted + j;
                Medrep__ScheduleReminderRequest *q = &items[j];
                medrep__schedule_reminder_request__init(q);
                snprintf(ids[j], sizeof ids[j], "%s%d", prefix, i);
                snprintf(people[j], sizeof people[j], "P%d", i % PEOPLE);
                snprintf(subjects[j], sizeof subjects[j], "%s:%d", prefix, i / 1000);
                q->reminder_id = ids[j], q->person_id = people[j], q->subject_id = subjects[j];
                q->kind = "manual", q->title = "bulk";
                q->has_due_ms = true;
                q->due_ms = first_ms + (int64_t)i * spread_ms / count;
                ptrs[j] = q;
            }
            Medrep__ScheduleRemindersRequest batch = MEDREP__SCHEDULE_REMINDERS_REQUEST__INIT;
            batch.reminders = ptrs;
            batch.n_reminders = (size_t)n;
            Medrep__Request req = MEDREP__REQUEST__INIT;
            req.method = "ScheduleReminders";
            req.region = "north";
            req.has_payload = true;
            req.payload.data = buf;
            req.payload.len = medrep__schedule_reminders_request__pack(&batch, buf);
            assert_int_equal(mr_client_submit(c, "notify", &req, 30000, (uint64_t)n), 0);
            submitted += n;
        }
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 1000, &tag, &reply) == 1) {
            if (reply->status && (int)reply->status->code != MR_OK)
                fprintf(stderr, "schedule: %s\n", reply->status->message);
            assert_true(!reply->status || (int)reply->status->code == MR_OK);
            medrep__reply__free_unpacked(reply, NULL);
            done += (int)tag;
        }
    }
    free(buf);
}

/* Schedules count reminders an hour ahead, then moves their subjects
 * (1,000 reminders each) so that they fall due from 1 s after the last
 * move on, over spread_ms: so the deliveries start only once everything
 * is scheduled, whatever the speed of the machine. */
static void schedule_then_move(mr_client *c, const char *prefix, int count, int spread_ms)
{
    int64_t first = mr_now_ms() + 3600000;
    int64_t t0 = mr_mono_ms();
    schedule_many(c, prefix, count, first, spread_ms);
    int64_t delta = mr_now_ms() + 1000 + (count / 1000) * 100 - first;
    for (int s = 0; s * 1000 < count; s++) {
        char subject[32];
        snprintf(subject, sizeof subject, "%s:%d", prefix, s);
        Medrep__MoveRemindersRequest move = MEDREP__MOVE_REMINDERS_REQUEST__INIT;
        move.subject_id = subject;
        move.has_delta_ms = true;
        move.delta_ms = delta;
        ProtobufCMessage *out = NULL;
        assert_int_equal(nt_rpc(c, "MoveReminders", &move.base, &medrep__move_reminders_reply__descriptor, &out), MR_OK);
        assert_int_equal(((Medrep__MoveRemindersReply *)out)->moved, count - s * 1000 < 1000 ? count - s * 1000 : 1000);
        protobuf_c_message_free_unpacked(out, NULL);
    }
    fprintf(stderr, "%s: scheduled and moved %d in %lld ms\n", prefix, count, (long long)(mr_mono_ms() - t0));
}

static long long inbox_total(mr_store *store)
{
    long long total = 0;
    for (int p = 0; p < PEOPLE; p++) {
        char person[16];
        snprintf(person, sizeof person, "P%d", p);
        total += nt_inbox_size(store, person);
    }
    return total;
}

static long long wait_total(mr_store *store, long long want, int timeout_ms)
{
    int64_t end = mr_mono_ms() + timeout_ms;
    long long n;
    int64_t t0 = mr_mono_ms();
    while ((n = inbox_total(store)) < want && mr_mono_ms() < end)
        usleep(50 * 1000);
    fprintf(stderr, "%lld delivered after %lld ms\n", n, (long long)(mr_mono_ms() - t0));
    return n;
}

/* Counts deliveries per delivery id (ids are "<prefix><i>@<due>"). */
typedef struct {
    const char *prefix;
    int count;
    int *seen;
    long other;
} tally;

static void count_delivery(const Medrep__ReminderDelivered *d, void *arg)
{
    tally *t = arg;
    size_t n = strlen(t->prefix);
    if (strncmp(d->reminder_id, t->prefix, n) != 0 || strncmp(d->delivery_id, d->reminder_id, strlen(d->reminder_id)) != 0) {
        t->other++;
        return;
    }
    int i = atoi(d->reminder_id + n);
    if (i >= 0 && i < t->count)
        t->seen[i]++;
}

/* Asserts each of count reminders was delivered exactly once. */
static void assert_exactly_once(mr_store *store, const char *prefix, int count)
{
    tally t = {.prefix = prefix, .count = count, .seen = calloc((size_t)count, sizeof(int))};
    assert_true(nt_each_delivered(store, count_delivery, &t) >= count);
    int missing = 0, twice = 0;
    for (int i = 0; i < count; i++)
        missing += t.seen[i] == 0, twice += t.seen[i] > 1;
    fprintf(stderr, "%s: %d reminders, %d missing, %d delivered more than once\n", prefix, count,
            missing, twice);
    free(t.seen);
    assert_int_equal(missing, 0);
    assert_int_equal(twice, 0);
}

static void ignore_delivery(const Medrep__ReminderDelivered *d, const Medrep__Event *ev, void *arg)
{
    (void)d, (void)ev, (void)arg;
}

/* Counts the deliveries reported by movers (direct, in batches) and by
 * senders (the generic path), from their events' source. */
static void count_paths(mr_store *store, long *movers, long *senders)
{
    char start[64] = "-";
    *movers = *senders = 0;
    for (size_t n = 1000; n == 1000;) {
        mr_val *v = mr_store_cmd(store, "XRANGE {r:north}:events %s + COUNT 1000", start);
        n = mr_val_count(v);
        for (size_t i = 0; i < n; i++) {
            const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
            size_t len = 0;
            const char *data = mr_val_count(fields) >= 4 ? mr_val_str(mr_val_at(fields, 3), &len) : NULL;
            Medrep__Event *ev = data ? medrep__event__unpack(NULL, len, (const uint8_t *)data) : NULL;
            size_t count = nt_event_deliveries(ev, ignore_delivery, NULL);
            if (count && ev->source) {
                *movers += strstr(ev->source, "-mover") ? (long)count : 0;
                *senders += strstr(ev->source, "-sender") ? (long)count : 0;
            }
            if (ev)
                medrep__event__free_unpacked(ev, NULL);
            snprintf(start, sizeof start, "(%s", mr_val_str(mr_val_at(mr_val_at(v, i), 0), NULL));
        }
        mr_val_free(&v);
    }
}

static void assert_drained(mr_store *store)
{
    for (int k = 0; k < 2; k++) {
        char key[64];
        snprintf(key, sizeof key, "{r:north}:notify:sh:%d:due", k);
        assert_int_equal(h_redis_int(store, "ZCARD %s", key), 0);
        snprintf(key, sizeof key, "{r:north}:notify:sh:%d:ready", k);
        assert_int_equal(h_redis_int(store, "XLEN %s", key), 0);
    }
    assert_int_equal(h_redis_int(store, "XLEN %s", "{r:north}:notify:dead"), 0);
    /* what the movers left to tidy up survived the kills and the restart:
     * once done, no delivered reminder is left in a person's set */
    int64_t end = mr_mono_ms() + 20000;
    while (h_redis_int(store, "LLEN %s", "{r:north}:notify:tidy") > 0 && mr_mono_ms() < end)
        usleep(50 * 1000);
    assert_int_equal(h_redis_int(store, "LLEN %s", "{r:north}:notify:tidy"), 0);
    for (int p = 0; p < PEOPLE; p++) {
        char key[64];
        snprintf(key, sizeof key, "{r:north}:notify:person:P%d", p);
        assert_int_equal(h_redis_int(store, "SCARD %s", key), 0);
    }
}

static void test_sender_killed_midway(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NT_TEST_CONFIG "read_batch = 32\nmove_batch = 50\n"), 0);
    mr_store *store = h_stack_store(&stack, 0);
    /* notify-1 delivers inbox-only reminders in its mover (direct.c) and
     * schedules them all (alone); notify-2, with that off, starts after:
     * notify-1's mover holds both shards until it is killed, then
     * notify-2 delivers the rest the generic way, through its sender */
    const char *generic[] = {"MEDREP__NOTIFY__DIRECT_INBOX=false", NULL};
    int a = h_stack_start_service(&stack, "notify", "notify-1", NULL);
    assert_true(a >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "notify", 1, 10000), 0);
    mr_client *c = h_stack_client(&stack, 32, 2000);

    /* 1. 10,000 reminders, one instance SIGKILLed midway */
    schedule_then_move(c, "k", 10000, 3000);
    assert_true(h_stack_start_service(&stack, "notify", "notify-2", generic) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "notify", 2, 10000), 0);
    /* killed as soon as deliveries show: a direct mover is fast enough to
     * finish them all between two looks at a higher mark */
    long long before = wait_total(store, 1, 60000);
    h_proc_kill(&stack.procs[a], SIGKILL);
    stack.procs[a].pid = 0;
    fprintf(stderr, "notify-1 killed with %lld delivered\n", before);
    assert_true(before < 10000);
    assert_int_equal(wait_total(store, 10000, 120000), 10000);
    usleep(2000 * 1000);   /* a repeat would show by now (claims after 1 s idle) */
    assert_int_equal(inbox_total(store), 10000);
    assert_exactly_once(store, "k", 10000);
    assert_drained(store);
    long movers, senders;
    count_paths(store, &movers, &senders);
    fprintf(stderr, "delivered by movers %ld, by senders %ld\n", movers, senders);
    /* the direct path ran until the kill; the generic one takes the rest,
     * if any was left (a fast mover may finish them before the kill lands) */
    assert_true(movers > 0 && movers + senders == 10000);

    /* 2. Redis SIGKILLed and restarted midway through 2,000 more, with a
     * direct instance back */
    assert_true(h_stack_start_service(&stack, "notify", "notify-3", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "notify", 2, 10000), 0);
    schedule_then_move(c, "r", 2000, 2000);
    before = wait_total(store, 10500, 60000);
    h_redis_kill(&stack.redis[0], SIGKILL);
    usleep(300 * 1000);
    assert_int_equal(h_redis_restart(&stack.redis[0]), 0);
    fprintf(stderr, "redis restarted with %lld delivered\n", before - 10000);
    assert_int_equal(wait_total(store, 12000, 120000), 12000);
    usleep(2000 * 1000);
    assert_int_equal(inbox_total(store), 12000);
    assert_exactly_once(store, "r", 2000);
    assert_drained(store);
    count_paths(store, &movers, &senders);
    fprintf(stderr, "in all, delivered by movers %ld, by senders %ld\n", movers, senders);
    assert_int_equal(movers + senders, 12000);

    mr_client_free(&c);
    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_killed_midway),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
