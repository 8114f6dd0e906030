/* ticker.c: drives the RSVP deadline check without an operator's cron.
 * A thread of each instance sends, every [meetings]
 * deadline_check_interval_s seconds (0: off), one CheckDeadlines request
 * per region through the broker. The request id names the region and the
 * interval ("mt-deadlines-<region>-<n>"), so however many instances run,
 * the stored-reply rule makes each interval's check happen once. The
 * thread sleeps between checks (no busy polling) and stops at fini. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "meetings.h"
#include "transport.h"

struct mt_ticker {
    pthread_t thread;
    atomic_int stop;
    char broker[256];
    int64_t interval_ms;
    char regions[MT_MAX_REGIONS][33];
    int region_count;
};

static void check_region(mr_client *c, const char *region, int64_t bucket)
{
    char rid[96];
    snprintf(rid, sizeof rid, "mt-deadlines-%s-%lld", region, (long long)bucket);
    Medrep__CheckDeadlinesRequest body = MEDREP__CHECK_DEADLINES_REQUEST__INIT;
    uint8_t buf[16];
    Medrep__Request req = MEDREP__REQUEST__INIT;
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = "meetings-ticker";
    caller.role = "service";
    req.request_id = rid, req.region = (char *)region, req.method = "CheckDeadlines", req.caller = &caller;
    req.payload.data = buf, req.payload.len = medrep__check_deadlines_request__pack(&body, buf);
    req.has_payload = true;
    Medrep__Reply *r = mr_client_call(c, "meetings", &req, 3000);
    if (r && r->status && r->status->code != MEDREP__CODE__OK)
        mr_warn("deadline_check_failed", "region=%s message=%s", region,
                r->status->message ? r->status->message : "");
    if (r)
        medrep__reply__free_unpacked(r, NULL);
}

static void *ticker_main(void *arg)
{
    mt_ticker *t = arg;
    mr_client_opts opts = {.broker = t->broker, .max_inflight = 4, .attempt_timeout_ms = 1000};
    mr_client *c = mr_client_new(&opts);
    int64_t next = mr_mono_ms() + t->interval_ms;
    while (c && !atomic_load(&t->stop)) {
        if (mr_mono_ms() < next) {
            usleep(100 * 1000);   /* short sleeps so that fini is prompt */
            continue;
        }
        int64_t bucket = mr_now_ms() / t->interval_ms;
        for (int i = 0; i < t->region_count && !atomic_load(&t->stop); i++)
            check_region(c, t->regions[i], bucket);
        next = mr_mono_ms() + t->interval_ms;
    }
    mr_client_free(&c);
    return NULL;
}

mt_ticker *mt_ticker_start(const mt_state_t *st, const mr_config *cfg, long long interval_s)
{
    if (interval_s <= 0)
        return NULL;
    mt_ticker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    snprintf(t->broker, sizeof t->broker, "%s", mr_config_str(cfg, "broker", "endpoint", "tcp://127.0.0.1:5555"));
    t->interval_ms = interval_s * 1000;
    for (int i = 0; i < st->region_count; i++)
        snprintf(t->regions[t->region_count++], sizeof t->regions[0], "%s", st->region_names[i]);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void mt_ticker_stop(mt_ticker **t)
{
    if (!t || !*t)
        return;
    atomic_store(&(*t)->stop, 1);
    pthread_join((*t)->thread, NULL);
    free(*t);
    *t = NULL;
}
