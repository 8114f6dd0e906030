/* test_gateway_feedseq.c: the gateway's check of the live feed's
 * sequence numbers and heartbeats (feedseq.c): the next message, a gap,
 * a new session, silence and the return after it; and the cache's
 * clear-all (cache.c) that a failed check triggers, including an answer
 * computed before the clear being refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"
#include "events.h"
#include "feedseq.h"

static void first_then_next(void **state)
{
    (void)state;
    gw_feedseq s;
    gw_feedseq_init(&s, 3000);
    assert_false(s.live);
    assert_int_equal(gw_feedseq_take(&s, 7, 41, 1000), GW_FEED_FIRST);
    assert_true(s.live);
    assert_int_equal(gw_feedseq_take(&s, 7, 42, 1100), GW_FEED_NEXT);
    assert_int_equal(gw_feedseq_take(&s, 7, 43, 1200), GW_FEED_NEXT);
}

static void gap_is_detected(void **state)
{
    (void)state;
    gw_feedseq s;
    gw_feedseq_init(&s, 3000);
    gw_feedseq_take(&s, 7, 1, 0);
    assert_int_equal(gw_feedseq_take(&s, 7, 3, 10), GW_FEED_GAP);     /* 2 was lost */
    assert_int_equal(gw_feedseq_take(&s, 7, 4, 20), GW_FEED_NEXT);    /* counted from 3 again */
    assert_int_equal(gw_feedseq_take(&s, 7, 4, 30), GW_FEED_GAP);     /* a repeat is not the next */
    assert_int_equal(gw_feedseq_take(&s, 7, 2, 40), GW_FEED_GAP);     /* nor one going back */
}

static void new_session_is_detected(void **state)
{
    (void)state;
    gw_feedseq s;
    gw_feedseq_init(&s, 3000);
    gw_feedseq_take(&s, 7, 10, 0);
    /* a restarted feed starts at 1; even a counter that happens to follow is another session */
    assert_int_equal(gw_feedseq_take(&s, 8, 11, 10), GW_FEED_NEW_SESSION);
    assert_int_equal(gw_feedseq_take(&s, 8, 12, 20), GW_FEED_NEXT);
    assert_int_equal(gw_feedseq_take(&s, 9, 1, 30), GW_FEED_NEW_SESSION);
}

static void silence_once_then_first_again(void **state)
{
    (void)state;
    gw_feedseq s;
    gw_feedseq_init(&s, 3000);
    assert_false(gw_feedseq_went_silent(&s, 100000));   /* never heard: not live, nothing to report */
    gw_feedseq_take(&s, 7, 1, 1000);
    assert_false(gw_feedseq_went_silent(&s, 4000));     /* exactly the silence: still live */
    assert_true(s.live);
    assert_true(gw_feedseq_went_silent(&s, 4001));
    assert_false(s.live);
    assert_false(gw_feedseq_went_silent(&s, 9000));     /* reported once */
    /* back, even with the next counter: what came in between is unknown */
    assert_int_equal(gw_feedseq_take(&s, 7, 2, 9000), GW_FEED_FIRST);
    assert_true(s.live);
}

static void heartbeats_keep_it_live(void **state)
{
    (void)state;
    gw_feedseq s;
    gw_feedseq_init(&s, 3000);
    gw_feedseq_take(&s, 7, 1, 0);
    for (uint64_t i = 2; i < 100; i++) {
        int64_t now = (int64_t)i * 1000;
        assert_false(gw_feedseq_went_silent(&s, now));
        assert_int_equal(gw_feedseq_take(&s, 7, i, now), GW_FEED_NEXT);
    }
    assert_true(s.live);
}

static void sequence_frame_round_trip(void **state)
{
    (void)state;
    mr_feed_seq in = {.session = 0x0123456789abcdefULL, .counter = 0xfedcba9876543210ULL}, out;
    uint8_t buf[MR_FEED_SEQ_BYTES];
    mr_feed_seq_encode(&in, buf);
    assert_true(mr_feed_seq_decode(buf, sizeof buf, &out));
    assert_true(out.session == in.session && out.counter == in.counter);
    assert_int_equal(buf[0], 0x01);   /* big-endian */
    assert_false(mr_feed_seq_decode(buf, sizeof buf - 1, &out));
    assert_false(mr_feed_seq_decode(NULL, 0, &out));
    assert_true(mr_feed_is_heartbeat(MR_FEED_HEARTBEAT_TOPIC, strlen(MR_FEED_HEARTBEAT_TOPIC)));
    assert_false(mr_feed_is_heartbeat("north.inbox_read", 16));
    assert_false(mr_feed_is_heartbeat("~heart", 6));
}

static void cache_clear_drops_all_and_refuses_older_answers(void **state)
{
    (void)state;
    gw_cache *c = gw_cache_new(100, 1024);
    assert_non_null(c);
    const gw_cache_tag a = {"inbox", "north", "P1"}, b = {"plan", "south", "R1"};
    assert_true(gw_cache_put(c, "a", &a, gw_cache_epoch(c), 0, 60000, "A", 1, NULL));
    assert_true(gw_cache_put(c, "b", &b, gw_cache_epoch(c), 0, 60000, "B", 1, NULL));
    uint64_t before = gw_cache_epoch(c);   /* a read in flight across the clear */
    assert_int_equal(gw_cache_clear(c), 2);
    char *body = NULL;
    size_t len;
    const char *type;
    assert_int_equal(gw_cache_get(c, "a", 1, &body, &len, &type), 0);
    assert_int_equal(gw_cache_get(c, "b", 1, &body, &len, &type), 0);
    assert_false(gw_cache_put(c, "a", &a, before, 2, 60000, "old", 3, NULL));
    assert_true(gw_cache_put(c, "a", &a, gw_cache_epoch(c), 3, 60000, "new", 3, NULL));
    assert_int_equal(gw_cache_get(c, "a", 4, &body, &len, &type), 1);
    assert_string_equal(body, "new");
    free(body);
    gw_cache_stats st;
    gw_cache_stats_get(c, &st);
    assert_int_equal(st.clears, 1);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.refused, 1);
    assert_int_equal(gw_cache_clear(c), 1);
    gw_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_then_next),
        cmocka_unit_test(gap_is_detected),
        cmocka_unit_test(new_session_is_detected),
        cmocka_unit_test(silence_once_then_first_again),
        cmocka_unit_test(heartbeats_keep_it_live),
        cmocka_unit_test(sequence_frame_round_trip),
        cmocka_unit_test(cache_clear_drops_all_and_refuses_older_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
