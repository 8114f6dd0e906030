/* test_scoring_import.c: the scoring service end to end through the real
 * broker on a real Redis: master data and prescription CSV imports (bad
 * rows by line, good rows kept, re-import changes nothing), grading with
 * explanations, CustomerRegraded events only for changed grades, a
 * threshold change (service restarted with a new configuration)
 * re-grading only the customers it moves, single updates, the adoption
 * ladder moved by a CallLogged event, and the queries. */
// ctest-label: integration
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "events.h"
#include "masterdata.h"
#include "scoring.pb-c.h"
#include "stack.h"

static h_stack stack;
static mr_client *client;
static mr_store *store;
static int scoring_proc = -1;

static int start_scoring(const char *instance, const char *const *env)
{
    scoring_proc = h_stack_start_service(&stack, "scoring", instance, env);
    return scoring_proc < 0 ? -1 : h_stack_wait_workers(&stack, "scoring", 1, 10000);
}

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, NULL) != 0 || start_scoring("scoring-a", NULL) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 5000);
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

/* ---- Helpers ---- */

static int rpc(const char *method, const ProtobufCMessage *in, const ProtobufCMessageDescriptor *out_desc,
               ProtobufCMessage **out, char *msg)
{
    char buf[512];
    return mr_client_rpc(client, "scoring", method, "north", NULL, in, out_desc, out, 10000,
                         msg ? msg : buf, 512);
}

/* Imports text (header on its first line) as one chunk. */
static Medrep__ImportChunkReply *import(const char *kind, const char *text, int *code)
{
    char header[512];
    const char *nl = strchr(text, '\n');
    snprintf(header, sizeof header, "%.*s", (int)(nl - text), text);
    Medrep__ImportChunkRequest req = MEDREP__IMPORT_CHUNK_REQUEST__INIT;
    req.kind = (char *)kind;
    req.header = header;
    req.first_line = 1, req.has_first_line = true;
    req.csv.data = (uint8_t *)text, req.csv.len = strlen(text), req.has_csv = true;
    ProtobufCMessage *out = NULL;
    char msg[512] = "";
    *code = rpc("ImportChunk", &req.base, &medrep__import_chunk_reply__descriptor, &out, msg);
    Medrep__ImportChunkReply *r = (Medrep__ImportChunkReply *)out;
    if (getenv("SC_DEBUG")) {
        fprintf(stderr, "import %s: code %d %s\n", kind, *code, msg);
        for (size_t i = 0; r && i < r->n_errors; i++)
            fprintf(stderr, "  line %lld: %s\n", (long long)r->errors[i]->line, r->errors[i]->reason);
    }
    return r;
}

static void import_expect(const char *kind, const char *text, long ok, long unchanged, long bad)
{
    int code;
    Medrep__ImportChunkReply *r = import(kind, text, &code);
    assert_int_equal(code, MR_OK);
    assert_non_null(r);
    if (r->rows_ok != ok || r->rows_unchanged != unchanged || r->rows_bad != bad) {
        fprintf(stderr, "%s: ok %lld unchanged %lld bad %lld\n", kind, (long long)r->rows_ok,
                (long long)r->rows_unchanged, (long long)r->rows_bad);
        for (size_t i = 0; i < r->n_errors; i++)
            fprintf(stderr, "  line %lld: %s\n", (long long)r->errors[i]->line, r->errors[i]->reason);
    }
    assert_int_equal(r->rows_ok, ok);
    assert_int_equal(r->rows_unchanged, unchanged);
    assert_int_equal(r->rows_bad, bad);
    medrep__import_chunk_reply__free_unpacked(r, NULL);
}

static long regraded_events(void)
{
    mr_val *v = mr_store_cmd(store, "XRANGE %s - +", "{r:north}:events");
    long n = 0;
    for (size_t i = 0; i < mr_val_count(v); i++) {
        const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
        const char *type = mr_val_str(mr_val_at(fields, 1), NULL);
        n += type && strcmp(type, "customer_regraded") == 0;
    }
    mr_val_free(&v);
    return n;
}

