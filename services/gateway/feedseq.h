/* feedseq.h: the gateway's check of the live feed's sequence numbers and
 * heartbeats (see events.h, "The live feed"): whether the cached answers
 * can still be trusted to be dropped by events. A message whose counter
 * is not the next of its session (a gap), a message of another session
 * (the broker restarted) or no message for silence_ms means events may
 * have been lost: the whole cache must go, and while the feed is silent
 * nothing may be cached.
 *
 * Pure: no I/O, no clock (times are passed in). Not thread-safe: the
 * dispatcher alone owns one. */
#ifndef MEDREP_GW_FEEDSEQ_H
#define MEDREP_GW_FEEDSEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    GW_FEED_NEXT,          /* the expected next message: nothing lost */
    GW_FEED_FIRST,         /* the first message heard (or after silence) */
    GW_FEED_GAP,           /* messages of this session were lost */
    GW_FEED_NEW_SESSION,   /* another publisher session: its past was not seen */
} gw_feed_verdict;

typedef struct {
    bool live;             /* a message came within silence_ms */
    uint64_t session, counter;
    int64_t last_ms;       /* when the last message came */
    int silence_ms;
} gw_feedseq;

void gw_feedseq_init(gw_feedseq *s, int silence_ms);

/* Takes a message's sequence at now_ms. GW_FEED_GAP and
 * GW_FEED_NEW_SESSION mean events were missed: drop the whole cache.
 * GW_FEED_FIRST: nothing was known before (at the start, or after a
 * silence, which already dropped everything). Afterwards the feed is live. */
gw_feed_verdict gw_feedseq_take(gw_feedseq *s, uint64_t session, uint64_t counter, int64_t now_ms);

/* Whether the feed went silent at now_ms: true once, on the first check
 * past silence_ms since the last message (drop the whole cache then);
 * the feed stays not live until the next message. */
bool gw_feedseq_went_silent(gw_feedseq *s, int64_t now_ms);

#endif
