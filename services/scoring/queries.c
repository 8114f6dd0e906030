/* queries.c: the read-only methods that list many things, paged:
 * HospitalGrades (graded on the fly by grade.c from master data and the
 * therapy-area use kept by imports) and ListCustomers (customers of a
 * rep, hospital, department or the region, by segment), and
 * MonthlyPrescriptions (stored monthly prescriptions of a customer list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "grade.h"
#include "handlers.h"
#include "layout.h"
#include "masterdata.h"
#include "regrade.h"
#include "settings.h"

#define PAGE_DEFAULT 200
#define PAGE_MAX 2000

static long page_start(const char *token)
{
    if (!token || !token[0])
        return 0;
    char *end;
    long v = strtol(token, &end, 10);
    return *end || v < 0 ? -1 : v;
}

static int page_len(bool has, int asked)
{
    return !has || asked <= 0 ? PAGE_DEFAULT : (asked > PAGE_MAX ? PAGE_MAX : asked);
}

static int count_competitors(const char *list)
{
    int n = 0;
    bool in_word = false;
    for (const char *p = list; *p; p++) {
        bool sep = *p == ',' || *p == ';';
        if (!sep && *p != ' ' && !in_word)
            n++, in_word = true;
        else if (sep)
            in_word = false;
    }
    return n;
}

static void grade_hospital(mr_call *call, const sc_hospital_cfg *cfg, const char *id, int competitors,
                           const char *product, Medrep__HospitalGrade *out, sc_hospital_grade *g,
                           mr_hospital *h)
{
    char key[256];
    double usage = 0;
    mr_md_get_hospital(call->store, call->region, id, h);
    if (product) {
        mr_key(key, sizeof key, call->region, SC_KEY_HMKT, product);
        mr_val *v = mr_store_cmd(call->store, "HGET %s %s", key, id);
        const char *t = mr_val_str(v, NULL);
        usage = t ? strtod(t, NULL) : 0;
        mr_val_free(&v);
    }
    sc_hospital_view view = {.tier = h->tier, .beds = h->beds, .outpatient_visits = h->outpatient_visits,
                             .usage = usage, .competitors = competitors};
    sc_grade_hospital(cfg, &view, g);
    medrep__hospital_grade__init(out);
    out->hospital_id = h->id;
    out->name = h->name;
    out->grade = g->grade == 'A' ? "A" : (g->grade == 'B' ? "B" : "C");
    out->score = g->score, out->has_score = true;
    out->explanation = g->explanation;
}

int sc_hospital_grades(mr_call *call)
{
    Medrep__HospitalGradesRequest *req = mr_call_decode(call, &medrep__hospital_grades_request__descriptor);
    if (!req)
        return call->code;
    const char *product = req->product_id && req->product_id[0] ? req->product_id : NULL;
    long start = page_start(req->page_token);
    int size = page_len(req->has_page_size, req->page_size);
    sc_hospital_cfg cfg;
    mr_product p = {0};
    char err[256], **ids = NULL;
    long n = 0;
    if (start < 0 || (product && !mr_md_id_valid(product))) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "bad page_token or product_id");
        goto done;
    }
    if (sc_settings_hospital(mr_service_config(call->svc), call->region, product, &cfg, err, sizeof err)) {
        mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
        goto done;
    }
    if (product && mr_md_get_product(call->store, call->region, product, &p) == 0) {
        mr_call_fail(call, MR_NOT_FOUND, "product %s is not in the master data", product);
        goto done;
    }
    n = mr_md_list(call->store, call->region, "md:hospitals", &ids);
    if (n < 0) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        goto done;
    }
    long end = start + size < n ? start + size : n;
    size_t count = end > start ? (size_t)(end - start) : 0;
    Medrep__HospitalGrade *grades = calloc(count + 1, sizeof *grades);
    Medrep__HospitalGrade **pg = calloc(count + 1, sizeof *pg);
    sc_hospital_grade *gs = calloc(count + 1, sizeof *gs);
    mr_hospital *hs = calloc(count + 1, sizeof *hs);
    if (grades && pg && gs && hs) {
        for (size_t i = 0; i < count; i++) {
            grade_hospital(call, &cfg, ids[start + (long)i], count_competitors(p.competitors), product,
                           &grades[i], &gs[i], &hs[i]);
            pg[i] = &grades[i];
        }
        char next[32] = "";
        if (end < n)
            snprintf(next, sizeof next, "%ld", end);
        Medrep__HospitalGradesReply reply = MEDREP__HOSPITAL_GRADES_REPLY__INIT;
        reply.grades = pg, reply.n_grades = count, reply.next_page_token = next;
        mr_call_reply(call, &reply.base);
    } else {
        mr_call_fail(call, MR_INTERNAL, "out of memory");
    }
    free(grades);
    free(pg);
    free(gs);
    free(hs);
done:
    mr_md_free_ids(ids, n);
    medrep__hospital_grades_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- ListCustomers ---- */

