/* store.c: the meetings service's stored record and indexes (layout in
 * meetings.h), the scoped settings, and the segment copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "masterdata.h"
#include "meetings.h"
#include "store.h"

/* ---- Settings ---- */

void mt_settings_init(mt_settings *s, const mt_state_t *st, const char *region, const char *kind,
                      const char *product)
{
    s->st = st;
    snprintf(s->scope[0], sizeof s->scope[0], "kind:%s", kind ? kind : "");
    snprintf(s->scope[1], sizeof s->scope[1], "product:%s", product ? product : "");
    snprintf(s->scope[2], sizeof s->scope[2], "region:%s", region ? region : "");
    for (int i = 0; i < 3; i++)
        s->scopes[i] = s->scope[i];
    s->scopes[3] = NULL;
}

const char *mt_get(const mt_settings *s, const char *section, const char *key)
{
    const char *v = mr_config_scoped(s->st->cfg, section, key, s->scopes);
    return v ? v : mr_config_scoped(s->st->defaults, section, key, s->scopes);
}

const char *mt_str(const mt_settings *s, const char *key)
{
    const char *v = mt_get(s, "meetings", key);
    return v ? v : "";
}

long long mt_int(const mt_settings *s, const char *key, long long def)
{
    const char *v = mt_get(s, "meetings", key);
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : def;
    return v && end != v && *end == 0 ? n : def;
}

double mt_double(const mt_settings *s, const char *key, double def)
{
    const char *v = mt_get(s, "meetings", key);
    char *end = NULL;
    double d = v ? strtod(v, &end) : def;
    return v && end != v && *end == 0 ? d : def;
}

bool mt_bool(const mt_settings *s, const char *key, bool def)
{
    const char *v = mt_get(s, "meetings", key);
    if (!v)
        return def;
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0;
}

const mr_tz *mt_region_tz(const mt_state_t *st, const char *region)
{
    for (int i = 0; i < st->region_count; i++)
        if (strcmp(st->region_names[i], region) == 0)
            return st->tzs[i];
    return NULL;
}

/* ---- Record ---- */

/* The record's version as last committed (meet:ver), for the commit's
 * expectation. A record stored before meet:ver existed gets its entry
 * here (HSETNX: idempotent, and a change committed meanwhile wins). */
static int version_entry(mr_store *store, const char *vkey, const char *id, const Medrep__Meeting *m,
                         const mr_val *ver)
{
    if (mr_val_type(ver) == MR_VAL_STRING)
        return 0;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)m->version);
    mr_val *v = mr_store_cmd(store, "HSETNX %s %s %s", vkey, id, num);
    int rc = v && mr_val_type(v) == MR_VAL_INTEGER ? 0 : -1;
    mr_val_free(&v);
    return rc;
}

/* Reads the version entry before the record (one round trip): a change
 * committed between the two reads makes the commit's expectation fail,
 * never pass on a stale record. */
int mt_load(mr_store *store, const char *region, const char *id, Medrep__Meeting **out)
{
    char key[256], vkey[128];
    *out = NULL;
    if (mr_key(key, sizeof key, region, "meet:m:%s", id) < 0 || mr_key(vkey, sizeof vkey, region, "meet:ver") < 0)
        return 0;
    mr_store_appendf(store, "HGET %s %s", vkey, id);
    mr_store_appendf(store, "GET %s", key);
    mr_val *ver = mr_store_next_reply(store);
    mr_val *v = mr_store_next_reply(store);
    int rc = 0;
    if (mr_val_is_error(ver) || mr_val_is_error(v)) {
        rc = -1;
    } else if (mr_val_type(v) == MR_VAL_STRING) {
        size_t len = 0;
        const char *data = mr_val_str(v, &len);
        *out = medrep__meeting__unpack(NULL, len, (const uint8_t *)data);
        rc = *out ? 1 : 0;
        if (*out && version_entry(store, vkey, id, *out, ver) != 0) {
            medrep__meeting__free_unpacked(*out, NULL);
            *out = NULL;
            rc = -1;
        }
    }
    mr_val_free(&ver);
    mr_val_free(&v);
    return rc;
}

bool mt_invitee_counts(const Medrep__Invitee *v)
{
    if (v->attended)
        return true;
    bool expected = !v->status || strcmp(v->status, "expected") == 0;
    bool answered_no = v->rsvp && (strcmp(v->rsvp, "declined") == 0 || strcmp(v->rsvp, "no_answer") == 0);
    return expected && !answered_no;
}

