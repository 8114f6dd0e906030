/* test_scoring_monthly.c: scoring's MonthlyPrescriptions query through the
 * real broker on a real Redis: the monthly figures of a customer list as
 * a prescriptions import stored them (months without data and unknown
 * customers left out, a re-imported month replaced), and bad requests
 * answered INVALID_ARGUMENT. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calls.h"
#include "errors.h"
#include "masterdata.h"
#include "scoring.pb-c.h"
#include "stack.h"

static h_stack stack;
static mr_client *client;
static mr_store *store;

static void seed_customer(mr_tx *tx, const char *id)
{
    mr_customer c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "Dr %s", id);
    c.kind = MR_CUSTOMER_PRESCRIBER;
    snprintf(c.hospital_id, sizeof c.hospital_id, "H1");
    snprintf(c.department_id, sizeof c.department_id, "D1");
    snprintf(c.rep_id, sizeof c.rep_id, "R1");
    snprintf(c.title, sizeof c.title, "attending");
    snprintf(c.setting, sizeof c.setting, "inpatient");
    mr_md_stage_customer(tx, "north", &c, NULL);
}

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, NULL) != 0 || h_stack_start_service(&stack, "scoring", "scoring-a", NULL) < 0 ||
        h_stack_wait_workers(&stack, "scoring", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 5000);
    store = h_stack_store(&stack, 0);
    mr_tx *tx = mr_tx_new();
    mr_product p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "P1");
    snprintf(p.name, sizeof p.name, "Cardiozol");
    mr_md_stage_product(tx, "north", &p);
    seed_customer(tx, "C1");
    seed_customer(tx, "C2");
    seed_customer(tx, "C3");
    int rc = mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
    mr_tx_free(&tx);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static void import_rx(const char *csv)
{
    const char *header = "customer_id,product_id,month,our_rx,market_rx,patients_per_week";
    char text[1024];
    snprintf(text, sizeof text, "%s\n%s", header, csv);
    Medrep__ImportChunkRequest req = MEDREP__IMPORT_CHUNK_REQUEST__INIT;
    req.kind = "prescriptions", req.header = (char *)header;
    req.first_line = 1, req.has_first_line = true;
    req.csv.data = (uint8_t *)text, req.csv.len = strlen(text), req.has_csv = true;
    ProtobufCMessage *out = NULL;
    char msg[256];
    assert_int_equal(mr_client_rpc(client, "scoring", "ImportChunk", "north", NULL, &req.base,
                                   &medrep__import_chunk_reply__descriptor, &out, 10000, msg, sizeof msg),
                     MR_OK);
    assert_int_equal(((Medrep__ImportChunkReply *)out)->rows_bad, 0);
    protobuf_c_message_free_unpacked(out, NULL);
}

static int monthly(const char *product, char **customers, size_t nc, char **months, size_t nm,
                   Medrep__MonthlyPrescriptionsReply **out)
{
    Medrep__MonthlyPrescriptionsRequest req = MEDREP__MONTHLY_PRESCRIPTIONS_REQUEST__INIT;
    req.product_id = (char *)product;
    req.customer_ids = customers, req.n_customer_ids = nc;
    req.months = months, req.n_months = nm;
    char msg[256];
    *out = NULL;
    return mr_client_rpc(client, "scoring", "MonthlyPrescriptions", "north", NULL, &req.base,
                         &medrep__monthly_prescriptions_reply__descriptor, (ProtobufCMessage **)out, 10000, msg,
                         sizeof msg);
}

static const Medrep__CustomerMonth *find(const Medrep__MonthlyPrescriptionsReply *r, const char *c, const char *m)
{
    for (size_t i = 0; i < r->n_months; i++)
        if (strcmp(r->months[i]->customer_id, c) == 0 && strcmp(r->months[i]->month, m) == 0)
            return r->months[i];
    return NULL;
}

static void returns_the_stored_months(void **state)
{
    (void)state;
    import_rx("C1,P1,2026-08,10,100,\nC1,P1,2026-09,12,100,4\nC2,P1,2026-09,5,50,\nC1,P1,2026-12,30,100,\n");
    import_rx("C1,P1,2026-09,20,80,\n");   /* replaces C1's September */
    char *customers[] = {"C1", "C2", "C3", "NOBODY"};
    char *months[] = {"2026-08", "2026-09", "2026-10", "2026-12"};
    Medrep__MonthlyPrescriptionsReply *r = NULL;
    assert_int_equal(monthly("P1", customers, 4, months, 4, &r), MR_OK);
    assert_non_null(r);
    assert_int_equal(r->n_months, 4);   /* C1: 08, 09, 12; C2: 09 */
    const Medrep__CustomerMonth *c = find(r, "C1", "2026-09");
    assert_non_null(c);
    assert_true(c->our > 19.99 && c->our < 20.01 && c->market > 79.99 && c->market < 80.01);
    c = find(r, "C2", "2026-09");
    assert_non_null(c);
    assert_true(c->our > 4.99 && c->our < 5.01 && c->market > 49.99 && c->market < 50.01);
    assert_non_null(find(r, "C1", "2026-12"));
    assert_null(find(r, "C1", "2026-10"));
    assert_null(find(r, "C3", "2026-09"));
    medrep__monthly_prescriptions_reply__free_unpacked(r, NULL);
    /* another product: nothing */
    assert_int_equal(monthly("P2", customers, 4, months, 4, &r), MR_OK);
    assert_int_equal(r->n_months, 0);
    medrep__monthly_prescriptions_reply__free_unpacked(r, NULL);
}

static void bad_requests_are_refused(void **state)
{
    (void)state;
    char *customers[] = {"C1"}, *bad_id[] = {"C 1"};
    char *months[] = {"2026-09"}, *bad_month[] = {"2026-13"}, *bad_month2[] = {"2026-9"};
    Medrep__MonthlyPrescriptionsReply *r = NULL;
    assert_int_equal(monthly("P1", customers, 1, bad_month, 1, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(monthly("P1", customers, 1, bad_month2, 1, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(monthly("P1", customers, 0, months, 1, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(monthly("P1", customers, 1, months, 0, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(monthly("P1", bad_id, 1, months, 1, &r), MR_INVALID_ARGUMENT);
    assert_int_equal(monthly("", customers, 1, months, 1, &r), MR_INVALID_ARGUMENT);
    char *many[37];
    for (int i = 0; i < 37; i++)
        many[i] = "2026-01";
    assert_int_equal(monthly("P1", customers, 1, many, 37, &r), MR_INVALID_ARGUMENT);
    assert_null(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(returns_the_stored_months),
        cmocka_unit_test(bad_requests_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
