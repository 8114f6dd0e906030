/* pbjson.c: JSON <-> protobuf through protobuf-c descriptors (pbjson.h).
 * Messages built here use the default allocator, so
 * protobuf_c_message_free_unpacked() frees them whole. */
#include "pbjson.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

/* ---- Message -> JSON ---- */

static void *field_ptr(const ProtobufCMessage *msg, unsigned offset)
{
    return (char *)msg + offset;
}

/* True when an optional or oneof field is set. */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)field_ptr(msg, f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const void *p = *(void *const *)field_ptr(msg, f->offset);
        return p != NULL && p != f->default_value;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
        return *(const protobuf_c_boolean *)field_ptr(msg, f->quantifier_offset);
    return true;   /* required, or proto3 without presence */
}

static json_t *bytes_to_json(const ProtobufCBinaryData *b)
{
    size_t cap = 4 * ((b->len + 2) / 3) + 1;
    unsigned char *out = malloc(cap);
    if (!out)
        return json_null();
    EVP_EncodeBlock(out, b->data, (int)b->len);
    json_t *s = json_string((const char *)out);
    free(out);
    return s;
}

static json_t *enum_to_json(const ProtobufCEnumDescriptor *e, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(e, value);
    return v ? json_string(v->name) : json_integer(value);
}

/* The JSON of one value of field f stored at p. */
static json_t *value_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_integer((json_int_t)*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_to_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING:
        return json_string(*(char *const *)p ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_to_json(p);
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p ? mr_pb_to_json(*(ProtobufCMessage *const *)p)
                                            : json_null();
    }
    return json_null();
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

json_t *mr_pb_to_json(const ProtobufCMessage *msg)
{
    json_t *obj = json_object();
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)field_ptr(msg, f->quantifier_offset);
            const char *items = *(char *const *)field_ptr(msg, f->offset);
            json_t *array = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(array, value_to_json(f, items + k * value_size(f)));
            json_object_set_new(obj, f->name, array);
        } else if (field_present(msg, f)) {
            json_object_set_new(obj, f->name, value_to_json(f, field_ptr(msg, f->offset)));
        }
    }
    return obj;
}

/* ---- JSON -> message ---- */

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads an integer from a JSON number or decimal string. */
static int json_to_int64(const json_t *j, long long *out)
{
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return 0;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || *end != '\0' || errno == ERANGE)
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

static int set_integer(const ProtobufCFieldDescriptor *f, const json_t *j, void *p, char *err,
                       size_t cap)
{
    long long v;
    if (json_to_int64(j, &v) != 0)
        return fail(err, cap, "field '%s': expected an integer", f->name);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        if (v < INT32_MIN || v > INT32_MAX)
            return fail(err, cap, "field '%s': %lld is out of range", f->name, v);
        *(int32_t *)p = (int32_t)v;
        return 0;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        if (v < 0 || v > (long long)UINT32_MAX)
            return fail(err, cap, "field '%s': %lld is out of range", f->name, v);
        *(uint32_t *)p = (uint32_t)v;
        return 0;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        if (v < 0)
            return fail(err, cap, "field '%s': must not be negative", f->name);
        *(uint64_t *)p = (uint64_t)v;
        return 0;
    default:
        *(int64_t *)p = v;
        return 0;
    }
}

static int set_enum(const ProtobufCFieldDescriptor *f, const json_t *j, void *p, char *err,
                    size_t cap)
{
    const ProtobufCEnumDescriptor *e = f->descriptor;
    const ProtobufCEnumValue *v = NULL;
    if (json_is_string(j))
        v = protobuf_c_enum_descriptor_get_value_by_name(e, json_string_value(j));
    else if (json_is_integer(j) && json_integer_value(j) >= INT_MIN && json_integer_value(j) <= INT_MAX)
        v = protobuf_c_enum_descriptor_get_value(e, (int)json_integer_value(j));
    if (!v)
        return fail(err, cap, "field '%s': not a value of %s", f->name, e->short_name);
    *(int *)p = v->value;
    return 0;
}