static int add_zindex(mr_tx *tx, const char *region, const char *fmt, const char *who,
                      const Medrep__Meeting *m, bool present)
{
    char key[256], score[32];
    if (mr_key(key, sizeof key, region, fmt, who) < 0)
        return -1;
    snprintf(score, sizeof score, "%lld", (long long)m->start_ms);
    return present ? mr_tx_addv(tx, "ZADD", key, score, m->meeting_id, NULL)
                   : mr_tx_addv(tx, "ZREM", key, m->meeting_id, NULL);
}

/* The guard: the commit applies only if meet:ver still holds base (is
 * absent for a new meeting), and moves it to base + 1. A change made
 * from a stale version is refused whole (the shell answers ABORTED). */
static int stage_version_guard(mr_tx *tx, const char *region, const char *id, int64_t base)
{
    char key[128], from[32], to[32];
    if (mr_key(key, sizeof key, region, "meet:ver") < 0)
        return -1;
    snprintf(from, sizeof from, "%lld", (long long)base);
    snprintf(to, sizeof to, "%lld", (long long)base + 1);
    int rc = mr_tx_expect(tx, key, id, base < 0 ? NULL : from);
    rc |= mr_tx_addv(tx, "HSET", key, id, to, NULL);
    return rc;
}

int mt_stage_save(mr_tx *tx, const char *region, Medrep__Meeting *m, int64_t base_version)
{
    char key[256], score[32];
    if (stage_version_guard(tx, region, m->meeting_id, base_version) != 0)
        return -1;
    m->version = base_version + 1, m->has_version = true;
    size_t len = medrep__meeting__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    medrep__meeting__pack(m, buf);
    int rc = mr_key(key, sizeof key, region, "meet:m:%s", m->meeting_id) < 0;
    const char *argv[] = {"SET", key, (const char *)buf};
    size_t lens[] = {3, strlen(key), len};
    rc |= mr_tx_add(tx, 3, argv, lens);
    free(buf);
    rc |= mr_key(key, sizeof key, region, "meet:state") < 0;
    rc |= mr_tx_addv(tx, "HSET", key, m->meeting_id, m->state, NULL);
    snprintf(score, sizeof score, "%lld", (long long)m->start_ms);
    rc |= mr_key(key, sizeof key, region, "meet:all") < 0;
    rc |= mr_tx_addv(tx, "ZADD", key, score, m->meeting_id, NULL);
    rc |= add_zindex(tx, region, "meet:rep:%s", m->rep_id, m, true);
    for (size_t i = 0; i < m->n_staff_ids; i++)
        rc |= add_zindex(tx, region, "meet:staff:%s", m->staff_ids[i], m, true);
    if (m->speaker_id && m->speaker_id[0])
        rc |= add_zindex(tx, region, "meet:spk:%s", m->speaker_id, m, true);
    for (size_t i = 0; i < m->n_invitees; i++)
        rc |= add_zindex(tx, region, "meet:cust:%s", m->invitees[i]->customer_id, m,
                         mt_invitee_counts(m->invitees[i]));
    return rc ? -1 : 0;
}

void mt_segment(mr_store *store, const char *region, const char *product, const char *customer,
                char *out, size_t cap)
{
    char key[256];
    out[0] = 0;
    if (mr_key(key, sizeof key, region, "meet:seg:%s", product) < 0)
        return;
    mr_val *v = mr_store_cmd(store, "HGET %s %s", key, customer);
    const char *s = v ? mr_val_str(v, NULL) : NULL;
    if (s && mr_val_type(v) == MR_VAL_STRING)
        snprintf(out, cap, "%s", s);
    mr_val_free(&v);
}

/* The ids of the zsets' replies zs[0..nk) (even positions), flattened
 * into items (ids and starts); returns the total or -1. */
