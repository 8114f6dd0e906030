/* api.c: one API request from HTTP to a service and back: route, token,
 * rate limit, access check against master data, JSON -> protobuf, the
 * call (made here, sent by dispatch.c) with the caller's identity in the
 * envelope, and protobuf -> JSON with the status mapped to HTTP. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "gateway.h"
#include "masterdata.h"
#include "pbjson.h"

void gw_answer_error(gw_answer *a, int status, const char *code, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    a->status = status;
    json_decref(a->body);
    a->body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
}

int gw_http_status_of(int code)
{
    switch (code) {
    case MR_OK: return 200;
    case MR_INVALID_ARGUMENT: case MR_OUT_OF_RANGE: return 400;
    case MR_NOT_FOUND: return 404;
    case MR_ALREADY_EXISTS: case MR_FAILED_PRECONDITION: case MR_ABORTED: return 409;
    case MR_PERMISSION_DENIED: return 403;
    case MR_RESOURCE_EXHAUSTED: return 429;
    case MR_DEADLINE_EXCEEDED: return 504;
    case MR_UNAVAILABLE: return 503;
    case MR_UNIMPLEMENTED: return 501;
    default: return 500;
    }
}

/* The rep whose territory holds what the route names (copied into
 * owner); false when answered (not found, store down). */
static bool resolve_owner(const gw_route *route, const gw_params *params, const gw_identity *id,
                          mr_store *store, const char *region, char *owner, size_t cap, gw_answer *a)
{
    owner[0] = '\0';
    if (route->touch == GW_TOUCH_REP) {
        snprintf(owner, cap, "%s", gw_param(params, "rep_id"));
    } else if (route->touch == GW_TOUCH_CUSTOMER) {
        mr_customer customer;
        int found = mr_md_get_customer(store, region, gw_param(params, "customer_id"), &customer);
        if (found <= 0) {
            gw_answer_error(a, found < 0 ? 503 : 404, found < 0 ? "UNAVAILABLE" : "NOT_FOUND",
                            found < 0 ? "master data unavailable" : "no such customer");
            return false;
        }
        snprintf(owner, cap, "%s", customer.rep_id);
    } else if (route->touch == GW_TOUCH_MEETING) {
        return gw_meeting_owner(id, region, gw_param(params, "meeting_id"), owner, cap, a) == 0;
    } else if (route->touch == GW_TOUCH_CALL) {
        return gw_call_owner(id, region, gw_param(params, "call_id"), owner, cap, a) == 0;
    }
    return true;
}

/* Fills what the request touches; answers and returns false when it
 * cannot be resolved. res points into owner and rep, which live as long
 * as the call. */
static bool resolve_resource(const gw_route *route, const gw_params *params, const gw_identity *id,
                             mr_store *store, gw_resource *res, char owner[64], mr_rep *rep, gw_answer *a)
{
    res->admin_only = route->touch == GW_TOUCH_ADMIN;
    res->person_id = route->touch == GW_TOUCH_PERSON ? gw_param(params, "person_id") : NULL;
    res->team = route->touch == GW_TOUCH_TEAM ? gw_param(params, "team") : NULL;
    if (!resolve_owner(route, params, id, store, res->region, owner, 64, a))
        return false;
    bool owned = route->touch == GW_TOUCH_REP || route->touch == GW_TOUCH_CUSTOMER ||
                 route->touch == GW_TOUCH_MEETING || route->touch == GW_TOUCH_CALL;
    if (owned)   /* "" (nobody's) matches no rep or manager: administrators only */
        res->rep_id = owner;
    if (owner[0] && mr_md_get_rep(store, res->region, owner, rep) == 1)
        res->rep_dm_id = rep->dm_id;
    return true;
}

/* The object the path parameters go into: obj, or its sub-object
 * route->into (made when absent). NULL when the body's is not an object. */
static json_t *params_target(const gw_route *route, json_t *obj)
{
    if (!route->into)
        return obj;
    json_t *sub = json_object_get(obj, route->into);
    if (!sub) {
        sub = json_object();
        json_object_set_new(obj, route->into, sub);
    }
    return json_is_object(sub) ? sub : NULL;
}

/* The request message as JSON: the body, then query parameters, then path
 * parameters and the caller's id (which win, so a body cannot point
 * elsewhere). */
