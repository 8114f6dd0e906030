/* fuzz_mdp.c: libFuzzer target for the frame parsers of the broker
 * protocol: mdp_parse_inbound (every message the broker's ROUTER socket
 * receives), mdp_parse_to_worker (what a worker receives) and
 * mdp_parse_to_client (what a client receives).
 *
 * Input format: byte 0 is the frame count (taken modulo MDP_MAX_FRAMES + 2,
 * so too many frames is tried too); then each frame is one length byte
 * and that many bytes (the last frame is cut where the input ends). Each
 * frame is copied into its own allocation of exactly its size, so ASan
 * reports any read past a frame's end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdp.h"

#define FUZZ_MAX_FRAMES (MDP_MAX_FRAMES + 1)

static volatile uint32_t sink;

/* Reads every byte of a frame the parser pointed at. */
static void touch(const mdp_frame *f)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < f->size; i++)
        sum += f->data[i];
    sink += sum;
}

static void check_result(const mdp_inbound *in)
{
    touch(&in->peer);
    touch(&in->service);
    touch(&in->instance);
    touch(&in->client);
    touch(&in->request_id);
    touch(&in->body);
    if (in->peer.size == 0 || in->peer.size > MDP_MAX_ID)
        abort();
    if (in->kind == MDP_IN_WORKER_READY) {
        if (in->credits < 1 || in->credits > MDP_MAX_CREDITS)
            abort();
        if (!mdp_name_valid(in->service.data, in->service.size) ||
            !mdp_name_valid(in->instance.data, in->instance.size))
            abort();
    }
    if (in->kind == MDP_IN_CLIENT_REQUEST && !mdp_name_valid(in->service.data, in->service.size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t count = data[0] % (MDP_MAX_FRAMES + 2);
    size_t pos = 1;
    mdp_frame frames[FUZZ_MAX_FRAMES + 1];
    uint8_t *copies[FUZZ_MAX_FRAMES + 1] = {0};
    for (size_t i = 0; i < count; i++) {
        size_t len = pos < size ? data[pos++] : 0;
        if (len > size - pos)
            len = size - pos;
        copies[i] = malloc(len ? len : 1);
        if (!copies[i])
            abort();
        memcpy(copies[i], data + pos, len);
        pos += len;
        frames[i] = (mdp_frame){copies[i], len};
    }
    mdp_inbound in;
    const char *why = NULL;
    if (mdp_parse_inbound(frames, count, &in, &why) == 0)
        check_result(&in);
    else if (!why || !why[0])
        abort();   /* a rejection always says why */
    mdp_to_worker to_worker;
    if (mdp_parse_to_worker(frames, count, &to_worker) == 0) {
        touch(&to_worker.client);
        touch(&to_worker.request_id);
        touch(&to_worker.body);
    }
    mdp_frame body;
    if (mdp_parse_to_client(frames, count, &body) == 0)
        touch(&body);
    for (size_t i = 0; i < count; i++)
        free(copies[i]);
    return 0;
}
