/* worker.h: what the timer threads of the notify service share (private
 * to mover.c, sender.c and timers.c): one worker per thread, with its own
 * store connection to its region's Redis. A sender reads either the
 * shards' ready streams (reminders: the inbox, and handing outside
 * channels on) or their outside streams (one webhook or e-mail try each),
 * so a slow endpoint never holds up the inbox. */
#ifndef MEDREP_NOTIFY_WORKER_H
#define MEDREP_NOTIFY_WORKER_H

#include <unistd.h>

#include "notify.h"

typedef struct {
    nt_state *st;
    const char *region;         /* borrowed from st */
    mr_store *store;            /* this thread's own */
    mr_tx *tx;
    char instance[96];          /* "<instance>-mover" / "-sender[N]" / "-outside[N]" */
    bool outside;               /* a sender of the outside-channel streams */
    const char *stream_fmt;     /* senders: "sh:%d:ready" or "sh:%d:out" */
    const char *tries_fmt;      /* and its tries hash */
    int batch;                  /* entries per read */
    int64_t last_claim_ms;
    unsigned seed;              /* jitter of retries (rand_r) */
} nt_worker;

static inline bool nt_stopping(const nt_worker *w)
{
    return atomic_load(&w->st->stop);
}

/* Sleeps ms in slices, returning early on stop. */
static inline void nt_nap(const nt_worker *w, int ms)
{
    for (int left = ms; left > 0 && !nt_stopping(w); left -= 50)
        usleep((useconds_t)(left < 50 ? left : 50) * 1000);
}

void *nt_mover_main(void *arg);
void *nt_sender_main(void *arg);

#endif
