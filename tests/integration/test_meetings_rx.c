/* test_meetings_rx.c: the meetings service with the real scoring service
 * behind the same broker: a held meeting's evaluation computed from
 * scoring's monthly prescriptions (imported as a prescriptions file):
 * attendees against non-attendees of the same department, over the three
 * months before and after the meeting's month, customers without data
 * left out; a department without data for one side is refused and
 * changes nothing. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "agenda.h"
#include "meetings_testlib.h"
#include "scoring.pb-c.h"

static int setup(void **state)
{
    (void)state;
    const char *more[] = {"scoring", NULL};
    return mtl_start("[meetings]\nchecklist = projector\ndeadline_check_interval_s = 0\n", more);
}

static int teardown(void **state)
{
    (void)state;
    return mtl_stop();
}

static int sign_in(const char *id, const char *who)
{
    Medrep__SignInRequest req = MEDREP__SIGN_IN_REQUEST__INIT;
    req.meeting_id = (char *)id, req.customer_id = (char *)who;
    return mtl_rpc_as("S9", "SignIn", &req.base, &medrep__meeting_reply__descriptor, NULL);
}

/* A meeting of H1/D1 starting soon, taken to held with C01 and C02 signed in. */
static void held_meeting(int64_t start, char *id, size_t cap)
{
    Medrep__Meeting m;
    mtl_base_meeting(&m, start);
    assert_int_equal(mtl_propose(&m, (const char *[]){"C01", "C02", "C03", "C04", NULL}, false, id, cap), MR_OK);
    assert_int_equal(mtl_approve(id), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "confirmed", NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "invitations_out", NULL), MR_OK);
    Medrep__ChecklistRequest ck = MEDREP__CHECKLIST_REQUEST__INIT;
    ck.meeting_id = id, ck.item = "projector", ck.round = "day_before";
    assert_int_equal(mtl_rpc_as("S9", "Checklist", &ck.base, &medrep__meeting_reply__descriptor, NULL), MR_OK);
    ck.round = "day_of";
    assert_int_equal(mtl_rpc_as("S9", "Checklist", &ck.base, &medrep__meeting_reply__descriptor, NULL), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "in_progress", NULL), MR_OK);
    assert_int_equal(sign_in(id, "C01"), MR_OK);
    assert_int_equal(sign_in(id, "C02"), MR_OK);
    assert_int_equal(mtl_transition("R1", id, "held", NULL), MR_OK);
}

/* Appends one row per month of [from, from + n) to csv: our/market. */
static void rx_rows(char *csv, size_t cap, const char *customer, int y, int mo, int from, int n, int our, int market)
{
    for (int i = 0; i < n; i++) {
        char month[8];
        mt_month_shift(y, mo, from + i, month);
        size_t used = strlen(csv);
        snprintf(csv + used, cap - used, "%s,P1,%s,%d,%d,\n", customer, month, our, market);
    }
}

static void import_rx(const char *csv)
{
    const char *header = "customer_id,product_id,month,our_rx,market_rx,patients_per_week";
    char text[4096];
    snprintf(text, sizeof text, "%s\n%s", header, csv);
    Medrep__ImportChunkRequest req = MEDREP__IMPORT_CHUNK_REQUEST__INIT;
    req.kind = "prescriptions", req.header = (char *)header;
    req.first_line = 1, req.has_first_line = true;
    req.csv.data = (uint8_t *)text, req.csv.len = strlen(text), req.has_csv = true;
    ProtobufCMessage *out = NULL;
    char msg[256];
    assert_int_equal(mr_client_rpc(mtl_client, "scoring", "ImportChunk", "north", NULL, &req.base,
                                   &medrep__import_chunk_reply__descriptor, &out, 10000, msg, sizeof msg), MR_OK);
    assert_int_equal(((Medrep__ImportChunkReply *)out)->rows_bad, 0);
    protobuf_c_message_free_unpacked(out, NULL);
}

static int evaluate(const char *id, Medrep__EvaluateReply **out)
{
    Medrep__EvaluateRequest req = MEDREP__EVALUATE_REQUEST__INIT;
    req.meeting_id = (char *)id;
    req.from_scoring = true, req.has_from_scoring = true;
    *out = NULL;
    return mtl_rpc_as("R1", "Evaluate", &req.base, &medrep__evaluate_reply__descriptor, (ProtobufCMessage **)out);
}

