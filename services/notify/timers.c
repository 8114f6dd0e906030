/* timers.c: starts and stops the durable timers: a mover thread
 * (mover.c) and a sender thread (sender.c) per region, each with its own
 * store connection. */
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

int nt_timers_start(nt_state *st, char *err, size_t errcap)
{
    for (int i = 0; i < st->region_count; i++) {
        for (int role = 0; role < 2; role++) {
            nt_worker *w = worker_new(st, &st->regions[i], role ? "sender" : "mover");
            if (!w || pthread_create(&st->threads[st->thread_count], NULL,
                                     role ? nt_sender_main : nt_mover_main, w) != 0) {
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
