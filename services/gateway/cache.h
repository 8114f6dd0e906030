/* cache.h: the gateway's read cache. Answers (200 bodies) of cacheable
 * read routes are kept under the full request as key (route, path with
 * its parameters, canonical query). Each entry carries a tag: its cache
 * group (the route's .cache, e.g. "inbox"), region and the id its route
 * is about (person, owning rep, team, or "" for the region). Entries are
 * dropped when an event or a write through this gateway names their tag
 * (or their whole group in the region), when they are older than their
 * max age, and least recently used first when the cache is full; all of
 * them by gw_cache_clear (when events may have been lost).
 *
 * A read that missed takes an epoch (gw_cache_epoch) before its call is
 * sent; its answer is stored only when no invalidation of its tag came
 * since, so an answer computed before a change is never kept after the
 * change's invalidation.
 *
 * Pure: no I/O, no clock (times are passed in). Thread-safe: one mutex
 * per cache (the gateway's HTTP threads and its dispatcher share one). */
#ifndef MEDREP_GW_CACHE_H
#define MEDREP_GW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "routes.h"

typedef struct gw_cache gw_cache;

typedef struct {
    const char *group;     /* e.g. "inbox" */
    const char *region;
    const char *id;        /* person, rep, team; "" for region-wide entries */
} gw_cache_tag;

typedef struct {
    uint64_t hits, misses, expired, invalidated, evicted, stored, refused;
    uint64_t clears;       /* gw_cache_clear calls (events may have been lost) */
    size_t entries;
} gw_cache_stats;

/* A cache of at most max_entries answers of at most max_body bytes each
 * (so at most about max_entries * max_body bytes). NULL when out of memory. */
gw_cache *gw_cache_new(size_t max_entries, size_t max_body);
void gw_cache_free(gw_cache **c);

/* The current invalidation epoch: take it before sending a missed read. */
uint64_t gw_cache_epoch(gw_cache *c);

/* 1 and a copy of the body (*body, malloc'd, NUL-terminated: caller frees)
 * and its content type (a static string given to put) when key is cached
 * and younger than its max age; 0 otherwise (counted as a miss). */
int gw_cache_get(gw_cache *c, const char *key, int64_t now_ms, char **body, size_t *len,
                 const char **content_type);

/* Stores body (copied) under key until now_ms + max_age_ms, unless an
 * invalidation matching tag happened after epoch (then false, counted as
 * refused) or the body is larger than the cache's max_body. Replaces an
 * existing entry of the same key. */
bool gw_cache_put(gw_cache *c, const char *key, const gw_cache_tag *tag, uint64_t epoch, int64_t now_ms,
                  int max_age_ms, const char *body, size_t len, const char *content_type);

/* Drops the entries of group in region whose id is id (id NULL: all of
 * the group's entries in the region). Returns how many were dropped. */
size_t gw_cache_invalidate(gw_cache *c, const char *group, const char *region, const char *id);

/* Drops what ev invalidates according to the routes' .cache_events
 * ("type:path" pairs). The path names the id in the event's body of that
 * type: a string field ("reminder_delivered:recipient_id"), or a dotted
 * path through message fields, repeated ones giving one id per item
 * ("reminders_delivered:deliveries.recipient_id"). A value without an id
 * drops the whole group in the event's region, to be safe; "type:*" drops
 * it always; an empty repeated field names nothing. An event naming
 * several ids is remembered as one invalidation of the whole group (only
 * the named ids' entries are dropped, but any answer of the group being
 * computed meanwhile is refused). Returns how many entries were dropped. */
size_t gw_cache_apply_event(gw_cache *c, const gw_route *routes, size_t count, const Medrep__Event *ev);

/* True when one "type:path" item (len bytes) of a .cache_events list names
 * a body of medrep.Event and, through its descriptors, a string field (or
 * is "type:*"). */
bool gw_cache_event_item_valid(const char *item, size_t len);

/* Drops every entry (counted as invalidated) and refuses every answer
 * whose epoch was taken before (gw_cache_put returns false for it).
 * Returns how many entries were dropped. */
size_t gw_cache_clear(gw_cache *c);

void gw_cache_stats_get(gw_cache *c, gw_cache_stats *out);

/* Calls fn(group, len, arg) for each group of a comma-separated list
 * (a route's .cache_drops). */
void gw_cache_each_group(const char *list, void (*fn)(const char *group, size_t len, void *arg), void *arg);

#endif