/* Regrades everything, page by page; returns the number of changes. */
static long regrade_all(void)
{
    char cursor[128] = "";
    long changed = 0;
    for (int guard = 0; guard < 100; guard++) {
        Medrep__RegradeRequest req = MEDREP__REGRADE_REQUEST__INIT;
        req.cursor = cursor;
        req.page_size = 3, req.has_page_size = true;   /* small pages: paging is exercised */
        ProtobufCMessage *out = NULL;
        char msg[512] = "";
        int code = rpc("Regrade", &req.base, &medrep__regrade_reply__descriptor, &out, msg);
        if (code != MR_OK)
            fprintf(stderr, "Regrade: %s\n", msg);
        assert_int_equal(code, MR_OK);
        Medrep__RegradeReply *r = (Medrep__RegradeReply *)out;
        changed += r->changed;
        snprintf(cursor, sizeof cursor, "%s", r->next_cursor ? r->next_cursor : "");
        medrep__regrade_reply__free_unpacked(r, NULL);
        if (!cursor[0])
            return changed;
    }
    fail_msg("regrade did not end");
    return -1;
}

static Medrep__GetCustomerGradesReply *grades_of(const char *customer)
{
    Medrep__GetCustomerGradesRequest req = MEDREP__GET_CUSTOMER_GRADES_REQUEST__INIT;
    req.customer_id = (char *)customer;
    ProtobufCMessage *out = NULL;
    assert_int_equal(rpc("GetCustomerGrades", &req.base, &medrep__get_customer_grades_reply__descriptor,
                         &out, NULL), MR_OK);
    return (Medrep__GetCustomerGradesReply *)out;
}

/* The segment of customer for P1 ("" when none, "?" when no grade). */
static void expect_segment(const char *customer, const char *segment)
{
    Medrep__GetCustomerGradesReply *r = grades_of(customer);
    const char *got = "?";
    for (size_t i = 0; i < r->n_grades; i++)
        if (strcmp(r->grades[i]->product_id, "P1") == 0)
            got = r->grades[i]->segment;
    if (strcmp(got, segment) != 0)
        fprintf(stderr, "%s: segment '%s', expected '%s'\n", customer, got, segment);
    assert_string_equal(got, segment);
    medrep__get_customer_grades_reply__free_unpacked(r, NULL);
}

/* ---- Data ---- */

static const char *products_csv =
    "id,name,therapy_area,competitors\n"
    "P1,Onco-1,oncology,\"X, Y\"\n"
    "P2,Cardio-2,cardiology,Z\n";

static const char *hospitals_csv =
    "id,name,tier,beds,outpatient_visits,lat,lon,opening_hours\n"
    "H1,First People's,3,1200,3000,31.2,121.4,mon-fri 08:00-17:30\n"
    "H2,County,2,300,800,31.0,121.0,\n"
    "H3,Broken,7,10,10,0,0,\n";

static const char *listings_csv =
    "hospital_id,product_id,listing,channel\n"
    "H1,P1,listed,open\n"
    "H2,P1,applied,blocked\n"
    "H9,P1,listed,open\n"
    "H1,P2,sold,open\n";

static const char *reps_csv =
    "id,name,team,dm_id,home_lat,home_lon\n"
    "R1,Li,ONC,DM1,31.2,121.4\n"
    "R2,Wang,ONC,DM1,31.0,121.0\n"
    "R3,Zhao,GEN,DM2,31.0,121.0\n";

static const char *customers_csv =
    "id,name,kind,hospital_id,department_id,rep_id,title,setting,kol,group,compliance_risk\n"
    "C1,Dr One,prescriber,H1,D1,R1,chief,outpatient,1,,low\n"
    "C2,Dr Two,prescriber,H1,D1,R1,attending,inpatient,0,,high\n"
    "C3,Dr Three,prescriber,H1,D1,R1,professor,inpatient,0,,low\n"
    "C3,Dr Three,prescriber,H1,D1,R1,associate_chief,inpatient,0,,low\n"
    "C4,Dr Four,prescriber,H1,D1,R1,resident,outpatient,0,,\n"
    "C5,Dr Five,prescriber,H1,D1,R1,resident\n"
    "C5,Dr Five,prescriber,H1,D1,R1,resident,outpatient,0,,\n"
    "C6,Dr Six,prescriber,H1,D1,R1,resident,outpatient,0,,\n"
    "C7,Dr Seven,prescriber,H2,D2,R2,chief,outpatient,0,,\n"
    "C8,Dr Eight,prescriber,H2,D2,R2,chief,outpatient,0,,\n"
    "N1,Ms Store,non_prescriber,H1,,R1,,,0,storekeeper,\n"
    "N2,Mr Nobody,non_prescriber,H1,,R1,,,0,,\n";

