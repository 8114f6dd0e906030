/* cache.c: the gateway's read cache (see cache.h). Entries live in a hash
 * by key (uthash), in a least-recently-used list, and in the list of their
 * tag (a hash of tags by "group/region/id"), so an invalidation touches
 * only the entries it drops. The last RING invalidations are remembered
 * with their epochs so gw_cache_put can refuse an answer that an
 * invalidation overtook while it was being computed.
 *
 * Ownership: the cache owns every entry, key, body and tag record. */
#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <utlist.h>

#include "events.h"

#define RING 256

typedef struct tag_rec tag_rec;

typedef struct entry {
    char *key;
    char *body;
    size_t len;
    const char *content_type;
    int64_t expires_ms;
    tag_rec *tag;
    struct entry *lru_prev, *lru_next;   /* most recently used first */
    struct entry *tag_prev, *tag_next;
    UT_hash_handle hh;
} entry;

struct tag_rec {
    char key[240];                       /* group \x1f region \x1f id */
    char group[32];
    char region[48];
    entry *entries;
    UT_hash_handle hh;
};

typedef struct {
    uint64_t epoch;
    char group[32];
    char region[48];
    char id[136];
    bool all;                            /* the whole group in the region */
} drop_note;

struct gw_cache {
    pthread_mutex_t lock;
    size_t max_entries, max_body;
    entry *by_key;
    entry *lru;
    tag_rec *tags;
    uint64_t epoch;
    drop_note ring[RING];
    gw_cache_stats st;
};

gw_cache *gw_cache_new(size_t max_entries, size_t max_body)
{
    gw_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max_entries = max_entries > 0 ? max_entries : 1;
    c->max_body = max_body;
    c->epoch = 1;
    return c;
}

static void tag_key(char *buf, size_t cap, const char *group, const char *region, const char *id)
{
    snprintf(buf, cap, "%s\x1f%s\x1f%s", group, region, id ? id : "");
}

/* Unlinks and frees e; frees its tag record when it was the last entry. */
static void entry_drop(gw_cache *c, entry *e)
{
    HASH_DEL(c->by_key, e);
    DL_DELETE2(c->lru, e, lru_prev, lru_next);
    tag_rec *t = e->tag;
    DL_DELETE2(t->entries, e, tag_prev, tag_next);
    if (!t->entries) {
        HASH_DEL(c->tags, t);
        free(t);
    }
    free(e->key);
    free(e->body);
    free(e);
    c->st.entries--;
}

void gw_cache_free(gw_cache **cp)
{
    gw_cache *c = *cp;
    if (!c)
        return;
    while (c->by_key)
        entry_drop(c, c->by_key);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *cp = NULL;
}

uint64_t gw_cache_epoch(gw_cache *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t e = c->epoch;
    pthread_mutex_unlock(&c->lock);
    return e;
}

