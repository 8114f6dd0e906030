/* openapi.c: the OpenAPI 3 document of the API, generated from the route
 * table and the protobuf descriptors of each route's request and reply. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "gateway.h"

static json_t *schema_of(const ProtobufCMessageDescriptor *d, int depth);

static json_t *field_schema(const ProtobufCFieldDescriptor *f, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return json_pack("{s:s}", "type", "boolean");
    case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE:
        return json_pack("{s:s}", "type", "number");
    case PROTOBUF_C_TYPE_STRING:
        return json_pack("{s:s}", "type", "string");
    case PROTOBUF_C_TYPE_BYTES:
        return json_pack("{s:s, s:s}", "type", "string", "format", "byte");
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        json_t *values = json_array();
        for (unsigned i = 0; i < e->n_values; i++)
            json_array_append_new(values, json_string(e->values[i].name));
        return json_pack("{s:s, s:o}", "type", "string", "enum", values);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return depth < 6 ? schema_of(f->descriptor, depth + 1) : json_pack("{s:s}", "type", "object");
    default:
        return json_pack("{s:s, s:s}", "type", "integer",
                         "format", f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_UINT64 ||
                                   f->type == PROTOBUF_C_TYPE_SINT64 ? "int64" : "int32");
    }
}

static json_t *schema_of(const ProtobufCMessageDescriptor *d, int depth)
{
    json_t *props = json_object();
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *s = field_schema(f, depth);
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            s = json_pack("{s:s, s:o}", "type", "array", "items", s);
        json_object_set_new(props, f->name, s);
    }
    return json_pack("{s:s, s:s, s:o}", "type", "object", "title", d->short_name, "properties", props);
}

static bool in_pattern(const char *pattern, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{'))
        if (strncmp(p + 1, name, len) == 0 && p[1 + len] == '}')
            return true;
    return false;
}

/* The path parameters, and for GET the request's scalar fields as query
 * parameters. */
static json_t *parameters(const gw_route *r)
{
    json_t *params = json_array();
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close)
            break;
        json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", p + 1,
                                                (size_t)(close - p - 1), "in", "path", "required", 1,
                                                "schema", "type", "string"));
    }
    for (unsigned i = 0; strcmp(r->http_method, "GET") == 0 && i < r->request->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &r->request->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED ||
            in_pattern(r->pattern, f->name))
            continue;
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:o}", "name", f->name, "in", "query",
                                                "required", 0, "schema", field_schema(f, 0)));
    }
    return params;
}

static void add_required(const char *name, size_t len, void *arg)
{
    json_t *required = arg;
    size_t top = strcspn(name, ".");   /* "meeting.hospital_id": the body needs "meeting" */
    if (top > len)
        top = len;
    json_t *item = json_stringn(name, top);
    for (size_t i = 0; i < json_array_size(required); i++)
        if (json_equal(json_array_get(required, i), item)) {
            json_decref(item);
            return;
        }
    json_array_append_new(required, item);
}

/* The request's schema, with the fields the gateway requires. */
static json_t *request_schema(const gw_route *r)
{
    json_t *schema = schema_of(r->request, 0);
    json_t *required = json_array();
    gw_route_each_required(r, add_required, required);
    if (json_array_size(required) > 0)
        json_object_set_new(schema, "required", required);
    else
        json_decref(required);
    return schema;
}

static json_t *error_response(const char *text)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", text, "content", "application/json",
                     "schema", "$ref", "#/components/schemas/Error");
}

static json_t *operation(const gw_route *r)
{
    json_t *responses = r->text_field
        ? json_pack("{s:{s:s, s:{s:{s:{s:s}}}}}", "200", "description", "OK", "content",
                    "text/calendar", "schema", "type", "string")
        : json_pack("{s:{s:s, s:{s:{s:o}}}}", "200", "description", "OK", "content",
                    "application/json", "schema", schema_of(r->reply, 0));
    const char *codes[][2] = {{"400", "bad input"}, {"401", "no valid token"},
                              {"403", "outside the caller's scope"}, {"404", "not found"},
                              {"429", "rate limited"}, {"503", "unavailable"}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        json_object_set_new(responses, codes[i][0], error_response(codes[i][1]));
    json_t *op = json_pack("{s:s, s:s, s:o, s:o, s:[{s:[]}]}", "summary", r->summary, "operationId",
                           r->rpc, "parameters", parameters(r), "responses", responses,
                           "security", "bearer");
    if (strcmp(r->http_method, "POST") == 0)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:{s:{s:o}}}", "content", "application/json", "schema",
                                      request_schema(r)));
    return op;
}

/* The paths outside the route table: the changes feed and the fixed ones. */
static void fixed_paths(json_t *paths)
{
    json_t *changes = json_pack(
        "{s:{s:s, s:s, s:[{s:s, s:s, s:b, s:{s:s}}, {s:s, s:s, s:b, s:{s:s}}, {s:s, s:s, s:b, s:{s:s}}],"
        " s:{s:{s:s}}, s:[{s:[]}]}}",
        "get", "summary", "what changed for the caller since a cursor (events the caller may see) and the next cursor",
        "operationId", "Changes", "parameters", "name", "region", "in", "path", "required", 1, "schema", "type",
        "string", "name", "since", "in", "query", "required", 0, "schema", "type", "string", "name", "limit", "in",
        "query", "required", 0, "schema", "type", "integer", "responses", "200", "description",
        "{changes: [{cursor, type, event}], next}; limit counts stream entries: a batch of reminders "
        "delivered is one entry and shows as one reminder_delivered change per item, all with its cursor",
        "security", "bearer");
    json_object_set_new(paths, "/v1/regions/{region}/changes", changes);
    json_object_set_new(paths, "/healthz", json_pack("{s:{s:s, s:{s:{s:s}}}}", "get", "summary",
                                                     "the process is up", "responses", "200", "description", "ok"));
    json_object_set_new(paths, "/metrics", json_pack("{s:{s:s, s:{s:{s:s}}}}", "get", "summary",
                                                     "Prometheus text: requests, errors and latency per route, "
                                                     "each service instance's Status", "responses", "200",
                                                     "description", "text/plain; version=0.0.4"));
}

json_t *gw_openapi(void)
{
    json_t *paths = json_object();
    fixed_paths(paths);
    for (size_t i = 0; i < gw_route_count; i++) {
        const gw_route *r = &gw_routes[i];
        json_t *item = json_object_get(paths, r->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char method[8] = "";
        for (size_t k = 0; k + 1 < sizeof method && r->http_method[k]; k++)
            method[k] = (char)tolower((unsigned char)r->http_method[k]);
        json_object_set_new(item, method, operation(r));
    }
    json_t *error = json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}}}}}", "type", "object", "properties",
                              "error", "type", "object", "properties", "code", "type", "string",
                              "message", "type", "string");
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:{s:o}, s:{s:{s:s, s:s}}}}", "openapi", "3.0.3",
                     "info", "title", "medrep API", "version", MEDREP_VERSION, "paths", paths,
                     "components", "schemas", "Error", error, "securitySchemes", "bearer", "type",
                     "http", "scheme", "bearer");
}
