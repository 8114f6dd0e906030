/* main.c of the scheduling service: plans each rep's quarter, month, week
 * and day of calls (DOMAIN.md section 3). The service shell (common/
 * service.h) runs the methods of handlers.c and attain.c and the event
 * handler of events_in.c; init loads every region's time zone and work
 * calendar, checks the [scheduling] norms once and starts the ticker
 * (ticker.c: the daily pace check and the debounced replans). */
#include <stdio.h>
#include <stdlib.h>

#include "scheduling_svc.h"

static int init(mr_service *svc, const mr_config *cfg, char *err, size_t errcap)
{
    sched_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    sc_norms n;
    if (sched_state_init(st, cfg, err, errcap) != 0 || sc_norms_load(cfg, NULL, &n, err, errcap) != 0) {
        sched_state_fini(st);
        free(st);
        return -1;
    }
    mr_service_set_state(svc, st);
    st->ticker = sched_ticker_start(st, cfg, mr_service_instance(svc));
    return 0;
}

static void fini(mr_service *svc)
{
    sched_state *st = mr_service_state(svc);
    if (st) {
        sched_ticker_stop(&st->ticker);
        sched_state_fini(st);
        free(st);
        mr_service_set_state(svc, NULL);
    }
}

int main(int argc, char **argv)
{
    /* the types sched_on_event acts on; others are acknowledged in batches */
    static const char *const handled[] = {"customer_regraded", "meeting_changed", "follow_up_due", NULL};
    mr_service_def def = {.name = "scheduling",
                          .methods = sched_methods,
                          .method_count = sched_method_count,
                          .on_event = sched_on_event,
                          .event_types = handled,
                          .init = init,
                          .fini = fini};
    return mr_service_main(&def, argc, argv);
}