static int set_bytes(const ProtobufCFieldDescriptor *f, const json_t *j, void *p, char *err,
                     size_t cap)
{
    const char *text = json_is_string(j) ? json_string_value(j) : NULL;
    size_t len = text ? strlen(text) : 0;
    if (!text || len % 4 != 0)
        return fail(err, cap, "field '%s': expected a base64 string", f->name);
    ProtobufCBinaryData *b = p;
    b->data = malloc(len / 4 * 3 + 1);
    int n = b->data ? EVP_DecodeBlock(b->data, (const unsigned char *)text, (int)len) : -1;
    if (n < 0) {
        free(b->data);
        b->data = NULL;
        return fail(err, cap, "field '%s': expected a base64 string", f->name);
    }
    size_t padding = (len > 0 && text[len - 1] == '=') + (len > 1 && text[len - 2] == '=');
    b->len = (size_t)n - padding;
    return 0;
}

static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                   int depth, char *err, size_t cap);

/* Stores one JSON value of field f at p (a value slot). */
static int set_value(const ProtobufCFieldDescriptor *f, const json_t *j, void *p, int depth,
                     char *err, size_t cap)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(j))
            return fail(err, cap, "field '%s': expected a number", f->name);
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)p = (float)json_number_value(j);
        else
            *(double *)p = json_number_value(j);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j))
            return fail(err, cap, "field '%s': expected true or false", f->name);
        *(protobuf_c_boolean *)p = json_is_true(j);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return set_enum(f, j, p, err, cap);
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(j))
            return fail(err, cap, "field '%s': expected a string", f->name);
        *(char **)p = strdup(json_string_value(j));
        return *(char **)p ? 0 : fail(err, cap, "out of memory");
    case PROTOBUF_C_TYPE_BYTES:
        return set_bytes(f, j, p, err, cap);
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)p = from_json(f->descriptor, j, depth + 1, err, cap);
        return *(ProtobufCMessage **)p ? 0 : -1;
    default:
        return set_integer(f, j, p, err, cap);
    }
}

static int set_repeated(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                        const json_t *j, int depth, char *err, size_t cap)
{
    if (!json_is_array(j))
        return fail(err, cap, "field '%s': expected an array", f->name);
    size_t n = json_array_size(j);
    char *items = calloc(n ? n : 1, value_size(f));
    if (!items)
        return fail(err, cap, "out of memory");
    *(char **)field_ptr(msg, f->offset) = items;
    size_t *count = field_ptr(msg, f->quantifier_offset);
    for (size_t k = 0; k < n; k++) {
        if (set_value(f, json_array_get(j, k), items + k * value_size(f), depth, err, cap) != 0)
            return -1;
        *count = k + 1;   /* only what is set gets freed */
    }
    return 0;
}

static int set_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const json_t *j,
                     int depth, char *err, size_t cap)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return set_repeated(msg, f, j, depth, err, cap);
    if (json_is_null(j))
        return 0;
    if (set_value(f, j, field_ptr(msg, f->offset), depth, err, cap) != 0)
        return -1;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)field_ptr(msg, f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
             f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)field_ptr(msg, f->quantifier_offset) = 1;
    return 0;
}

static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                   int depth, char *err, size_t cap)
{
    if (depth > MAX_DEPTH) {
        fail(err, cap, "nested too deeply");
        return NULL;
    }
    if (!json_is_object(json)) {
        fail(err, cap, "expected a JSON object for %s", desc->short_name);
        return NULL;
    }
    ProtobufCMessage *msg = malloc(desc->sizeof_message);
    if (!msg) {
        fail(err, cap, "out of memory");
        return NULL;
    }
    desc->message_init(msg);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)json, key, value) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
        int rc = f ? set_field(msg, f, value, depth, err, cap)
                   : fail(err, cap, "unknown field '%s' in %s", key, desc->short_name);
        if (rc != 0) {
            protobuf_c_message_free_unpacked(msg, NULL);
            return NULL;
        }
    }
    return msg;
}

ProtobufCMessage *mr_pb_from_json(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                  char *err, size_t errcap)
{
    return from_json(desc, json, 0, err, errcap);
}
