/* timers.c: starts and stops the durable timers: per region a mover
 * thread (mover.c), [notify] senders sender threads on the ready streams
 * and outside_senders on the outside streams (sender.c), each with its own
 * store connection (and its own consumer name in the group "senders"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "worker.h"

/* ---- Start and stop ---- */

static nt_worker *worker_new(nt_state *st, const nt_region *reg, const char *role)
{
    nt_worker *w = calloc(1, sizeof *w);
    mr_region_cfg regions[NT_MAX_REGIONS];
    char err[256];
    int n = mr_config_regions(st->cfg, regions, NT_MAX_REGIONS, err, sizeof err);
    if (!w)
        return NULL;
    w->st = st;
    w->region = reg->name;
    snprintf(w->instance, sizeof w->instance, "%s-%s", mr_service_instance(st->svc), role);
    for (int i = 0; i < n; i++) {
        if (strcmp(regions[i].name, reg->name) != 0)
            continue;
        mr_store_cfg cfg = {.port = regions[i].redis_port, .db = regions[i].redis_db};
        snprintf(cfg.host, sizeof cfg.host, "%s", regions[i].redis_host);
        snprintf(cfg.password, sizeof cfg.password, "%s", regions[i].redis_password);
        w->store = mr_store_new(&cfg);
    }
    w->tx = mr_tx_new();
    char rnd[33];
    mr_random_id(rnd, sizeof rnd);
    w->seed = (unsigned)strtoul(rnd + 24, NULL, 16);
    if (!w->store || !w->tx) {
        mr_store_free(&w->store);
        mr_tx_free(&w->tx);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free(nt_worker *w)
{
    if (!w)
        return;
    mr_store_free(&w->store);
    mr_tx_free(&w->tx);
    free(w);
}

/* The role of thread i of a region: 0 the mover, then the senders, then
 * the outside senders. Fills the worker's name and stream. */
static void *(*role_of(const nt_state *st, int i, char *name, size_t cap, bool *outside))(void *)
{
    int senders = st->set.senders;
    *outside = i > senders;
    if (i == 0)
        snprintf(name, cap, "mover");
    else if (i <= senders)
        snprintf(name, cap, i == 1 ? "sender" : "sender%d", i);
    else
        snprintf(name, cap, i == senders + 1 ? "outside" : "outside%d", i - senders);
    return i == 0 ? nt_mover_main : nt_sender_main;
}

int nt_timers_start(nt_state *st, char *err, size_t errcap)
{
    int per_region = 1 + st->set.senders + st->set.outside_senders;
    for (int i = 0; i < st->region_count; i++) {
        for (int role = 0; role < per_region; role++) {
            char name[24];
            bool outside;
            void *(*fn)(void *) = role_of(st, role, name, sizeof name, &outside);
            nt_worker *w = worker_new(st, &st->regions[i], name);
            if (w) {
                w->outside = outside;
                w->stream_fmt = outside ? "sh:%d:out" : "sh:%d:ready";
                w->tries_fmt = outside ? "sh:%d:outtries" : "sh:%d:tries";
                w->batch = outside ? st->set.outside_batch : st->set.read_batch;
            }
            if (!w || pthread_create(&st->threads[st->thread_count], NULL, fn, w) != 0) {
                worker_free(w);
                snprintf(err, errcap, "cannot start the notify threads of region %s", st->regions[i].name);
                return -1;
            }
            st->workers[st->thread_count++] = w;
        }
    }
    return 0;
}

void nt_timers_stop(nt_state *st)
{
    atomic_store(&st->stop, true);
    for (int i = 0; i < st->thread_count; i++) {
        pthread_join(st->threads[i], NULL);
        worker_free(st->workers[i]);
        st->workers[i] = NULL;
    }
    st->thread_count = 0;
}
