/* routes.h: the gateway's published API as a table: each route maps an
 * HTTP method and path pattern to a service method and its protobuf
 * request and reply types, and says what the request touches for access
 * control. Path parameters ({name}) and query parameters fill the request
 * fields of the same name; a JSON body fills the rest. Pure: matching and
 * the table; no I/O. */
#ifndef MEDREP_GW_ROUTES_H
#define MEDREP_GW_ROUTES_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* What a route touches, for gw_allowed(). */
typedef enum {
    GW_TOUCH_REGION = 0,      /* anything in the region */
    GW_TOUCH_REP,             /* the rep named by the path parameter rep_id */
    GW_TOUCH_CUSTOMER,        /* the customer named by customer_id (their rep's territory) */
    GW_TOUCH_PERSON,          /* the person named by person_id (their own things) */
    GW_TOUCH_ADMIN,           /* administrators only */
    GW_TOUCH_TEAM,            /* the team named by team: its district manager and admins */
    GW_TOUCH_MEETING,         /* the meeting named by meeting_id (its rep's territory) */
    GW_TOUCH_CALL,            /* the planned call named by call_id (its rep's territory) */
} gw_touch;

typedef struct {
    const char *http_method;           /* "GET", "POST" */
    const char *pattern;               /* "/v1/regions/{region}/customers/{customer_id}/grades" */
    const char *service;               /* "scoring" */
    const char *rpc;                   /* "GetCustomerGrades" */
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    gw_touch touch;
    const char *summary;               /* one line for the OpenAPI document */
    const char *into;                  /* path parameters go into this sub-object ("meeting"), or NULL */
    const char *caller_field;          /* set to the caller's user_id (e.g. "approver_id"), or NULL */
    const char *text_field;            /* answer this string field as text/calendar, or NULL */
    const char *required;              /* comma-separated fields the request must have ("meeting.hospital_id") */
    /* The read cache (cache.h). A GET route with .cache is cacheable: its
     * answers are kept in that cache group, tagged with the id the route
     * is about (person_id, the owning rep, team; "" region-wide), and
     * dropped by the events named in .cache_events ("type:path" pairs,
     * path being the event's string field holding that id, or a dotted
     * path to it through message fields, repeated ones giving an id per
     * item: "reminders_delivered:deliveries.recipient_id"; "type:*"
     * drops the group's entries of the whole region). A write route's
     * .cache_drops names the groups whose entries with its own id it
     * drops before answering. */
    const char *cache;
    const char *cache_events;
    const char *cache_drops;
} gw_route;

#define GW_MAX_PARAMS 8

typedef struct {
    const char *name[GW_MAX_PARAMS];   /* points into the pattern; not NUL-terminated */
    size_t name_len[GW_MAX_PARAMS];
    char value[GW_MAX_PARAMS][128];
    int count;
} gw_params;

/* The route table and its length. */
extern const gw_route gw_routes[];
extern const size_t gw_route_count;

/* True when path matches pattern; fills params (values copied, at most
 * 127 bytes each: longer values do not match). */
bool gw_route_match(const char *pattern, const char *path, gw_params *params);

/* The route for method and path, or NULL. *path_known tells whether any
 * route has this path (so the caller can answer 405 rather than 404). */
const gw_route *gw_route_find(const char *method, const char *path, gw_params *params,
                              bool *path_known);

/* Calls fn(name, len, arg) for each field of route->required. */
void gw_route_each_required(const gw_route *route, void (*fn)(const char *name, size_t len, void *arg),
                            void *arg);

/* The value of a parameter, or NULL. */
const char *gw_param(const gw_params *params, const char *name);

#endif
