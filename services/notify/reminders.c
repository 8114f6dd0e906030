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

int nt_person_load(nt_state *st, mr_store *store, const char *region, const char *person,
                   const char *kind, nt_person *out)
{
    const nt_region *reg = nt_region_find(st, region);
    char scope[48], key[256], tz[64], quiet[32], field[80];
    snprintf(scope, sizeof scope, "region:%s", region);
    const char *scopes[] = {scope, NULL};
    snprintf(field, sizeof field, "ch:%s", kind ? kind : "*");
    if (nt_key(key, sizeof key, region, "pref:%s", person) < 0)
        return -1;
    mr_val *v = mr_store_cmd(store, "HMGET %s tz quiet %s ch:*", key, field);
    if (mr_val_is_error(v) || mr_val_count(v) != 4) {
        mr_val_free(&v);
        return -1;
    }
    field_at(v, 0, tz, sizeof tz);
    field_at(v, 1, quiet, sizeof quiet);
    field_at(v, 2, out->channels, sizeof out->channels);
    if (!out->channels[0])
        field_at(v, 3, out->channels, sizeof out->channels);
    mr_val_free(&v);
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

/* Stages LPUSH wake when due is before the shard's current head, so a
 * sleeping mover wakes for it. 0 or -1. */
static int stage_wake(mr_store *store, mr_tx *tx, const char *region, int shard, int64_t due)
{
    char zkey[256], wkey[256];
    nt_key(zkey, sizeof zkey, region, "sh:%d:due", shard);
    nt_key(wkey, sizeof wkey, region, "sh:%d:wake", shard);
    mr_val *v = mr_store_cmd(store, "ZRANGE %s 0 0 WITHSCORES", zkey);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    const char *head = mr_val_count(v) == 2 ? mr_val_str(mr_val_at(v, 1), NULL) : NULL;
    bool earlier = !head || due < atoll(head);
    mr_val_free(&v);
    if (earlier && (mr_tx_addv(tx, "LPUSH", wkey, "1", NULL) || mr_tx_addv(tx, "LTRIM", wkey, "0", "0", NULL)))
        return -1;
    return 0;
}

static bool reminder_valid(const nt_reminder *r)
{
    return nt_id_valid(r->id) && nt_id_valid(r->person) && (!r->subject || !r->subject[0] ||
           nt_id_valid(r->subject)) && r->kind && r->kind[0] && strlen(r->kind) < 64 &&
           r->due_ms > 0;
}

/* Stages the removal of the reminder from the old person's and subject's
 * sets when it changes hands. */
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

int nt_stage_schedule(nt_state *st, mr_store *store, mr_tx *tx, const char *region,
                      const nt_reminder *r, int64_t *due_out)
{
    char rkey[256], zkey[256], key[256], old_p[128], old_s[128], due[24], shard_s[8];
    nt_person who;
    if (!reminder_valid(r) || nt_key(rkey, sizeof rkey, region, "rem:%s", r->id) < 0)
        return -1;
    if (nt_person_load(st, store, region, r->person, r->kind, &who) != 0)
        return -1;
    int64_t at = r->urgent ? r->due_ms : nt_quiet_defer(who.tz, r->due_ms, who.quiet_start, who.quiet_end);
    int shard = nt_shard_of(r->id, st->set.shards);
    int found = read_owner(store, rkey, old_p, old_s, sizeof old_p);
    if (found < 0)
        return -1;
    const char *subject = r->subject ? r->subject : "";
    if (found && (strcmp(old_p, r->person) || strcmp(old_s, subject)) &&
        stage_unlink(tx, region, r->id, old_p, old_s) != 0)
        return -1;
    snprintf(due, sizeof due, "%lld", (long long)at);
    snprintf(shard_s, sizeof shard_s, "%d", shard);
    nt_key(zkey, sizeof zkey, region, "sh:%d:due", shard);
    int rc = mr_tx_addv(tx, "DEL", rkey, NULL);
    rc |= mr_tx_addv(tx, "HSET", rkey, "p", r->person, "k", r->kind, "t", r->title ? r->title : "",
                     "b", r->body ? r->body : "", "due", due, "u", r->urgent ? "1" : "0", "s",
                     subject, NULL);
    rc |= mr_tx_addv(tx, "ZADD", zkey, due, r->id, NULL);
    nt_key(key, sizeof key, region, "person:%s", r->person);
    rc |= mr_tx_addv(tx, "SADD", key, r->id, NULL);
    if (subject[0] && nt_key(key, sizeof key, region, "subj:%s", subject) > 0)
        rc |= mr_tx_addv(tx, "SADD", key, r->id, NULL);
    if (rc || stage_wake(store, tx, region, shard, at) != 0)
        return -1;
    if (due_out)
        *due_out = at;
    return 0;
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
