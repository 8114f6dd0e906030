/* regrade.c: grade recomputation in the shell (see regrade.h). */
#include "regrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "grade.h"
#include "layout.h"
#include "masterdata.h"
#include "settings.h"

#define HISTORY_DEFAULT 50

/* What the pipeline read for one customer. */
typedef struct {
    mr_val *record;      /* HMGET md:customer kind hospital_id rep_id kol guideline_author opinion_leader compliance_risk */
    mr_val *below;       /* ZCOUNT of smaller potentials */
    mr_val *listing;     /* HGET md:hospital listing:<product> */
} cust_reads;

typedef struct {
    mr_call *call;
    const char *product;
    sc_grade_cfg cfg;
    const char *pot_key_measure;
    char pot_key[256];
    long total;
    double threshold;
    long history_max;
    size_t n;
    const char *const *customers;
    mr_val *aggs, *grades, *adopts, *stances;   /* HMGET replies, one element per customer */
    cust_reads *reads;
} batch;

static int fail_redis(mr_call *call)
{
    return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
}

/* A reply that is NULL (connection) or a Redis error: fails the call.
 * Returns true when it did. */
static bool failed_reply(mr_call *call, const mr_val *v, int *failed)
{
    if (v && mr_val_type(v) == MR_VAL_ERROR) {
        if (!*failed)
            mr_call_fail(call, MR_INTERNAL, "redis refused: %s", mr_val_str(v, NULL));
        *failed = 1;
    } else if (!v) {
        if (!*failed)
            fail_redis(call);
        *failed = 1;
    }
    return *failed;
}

/* ---- The region's distribution ---- */

static int read_threshold(batch *b)
{
    mr_val *v = mr_store_cmd(b->call->store, "ZCARD %s", b->pot_key);
    if (mr_val_is_error(v))
        return mr_val_free(&v), fail_redis(b->call);
    b->total = mr_val_int(v);
    mr_val_free(&v);
    b->threshold = 0;
    if (b->total == 0 || !b->cfg.potential_percentile)
        return MR_OK;
    long lo, hi;
    double frac;
    sc_percentile_ranks(b->cfg.potential_pct, b->total, &lo, &hi, &frac);
    v = mr_store_cmd(b->call->store, "ZRANGE %s %ld %ld WITHSCORES", b->pot_key, lo, hi);
    if (mr_val_is_error(v) || mr_val_count(v) < 2)
        return mr_val_free(&v), fail_redis(b->call);
    double vlo = strtod(mr_val_str(mr_val_at(v, 1), NULL), NULL);
    double vhi = mr_val_count(v) >= 4 ? strtod(mr_val_str(mr_val_at(v, 3), NULL), NULL) : vlo;
    b->threshold = vlo + frac * (vhi - vlo);
    mr_val_free(&v);
    return MR_OK;
}

/* ---- Reads for a batch ---- */

static void append_hmget(mr_store *s, const char *key, const char *const *fields, size_t n)
{
    const char **argv = malloc((n + 2) * sizeof *argv);
    if (!argv) {
        mr_store_appendf(s, "HMGET %s _", key);   /* keeps the reply count right */
        return;
    }
    argv[0] = "HMGET";
    argv[1] = key;
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = fields[i];
    mr_store_append(s, (int)n + 2, argv, NULL);
    free(argv);
}

static const char *str_at(const mr_val *v, size_t i)
{
    return mr_val_str(mr_val_at(v, i), NULL);
}

static double agg_market(const mr_val *aggs, size_t i, const sc_grade_cfg *cfg)
{
    sc_means m = {.patients = -1};
    const char *t = str_at(aggs, i);
    if (t)
        sscanf(t, "%d %lf %lf %lf", &m.months, &m.our, &m.market, &m.patients);
    return sc_potential_value(cfg, &m);
}

