/* masterdata.c: the shared master data in Redis (see masterdata.h).
 *
 * Each record kind is described once by a table of its hash fields (name,
 * type, offset in the C struct), and every operation (stage, parse,
 * compare) walks that table, so the stored layout and the structs cannot
 * drift apart. Values are stored as text: integers in decimal, doubles
 * with %.10g, booleans as 0/1, the customer kind as "prescriber" or
 * "non_prescriber". */
#include "masterdata.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { F_STR, F_INT, F_DBL, F_BOOL, F_CKIND } field_type;

typedef struct {
    const char *name;
    field_type type;
    size_t off;
    size_t size;   /* F_STR: buffer size */
} md_field;

#define STR(T, f) {#f, F_STR, offsetof(T, f), sizeof(((T *)0)->f)}
#define INT(T, f) {#f, F_INT, offsetof(T, f), 0}
#define DBL(T, f) {#f, F_DBL, offsetof(T, f), 0}
#define BOOL(T, f) {#f, F_BOOL, offsetof(T, f), 0}

static const md_field product_fields[] = {
    STR(mr_product, name), STR(mr_product, therapy_area), STR(mr_product, competitors)};
static const md_field hospital_fields[] = {
    STR(mr_hospital, name), INT(mr_hospital, tier), INT(mr_hospital, beds),
    INT(mr_hospital, outpatient_visits), DBL(mr_hospital, lat), DBL(mr_hospital, lon),
    STR(mr_hospital, opening_hours)};
static const md_field dept_fields[] = {
    STR(mr_department, hospital_id), STR(mr_department, name), STR(mr_department, specialty),
    INT(mr_department, headcount), INT(mr_department, beds), STR(mr_department, director_id),
    STR(mr_department, meeting_moments)};
static const md_field customer_fields[] = {
    STR(mr_customer, name), {"kind", F_CKIND, offsetof(mr_customer, kind), 0},
    STR(mr_customer, hospital_id), STR(mr_customer, department_id), STR(mr_customer, rep_id),
    STR(mr_customer, title), STR(mr_customer, setting), BOOL(mr_customer, kol),
    STR(mr_customer, group), BOOL(mr_customer, guideline_author),
    BOOL(mr_customer, opinion_leader), STR(mr_customer, compliance_risk),
    STR(mr_customer, windows), STR(mr_customer, peak_hours)};
static const md_field rep_fields[] = {
    STR(mr_rep, name), STR(mr_rep, team), STR(mr_rep, dm_id), DBL(mr_rep, home_lat),
    DBL(mr_rep, home_lon)};

typedef struct {
    const char *name;
    const char *plural;      /* the set of all ids */
    const md_field *fields;
    size_t count;
} md_kind_def;

#define N(a) (sizeof a / sizeof a[0])
static const md_kind_def kinds[MR_MD_KIND_COUNT] = {
    [MR_MD_PRODUCT] = {"product", "products", product_fields, N(product_fields)},
    [MR_MD_HOSPITAL] = {"hospital", "hospitals", hospital_fields, N(hospital_fields)},
    [MR_MD_DEPARTMENT] = {"dept", "depts", dept_fields, N(dept_fields)},
    [MR_MD_CUSTOMER] = {"customer", "customers", customer_fields, N(customer_fields)},
    [MR_MD_REP] = {"rep", "reps", rep_fields, N(rep_fields)},
};

/* Every record struct starts with its id. */
_Static_assert(offsetof(mr_product, id) == 0 && offsetof(mr_hospital, id) == 0 &&
                   offsetof(mr_department, id) == 0 && offsetof(mr_customer, id) == 0 &&
                   offsetof(mr_rep, id) == 0,
               "records start with their id");

