/* handlers.c: the scoring service's methods: protobuf request -> core
 * (import.c, rx.c, regrade.c over grade.c) -> store -> reply/events. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "events.h"
#include "import.h"
#include "layout.h"
#include "masterdata.h"
#include "regrade.h"
#include "settings.h"

#define PAGE_DEFAULT 2000
#define PAGE_MAX 10000

static int page_size(int32_t has, int32_t asked)
{
    if (!has || asked <= 0)
        return PAGE_DEFAULT;
    return asked > PAGE_MAX ? PAGE_MAX : asked;
}

/* ---- ImportChunk ---- */

static int import_chunk(mr_call *call)
{
    Medrep__ImportChunkRequest *req = mr_call_decode(call, &medrep__import_chunk_request__descriptor);
    if (!req)
        return call->code;
    sc_chunk_result *res = calloc(1, sizeof *res);
    if (!res || sc_import_chunk(call, req, res) != MR_OK) {
        if (!res)
            mr_call_fail(call, MR_INTERNAL, "out of memory");
        free(res);
        medrep__import_chunk_request__free_unpacked(req, NULL);
        return call->code;
    }
    Medrep__ImportChunkReply reply = MEDREP__IMPORT_CHUNK_REPLY__INIT;
    Medrep__RowError errs[SC_MAX_ROW_ERRORS], *perrs[SC_MAX_ROW_ERRORS];
    for (size_t i = 0; i < res->nerrors; i++) {
        medrep__row_error__init(&errs[i]);
        errs[i].line = res->errors[i].line;
        errs[i].has_line = true;
        errs[i].reason = res->errors[i].reason;
        perrs[i] = &errs[i];
    }
    reply.rows_ok = res->ok, reply.has_rows_ok = true;
    reply.rows_unchanged = res->unchanged, reply.has_rows_unchanged = true;
    reply.rows_bad = res->bad, reply.has_rows_bad = true;
    reply.errors = perrs;
    reply.n_errors = res->nerrors;
    mr_call_reply(call, &reply.base);
    free(res);
    medrep__import_chunk_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- UpdatePrescription ---- */

static int update_prescription(mr_call *call)
{
    Medrep__UpdatePrescriptionRequest *req =
        mr_call_decode(call, &medrep__update_prescription_request__descriptor);
    if (!req)
        return call->code;
    Medrep__PrescriptionUpdate *u = req->row;
    sc_rx_row row = {.line = 1, .patients = -1};
    if (!u || !u->customer_id || !u->product_id || !u->month || !u->has_our_rx || !u->has_market_rx ||
        strlen(u->customer_id) >= MR_ID_MAX || strlen(u->product_id) >= MR_ID_MAX ||
        strlen(u->month) > 7) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "row needs customer_id, product_id, month, our_rx and market_rx");
        goto done;
    }
    strcpy(row.customer, u->customer_id);
    strcpy(row.product, u->product_id);
    strcpy(row.month, u->month);
    row.our = u->our_rx;
    row.market = u->market_rx;
    if (u->has_patients_per_week)
        row.patients = u->patients_per_week;
    const char *why = sc_rx_row_check(&row);
    if (why || (u->has_patients_per_week && u->patients_per_week < 0)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "%s", why ? why : "patients_per_week must be >= 0");
        goto done;
    }
    sc_chunk_result res = {0};
    sc_means means = {.patients = -1};
    if (sc_stage_prescription(call, &row, &res, &means) != MR_OK)
        goto done;
    if (res.bad) {
        mr_call_fail(call, MR_NOT_FOUND, "%s", res.errors[0].reason);
        goto done;
    }
    /* the grade of this customer follows at once; the rest of the region
     * moves with the next Regrade (the median may have shifted) */
    const char *ids[] = {row.customer};
    sc_regrade_stats st = {0};
    Medrep__Grade *g = NULL;
    sc_staged staged = {.means = &means, .adoption_stage = -1, .stance = -1};
    if (sc_regrade_customers(call, row.product, ids, 1, &staged, &st, &g) == MR_OK) {
        Medrep__UpdatePrescriptionReply reply = MEDREP__UPDATE_PRESCRIPTION_REPLY__INIT;
        reply.grade = g;
        reply.changed = res.ok > 0, reply.has_changed = true;
        mr_call_reply(call, &reply.base);
    }
    sc_grade_msg_free(g);
