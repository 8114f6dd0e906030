/* store.c: the meetings service's stored record and indexes (layout in
 * meetings.h), the scoped settings, and the segment copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
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

int mt_load(mr_store *store, const char *region, const char *id, Medrep__Meeting **out)
{
    char key[256];
    *out = NULL;
    if (mr_key(key, sizeof key, region, "meet:m:%s", id) < 0)
        return 0;
    mr_val *v = mr_store_cmd(store, "GET %s", key);
    if (!v || mr_val_type(v) == MR_VAL_ERROR) {
        mr_val_free(&v);
        return -1;
    }
    size_t len = 0;
    const char *data = mr_val_str(v, &len);
    if (data && mr_val_type(v) == MR_VAL_STRING)
        *out = medrep__meeting__unpack(NULL, len, (const uint8_t *)data);
    mr_val_free(&v);
    return *out ? 1 : 0;
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

/* The guard: the first command type-checks a set at meet:v:<id>:<base>;
 * the commands after it turn that key into a string. A second commit from
 * the same base finds a string where a set is expected and the whole
 * transaction is refused before any write (store.c's tx script checks
 * every written key's type first). */
static int stage_version_guard(mr_tx *tx, const char *region, const char *id, int64_t base)
{
    char key[256];
    if (mr_key(key, sizeof key, region, "meet:v:%s:%lld", id, (long long)base) < 0)
        return -1;
    int rc = mr_tx_addv(tx, "SADD", key, "1", NULL);
    rc |= mr_tx_addv(tx, "DEL", key, NULL);
    rc |= mr_tx_addv(tx, "SET", key, "done", "PX", "172800000", NULL);
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

long mt_index_read(mr_store *store, const char *region, const char *zkey, mt_indexed **out)
{
    char key[256], skey[128];
    *out = NULL;
    if (mr_key(key, sizeof key, region, "%s", zkey) < 0 ||
        mr_key(skey, sizeof skey, region, "meet:state") < 0)
        return -1;
    mr_val *v = mr_store_cmd(store, "ZRANGE %s 0 -1 WITHSCORES", key);
    if (!v || mr_val_type(v) == MR_VAL_ERROR) {
        mr_val_free(&v);
        return -1;
    }
    size_t n = mr_val_count(v) / 2;
    mt_indexed *items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        mr_val_free(&v);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = mr_val_str(mr_val_at(v, 2 * i), NULL);
        const char *sc = mr_val_str(mr_val_at(v, 2 * i + 1), NULL);
        snprintf(items[i].id, sizeof items[i].id, "%s", id ? id : "");
        items[i].start_ms = sc ? strtoll(sc, NULL, 10) : 0;
        mr_val *s = mr_store_cmd(store, "HGET %s %s", skey, items[i].id);
        const char *st = s ? mr_val_str(s, NULL) : NULL;
        snprintf(items[i].state, sizeof items[i].state, "%s", st && mr_val_type(s) == MR_VAL_STRING ? st : "");
        mr_val_free(&s);
    }
    mr_val_free(&v);
    *out = items;
    return (long)n;
}
