/* fuzz_envelope.c: libFuzzer target for the envelope decoders: the input
 * is unpacked as a medrep.Request (as the broker and the service shell do
 * with a client's body) and as a medrep.Reply (as a client does), after
 * the same size cap the broker applies. Every field is then read, the
 * payloads decoded the way their readers decode them (the broker's
 * Workers filter, the CLI's StatusReply, a client's WorkerListReply), and
 * everything freed, so ASan and LeakSanitizer check the whole path. */
#include <stdint.h>
#include <string.h>

#include "envelope.pb-c.h"
#include "errors.h"
#include "transport.h"

static volatile size_t sink;

static void touch_string(const char *s)
{
    if (s)
        sink += strlen(s);
}

static void touch_bytes(const ProtobufCBinaryData *b)
{
    size_t sum = 0;
    for (size_t i = 0; i < b->len; i++)
        sum += b->data[i];
    sink += sum;
}

static void walk_caller(const Medrep__Caller *c)
{
    if (!c)
        return;
    touch_string(c->user_id);
    touch_string(c->role);
    touch_string(c->region);
    touch_string(c->team);
}

static void walk_worker_list_request(const ProtobufCBinaryData *payload)
{
    Medrep__WorkerListRequest *r =
        medrep__worker_list_request__unpack(NULL, payload->len, payload->data);
    if (!r)
        return;
    touch_string(r->service);
    medrep__worker_list_request__free_unpacked(r, NULL);
}

static void walk_request(const uint8_t *data, size_t size)
{
    Medrep__Request *req = medrep__request__unpack(NULL, size, data);
    if (!req)
        return;
    touch_string(req->request_id);
    touch_string(req->region);
    touch_string(req->method);
    touch_string(req->target_instance);
    sink += (size_t)req->deadline_ms;
    walk_caller(req->caller);
    if (req->has_payload) {
        touch_bytes(&req->payload);
        walk_worker_list_request(&req->payload);
    }
    medrep__request__free_unpacked(req, NULL);
}

static void walk_status_reply(const ProtobufCBinaryData *payload)
{
    Medrep__StatusReply *st = medrep__status_reply__unpack(NULL, payload->len, payload->data);
    if (!st)
        return;
    touch_string(st->service);
    touch_string(st->instance);
    touch_string(st->version);
    touch_string(st->redis_state);
    for (size_t i = 0; i < st->n_regions; i++)
        touch_string(st->regions[i]);
    medrep__status_reply__free_unpacked(st, NULL);
}

static void walk_worker_list_reply(const ProtobufCBinaryData *payload)
{
    Medrep__WorkerListReply *list =
        medrep__worker_list_reply__unpack(NULL, payload->len, payload->data);
    if (!list)
        return;
    for (size_t i = 0; i < list->n_workers; i++) {
        touch_string(list->workers[i]->service);
        touch_string(list->workers[i]->instance);
        sink += (size_t)list->workers[i]->credits;
    }
    medrep__worker_list_reply__free_unpacked(list, NULL);
}

static void walk_reply(const uint8_t *data, size_t size)
{
    Medrep__Reply *reply = medrep__reply__unpack(NULL, size, data);
    if (!reply)
        return;
    touch_string(reply->request_id);
    touch_string(reply->instance);
    sink += reply->replayed;
    if (reply->status) {
        touch_string(mr_code_name((int)reply->status->code));
        touch_string(reply->status->message);
    }
    if (reply->has_payload) {
        touch_bytes(&reply->payload);
        walk_status_reply(&reply->payload);
        walk_worker_list_reply(&reply->payload);
    }
    medrep__reply__free_unpacked(reply, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MR_DEFAULT_MAX_MSG)
        return 0;   /* the broker and the sockets refuse larger bodies */
    walk_request(data, size);
    walk_reply(data, size);
    return 0;
}