static void test_change_from_scoring_data(void **state)
{
    (void)state;
    int64_t start = mr_now_ms() + 30 * MIN_MS;
    char id[64];
    held_meeting(start, id, sizeof id);
    /* the meeting's month in the region's zone (the harness's regions are Asia/Shanghai) */
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    assert_non_null(tz);
    mr_local_time lt;
    mr_tz_to_local(tz, start / 1000, &lt);
    mr_tz_free(&tz);
    int y = lt.year, mo = lt.month;
    Medrep__EvaluateReply *r = NULL;
    assert_int_equal(evaluate(id, &r), MR_FAILED_PRECONDITION);   /* no data yet */
    char csv[4096] = "";
    /* attendees: C01 10% -> 30% (+20 points), C02 20% -> 30% (+10) */
    rx_rows(csv, sizeof csv, "C01", y, mo, -3, 3, 10, 100);
    rx_rows(csv, sizeof csv, "C01", y, mo, 1, 3, 30, 100);
    rx_rows(csv, sizeof csv, "C02", y, mo, -3, 3, 20, 100);
    rx_rows(csv, sizeof csv, "C02", y, mo, 1, 3, 15, 50);
    /* non-attendees of D1: C03 invited and absent, 10% -> 15% (+5); C05 not invited, 30% -> 25% (-5) */
    rx_rows(csv, sizeof csv, "C03", y, mo, -3, 3, 10, 100);
    rx_rows(csv, sizeof csv, "C03", y, mo, 1, 3, 15, 100);
    rx_rows(csv, sizeof csv, "C05", y, mo, -3, 3, 30, 100);
    rx_rows(csv, sizeof csv, "C05", y, mo, 1, 3, 25, 100);
    /* C06 has data before only, and the meeting's own month counts for nobody: left out */
    rx_rows(csv, sizeof csv, "C06", y, mo, -3, 3, 50, 100);
    rx_rows(csv, sizeof csv, "C01", y, mo, 0, 1, 100, 100);
    import_rx(csv);
    assert_int_equal(evaluate(id, &r), MR_OK);
    assert_non_null(r);
    assert_int_equal(r->attendees_counted, 2);
    assert_int_equal(r->non_attendees_counted, 2);
    assert_true(r->attendee_change_points > 14.99 && r->attendee_change_points < 15.01);
    assert_true(r->non_attendee_change_points > -0.01 && r->non_attendee_change_points < 0.01);
    /* hardware: channel open, both attendees key (A): 1.0; rx: 15 points of 10 -> full */
    assert_true(r->evaluation_score > 99.99 && r->evaluation_score < 100.01);
    medrep__evaluate_reply__free_unpacked(r, NULL);
    Medrep__GetMeetingReply *g = mtl_get(id);
    assert_non_null(g);
    assert_true(g->meeting->evaluation_score > 99.99);
    medrep__get_meeting_reply__free_unpacked(g, NULL);
    /* the same from the command line */
    char cmd[128], out[2048];
    snprintf(cmd, sizeof cmd, "meetings evaluate %s --as R1", id);
    assert_int_equal(h_stack_cli(&mtl_stack, cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "attendees +15.0 share points (2 with data)"));
    assert_non_null(strstr(out, "evaluation score 100"));
}

static void test_bad_evaluation_requests(void **state)
{
    (void)state;
    char id[64];
    held_meeting(mr_now_ms() + 40 * MIN_MS, id, sizeof id);
    Medrep__RxChange ch = MEDREP__RX_CHANGE__INIT, *pch[] = {&ch};
    ch.customer_id = "C01";
    Medrep__EvaluateRequest req = MEDREP__EVALUATE_REQUEST__INIT;
    req.meeting_id = id, req.changes = pch, req.n_changes = 1;
    req.from_scoring = true, req.has_from_scoring = true;   /* both: refused */
    assert_int_equal(mtl_rpc_as("R1", "Evaluate", &req.base, &medrep__evaluate_reply__descriptor, NULL),
                     MR_INVALID_ARGUMENT);
    req.n_changes = 0;
    req.meeting_id = "nope";
    assert_int_equal(mtl_rpc_as("R1", "Evaluate", &req.base, &medrep__evaluate_reply__descriptor, NULL), MR_NOT_FOUND);
    Medrep__GetMeetingReply *g = mtl_get(id);
    assert_string_equal(g->meeting->state, "held");
    medrep__get_meeting_reply__free_unpacked(g, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_from_scoring_data),
        cmocka_unit_test(test_bad_evaluation_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