static int member_key(const Medrep__ListCustomersRequest *req, const char *region, char *buf, size_t cap)
{
    if (req->rep_id && req->rep_id[0])
        return mr_md_id_valid(req->rep_id) ? mr_key(buf, cap, region, "md:rep:%s:customers", req->rep_id) : -1;
    if (req->hospital_id && req->hospital_id[0])
        return mr_md_id_valid(req->hospital_id)
                   ? mr_key(buf, cap, region, "md:hospital:%s:customers", req->hospital_id) : -1;
    if (req->department_id && req->department_id[0])
        return mr_md_id_valid(req->department_id)
                   ? mr_key(buf, cap, region, "md:dept:%s:customers", req->department_id) : -1;
    return mr_key(buf, cap, region, "md:customers");
}

static int compare_strs(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted ids of the selection. Caller frees with mr_val_free(v) and free(ids). */
static long select_ids(mr_call *call, const char *members, const char *seg_key, mr_val **v, const char ***ids)
{
    *v = seg_key ? mr_store_cmd(call->store, "SINTER %s %s", members, seg_key)
                 : mr_store_cmd(call->store, "SMEMBERS %s", members);
    if (mr_val_is_error(*v))
        return -1;
    size_t n = mr_val_count(*v);
    *ids = calloc(n + 1, sizeof **ids);
    if (!*ids)
        return -1;
    for (size_t i = 0; i < n; i++)
        (*ids)[i] = mr_val_str(mr_val_at(*v, i), NULL);
    qsort(*ids, n, sizeof **ids, compare_strs);
    return (long)n;
}

static void fill_grades(mr_call *call, const char *product, const char **ids, long count,
                        Medrep__Grade **out, Medrep__Grade *blank)
{
    char key[256];
    mr_key(key, sizeof key, call->region, SC_KEY_GRADE, product);
    for (long i = 0; i < count; i++) {
        mr_val *v = mr_store_cmd(call->store, "HGET %s %s", key, ids[i]);
        size_t len;
        const char *data = mr_val_str(v, &len);
        out[i] = sc_grade_msg_unpack(data, len);
        if (!out[i]) {
            medrep__grade__init(&blank[i]);
            blank[i].customer_id = (char *)ids[i];
            blank[i].product_id = (char *)product;
            blank[i].segment = "";
            blank[i].explanation = "no grade yet";
        }
        mr_val_free(&v);
    }
}

int sc_list_customers(mr_call *call)
{
    Medrep__ListCustomersRequest *req = mr_call_decode(call, &medrep__list_customers_request__descriptor);
    if (!req)
        return call->code;
    char members[256], seg_key[256];
    const char *product = req->product_id;
    const char *seg = req->segment && req->segment[0] ? req->segment : NULL;
    long start = page_start(req->page_token);
    int size = page_len(req->has_page_size, req->page_size);
    mr_val *v = NULL;
    const char **ids = NULL;
    if (member_key(req, call->region, members, sizeof members) < 0 || !mr_md_id_valid(product) || start < 0 ||
        (seg && (strlen(seg) != 1 || seg[0] < 'A' || seg[0] > 'D'))) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "needs product_id, valid ids, segment A-D or empty, a page_token");
        goto done;
    }
    if (seg)
        mr_key(seg_key, sizeof seg_key, call->region, SC_KEY_SEG, product, seg[0]);
    long n = select_ids(call, members, seg ? seg_key : NULL, &v, &ids);
    if (n < 0) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        goto done;
    }
    long end = start + size < n ? start + size : n;
    long count = end > start ? end - start : 0;
    Medrep__Grade **grades = calloc((size_t)count + 1, sizeof *grades);
    Medrep__Grade **pg = calloc((size_t)count + 1, sizeof *pg);
    Medrep__Grade *blank = calloc((size_t)count + 1, sizeof *blank);
    if (grades && pg && blank) {
        fill_grades(call, product, ids + start, count, grades, blank);
        for (long i = 0; i < count; i++)
            pg[i] = grades[i] ? grades[i] : &blank[i];
        char next[32] = "";
        if (end < n)
            snprintf(next, sizeof next, "%ld", end);
        Medrep__ListCustomersReply reply = MEDREP__LIST_CUSTOMERS_REPLY__INIT;
        reply.grades = pg, reply.n_grades = (size_t)count, reply.next_page_token = next;
        mr_call_reply(call, &reply.base);
        for (long i = 0; i < count; i++)
            sc_grade_msg_free(grades[i]);
    } else {
        mr_call_fail(call, MR_INTERNAL, "out of memory");
    }
    free(grades);
    free(pg);
    free(blank);
