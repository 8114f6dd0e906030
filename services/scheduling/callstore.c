/* callstore.c: the scheduling shell's state (regions' time zones and
 * calendars), the per-request context, and the stored calls, busy spans
 * and segments in Redis (layout in scheduling_svc.h). */
#include "scheduling_svc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "events.h"
#include "masterdata.h"

/* ---- state ---- */

int sched_state_init(sched_state *st, const mr_config *cfg, char *err, size_t errcap)
{
    memset(st, 0, sizeof *st);
    st->cfg = cfg;
    mr_region_cfg *rc = calloc(SCHED_REGIONS_MAX, sizeof *rc);
    int n = rc ? mr_config_regions(cfg, rc, SCHED_REGIONS_MAX, err, errcap) : -1;
    for (int i = 0; i < n; i++) {
        sched_region *r = &st->regions[st->nregions++];
        snprintf(r->name, sizeof r->name, "%s", rc[i].name);
        r->tz = mr_tz_load(rc[i].timezone[0] ? rc[i].timezone : "UTC");
        r->cal = mr_calendar_parse(rc[i].field_days, rc[i].holidays, rc[i].workdays, err, errcap);
        if (!r->tz || !r->cal) {
            if (!r->tz)
                snprintf(err, errcap, "region %s: unknown time zone '%s'", rc[i].name, rc[i].timezone);
            n = -1;
        }
    }
    free(rc);
    if (n < 0)
        sched_state_fini(st);
    return n < 0 ? -1 : 0;
}

void sched_state_fini(sched_state *st)
{
    for (int i = 0; i < st->nregions; i++) {
        mr_tz_free(&st->regions[i].tz);
        mr_calendar_free(&st->regions[i].cal);
    }
    st->nregions = 0;
}

const sched_region *sched_region_of(const sched_state *st, const char *region)
{
    for (int i = 0; i < st->nregions; i++)
        if (!strcmp(st->regions[i].name, region))
            return &st->regions[i];
    return NULL;
}

/* ---- ctx ---- */

void sched_ctx_from_call(sched_ctx *c, mr_call *call)
{
    memset(c, 0, sizeof *c);
    c->store = call->store;
    c->tx = call->tx;
    c->region = call->region;
    c->now_ms = call->now_ms;
    c->st = mr_service_state(call->svc);
    c->rg = sched_region_of(c->st, call->region);
    c->call = call;
    if (!c->rg)
        sched_fail(c, MR_INTERNAL, "region %s has no calendar", call->region);
}

void sched_ctx_from_event(sched_ctx *c, mr_event_call *ecall)
{
    memset(c, 0, sizeof *c);
    c->store = ecall->store;
    c->tx = ecall->tx;
    c->region = ecall->region;
    c->now_ms = ecall->now_ms;
    c->st = mr_service_state(ecall->svc);
    c->rg = sched_region_of(c->st, ecall->region);
    c->ecall = ecall;
    if (!c->rg)
        sched_fail(c, MR_INTERNAL, "region %s has no calendar", ecall->region);
}

int sched_fail(sched_ctx *c, int code, const char *fmt, ...)
{
    if (c->code != MR_OK)
        return -1;             /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->code = code;
    return -1;
}

int sched_emit(sched_ctx *c, Medrep__Event *ev)
{
    int rc = c->call ? mr_call_emit(c->call, ev) : mr_event_call_emit(c->ecall, ev);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "cannot stage the event");
}

int sched_norms(sched_ctx *c, const char *team, sc_norms *out)
{
    char t[64], r[64];
    snprintf(t, sizeof t, "team:%s", team);
    snprintf(r, sizeof r, "region:%s", c->region);
    const char *scopes[] = {t, r, NULL};
    char err[200];
    if (sc_norms_load(c->st->cfg, scopes, out, err, sizeof err) != 0)
        return sched_fail(c, MR_FAILED_PRECONDITION, "configuration: %s", err);
    return 0;
}

/* ---- calls ---- */

bool sched_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= 192)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '-'))
            return false;
    }
    return true;
}

int sched_calls_push(sched_calls *a, const sched_call *c)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        sched_call *v = realloc(a->v, sizeof *v * (size_t)cap);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = *c;
    return 0;
}

