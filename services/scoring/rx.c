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

/* Stages the new means and distributions when they moved. */
static void stage_means(mr_call *call, const sc_rx_row *r, const char *hospital, const sc_means *m,
                        const mr_val *old_agg)
{
    char text[128], key[256], score[40];
    agg_text(m, text, sizeof text);
    const char *old = mr_val_str(old_agg, NULL);
    if (old && strcmp(old, text) == 0)
        return;
    sc_means before = {0};
    if (old)
        sscanf(old, "%d %lf %lf %lf", &before.months, &before.our, &before.market, &before.patients);
    mr_key(key, sizeof key, call->region, SC_KEY_AGG, r->product);
    mr_tx_addv(call->tx, "HSET", key, r->customer, text, NULL);
    mr_key(key, sizeof key, call->region, SC_KEY_POT, "market", r->product);
    snprintf(score, sizeof score, "%.10g", m->market);
    mr_tx_addv(call->tx, "ZADD", key, score, r->customer, NULL);
    mr_key(key, sizeof key, call->region, SC_KEY_POT, "patients", r->product);
    snprintf(score, sizeof score, "%.10g", m->patients);
    if (m->patients >= 0)
        mr_tx_addv(call->tx, "ZADD", key, score, r->customer, NULL);
    if (hospital && hospital[0] && m->market != before.market) {
        mr_key(key, sizeof key, call->region, SC_KEY_HMKT, r->product);
        snprintf(score, sizeof score, "%.10g", m->market - before.market);
        mr_tx_addv(call->tx, "HINCRBYFLOAT", key, hospital, score, NULL);
    }
}

/* Applies one group's rows; returns whether anything changed. */
static bool apply_group(mr_call *call, const sc_rx_row *rows, const rx_group *g, int months_cfg,
                        sc_chunk_result *res)
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
        return false;
    bool changed = false;
    char key[256], text[128];
    mr_key(key, sizeof key, call->region, SC_KEY_RX, first->customer, first->product);
    for (size_t i = 0; i < g->count; i++) {
        const sc_rx_row *r = &rows[g->first + i];
        month_text(r, text, sizeof text);
        const char *old = stored_month(g->months, r->month);
        if (old && strcmp(old, text) == 0) {
            res->unchanged++;
            continue;
        }
        mr_tx_addv(call->tx, "HSET", key, r->month, text, NULL);
        month_parse(r->month, 7, text, &m[n++]);
        res->ok++;
        changed = true;
    }
    if (changed) {
        sc_means means = sc_means_of(m, n, months_cfg);
        stage_means(call, first, hospital, &means, g->agg);
    }
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

int sc_stage_prescriptions(mr_call *call, sc_rx_row *rows, size_t n, sc_chunk_result *res)
{
    rx_group *groups = calloc(n ? n : 1, sizeof *groups);
    if (!groups)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    size_t ng = make_groups(rows, n, groups);
    int code = MR_OK;
    if (read_groups(call, rows, groups, ng) != 0)
        code = mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    char product[MR_ID_MAX] = "";
    int months = 3;
    for (size_t g = 0; code == MR_OK && g < ng; g++) {
        const char *p = rows[groups[g].first].product;
        if (strcmp(p, product) != 0) {
            code = months_for(call, p, &months);
            snprintf(product, sizeof product, "%s", p);
        }
        if (code == MR_OK)
            apply_group(call, rows, &groups[g], months, res);
    }
    free_groups(groups, ng);
    free(groups);
    return code;
}