done:
    medrep__update_prescription_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- Regrade ---- */

/* The product at or after `from` in the sorted product list ("" = first). */
static int next_product(mr_call *call, const char *from, bool after, char *out, size_t cap)
{
    char **ids;
    long n = mr_md_list(call->store, call->region, "md:products", &ids);
    if (n < 0)
        return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    out[0] = '\0';
    for (long i = 0; i < n; i++) {
        int c = strcmp(ids[i], from);
        if (c > 0 || (c == 0 && !after)) {
            snprintf(out, cap, "%s", ids[i]);
            break;
        }
    }
    mr_md_free_ids(ids, n);
    return MR_OK;
}

static int regrade(mr_call *call)
{
    Medrep__RegradeRequest *req = mr_call_decode(call, &medrep__regrade_request__descriptor);
    if (!req)
        return call->code;
    char product[MR_ID_MAX] = "", next[MR_ID_MAX + 32] = "";
    long start = 0;
    bool single = req->product_id && req->product_id[0];
    const char *cursor = req->cursor ? req->cursor : "";
    const char *colon = strrchr(cursor, '/');
    char *end = NULL;
    if (colon)
        start = strtol(colon + 1, &end, 10);
    if (cursor[0] && (!colon || colon - cursor >= MR_ID_MAX || !end || end == colon + 1 || *end ||
                      start < 0)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "bad cursor '%s'", cursor);
        goto done;
    }
    if (cursor[0])
        snprintf(product, sizeof product, "%.*s", (int)(colon - cursor), cursor);
    else if (single)
        snprintf(product, sizeof product, "%s", req->product_id);
    else if (next_product(call, "", false, product, sizeof product) != MR_OK)
        goto done;
    Medrep__RegradeReply reply = MEDREP__REGRADE_REPLY__INIT;
    sc_regrade_stats st = {0};
    bool more = false;
    if (product[0] && (!mr_md_id_valid(product) ||
                       sc_regrade_page(call, product, start, page_size(req->has_page_size, req->page_size),
                                       &st, &more) != MR_OK)) {
        if (call->code == MR_OK)
            mr_call_fail(call, MR_INVALID_ARGUMENT, "bad product id");
        goto done;
    }
    if (more) {
        snprintf(next, sizeof next, "%s/%ld", product, start + page_size(req->has_page_size, req->page_size));
    } else if (product[0] && !single) {
        char after[MR_ID_MAX];
        if (next_product(call, product, true, after, sizeof after) != MR_OK)
            goto done;
        if (after[0])
            snprintf(next, sizeof next, "%s/0", after);
    }
    reply.graded = st.graded, reply.has_graded = true;
    reply.changed = st.changed, reply.has_changed = true;
    reply.next_cursor = next;
    mr_call_reply(call, &reply.base);
done:
    medrep__regrade_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- SetAdoption ---- */

static int set_adoption(mr_call *call)
{
    Medrep__SetAdoptionRequest *req = mr_call_decode(call, &medrep__set_adoption_request__descriptor);
    if (!req)
        return call->code;
    mr_customer c;
    char key[256], num[16];
    if (!mr_md_id_valid(req->customer_id) || !mr_md_id_valid(req->product_id) ||
        (req->has_stage && (req->stage < 0 || req->stage > 4)) ||
        (req->has_stance && (req->stance < -4 || req->stance > -2)) ||
        (!req->has_stage && !req->has_stance)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "needs customer_id, product_id and stage 0..4 or stance -4..-2");
        goto done;
    }
    mr_product product;
    int found = mr_md_get_product(call->store, call->region, req->product_id, &product);
    if (found == 0) {
        mr_call_fail(call, MR_NOT_FOUND, "product %s is not in the master data", req->product_id);
        goto done;
    }
    found = found < 0 ? -1 : mr_md_get_customer(call->store, call->region, req->customer_id, &c);
    if (found <= 0) {
        mr_call_fail(call, found < 0 ? MR_UNAVAILABLE : MR_NOT_FOUND, "customer %s %s", req->customer_id,
                     found < 0 ? "cannot be read" : "is not in the master data");
        goto done;
    }
    if (req->has_stage) {
        mr_key(key, sizeof key, call->region, SC_KEY_ADOPT, req->product_id);
        snprintf(num, sizeof num, "%d", req->stage);
        mr_tx_addv(call->tx, "HSET", key, req->customer_id, num, NULL);
    }
    if (req->has_stance) {
        mr_key(key, sizeof key, call->region, SC_KEY_STANCE, req->product_id);
        snprintf(num, sizeof num, "%d", req->stance);
        mr_tx_addv(call->tx, "HSET", key, req->customer_id, num, NULL);
    }
    /* the grade follows at once (a pre-listing stance moves the status) */
    const char *ids[] = {req->customer_id};
    sc_staged staged = {.adoption_stage = req->has_stage ? req->stage : -1,
                        .stance = req->has_stance ? req->stance : -1};
    sc_regrade_stats st = {0};
    Medrep__Grade *g = NULL;
    if (sc_regrade_customers(call, req->product_id, ids, 1, &staged, &st, &g) == MR_OK) {
        Medrep__SetAdoptionReply reply = MEDREP__SET_ADOPTION_REPLY__INIT;
        reply.grade = g;
        mr_call_reply(call, &reply.base);
    }
    sc_grade_msg_free(g);