/* 3 months each; market 400..20; see the expected segments below. */
static const char *rx_csv =
    "customer_id,product_id,month,our_rx,market_rx,patients_per_week\n"
    "C1,P1,2026-07,100,400,\nC1,P1,2026-08,100,400,\nC1,P1,2026-09,100,400,\n"
    "C2,P1,2026-07,30,300,\nC2,P1,2026-08,30,300,\nC2,P1,2026-09,30,300,\n"
    "C3,P1,2026-07,60,200,\nC3,P1,2026-08,60,200,\nC3,P1,2026-09,60,200,\n"
    "C4,P1,2026-07,5,100,\nC4,P1,2026-08,5,100,\nC4,P1,2026-09,5,100,\n"
    "C5,P1,2026-07,20,50,\nC5,P1,2026-08,20,50,\nC5,P1,2026-09,20,50,\n"
    "C6,P1,2026-07,0,20,\nC6,P1,2026-08,0,20,\nC6,P1,2026-09,0,20,\n"
    "C7,P1,2026-07,0,250,\nC7,P1,2026-08,0,250,\nC7,P1,2026-09,0,250,\n"
    "C8,P1,2026-07,40,150,\nC8,P1,2026-08,40,150,\nC8,P1,2026-09,40,150,\n"
    "C99,P1,2026-09,1,2,\n"
    "C1,P1,2026-13,1,2,\n"
    "C1,P1,2026-06,-1,2,\n"
    "C1,P9,2026-06,1,2,\n";

/* ---- Tests ---- */

static void master_data_import_reports_bad_rows_by_line(void **state)
{
    (void)state;
    import_expect("products", products_csv, 2, 0, 0);
    int code;
    Medrep__ImportChunkReply *r = import("hospitals", hospitals_csv, &code);
    assert_int_equal(code, MR_OK);
    assert_int_equal(r->rows_ok, 2);
    assert_int_equal(r->n_errors, 1);
    assert_int_equal(r->errors[0]->line, 4);
    assert_non_null(strstr(r->errors[0]->reason, "tier"));
    medrep__import_chunk_reply__free_unpacked(r, NULL);

    r = import("listings", listings_csv, &code);
    assert_int_equal(r->rows_ok, 2);
    assert_int_equal(r->n_errors, 2);
    assert_int_equal(r->errors[0]->line, 4);   /* unknown hospital H9 */
    assert_int_equal(r->errors[1]->line, 5);   /* listing "sold" */
    medrep__import_chunk_reply__free_unpacked(r, NULL);

    import_expect("reps", reps_csv, 3, 0, 0);
    r = import("customers", customers_csv, &code);
    assert_int_equal(r->rows_ok, 9);
    assert_int_equal(r->rows_bad, 3);
    assert_int_equal(r->errors[0]->line, 4);   /* title professor */
    assert_non_null(strstr(r->errors[0]->reason, "title"));
    assert_int_equal(r->errors[1]->line, 7);   /* too few fields */
    assert_int_equal(r->errors[2]->line, 13);  /* non-prescriber without group */
    medrep__import_chunk_reply__free_unpacked(r, NULL);

    import_expect("windows", "customer_id,windows\nC1,\"mon,wed 08:00-09:00\"\nC42,fri 14:00-15:00\n", 1, 0, 1);

    mr_customer c;
    assert_int_equal(mr_md_get_customer(store, "north", "C1", &c), 1);
    assert_string_equal(c.windows, "mon,wed 08:00-09:00");
    assert_string_equal(c.title, "chief");   /* kept: the windows file has no title column */
    assert_true(c.kol);
    assert_string_equal(c.rep_id, "R1");
    mr_listing l;
    bool open;
    assert_int_equal(mr_md_get_listing(store, "north", "H2", "P1", &l, &open), 1);
    assert_int_equal(l, MR_LISTING_APPLIED);
    assert_false(open);
    char **ids;
    long n = mr_md_list(store, "north", "md:rep:R2:customers", &ids);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], "C7");
    mr_md_free_ids(ids, n);
    n = mr_md_list(store, "north", "md:team:ONC:reps", &ids);
    assert_int_equal(n, 2);
    mr_md_free_ids(ids, n);
}