int gw_cache_get(gw_cache *c, const char *key, int64_t now_ms, char **body, size_t *len,
                 const char **content_type)
{
    int hit = 0;
    pthread_mutex_lock(&c->lock);
    entry *e = NULL;
    HASH_FIND_STR(c->by_key, key, e);
    if (e && now_ms >= e->expires_ms) {
        entry_drop(c, e);
        c->st.expired++;
        e = NULL;
    }
    if (e && (*body = malloc(e->len + 1)) != NULL) {
        memcpy(*body, e->body, e->len + 1);
        *len = e->len;
        *content_type = e->content_type;
        DL_DELETE2(c->lru, e, lru_prev, lru_next);
        DL_PREPEND2(c->lru, e, lru_prev, lru_next);
        hit = 1;
    }
    if (hit)
        c->st.hits++;
    else
        c->st.misses++;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static bool note_matches(const drop_note *n, const gw_cache_tag *tag)
{
    return strcmp(n->group, tag->group) == 0 && strcmp(n->region, tag->region) == 0 &&
           (n->all || strcmp(n->id, tag->id) == 0);
}

/* True when an invalidation after epoch may concern tag. */
static bool overtaken(const gw_cache *c, const gw_cache_tag *tag, uint64_t epoch)
{
    if (c->epoch - epoch >= RING)
        return true;   /* too many since to tell: refuse */
    for (uint64_t e = epoch + 1; e <= c->epoch; e++)
        if (note_matches(&c->ring[e % RING], tag))
            return true;
    return false;
}

static tag_rec *tag_require(gw_cache *c, const gw_cache_tag *tag)
{
    char key[240];
    tag_key(key, sizeof key, tag->group, tag->region, tag->id);
    tag_rec *t = NULL;
    HASH_FIND_STR(c->tags, key, t);
    if (t)
        return t;
    if (!(t = calloc(1, sizeof *t)))
        return NULL;
    snprintf(t->key, sizeof t->key, "%s", key);
    snprintf(t->group, sizeof t->group, "%s", tag->group);
    snprintf(t->region, sizeof t->region, "%s", tag->region);
    HASH_ADD_STR(c->tags, key, t);
    return t;
}

/* A new entry (not linked anywhere yet), or NULL when out of memory. */
static entry *entry_new(const char *key, const char *body, size_t len)
{
    entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->key = strdup(key);
    e->body = malloc(len + 1);
    if (!e->key || !e->body) {
        free(e->key);
        free(e->body);
        free(e);
        return NULL;
    }
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->len = len;
    return e;
}

static bool put_locked(gw_cache *c, const char *key, const gw_cache_tag *tag, uint64_t epoch,
                       int64_t now_ms, int max_age_ms, const char *body, size_t len,
                       const char *content_type)
{
    if (len > c->max_body || max_age_ms <= 0 || overtaken(c, tag, epoch))
        return false;
    entry *old = NULL;
    HASH_FIND_STR(c->by_key, key, old);
    if (old)
        entry_drop(c, old);
    while (c->st.entries >= c->max_entries && c->lru) {
        entry_drop(c, c->lru->lru_prev);   /* the list's head keeps its tail in prev */
        c->st.evicted++;
    }
    entry *e = entry_new(key, body, len);
    tag_rec *t = e ? tag_require(c, tag) : NULL;
    if (!t) {
        if (e) {
            free(e->key);
            free(e->body);
            free(e);
        }
        return false;
    }
    e->content_type = content_type;
    e->expires_ms = now_ms + max_age_ms;
    e->tag = t;
    HASH_ADD_KEYPTR(hh, c->by_key, e->key, strlen(e->key), e);
    DL_PREPEND2(c->lru, e, lru_prev, lru_next);
    DL_APPEND2(t->entries, e, tag_prev, tag_next);
    c->st.entries++;
    return true;
}

bool gw_cache_put(gw_cache *c, const char *key, const gw_cache_tag *tag, uint64_t epoch, int64_t now_ms,
                  int max_age_ms, const char *body, size_t len, const char *content_type)
{
    pthread_mutex_lock(&c->lock);
    bool ok = put_locked(c, key, tag, epoch, now_ms, max_age_ms, body, len, content_type);
    if (ok)
        c->st.stored++;
    else
        c->st.refused++;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static size_t drop_tag(gw_cache *c, tag_rec *t)
{
    size_t n = 0;
    while (t) {   /* the record is freed with its last entry */
        entry *e = t->entries;
        bool last = e->tag_next == NULL;
        entry_drop(c, e);
        n++;
        if (last)
            break;
    }
    return n;
}

/* Remembers an invalidation under a new epoch (id NULL: the whole group
 * in the region), so gw_cache_put refuses the answers it overtook. */
static void note_drop(gw_cache *c, const char *group, const char *region, const char *id)
{
    drop_note *n = &c->ring[++c->epoch % RING];
    *n = (drop_note){.epoch = c->epoch, .all = id == NULL};
    snprintf(n->group, sizeof n->group, "%s", group);
    snprintf(n->region, sizeof n->region, "%s", region);
    snprintf(n->id, sizeof n->id, "%s", id ? id : "");
}

/* Drops the entries of group in region with this id (NULL: all of them). */
static size_t drop_entries(gw_cache *c, const char *group, const char *region, const char *id)
{
    size_t dropped = 0;
    if (id) {
        char key[240];
        tag_key(key, sizeof key, group, region, id);
        tag_rec *t = NULL;
        HASH_FIND_STR(c->tags, key, t);
        if (t)
            dropped = drop_tag(c, t);
    } else {
        tag_rec *t, *tmp;
        HASH_ITER(hh, c->tags, t, tmp) {
            if (strcmp(t->group, group) == 0 && strcmp(t->region, region) == 0)
                dropped += drop_tag(c, t);
        }
    }
    c->st.invalidated += dropped;
    return dropped;
}

static size_t invalidate_locked(gw_cache *c, const char *group, const char *region, const char *id)
{
    note_drop(c, group, region, id);
    return drop_entries(c, group, region, id);
}

size_t gw_cache_invalidate(gw_cache *c, const char *group, const char *region, const char *id)
{
    pthread_mutex_lock(&c->lock);
    size_t n = invalidate_locked(c, group, region, id);
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t gw_cache_clear(gw_cache *c)
{
    pthread_mutex_lock(&c->lock);
    /* an epoch a whole ring ahead: overtaken() refuses every older one */
    c->epoch += RING;
    size_t dropped = 0;
    entry *e, *tmp;
    HASH_ITER(hh, c->by_key, e, tmp) {
        entry_drop(c, e);
        dropped++;
    }
    c->st.invalidated += dropped;
    c->st.clears++;
    pthread_mutex_unlock(&c->lock);
    return dropped;
}

void gw_cache_stats_get(gw_cache *c, gw_cache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->st;
    pthread_mutex_unlock(&c->lock);
}

void gw_cache_each_group(const char *list, void (*fn)(const char *group, size_t len, void *arg), void *arg)
{
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0)
            fn(p, len, arg);
        p += len + (p[len] == ',');
    }
}

/* ---- Events ---- */

/* The message ev's body (NULL when it has none). */
static const ProtobufCMessage *event_body(const Medrep__Event *ev)
{
    const ProtobufCFieldDescriptor *body_field =
        protobuf_c_message_descriptor_get_field(&medrep__event__descriptor, (unsigned)ev->body_case);
    if (!body_field || body_field->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(ProtobufCMessage *const *)((const char *)ev + body_field->offset);
}

/* Where the values of field f of msg are: *n of them from *first (an
 * array of pointers: strings or messages). A non-repeated field counts 1;
 * a member of a oneof that is not the one set counts 1, as NULL. */
static void field_values(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                         const void *const **first, size_t *n)
{
    static const void *const none = NULL;
    const char *at = (const char *)msg + f->offset;
    const char *quantifier = (const char *)msg + f->quantifier_offset;
    *n = 1;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        *n = *(const size_t *)quantifier;
        *first = *(const void *const *const *)at;
    } else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)quantifier != f->id) {
        *first = &none;
    } else {
        *first = (const void *const *)at;
    }
}