done:
    medrep__set_adoption_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- Queries ---- */

/* The adoption stage moves with call reports between regrades: the
 * current one is shown. */
static void overlay_adoption(mr_call *call, const char *product, const char *customer, Medrep__Grade *g)
{
    char key[256];
    mr_key(key, sizeof key, call->region, SC_KEY_ADOPT, product);
    mr_val *v = mr_store_cmd(call->store, "HGET %s %s", key, customer);
    const char *t = mr_val_str(v, NULL);
    if (t) {
        g->adoption_stage = atoi(t);
        g->has_adoption_stage = true;
    }
    mr_val_free(&v);
}

static int get_customer_grades(mr_call *call)
{
    Medrep__GetCustomerGradesRequest *req =
        mr_call_decode(call, &medrep__get_customer_grades_request__descriptor);
    if (!req)
        return call->code;
    char **products = NULL;
    long np = 0;
    Medrep__Grade **grades = NULL;
    Medrep__GradeChange **hist = NULL;
    size_t ng = 0, nh = 0;
    mr_val *h = NULL;
    if (!mr_md_id_valid(req->customer_id)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "customer_id must be an id");
        goto done;
    }
    np = mr_md_list(call->store, call->region, "md:products", &products);
    grades = calloc(np > 0 ? (size_t)np : 1, sizeof *grades);
    for (long i = 0; grades && i < np; i++) {
        char key[256];
        mr_key(key, sizeof key, call->region, SC_KEY_GRADE, products[i]);
        mr_val *v = mr_store_cmd(call->store, "HGET %s %s", key, req->customer_id);
        size_t len;
        const char *data = mr_val_str(v, &len);
        if (data && (grades[ng] = sc_grade_msg_unpack(data, len)))
            overlay_adoption(call, products[i], req->customer_id, grades[ng++]);
        mr_val_free(&v);
    }
    char key[256];
    mr_key(key, sizeof key, call->region, SC_KEY_HIST, req->customer_id);
    h = mr_store_cmd(call->store, "LRANGE %s 0 -1", key);
    hist = calloc(mr_val_count(h) + 1, sizeof *hist);
    for (size_t i = 0; hist && i < mr_val_count(h); i++) {
        size_t len;
        const char *data = mr_val_str(mr_val_at(h, i), &len);
        if (data && (hist[nh] = medrep__grade_change__unpack(NULL, len, (const uint8_t *)data)))
            nh++;
    }
    if (np < 0 || !h) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    } else {
        Medrep__GetCustomerGradesReply reply = MEDREP__GET_CUSTOMER_GRADES_REPLY__INIT;
        reply.grades = grades, reply.n_grades = ng;
        reply.history = hist, reply.n_history = nh;
        mr_call_reply(call, &reply.base);
    }
done:
    for (size_t i = 0; i < ng; i++)
        sc_grade_msg_free(grades[i]);
    for (size_t i = 0; i < nh; i++)
        medrep__grade_change__free_unpacked(hist[i], NULL);
    free(grades);
    free(hist);
    mr_val_free(&h);
    mr_md_free_ids(products, np);
    medrep__get_customer_grades_request__free_unpacked(req, NULL);
    return call->code;
}

