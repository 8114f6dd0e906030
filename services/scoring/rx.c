/* rx.c: staging prescription rows (sc_stage_prescriptions, see import.h).
 *
 * Rows are grouped by customer and product. One pipeline reads, for every
 * group, the customer's record, the product's existence, the stored
 * months and the stored means; then each group's changed months are
 * written, and when the monthly means moved, the means, the region's
 * distributions (sorted sets) and the hospital's therapy-area use are
 * updated in the same transaction. Grades are recomputed by Regrade. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argbuf.h"
#include "errors.h"
#include "import.h"
#include "layout.h"
#include "masterdata.h"
#include "settings.h"

/* What one pipeline read per group of rows. */
typedef struct {
    size_t first, count;          /* rows[first .. first+count) share customer and product */
    mr_val *customer;             /* HMGET kind hospital_id */
    mr_val *product;              /* EXISTS */
    mr_val *months;               /* HGETALL sc:rx */
    mr_val *agg;                  /* HGET sc:agg */
} rx_group;

static int compare_rows(const void *a, const void *b)
{
    const sc_rx_row *x = a, *y = b;
    int c = strcmp(x->customer, y->customer);
    if (!c)
        c = strcmp(x->product, y->product);
    if (!c)
        c = (x->line > y->line) - (x->line < y->line);
    return c;
}

static size_t make_groups(sc_rx_row *rows, size_t n, rx_group *groups)
{
    qsort(rows, n, sizeof *rows, compare_rows);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(rows[i].customer, rows[i - 1].customer) != 0 ||
            strcmp(rows[i].product, rows[i - 1].product) != 0)
            groups[g++] = (rx_group){.first = i};
        groups[g - 1].count++;
    }
    return g;
}

static int read_groups(mr_call *call, const sc_rx_row *rows, rx_group *groups, size_t ng)
{
    for (size_t g = 0; g < ng; g++) {
        const sc_rx_row *r = &rows[groups[g].first];
        char ck[256], pk[256], mk[256], ak[256];
        mr_md_key(ck, sizeof ck, call->region, MR_MD_CUSTOMER, r->customer);
        mr_md_key(pk, sizeof pk, call->region, MR_MD_PRODUCT, r->product);
        mr_key(mk, sizeof mk, call->region, SC_KEY_RX, r->customer, r->product);
        mr_key(ak, sizeof ak, call->region, SC_KEY_AGG, r->product);
        mr_store_appendf(call->store, "HMGET %s kind hospital_id", ck);
        mr_store_appendf(call->store, "EXISTS %s", pk);
        mr_store_appendf(call->store, "HGETALL %s", mk);
        mr_store_appendf(call->store, "HGET %s %s", ak, r->customer);
    }
    int failed = 0;
    for (size_t g = 0; g < ng; g++) {
        mr_val **slots[] = {&groups[g].customer, &groups[g].product, &groups[g].months, &groups[g].agg};
        for (int k = 0; k < 4; k++) {
            *slots[k] = mr_store_next_reply(call->store);
            failed |= mr_val_is_error(*slots[k]);
        }
    }
    return failed ? -1 : 0;
}

static void free_groups(rx_group *groups, size_t ng)
{
    for (size_t g = 0; g < ng; g++) {
        mr_val_free(&groups[g].customer);
        mr_val_free(&groups[g].product);
        mr_val_free(&groups[g].months);
        mr_val_free(&groups[g].agg);
    }
}

/* ---- One group ---- */

static void month_text(const sc_rx_row *r, char *buf, size_t cap)
{
    if (r->patients >= 0)
        snprintf(buf, cap, "%.10g %.10g %.10g", r->our, r->market, r->patients);
    else
        snprintf(buf, cap, "%.10g %.10g -", r->our, r->market);
}

