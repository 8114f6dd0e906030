/* import.c: one chunk of a CSV import (see import.h). The chunk is parsed
 * into rows, the kind's processor checks each row, reads the stored
 * records of all good rows in one pipeline, and stages only changes. */
#include "import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "errors.h"
#include "layout.h"
#include "masterdata.h"
#include "settings.h"

#define MAX_FIELDS 32
#define MAX_RECORD (64 * 1024)

/* ---- Rows of a chunk ---- */

typedef struct {
    long line;
    size_t count;
    char **fields;      /* one allocation with the text after the pointers */
} row;

typedef struct {
    row *rows;
    size_t count, cap;
    sc_chunk_result *res;
    int oom;
} row_set;

void sc_result_bad(sc_chunk_result *res, long line, const char *fmt, ...)
{
    res->bad++;
    sc_row_error *e;
    if (res->nerrors < SC_MAX_ROW_ERRORS) {
        e = &res->errors[res->nerrors++];
    } else {
        /* full: keep the first lines of the file, whatever order they came in */
        e = &res->errors[0];
        for (size_t i = 1; i < res->nerrors; i++)
            if (res->errors[i].line > e->line)
                e = &res->errors[i];
        if (e->line <= line)
            return;
    }
    e->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
}

static int keep_row(const mr_csv_row *r, void *arg)
{
    row_set *set = arg;
    if (r->error) {
        sc_result_bad(set->res, r->line, "%s", r->error);
        return 0;
    }
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        row *rows = realloc(set->rows, cap * sizeof *rows);
        if (!rows)
            return set->oom = 1;
        set->rows = rows;
        set->cap = cap;
    }
    size_t text = 0;
    for (size_t i = 0; i < r->count; i++)
        text += r->lens[i] + 1;
    char **fields = malloc(r->count * sizeof *fields + text);
    if (!fields)
        return set->oom = 1;
    char *p = (char *)(fields + r->count);
    for (size_t i = 0; i < r->count; i++) {
        memcpy(p, r->fields[i], r->lens[i] + 1);
        fields[i] = p;
        p += r->lens[i] + 1;
    }
    set->rows[set->count++] = (row){.line = r->line, .count = r->count, .fields = fields};
    return 0;
}

static void row_set_free(row_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->rows[i].fields);
    free(set->rows);
    memset(set, 0, sizeof *set);
}

/* Parses text (whole records) starting at file line first_line. */
static int parse_rows(const char *text, size_t len, long first_line, row_set *set)
{
    mr_csv *csv = mr_csv_new(first_line, MAX_RECORD, MAX_FIELDS);
    if (!csv)
        return -1;
    int rc = mr_csv_feed(csv, text, len, keep_row, set);
    if (rc == 0)
        rc = mr_csv_finish(csv, keep_row, set);
    mr_csv_free(&csv);
    return rc == 0 && !set->oom ? 0 : -1;
}

/* ---- Kinds and their columns ---- */

typedef struct header_map header_map;
typedef int (*process_fn)(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res);

typedef struct {
    const char *name;                 /* the kind on the command line */
    mr_md_kind md;                    /* master-data kind, when process is md_process */
    const char *const *columns;       /* allowed columns; the first is required */
    bool must_exist;                  /* rows update existing records only */
    process_fn process;
} kind_spec;

struct header_map {
    const kind_spec *kind;
    size_t count;
    char names[MAX_FIELDS][40];       /* column names, aliases resolved */
};

static int md_process(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res);
static int listing_process(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res);
static int rx_process(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res);

static const char *const product_cols[] = {"id", "name", "therapy_area", "competitors", NULL};
static const char *const hospital_cols[] = {"id", "name", "tier", "beds", "outpatient_visits",
                                            "lat", "lon", "opening_hours", NULL};
static const char *const dept_cols[] = {"id", "hospital_id", "name", "specialty", "headcount",
                                        "beds", "director_id", "meeting_moments", NULL};
