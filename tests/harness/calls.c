/* calls.c: helpers the integration tests share (calls.h). */
#include "calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"

void h_probe_request(Medrep__Request *req, const char *method, const char *region,
                     int64_t value, uint8_t *buf)
{
    Medrep__Probe probe = MEDREP__PROBE__INIT;
    probe.token = "t";
    probe.value = value;
    probe.has_value = true;
    medrep__request__init(req);
    req->method = (char *)method;
    req->region = (char *)region;
    req->payload.data = buf;
    req->payload.len = medrep__probe__pack(&probe, buf);
    req->has_payload = true;
}

int h_call_code(mr_client *c, const char *service, const char *method, const char *region,
                int64_t value, const char *request_id, bool *replayed)
{
    uint8_t buf[64];
    Medrep__Request req;
    h_probe_request(&req, method, region, value, buf);
    req.request_id = (char *)request_id;
    Medrep__Reply *reply = mr_client_call(c, service, &req, 5000);
    int code = reply->status ? (int)reply->status->code : MR_OK;
    if (replayed)
        *replayed = reply->has_replayed && reply->replayed;
    medrep__reply__free_unpacked(reply, NULL);
    return code;
}

mr_store *h_stack_store(h_stack *s, int i)
{
    mr_store_cfg cfg = {.port = s->redis[i].port};
    strcpy(cfg.host, "127.0.0.1");
    return mr_store_new(&cfg);
}

long long h_redis_int(mr_store *store, const char *fmt, const char *key)
{
    mr_val *v = mr_store_cmd(store, fmt, key);
    long long n = -1;
    if (v && mr_val_type(v) == MR_VAL_INTEGER)
        n = mr_val_int(v);
    else if (v && mr_val_type(v) == MR_VAL_STRING)
        n = atoll(mr_val_str(v, NULL));
    else if (v && mr_val_type(v) == MR_VAL_NIL)
        n = 0;
    mr_val_free(&v);
    return n;
}

/* Whether group appears in an XINFO GROUPS reply with nothing left to do. */
static bool group_drained(const mr_val *groups, const char *group)
{
    for (size_t g = 0; groups && g < mr_val_count(groups); g++) {
        const mr_val *grp = mr_val_at(groups, g);
        const char *name = NULL;
        long long pending = -1, lag = -1;
        for (size_t f = 0; f + 1 < mr_val_count(grp); f += 2) {
            const char *k = mr_val_str(mr_val_at(grp, f), NULL);
            if (!k)
                continue;
            if (!strcmp(k, "name"))
                name = mr_val_str(mr_val_at(grp, f + 1), NULL);
            else if (!strcmp(k, "pending"))
                pending = mr_val_int(mr_val_at(grp, f + 1));
            else if (!strcmp(k, "lag"))
                lag = mr_val_int(mr_val_at(grp, f + 1));
        }
        if (name && !strcmp(name, group) && pending == 0 && lag == 0)
            return true;
    }
    return false;
}

int h_wait_events_handled(mr_store *store, const char *region, const char *group, int timeout_ms)
{
    char key[96];
    snprintf(key, sizeof key, "{r:%s}:events", region);
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        mr_val *v = mr_store_cmd(store, "XINFO GROUPS %s", key);
        bool done = group_drained(v, group);
        mr_val_free(&v);
        if (done)
            return 0;
        usleep(50 * 1000);
    }
    return -1;
}