static void reimport_of_master_data_changes_nothing(void **state)
{
    (void)state;
    mr_val *before = mr_store_cmd(store, "DBSIZE");
    long long keys = mr_val_int(before);
    mr_val_free(&before);
    import_expect("products", products_csv, 0, 2, 0);
    import_expect("reps", reps_csv, 0, 3, 0);
    import_expect("customers", customers_csv, 0, 9, 3);
    /* a moved customer leaves its old rep's index */
    import_expect("customers", "id,rep_id\nC8,R3\n", 1, 0, 0);
    assert_int_equal(h_redis_int(store, "SISMEMBER %s C8", "{r:north}:md:rep:R2:customers"), 0);
    assert_int_equal(h_redis_int(store, "SISMEMBER %s C8", "{r:north}:md:rep:R3:customers"), 1);
    import_expect("customers", "id,rep_id\nC8,R2\n", 1, 0, 0);
    /* one id twice in a chunk: the second row builds on the first */
    import_expect("reps", "id,team\nR9,GEN\nR9,ONC\n", 2, 0, 0);
    assert_int_equal(h_redis_int(store, "SISMEMBER %s R9", "{r:north}:md:team:GEN:reps"), 0);
    assert_int_equal(h_redis_int(store, "SISMEMBER %s R9", "{r:north}:md:team:ONC:reps"), 1);
    import_expect("reps", "id,team\nR9,GEN\n", 1, 0, 0);
    /* partial updates keep the stored required fields; a new record needs them */
    import_expect("departments", "id,hospital_id,name\nD1,H1,Oncology\n", 1, 0, 0);
    import_expect("departments", "id,headcount\nD1,9\nD9,3\n", 1, 0, 1);
    import_expect("reps", "id,name\nR1,Li Wei\n", 1, 0, 0);
    import_expect("hospitals", "id,beds\nH2,320\nH7,10\n", 1, 0, 1);
    mr_department d;
    assert_int_equal(mr_md_get_department(store, "north", "D1", &d), 1);
    assert_string_equal(d.hospital_id, "H1");
    assert_int_equal(d.headcount, 9);
    mr_val *after = mr_store_cmd(store, "DBSIZE");
    /* only the stored replies of the requests were added */
    assert_true(mr_val_int(after) >= keys);
    mr_val_free(&after);
}

static void prescriptions_grade_and_announce(void **state)
{
    (void)state;
    int code;
    Medrep__ImportChunkReply *r = import("prescriptions", rx_csv, &code);
    assert_int_equal(code, MR_OK);
    assert_int_equal(r->rows_ok, 24);
    assert_int_equal(r->rows_bad, 4);
    assert_int_equal(r->errors[0]->line, 26);
    assert_non_null(strstr(r->errors[0]->reason, "C99"));
    assert_int_equal(r->errors[1]->line, 27);
    assert_non_null(strstr(r->errors[1]->reason, "month"));
    assert_int_equal(r->errors[2]->line, 28);
    assert_int_equal(r->errors[3]->line, 29);
    assert_non_null(strstr(r->errors[3]->reason, "P9"));
    medrep__import_chunk_reply__free_unpacked(r, NULL);

    long events_before = regraded_events();
    assert_int_equal(regrade_all(), 8);
    assert_int_equal(regraded_events(), events_before + 8);
    expect_segment("C1", "A");
    expect_segment("C3", "A");
    expect_segment("C2", "B");
    expect_segment("C7", "B");
    expect_segment("C5", "C");
    expect_segment("C8", "C");
    expect_segment("C4", "D");
    expect_segment("C6", "D");
    expect_segment("N1", "?");

    Medrep__GetCustomerGradesReply *g = grades_of("C2");
    assert_int_equal(g->n_grades, 1);
    Medrep__Grade *gr = g->grades[0];
    assert_string_equal(gr->segment_reason, "B: potential 300 >= region median 175; share 10% < 20%");
    assert_int_equal(gr->prescription_status, 2);
    assert_true(gr->compliance_risk);           /* compliance_risk high */
    assert_int_equal(g->n_history, 1);
    assert_string_equal(g->history[0]->new_segment, "B");
    assert_string_equal(g->history[0]->old_segment, "");
    medrep__get_customer_grades_reply__free_unpacked(g, NULL);
    g = grades_of("C7");
    assert_int_equal(g->grades[0]->prescription_status, -1);   /* listing application filed */
    medrep__get_customer_grades_reply__free_unpacked(g, NULL);
    g = grades_of("C1");
    assert_string_equal(g->grades[0]->key_account_tier, "strategic");   /* KOL, top potential */
    medrep__get_customer_grades_reply__free_unpacked(g, NULL);
}