bool mr_md_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n >= MR_ID_MAX)
        return false;
    for (const char *p = id; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

const char *mr_md_kind_name(mr_md_kind kind)
{
    return kind < MR_MD_KIND_COUNT ? kinds[kind].name : "?";
}

int mr_md_key(char *buf, size_t cap, const char *region, mr_md_kind kind, const char *id)
{
    if (kind >= MR_MD_KIND_COUNT || !mr_md_id_valid(id))
        return -1;
    return mr_key(buf, cap, region, "md:%s:%s", kinds[kind].name, id);
}

const char *mr_listing_name(mr_listing l)
{
    switch (l) {
    case MR_LISTING_APPLIED: return "applied";
    case MR_LISTING_LISTED: return "listed";
    default: return "not_listed";
    }
}

int mr_listing_parse(const char *text)
{
    if (!text)
        return -1;
    if (strcmp(text, "not_listed") == 0)
        return MR_LISTING_NOT_LISTED;
    if (strcmp(text, "applied") == 0)
        return MR_LISTING_APPLIED;
    if (strcmp(text, "listed") == 0)
        return MR_LISTING_LISTED;
    return -1;
}

/* ---- Field values as text ---- */

/* Writes the field's value into buf (cap >= 40 or the string's size). */
static const char *field_text(const md_field *f, const void *rec, char *buf, size_t cap)
{
    const char *p = (const char *)rec + f->off;
    switch (f->type) {
    case F_STR: return p;
    case F_INT: snprintf(buf, cap, "%d", *(const int *)p); return buf;
    case F_DBL: snprintf(buf, cap, "%.10g", *(const double *)p); return buf;
    case F_BOOL: return *(const bool *)p ? "1" : "0";
    case F_CKIND:
        return *(const mr_customer_kind *)p == MR_CUSTOMER_NON_PRESCRIBER ? "non_prescriber"
                                                                         : "prescriber";
    }
    return "";
}

static void field_set(const md_field *f, void *rec, const char *text, size_t len)
{
    char *p = (char *)rec + f->off;
    char tmp[64];
    size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
    memcpy(tmp, text, n);
    tmp[n] = '\0';
    switch (f->type) {
    case F_STR: {
        size_t m = len < f->size - 1 ? len : f->size - 1;
        memcpy(p, text, m);
        p[m] = '\0';
        break;
    }
    case F_INT: *(int *)p = (int)strtol(tmp, NULL, 10); break;
    case F_DBL: *(double *)p = strtod(tmp, NULL); break;
    case F_BOOL: *(bool *)p = tmp[0] == '1'; break;
    case F_CKIND:
        *(mr_customer_kind *)p = strcmp(tmp, "non_prescriber") == 0 ? MR_CUSTOMER_NON_PRESCRIBER
                                                                     : MR_CUSTOMER_PRESCRIBER;
        break;
    }
}

static int parse_bool(const char *t, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "y", NULL};
    static const char *const no[] = {"0", "false", "no", "n", "", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(t, yes[i]) == 0)
            return *out = true, 0;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(t, no[i]) == 0)
            return *out = false, 0;
    return -2;
}

static int parse_strict(const md_field *f, void *rec, const char *t)
{
    char *p = (char *)rec + f->off, *end;
    switch (f->type) {
    case F_STR:
        if (strlen(t) >= f->size)
            return -2;
        memcpy(p, t, strlen(t) + 1);
        return 0;
    case F_INT: {
        errno = 0;
        long v = strtol(t, &end, 10);
        if (!t[0] || *end || errno || v < INT_MIN || v > INT_MAX)
            return -2;
        *(int *)p = (int)v;
        return 0;
    }
    case F_DBL: {
        double v = t[0] ? strtod(t, &end) : 0;
        if ((t[0] && *end) || !isfinite(v))
            return -2;
        *(double *)p = v;
        return 0;
    }
    case F_BOOL: return parse_bool(t, (bool *)p);
    case F_CKIND:
        if (strcmp(t, "prescriber") == 0)
            *(mr_customer_kind *)p = MR_CUSTOMER_PRESCRIBER;
        else if (strcmp(t, "non_prescriber") == 0)
            *(mr_customer_kind *)p = MR_CUSTOMER_NON_PRESCRIBER;
        else
            return -2;
        return 0;
    }
    return -2;
}

int mr_md_set_field(mr_md_kind kind, void *rec, const char *name, const char *text)
{
    if (kind >= MR_MD_KIND_COUNT)
        return -1;
    if (strcmp(name, "id") == 0) {
        if (!mr_md_id_valid(text))
            return -2;
        snprintf(rec, MR_ID_MAX, "%s", text);
        return 0;
    }
    const md_kind_def *k = &kinds[kind];
    for (size_t f = 0; f < k->count; f++)
        if (strcmp(k->fields[f].name, name) == 0)
            return parse_strict(&k->fields[f], rec, text);
    return -1;
}

int mr_md_parse(mr_md_kind kind, const mr_val *v, void *out)
{
    if (kind >= MR_MD_KIND_COUNT || mr_val_type(v) != MR_VAL_ARRAY || mr_val_count(v) == 0)
        return 0;
    const md_kind_def *k = &kinds[kind];
    size_t n = mr_val_count(v);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t nlen, vlen;
        const char *name = mr_val_str(mr_val_at(v, i), &nlen);
        const char *value = mr_val_str(mr_val_at(v, i + 1), &vlen);
        if (!name || !value)
            continue;
        for (size_t f = 0; f < k->count; f++)
            if (strlen(k->fields[f].name) == nlen && memcmp(k->fields[f].name, name, nlen) == 0)
                field_set(&k->fields[f], out, value, vlen);
    }
    return 1;
}

