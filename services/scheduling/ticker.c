/* ticker.c: the scheduling service's own clock, so that nothing outside
 * has to trigger it. A thread of each instance wakes every [scheduling]
 * ticker_interval_ms (default 1000; 0: no ticker) and, for each region
 * whose lease it holds (sched:ticker:lease, taken or renewed atomically,
 * ticker_lease_ms, so one instance per region at a time), sends through
 * the broker:
 *   - once a local day, at or after [scheduling] daily_check_at of the
 *     region (default 07:00; "off": never), CheckPace for every rep (the
 *     pace check, and on the due weekday the week's PlanDue), with the
 *     request id "sch-daily-<region>-<YYYY-MM-DD>": the stored-reply rule
 *     makes it run once per date however many instances or restarts;
 *   - ReplanDirty for every rep whose debounced regrade replan is due
 *     (dirty.c), with the request id "sch-dirty-<region>-<rep>-<mark>".
 * The lease only saves work: correctness comes from the request ids. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "masterdata.h"
#include "scheduling_svc.h"
#include "transport.h"

#define DIRTY_BATCH 32

struct sched_ticker {
    thrd_t thread;
    atomic_int stop;
    const sched_state *st;
    const mr_config *cfg;
    char broker[256], instance[96];
    int64_t interval_ms, lease_ms;
    int64_t last_daily[SCHED_REGIONS_MAX];   /* local day of the last daily check sent */
};

static mr_script lease_script = {
    .name = "sched_ticker_lease",
    .source = "local v = redis.call('GET', KEYS[1])\n"
              "if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end\n"
              "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end\n"
              "return 0\n",
};

/* 1 when this instance holds the region's lease, 0 not, -1 Redis failed. */
static int hold_lease(const sched_ticker *t, mr_store *store, const char *region)
{
    char key[96], ttl[24];
    mr_key(key, sizeof key, region, "sched:ticker:lease");
    snprintf(ttl, sizeof ttl, "%lld", (long long)t->lease_ms);
    const char *args[] = {key, t->instance, ttl};
    mr_val *v = mr_store_eval(store, &lease_script, 1, 3, args, NULL);
    int rc = v && mr_val_type(v) == MR_VAL_INTEGER ? (int)mr_val_int(v) : -1;
    mr_val_free(&v);
    return rc;
}

/* Sends method with payload under request id rid and waits for the
 * reply, giving up at once when the ticker stops (so that SIGTERM is not
 * held up by a long check; the request id makes a later resend safe).
 * True when the reply is OK. */
static bool send(const sched_ticker *t, mr_client *cl, const char *region, const char *method, const char *rid,
                 const ProtobufCMessage *payload, int timeout_ms)
{
    uint8_t buf[256];
    size_t len = protobuf_c_message_get_packed_size(payload);
    if (len > sizeof buf)
        return false;
    Medrep__Request req = MEDREP__REQUEST__INIT;
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = "scheduling-ticker";
    caller.role = "service";
    req.request_id = (char *)rid, req.region = (char *)region, req.method = (char *)method;
    req.caller = &caller;
    req.payload.data = buf, req.payload.len = protobuf_c_message_pack(payload, buf), req.has_payload = true;
    Medrep__Reply *r = NULL;
    uint64_t tag;
    if (mr_client_submit(cl, "scheduling", &req, timeout_ms, 1) != 0)
        return false;
    while (!r && !atomic_load(&t->stop) && mr_client_inflight(cl) > 0)
        if (mr_client_poll(cl, 100, &tag, &r) != 1)
            r = NULL;
    bool ok = r && (!r->status || r->status->code == MEDREP__CODE__OK);
    if (r && !ok)
        mr_warn("ticker_request_failed", "region=%s method=%s id=%s message=%s", region, method, rid,
                r->status && r->status->message ? r->status->message : "");
    if (r)
        medrep__reply__free_unpacked(r, NULL);
    return ok;
}

static const char *region_setting(const sched_ticker *t, const char *region, const char *key, const char *def)
{
    char scope[64];
    snprintf(scope, sizeof scope, "region:%s", region);
    const char *scopes[] = {scope, NULL};
    const char *v = mr_config_scoped(t->cfg, "scheduling", key, scopes);
    return v ? v : def;
}