done:
    free(ids);
    mr_val_free(&v);
    medrep__list_customers_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- MonthlyPrescriptions ---- */

#define RX_MAX_CUSTOMERS 2000
#define RX_MAX_MONTHS 36

static bool month_valid(const char *m)
{
    return m && strlen(m) == 7 && m[4] == '-' && strspn(m, "0123456789-") == 7 &&
           ((m[5] == '0' && m[6] >= '1' && m[6] <= '9') || (m[5] == '1' && m[6] >= '0' && m[6] <= '2'));
}

static bool rx_request_valid(const Medrep__MonthlyPrescriptionsRequest *req)
{
    if (!mr_md_id_valid(req->product_id) || req->n_customer_ids < 1 || req->n_customer_ids > RX_MAX_CUSTOMERS ||
        req->n_months < 1 || req->n_months > RX_MAX_MONTHS)
        return false;
    for (size_t i = 0; i < req->n_customer_ids; i++)
        if (!mr_md_id_valid(req->customer_ids[i]))
            return false;
    for (size_t i = 0; i < req->n_months; i++)
        if (!month_valid(req->months[i]))
            return false;
    return true;
}

/* Pipelines one HMGET per customer; appends the months with data to out
 * (rows owned by the caller's arena `rows`). Returns the count or -1. */
static long rx_read(mr_call *call, const Medrep__MonthlyPrescriptionsRequest *req, Medrep__CustomerMonth *rows,
                    Medrep__CustomerMonth **out)
{
    const char **argv = calloc(req->n_months + 2, sizeof *argv);
    char key[256];
    if (!argv)
        return -1;
    argv[0] = "HMGET";
    for (size_t m = 0; m < req->n_months; m++)
        argv[m + 2] = req->months[m];
    for (size_t i = 0; i < req->n_customer_ids; i++) {
        mr_key(key, sizeof key, call->region, SC_KEY_RX, req->customer_ids[i], req->product_id);
        argv[1] = key;
        mr_store_append(call->store, (int)req->n_months + 2, argv, NULL);
    }
    free(argv);
    long n = 0;
    bool failed = false;
    for (size_t i = 0; i < req->n_customer_ids; i++) {
        mr_val *v = mr_store_next_reply(call->store);
        failed |= mr_val_is_error(v);
        for (size_t m = 0; !failed && m < mr_val_count(v); m++) {
            const char *text = mr_val_str(mr_val_at(v, m), NULL);
            if (!text || mr_val_type(mr_val_at(v, m)) != MR_VAL_STRING)
                continue;
            Medrep__CustomerMonth *r = &rows[n];
            medrep__customer_month__init(r);
            r->customer_id = req->customer_ids[i], r->month = req->months[m];
            if (sscanf(text, "%lf %lf", &r->our, &r->market) != 2)
                continue;
            r->has_our = r->has_market = true;
            out[n++] = r;
        }
        mr_val_free(&v);
    }
    return failed ? -1 : n;
}

int sc_monthly_prescriptions(mr_call *call)
{
    Medrep__MonthlyPrescriptionsRequest *req =
        mr_call_decode(call, &medrep__monthly_prescriptions_request__descriptor);
    if (!req)
        return call->code;
    if (!rx_request_valid(req)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "needs a valid product_id, 1 to %d valid customer_ids and 1 to %d "
                     "months as YYYY-MM", RX_MAX_CUSTOMERS, RX_MAX_MONTHS);
        medrep__monthly_prescriptions_request__free_unpacked(req, NULL);
        return call->code;
    }
    size_t cap = req->n_customer_ids * req->n_months;
    Medrep__CustomerMonth *rows = calloc(cap, sizeof *rows);
    Medrep__CustomerMonth **out = calloc(cap, sizeof *out);
    long n = rows && out ? rx_read(call, req, rows, out) : -2;
    if (n >= 0) {
        Medrep__MonthlyPrescriptionsReply reply = MEDREP__MONTHLY_PRESCRIPTIONS_REPLY__INIT;
        reply.months = out, reply.n_months = (size_t)n;
        mr_call_reply(call, &reply.base);
    } else if (n == -1) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    } else {
        mr_call_fail(call, MR_INTERNAL, "out of memory");
    }
    free(rows);
    free(out);
    medrep__monthly_prescriptions_request__free_unpacked(req, NULL);
    return call->code;
}
