/* pbjson.h: JSON <-> protobuf for any message, driven by protobuf-c's
 * descriptors, so the HTTP gateway and the CLI's --json output need no
 * per-message code.
 *
 * Mapping: field names as in the .proto (snake_case); 32-bit integers,
 * floats and bools as JSON numbers and booleans; 64-bit integers as JSON
 * numbers (accepted as numbers or decimal strings); enums as their names
 * (accepted as names or numbers); bytes as base64 strings; repeated fields
 * as arrays; sub-messages as objects. Absent optional fields are left out
 * of the output. Unknown keys, wrong types and out-of-range numbers are
 * errors naming the field. */
#ifndef MEDREP_PBJSON_H
#define MEDREP_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* A new JSON object for msg (caller owns the reference). */
json_t *mr_pb_to_json(const ProtobufCMessage *msg);

/* A new message of type desc from a JSON object; caller frees it with
 * protobuf_c_message_free_unpacked(msg, NULL). NULL with a message in err
 * (e.g. "field 'page_size': expected an integer"). depth limits nesting. */
ProtobufCMessage *mr_pb_from_json(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                  char *err, size_t errcap);

#endif
