/* reminders.c: the Redis side of reminders (layout in notify.h): staging
 * the scheduling, moving and cancelling of a reminder into a mr_tx, and
 * reading a person's preferences. Reads go straight to the store; every
 * write is staged so that it commits with the request or event. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"

int nt_key(char *buf, size_t cap, const char *region, const char *fmt, ...)
{
    char tail[384];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tail)
        return -1;
    return mr_key(buf, cap, region, "notify:%s", tail);
}

/* Copies element i of an HMGET reply into buf ("" when nil). */
static void field_at(const mr_val *v, size_t i, char *buf, size_t cap)
{
    const char *s = mr_val_str(mr_val_at(v, i), NULL);
    snprintf(buf, cap, "%s", s ? s : "");
}

/* Appends the HMGET of a person's preferences to the pipeline. */
int nt_person_append(mr_store *store, const char *region, const char *person, const char *kind)
{
    char key[256], field[80];
    snprintf(field, sizeof field, "ch:%s", kind ? kind : "*");
    if (nt_key(key, sizeof key, region, "pref:%s", person) < 0)
        return -1;
    const char *argv[] = {"HMGET", key, "tz", "quiet", field, "ch:*", "webhook", "email", "webhook_off", "digest", "v"};
    return mr_store_append(store, 11, argv, NULL);
}

/* Fills out from the HMGET reply v, with the region's defaults. */
int nt_person_parse(nt_state *st, const char *region, const mr_val *v, nt_person *out)
{
    const nt_region *reg = nt_region_find(st, region);
    char scope[48], tz[64], quiet[32];
    snprintf(scope, sizeof scope, "region:%s", region);
    const char *scopes[] = {scope, NULL};
    char digest[16];
    if (mr_val_is_error(v) || mr_val_count(v) != 9)
        return -1;
    field_at(v, 8, out->version, sizeof out->version);
    if (!out->version[0])
        snprintf(out->version, sizeof out->version, "0");
    field_at(v, 7, digest, sizeof digest);
    if (!digest[0] || nt_parse_clock(digest, &out->digest_second) != 0)
        out->digest_second = -1;
    field_at(v, 4, out->webhook, sizeof out->webhook);
    field_at(v, 5, out->email, sizeof out->email);
    field_at(v, 6, out->webhook_off, sizeof out->webhook_off);
    field_at(v, 0, tz, sizeof tz);
    field_at(v, 1, quiet, sizeof quiet);
    field_at(v, 2, out->channels, sizeof out->channels);
    if (!out->channels[0])
        field_at(v, 3, out->channels, sizeof out->channels);
    out->tz = nt_tz_get(st, tz[0] ? tz : reg ? reg->timezone : "UTC");
    if (!out->tz)
        out->tz = nt_tz_get(st, "UTC");
    if (!quiet[0]) {
        const char *q = mr_config_scoped(st->cfg, "notify", "quiet_hours", scopes);
        snprintf(quiet, sizeof quiet, "%s", q ? q : "none");
    }
    if (nt_parse_window(quiet, &out->quiet_start, &out->quiet_end) != 0)
        out->quiet_start = out->quiet_end = 0;
    if (!out->channels[0]) {
        const char *c = mr_config_scoped(st->cfg, "notify", "channels", scopes);
        snprintf(out->channels, sizeof out->channels, "%s", c ? c : "inbox");
    }
    return 0;
}

int nt_person_load(nt_state *st, mr_store *store, const char *region, const char *person,
                   const char *kind, nt_person *out)
{
    if (nt_person_append(store, region, person, kind) != 0) {
        mr_val *drop = mr_store_next_reply(store);
        mr_val_free(&drop);
        return -1;
    }
    mr_val *v = mr_store_next_reply(store);
    int rc = nt_person_parse(st, region, v, out);
    mr_val_free(&v);
    return rc;
}

/* What scheduling one reminder needs to read first. */
typedef struct {
    nt_person who;
    bool found;                     /* the reminder exists already */
    char old_person[128], old_subject[128];
    bool has_head;
    int64_t head_ms;                /* the shard's first due time */
} prefetch;

static bool reminder_valid(const nt_reminder *r)
{
    return nt_id_valid(r->id) && nt_id_valid(r->person) && (!r->subject || !r->subject[0] ||
           nt_id_valid(r->subject)) && r->kind && r->kind[0] && strlen(r->kind) < 64 &&
           r->due_ms > 0;
}