/* The first segment of a dotted path (len bytes) into name (cap bytes):
 * its length, or -1 when it is empty or too long for name. */
static int path_segment(const char *path, size_t len, char *name, size_t cap)
{
    size_t seg = 0;
    while (seg < len && path[seg] != '.')
        seg++;
    if (seg == 0 || seg >= cap)
        return -1;
    snprintf(name, cap, "%.*s", (int)seg, path);
    return (int)seg;
}

/* Calls visit(id, arg) for each string the dotted path (len bytes, e.g.
 * "deliveries.recipient_id") names in msg, through message fields that
 * may be repeated (once per item); visit(NULL, arg) where a value is
 * missing (no message, no such string field). An empty repeated field
 * names nothing. */
static void walk_path(const ProtobufCMessage *msg, const char *path, size_t len,
                      void (*visit)(const char *id, void *arg), void *arg)
{
    char name[64];
    int seg = path_segment(path, len, name, sizeof name);
    const ProtobufCFieldDescriptor *f =
        msg && seg > 0 ? protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name) : NULL;
    bool leaf = (size_t)seg == len;
    if (!f || f->type != (leaf ? PROTOBUF_C_TYPE_STRING : PROTOBUF_C_TYPE_MESSAGE)) {
        visit(NULL, arg);
        return;
    }
    const void *const *values;
    size_t n;
    field_values(msg, f, &values, &n);
    for (size_t i = 0; i < n; i++) {
        if (leaf)
            visit(values[i], arg);
        else
            walk_path(values[i], path + seg + 1, len - (size_t)seg - 1, visit, arg);
    }
}

