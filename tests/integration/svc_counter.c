/* svc_counter.c: a small service used by the integration tests to prove
 * the shell's guarantees with a real process. Its name comes from
 * $MEDREP_TEST_SERVICE (default "counter"), so one binary can play a
 * producer and a consumer.
 *
 * Methods (payload and reply are medrep.Probe):
 *   Increment  INCR {r}:counter, HINCRBY {r}:counter:by_id <request id> 1,
 *              and one Probe event, all in the request's atomic commit.
 *   Read       replies value = the counter; marked read-only.
 *   ReadUnmarked the same, without the read-only mark (the shell looks
 *              for a stored reply first).
 *   ReadWrite  marked read-only but stages an INCR and a Probe event: the
 *              shell must fail it INTERNAL and write nothing.
 *   Sleep      sleeps value milliseconds, then replies (slow handler).
 * Events: each Probe event handled adds HINCRBY {r}:sink:<name> <event id> 1,
 * so a test sees whether any event took effect twice. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "events.h"
#include "service.h"

static int increment(mr_call *call)
{
    Medrep__Probe *in = mr_call_decode(call, &medrep__probe__descriptor);
    if (!in)
        return call->code;
    char counter[128], by_id[128];
    mr_key(counter, sizeof counter, call->region, "counter");
    mr_key(by_id, sizeof by_id, call->region, "counter:by_id");
    mr_tx_addv(call->tx, "INCR", counter, NULL);
    mr_tx_addv(call->tx, "HINCRBY", by_id, call->req->request_id, "1", NULL);
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__Probe probe = MEDREP__PROBE__INIT;
    probe.token = in->token;
    ev.body_case = MEDREP__EVENT__BODY_PROBE;
    ev.probe = &probe;
    if (mr_call_emit(call, &ev) == 0)
        mr_call_reply(call, &in->base);
    medrep__probe__free_unpacked(in, NULL);
    return call->code;
}

static int read_counter(mr_call *call)
{
    char counter[128];
    mr_key(counter, sizeof counter, call->region, "counter");
    mr_val *v = mr_store_cmd(call->store, "GET %s", counter);
    if (!v || mr_val_is_error(v)) {
        mr_val_free(&v);
        return mr_call_fail(call, MR_UNAVAILABLE, "redis: %s", mr_store_error(call->store));
    }
    const char *text = mr_val_str(v, NULL);
    Medrep__Probe out = MEDREP__PROBE__INIT;
    out.value = text ? atoll(text) : 0;
    out.has_value = true;
    mr_val_free(&v);
    return mr_call_reply(call, &out.base);
}

/* Lies about being read-only: the shell must refuse its writes. */
static int read_write(mr_call *call)
{
    char counter[128];
    mr_key(counter, sizeof counter, call->region, "counter");
    mr_tx_addv(call->tx, "INCR", counter, NULL);
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__Probe probe = MEDREP__PROBE__INIT;
    ev.body_case = MEDREP__EVENT__BODY_PROBE;
    ev.probe = &probe;
    if (mr_call_emit(call, &ev) != 0)
        return call->code;
    return read_counter(call);
}

static int sleep_ms(mr_call *call)
{
    Medrep__Probe *in = mr_call_decode(call, &medrep__probe__descriptor);
    if (!in)
        return call->code;
    if (in->value > 0 && in->value < 60000)
        usleep((useconds_t)in->value * 1000);
    mr_call_reply(call, &in->base);
    medrep__probe__free_unpacked(in, NULL);
    return call->code;
}

static int on_event(mr_event_call *call)
{
    if (call->ev->body_case != MEDREP__EVENT__BODY_PROBE || !call->ev->event_id)
        return 0;
    char sink[160];
    mr_key(sink, sizeof sink, call->region, "sink:%s", mr_service_name(call->svc));
    mr_tx_addv(call->tx, "HINCRBY", sink, call->ev->event_id, "1", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    static const mr_method methods[] = {
        {"Increment", increment, false},
        {"Read", read_counter, true},
        {"ReadUnmarked", read_counter, false},
        {"ReadWrite", read_write, true},
        {"Sleep", sleep_ms, false},
    };
    const char *name = getenv("MEDREP_TEST_SERVICE");
    mr_service_def def = {.name = name && name[0] ? name : "counter",
                          .methods = methods,
                          .method_count = sizeof methods / sizeof methods[0],
                          .on_event = on_event};
    return mr_service_main(&def, argc, argv);
}