/* Appends the three reads of one reminder: preferences, current owner,
 * the shard's head. Always appends exactly three commands (a failed
 * append reads back as NULL). */
static void prefetch_append(nt_state *st, mr_store *store, const char *region, const nt_reminder *r)
{
    char rkey[256], zkey[256];
    nt_person_append(store, region, r->person, r->kind);
    nt_key(rkey, sizeof rkey, region, "rem:%s", r->id);
    nt_key(zkey, sizeof zkey, region, "sh:%d:due", nt_shard_of(r->id, st->set.shards));
    const char *owner[] = {"HMGET", rkey, "p", "s"};
    const char *head[] = {"ZRANGE", zkey, "0", "0", "WITHSCORES"};
    mr_store_append(store, 4, owner, NULL);
    mr_store_append(store, 5, head, NULL);
}

/* Reads the three replies of prefetch_append. 0 or -1. */
static int prefetch_read(nt_state *st, mr_store *store, const char *region, prefetch *pf)
{
    mr_val *v[3];
    for (int i = 0; i < 3; i++)
        v[i] = mr_store_next_reply(store);
    int rc = nt_person_parse(st, region, v[0], &pf->who);
    if (rc == 0 && (mr_val_is_error(v[1]) || mr_val_count(v[1]) != 2 || mr_val_is_error(v[2])))
        rc = -1;
    if (rc == 0) {
        pf->found = mr_val_str(mr_val_at(v[1], 0), NULL) != NULL;
        field_at(v[1], 0, pf->old_person, sizeof pf->old_person);
        field_at(v[1], 1, pf->old_subject, sizeof pf->old_subject);
        const char *head = mr_val_count(v[2]) == 2 ? mr_val_str(mr_val_at(v[2], 1), NULL) : NULL;
        pf->has_head = head != NULL;
        pf->head_ms = head ? atoll(head) : 0;
    }
    for (int i = 0; i < 3; i++)
        mr_val_free(&v[i]);
    return rc;
}

/* Stages the removal of the reminder from a person's and subject's sets. */
static int stage_unlink(mr_tx *tx, const char *region, const char *id, const char *person,
                        const char *subject)
{
    char key[256];
    int rc = 0;
    if (person[0] && nt_key(key, sizeof key, region, "person:%s", person) > 0)
        rc |= mr_tx_addv(tx, "SREM", key, id, NULL);
    if (subject[0] && nt_key(key, sizeof key, region, "subj:%s", subject) > 0)
        rc |= mr_tx_addv(tx, "SREM", key, id, NULL);
    return rc ? -1 : 0;
}

/* Stages the writes of one reminder from what was read. A reminder due
 * before the shard's head pushes the shard's wake list, so a sleeping
 * mover wakes for it. */
static int stage_one(nt_state *st, mr_tx *tx, const char *region, const nt_reminder *r,
                     const prefetch *pf, int64_t *due_out)
{
    char rkey[256], zkey[256], key[256], due[24];
    int64_t at = r->urgent ? r->due_ms
                           : nt_quiet_defer(pf->who.tz, r->due_ms, pf->who.quiet_start, pf->who.quiet_end);
    int shard = nt_shard_of(r->id, st->set.shards);
    const char *subject = r->subject ? r->subject : "";
    nt_key(rkey, sizeof rkey, region, "rem:%s", r->id);
    nt_key(zkey, sizeof zkey, region, "sh:%d:due", shard);
    int rc = 0;
    if (pf->found && (strcmp(pf->old_person, r->person) || strcmp(pf->old_subject, subject)))
        rc |= stage_unlink(tx, region, r->id, pf->old_person, pf->old_subject);
    snprintf(due, sizeof due, "%lld", (long long)at);
    rc |= mr_tx_addv(tx, "DEL", rkey, NULL);
    rc |= mr_tx_addv(tx, "HSET", rkey, "p", r->person, "k", r->kind, "t", r->title ? r->title : "",
                     "b", r->body ? r->body : "", "due", due, "u", r->urgent ? "1" : "0", "s",
                     subject, NULL);
    if (nt_stage_direct(st, tx, region, rkey, r, &pf->who, at) < 0)
        rc = -1;
    rc |= mr_tx_addv(tx, "ZADD", zkey, due, r->id, NULL);
    nt_key(key, sizeof key, region, "person:%s", r->person);
    rc |= mr_tx_addv(tx, "SADD", key, r->id, NULL);
    if (subject[0] && nt_key(key, sizeof key, region, "subj:%s", subject) > 0)
        rc |= mr_tx_addv(tx, "SADD", key, r->id, NULL);
    if (!pf->has_head || at < pf->head_ms) {
        nt_key(key, sizeof key, region, "sh:%d:wake", shard);
        rc |= mr_tx_addv(tx, "LPUSH", key, "1", NULL);
        rc |= mr_tx_addv(tx, "LTRIM", key, "0", "0", NULL);
    }
    if (due_out)
        *due_out = at;
    return rc ? -1 : 0;
}