void sched_calls_free(sched_calls *a)
{
    free(a->v);
    memset(a, 0, sizeof *a);
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

void sched_call_to_pb(const sched_call *c, Medrep__PlannedCall *pb, char **objp)
{
    medrep__planned_call__init(pb);
    for (int i = 0; i < c->nobjectives && i < SCHED_OBJ_MAX; i++)
        objp[i] = (char *)c->objectives[i];
    pb->objectives = objp;
    pb->n_objectives = (size_t)(c->nobjectives < SCHED_OBJ_MAX ? c->nobjectives : SCHED_OBJ_MAX);
    pb->last_call_id = (char *)c->last_call;
    pb->call_id = (char *)c->id;
    pb->rep_id = (char *)c->rep;
    pb->customer_id = (char *)c->customer;
    pb->hospital_id = (char *)c->hospital;
    pb->department_id = (char *)c->dept;
    pb->start_ms = c->start_ms, pb->has_start_ms = true;
    pb->duration_min = c->duration, pb->has_duration_min = true;
    pb->state = (char *)c->state;
    pb->pinned = c->pinned, pb->has_pinned = true;
    pb->origin = (char *)c->origin;
    pb->kind = (char *)c->kind;
    pb->segment = (char *)c->segment;
    pb->customer_name = (char *)c->customer_name;
    pb->hospital_name = (char *)c->hospital_name;
    pb->product_id = (char *)c->product;
}

void sched_call_from_pb(const Medrep__PlannedCall *pb, sched_call *c)
{
    memset(c, 0, sizeof *c);
    COPY(c->id, pb->call_id);
    COPY(c->rep, pb->rep_id);
    COPY(c->customer, pb->customer_id);
    COPY(c->hospital, pb->hospital_id);
    COPY(c->dept, pb->department_id);
    COPY(c->state, pb->state);
    COPY(c->origin, pb->origin);
    COPY(c->kind, pb->kind);
    COPY(c->segment, pb->segment);
    COPY(c->customer_name, pb->customer_name);
    COPY(c->hospital_name, pb->hospital_name);
    COPY(c->product, pb->product_id);
    COPY(c->last_call, pb->last_call_id);
    for (size_t i = 0; i < pb->n_objectives && c->nobjectives < SCHED_OBJ_MAX; i++)
        COPY(c->objectives[c->nobjectives++], pb->objectives[i]);
    c->start_ms = pb->start_ms;
    c->duration = pb->duration_min;
    c->pinned = pb->pinned;
}

static int redis_failed(sched_ctx *c)
{
    return sched_fail(c, MR_UNAVAILABLE, "redis: %s", mr_store_error(c->store));
}

/* Reads the calls named in ids (a Redis array) with one pipeline. */
static int fetch_calls(sched_ctx *c, const mr_val *ids, int64_t lo, int64_t hi, sched_calls *out)
{
    size_t n = mr_val_count(ids);
    for (size_t i = 0; i < n; i++) {
        char key[256];
        mr_key(key, sizeof key, c->region, "sched:call:%s", mr_val_str(mr_val_at(ids, i), NULL));
        const char *argv[] = {"GET", key};
        mr_store_append(c->store, 2, argv, NULL);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        mr_val *v = mr_store_next_reply(c->store);
        size_t len = 0;
        const char *data = v && mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, &len) : NULL;
        if (!v)
            rc = -1;
        Medrep__PlannedCall *pb = data ? medrep__planned_call__unpack(NULL, len, (const uint8_t *)data) : NULL;
        if (pb) {
            sched_call call;
            sched_call_from_pb(pb, &call);
            if (call.start_ms >= lo && call.start_ms < hi && sched_calls_push(out, &call) != 0)
                rc = -1;
            medrep__planned_call__free_unpacked(pb, NULL);
        }
        mr_val_free(&v);
    }
    return rc == 0 ? 0 : redis_failed(c);
}

static int apply_overrides(const sched_overrides *ov, const char *rep, int64_t lo, int64_t hi,
                           sched_calls *out)
{
    for (int i = 0; ov && i < ov->ncalls; i++) {
        const sched_call *o = &ov->calls[i];
        int found = -1;
        for (int k = 0; k < out->n && found < 0; k++)
            if (!strcmp(out->v[k].id, o->id))
                found = k;
        bool inside = !strcmp(o->rep, rep) && o->start_ms >= lo && o->start_ms < hi;
        if (found >= 0 && inside)
            out->v[found] = *o;
        else if (found >= 0)
            out->v[found] = out->v[--out->n];
        else if (inside && sched_calls_push(out, o) != 0)
            return -1;
    }
    return 0;
}