static const char *const customer_cols[] = {
    "id", "name", "kind", "hospital_id", "department_id", "rep_id", "title", "setting", "kol",
    "group", "guideline_author", "opinion_leader", "compliance_risk", "windows", "peak_hours", NULL};
static const char *const window_cols[] = {"customer_id", "windows", "peak_hours", NULL};
static const char *const rep_cols[] = {"id", "name", "team", "dm_id", "home_lat", "home_lon", NULL};
static const char *const listing_cols[] = {"hospital_id", "product_id", "listing", "channel", NULL};
static const char *const rx_cols[] = {"customer_id", "product_id", "month", "our_rx", "market_rx",
                                      "patients_per_week", NULL};

static const kind_spec kind_specs[] = {
    {"products", MR_MD_PRODUCT, product_cols, false, md_process},
    {"hospitals", MR_MD_HOSPITAL, hospital_cols, false, md_process},
    {"departments", MR_MD_DEPARTMENT, dept_cols, false, md_process},
    {"customers", MR_MD_CUSTOMER, customer_cols, false, md_process},
    {"windows", MR_MD_CUSTOMER, window_cols, true, md_process},
    {"reps", MR_MD_REP, rep_cols, false, md_process},
    {"listings", MR_MD_HOSPITAL, listing_cols, true, listing_process},
    {"prescriptions", MR_MD_CUSTOMER, rx_cols, true, rx_process},
};

static const kind_spec *find_kind(const char *name)
{
    for (size_t i = 0; name && i < sizeof kind_specs / sizeof kind_specs[0]; i++)
        if (strcmp(kind_specs[i].name, name) == 0)
            return &kind_specs[i];
    return NULL;
}

static int header_fail(mr_call *call, const char *fmt, const char *what)
{
    return mr_call_fail(call, MR_INVALID_ARGUMENT, fmt, what);
}

static bool column_allowed(const kind_spec *k, const char *name)
{
    for (size_t i = 0; k->columns[i]; i++)
        if (strcmp(k->columns[i], name) == 0)
            return true;
    return false;
}

static int header_check(mr_call *call, header_map *h)
{
    bool has_first = false;
    for (size_t i = 0; i < h->count; i++) {
        if (!column_allowed(h->kind, h->names[i]))
            return header_fail(call, "unknown column '%s' in the header", h->names[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(h->names[i], h->names[j]) == 0)
                return header_fail(call, "column '%s' appears twice in the header", h->names[i]);
        has_first |= strcmp(h->names[i], h->kind->columns[0]) == 0;
    }
    if (!has_first)
        return header_fail(call, "the header must have the column '%s'", h->kind->columns[0]);
    return MR_OK;
}

static int keep_header(const mr_csv_row *r, void *arg)
{
    header_map *h = arg;
    if (r->error || r->count > MAX_FIELDS || h->count)
        return 1;
    for (size_t i = 0; i < r->count; i++) {
        if (r->lens[i] >= sizeof h->names[i])
            return 1;
        memcpy(h->names[i], r->fields[i], r->lens[i] + 1);
    }
    h->count = r->count;
    return 0;
}

static int parse_header(mr_call *call, const char *text, header_map *h)
{
    mr_csv *csv = mr_csv_new(1, MAX_RECORD, MAX_FIELDS);
    if (!csv)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    int rc = mr_csv_feed(csv, text, strlen(text), keep_header, h);
    if (rc == 0)
        rc = mr_csv_finish(csv, keep_header, h);
    mr_csv_free(&csv);
    if (rc != 0 || h->count == 0)
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "the header row is not a valid CSV row");
    return header_check(call, h);
}

/* The value of column `name` in the row, or NULL when the file lacks it. */
static const char *cell(const header_map *h, const row *r, const char *name)
{
    for (size_t i = 0; i < h->count && i < r->count; i++)
        if (strcmp(h->names[i], name) == 0)
            return r->fields[i];
    return NULL;
}

/* ---- Pipelined reads ---- */

/* Sends every command of the batch, then reads every reply into vals
 * (caller frees each). -1 when the connection failed. */
