/* test_meetings_list.c: ListMeetings paged through the real broker on a
 * real Redis: more meetings than one page, walking the pages returns each
 * meeting exactly once in (start, id) order with an empty token on the
 * last page, also across meetings added while walking and meetings that
 * share a start time; filters (rep, state, team from master data) page
 * the same way; a malformed page token or team is INVALID_ARGUMENT. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "meetings_testlib.h"

static int setup(void **state)
{
    (void)state;
    if (mtl_start(NULL, NULL) != 0)
        return -1;
    /* R2 on R1's team CARD, R3 on another team, both with a manager */
    mr_tx *tx = mr_tx_new();
    static const char *const reps[][2] = {{"R2", "CARD"}, {"R3", "ONC"}};
    for (size_t i = 0; i < 2; i++) {
        mr_rep r;
        memset(&r, 0, sizeof r);
        snprintf(r.id, sizeof r.id, "%s", reps[i][0]);
        snprintf(r.team, sizeof r.team, "%s", reps[i][1]);
        snprintf(r.dm_id, sizeof r.dm_id, "DM1");
        mr_md_stage_rep(tx, "north", &r, NULL);
    }
    mr_tx_result rc = mr_tx_commit(mtl_store, tx, NULL, NULL, 0, 0, NULL);
    mr_tx_free(&tx);
    return rc == MR_TX_COMMITTED ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return mtl_stop();
}

#define MAX_IDS 64

typedef struct {
    char id[MAX_IDS][64];
    char rep[MAX_IDS][16];
    int64_t start[MAX_IDS];
    size_t n;
} id_list;

/* Proposes a meeting of rep at start as that rep; its id goes into out. */
static void propose(const char *rep, int64_t start, id_list *out)
{
    Medrep__Meeting m;
    mtl_base_meeting(&m, start);
    m.rep_id = (char *)rep;
    Medrep__ProposeMeetingRequest req = MEDREP__PROPOSE_MEETING_REQUEST__INIT;
    req.meeting = &m;
    ProtobufCMessage *reply = NULL;
    int code = mtl_rpc_as(rep, "ProposeMeeting", &req.base, &medrep__propose_meeting_reply__descriptor, &reply);
    if (code != MR_OK)
        fail_msg("propose for %s: %s %s", rep, mr_code_name(code), mtl_msg);
    assert_true(out->n < MAX_IDS);
    snprintf(out->id[out->n], sizeof out->id[0], "%s", ((Medrep__ProposeMeetingReply *)reply)->meeting_id);
    snprintf(out->rep[out->n], sizeof out->rep[0], "%s", rep);
    out->start[out->n++] = start;
    protobuf_c_message_free_unpacked(reply, NULL);
}

/* One ListMeetings call; returns the code, the reply in *out. */
static int list_page(const char *rep, const char *team, const char *state, int limit, const char *token,
                     Medrep__ListMeetingsReply **out)
{
    Medrep__ListMeetingsRequest req = MEDREP__LIST_MEETINGS_REQUEST__INIT;
    req.rep_id = (char *)rep;
    req.team = (char *)team;
    req.state = (char *)state;
    req.limit = limit, req.has_limit = true;
    req.page_token = (char *)token;
    *out = NULL;
    return mtl_rpc_as("DM1", "ListMeetings", &req.base, &medrep__list_meetings_reply__descriptor,
                      (ProtobufCMessage **)out);
}

/* Walks every page; the ids in order go into got. Before the second page,
 * add() (when given) runs once. Returns the number of pages. */
static int walk(const char *rep, const char *team, const char *state, int limit, id_list *got,
                void (*add)(void))
{
    char token[256] = "";
    int pages = 0;
    got->n = 0;
    for (;;) {
        Medrep__ListMeetingsReply *r = NULL;
        int code = list_page(rep, team, state, limit, token, &r);
        if (code != MR_OK)
            fail_msg("ListMeetings: %s %s", mr_code_name(code), mtl_msg);
        pages++;
        assert_true(r->n_meetings <= (size_t)limit);
        int64_t prev_start = got->n ? got->start[got->n - 1] : INT64_MIN;
        for (size_t i = 0; i < r->n_meetings; i++) {
            const Medrep__Meeting *m = r->meetings[i];
            assert_true(got->n < MAX_IDS);
            /* in (start, id) order */
            assert_true(m->start_ms >= prev_start);
            if (got->n && m->start_ms == prev_start)
                assert_true(strcmp(m->meeting_id, got->id[got->n - 1]) > 0);
            prev_start = m->start_ms;
            snprintf(got->id[got->n], sizeof got->id[0], "%s", m->meeting_id);
            snprintf(got->rep[got->n], sizeof got->rep[0], "%s", m->rep_id);
            got->start[got->n++] = m->start_ms;
        }
        bool last = !r->next_page_token || !r->next_page_token[0];
        if (!last)
            snprintf(token, sizeof token, "%s", r->next_page_token);
        medrep__list_meetings_reply__free_unpacked(r, NULL);
        if (last)
            break;
        if (add && pages == 1)
            add();
        assert_true(pages < 100);
    }
    return pages;
}

static size_t count_of(const id_list *l, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += strcmp(l->id[i], id) == 0;
    return n;
}

static id_list made;
static int64_t t0;