static long flatten(mr_val **zs, size_t nk, long *counts, mt_indexed **out)
{
    size_t total = 0;
    for (size_t k = 0; k < nk; k++) {
        if (mr_val_is_error(zs[k]))
            return -1;
        total += mr_val_count(zs[k]) / 2;
    }
    mt_indexed *items = calloc(total ? total : 1, sizeof *items);
    if (!items)
        return -1;
    size_t at = 0;
    for (size_t k = 0; k < nk; k++) {
        counts[k] = (long)(mr_val_count(zs[k]) / 2);
        for (long i = 0; i < counts[k]; i++, at++) {
            const char *id = mr_val_str(mr_val_at(zs[k], 2 * (size_t)i), NULL);
            const char *sc = mr_val_str(mr_val_at(zs[k], 2 * (size_t)i + 1), NULL);
            snprintf(items[at].id, sizeof items[at].id, "%s", id ? id : "");
            items[at].start_ms = sc ? strtoll(sc, NULL, 10) : 0;
        }
    }
    *out = items;
    return (long)total;
}

/* Fills items[0..n) states with one HMGET. 0 or -1. */
static int read_states(mr_store *store, const char *skey, mt_indexed *items, size_t n)
{
    if (n == 0)
        return 0;
    const char **argv = calloc(n + 2, sizeof *argv);
    if (!argv)
        return -1;
    argv[0] = "HMGET", argv[1] = skey;
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = items[i].id;
    mr_val *v = mr_store_cmdv(store, (int)n + 2, argv, NULL);
    free(argv);
    int rc = mr_val_is_error(v) || mr_val_count(v) != n ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const mr_val *st = mr_val_at(v, i);
        snprintf(items[i].state, sizeof items[i].state, "%s",
                 mr_val_type(st) == MR_VAL_STRING ? mr_val_str(st, NULL) : "");
    }
    mr_val_free(&v);
    return rc;
}

long mt_index_read_many(mr_store *store, const char *region, const char *const *zkeys, size_t nk, int64_t from_ms,
                        int64_t to_ms, mt_indexed **out, long *counts)
{
    char key[256], skey[128], lo[32], hi[32];
    *out = NULL;
    if (mr_key(skey, sizeof skey, region, "meet:state") < 0)
        return -1;
    snprintf(lo, sizeof lo, "%lld", (long long)from_ms);
    snprintf(hi, sizeof hi, "%lld", (long long)to_ms);
    for (size_t k = 0; k < nk; k++) {
        if (mr_key(key, sizeof key, region, "%s", zkeys[k]) < 0)
            return -1;
        mr_store_appendf(store, "ZRANGEBYSCORE %s %s %s WITHSCORES", key, lo, hi);
    }
    mr_val **zs = calloc(nk + 1, sizeof *zs);
    for (size_t k = 0; k < nk; k++) {
        mr_val *v = mr_store_next_reply(store);
        if (zs)
            zs[k] = v;
        else
            mr_val_free(&v);
    }
    long n = zs ? flatten(zs, nk, counts, out) : -1;
    for (size_t k = 0; zs && k < nk; k++)
        mr_val_free(&zs[k]);
    free(zs);
    if (n >= 0 && read_states(store, skey, *out, (size_t)n) != 0) {
        free(*out);
        *out = NULL;
        n = -1;
    }
    return n;
}

long mt_index_read(mr_store *store, const char *region, const char *zkey, int64_t from_ms, int64_t to_ms,
                   mt_indexed **out)
{
    long count = 0;
    return mt_index_read_many(store, region, &zkey, 1, from_ms, to_ms, out, &count);
}

int mt_customers_read(mr_store *store, const char *region, const char *product, char *const *ids, size_t n,
                      mr_customer *out, char (*segs)[4], int *found)
{
    char key[256], skey[256];
    if (mr_key(skey, sizeof skey, region, "meet:seg:%s", product) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (mr_md_key(key, sizeof key, region, MR_MD_CUSTOMER, ids[i]) < 0)
            return -1;
        mr_store_appendf(store, "HGETALL %s", key);
        mr_store_appendf(store, "HGET %s %s", skey, ids[i]);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        mr_val *c = mr_store_next_reply(store), *sg = mr_store_next_reply(store);
        rc |= mr_val_is_error(c) || mr_val_is_error(sg) ? -1 : 0;
        memset(&out[i], 0, sizeof out[i]);
        snprintf(out[i].id, sizeof out[i].id, "%s", ids[i]);   /* the id is the key's, not a field */
        found[i] = rc == 0 && mr_md_parse(MR_MD_CUSTOMER, c, &out[i]) == 1;
        const char *t = mr_val_type(sg) == MR_VAL_STRING ? mr_val_str(sg, NULL) : "";
        snprintf(segs[i], sizeof segs[i], "%s", t ? t : "");
        mr_val_free(&c);
        mr_val_free(&sg);
    }
    return rc;
}
