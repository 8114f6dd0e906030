/* rep_plan.c: the rep's fixed appointments from the scheduling service,
 * for slot suggestions (DOMAIN.md 4.3: slots that fit the rep's plan).
 * Asks scheduling's GetPlan, through the broker, for each month the slots
 * span and keeps the calls that cannot move: pinned calls (added or fixed
 * by the rep) and PIM meetings. Planned calls that are not pinned are not
 * obstacles: the planner moves them around a meeting ([scheduling]
 * meeting_block_states). Also the peer client both scoring and scheduling
 * requests go through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "clock.h"
#include "errors.h"
#include "meetings.h"
#include "scheduling.pb-c.h"

#define MAX_MONTHS 3

mr_client *mt_peer(mr_call *call, const mt_settings *s)
{
    mt_state_t *st = mr_service_state(call->svc);
    if (!st->peer) {
        mr_client_opts o = {.broker = mr_config_str(st->cfg, "broker", "endpoint", "tcp://127.0.0.1:5555"),
                            .max_inflight = 1, .attempt_timeout_ms = (int)mt_int(s, "peer_attempt_ms", 1000)};
        st->peer = mr_client_new(&o);
    }
    return st->peer;
}

/* The instance does not heartbeat while it waits: past [broker]
 * heartbeat_ms x liveness the broker would drop it and hand the request
 * to another instance (or back to this one), so a wait stays within
 * heartbeat_ms x (liveness - 1). */
static long long heartbeat_window(const mt_settings *s)
{
    long long hb = 1000, live = 3;
    char err[128];
    if (mr_config_int(s->st->cfg, "broker", "heartbeat_ms", 1000, 10, 600000, &hb, err, sizeof err) != 0)
        hb = 1000;   /* the shell refused to start on a bad value already */
    if (mr_config_int(s->st->cfg, "broker", "liveness", 3, 1, 100, &live, err, sizeof err) != 0)
        live = 3;
    return live > 1 ? hb * (live - 1) : hb / 2;
}

int mt_peer_timeout(const mr_call *call, const mt_settings *s)
{
    long long t = mt_int(s, "peer_timeout_ms", 2000), window = heartbeat_window(s);
    t = window < t ? window : t;
    const Medrep__Request *r = call->req;
    if (r->has_deadline_ms && r->deadline_ms > 0) {
        long long left = r->deadline_ms - mr_now_ms() - 100;   /* leave time for our own reply */
        t = left < t ? left : t;
    }
    return t < 1 ? 0 : (int)(t > 600000 ? 600000 : t);
}

/* Appends the fixed calls of reply r to *busy. 0 or -1. */
static int add_fixed(const Medrep__PlanReply *r, mt_busy **busy, size_t *n)
{
    for (size_t i = 0; i < r->n_calls; i++) {
        const Medrep__PlannedCall *c = r->calls[i];
        bool fixed = c->pinned || (c->kind && strcmp(c->kind, "pim") == 0);
        if (!fixed || !c->state || strcmp(c->state, "planned") != 0)
            continue;
        mt_busy *grown = realloc(*busy, (*n + 1) * sizeof **busy);
        if (!grown)
            return -1;
        *busy = grown;
        int min = c->duration_min > 0 ? c->duration_min : 30;
        (*busy)[(*n)++] = (mt_busy){c->start_ms, c->start_ms + min * 60000LL};
    }
    return 0;
}

static int get_month(mr_call *call, const mt_settings *s, const char *rep, const char *month,
                     Medrep__PlanReply **out)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = (char *)rep, req.period = (char *)month;
    char msg[300] = "";
    mr_client *c = mt_peer(call, s);
    int timeout = mt_peer_timeout(call, s);
    int code = !c ? MR_INTERNAL
             : timeout <= 0 ? MR_DEADLINE_EXCEEDED
             : mr_client_rpc(c, "scheduling", "GetPlan", call->region, call->req->caller, &req.base,
                             &medrep__plan_reply__descriptor, (ProtobufCMessage **)out, timeout, msg, sizeof msg);
    if (code != MR_OK)
        mr_call_fail(call, MR_UNAVAILABLE, "scheduling's plan of rep %s for %s: %s %s", rep, month,
                     mr_code_name(code), msg);
    return code == MR_OK ? 0 : -1;
}

long mt_rep_fixed_calls(mr_call *call, const mt_settings *s, const char *rep, int64_t from_ms, int64_t to_ms,
                        mt_busy **out)
{
    const mr_tz *tz = mt_region_tz(s->st, call->region);
    *out = NULL;
    if (!tz)
        return mr_call_fail(call, MR_INTERNAL, "no time zone for region %s", call->region), -1;
    mr_local_time a, b;
    mr_tz_to_local(tz, from_ms / 1000, &a);
    mr_tz_to_local(tz, to_ms / 1000, &b);
    int months = (b.year - a.year) * 12 + (b.month - a.month) + 1;
    size_t n = 0;
    for (int i = 0; i < months && i < MAX_MONTHS; i++) {
        char month[8];
        mt_month_shift(a.year, a.month, i, month);
        Medrep__PlanReply *r = NULL;
        if (get_month(call, s, rep, month, &r) != 0)
            return free(*out), *out = NULL, -1;
        int rc = add_fixed(r, out, &n);
        medrep__plan_reply__free_unpacked(r, NULL);
        if (rc != 0)
            return free(*out), *out = NULL, mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    }
    return (long)n;
}
