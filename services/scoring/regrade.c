/* regrade.c: grade recomputation in the shell (see regrade.h). */
#include "regrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argbuf.h"
#include "errors.h"
#include "grade.h"
#include "layout.h"
#include "masterdata.h"
#include "settings.h"


/* What the pipeline read for one customer. */
typedef struct {
    mr_val *record;      /* HMGET md:customer kind hospital_id rep_id kol guideline_author opinion_leader compliance_risk */
    long below;          /* region potentials strictly below this customer's */
    int listing;         /* the hospital's listing of the product, -1 unknown */
    size_t hospital;     /* index into the batch's distinct hospitals */
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
    int64_t changes_keep_ms;       /* grade changes listed by GradeChanges this long */
    size_t n;
    const char *const *customers;
    long page_start;
    mr_val *aggs, *grades, *adopts, *stances;   /* HMGET replies, one element per customer */
    cust_reads *reads;
    const sc_means *first_means;   /* overrides the stored means of customer 0 */
    int first_adoption, first_stance;  /* overrides for customer 0, -1: none */
    const double *page_scores;     /* page mode: the customers' potentials, ascending from rank page_start */
    sc_argbuf grades_out;          /* HSET sc:grade:<product> of every changed grade */
    sc_argbuf seg_add[4], seg_rem[4];  /* SADD / SREM per segment set */
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

/* Distinct hospitals of the batch (borrowed strings); returns how many
 * and sets each customer's index. Caller frees *out. */
static size_t distinct_hospitals(batch *b, const char ***out)
{
    const char **h = calloc(b->n + 1, sizeof *h);
    size_t count = 0;
    for (size_t i = 0; h && i < b->n; i++) {
        const char *id = str_at(b->reads[i].record, 1);
        id = id && mr_md_id_valid(id) ? id : "-";
        size_t k = 0;
        while (k < count && strcmp(h[k], id) != 0)
            k++;
        if (k == count)
            h[count++] = id;
        b->reads[i].hospital = k;
    }
    *out = h;
    return count;
}

/* Ranks: in page mode one ZCOUNT for the first customer and the rest from
 * the page's ascending scores; otherwise one ZCOUNT each. */
static void append_ranks(batch *b)
{
    char score[40];
    size_t asked = b->page_scores ? (b->n ? 1 : 0) : b->n;
    for (size_t i = 0; i < asked; i++) {
        double pot = i == 0 && b->first_means ? sc_potential_value(&b->cfg, b->first_means)
                                              : agg_market(b->aggs, i, &b->cfg);
        if (b->page_scores)
            pot = b->page_scores[0];
        snprintf(score, sizeof score, "(%.17g", pot);
        mr_store_appendf(b->call->store, "ZCOUNT %s -inf %s", b->pot_key, score);
    }
}

static void ranks_from_page(batch *b)
{
    for (size_t i = 1; i < b->n; i++)
        b->reads[i].below = b->page_scores[i] == b->page_scores[i - 1]
                                ? b->reads[i - 1].below
                                : b->page_start + (long)i;
}

/* Second round: ranks in the distribution and the hospitals' listings. */
static int read_ranks_and_listings(batch *b)
{
    mr_store *s = b->call->store;
    char key[256], lf[96];
    snprintf(lf, sizeof lf, "listing:%s", b->product);
    const char **hospitals;
    size_t nh = distinct_hospitals(b, &hospitals);
    if (!hospitals)
        return mr_call_fail(b->call, MR_INTERNAL, "out of memory");
    append_ranks(b);
    for (size_t k = 0; k < nh; k++) {
        if (mr_md_key(key, sizeof key, b->call->region, MR_MD_HOSPITAL, hospitals[k]) < 0)
            mr_key(key, sizeof key, b->call->region, "md:hospital:-");
        mr_store_appendf(s, "HGET %s %s", key, lf);
    }
    int failed = 0;
    size_t asked = b->page_scores ? (b->n ? 1 : 0) : b->n;
    for (size_t i = 0; i < asked; i++) {
        mr_val *v = mr_store_next_reply(s);
        if (!failed_reply(b->call, v, &failed))
            b->reads[i].below = mr_val_int(v);
        mr_val_free(&v);
    }
    int *listing = calloc(nh + 1, sizeof *listing);
    for (size_t k = 0; k < nh; k++) {
        mr_val *v = mr_store_next_reply(s);
        if (!failed_reply(b->call, v, &failed) && listing)
            listing[k] = mr_listing_parse(mr_val_str(v, NULL));
        mr_val_free(&v);
    }
    for (size_t i = 0; listing && i < b->n; i++)
        b->reads[i].listing = listing[b->reads[i].hospital];
    if (b->page_scores && !failed)
        ranks_from_page(b);
    free(listing);
    free(hospitals);
    if (!listing && !failed)
        return mr_call_fail(b->call, MR_INTERNAL, "out of memory");
    return failed ? b->call->code : MR_OK;
}

/* ---- Grading one customer ---- */

static void views_of(const batch *b, size_t i, sc_means *m, sc_region_view *r, sc_customer_view *c)
{
    const mr_val *rec = b->reads[i].record;
    const char *agg = str_at(b->aggs, i);
    *m = (sc_means){.patients = -1};
    if (i == 0 && b->first_means)
        *m = *b->first_means;
    else if (agg)
        sscanf(agg, "%d %lf %lf %lf", &m->months, &m->our, &m->market, &m->patients);
    if (b->cfg.potential_by_patients && m->patients < 0)
        m->months = 0;   /* potential measured in patients: no patient data is no data */
    *r = (sc_region_view){.threshold = b->threshold, .total = b->total, .below = b->reads[i].below};
    const char *kind = str_at(rec, 0), *kol = str_at(rec, 3), *ga = str_at(rec, 4);
    const char *ol = str_at(rec, 5), *adopt = str_at(b->adopts, i), *stance = str_at(b->stances, i);
    int listing = b->reads[i].listing;
    *c = (sc_customer_view){
        .prescriber = kind && strcmp(kind, "prescriber") == 0,
        .kol = kol && kol[0] == '1', .guideline_author = ga && ga[0] == '1',
        .opinion_leader = ol && ol[0] == '1', .compliance_risk = sc_risk_level(str_at(rec, 6)),
        .listing = listing < 0 ? MR_LISTING_NOT_LISTED : (mr_listing)listing,
        .stance = stance ? atoi(stance) : 0, .adoption_stage = adopt ? atoi(adopt) : 0};
    if (i == 0 && b->first_adoption >= 0)
        c->adoption_stage = b->first_adoption;
    if (i == 0 && b->first_stance >= -4 && b->first_stance <= -2)
        c->stance = b->first_stance;
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
/* had_grade: the customer had a stored grade, so it may have a history to
 * trim (a customer never graded has none: history is written only with
 * a grade). */
static int stage_change(batch *b, size_t i, const char *old_seg, const char *new_seg,
                        const char *reason, const char *rep, bool had_grade)
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
    char key[256], trim[32];
    mr_key(key, sizeof key, call->region, SC_KEY_HIST, customer);
    const char *lpush[] = {"LPUSH", key, (const char *)buf};
    size_t lens[] = {5, strlen(key), len};
    int rc = mr_tx_add(call->tx, 3, lpush, lens);
    snprintf(trim, sizeof trim, "%ld", b->history_max - 1);
    if (had_grade)
        rc |= mr_tx_addv(call->tx, "LTRIM", key, "0", trim, NULL);
    mr_key(key, sizeof key, call->region, SC_KEY_CHANGES);
    const char *xadd[] = {"XADD", key, "*", "c", (const char *)buf};
    size_t xlens[] = {4, strlen(key), 1, 1, len};
    rc |= mr_tx_add(call->tx, 5, xadd, xlens);
    free(buf);
    if (rc)
        return -1;
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
    if (old_seg[0] >= 'A' && old_seg[0] <= 'D')
        sc_argbuf_push_str(&b->seg_rem[old_seg[0] - 'A'], b->customers[i]);
    if (new_seg[0] >= 'A' && new_seg[0] <= 'D')
        sc_argbuf_push_str(&b->seg_add[new_seg[0] - 'A'], b->customers[i]);
}

static void outputs_start(batch *b)
{
    char key[256];
    mr_key(key, sizeof key, b->call->region, SC_KEY_GRADE, b->product);
    sc_argbuf_start(&b->grades_out, "HSET", key);
    for (int s = 0; s < 4; s++) {
        mr_key(key, sizeof key, b->call->region, SC_KEY_SEG, b->product, 'A' + s);
        sc_argbuf_start(&b->seg_add[s], "SADD", key);
        sc_argbuf_start(&b->seg_rem[s], "SREM", key);
    }
}

/* Stages the collected commands: removals before additions, and the
 * expiry of grade changes older than the kept window. 0 or -1. */
static int outputs_flush(batch *b, bool changed)
{
    int rc = sc_argbuf_flush(&b->grades_out, b->call->tx);
    if (changed) {
        char key[128], bound[32];
        mr_key(key, sizeof key, b->call->region, SC_KEY_CHANGES);
        snprintf(bound, sizeof bound, "%lld", (long long)(b->call->now_ms - b->changes_keep_ms));
        rc |= mr_tx_addv(b->call->tx, "XTRIM", key, "MINID", "~", bound, NULL);
    }
    for (int s = 0; s < 4; s++)
        rc |= sc_argbuf_flush(&b->seg_rem[s], b->call->tx);
    for (int s = 0; s < 4; s++)
        rc |= sc_argbuf_flush(&b->seg_add[s], b->call->tx);
    return rc ? -1 : 0;
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
        sc_argbuf_push_str(&b->grades_out, b->customers[i]);
        sc_argbuf_push(&b->grades_out, (const char *)buf, len);
        if (strcmp(old_seg, seg) != 0) {
            stage_segment_sets(b, i, old_seg, seg);
            changed = stage_change(b, i, old_seg, seg, g.explanation, str_at(b->reads[i].record, 2),
                                   old != NULL) == 0
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
    }
    free(b->reads);
}

static int batch_init(batch *b, mr_call *call, const char *product)
{
    memset(b, 0, sizeof *b);
    b->call = call;
    b->product = product;
    b->first_adoption = b->first_stance = -1;
    char err[256];
    const mr_config *cfg = mr_service_config(call->svc);
    if (sc_settings_grade(cfg, call->region, product, &b->cfg, err, sizeof err) != 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
    long long hist = SC_HISTORY_MAX_DEFAULT;
    if (mr_config_int(cfg, "scoring", "history_max", SC_HISTORY_MAX_DEFAULT, 1, 10000, &hist, err,
                      sizeof err) != 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
    b->history_max = (long)hist;
    long long keep_days = SC_CHANGES_KEEP_DAYS_DEFAULT;
    if (mr_config_int(cfg, "scoring", "changes_keep_days", SC_CHANGES_KEEP_DAYS_DEFAULT, 1, 36500, &keep_days,
                      err, sizeof err) != 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "configuration: %s", err);
    b->changes_keep_ms = (int64_t)keep_days * 86400000;
    mr_key(b->pot_key, sizeof b->pot_key, call->region, SC_KEY_POT,
           b->cfg.potential_by_patients ? "patients" : "market", product);
    return read_threshold(b);
}

static int grade_batch(batch *b, sc_regrade_stats *stats, Medrep__Grade **out)
{
    if (b->n == 0)
        return MR_OK;
    b->reads = calloc(b->n ? b->n : 1, sizeof *b->reads);
    if (!b->reads)
        return mr_call_fail(b->call, MR_INTERNAL, "out of memory");
    if (read_batch(b) != MR_OK || read_ranks_and_listings(b) != MR_OK)
        return b->call->code;
    outputs_start(b);
    long changed_before = stats->changed;
    int failed = 0;
    for (size_t i = 0; i < b->n && !failed; i++) {
        int rc = grade_one(b, i, i == 0 ? out : NULL);
        failed = rc < 0;
        stats->graded++;
        stats->changed += rc > 0;
    }
    if (outputs_flush(b, stats->changed > changed_before) != 0 || failed)
        return mr_call_fail(b->call, MR_INTERNAL, "cannot stage the grades");
    return MR_OK;
}

int sc_regrade_customers(mr_call *call, const char *product, const char *const *customers,
                         size_t n, const sc_staged *staged, sc_regrade_stats *stats,
                         Medrep__Grade **out)
{
    batch b;
    int code = batch_init(&b, call, product);
    b.first_means = staged ? staged->means : NULL;
    b.first_adoption = staged ? staged->adoption_stage : -1;
    b.first_stance = staged ? staged->stance : -1;
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
        page = mr_store_cmd(call->store, "ZRANGE %s %ld %ld WITHSCORES", b.pot_key, start,
                            start + count - 1);
        if (mr_val_is_error(page))
            code = fail_redis(call);
    }
    double *scores = NULL;
    if (code == MR_OK) {
        b.n = mr_val_count(page) / 2;
        ids = calloc(b.n + 1, sizeof *ids);
        scores = calloc(b.n + 1, sizeof *scores);
        for (size_t i = 0; ids && scores && i < b.n; i++) {
            ids[i] = str_at(page, 2 * i);
            scores[i] = strtod(str_at(page, 2 * i + 1), NULL);
        }
        b.customers = ids;
        b.page_scores = scores;
        b.page_start = start;
        code = ids && scores ? grade_batch(&b, stats, NULL) : mr_call_fail(call, MR_INTERNAL, "out of memory");
        *more = start + count < b.total;
    }
    batch_free(&b);
    free(ids);
    free(scores);
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
