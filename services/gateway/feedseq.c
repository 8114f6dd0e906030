/* feedseq.c: the live feed's sequence and silence check (see feedseq.h). */
#include "feedseq.h"

void gw_feedseq_init(gw_feedseq *s, int silence_ms)
{
    *s = (gw_feedseq){.silence_ms = silence_ms};
}

gw_feed_verdict gw_feedseq_take(gw_feedseq *s, uint64_t session, uint64_t counter, int64_t now_ms)
{
    gw_feed_verdict v;
    if (!s->live)
        v = GW_FEED_FIRST;
    else if (session != s->session)
        v = GW_FEED_NEW_SESSION;
    else if (counter != s->counter + 1)
        v = GW_FEED_GAP;
    else
        v = GW_FEED_NEXT;
    s->live = true;
    s->session = session;
    s->counter = counter;
    s->last_ms = now_ms;
    return v;
}

bool gw_feedseq_went_silent(gw_feedseq *s, int64_t now_ms)
{
    if (!s->live || now_ms - s->last_ms <= s->silence_ms)
        return false;
    s->live = false;
    return true;
}