static void month_parse(const char *month, size_t mlen, const char *text, sc_month *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->month, sizeof out->month, "%.*s", (int)(mlen < 7 ? mlen : 7), month);
    char pat[32] = "-";
    if (sscanf(text, "%lf %lf %31s", &out->our, &out->market, pat) < 2)
        out->our = out->market = 0;
    out->patients = strcmp(pat, "-") == 0 ? -1 : strtod(pat, NULL);
}

/* The stored months plus room for the group's rows. Caller frees. */
static sc_month *load_months(const mr_val *v, size_t extra, size_t *count)
{
    size_t stored = mr_val_count(v) / 2;
    sc_month *m = calloc(stored + extra + 1, sizeof *m);
    *count = 0;
    for (size_t i = 0; m && i < stored; i++) {
        size_t mlen;
        const char *month = mr_val_str(mr_val_at(v, 2 * i), &mlen);
        const char *text = mr_val_str(mr_val_at(v, 2 * i + 1), NULL);
        if (month && text)
            month_parse(month, mlen, text, &m[(*count)++]);
    }
    return m;
}

/* The stored value of month in the HGETALL reply, or NULL. */
static const char *stored_month(const mr_val *v, const char *month)
{
    for (size_t i = 0; i + 1 < mr_val_count(v); i += 2) {
        const char *name = mr_val_str(mr_val_at(v, i), NULL);
        if (name && strcmp(name, month) == 0)
            return mr_val_str(mr_val_at(v, i + 1), NULL);
    }
    return NULL;
}

static void agg_text(const sc_means *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d %.10g %.10g %.10g", m->months, m->our, m->market, m->patients);
}

/* What a chunk stages per product: one HSET of the means, one ZADD per
 * distribution and one HINCRBYFLOAT per hospital, whatever the rows. */
typedef struct {
    char hospital[MR_ID_MAX];
    double delta;
} hospital_delta;

typedef struct {
    char product[MR_ID_MAX];
    int months;                   /* the configured months of the mean */
    sc_argbuf agg, market, patients;
    hospital_delta *deltas;
    size_t ndeltas, capdeltas;
} product_batch;

typedef struct {
    product_batch *products;
    size_t count, cap;
    int oom;
} rx_batch;

static product_batch *batch_product(mr_call *call, rx_batch *b, const char *product, int months)
{
    for (size_t i = 0; i < b->count; i++)
        if (strcmp(b->products[i].product, product) == 0)
            return &b->products[i];
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        product_batch *p = realloc(b->products, cap * sizeof *p);
        if (!p)
            return b->oom = 1, NULL;
        b->products = p;
        b->cap = cap;
    }
    product_batch *p = &b->products[b->count++];
    memset(p, 0, sizeof *p);
    snprintf(p->product, sizeof p->product, "%s", product);
    p->months = months;
    char key[256];
    mr_key(key, sizeof key, call->region, SC_KEY_AGG, product);
    sc_argbuf_start(&p->agg, "HSET", key);
    mr_key(key, sizeof key, call->region, SC_KEY_POT, "market", product);
    sc_argbuf_start(&p->market, "ZADD", key);
    mr_key(key, sizeof key, call->region, SC_KEY_POT, "patients", product);
    sc_argbuf_start(&p->patients, "ZADD", key);
    return p;
}

static void add_delta(rx_batch *b, product_batch *p, const char *hospital, double delta)
{
    for (size_t i = 0; i < p->ndeltas; i++)
        if (strcmp(p->deltas[i].hospital, hospital) == 0) {
            p->deltas[i].delta += delta;
            return;
        }
    if (p->ndeltas == p->capdeltas) {
        size_t cap = p->capdeltas ? p->capdeltas * 2 : 16;
        hospital_delta *d = realloc(p->deltas, cap * sizeof *d);
        if (!d) {
            b->oom = 1;
            return;
        }
        p->deltas = d;
        p->capdeltas = cap;
    }
    hospital_delta *d = &p->deltas[p->ndeltas++];
    snprintf(d->hospital, sizeof d->hospital, "%s", hospital);
    d->delta = delta;
}

