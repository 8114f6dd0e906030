/* test_meetings_concurrent.c: concurrent changes of one meeting on two
 * meetings instances behind the real broker. The approver approves and
 * rejects the same pending meeting at once, for a batch of meetings:
 * for each, exactly one change wins; the other is answered ABORTED (it
 * was made from the version the winner replaced, with a message saying
 * so) or FAILED_PRECONDITION (it saw the winner's state); the stored
 * state, the history and the events agree with the winner. Batches are
 * sent until at least one ABORTED has been seen (two requests on two
 * instances overlap almost every time; the loop makes it certain). And
 * a record stored before the version entry existed still changes. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "meetings_testlib.h"

#define BATCH 12

static mr_client *fast;   /* a client with room for a whole batch in flight */

static int setup(void **state)
{
    (void)state;
    if (mtl_start("[meetings]\nchecklist = projector\ndeadline_check_interval_s = 0\n", NULL) != 0 ||
        h_stack_start_service(&mtl_stack, "meetings", "meetings-b", NULL) < 0 ||
        h_stack_wait_workers(&mtl_stack, "meetings", 2, 10000) != 0)
        return -1;
    fast = h_stack_client(&mtl_stack, 2 * BATCH, 10000);
    return fast ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&fast);
    return mtl_stop();
}

static void submit(const char *id, const char *to, uint64_t tag)
{
    uint8_t buf[512];
    Medrep__TransitionRequest t = MEDREP__TRANSITION_REQUEST__INIT;
    t.meeting_id = (char *)id, t.to_state = (char *)to, t.comment = "decided";
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = "DM1";
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.region = "north", req.method = "Transition", req.caller = &caller;
    req.payload.data = buf, req.payload.len = medrep__transition_request__pack(&t, buf), req.has_payload = true;
    assert_int_equal(mr_client_submit(fast, "meetings", &req, 10000, tag), 0);
}

typedef struct {
    const char *id, *to;
} change_filter;

static int is_change_to(const Medrep__Event *ev, const void *arg)
{
    const change_filter *f = arg;
    return ev->body_case == MEDREP__EVENT__BODY_MEETING_CHANGED && strcmp(ev->meeting_changed->meeting_id, f->id) == 0 &&
           strcmp(ev->meeting_changed->to_state, f->to) == 0;
}

/* The stored meeting agrees with the one winner. */
static void check_winner(const char *id, const int code[2])
{
    static const char *const to[2] = {"approved", "rejected"};
    int wins = (code[0] == MR_OK) + (code[1] == MR_OK);
    assert_int_equal(wins, 1);
    int w = code[0] == MR_OK ? 0 : 1;
    assert_true(code[1 - w] == MR_ABORTED || code[1 - w] == MR_FAILED_PRECONDITION);
    Medrep__GetMeetingReply *g = mtl_get(id);
    assert_non_null(g);
    assert_string_equal(g->meeting->state, to[w]);
    int entries = 0;
    for (size_t i = 0; i < g->meeting->n_history; i++)
        entries += strcmp(g->meeting->history[i]->from_state, "pending_approval") == 0;
    assert_int_equal(entries, 1);
    medrep__get_meeting_reply__free_unpacked(g, NULL);
    change_filter win = {id, to[w]}, lose = {id, to[1 - w]};
    assert_int_equal(mtl_count_events(is_change_to, &win), 1);
    assert_int_equal(mtl_count_events(is_change_to, &lose), 0);
}

/* One batch; returns how many changes were answered ABORTED. */
static int batch(int round)
{
    char ids[BATCH][64];
    for (int i = 0; i < BATCH; i++) {
        Medrep__Meeting m;
        mtl_base_meeting(&m, mr_now_ms() + (2 + round) * DAY_MS + i * 3 * 3600000LL);
        assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, ids[i], sizeof ids[i]), MR_OK);
        assert_int_equal(mtl_transition("R1", ids[i], "pending_approval", NULL), MR_OK);
    }
    for (int i = 0; i < BATCH; i++) {
        submit(ids[i], "approved", (uint64_t)(2 * i));
        submit(ids[i], "rejected", (uint64_t)(2 * i + 1));
    }
    int code[BATCH][2], aborted = 0;
    for (int done = 0; done < 2 * BATCH;) {
        uint64_t tag;
        Medrep__Reply *r = NULL;
        if (mr_client_poll(fast, 1000, &tag, &r) != 1)
            continue;
        int c = r->status ? (int)r->status->code : -1;
        if (c == MR_ABORTED) {
            aborted++;
            assert_non_null(strstr(r->status->message, "changed"));
        }
        code[tag / 2][tag % 2] = c;
        medrep__reply__free_unpacked(r, NULL);
        done++;
    }
    for (int i = 0; i < BATCH; i++)
        check_winner(ids[i], code[i]);
    return aborted;
}

static void test_one_of_two_concurrent_transitions_wins(void **state)
{
    (void)state;
    int aborted = 0;
    for (int round = 0; round < 20 && aborted == 0; round++)
        aborted += batch(round);
    if (getenv("MT_DEBUG"))
        fprintf(stderr, "aborted %d\n", aborted);
    assert_true(aborted > 0);
}

/* A meeting stored before the version entry existed (meet:ver) still
 * changes: loading it records its version first. */
static void test_record_without_version_entry(void **state)
{
    (void)state;
    Medrep__Meeting m;
    char id[64];
    mtl_base_meeting(&m, mr_now_ms() + 40 * DAY_MS);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", NULL}, false, id, sizeof id), MR_OK);
    mr_val *v = mr_store_cmd(mtl_store, "HDEL %s %s", "{r:north}:meet:ver", id);
    assert_int_equal(mr_val_int(v), 1);
    mr_val_free(&v);
    assert_int_equal(mtl_transition("R1", id, "pending_approval", NULL), MR_OK);
    v = mr_store_cmd(mtl_store, "HGET %s %s", "{r:north}:meet:ver", id);
    assert_string_equal(mr_val_str(v, NULL), "1");
    mr_val_free(&v);
    mtl_state_is(id, "pending_approval");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_of_two_concurrent_transitions_wins),
        cmocka_unit_test(test_record_without_version_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
