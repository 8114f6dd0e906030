/* digest.c: daily digests in the sender. A person with a digest time has
 * non-urgent deliveries gathered under "digest:<person>" (delivery id ->
 * "kind<TAB>title") instead of sent; the reminder "digest.<person>", due
 * at the person's next local digest time, then delivers them as one
 * message on the person's channels and removes exactly what it read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sender.h"

bool nt_is_digest(const nt_entry *e)
{
    return strcmp(e->r.kind, "digest") == 0 && strncmp(e->rid, "digest.", 7) == 0;
}

/* Composes a digest's title and body from the gathered items (HGETALL
 * reply: delivery id, "kind<TAB>title", ...) and keeps their ids. */
static void compose_digest(nt_entry *e, const mr_val *v)
{
    size_t n = mr_val_count(v) / 2, used = 0;
    e->digest_ids = calloc(n ? n : 1, sizeof *e->digest_ids);
    e->digest_n = 0;
    e->r.body[0] = '\0';
    for (size_t i = 0; e->digest_ids && i < n; i++) {
        const char *did = mr_val_str(mr_val_at(v, 2 * i), NULL);
        const char *item = mr_val_str(mr_val_at(v, 2 * i + 1), NULL);
        const char *tab = item ? strchr(item, '\t') : NULL;
        if (!did || !(e->digest_ids[e->digest_n] = strdup(did)))
            continue;
        e->digest_n++;
        int len = snprintf(e->r.body + used, sizeof e->r.body - used, "- %s (%.*s)\n",
                           tab ? tab + 1 : "", tab ? (int)(tab - item) : 0, item ? item : "");
        if (len > 0 && used + (size_t)len < sizeof e->r.body)
            used += (size_t)len;
    }
    snprintf(e->r.title, sizeof e->r.title, "Daily digest: %zu reminder(s)", e->digest_n);
}

void nt_free_digest(nt_entry *e)
{
    for (size_t i = 0; i < e->digest_n; i++)
        free(e->digest_ids[i]);
    free(e->digest_ids);
    e->digest_ids = NULL;
    e->digest_n = 0;
}

/* Reads what the digests among the entries gather, in one pipeline. */
int nt_load_digests(nt_worker *w, nt_entry *es, size_t n)
{
    char key[256];
    for (size_t i = 0; i < n; i++)
        if (es[i].current && nt_is_digest(&es[i]) && nt_key(key, sizeof key, w->region, "digest:%s", es[i].r.person) > 0)
            mr_store_appendf(w->store, "HGETALL %s", key);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!es[i].current || !nt_is_digest(&es[i]))
            continue;
        mr_val *v = mr_store_next_reply(w->store);
        if (mr_val_is_error(v))
            rc = -1;
        else
            compose_digest(&es[i], v);
        mr_val_free(&v);
    }
    return rc;
}

/* True when the entry waits for its person's daily digest instead. */
bool nt_waits_for_digest(const nt_entry *e)
{
    return e->who.digest_second >= 0 && !e->r.urgent && !nt_is_digest(e);
}

/* Stages the gathering of an entry for its person's digest: the item, the
 * digest reminder at the next local digest time (the same id each time,
 * so it is scheduled once), and the event. 7 commands. */
int nt_cmd_digest_gather(nt_worker *w, nt_args *a, const nt_entry *e, const char *did)
{
    char digest[256], rid[160], rem[256], zkey[256], wkey[256], person[256], item[400], due[24];
    snprintf(rid, sizeof rid, "digest.%s", e->r.person);
    int shard = nt_shard_of(rid, w->st->set.shards);
    int64_t at = nt_next_local_second(e->who.tz, e->at_ms, e->who.digest_second);
    snprintf(due, sizeof due, "%lld", (long long)at);
    snprintf(item, sizeof item, "%s\t%s", e->r.kind, e->r.title);
    nt_key(digest, sizeof digest, w->region, "digest:%s", e->r.person);
    nt_key(rem, sizeof rem, w->region, "rem:%s", rid);
    nt_key(zkey, sizeof zkey, w->region, "sh:%d:due", shard);
    nt_key(wkey, sizeof wkey, w->region, "sh:%d:wake", shard);
    nt_key(person, sizeof person, w->region, "person:%s", e->r.person);
    const char *hitem[] = {"HSET", digest, did, item};
    const char *hrem[] = {"HSET", rem, "p", e->r.person, "k", "digest", "t", "Daily digest", "b", "",
                          "due", due, "u", "0", "s", ""};
    const char *zadd[] = {"ZADD", zkey, due, rid};
    const char *sadd[] = {"SADD", person, rid};
    const char *lpush[] = {"LPUSH", wkey, "1"};
    const char *ltrim[] = {"LTRIM", wkey, "0", "0"};
    nt_args_cmd(a, 4, hitem, NULL);
    nt_args_cmd(a, 16, hrem, NULL);
    nt_args_cmd(a, 4, zadd, NULL);
    nt_args_cmd(a, 3, sadd, NULL);
    nt_args_cmd(a, 3, lpush, NULL);
    nt_args_cmd(a, 4, ltrim, NULL);
    nt_cmd_event(w, a, e, did, "digest");
    return 7;
}

/* Stages the removal of what a digest gathered: 1 command (or 0). */
int nt_cmd_digest_clear(nt_worker *w, nt_args *a, const nt_entry *e)
{
    char key[256];
    if (e->digest_n == 0)
        return 0;
    nt_key(key, sizeof key, w->region, "digest:%s", e->r.person);
    nt_args_num(a, (long long)e->digest_n + 2);
    nt_args_str(a, "HDEL");
    nt_args_str(a, key);
    for (size_t i = 0; i < e->digest_n; i++)
        nt_args_str(a, e->digest_ids[i]);
    return 1;
}
