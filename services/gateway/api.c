/* api.c: one API request from HTTP to a service and back: route, token,
 * rate limit, access check against master data, JSON -> protobuf, the
 * call through the broker with the caller's identity in the envelope,
 * and protobuf -> JSON with the status mapped to HTTP. */
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

static int http_status_of(int code)
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

/* Fills what the request touches; answers and returns false when it
 * cannot be resolved. rep and customer live as long as the call. */
static bool resolve_resource(const gw_route *route, const gw_params *params, mr_store *store,
                             gw_resource *res, mr_rep *rep, mr_customer *customer, gw_answer *a)
{
    res->admin_only = route->touch == GW_TOUCH_ADMIN;
    res->person_id = route->touch == GW_TOUCH_PERSON ? gw_param(params, "person_id") : NULL;
    const char *rep_id = route->touch == GW_TOUCH_REP ? gw_param(params, "rep_id") : NULL;
    if (route->touch == GW_TOUCH_CUSTOMER) {
        int found = mr_md_get_customer(store, res->region, gw_param(params, "customer_id"), customer);
        if (found <= 0) {
            gw_answer_error(a, found < 0 ? 503 : 404, found < 0 ? "UNAVAILABLE" : "NOT_FOUND",
                            found < 0 ? "master data unavailable" : "no such customer");
            return false;
        }
        rep_id = customer->rep_id;
    }
    res->rep_id = rep_id;
    if (rep_id && mr_md_get_rep(store, res->region, rep_id, rep) == 1)
        res->rep_dm_id = rep->dm_id;
    return true;
}

/* The request message as JSON: the body, then query parameters, then path
 * parameters (which win, so a body cannot point elsewhere). */
static json_t *request_json(const char *body, size_t body_len, json_t *query,
                            const gw_params *params, gw_answer *a)
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
    for (int i = 0; i < params->count; i++) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)params->name_len[i], params->name[i]);
        if (strcmp(name, "region") != 0)
            json_object_set_new(obj, name, json_string(params->value[i]));
    }
    return obj;
}

/* Packs msg; caller frees *out. */
static size_t pack_message(const ProtobufCMessage *msg, uint8_t **out)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    *out = malloc(len ? len : 1);
    return *out ? protobuf_c_message_pack(msg, *out) : 0;
}

static void call_service(const gw_route *route, const gw_identity *id, const char *region,
                         const ProtobufCMessage *msg, gw_answer *a)
{
    mr_client *client = gw_client();
    if (!client) {
        gw_answer_error(a, 503, "UNAVAILABLE", "broker unavailable");
        return;
    }
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = (char *)id->user_id;
    caller.role = (char *)id->role_name;
    caller.region = (char *)id->region;
    caller.team = (char *)id->team;
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = (char *)route->rpc;
    req.region = (char *)region;
    req.caller = &caller;
    req.payload.len = pack_message(msg, &req.payload.data);
    req.has_payload = true;
    Medrep__Reply *reply = mr_client_call(client, route->service, &req, gw.timeout_ms);
    free(req.payload.data);
    int code = reply && reply->status ? (int)reply->status->code : MR_INTERNAL;
    if (code != MR_OK) {
        gw_answer_error(a, http_status_of(code), mr_code_name(code), "%s",
                        reply && reply->status && reply->status->message ? reply->status->message : "");
    } else {
        ProtobufCMessage *out = protobuf_c_message_unpack(route->reply, NULL, reply->payload.len,
                                                          reply->payload.data);
        if (out) {
            a->status = 200;
            a->body = mr_pb_to_json(out);
            protobuf_c_message_free_unpacked(out, NULL);
        } else {
            gw_answer_error(a, 502, "INTERNAL", "the service's reply could not be decoded");
        }
    }
    if (reply)
        medrep__reply__free_unpacked(reply, NULL);
}

/* Checks the token and the rate; fills id. False when answered. */
static bool admit(const char *authorization, gw_identity *id, gw_answer *a)
{
    const char *token = authorization && strncmp(authorization, "Bearer ", 7) == 0
                            ? authorization + 7 : NULL;
    int ok = token ? gw_authenticate(token, id) : 0;
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

static void run_route(const gw_route *route, const gw_params *params, const gw_identity *id,
                      const char *body, size_t body_len, json_t *query, gw_answer *a)
{
    const char *region = gw_param(params, "region");
    mr_store *store = gw_pool() ? mr_store_pool_get(gw_pool(), region) : NULL;
    if (!store) {
        gw_answer_error(a, 404, "NOT_FOUND", "region '%s' is not served here", region);
        return;
    }
    gw_resource res = {.region = region};
    mr_rep rep;
    mr_customer customer;
    const char *why = NULL;
    if (!resolve_resource(route, params, store, &res, &rep, &customer, a))
        return;
    if (!gw_allowed(&id->caller, &res, &why)) {
        gw_answer_error(a, 403, "PERMISSION_DENIED", "%s", why);
        return;
    }
    json_t *obj = request_json(body, body_len, query, params, a);
    if (!obj)
        return;
    char err[256];
    ProtobufCMessage *msg = mr_pb_from_json(route->request, obj, err, sizeof err);
    json_decref(obj);
    if (!msg) {
        gw_answer_error(a, 400, "INVALID_ARGUMENT", "%s", err);
        return;
    }
    call_service(route, id, region, msg, a);
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