static int pipeline_read(mr_store *s, size_t n, mr_val **vals)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        vals[i] = mr_store_next_reply(s);
        if (!vals[i] || mr_val_type(vals[i]) == MR_VAL_ERROR)
            failed = 1;
    }
    return failed ? -1 : 0;
}

static void vals_free(mr_val **vals, size_t n)
{
    for (size_t i = 0; vals && i < n; i++)
        mr_val_free(&vals[i]);
    free(vals);
}

/* ---- Master data ---- */

static size_t md_size(mr_md_kind kind)
{
    static const size_t sizes[] = {sizeof(mr_product), sizeof(mr_hospital), sizeof(mr_department),
                                   sizeof(mr_customer), sizeof(mr_rep)};
    return sizes[kind];
}

static bool id_or_empty(const char *id)
{
    return !id[0] || mr_md_id_valid(id);
}

static bool one_of(const char *v, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return true;
    return false;
}

static const char *check_customer(const mr_customer *c)
{
    static const char *const titles[] = {"", "chief", "associate_chief", "attending", "resident", NULL};
    static const char *const settings[] = {"", "outpatient", "inpatient", NULL};
    static const char *const risks[] = {"", "low", "medium", "high", NULL};
    static const char *const groups[] = {
        "storekeeper", "procurement", "pharmacy_lead", "laboratory", "head_nurse", "leadership",
        "pharmacy_director", "non_prescribing_kol", "medical_affairs", "medical_education", NULL};
    if (!id_or_empty(c->hospital_id) || !id_or_empty(c->department_id) || !id_or_empty(c->rep_id))
        return "hospital_id, department_id and rep_id must be ids ([A-Za-z0-9._:-], 1-63 bytes)";
    if (!one_of(c->title, titles))
        return "title must be chief, associate_chief, attending or resident";
    if (!one_of(c->setting, settings))
        return "setting must be outpatient or inpatient";
    if (!one_of(c->compliance_risk, risks))
        return "compliance_risk must be low, medium or high";
    if (c->kind == MR_CUSTOMER_NON_PRESCRIBER && !one_of(c->group, groups))
        return "a non-prescriber needs a group (storekeeper, procurement, pharmacy_lead, laboratory, "
               "head_nurse, leadership, pharmacy_director, non_prescribing_kol, medical_affairs, "
               "medical_education)";
    return NULL;
}

/* Domain checks beyond the field types; NULL when the record is good. */
static const char *md_check(mr_md_kind kind, const void *rec)
{
    if (kind == MR_MD_HOSPITAL) {
        const mr_hospital *h = rec;
        if (h->tier < 1 || h->tier > 3)
            return "tier must be 1, 2 or 3";
        if (h->beds < 0 || h->outpatient_visits < 0)
            return "beds and outpatient_visits must not be negative";
        if (fabs(h->lat) > 90 || fabs(h->lon) > 180)
            return "lat must be within -90..90 and lon within -180..180";
    } else if (kind == MR_MD_DEPARTMENT) {
        const mr_department *d = rec;
        if (!mr_md_id_valid(d->hospital_id) || !id_or_empty(d->director_id))
            return "hospital_id is required and director_id must be an id";
        if (d->headcount < 0 || d->beds < 0)
            return "headcount and beds must not be negative";
    } else if (kind == MR_MD_CUSTOMER) {
        return check_customer(rec);
    } else if (kind == MR_MD_REP) {
        const mr_rep *r = rec;
        if (!mr_md_id_valid(r->team) || !id_or_empty(r->dm_id))
            return "team is required and dm_id must be an id";
    }
    return NULL;
}

/* Applies the row's columns to rec. NULL, or why the row is bad. */
static const char *md_apply(const header_map *h, const row *r, void *rec, char *buf, size_t cap)
{
    if (r->count != h->count) {
        snprintf(buf, cap, "%zu fields where the header has %zu", r->count, h->count);
        return buf;
    }
    for (size_t i = 0; i < h->count; i++) {
        const char *name = strcmp(h->names[i], "customer_id") == 0 ? "id" : h->names[i];
        if (mr_md_set_field(h->kind->md, rec, name, r->fields[i]) != 0) {
            snprintf(buf, cap, "column %s: '%.60s' is not a valid value", h->names[i], r->fields[i]);
            return buf;
        }
    }
    return NULL;
}