static void reimport_of_prescriptions_changes_nothing(void **state)
{
    (void)state;
    long events_before = regraded_events();
    import_expect("prescriptions", rx_csv, 0, 24, 4);
    assert_int_equal(regrade_all(), 0);
    assert_int_equal(regraded_events(), events_before);
}

static void queries_answer(void **state)
{
    (void)state;
    Medrep__SegmentMatrixRequest m = MEDREP__SEGMENT_MATRIX_REQUEST__INIT;
    m.product_id = "P1";
    m.team = "ONC";
    ProtobufCMessage *out = NULL;
    assert_int_equal(rpc("SegmentMatrix", &m.base, &medrep__segment_matrix_reply__descriptor, &out, NULL), MR_OK);
    Medrep__SegmentMatrixReply *mr = (Medrep__SegmentMatrixReply *)out;
    assert_int_equal(mr->n_counts, 4);
    int64_t expect_team[4] = {2, 2, 2, 2};
    for (int s = 0; s < 4; s++)
        assert_int_equal(mr->counts[s]->count, expect_team[s]);
    medrep__segment_matrix_reply__free_unpacked(mr, NULL);
    m.team = NULL;
    m.rep_id = "R2";
    assert_int_equal(rpc("SegmentMatrix", &m.base, &medrep__segment_matrix_reply__descriptor, &out, NULL), MR_OK);
    mr = (Medrep__SegmentMatrixReply *)out;
    assert_int_equal(mr->counts[0]->count, 0);
    assert_int_equal(mr->counts[1]->count, 1);
    assert_int_equal(mr->counts[2]->count, 1);
    medrep__segment_matrix_reply__free_unpacked(mr, NULL);

    Medrep__ListCustomersRequest lc = MEDREP__LIST_CUSTOMERS_REQUEST__INIT;
    lc.rep_id = "R1";
    lc.product_id = "P1";
    lc.segment = "D";
    assert_int_equal(rpc("ListCustomers", &lc.base, &medrep__list_customers_reply__descriptor, &out, NULL), MR_OK);
    Medrep__ListCustomersReply *lr = (Medrep__ListCustomersReply *)out;
    assert_int_equal(lr->n_grades, 2);
    assert_string_equal(lr->grades[0]->customer_id, "C4");
    assert_string_equal(lr->grades[1]->customer_id, "C6");
    medrep__list_customers_reply__free_unpacked(lr, NULL);
    lc.segment = NULL;
    lc.page_size = 5, lc.has_page_size = true;
    assert_int_equal(rpc("ListCustomers", &lc.base, &medrep__list_customers_reply__descriptor, &out, NULL), MR_OK);
    lr = (Medrep__ListCustomersReply *)out;
    assert_int_equal(lr->n_grades, 5);
    assert_string_equal(lr->next_page_token, "5");
    medrep__list_customers_reply__free_unpacked(lr, NULL);

    Medrep__HospitalGradesRequest hg = MEDREP__HOSPITAL_GRADES_REQUEST__INIT;
    hg.product_id = "P1";
    assert_int_equal(rpc("HospitalGrades", &hg.base, &medrep__hospital_grades_reply__descriptor, &out, NULL), MR_OK);
    Medrep__HospitalGradesReply *hr = (Medrep__HospitalGradesReply *)out;
    assert_int_equal(hr->n_grades, 2);
    assert_string_equal(hr->grades[0]->hospital_id, "H1");
    assert_string_equal(hr->grades[0]->grade, "A");
    assert_string_equal(hr->grades[1]->grade, "B");   /* 42.1: tier 2, 300 beds, use 400 */
    assert_true(hr->grades[1]->score > 40 && hr->grades[1]->score < 45);
    medrep__hospital_grades_reply__free_unpacked(hr, NULL);

    Medrep__GradeChangesRequest gc = MEDREP__GRADE_CHANGES_REQUEST__INIT;
    gc.since_ms = 0, gc.has_since_ms = true;
    assert_int_equal(rpc("GradeChanges", &gc.base, &medrep__grade_changes_reply__descriptor, &out, NULL), MR_OK);
    Medrep__GradeChangesReply *gr = (Medrep__GradeChangesReply *)out;
    assert_int_equal(gr->n_changes, 8);
    medrep__grade_changes_reply__free_unpacked(gr, NULL);
    /* paged: 3 + 3 + 2, each change once */
    char token[64] = "";
    int seen = 0, pages = 0;
    do {
        gc.page_token = token;
        gc.page_size = 3, gc.has_page_size = true;
        assert_int_equal(rpc("GradeChanges", &gc.base, &medrep__grade_changes_reply__descriptor, &out, NULL), MR_OK);
        gr = (Medrep__GradeChangesReply *)out;
        seen += (int)gr->n_changes;
        pages++;
        snprintf(token, sizeof token, "%s", gr->next_page_token ? gr->next_page_token : "");
        medrep__grade_changes_reply__free_unpacked(gr, NULL);
    } while (token[0] && pages < 10);
    assert_int_equal(seen, 8);
    assert_int_equal(pages, 3);
    gc.page_token = "not-a-token";
    assert_int_equal(rpc("GradeChanges", &gc.base, &medrep__grade_changes_reply__descriptor, &out, NULL),
                     MR_INVALID_ARGUMENT);
    gc.page_token = NULL;
    gc.has_page_size = false;
    gc.since_ms = mr_now_ms() + 60000;
    assert_int_equal(rpc("GradeChanges", &gc.base, &medrep__grade_changes_reply__descriptor, &out, NULL), MR_OK);
    gr = (Medrep__GradeChangesReply *)out;
    assert_int_equal(gr->n_changes, 0);
    medrep__grade_changes_reply__free_unpacked(gr, NULL);
}