/* One event's invalidation of one cache group (under the cache's lock). */
typedef struct {
    gw_cache *c;
    const char *group, *region;
    const char *first;     /* the first id named */
    size_t ids;            /* ids named */
    bool missing;          /* a value without an id: the whole group goes */
    size_t dropped;
} path_drop;

/* Drops the entries of one named id at once; the drop note is written
 * when the walk is over (path_drop_finish). */
static void path_drop_visit(const char *id, void *arg)
{
    path_drop *d = arg;
    if (!id || !id[0]) {
        d->missing = true;
        return;
    }
    if (d->ids++ == 0)
        d->first = id;
    d->dropped += drop_entries(d->c, d->group, d->region, id);
}

/* Notes the invalidation once per event: the id when one was named, the
 * whole group when several were (one ring slot for a batch: answers of
 * the group in flight are refused, never wrongly kept) or one was missing
 * (then all of the group's entries in the region go too). */
static size_t path_drop_finish(path_drop *d)
{
    if (d->missing)
        return d->dropped + invalidate_locked(d->c, d->group, d->region, NULL);
    if (d->ids > 0)
        note_drop(d->c, d->group, d->region, d->ids == 1 ? d->first : NULL);
    return d->dropped;
}

/* Applies one "type:path" item of a route's .cache_events to ev. */
static size_t apply_item(gw_cache *c, const char *group, const Medrep__Event *ev, const char *item,
                         size_t len)
{
    const char *type = mr_event_type_name(ev);
    const char *colon = memchr(item, ':', len);
    if (!colon || (size_t)(colon - item) != strlen(type) || memcmp(item, type, strlen(type)) != 0)
        return 0;
    const char *path = colon + 1;
    size_t path_len = len - (size_t)(path - item);
    if (path_len == 1 && path[0] == '*')
        return invalidate_locked(c, group, ev->region, NULL);
    path_drop d = {.c = c, .group = group, .region = ev->region};
    walk_path(event_body(ev), path, path_len, path_drop_visit, &d);
    return path_drop_finish(&d);
}

/* True when the dotted path (len bytes) leads through message fields of
 * desc (repeated or not) to a string field. */
static bool path_valid(const ProtobufCMessageDescriptor *desc, const char *path, size_t len)
{
    char name[64];
    int seg = path_segment(path, len, name, sizeof name);
    const ProtobufCFieldDescriptor *f =
        seg > 0 ? protobuf_c_message_descriptor_get_field_by_name(desc, name) : NULL;
    if (!f)
        return false;
    if ((size_t)seg == len)
        return f->type == PROTOBUF_C_TYPE_STRING;
    return f->type == PROTOBUF_C_TYPE_MESSAGE &&
           path_valid(f->descriptor, path + seg + 1, len - (size_t)seg - 1);
}

bool gw_cache_event_item_valid(const char *item, size_t len)
{
    const char *colon = memchr(item, ':', len);
    char type[64];
    if (!colon || colon == item || (size_t)(colon - item) >= sizeof type)
        return false;
    snprintf(type, sizeof type, "%.*s", (int)(colon - item), item);
    const ProtobufCFieldDescriptor *body =
        protobuf_c_message_descriptor_get_field_by_name(&medrep__event__descriptor, type);
    if (!body || body->type != PROTOBUF_C_TYPE_MESSAGE || !(body->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return false;
    const char *path = colon + 1;
    size_t path_len = len - (size_t)(path - item);
    return (path_len == 1 && path[0] == '*') || path_valid(body->descriptor, path, path_len);
}

size_t gw_cache_apply_event(gw_cache *c, const gw_route *routes, size_t count, const Medrep__Event *ev)
{
    if (!ev->region || !ev->region[0] || ev->body_case == MEDREP__EVENT__BODY__NOT_SET)
        return 0;
    size_t dropped = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < count; i++) {
        const gw_route *r = &routes[i];
        for (const char *p = r->cache && r->cache_events ? r->cache_events : NULL; p && *p;) {
            size_t len = strcspn(p, ",");
            dropped += apply_item(c, r->cache, ev, p, len);
            p += len + (p[len] == ',');
        }
    }
    pthread_mutex_unlock(&c->lock);
    return dropped;
}
