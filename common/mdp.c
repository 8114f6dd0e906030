/* mdp.c: parsing and validation of the broker protocol's frames (see
 * mdp.h). Pure: no sockets, no allocation. */
#include "mdp.h"

#include <string.h>

static bool frame_is(const mdp_frame *f, const char *text)
{
    size_t n = strlen(text);
    return f->size == n && memcmp(f->data, text, n) == 0;
}

bool mdp_name_valid(const uint8_t *data, size_t size)
{
    if (size == 0 || size > MDP_MAX_NAME)
        return false;
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Parses a decimal credit count of 1..MDP_MAX_CREDITS. */
static int parse_credits(const mdp_frame *f)
{
    if (f->size == 0 || f->size > 4)
        return -1;
    int value = 0;
    for (size_t i = 0; i < f->size; i++) {
        if (f->data[i] < '0' || f->data[i] > '9')
            return -1;
        value = value * 10 + (f->data[i] - '0');
    }
    return (value >= 1 && value <= MDP_MAX_CREDITS) ? value : -1;
}

static int parse_client(const mdp_frame *frames, size_t count, mdp_inbound *out, const char **why)
{
    if (count != 4) {
        *why = "client request needs 4 frames";
        return -1;
    }
    if (!mdp_name_valid(frames[2].data, frames[2].size)) {
        *why = "invalid service name";
        return -1;
    }
    out->kind = MDP_IN_CLIENT_REQUEST;
    out->service = frames[2];
    out->body = frames[3];
    return 0;
}

static int parse_ready(const mdp_frame *frames, size_t count, mdp_inbound *out, const char **why)
{
    if (count != 6) {
        *why = "READY needs 6 frames";
        return -1;
    }
    if (!mdp_name_valid(frames[3].data, frames[3].size) ||
        !mdp_name_valid(frames[4].data, frames[4].size)) {
        *why = "invalid service or instance name";
        return -1;
    }
    int credits = parse_credits(&frames[5]);
    if (credits < 0) {
        *why = "invalid credits";
        return -1;
    }
    out->kind = MDP_IN_WORKER_READY;
    out->service = frames[3];
    out->instance = frames[4];
    out->credits = credits;
    return 0;
}

static int parse_reply(const mdp_frame *frames, size_t count, mdp_inbound *out, const char **why)
{
    if (count != 6) {
        *why = "REPLY needs 6 frames";
        return -1;
    }
    if (frames[3].size == 0 || frames[3].size > MDP_MAX_ID || frames[4].size > MDP_MAX_ID) {
        *why = "invalid client or request id";
        return -1;
    }
    out->kind = MDP_IN_WORKER_REPLY;
    out->client = frames[3];
    out->request_id = frames[4];
    out->body = frames[5];
    return 0;
}

static int parse_worker(const mdp_frame *frames, size_t count, mdp_inbound *out, const char **why)
{
    if (count < 3 || frames[2].size != 1) {
        *why = "worker message needs a one-byte command";
        return -1;
    }
    switch (frames[2].data[0]) {
    case MDP_READY:
        return parse_ready(frames, count, out, why);
    case MDP_REPLY:
        return parse_reply(frames, count, out, why);
    case MDP_HEARTBEAT:
    case MDP_DISCONNECT:
        if (count != 3) {
            *why = "HEARTBEAT and DISCONNECT take no arguments";
            return -1;
        }
        out->kind = frames[2].data[0] == MDP_HEARTBEAT ? MDP_IN_WORKER_HEARTBEAT
                                                       : MDP_IN_WORKER_DISCONNECT;
        return 0;
    default:
        *why = "unknown worker command";
        return -1;
    }
}

int mdp_parse_inbound(const mdp_frame *frames, size_t count, mdp_inbound *out, const char **why)
{
    static const char *unused;
    if (!why)
        why = &unused;
    memset(out, 0, sizeof *out);
    if (count < 2 || count > MDP_MAX_FRAMES) {
        *why = "wrong number of frames";
        return -1;
    }
    if (frames[0].size == 0 || frames[0].size > MDP_MAX_ID) {
        *why = "invalid peer id";
        return -1;
    }
    out->peer = frames[0];
    if (frame_is(&frames[1], MDP_CLIENT))
        return parse_client(frames, count, out, why);
    if (frame_is(&frames[1], MDP_WORKER))
        return parse_worker(frames, count, out, why);
    *why = "unknown protocol";
    return -1;
}

int mdp_parse_to_worker(const mdp_frame *frames, size_t count, mdp_to_worker *out)
{
    memset(out, 0, sizeof *out);
    if (count < 2 || count > MDP_MAX_FRAMES || !frame_is(&frames[0], MDP_WORKER) ||
        frames[1].size != 1)
        return -1;
    out->command = frames[1].data[0];
    if (out->command == MDP_REQUEST && count == 5 && frames[2].size > 0 &&
        frames[2].size <= MDP_MAX_ID && frames[3].size <= MDP_MAX_ID) {
        out->client = frames[2];
        out->request_id = frames[3];
        out->body = frames[4];
        return 0;
    }
    if ((out->command == MDP_HEARTBEAT || out->command == MDP_DISCONNECT) && count == 2)
        return 0;
    return -1;
}

int mdp_parse_to_client(const mdp_frame *frames, size_t count, mdp_frame *body)
{
    if (count != 3 || !frame_is(&frames[0], MDP_CLIENT) ||
        !mdp_name_valid(frames[1].data, frames[1].size))
        return -1;
    *body = frames[2];
    return 0;
}