int sched_load_calls(sched_ctx *c, const char *rep, int64_t lo_ms, int64_t hi_ms,
                     const sched_overrides *ov, sched_calls *out)
{
    char key[160], lo[32], hi[32];
    mr_key(key, sizeof key, c->region, "sched:rep:%s:calls", rep);
    snprintf(lo, sizeof lo, "%lld", (long long)lo_ms);
    snprintf(hi, sizeof hi, "(%lld", (long long)hi_ms);
    const char *argv[] = {"ZRANGEBYSCORE", key, lo, hi};
    mr_val *ids = mr_store_cmdv(c->store, 4, argv, NULL);
    if (mr_val_is_error(ids)) {
        mr_val_free(&ids);
        return redis_failed(c);
    }
    int rc = fetch_calls(c, ids, lo_ms, hi_ms, out);
    mr_val_free(&ids);
    if (rc == 0 && apply_overrides(ov, rep, lo_ms, hi_ms, out) != 0)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    return rc;
}

int sched_get_call(sched_ctx *c, const char *id, sched_call *out)
{
    char key[256];
    mr_key(key, sizeof key, c->region, "sched:call:%s", id);
    mr_val *v = mr_store_cmd(c->store, "GET %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return redis_failed(c);
    }
    size_t len = 0;
    const char *data = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, &len) : NULL;
    Medrep__PlannedCall *pb = data ? medrep__planned_call__unpack(NULL, len, (const uint8_t *)data) : NULL;
    if (pb)
        sched_call_from_pb(pb, out);
    medrep__planned_call__free_unpacked(pb, NULL);
    mr_val_free(&v);
    return pb ? 1 : 0;
}

int sched_stage_call(sched_ctx *c, const sched_call *call)
{
    if (sched_touch_rep(c, call->rep) != 0)
        return -1;
    Medrep__PlannedCall pb;
    char *objp[SCHED_OBJ_MAX];
    sched_call_to_pb(call, &pb, objp);
    size_t len = medrep__planned_call__get_packed_size(&pb);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return sched_fail(c, MR_INTERNAL, "out of memory");
    medrep__planned_call__pack(&pb, buf);
    char key[256], idx[160], score[32];
    mr_key(key, sizeof key, c->region, "sched:call:%s", call->id);
    mr_key(idx, sizeof idx, c->region, "sched:rep:%s:calls", call->rep);
    snprintf(score, sizeof score, "%lld", (long long)call->start_ms);
    const char *set[] = {"SET", key, (const char *)buf};
    size_t lens[] = {3, strlen(key), len};
    int rc = mr_tx_add(c->tx, 3, set, lens) | mr_tx_addv(c->tx, "ZADD", idx, score, call->id, NULL);
    free(buf);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "out of memory");
}

int sched_stage_delete_call(sched_ctx *c, const sched_call *call)
{
    if (sched_touch_rep(c, call->rep) != 0)
        return -1;
    char key[256], idx[160];
    mr_key(key, sizeof key, c->region, "sched:call:%s", call->id);
    mr_key(idx, sizeof idx, c->region, "sched:rep:%s:calls", call->rep);
    int rc = mr_tx_addv(c->tx, "DEL", key, NULL) | mr_tx_addv(c->tx, "ZREM", idx, call->id, NULL);
    return rc == 0 ? 0 : sched_fail(c, MR_INTERNAL, "out of memory");
}

/* ---- busy spans ---- */