static double hospital_use(const char *hospital)
{
    mr_val *v = mr_store_cmd(store, "HGET {r:north}:sc:hmkt:P1 %s", hospital);
    const char *t = mr_val_str(v, NULL);
    double use = t ? atof(t) : 0;
    mr_val_free(&v);
    return use;
}

static void moving_a_customer_moves_its_use(void **state)
{
    (void)state;
    /* H1: C1..C6 = 400+300+200+100+50+20; H2: C7+C8 = 250+150 */
    assert_true(hospital_use("H1") == 1070);
    assert_true(hospital_use("H2") == 400);
    import_expect("customers", "id,hospital_id\nC1,H2\n", 1, 0, 0);
    assert_true(hospital_use("H1") == 670);
    assert_true(hospital_use("H2") == 800);
    import_expect("customers", "id,hospital_id\nC1,H1\n", 1, 0, 0);
    assert_true(hospital_use("H1") == 1070);
}

static void threshold_change_regrades_only_moved_customers(void **state)
{
    (void)state;
    h_proc_kill(&stack.procs[scoring_proc], SIGTERM);
    assert_int_equal(h_stack_wait_workers(&stack, "scoring", 0, 10000), 0);
    const char *env[] = {"MEDREP__SCORING__POTENTIAL_THRESHOLD=absolute",
                         "MEDREP__SCORING__POTENTIAL_ABSOLUTE=250", NULL};
    assert_int_equal(start_scoring("scoring-b", env), 0);
    long events_before = regraded_events();
    assert_int_equal(regrade_all(), 1);
    assert_int_equal(regraded_events(), events_before + 1);
    expect_segment("C3", "C");
    expect_segment("C1", "A");
    Medrep__GetCustomerGradesReply *g = grades_of("C3");
    assert_int_equal(g->n_history, 2);
    assert_string_equal(g->history[0]->old_segment, "A");
    assert_string_equal(g->history[0]->new_segment, "C");
    assert_non_null(strstr(g->history[0]->reason, "< threshold 250"));
    medrep__get_customer_grades_reply__free_unpacked(g, NULL);
}