int nt_stage_schedule_many(nt_state *st, mr_store *store, mr_tx *tx, const char *region,
                           const nt_reminder *rs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!reminder_valid(&rs[i]))
            return -1;
    prefetch *pf = calloc(n ? n : 1, sizeof *pf);
    if (!pf)
        return -1;
    for (size_t i = 0; i < n; i++)
        prefetch_append(st, store, region, &rs[i]);
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= prefetch_read(st, store, region, &pf[i]);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = stage_one(st, tx, region, &rs[i], &pf[i], NULL);
    free(pf);
    return rc ? -1 : 0;
}

int nt_stage_schedule(nt_state *st, mr_store *store, mr_tx *tx, const char *region,
                      const nt_reminder *r, int64_t *due_out)
{
    prefetch pf;
    if (!reminder_valid(r))
        return -1;
    prefetch_append(st, store, region, r);
    if (prefetch_read(st, store, region, &pf) != 0)
        return -1;
    return stage_one(st, tx, region, r, &pf, due_out);
}

/* Reads fields p and s of a reminder. 1 found, 0 not, -1 Redis failed. */
static int read_owner(mr_store *store, const char *rem_key, char *person, char *subject, size_t cap)
{
    mr_val *v = mr_store_cmd(store, "HMGET %s p s", rem_key);
    if (mr_val_is_error(v) || mr_val_count(v) != 2) {
        mr_val_free(&v);
        return -1;
    }
    const char *p = mr_val_str(mr_val_at(v, 0), NULL), *s = mr_val_str(mr_val_at(v, 1), NULL);
    snprintf(person, cap, "%s", p ? p : "");
    snprintf(subject, cap, "%s", s ? s : "");
    mr_val_free(&v);
    return p ? 1 : 0;
}

int nt_stage_cancel(nt_state *st, mr_store *store, mr_tx *tx, const char *region, const char *id)
{
    char rkey[256], zkey[256], person[128], subject[128];
    if (!nt_id_valid(id) || nt_key(rkey, sizeof rkey, region, "rem:%s", id) < 0)
        return 0;
    int found = read_owner(store, rkey, person, subject, sizeof person);
    if (found <= 0)
        return found;
    nt_key(zkey, sizeof zkey, region, "sh:%d:due", nt_shard_of(id, st->set.shards));
    int rc = mr_tx_addv(tx, "DEL", rkey, NULL);
    rc |= mr_tx_addv(tx, "ZREM", zkey, id, NULL);
    rc |= stage_unlink(tx, region, id, person, subject);
    return rc ? -1 : 1;
}

long nt_subject_ids(mr_store *store, const char *region, const char *subject, char ***ids)
{
    char key[256];
    *ids = NULL;
    if (!nt_id_valid(subject) || nt_key(key, sizeof key, region, "subj:%s", subject) < 0)
        return 0;
    mr_val *v = mr_store_cmd(store, "SMEMBERS %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    long n = (long)mr_val_count(v);
    *ids = calloc(n ? (size_t)n : 1, sizeof **ids);
    for (long i = 0; *ids && i < n; i++)
        (*ids)[i] = strdup(mr_val_str(mr_val_at(v, (size_t)i), NULL));
    mr_val_free(&v);
    return *ids ? n : -1;
}

void nt_free_ids(char **ids, long count)
{
    for (long i = 0; ids && i < count; i++)
        free(ids[i]);
    free(ids);
}