typedef struct {
    const row *r;
    char id[MR_ID_MAX];
    const mr_val *stored;   /* its HGETALL reply (borrowed) */
} md_pending;

/* By id, then by line: the rows of one id are merged in file order. */
static int compare_pending(const void *a, const void *b)
{
    const md_pending *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->r->line > y->r->line) - (x->r->line < y->r->line);
}

/* Checks each row's values alone (the domain rules are checked on the
 * record merged with what is stored); keeps the good ones in accepted. */
static size_t md_check_rows(const header_map *h, row_set *rows, md_pending *accepted, void *scratch,
                            sc_chunk_result *res)
{
    size_t n = 0;
    size_t size = md_size(h->kind->md);
    char buf[200];
    for (size_t i = 0; i < rows->count; i++) {
        const row *r = &rows->rows[i];
        memset(scratch, 0, size);
        const char *why = md_apply(h, r, scratch, buf, sizeof buf);
        if (!why && !((char *)scratch)[0])
            why = "the id is empty";
        if (why) {
            sc_result_bad(res, r->line, "%s", why);
            continue;
        }
        accepted[n].r = r;
        memcpy(accepted[n].id, scratch, MR_ID_MAX);
        n++;
    }
    return n;
}

/* Merges one row into its record: the one an earlier row of this chunk
 * left (prior, may be NULL) or else the stored one; stages it when it
 * changed. Returns where the record's state is now: 1 in rec, 0 in old,
 * -1 nowhere (it does not exist). */
static int md_merge(mr_call *call, const header_map *h, const md_pending *p, const void *prior,
                    void *old, void *rec, sc_chunk_result *res)
{
    mr_md_kind kind = h->kind->md;
    size_t size = md_size(kind);
    char buf[200];
    memset(old, 0, size);
    memcpy(old, p->id, MR_ID_MAX);
    int found = prior ? 1 : mr_md_parse(kind, p->stored, old);
    if (prior)
        memcpy(old, prior, size);
    if (!found && h->kind->must_exist) {
        sc_result_bad(res, p->r->line, "%s %s is not in the master data", mr_md_kind_name(kind), p->id);
        return -1;
    }
    memcpy(rec, old, size);
    md_apply(h, p->r, rec, buf, sizeof buf);
    const char *why = md_check(kind, rec);
    if (why) {
        sc_result_bad(res, p->r->line, "%s", why);
        return found ? 0 : -1;
    }
    if (found && mr_md_same(kind, old, rec)) {
        res->unchanged++;
        return 1;
    }
    if (mr_md_stage(call->tx, call->region, kind, rec, found ? old : NULL) != 0) {
        sc_result_bad(res, p->r->line, "cannot stage the record");
        return found ? 0 : -1;
    }
    res->ok++;
    const mr_customer *was = old, *now = rec;
    if (kind == MR_MD_CUSTOMER && found && strcmp(was->hospital_id, now->hospital_id) != 0 &&
        sc_stage_hospital_move(call, now->id, was->hospital_id, now->hospital_id) != MR_OK)
        res->ok--, sc_result_bad(res, p->r->line, "cannot move the customer's prescriptions: %s",
                                 call->message);
    return 1;
}

/* Merges every pending row, in id order, carrying a repeated id's record
 * from one row to the next. */
static void md_merge_all(mr_call *call, const header_map *h, md_pending *accepted, size_t n,
                         char *old, char *rec, char *last, sc_chunk_result *res)
{
    size_t size = md_size(h->kind->md);
    qsort(accepted, n, sizeof *accepted, compare_pending);
    bool have_last = false;
    for (size_t i = 0; i < n; i++) {
        bool same_id = i > 0 && strcmp(accepted[i].id, accepted[i - 1].id) == 0;
        int state = md_merge(call, h, &accepted[i], same_id && have_last ? last : NULL, old, rec, res);
        have_last = state >= 0;
        if (have_last)
            memcpy(last, state == 1 ? rec : old, size);
    }
}