/* The daily check of region i, once per local date. */
static void daily(sched_ticker *t, mr_client *cl, int i)
{
    const sched_region *rg = &t->st->regions[i];
    int at = sc_hhmm_parse(region_setting(t, rg->name, "daily_check_at", "07:00"));
    int64_t today;
    int minute;
    sc_local_of(rg->tz, mr_now_ms(), &today, &minute);
    if (at < 0 || minute < at || t->last_daily[i] == today)
        return;
    int y, m, d;
    mr_civil_from_days(today, &y, &m, &d);
    char rid[96];
    snprintf(rid, sizeof rid, "sch-daily-%s-%04d-%02d-%02d", rg->name, y % 10000, m % 100, d % 100);
    Medrep__PaceCheckRequest body = MEDREP__PACE_CHECK_REQUEST__INIT;
    if (send(t, cl, rg->name, "CheckPace", rid, &body.base, 120000))
        t->last_daily[i] = today;
}

/* ReplanDirty for the region's reps whose quiet period is over. */
static void dirty(const sched_ticker *t, mr_client *cl, mr_store *store, const char *region)
{
    char zkey[96], mkey[96], now[24];
    mr_key(zkey, sizeof zkey, region, "sched:dirty");
    mr_key(mkey, sizeof mkey, region, "sched:dirty:mark");
    snprintf(now, sizeof now, "%lld", (long long)mr_now_ms());
    mr_val *v = mr_store_cmd(store, "ZRANGEBYSCORE %s -inf %s LIMIT 0 %d", zkey, now, DIRTY_BATCH);
    for (size_t k = 0; v && mr_val_type(v) == MR_VAL_ARRAY && k < mr_val_count(v); k++) {
        const char *rep = mr_val_str(mr_val_at(v, k), NULL);
        if (!rep || !mr_md_id_valid(rep) || atomic_load(&t->stop))
            continue;
        mr_val *mv = mr_store_cmd(store, "HGET %s %s", mkey, rep);
        const char *mark = mv && mr_val_type(mv) == MR_VAL_STRING ? mr_val_str(mv, NULL) : "none";
        char rid[192];
        snprintf(rid, sizeof rid, "sch-dirty-%s-%s-%s", region, rep, mark);
        Medrep__ReplanDirtyRequest body = MEDREP__REPLAN_DIRTY_REQUEST__INIT;
        body.rep_id = (char *)rep;
        send(t, cl, region, "ReplanDirty", rid, &body.base, 60000);
        mr_val_free(&mv);
    }
    mr_val_free(&v);
}

static void tick(sched_ticker *t, mr_client *cl, mr_store_pool *pool)
{
    for (int i = 0; i < t->st->nregions && !atomic_load(&t->stop); i++) {
        const char *region = t->st->regions[i].name;
        mr_store *store = mr_store_pool_get(pool, region);
        if (!store || hold_lease(t, store, region) != 1)
            continue;
        daily(t, cl, i);
        dirty(t, cl, store, region);
    }
}

static int ticker_main(void *arg)
{
    sched_ticker *t = arg;
    char err[256];
    mr_client_opts opts = {.broker = t->broker, .max_inflight = 4, .attempt_timeout_ms = 10000};
    mr_client *cl = mr_client_new(&opts);
    mr_store_pool *pool = mr_store_pool_new(t->cfg, err, sizeof err);
    if (!cl || !pool)
        mr_warn("ticker_not_started", "message=%s", cl ? err : "no client");
    int64_t next = mr_mono_ms();
    while (cl && pool && !atomic_load(&t->stop)) {
        if (mr_mono_ms() < next) {
            usleep(20 * 1000);   /* short sleeps so that fini is prompt */
            continue;
        }
        tick(t, cl, pool);
        next = mr_mono_ms() + t->interval_ms;
    }
    mr_store_pool_free(&pool);
    mr_client_free(&cl);
    return 0;
}

sched_ticker *sched_ticker_start(const sched_state *st, const mr_config *cfg, const char *instance)
{
    long long interval = atoll(mr_config_str(cfg, "scheduling", "ticker_interval_ms", "1000"));
    long long lease = atoll(mr_config_str(cfg, "scheduling", "ticker_lease_ms", "10000"));
    if (interval <= 0)
        return NULL;
    sched_ticker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->st = st;
    t->cfg = cfg;
    t->interval_ms = interval;
    t->lease_ms = lease > interval ? lease : 3 * interval;
    snprintf(t->broker, sizeof t->broker, "%s", mr_config_str(cfg, "broker", "endpoint", "tcp://127.0.0.1:5555"));
    snprintf(t->instance, sizeof t->instance, "%s", instance);
    for (int i = 0; i < SCHED_REGIONS_MAX; i++)
        t->last_daily[i] = INT64_MIN;
    if (thrd_create(&t->thread, ticker_main, t) != thrd_success) {
        free(t);
        return NULL;
    }
    return t;
}

void sched_ticker_stop(sched_ticker **t)
{
    if (!t || !*t)
        return;
    atomic_store(&(*t)->stop, 1);
    thrd_join((*t)->thread, NULL);
    free(*t);
    *t = NULL;
}
