/* test_notify_list.c: ListReminders is paged, in the order (due time,
 * reminder id). Region-wide over several shards with equal due times:
 * walking the pages returns every pending reminder exactly once, in order,
 * whatever the page size, and a channel retry in a due set is not a
 * reminder; a page token whose reminder is gone still continues after its
 * position. One person's list pages the same way. A malformed page token
 * is INVALID_ARGUMENT and changes nothing. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "calls.h"
#include "notify_testlib.h"

#define COUNT 30
#define CONFIG                                                                             \
    "[notify]\nshards = 4\nlease_ms = 1500\nmax_sleep_ms = 500\nblock_ms = 200\n"              \
    "claim_min_idle_ms = 1000\nclaim_interval_ms = 300\nmax_attempts = 3\n"

static h_stack stack;
static mr_client *client;
static mr_store *store;

/* The reminders of the test, in the expected listing order. */
typedef struct {
    char id[16], person[8];
    int64_t due_ms;
} expected;
static expected want[COUNT];

static int by_due_id(const void *a, const void *b)
{
    const expected *x = a, *y = b;
    return x->due_ms < y->due_ms ? -1 : x->due_ms > y->due_ms ? 1 : strcmp(x->id, y->id);
}

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, CONFIG) != 0 ||
        h_stack_start_service(&stack, "notify", "notify-a", NULL) < 0 ||
        h_stack_wait_workers(&stack, "notify", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 2000);
    store = h_stack_store(&stack, 0);
    if (!client || !store)
        return -1;
    /* Three due times a day ahead (never fire during the test), ten
     * reminders at each, spread over the shards; urgent, so quiet hours
     * leave the due times as given. */
    int64_t base = (mr_now_ms() / 1000 + 86400) * 1000;
    for (int i = 0; i < COUNT; i++) {
        snprintf(want[i].id, sizeof want[i].id, "L%02d", (i * 7) % COUNT);
        snprintf(want[i].person, sizeof want[i].person, "Q%d", i % 3);
        want[i].due_ms = base + (i % 3) * 3600000;
        if (nt_schedule(client, want[i].id, want[i].person, NULL, want[i].due_ms, true) != MR_OK)
            return -1;
    }
    qsort(want, COUNT, sizeof want[0], by_due_id);
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

/* One page: the reply (caller frees) and its code. */
static int list_page(const char *person, int limit, const char *token, Medrep__ListRemindersReply **out)
{
    Medrep__ListRemindersRequest q = MEDREP__LIST_REMINDERS_REQUEST__INIT;
    q.person_id = (char *)person;
    q.has_limit = true;
    q.limit = limit;
    q.page_token = (char *)token;
    ProtobufCMessage *msg = NULL;
    int code = nt_rpc(client, "ListReminders", &q.base, &medrep__list_reminders_reply__descriptor, &msg);
    *out = (Medrep__ListRemindersReply *)msg;
    return code;
}

/* Walks every page of person's (NULL: everyone's) list with page size
 * limit, checking it against want[] filtered by person. */
static void walk(const char *person, int limit)
{
    char token[200] = "";
    int next = 0, pages = 0, page = limit > 0 ? limit : 100;
    for (;;) {
        Medrep__ListRemindersReply *r = NULL;
        assert_int_equal(list_page(person, limit, token, &r), MR_OK);
        assert_non_null(r);
        assert_true(r->n_reminders <= (size_t)page);
        for (size_t i = 0; i < r->n_reminders; i++) {
            while (next < COUNT && person && strcmp(want[next].person, person) != 0)
                next++;
            assert_true(next < COUNT);
            assert_string_equal(r->reminders[i]->reminder_id, want[next].id);
            assert_int_equal(r->reminders[i]->due_ms, want[next].due_ms);
            assert_string_equal(r->reminders[i]->person_id, want[next].person);
            next++;
        }
        const char *t = r->next_page_token ? r->next_page_token : "";
        if (t[0])
            assert_int_equal(r->n_reminders, page);   /* nothing fires or is cancelled meanwhile */
        snprintf(token, sizeof token, "%s", t);
        medrep__list_reminders_reply__free_unpacked(r, NULL);
        pages++;
        assert_true(pages <= COUNT + 1);
        if (!token[0])
            break;
    }
    while (next < COUNT && person && strcmp(want[next].person, person) != 0)
        next++;
    assert_int_equal(next, COUNT);   /* every one was listed */
}

static void test_region_pages(void **state)
{
    (void)state;
    /* A channel retry sits in a due set at a listed due time: not listed. */
    mr_val *v = mr_store_cmd(store, "ZADD {r:north}:notify:sh:0:due %lld %s", (long long)want[0].due_ms,
                             "L00#webhook");
    assert_int_equal(mr_val_int(v), 1);
    mr_val_free(&v);
    walk(NULL, 7);
    walk(NULL, 1);
    walk(NULL, 10);   /* pages end exactly at the last reminder */
    walk(NULL, 500);
    walk(NULL, 0);    /* the default page size */
}

static void test_person_pages(void **state)
{
    (void)state;
    walk("Q0", 3);
    walk("Q1", 1);
    walk("Q2", 10);
    Medrep__ListRemindersReply *r = NULL;
    assert_int_equal(list_page("nobody", 5, "", &r), MR_OK);
    assert_int_equal(r->n_reminders, 0);
    assert_true(!r->next_page_token || !r->next_page_token[0]);
    medrep__list_reminders_reply__free_unpacked(r, NULL);
}

static void test_bad_token(void **state)
{
    (void)state;
    const char *bad[] = {"x", "12", ":L01", "12:", "1x:L01", "-5:L01", "12:bad id", "12:L01#inbox",
                         "1234567890123456789:L01", " 12:L01", "+12:L01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Medrep__ListRemindersReply *r = NULL;
        assert_int_equal(list_page(NULL, 5, bad[i], &r), MR_INVALID_ARGUMENT);
        assert_int_equal(list_page("Q0", 5, bad[i], &r), MR_INVALID_ARGUMENT);
    }
    walk(NULL, 4);   /* nothing changed */
}

/* A token whose reminder was cancelled meanwhile still continues after its
 * position. Runs last: it cancels. */
static void test_token_of_gone_reminder(void **state)
{
    (void)state;
    Medrep__ListRemindersReply *r = NULL;
    assert_int_equal(list_page(NULL, 11, "", &r), MR_OK);
    assert_int_equal(r->n_reminders, 11);
    assert_string_equal(r->reminders[10]->reminder_id, want[10].id);
    char token[200];
    snprintf(token, sizeof token, "%s", r->next_page_token);
    medrep__list_reminders_reply__free_unpacked(r, NULL);

    Medrep__CancelRemindersRequest cancel = MEDREP__CANCEL_REMINDERS_REQUEST__INIT;
    char *ids[] = {want[10].id};
    cancel.reminder_ids = ids;
    cancel.n_reminder_ids = 1;
    ProtobufCMessage *out = NULL;
    assert_int_equal(nt_rpc(client, "CancelReminders", &cancel.base, &medrep__cancel_reminders_reply__descriptor, &out), MR_OK);
    assert_int_equal(((Medrep__CancelRemindersReply *)out)->cancelled, 1);
    protobuf_c_message_free_unpacked(out, NULL);

    assert_int_equal(list_page(NULL, 3, token, &r), MR_OK);
    assert_int_equal(r->n_reminders, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(r->reminders[i]->reminder_id, want[11 + i].id);
    medrep__list_reminders_reply__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_pages),
        cmocka_unit_test(test_person_pages),
        cmocka_unit_test(test_bad_token),
        cmocka_unit_test(test_token_of_gone_reminder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