int sched_load_busy(sched_ctx *c, const char *rep, int64_t lo_ms, int64_t hi_ms,
                    const sched_overrides *ov, sc_busy **out)
{
    char key[160];
    mr_key(key, sizeof key, c->region, "sched:rep:%s:busy", rep);
    mr_val *v = mr_store_cmd(c->store, "HGETALL %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return redis_failed(c);
    }
    size_t n = mr_val_count(v) / 2 + (size_t)(ov ? ov->nbusy : 0);
    *out = calloc(n ? n : 1, sizeof **out);
    int k = 0;
    for (size_t i = 0; *out && i + 1 < mr_val_count(v); i += 2) {
        long long a, b;
        const char *tag = mr_val_str(mr_val_at(v, i), NULL), *t = mr_val_str(mr_val_at(v, i + 1), NULL);
        if (ov && ov->drop_busy && tag && !strcmp(tag, ov->drop_busy))
            continue;
        char kind[8] = "", place[64] = "";
        if (t && sscanf(t, "%lld:%lld:%7[^:]:%63s", &a, &b, kind, place) >= 2 && b > lo_ms && a < hi_ms) {
            (*out)[k] = (sc_busy){.start_ms = a, .end_ms = b, .pim = !strcmp(kind, "pim")};
            snprintf((*out)[k++].place, sizeof place, "%s", place);
        }
    }
    for (int i = 0; *out && ov && i < ov->nbusy; i++)
        (*out)[k++] = ov->busy[i];
    mr_val_free(&v);
    return *out ? k : sched_fail(c, MR_INTERNAL, "out of memory");
}

static int cmp_stop(const void *a, const void *b)
{
    const sched_stop *x = a, *y = b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return strcmp(x->meeting_id, y->meeting_id);
}

int sched_load_stops(sched_ctx *c, const char *rep, int64_t lo_ms, int64_t hi_ms, sched_stop **out)
{
    char key[160];
    *out = NULL;
    mr_key(key, sizeof key, c->region, "sched:rep:%s:busy", rep);
    mr_val *v = mr_store_cmd(c->store, "HGETALL %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return redis_failed(c);
    }
    size_t n = mr_val_count(v) / 2;
    int k = 0;
    if (n && !(*out = calloc(n, sizeof **out))) {
        mr_val_free(&v);
        return sched_fail(c, MR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i + 1 < mr_val_count(v); i += 2) {
        long long a, b;
        const char *tag = mr_val_str(mr_val_at(v, i), NULL), *t = mr_val_str(mr_val_at(v, i + 1), NULL);
        char kind[8] = "", place[64] = "";
        if (!tag || strncmp(tag, "meeting:", 8) || !tag[8] || strlen(tag + 8) >= sizeof (*out)->meeting_id || !t ||
            sscanf(t, "%lld:%lld:%7[^:]:%63s", &a, &b, kind, place) < 2 || b <= lo_ms || a >= hi_ms)
            continue;
        sched_stop *s = &(*out)[k++];
        snprintf(s->meeting_id, sizeof s->meeting_id, "%s", tag + 8);
        snprintf(s->hospital, sizeof s->hospital, "%s", place);
        s->start_ms = a, s->end_ms = b;
    }
    mr_val_free(&v);
    if (k > 1)
        qsort(*out, (size_t)k, sizeof **out, cmp_stop);
    return k;
}

/* ---- segments ---- */

int sched_segment(sched_ctx *c, const char *customer, const sched_overrides *ov, char *out,
                  size_t cap)
{
    char key[160];
    mr_key(key, sizeof key, c->region, "sched:seg:%s", customer);
    mr_val *v = mr_store_cmd(c->store, "HGETALL %s", key);
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return redis_failed(c);
    }
    char best = 0;
    for (size_t i = 0; i + 1 < mr_val_count(v); i += 2) {
        const char *prod = mr_val_str(mr_val_at(v, i), NULL), *seg = mr_val_str(mr_val_at(v, i + 1), NULL);
        if (ov && ov->seg_customer && !strcmp(ov->seg_customer, customer) && prod &&
            !strcmp(prod, ov->seg_product))
            continue;
        if (seg && seg[0] >= 'A' && seg[0] <= 'D' && !seg[1] && (!best || seg[0] < best))
            best = seg[0];
    }
    if (ov && ov->seg_customer && !strcmp(ov->seg_customer, customer) && ov->seg_value &&
        ov->seg_value[0] >= 'A' && ov->seg_value[0] <= 'D' && (!best || ov->seg_value[0] < best))
        best = ov->seg_value[0];
    mr_val_free(&v);
    snprintf(out, cap, "%s", best ? (char[]){best, 0} : "");
    return 0;
}