static int md_process(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res)
{
    size_t size = md_size(h->kind->md);
    md_pending *accepted = calloc(rows->count ? rows->count : 1, sizeof *accepted);
    char *a = calloc(1, size), *b = calloc(1, size), *last = calloc(1, size);
    mr_val **vals = calloc(rows->count ? rows->count : 1, sizeof *vals);
    int code = MR_OK;
    if (!accepted || !a || !b || !last || !vals) {
        code = mr_call_fail(call, MR_INTERNAL, "out of memory");
        goto done;
    }
    size_t n = md_check_rows(h, rows, accepted, a, res);
    for (size_t i = 0; i < n; i++) {
        char key[256];
        mr_md_key(key, sizeof key, call->region, h->kind->md, accepted[i].id);
        mr_store_appendf(call->store, "HGETALL %s", key);
    }
    if (pipeline_read(call->store, n, vals) != 0) {
        code = mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        accepted[i].stored = vals[i];
    md_merge_all(call, h, accepted, n, a, b, last, res);
done:
    vals_free(vals, rows->count);
    free(accepted);
    free(a);
    free(b);
    free(last);
    return code;
}

/* ---- Listings ---- */

static int listing_process(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res)
{
    mr_val **vals = calloc(rows->count ? rows->count : 1, sizeof *vals);
    size_t *idx = calloc(rows->count ? rows->count : 1, sizeof *idx);
    int code = MR_OK;
    size_t n = 0;
    if (!vals || !idx) {
        code = mr_call_fail(call, MR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < rows->count; i++) {
        const row *r = &rows->rows[i];
        const char *hid = cell(h, r, "hospital_id"), *pid = cell(h, r, "product_id");
        const char *l = cell(h, r, "listing"), *c = cell(h, r, "channel");
        if (r->count != h->count || !pid || !l || !c) {
            sc_result_bad(res, r->line, "a listing row needs hospital_id, product_id, listing and channel");
            continue;
        }
        if (!mr_md_id_valid(hid) || !mr_md_id_valid(pid) || mr_listing_parse(l) < 0 ||
            (strcmp(c, "open") != 0 && strcmp(c, "blocked") != 0)) {
            sc_result_bad(res, r->line, "bad ids, or listing not one of not_listed/applied/listed, or "
                                     "channel not open/blocked");
            continue;
        }
        char key[256];
        mr_md_key(key, sizeof key, call->region, MR_MD_HOSPITAL, hid);
        mr_store_appendf(call->store, "HMGET %s name listing:%s channel:%s", key, pid, pid);
        idx[n++] = i;
    }
    if (pipeline_read(call->store, n, vals) != 0) {
        code = mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        const row *r = &rows->rows[idx[k]];
        const char *hid = cell(h, r, "hospital_id"), *pid = cell(h, r, "product_id");
        const char *l = cell(h, r, "listing"), *c = cell(h, r, "channel");
        const char *name = mr_val_str(mr_val_at(vals[k], 0), NULL);
        const char *ol = mr_val_str(mr_val_at(vals[k], 1), NULL);
        const char *oc = mr_val_str(mr_val_at(vals[k], 2), NULL);
        if (!name)
            sc_result_bad(res, r->line, "hospital %s is not in the master data", hid);
        else if (ol && oc && strcmp(ol, l) == 0 && strcmp(oc, c) == 0)
            res->unchanged++;
        else if (mr_md_stage_listing(call->tx, call->region, hid, pid, (mr_listing)mr_listing_parse(l),
                                     strcmp(c, "open") == 0) == 0)
            res->ok++;
    }
done:
    vals_free(vals, n);
    free(idx);
    return code;
}

/* ---- Prescriptions ---- */

static bool month_valid(const char *m)
{
    if (strlen(m) != 7 || m[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (m[i] < '0' || m[i] > '9'))
            return false;
    int month = (m[5] - '0') * 10 + (m[6] - '0');
    return month >= 1 && month <= 12;
}

const char *sc_rx_row_check(const sc_rx_row *r)
{
    if (!mr_md_id_valid(r->customer) || !mr_md_id_valid(r->product))
        return "customer_id and product_id must be ids ([A-Za-z0-9._:-], 1-63 bytes)";
    if (!month_valid(r->month))
        return "month must be YYYY-MM";
    if (!isfinite(r->our) || !isfinite(r->market) || r->our < 0 || r->market < 0 || r->our > 1e9 ||
        r->market > 1e9)
        return "our_rx and market_rx must be numbers from 0 to 1e9";
    if (!isfinite(r->patients) || r->patients > 1e9)
        return "patients_per_week must be a number from 0 to 1e9";
    return NULL;
}

static bool number(const char *t, double *out)
{
    char *end;
    if (!t || !t[0])
        return false;
    *out = strtod(t, &end);
    return *end == '\0';
}

/* Fills an sc_rx_row from a CSV row. NULL, or why the row is bad. */
static const char *rx_from_row(const header_map *h, const row *r, sc_rx_row *out)
{
    if (r->count != h->count)
        return "the row does not have as many fields as the header";
    const char *c = cell(h, r, "customer_id"), *p = cell(h, r, "product_id");
    const char *m = cell(h, r, "month"), *pat = cell(h, r, "patients_per_week");
    if (!c || !p || !m || strlen(c) >= MR_ID_MAX || strlen(p) >= MR_ID_MAX || strlen(m) > 7)
        return "customer_id, product_id and month are required ids";
    memset(out, 0, sizeof *out);
    out->line = r->line;
    strcpy(out->customer, c);
    strcpy(out->product, p);
    strcpy(out->month, m);
    if (!number(cell(h, r, "our_rx"), &out->our) || !number(cell(h, r, "market_rx"), &out->market))
        return "our_rx and market_rx must be numbers";
    out->patients = -1;
    if (pat && pat[0] && (!number(pat, &out->patients) || out->patients < 0))
        return "patients_per_week must be empty or a number >= 0";
    return sc_rx_row_check(out);
}

static int rx_process(mr_call *call, const header_map *h, row_set *rows, sc_chunk_result *res)
{
    sc_rx_row *rx = calloc(rows->count ? rows->count : 1, sizeof *rx);
    if (!rx)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < rows->count; i++) {
        const char *why = rx_from_row(h, &rows->rows[i], &rx[n]);
        if (why)
            sc_result_bad(res, rows->rows[i].line, "%s", why);
        else
            n++;
    }
    int code = sc_stage_prescriptions(call, rx, n, res);
    free(rx);
    return code;
}

/* ---- The method ---- */

static int compare_errors(const void *a, const void *b)
{
    const sc_row_error *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

int sc_import_chunk(mr_call *call, const Medrep__ImportChunkRequest *req, sc_chunk_result *res)
{
    memset(res, 0, sizeof *res);
    header_map h = {.kind = find_kind(req->kind)};
    if (!h.kind)
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "unknown import kind '%s' (products, hospitals, "
                            "listings, departments, customers, windows, reps, prescriptions)",
                            req->kind ? req->kind : "");
    if (!req->header || !req->header[0])
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "the header row is missing");
    if (parse_header(call, req->header, &h) != MR_OK)
        return call->code;
    long first = req->has_first_line && req->first_line > 0 ? req->first_line : 1;
    row_set rows = {.res = res};
    if (parse_rows((const char *)req->csv.data, req->csv.len, first, &rows) != 0) {
        row_set_free(&rows);
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    }
    /* the header row itself, when the chunk starts the file */
    if (first == 1 && rows.count > 0 && rows.rows[0].line == 1) {
        free(rows.rows[0].fields);
        memmove(rows.rows, rows.rows + 1, (rows.count - 1) * sizeof *rows.rows);
        rows.count--;
    }
    int code = h.kind->process(call, &h, &rows, res);
    row_set_free(&rows);
    qsort(res->errors, res->nerrors, sizeof *res->errors, compare_errors);
    return code;
}