/* Stages everything the batch collected and frees it. 0 or -1. */
static int batch_flush(mr_call *call, rx_batch *b)
{
    int rc = b->oom ? -1 : 0;
    for (size_t i = 0; i < b->count; i++) {
        product_batch *p = &b->products[i];
        rc |= sc_argbuf_flush(&p->agg, call->tx);
        rc |= sc_argbuf_flush(&p->market, call->tx);
        rc |= sc_argbuf_flush(&p->patients, call->tx);
        char key[256], num[40];
        mr_key(key, sizeof key, call->region, SC_KEY_HMKT, p->product);
        for (size_t k = 0; k < p->ndeltas; k++) {
            if (p->deltas[k].delta == 0)
                continue;
            snprintf(num, sizeof num, "%.10g", p->deltas[k].delta);
            rc |= mr_tx_addv(call->tx, "HINCRBYFLOAT", key, p->deltas[k].hospital, num, NULL);
        }
        free(p->deltas);
    }
    free(b->products);
    memset(b, 0, sizeof *b);
    return rc ? -1 : 0;
}

/* Collects the new means and distributions when they moved. */
static void stage_means(rx_batch *b, product_batch *p, const sc_rx_row *r, const char *hospital,
                        const sc_means *m, const mr_val *old_agg)
{
    char text[128], score[40];
    agg_text(m, text, sizeof text);
    const char *old = mr_val_str(old_agg, NULL);
    if (old && strcmp(old, text) == 0)
        return;
    sc_means before = {0};
    if (old)
        sscanf(old, "%d %lf %lf %lf", &before.months, &before.our, &before.market, &before.patients);
    sc_argbuf_push_str(&p->agg, r->customer);
    sc_argbuf_push_str(&p->agg, text);
    snprintf(score, sizeof score, "%.10g", m->market);
    sc_argbuf_push_str(&p->market, score);
    sc_argbuf_push_str(&p->market, r->customer);
    if (m->patients >= 0) {
        snprintf(score, sizeof score, "%.10g", m->patients);
        sc_argbuf_push_str(&p->patients, score);
        sc_argbuf_push_str(&p->patients, r->customer);
    }
    if (hospital && hospital[0] && m->market != before.market)
        add_delta(b, p, hospital, m->market - before.market);
}

/* Applies one group's rows; returns whether anything changed. *means_out
 * (may be NULL) gets the group's means. */
static bool apply_group(mr_call *call, rx_batch *b, product_batch *p, const sc_rx_row *rows,
                        const rx_group *g, sc_chunk_result *res, sc_means *means_out)
{
    const sc_rx_row *first = &rows[g->first];
    const char *hospital = mr_val_str(mr_val_at(g->customer, 1), NULL);
    if (!mr_val_str(mr_val_at(g->customer, 0), NULL) || mr_val_int(g->product) != 1) {
        for (size_t i = 0; i < g->count; i++)
            sc_result_bad(res, rows[g->first + i].line, "%s %s is not in the master data",
                          mr_val_int(g->product) != 1 ? "product" : "customer",
                          mr_val_int(g->product) != 1 ? first->product : first->customer);
        return false;
    }
    size_t n;
    sc_month *m = load_months(g->months, g->count, &n);
    if (!m)
        return b->oom = 1, false;
    bool changed = false;
    char key[256], text[128];
    sc_argbuf months;
    mr_key(key, sizeof key, call->region, SC_KEY_RX, first->customer, first->product);
    sc_argbuf_start(&months, "HSET", key);
    for (size_t i = 0; i < g->count; i++) {
        const sc_rx_row *r = &rows[g->first + i];
        month_text(r, text, sizeof text);
        const char *old = stored_month(g->months, r->month);
        if (old && strcmp(old, text) == 0) {
            res->unchanged++;
            continue;
        }
        sc_argbuf_push_str(&months, r->month);
        sc_argbuf_push_str(&months, text);
        month_parse(r->month, 7, text, &m[n++]);
        res->ok++;
        changed = true;
    }
    if (sc_argbuf_flush(&months, call->tx) != 0)
        b->oom = 1;
    sc_means means = sc_means_of(m, n, p->months);
    if (changed)
        stage_means(b, p, first, hospital, &means, g->agg);
    if (means_out)
        *means_out = means;
    free(m);
    return changed;
}