static void single_update_regrades_the_customer(void **state)
{
    (void)state;
    long events_before = regraded_events();
    Medrep__PrescriptionUpdate row = MEDREP__PRESCRIPTION_UPDATE__INIT;
    row.customer_id = "C6";
    row.product_id = "P1";
    row.month = "2026-10";
    row.our_rx = 20, row.has_our_rx = true;
    row.market_rx = 20, row.has_market_rx = true;
    Medrep__UpdatePrescriptionRequest req = MEDREP__UPDATE_PRESCRIPTION_REQUEST__INIT;
    req.row = &row;
    ProtobufCMessage *out = NULL;
    assert_int_equal(rpc("UpdatePrescription", &req.base, &medrep__update_prescription_reply__descriptor,
                         &out, NULL), MR_OK);
    Medrep__UpdatePrescriptionReply *r = (Medrep__UpdatePrescriptionReply *)out;
    assert_true(r->changed);
    assert_string_equal(r->grade->segment, "C");   /* share 6.67/20 = 33% over 08..10 */
    medrep__update_prescription_reply__free_unpacked(r, NULL);
    assert_int_equal(regraded_events(), events_before + 1);
    /* the same update again: nothing changes, the grade is still told */
    assert_int_equal(rpc("UpdatePrescription", &req.base, &medrep__update_prescription_reply__descriptor,
                         &out, NULL), MR_OK);
    r = (Medrep__UpdatePrescriptionReply *)out;
    assert_false(r->changed);
    assert_string_equal(r->grade->segment, "C");
    medrep__update_prescription_reply__free_unpacked(r, NULL);
    assert_int_equal(regraded_events(), events_before + 1);
    /* bad values are refused and change nothing */
    row.market_rx = -5;
    char msg[512];
    assert_int_equal(rpc("UpdatePrescription", &req.base, &medrep__update_prescription_reply__descriptor,
                         &out, msg), MR_INVALID_ARGUMENT);
    row.market_rx = 20;
    row.customer_id = "C404";
    assert_int_equal(rpc("UpdatePrescription", &req.base, &medrep__update_prescription_reply__descriptor,
                         &out, msg), MR_NOT_FOUND);
    assert_int_equal(regraded_events(), events_before + 1);
}

static void call_logged_moves_the_adoption_ladder(void **state)
{
    (void)state;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CallLogged cl = MEDREP__CALL_LOGGED__INIT;
    cl.call_id = "K1";
    cl.customer_id = "C1";
    cl.product_id = "P1";
    cl.adoption_stage_before = 2, cl.has_adoption_stage_before = true;
    cl.adoption_stage_after = 3, cl.has_adoption_stage_after = true;
    ev.event_id = "test-call-1";
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_CALL_LOGGED;
    ev.call_logged = &cl;
    mr_tx *tx = mr_tx_new();
    assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
    long long stage = -1;
    for (int i = 0; i < 200 && stage != 3; i++) {
        usleep(25 * 1000);
        stage = h_redis_int(store, "HGET %s C1", "{r:north}:sc:adopt:P1");
    }
    assert_int_equal(stage, 3);
    Medrep__GetCustomerGradesReply *g = grades_of("C1");
    assert_int_equal(g->grades[0]->adoption_stage, 3);
    medrep__get_customer_grades_reply__free_unpacked(g, NULL);

    /* set directly, with the grade in the reply */
    Medrep__SetAdoptionRequest sa = MEDREP__SET_ADOPTION_REQUEST__INIT;
    sa.customer_id = "C1";
    sa.product_id = "P1";
    sa.stage = 4, sa.has_stage = true;
    ProtobufCMessage *out = NULL;
    assert_int_equal(rpc("SetAdoption", &sa.base, &medrep__set_adoption_reply__descriptor, &out, NULL), MR_OK);
    Medrep__SetAdoptionReply *r = (Medrep__SetAdoptionReply *)out;
    assert_int_equal(r->grade->adoption_stage, 4);
    assert_non_null(strstr(r->grade->explanation, "adoption 4"));
    medrep__set_adoption_reply__free_unpacked(r, NULL);
    /* a pre-listing stance moves the status of a customer at a hospital without listing */
    import_expect("listings", "hospital_id,product_id,listing,channel\nH2,P1,not_listed,blocked\n", 1, 0, 0);
    sa.customer_id = "C8";
    sa.has_stage = false;
    sa.stance = -4, sa.has_stance = true;
    assert_int_equal(rpc("SetAdoption", &sa.base, &medrep__set_adoption_reply__descriptor, &out, NULL), MR_OK);
    r = (Medrep__SetAdoptionReply *)out;
    assert_int_equal(r->grade->prescription_status, -4);
    medrep__set_adoption_reply__free_unpacked(r, NULL);
    sa.product_id = "P404";
    assert_int_equal(rpc("SetAdoption", &sa.base, &medrep__set_adoption_reply__descriptor, &out, NULL), MR_NOT_FOUND);
}

