/* readcache.c: the read cache in a request's path (the cache itself is
 * cache.c). After the access checks of a cacheable read, the lookup by
 * the full request (route, path parameters, canonical query); on a miss
 * the call carries a ticket (key, tag, epoch) so that its 200 answer is
 * stored; a write's reply drops the entries its route names, before the
 * answer goes out, so the next read through this gateway sees the write.
 * Nothing is looked up or stored while the live feed is not trusted
 * (dispatch.c: silent, or never heard). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gateway.h"

/* The id a route's entries are tagged with: whom the request is about. */
static const char *tag_id(const gw_route *route, const gw_resource *res)
{
    switch (route->touch) {
    case GW_TOUCH_PERSON: return res->person_id ? res->person_id : "";
    case GW_TOUCH_TEAM: return res->team ? res->team : "";
    case GW_TOUCH_REP: case GW_TOUCH_CUSTOMER: case GW_TOUCH_MEETING: case GW_TOUCH_CALL:
        return res->rep_id ? res->rep_id : "";
    default: return "";
    }
}

/* "<route>\x1f<param>\x1f...\x1f<sorted query JSON>"; caller frees. NULL when out of memory. */
static char *request_key(const gw_route *route, const gw_params *params, json_t *query)
{
    char *q = json_dumps(query, JSON_COMPACT | JSON_SORT_KEYS);
    size_t cap = 32 + (q ? strlen(q) : 0);
    for (int i = 0; i < params->count; i++)
        cap += strlen(params->value[i]) + 1;
    char *key = q ? malloc(cap) : NULL;
    if (key) {
        size_t at = (size_t)snprintf(key, cap, "%d", (int)(route - gw_routes));
        for (int i = 0; i < params->count; i++)
            at += (size_t)snprintf(key + at, cap - at, "\x1f%s", params->value[i]);
        snprintf(key + at, cap - at, "\x1f%s", q);
    }
    free(q);
    return key;
}

bool gw_cache_lookup(const gw_route *route, const gw_params *params, const gw_resource *res,
                     json_t *query, gw_answer *a, gw_cache_ticket *t)
{
    *t = (gw_cache_ticket){0};
    snprintf(t->region, sizeof t->region, "%s", res->region);
    snprintf(t->id, sizeof t->id, "%s", tag_id(route, res));
    int index = (int)(route - gw_routes);
    if (!gw.cache || !route->cache || gw.cache_ms[index] <= 0 || !gw_feed_trusted())
        return false;   /* not cached; while the feed is not heard, passed through */
    t->key = request_key(route, params, query);
    if (!t->key)
        return false;
    t->epoch = gw_cache_epoch(gw.cache);   /* before the call is sent */
    size_t len;
    if (gw_cache_get(gw.cache, t->key, mr_mono_ms(), &a->text, &len, &a->content_type) != 1)
        return false;
    a->status = 200;
    free(t->key);
    t->key = NULL;
    return true;
}

typedef struct {
    const gw_cache_ticket *t;
} drop_arg;

static void drop_group(const char *group, size_t len, void *arg)
{
    const gw_cache_ticket *t = ((drop_arg *)arg)->t;
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)len, group);
    gw_cache_invalidate(gw.cache, name, t->region, t->id[0] ? t->id : NULL);
}

void gw_cache_after_reply(const gw_route *route, gw_cache_ticket *t, int status, const char *body,
                          size_t len, const char *content_type)
{
    if (!gw.cache)
        return;
    if (route->cache_drops) {
        drop_arg arg = {t};
        gw_cache_each_group(route->cache_drops, drop_group, &arg);
    }
    if (t->key && route->cache && status == 200 && body) {
        gw_cache_tag tag = {.group = route->cache, .region = t->region, .id = t->id};
        gw_cache_put(gw.cache, t->key, &tag, t->epoch, mr_mono_ms(), gw.cache_ms[route - gw_routes], body,
                     len, content_type);
    }
}