static int months_for(mr_call *call, const char *product, int *months)
{
    sc_grade_cfg cfg;
    char err[256];
    if (sc_settings_grade(mr_service_config(call->svc), call->region, product, &cfg, err,
                          sizeof err) != 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
    *months = cfg.months;
    return MR_OK;
}

static int stage_rows(mr_call *call, sc_rx_row *rows, size_t n, sc_chunk_result *res,
                      sc_means *means)
{
    rx_group *groups = calloc(n ? n : 1, sizeof *groups);
    if (!groups)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    size_t ng = make_groups(rows, n, groups);
    int code = MR_OK;
    if (read_groups(call, rows, groups, ng) != 0)
        code = mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    rx_batch batch = {0};
    product_batch *p = NULL;
    for (size_t g = 0; code == MR_OK && g < ng; g++) {
        const char *product = rows[groups[g].first].product;
        if (!p || strcmp(p->product, product) != 0) {
            int months = 3;
            code = months_for(call, product, &months);
            p = code == MR_OK ? batch_product(call, &batch, product, months) : NULL;
            if (code == MR_OK && !p)
                code = mr_call_fail(call, MR_INTERNAL, "out of memory");
        }
        if (code == MR_OK)
            apply_group(call, &batch, p, rows, &groups[g], res, means);
    }
    if (batch_flush(call, &batch) != 0 && code == MR_OK)
        code = mr_call_fail(call, MR_INTERNAL, "out of memory");
    free_groups(groups, ng);
    free(groups);
    return code;
}

int sc_stage_prescriptions(mr_call *call, sc_rx_row *rows, size_t n, sc_chunk_result *res)
{
    return stage_rows(call, rows, n, res, NULL);
}

int sc_stage_prescription(mr_call *call, sc_rx_row *row, sc_chunk_result *res, sc_means *means)
{
    return stage_rows(call, row, 1, res, means);
}

int sc_stage_hospital_move(mr_call *call, const char *customer, const char *from, const char *to)
{
    char **products, key[256], num[40];
    long np = mr_md_list(call->store, call->region, "md:products", &products);
    if (np < 0)
        return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    for (long i = 0; i < np; i++) {
        mr_key(key, sizeof key, call->region, SC_KEY_AGG, products[i]);
        mr_store_appendf(call->store, "HGET %s %s", key, customer);
    }
    int code = MR_OK;
    for (long i = 0; i < np; i++) {
        mr_val *v = mr_store_next_reply(call->store);
        sc_means m = {0};
        const char *agg = mr_val_str(v, NULL);
        if (mr_val_is_error(v) && code == MR_OK)
            code = mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        if (agg && code == MR_OK && sscanf(agg, "%d %lf %lf", &m.months, &m.our, &m.market) == 3 &&
            m.market != 0) {
            mr_key(key, sizeof key, call->region, SC_KEY_HMKT, products[i]);
            if (mr_md_id_valid(from)) {
                snprintf(num, sizeof num, "%.10g", -m.market);
                mr_tx_addv(call->tx, "HINCRBYFLOAT", key, from, num, NULL);
            }
            if (mr_md_id_valid(to)) {
                snprintf(num, sizeof num, "%.10g", m.market);
                mr_tx_addv(call->tx, "HINCRBYFLOAT", key, to, num, NULL);
            }
        }
        mr_val_free(&v);
    }
    mr_md_free_ids(products, np);
    return code;
}
