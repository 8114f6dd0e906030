/* fuzz_pbjson.c: libFuzzer target for mr_pb_from_json, which turns the
 * JSON bodies of HTTP requests (untrusted) into protobuf messages. The
 * first byte picks the message type; the rest is parsed as JSON. A
 * message that decodes is turned back into JSON, packed and freed. */
#include <stdint.h>
#include <stdlib.h>

#include "envelope.pb-c.h"
#include "events.pb-c.h"
#include "pbjson.h"

static const ProtobufCMessageDescriptor *const types[] = {
    &medrep__request__descriptor,
    &medrep__event__descriptor,
    &medrep__status_reply__descriptor,
    &medrep__worker_list_reply__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *desc = types[data[0] % (sizeof types / sizeof types[0])];
    json_error_t jerr;
    json_t *json = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, &jerr);
    if (!json)
        return 0;
    char err[256];
    ProtobufCMessage *msg = mr_pb_from_json(desc, json, err, sizeof err);
    json_decref(json);
    if (!msg)
        return 0;
    json_t *back = mr_pb_to_json(msg);
    json_decref(back);
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf)
        protobuf_c_message_pack(msg, buf);
    free(buf);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}