bool mr_md_same(mr_md_kind kind, const void *a, const void *b)
{
    if (kind >= MR_MD_KIND_COUNT)
        return false;
    const md_kind_def *k = &kinds[kind];
    if (strcmp((const char *)a, (const char *)b) != 0)
        return false;
    for (size_t f = 0; f < k->count; f++) {
        char ba[48], bb[48];
        if (strcmp(field_text(&k->fields[f], a, ba, sizeof ba),
                    field_text(&k->fields[f], b, bb, sizeof bb)) != 0)
            return false;
    }
    return true;
}

/* ---- Staging ---- */

/* HSET of every field of the record. */
static int stage_hash(mr_tx *tx, const char *key, const md_kind_def *k, const void *rec)
{
    const char *argv[2 + 2 * 16];
    char nums[16][48];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    for (size_t f = 0; f < k->count; f++) {
        argv[argc++] = k->fields[f].name;
        argv[argc++] = field_text(&k->fields[f], rec, nums[f], sizeof nums[f]);
    }
    return mr_tx_add(tx, argc, argv, NULL);
}

/* SADD (or SREM) id to the index "md:<kind>:<owner>:<what>" when owner is set. */
static int stage_index(mr_tx *tx, const char *region, const char *op, const char *kind,
                       const char *owner, const char *what, const char *id)
{
    char key[256];
    if (!mr_md_id_valid(owner) || !id || !id[0])
        return 0;   /* no owner (or an owner name unfit for a key): not indexed */
    if (mr_key(key, sizeof key, region, "md:%s:%s:%s", kind, owner, what) < 0)
        return -1;
    return mr_tx_addv(tx, op, key, id, NULL);
}

/* Moves id from the old owner's index to the new one's. */
static int stage_moved(mr_tx *tx, const char *region, const char *kind, const char *now,
                       const char *before, const char *what, const char *id)
{
    int rc = 0;
    if (before && strcmp(before, now) != 0)
        rc |= stage_index(tx, region, "SREM", kind, before, what, id);
    rc |= stage_index(tx, region, "SADD", kind, now, what, id);
    return rc;
}

static int stage_indexes(mr_tx *tx, const char *region, mr_md_kind kind, const void *rec,
                         const void *old)
{
    const char *id = rec;
    int rc = 0;
    if (kind == MR_MD_DEPARTMENT) {
        const mr_department *d = rec, *o = old;
        rc |= stage_moved(tx, region, "hospital", d->hospital_id, o ? o->hospital_id : NULL, "depts", id);
    } else if (kind == MR_MD_CUSTOMER) {
        const mr_customer *c = rec, *o = old;
        rc |= stage_moved(tx, region, "hospital", c->hospital_id, o ? o->hospital_id : NULL, "customers", id);
        rc |= stage_moved(tx, region, "dept", c->department_id, o ? o->department_id : NULL, "customers", id);
        rc |= stage_moved(tx, region, "rep", c->rep_id, o ? o->rep_id : NULL, "customers", id);
        rc |= stage_index(tx, region, "SADD", "rep", c->rep_id, "hospitals", c->hospital_id);
    } else if (kind == MR_MD_REP) {
        const mr_rep *r = rec, *o = old;
        rc |= stage_moved(tx, region, "team", r->team, o ? o->team : NULL, "reps", id);
        rc |= stage_moved(tx, region, "dm", r->dm_id, o ? o->dm_id : NULL, "reps", id);
    }
    return rc;
}

int mr_md_stage(mr_tx *tx, const char *region, mr_md_kind kind, const void *rec, const void *old)
{
    char key[256], all[128];
    const char *id = rec;
    if (kind >= MR_MD_KIND_COUNT || mr_md_key(key, sizeof key, region, kind, id) < 0 ||
        mr_key(all, sizeof all, region, "md:%s", kinds[kind].plural) < 0)
        return -1;
    if (stage_hash(tx, key, &kinds[kind], rec) != 0 || mr_tx_addv(tx, "SADD", all, id, NULL) != 0)
        return -1;
    return stage_indexes(tx, region, kind, rec, old) == 0 ? 0 : -1;
}

int mr_md_stage_product(mr_tx *tx, const char *region, const mr_product *p)
{
    return mr_md_stage(tx, region, MR_MD_PRODUCT, p, NULL);
}

int mr_md_stage_hospital(mr_tx *tx, const char *region, const mr_hospital *h)
{
    return mr_md_stage(tx, region, MR_MD_HOSPITAL, h, NULL);
}

int mr_md_stage_department(mr_tx *tx, const char *region, const mr_department *d,
                           const mr_department *old)
{
    return mr_md_stage(tx, region, MR_MD_DEPARTMENT, d, old);
}

int mr_md_stage_customer(mr_tx *tx, const char *region, const mr_customer *c,
                         const mr_customer *old)
{
    return mr_md_stage(tx, region, MR_MD_CUSTOMER, c, old);
}