static void bad_requests_change_nothing(void **state)
{
    (void)state;
    mr_val *before = mr_store_cmd(store, "DBSIZE");
    long long keys = mr_val_int(before);
    mr_val_free(&before);
    int code;
    Medrep__ImportChunkReply *r = import("spaceships", "id\nX1\n", &code);
    assert_int_equal(code, MR_INVALID_ARGUMENT);
    assert_null(r);
    r = import("products", "id,colour\nP7,red\n", &code);
    assert_int_equal(code, MR_INVALID_ARGUMENT);
    r = import("products", "name\nNo id\n", &code);
    assert_int_equal(code, MR_INVALID_ARGUMENT);
    r = import("products", "\"id\n", &code);
    assert_int_equal(code, MR_INVALID_ARGUMENT);
    Medrep__RegradeRequest rq = MEDREP__REGRADE_REQUEST__INIT;
    rq.cursor = "no-slash";
    ProtobufCMessage *out = NULL;
    assert_int_equal(rpc("Regrade", &rq.base, &medrep__regrade_reply__descriptor, &out, NULL), MR_INVALID_ARGUMENT);
    Medrep__SetAdoptionRequest sa = MEDREP__SET_ADOPTION_REQUEST__INIT;
    sa.customer_id = "C1";
    sa.product_id = "P1";
    sa.stage = 5, sa.has_stage = true;
    assert_int_equal(rpc("SetAdoption", &sa.base, &medrep__set_adoption_reply__descriptor, &out, NULL),
                     MR_INVALID_ARGUMENT);
    mr_val *after = mr_store_cmd(store, "DBSIZE");
    assert_int_equal(mr_val_int(after), keys);
    mr_val_free(&after);
}

static void bad_configuration_stops_the_start(void **state)
{
    (void)state;
    const char *env[] = {"MEDREP__SCORING__STATUS_SHARE_2=0.9", NULL};
    int i = h_stack_start_service(&stack, "scoring", "scoring-badcfg", env);
    assert_true(i >= 0);
    bool alive = true;
    for (int k = 0; k < 500 && alive; k++) {
        usleep(10 * 1000);
        alive = h_proc_alive(&stack.procs[i]);
    }
    assert_false(alive);   /* exited (status 2) with a message naming the key */
}

/* Random payloads at every method: a clear error or a normal answer,
 * never a crash, and the service still answers afterwards. */
static void random_payloads_are_refused_cleanly(void **state)
{
    (void)state;
    static const char *const methods[] = {"ImportChunk", "UpdatePrescription", "Regrade", "SetAdoption",
                                          "GetCustomerGrades", "SegmentMatrix", "GradeChanges",
                                          "HospitalGrades", "ListCustomers"};
    unsigned seed = 7;
    uint8_t buf[64];
    for (int round = 0; round < 40; round++) {
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
            size_t len = (seed = seed * 1103515245u + 12345u) % sizeof buf;
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
            Medrep__Request req = MEDREP__REQUEST__INIT;
            req.method = (char *)methods[m];
            req.region = "north";
            req.payload.data = buf, req.payload.len = len, req.has_payload = true;
            Medrep__Reply *reply = mr_client_call(client, "scoring", &req, 10000);
            int code = reply->status->code;
            assert_true(code == MR_OK || code == MR_INVALID_ARGUMENT || code == MR_NOT_FOUND ||
                        code == MR_FAILED_PRECONDITION);
            medrep__reply__free_unpacked(reply, NULL);
        }
    }
    expect_segment("C1", "A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(master_data_import_reports_bad_rows_by_line),
        cmocka_unit_test(reimport_of_master_data_changes_nothing),
        cmocka_unit_test(prescriptions_grade_and_announce),
        cmocka_unit_test(reimport_of_prescriptions_changes_nothing),
        cmocka_unit_test(queries_answer),
        cmocka_unit_test(moving_a_customer_moves_its_use),
        cmocka_unit_test(threshold_change_regrades_only_moved_customers),
        cmocka_unit_test(single_update_regrades_the_customer),
        cmocka_unit_test(call_logged_moves_the_adoption_ladder),
        cmocka_unit_test(bad_requests_change_nothing),
        cmocka_unit_test(random_payloads_are_refused_cleanly),
        cmocka_unit_test(bad_configuration_stops_the_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