static void add_late(void)
{
    propose("R1", t0 + 30 * DAY_MS, &made);   /* after the cursor: must show up */
}

static void test_pages_walk_each_meeting_once_in_order(void **state)
{
    (void)state;
    t0 = mr_now_ms() + 5 * DAY_MS;
    made.n = 0;
    /* 13 meetings of R1, two pairs sharing a start time, proposed out of order */
    static const int hours[] = {50, 3, 7, 7, 20, 1, 33, 12, 12, 40, 28, 9, 15};
    for (size_t i = 0; i < sizeof hours / sizeof hours[0]; i++)
        propose("R1", t0 + hours[i] * 3600000LL, &made);
    id_list got;
    int pages = walk("R1", NULL, NULL, 4, &got, NULL);
    assert_int_equal(got.n, 13);
    assert_int_equal(pages, 4);   /* 4 + 4 + 4 + 1, the last with an empty token */
    for (size_t i = 0; i < made.n; i++)
        assert_int_equal(count_of(&got, made.id[i]), 1);
    /* exactly one page: an empty token at once */
    pages = walk("R1", NULL, NULL, 13, &got, NULL);
    assert_int_equal(pages, 1);
    assert_int_equal(got.n, 13);
    /* a meeting added while walking, behind the last page: each exactly once, the new one too */
    pages = walk("R1", NULL, NULL, 5, &got, add_late);
    assert_int_equal(got.n, 14);
    for (size_t i = 0; i < made.n; i++)
        assert_int_equal(count_of(&got, made.id[i]), 1);
    assert_string_equal(got.id[13], made.id[made.n - 1]);
    /* the whole region walks the same way (a page of 1) */
    pages = walk(NULL, NULL, NULL, 1, &got, NULL);
    assert_int_equal(got.n, 14);
    assert_int_equal(pages, 14);
}

static void test_filters_page_too(void **state)
{
    (void)state;
    id_list before;
    walk(NULL, NULL, NULL, 100, &before, NULL);
    int64_t t = mr_now_ms() + 60 * DAY_MS;
    id_list r2 = {.n = 0}, r3 = {.n = 0};
    for (int i = 0; i < 3; i++) {
        propose("R2", t + i * 3600000LL, &r2);
        propose("R3", t + i * 3600000LL + 60000, &r3);
    }
    /* team CARD: R1's and R2's meetings, none of R3's, paged */
    id_list got;
    walk(NULL, "CARD", NULL, 3, &got, NULL);
    assert_int_equal(got.n, before.n + 3);
    for (size_t i = 0; i < got.n; i++)
        assert_true(strcmp(got.rep[i], "R1") == 0 || strcmp(got.rep[i], "R2") == 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(count_of(&got, r2.id[i]), 1);
        assert_int_equal(count_of(&got, r3.id[i]), 0);
    }
    /* team ONC: only R3's */
    walk(NULL, "ONC", NULL, 2, &got, NULL);
    assert_int_equal(got.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(got.id[i], r3.id[i]);
    /* a rep with a team: the rep's meetings when on the team, else none */
    walk("R2", "CARD", NULL, 2, &got, NULL);
    assert_int_equal(got.n, 3);
    walk("R3", "CARD", NULL, 2, &got, NULL);
    assert_int_equal(got.n, 0);
    /* a team nobody is on: none, one page */
    assert_int_equal(walk(NULL, "NOBODY", NULL, 2, &got, NULL), 1);
    assert_int_equal(got.n, 0);
    /* state filter: one of R3's submitted, the others stay proposed */
    assert_int_equal(mtl_transition("R3", r3.id[1], "pending_approval", NULL), MR_OK);
    walk("R3", NULL, "pending_approval", 1, &got, NULL);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.id[0], r3.id[1]);
    walk("R3", NULL, "proposed", 1, &got, NULL);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.id[0], r3.id[0]);
    assert_string_equal(got.id[1], r3.id[2]);
}

static void test_bad_page_token_and_team(void **state)
{
    (void)state;
    static const char *const bad[] = {"nonsense", ":M1", "12:", "12x:M1", "-:M1", "1:bad id",
                                      "1234567890123456789012:M1", "1:M1\n", "12 :M1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Medrep__ListMeetingsReply *r = NULL;
        int code = list_page("R1", NULL, NULL, 5, bad[i], &r);
        if (code != MR_INVALID_ARGUMENT)
            fail_msg("token '%s': %s", bad[i], mr_code_name(code));
        assert_non_null(strstr(mtl_msg, "page_token"));
        assert_null(r);
    }
    Medrep__ListMeetingsReply *r = NULL;
    assert_int_equal(list_page(NULL, "bad team", NULL, 5, NULL, &r), MR_INVALID_ARGUMENT);
    assert_non_null(strstr(mtl_msg, "team"));
    assert_null(r);
    /* a well-formed token past the end: an empty last page */
    assert_int_equal(list_page("R1", NULL, NULL, 5, "999999999999999:zz", &r), MR_OK);
    assert_int_equal(r->n_meetings, 0);
    assert_string_equal(r->next_page_token ? r->next_page_token : "", "");
    medrep__list_meetings_reply__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_walk_each_meeting_once_in_order),
        cmocka_unit_test(test_filters_page_too),
        cmocka_unit_test(test_bad_page_token_and_team),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