/* Counts of one product's segments among a set of customers (NULL: the region). */
static int count_segments(mr_call *call, const char *product, const char *members_key,
                          int64_t counts[4])
{
    char key[256];
    for (int s = 0; s < 4; s++) {
        mr_key(key, sizeof key, call->region, SC_KEY_SEG, product, 'A' + s);
        mr_val *v = members_key ? mr_store_cmd(call->store, "SINTERCARD 2 %s %s", key, members_key)
                                : mr_store_cmd(call->store, "SCARD %s", key);
        if (mr_val_is_error(v)) {
            mr_val_free(&v);
            return -1;
        }
        counts[s] += mr_val_int(v);
        mr_val_free(&v);
    }
    return 0;
}

/* The reps whose customers count: one rep, a team's reps, or none (region). */
static long matrix_reps(mr_call *call, const Medrep__SegmentMatrixRequest *req, char ***reps)
{
    *reps = NULL;
    if (req->rep_id && req->rep_id[0]) {
        *reps = calloc(1, sizeof **reps);
        if (!*reps || !((*reps)[0] = strdup(req->rep_id)))
            return -1;
        return 1;
    }
    if (req->team && req->team[0]) {
        char index[128];
        mr_md_index(index, sizeof index, "team", req->team, "reps");
        return mr_md_list(call->store, call->region, index, reps);
    }
    return 0;
}

static int segment_matrix(mr_call *call)
{
    Medrep__SegmentMatrixRequest *req = mr_call_decode(call, &medrep__segment_matrix_request__descriptor);
    if (!req)
        return call->code;
    char **products = NULL, **reps = NULL;
    long np = 0, nr = 0;
    Medrep__SegmentCount *cells = NULL, **pcells = NULL;
    if ((req->rep_id && req->rep_id[0] && !mr_md_id_valid(req->rep_id)) ||
        (req->team && req->team[0] && !mr_md_id_valid(req->team)) ||
        (req->product_id && req->product_id[0] && !mr_md_id_valid(req->product_id))) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "rep_id, team and product_id must be ids");
        goto done;
    }
    if (req->product_id && req->product_id[0]) {
        products = calloc(1, sizeof *products);
        np = products && (products[0] = strdup(req->product_id)) ? 1 : -1;
    } else {
        np = mr_md_list(call->store, call->region, "md:products", &products);
    }
    nr = matrix_reps(call, req, &reps);
    bool whole_region = !(req->rep_id && req->rep_id[0]) && !(req->team && req->team[0]);
    cells = calloc((size_t)(np > 0 ? np : 1) * 4, sizeof *cells);
    pcells = calloc((size_t)(np > 0 ? np : 1) * 4, sizeof *pcells);
    int failed = np < 0 || nr < 0 || !cells || !pcells;
    static char *const names[] = {"A", "B", "C", "D"};
    for (long p = 0; !failed && p < np; p++) {
        int64_t counts[4] = {0};
        for (long r = 0; !failed && r < nr; r++) {
            char members[256];
            mr_key(members, sizeof members, call->region, "md:rep:%s:customers", reps[r]);
            failed = count_segments(call, products[p], members, counts);
        }
        if (whole_region && !failed)
            failed = count_segments(call, products[p], NULL, counts);
        for (int s = 0; s < 4; s++) {
            Medrep__SegmentCount *c = &cells[p * 4 + s];
            medrep__segment_count__init(c);
            c->segment = names[s];
            c->product_id = products[p];
            c->count = counts[s], c->has_count = true;
            pcells[p * 4 + s] = c;
        }
    }
    if (failed) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    } else {
        Medrep__SegmentMatrixReply reply = MEDREP__SEGMENT_MATRIX_REPLY__INIT;
        reply.counts = pcells, reply.n_counts = (size_t)np * 4;
        mr_call_reply(call, &reply.base);
    }
done:
    free(cells);
    free(pcells);
    mr_md_free_ids(products, np);
    mr_md_free_ids(reps, nr);
    medrep__segment_matrix_request__free_unpacked(req, NULL);
    return call->code;
}