static int read_batch(batch *b)
{
    mr_store *s = b->call->store;
    const char *region = b->call->region;
    char key[256];
    mr_key(key, sizeof key, region, SC_KEY_AGG, b->product);
    append_hmget(s, key, b->customers, b->n);
    mr_key(key, sizeof key, region, SC_KEY_GRADE, b->product);
    append_hmget(s, key, b->customers, b->n);
    mr_key(key, sizeof key, region, SC_KEY_ADOPT, b->product);
    append_hmget(s, key, b->customers, b->n);
    mr_key(key, sizeof key, region, SC_KEY_STANCE, b->product);
    append_hmget(s, key, b->customers, b->n);
    for (size_t i = 0; i < b->n; i++) {
        mr_md_key(key, sizeof key, region, MR_MD_CUSTOMER, b->customers[i]);
        mr_store_appendf(s, "HMGET %s kind hospital_id rep_id kol guideline_author opinion_leader "
                            "compliance_risk", key);
    }
    mr_val **heads[] = {&b->aggs, &b->grades, &b->adopts, &b->stances};
    int failed = 0;
    for (int k = 0; k < 4; k++)
        failed_reply(b->call, *heads[k] = mr_store_next_reply(s), &failed);
    for (size_t i = 0; i < b->n; i++)
        failed_reply(b->call, b->reads[i].record = mr_store_next_reply(s), &failed);
    return failed ? b->call->code : MR_OK;
}

/* Second round: ranks in the distribution and the hospitals' listings. */
static int read_ranks_and_listings(batch *b)
{
    mr_store *s = b->call->store;
    char key[256], lf[96], score[40];
    snprintf(lf, sizeof lf, "listing:%s", b->product);
    for (size_t i = 0; i < b->n; i++) {
        snprintf(score, sizeof score, "(%.10g", agg_market(b->aggs, i, &b->cfg));
        mr_store_appendf(s, "ZCOUNT %s -inf %s", b->pot_key, score);
        const char *hospital = str_at(b->reads[i].record, 1);
        if (mr_md_key(key, sizeof key, b->call->region, MR_MD_HOSPITAL, hospital ? hospital : "") < 0)
            mr_key(key, sizeof key, b->call->region, "md:hospital:-");
        mr_store_appendf(s, "HGET %s %s", key, lf);
    }
    int failed = 0;
    for (size_t i = 0; i < b->n; i++) {
        failed_reply(b->call, b->reads[i].below = mr_store_next_reply(s), &failed);
        failed_reply(b->call, b->reads[i].listing = mr_store_next_reply(s), &failed);
    }
    return failed ? b->call->code : MR_OK;
}

/* ---- Grading one customer ---- */

static void views_of(const batch *b, size_t i, sc_means *m, sc_region_view *r, sc_customer_view *c)
{
    const mr_val *rec = b->reads[i].record;
    const char *agg = str_at(b->aggs, i);
    *m = (sc_means){.patients = -1};
    if (agg)
        sscanf(agg, "%d %lf %lf %lf", &m->months, &m->our, &m->market, &m->patients);
    if (b->cfg.potential_by_patients && m->patients < 0)
        m->months = 0;   /* potential measured in patients: no patient data is no data */
    *r = (sc_region_view){.threshold = b->threshold, .total = b->total,
                          .below = mr_val_int(b->reads[i].below)};
    const char *kind = str_at(rec, 0), *kol = str_at(rec, 3), *ga = str_at(rec, 4);
    const char *ol = str_at(rec, 5), *adopt = str_at(b->adopts, i), *stance = str_at(b->stances, i);
    int listing = mr_listing_parse(mr_val_str(b->reads[i].listing, NULL));
    *c = (sc_customer_view){
        .prescriber = kind && strcmp(kind, "prescriber") == 0,
        .kol = kol && kol[0] == '1', .guideline_author = ga && ga[0] == '1',
        .opinion_leader = ol && ol[0] == '1', .compliance_risk = sc_risk_level(str_at(rec, 6)),
        .listing = listing < 0 ? MR_LISTING_NOT_LISTED : (mr_listing)listing,
        .stance = stance ? atoi(stance) : 0, .adoption_stage = adopt ? atoi(adopt) : 0};
}

static void grade_to_msg(const sc_grade *g, const char *customer, const char *product, char *seg,
                         Medrep__Grade *msg)
{
    seg[0] = g->segment;
    seg[1] = '\0';
    msg->customer_id = (char *)customer;
    msg->product_id = (char *)product;
    msg->segment = seg;
    msg->segment_reason = (char *)g->segment_reason;
    msg->prescription_status = g->status;
    msg->potential_score = g->potential_score;
    msg->adoption_stage = g->adoption_stage;
    msg->key_account_tier = (char *)g->tier;
    msg->compliance_risk = g->compliance_risk;
    msg->explanation = (char *)g->explanation;
    msg->has_prescription_status = msg->has_potential_score = msg->has_adoption_stage = true;
    msg->has_compliance_risk = true;
}