int mr_md_stage_rep(mr_tx *tx, const char *region, const mr_rep *r, const mr_rep *old)
{
    return mr_md_stage(tx, region, MR_MD_REP, r, old);
}

int mr_md_stage_listing(mr_tx *tx, const char *region, const char *hospital_id,
                        const char *product_id, mr_listing listing, bool channel_open)
{
    char key[256], lf[80], cf[80];
    if (!mr_md_id_valid(product_id) ||
        mr_md_key(key, sizeof key, region, MR_MD_HOSPITAL, hospital_id) < 0)
        return -1;
    snprintf(lf, sizeof lf, "listing:%s", product_id);
    snprintf(cf, sizeof cf, "channel:%s", product_id);
    return mr_tx_addv(tx, "HSET", key, lf, mr_listing_name(listing), cf,
                      channel_open ? "open" : "blocked", NULL);
}

/* ---- Reads ---- */

static int get_record(mr_store *s, const char *region, mr_md_kind kind, const char *id, void *out,
                      size_t size)
{
    char key[256];
    if (mr_md_key(key, sizeof key, region, kind, id) < 0)
        return 0;
    mr_val *v = mr_store_cmd(s, "HGETALL %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    memset(out, 0, size);
    snprintf(out, MR_ID_MAX, "%s", id);
    int found = mr_md_parse(kind, v, out);
    mr_val_free(&v);
    return found;
}

int mr_md_get_product(mr_store *s, const char *region, const char *id, mr_product *out)
{
    return get_record(s, region, MR_MD_PRODUCT, id, out, sizeof *out);
}

int mr_md_get_hospital(mr_store *s, const char *region, const char *id, mr_hospital *out)
{
    return get_record(s, region, MR_MD_HOSPITAL, id, out, sizeof *out);
}

int mr_md_get_department(mr_store *s, const char *region, const char *id, mr_department *out)
{
    return get_record(s, region, MR_MD_DEPARTMENT, id, out, sizeof *out);
}

int mr_md_get_customer(mr_store *s, const char *region, const char *id, mr_customer *out)
{
    return get_record(s, region, MR_MD_CUSTOMER, id, out, sizeof *out);
}

int mr_md_get_rep(mr_store *s, const char *region, const char *id, mr_rep *out)
{
    return get_record(s, region, MR_MD_REP, id, out, sizeof *out);
}

int mr_md_get_listing(mr_store *s, const char *region, const char *hospital_id,
                      const char *product_id, mr_listing *listing, bool *channel_open)
{
    char key[256], lf[80], cf[80];
    if (!mr_md_id_valid(product_id) ||
        mr_md_key(key, sizeof key, region, MR_MD_HOSPITAL, hospital_id) < 0)
        return 0;
    snprintf(lf, sizeof lf, "listing:%s", product_id);
    snprintf(cf, sizeof cf, "channel:%s", product_id);
    mr_val *v = mr_store_cmd(s, "HMGET %s %s %s", key, lf, cf);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    const char *l = mr_val_str(mr_val_at(v, 0), NULL);
    const char *c = mr_val_str(mr_val_at(v, 1), NULL);
    int parsed = mr_listing_parse(l);
    *listing = parsed < 0 ? MR_LISTING_NOT_LISTED : (mr_listing)parsed;
    *channel_open = c && strcmp(c, "open") == 0;
    mr_val_free(&v);
    return l ? 1 : 0;
}

/* ---- Index sets ---- */

int mr_md_index(char *buf, size_t cap, const char *kind, const char *id, const char *what)
{
    int n = kind ? snprintf(buf, cap, "md:%s:%s:%s", kind, id ? id : "", what)
                 : snprintf(buf, cap, "md:%s", what);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long mr_md_list(mr_store *s, const char *region, const char *index, char ***ids)
{
    char key[320];
    *ids = NULL;
    if (mr_key(key, sizeof key, region, "%s", index) < 0)
        return -1;
    mr_val *v = mr_store_cmd(s, "SMEMBERS %s", key);
    if (mr_val_is_error(v) || mr_val_type(v) != MR_VAL_ARRAY) {
        mr_val_free(&v);
        return -1;
    }
    size_t n = mr_val_count(v);
    char **out = calloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        size_t len;
        const char *str = mr_val_str(mr_val_at(v, i), &len);
        out[i] = strndup(str ? str : "", str ? len : 0);
        if (!out[i]) {
            mr_md_free_ids(out, (long)i);
            out = NULL;
        }
    }
    mr_val_free(&v);
    if (!out)
        return -1;
    qsort(out, n, sizeof *out, compare_ids);
    *ids = out;
    return (long)n;
}

void mr_md_free_ids(char **ids, long count)
{
    for (long i = 0; ids && i < count; i++)
        free(ids[i]);
    free(ids);
}