/* A page token is the last stream entry id of the previous page. */
static bool entry_id_valid(const char *t)
{
    size_t n = strlen(t), dash = strcspn(t, "-");
    if (n == 0 || n > 40 || dash == 0 || dash == n || dash + 1 == n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (i != dash && (t[i] < '0' || t[i] > '9'))
            return false;
    return true;
}

/* The changes in the reply, unpacked from XRANGE entries [id, [c, data]]. */
static size_t unpack_changes(const mr_val *v, Medrep__GradeChange **ch)
{
    size_t k = 0;
    for (size_t i = 0; i < mr_val_count(v); i++) {
        size_t len;
        const char *data = mr_val_str(mr_val_at(mr_val_at(mr_val_at(v, i), 1), 1), &len);
        if (data && (ch[k] = medrep__grade_change__unpack(NULL, len, (const uint8_t *)data)))
            k++;
    }
    return k;
}

static int grade_changes(mr_call *call)
{
    Medrep__GradeChangesRequest *req = mr_call_decode(call, &medrep__grade_changes_request__descriptor);
    if (!req)
        return call->code;
    const char *token = req->page_token ? req->page_token : "";
    int size = page_size(req->has_page_size, req->page_size);
    char key[256], from[64];
    mr_key(key, sizeof key, call->region, SC_KEY_CHANGES);
    if (token[0])
        snprintf(from, sizeof from, "(%s", token);
    else
        snprintf(from, sizeof from, "%lld-0",
                 (long long)(req->has_since_ms && req->since_ms > 0 ? req->since_ms : 0));
    bool bad = token[0] && !entry_id_valid(token);
    mr_val *v = bad ? NULL : mr_store_cmd(call->store, "XRANGE %s %s + COUNT %d", key, from, size);
    size_t n = mr_val_count(v), k = 0;
    Medrep__GradeChange **ch = calloc(n + 1, sizeof *ch);
    if (ch)
        k = unpack_changes(v, ch);
    char next[64] = "";
    if (bad) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "bad page_token");
    } else if (mr_val_is_error(v) || !ch) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    } else {
        const char *last = n ? mr_val_str(mr_val_at(mr_val_at(v, n - 1), 0), NULL) : NULL;
        if ((int)n == size && last)
            snprintf(next, sizeof next, "%s", last);
        Medrep__GradeChangesReply reply = MEDREP__GRADE_CHANGES_REPLY__INIT;
        reply.changes = ch, reply.n_changes = k, reply.next_page_token = next;
        mr_call_reply(call, &reply.base);
    }
    for (size_t i = 0; i < k; i++)
        medrep__grade_change__free_unpacked(ch[i], NULL);
    free(ch);
    mr_val_free(&v);
    medrep__grade_changes_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- Events ---- */

int sc_on_event(mr_event_call *call)
{
    const Medrep__Event *ev = call->ev;
    if (ev->body_case != MEDREP__EVENT__BODY_CALL_LOGGED)
        return 0;
    const Medrep__CallLogged *cl = ev->call_logged;
    if (!cl->has_adoption_stage_after || cl->adoption_stage_after < 0 || cl->adoption_stage_after > 4 ||
        !mr_md_id_valid(cl->customer_id) || !mr_md_id_valid(cl->product_id))
        return 0;   /* a call report without a valid ladder move changes nothing here */
    char key[256], num[16];
    mr_key(key, sizeof key, call->region, SC_KEY_ADOPT, cl->product_id);
    snprintf(num, sizeof num, "%d", cl->adoption_stage_after);
    return mr_tx_addv(call->tx, "HSET", key, cl->customer_id, num, NULL) == 0 ? 0 : -1;
}

/* ---- The table ---- */

const mr_method sc_methods[] = {
    {"ImportChunk", import_chunk, false},
    {"UpdatePrescription", update_prescription, false},
    {"Regrade", regrade, false},
    {"SetAdoption", set_adoption, false},
    {"GetCustomerGrades", get_customer_grades, true},
    {"SegmentMatrix", segment_matrix, true},
    {"GradeChanges", grade_changes, true},
    {"HospitalGrades", sc_hospital_grades, true},
    {"ListCustomers", sc_list_customers, true},
    {"MonthlyPrescriptions", sc_monthly_prescriptions, true},
};
const size_t sc_method_count = sizeof sc_methods / sizeof sc_methods[0];
