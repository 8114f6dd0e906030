/* openapi.c: the OpenAPI 3 document of the API, generated from the route
 * table and the protobuf descriptors of each route's request and reply. */
#include <ctype.h>
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

static json_t *path_parameters(const char *pattern)
{
    json_t *params = json_array();
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close)
            break;
        json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", p + 1,
                                                (size_t)(close - p - 1), "in", "path", "required", 1,
                                                "schema", "type", "string"));
    }
    return params;
}

static json_t *error_response(const char *text)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", text, "content", "application/json",
                     "schema", "$ref", "#/components/schemas/Error");
}

static json_t *operation(const gw_route *r)
{
    json_t *responses = json_pack("{s:{s:s, s:{s:{s:o}}}}", "200", "description", "OK", "content",
                                  "application/json", "schema", schema_of(r->reply, 0));
    const char *codes[][2] = {{"400", "bad input"}, {"401", "no valid token"},
                              {"403", "outside the caller's scope"}, {"404", "not found"},
                              {"429", "rate limited"}, {"503", "unavailable"}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        json_object_set_new(responses, codes[i][0], error_response(codes[i][1]));
    json_t *op = json_pack("{s:s, s:s, s:o, s:o, s:[{s:[]}]}", "summary", r->summary, "operationId",
                           r->rpc, "parameters", path_parameters(r->pattern), "responses", responses,
                           "security", "bearer");
    if (strcmp(r->http_method, "POST") == 0)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:{s:{s:o}}}", "content", "application/json", "schema",
                                      schema_of(r->request, 0)));
    else
        json_object_set_new(op, "x-query", json_string("any request field may be given as a query parameter"));
    return op;
}

json_t *gw_openapi(void)
{
    json_t *paths = json_object();
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