static json_t *request_json(const gw_route *route, const char *body, size_t body_len, json_t *query,
                            const gw_params *params, const gw_identity *id, gw_answer *a)
{
    json_t *obj;
    if (body_len > 0) {
        json_error_t jerr;
        obj = json_loadb(body, body_len, 0, &jerr);
        if (!obj || !json_is_object(obj)) {
            gw_answer_error(a, 400, "INVALID_ARGUMENT", "the body is not a JSON object: %s",
                            obj ? "not an object" : jerr.text);
            json_decref(obj);
            return NULL;
        }
    } else {
        obj = json_object();
    }
    json_object_update(obj, query);
    json_t *target = params_target(route, obj);
    if (!target) {
        gw_answer_error(a, 400, "INVALID_ARGUMENT", "field '%s': expected an object", route->into ? route->into : "");
        json_decref(obj);
        return NULL;
    }
    for (int i = 0; i < params->count; i++) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)params->name_len[i], params->name[i]);
        if (strcmp(name, "region") != 0)
            json_object_set_new(target, name, json_string(params->value[i]));
    }
    if (route->caller_field)
        json_object_set_new(obj, route->caller_field, json_string(id->user_id));
    return obj;
}

typedef struct {
    json_t *obj;
    char missing[96];
} required_check;

/* Notes the first required field (dotted path) that is absent or null. */
static void check_required(const char *name, size_t len, void *arg)
{
    required_check *rc = arg;
    if (rc->missing[0])
        return;
    json_t *node = rc->obj;
    for (const char *p = name; node && p < name + len;) {
        size_t part = strcspn(p, ".,");
        if (p + part > name + len)
            part = (size_t)(name + len - p);
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)part, p);
        node = json_is_object(node) ? json_object_get(node, key) : NULL;
        p += part + 1;
    }
    if (!node || json_is_null(node))
        snprintf(rc->missing, sizeof rc->missing, "%.*s", (int)len, name);
}

/* Turns a JSON answer into its text field's content (text/calendar). */
static void text_answer(const gw_route *route, gw_answer *a)
{
    const char *text = json_string_value(json_object_get(a->body, route->text_field));
    a->text = strdup(text ? text : "");
    a->content_type = "text/calendar; charset=utf-8";
    json_decref(a->body);
    a->body = NULL;
}

void gw_answer_from_reply(const gw_route *route, const Medrep__Reply *reply, gw_answer *a)
{
    int code = reply && reply->status ? (int)reply->status->code : MR_INTERNAL;
    if (code != MR_OK) {
        gw_answer_error(a, gw_http_status_of(code), mr_code_name(code), "%s",
                        reply && reply->status && reply->status->message ? reply->status->message : "");
        return;
    }
    ProtobufCMessage *out = protobuf_c_message_unpack(route->reply, NULL, reply->payload.len, reply->payload.data);
    if (!out) {
        gw_answer_error(a, 502, "INTERNAL", "the service's reply could not be decoded");
        return;
    }
    a->status = 200;
    a->body = mr_pb_to_json(out);
    protobuf_c_message_free_unpacked(out, NULL);
    if (route->text_field)
        text_answer(route, a);
}

/* Checks the token and the rate; fills id. False when answered. */
static bool admit(const char *authorization, gw_identity *id, gw_answer *a)
{
    const char *token = authorization && strncmp(authorization, "Bearer ", 7) == 0
                            ? authorization + 7 : NULL;
    int ok = token ? gw_authenticate(token, mr_mono_ms(), id) : 0;
    if (ok < 0) {
        gw_answer_error(a, 503, "UNAVAILABLE", "the token store is unavailable");
        return false;
    }
    if (ok == 0) {
        gw_answer_error(a, 401, "UNAUTHENTICATED", "a valid 'Authorization: Bearer <token>' is required");
        return false;
    }
    if (!gw_rate_allow(id->token_hash, mr_mono_ms())) {
        gw_answer_error(a, 429, "RESOURCE_EXHAUSTED", "rate limit of this token exceeded");
        return false;
    }
    return true;
}