/* History entry, change index and event for a segment change. */
static int stage_change(batch *b, size_t i, const char *old_seg, const char *new_seg,
                        const char *reason, const char *rep)
{
    mr_call *call = b->call;
    const char *customer = b->customers[i];
    Medrep__GradeChange ch = MEDREP__GRADE_CHANGE__INIT;
    ch.customer_id = (char *)customer;
    ch.product_id = (char *)b->product;
    ch.old_segment = (char *)old_seg;
    ch.new_segment = (char *)new_seg;
    ch.reason = (char *)reason;
    ch.at_ms = call->now_ms;
    ch.has_at_ms = true;
    size_t len = medrep__grade_change__get_packed_size(&ch);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    medrep__grade_change__pack(&ch, buf);
    char key[256], score[32], trim[32];
    mr_key(key, sizeof key, call->region, SC_KEY_HIST, customer);
    const char *lpush[] = {"LPUSH", key, (const char *)buf};
    size_t lens[] = {5, strlen(key), len};
    mr_tx_add(call->tx, 3, lpush, lens);
    snprintf(trim, sizeof trim, "%ld", b->history_max - 1);
    mr_tx_addv(call->tx, "LTRIM", key, "0", trim, NULL);
    mr_key(key, sizeof key, call->region, SC_KEY_CHANGES);
    snprintf(score, sizeof score, "%lld", (long long)call->now_ms);
    const char *zadd[] = {"ZADD", key, score, (const char *)buf};
    size_t zlens[] = {4, strlen(key), strlen(score), len};
    mr_tx_add(call->tx, 4, zadd, zlens);
    free(buf);
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CustomerRegraded rg = MEDREP__CUSTOMER_REGRADED__INIT;
    rg.customer_id = (char *)customer;
    rg.product_id = (char *)b->product;
    rg.old_segment = (char *)old_seg;
    rg.new_segment = (char *)new_seg;
    rg.reason = (char *)reason;
    rg.rep_id = (char *)(rep ? rep : "");
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &rg;
    return mr_call_emit(call, &ev);
}

static void stage_segment_sets(batch *b, size_t i, const char *old_seg, const char *new_seg)
{
    char key[256];
    if (old_seg[0]) {
        mr_key(key, sizeof key, b->call->region, SC_KEY_SEG, b->product, old_seg[0]);
        mr_tx_addv(b->call->tx, "SREM", key, b->customers[i], NULL);
    }
    if (new_seg[0]) {
        mr_key(key, sizeof key, b->call->region, SC_KEY_SEG, b->product, new_seg[0]);
        mr_tx_addv(b->call->tx, "SADD", key, b->customers[i], NULL);
    }
}