/* The request message for the route, or NULL when answered (400). */
static ProtobufCMessage *request_message(const gw_route *route, const gw_params *params,
                                         const gw_identity *id, const char *body, size_t body_len,
                                         json_t *query, gw_answer *a)
{
    json_t *obj = request_json(route, body, body_len, query, params, id, a);
    if (!obj)
        return NULL;
    required_check rc = {.obj = obj};
    gw_route_each_required(route, check_required, &rc);
    char err[256];
    ProtobufCMessage *msg = NULL;
    if (rc.missing[0])
        snprintf(err, sizeof err, "field '%s' is required", rc.missing);
    else
        msg = mr_pb_from_json(route->request, obj, err, sizeof err);
    json_decref(obj);
    if (!msg)
        gw_answer_error(a, 400, "INVALID_ARGUMENT", "%s", err);
    return msg;
}

static void run_route(const gw_route *route, const gw_params *params, const gw_identity *id,
                      const char *body, size_t body_len, json_t *query, gw_answer *a)
{
    const char *region = gw_param(params, "region");
    mr_store *store = gw_pool() ? mr_store_pool_get(gw_pool(), region) : NULL;
    if (!store) {
        gw_answer_error(a, 404, "NOT_FOUND", "region '%s' is not served here", region);
        return;
    }
    /* the region first: nothing is looked up for callers of other regions */
    gw_resource res = {.region = region};
    const char *why = NULL;
    gw_resource region_only = {.region = region, .admin_only = route->touch == GW_TOUCH_ADMIN};
    if (!gw_allowed(&id->caller, &region_only, &why)) {
        gw_answer_error(a, 403, "PERMISSION_DENIED", "%s", why);
        return;
    }
    char owner[64];
    mr_rep rep;
    if (!resolve_resource(route, params, id, store, &res, owner, &rep, a))
        return;
    if (!gw_allowed(&id->caller, &res, &why)) {
        gw_answer_error(a, 403, "PERMISSION_DENIED", "%s", why);
        return;
    }
    gw_cache_ticket ticket;   /* the cache only after every access check */
    if (gw_cache_lookup(route, params, &res, query, a, &ticket))
        return;
    ProtobufCMessage *msg = request_message(route, params, id, body, body_len, query, a);
    a->call = msg ? gw_call_new(route, id, region, msg) : NULL;   /* main.c sends it through dispatch.c */
    if (a->call)
        *gw_call_ticket(a->call) = ticket;
    else
        free(ticket.key);
    if (msg && !a->call)
        gw_answer_error(a, 500, "INTERNAL", "out of memory");
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}

/* GET /v1/regions/{region}/changes?since=&limit= */
static bool handle_changes(const char *method, const char *path, const char *authorization,
                           json_t *query, gw_answer *a)
{
    gw_params params;
    if (!gw_route_match("/v1/regions/{region}/changes", path, &params))
        return false;
    if (strcmp(method, "GET") != 0) {
        gw_answer_error(a, 405, "METHOD_NOT_ALLOWED", "the changes feed is read with GET");
        return true;
    }
    gw_identity id;
    if (!admit(authorization, &id, a))
        return true;
    const char *since = json_string_value(json_object_get(query, "since"));
    const char *limit_text = json_string_value(json_object_get(query, "limit"));
    int limit = limit_text ? atoi(limit_text) : 100;
    if (limit < 1 || limit > 1000) {
        gw_answer_error(a, 400, "INVALID_ARGUMENT", "limit must be 1 to 1000");
        return true;
    }
    gw_changes(&id, gw_param(&params, "region"), since, limit, a);
    return true;
}

void gw_handle_api(const char *method, const char *path, const char *body, size_t body_len,
                   const char *authorization, json_t *query, int *route_index, gw_answer *a)
{
    *route_index = -1;
    if (handle_changes(method, path, authorization, query, a))
        return;
    gw_params params;
    bool path_known = false;
    const gw_route *route = gw_route_find(method, path, &params, &path_known);
    *route_index = route ? (int)(route - gw_routes) : -1;
    if (!route) {
        gw_answer_error(a, path_known ? 405 : 404, path_known ? "METHOD_NOT_ALLOWED" : "NOT_FOUND",
                        "%s %s is not part of the API (see /openapi.json)", method, path);
        return;
    }
    gw_identity id;
    if (admit(authorization, &id, a))
        run_route(route, &params, &id, body, body_len, query, a);
}