/* Grades customer i; stages what changed. Returns 1 on a segment change. */
static int grade_one(batch *b, size_t i, Medrep__Grade **out)
{
    sc_means m;
    sc_region_view r;
    sc_customer_view c;
    sc_grade g;
    views_of(b, i, &m, &r, &c);
    sc_grade_customer(&b->cfg, &m, &r, &c, &g);
    Medrep__Grade msg = MEDREP__GRADE__INIT;
    char seg[2];
    grade_to_msg(&g, b->customers[i], b->product, seg, &msg);
    size_t len = medrep__grade__get_packed_size(&msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    medrep__grade__pack(&msg, buf);
    if (out)
        *out = medrep__grade__unpack(NULL, len, buf);
    size_t old_len = 0;
    const char *old = mr_val_str(mr_val_at(b->grades, i), &old_len);
    int changed = 0;
    if (!old || old_len != len || memcmp(old, buf, len) != 0) {
        Medrep__Grade *prev = old ? medrep__grade__unpack(NULL, old_len, (const uint8_t *)old) : NULL;
        const char *old_seg = prev && prev->segment ? prev->segment : "";
        char key[256];
        mr_key(key, sizeof key, b->call->region, SC_KEY_GRADE, b->product);
        const char *hset[] = {"HSET", key, b->customers[i], (const char *)buf};
        size_t lens[] = {4, strlen(key), strlen(b->customers[i]), len};
        mr_tx_add(b->call->tx, 4, hset, lens);
        if (strcmp(old_seg, seg) != 0) {
            stage_segment_sets(b, i, old_seg, seg);
            changed = stage_change(b, i, old_seg, seg, g.explanation, str_at(b->reads[i].record, 2)) == 0
                          ? 1 : -1;
        }
        if (prev)
            medrep__grade__free_unpacked(prev, NULL);
    }
    free(buf);
    return changed;
}

/* ---- Entry points ---- */

static void batch_free(batch *b)
{
    mr_val_free(&b->aggs);
    mr_val_free(&b->grades);
    mr_val_free(&b->adopts);
    mr_val_free(&b->stances);
    for (size_t i = 0; b->reads && i < b->n; i++) {
        mr_val_free(&b->reads[i].record);
        mr_val_free(&b->reads[i].below);
        mr_val_free(&b->reads[i].listing);
    }
    free(b->reads);
}

static int batch_init(batch *b, mr_call *call, const char *product)
{
    memset(b, 0, sizeof *b);
    b->call = call;
    b->product = product;
    char err[256];
    const mr_config *cfg = mr_service_config(call->svc);
    if (sc_settings_grade(cfg, call->region, product, &b->cfg, err, sizeof err) != 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
    long long hist = HISTORY_DEFAULT;
    if (mr_config_int(cfg, "scoring", "history_max", HISTORY_DEFAULT, 1, 10000, &hist, err,
                      sizeof err) != 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
    b->history_max = (long)hist;
    mr_key(b->pot_key, sizeof b->pot_key, call->region, SC_KEY_POT,
           b->cfg.potential_by_patients ? "patients" : "market", product);
    return read_threshold(b);
}

static int grade_batch(batch *b, sc_regrade_stats *stats, Medrep__Grade **out)
{
    b->reads = calloc(b->n ? b->n : 1, sizeof *b->reads);
    if (!b->reads)
        return mr_call_fail(b->call, MR_INTERNAL, "out of memory");
    if (read_batch(b) != MR_OK || read_ranks_and_listings(b) != MR_OK)
        return b->call->code;
    for (size_t i = 0; i < b->n; i++) {
        int rc = grade_one(b, i, i == 0 ? out : NULL);
        if (rc < 0)
            return mr_call_fail(b->call, MR_INTERNAL, "cannot stage the grade");
        stats->graded++;
        stats->changed += rc;
    }
    return MR_OK;
}

int sc_regrade_customers(mr_call *call, const char *product, const char *const *customers,
                         size_t n, sc_regrade_stats *stats, Medrep__Grade **out)
{
    batch b;
    int code = batch_init(&b, call, product);
    if (code == MR_OK) {
        b.customers = customers;
        b.n = n;
        code = grade_batch(&b, stats, out);
    }
    batch_free(&b);
    return code;
}

int sc_regrade_page(mr_call *call, const char *product, long start, long count,
                    sc_regrade_stats *stats, bool *more)
{
    batch b;
    *more = false;
    int code = batch_init(&b, call, product);
    mr_val *page = NULL;
    const char **ids = NULL;
    if (code == MR_OK) {
        page = mr_store_cmd(call->store, "ZRANGE %s %ld %ld", b.pot_key, start, start + count - 1);
        if (mr_val_is_error(page))
            code = fail_redis(call);
    }
    if (code == MR_OK) {
        b.n = mr_val_count(page);
        ids = calloc(b.n ? b.n : 1, sizeof *ids);
        for (size_t i = 0; ids && i < b.n; i++)
            ids[i] = str_at(page, i);
        b.customers = ids;
        code = ids ? grade_batch(&b, stats, NULL) : mr_call_fail(call, MR_INTERNAL, "out of memory");
        *more = start + count < b.total;
    }
    batch_free(&b);
    free(ids);
    mr_val_free(&page);
    return code;
}

Medrep__Grade *sc_grade_msg_unpack(const char *data, size_t len)
{
    return data ? medrep__grade__unpack(NULL, len, (const uint8_t *)data) : NULL;
}

void sc_grade_msg_free(Medrep__Grade *g)
{
    if (g)
        medrep__grade__free_unpacked(g, NULL);
}
