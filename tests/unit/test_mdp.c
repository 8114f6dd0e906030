/* test_mdp.c: parsing of the broker protocol's frames (mdp.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mdp.h"

static mdp_frame f(const char *text)
{
    return (mdp_frame){(const uint8_t *)text, strlen(text)};
}

static const uint8_t ready_cmd = MDP_READY, reply_cmd = MDP_REPLY, hb_cmd = MDP_HEARTBEAT,
                     disc_cmd = MDP_DISCONNECT, bogus_cmd = 9;

static void client_request_parses(void **state)
{
    (void)state;
    mdp_frame frames[] = {f("peer1"), f(MDP_CLIENT), f("scoring"), f("body")};
    mdp_inbound in;
    assert_int_equal(mdp_parse_inbound(frames, 4, &in, NULL), 0);
    assert_int_equal(in.kind, MDP_IN_CLIENT_REQUEST);
    assert_int_equal(in.service.size, 7);
    assert_memory_equal(in.body.data, "body", 4);
    assert_memory_equal(in.peer.data, "peer1", 5);
}

static void client_request_rejects_bad_shapes(void **state)
{
    (void)state;
    mdp_inbound in;
    const char *why = NULL;
    mdp_frame three[] = {f("p"), f(MDP_CLIENT), f("scoring")};
    assert_int_equal(mdp_parse_inbound(three, 3, &in, &why), -1);
    assert_non_null(why);
    mdp_frame bad_name[] = {f("p"), f(MDP_CLIENT), f("sco ring"), f("b")};
    assert_int_equal(mdp_parse_inbound(bad_name, 4, &in, &why), -1);
    mdp_frame empty_name[] = {f("p"), f(MDP_CLIENT), f(""), f("b")};
    assert_int_equal(mdp_parse_inbound(empty_name, 4, &in, &why), -1);
    mdp_frame wrong_proto[] = {f("p"), f("MRC2"), f("scoring"), f("b")};
    assert_int_equal(mdp_parse_inbound(wrong_proto, 4, &in, &why), -1);
    mdp_frame no_peer[] = {f(""), f(MDP_CLIENT), f("scoring"), f("b")};
    assert_int_equal(mdp_parse_inbound(no_peer, 4, &in, &why), -1);
    assert_int_equal(mdp_parse_inbound(no_peer, 1, &in, &why), -1);
    assert_int_equal(mdp_parse_inbound(no_peer, MDP_MAX_FRAMES + 1, &in, &why), -1);
}

static void worker_ready_parses_credits(void **state)
{
    (void)state;
    mdp_frame frames[] = {f("w"), f(MDP_WORKER), {&ready_cmd, 1}, f("notify"), f("notify-1"), f("16")};
    mdp_inbound in;
    assert_int_equal(mdp_parse_inbound(frames, 6, &in, NULL), 0);
    assert_int_equal(in.kind, MDP_IN_WORKER_READY);
    assert_int_equal(in.credits, 16);
    frames[5] = f("0");
    assert_int_equal(mdp_parse_inbound(frames, 6, &in, NULL), -1);
    frames[5] = f("1025");
    assert_int_equal(mdp_parse_inbound(frames, 6, &in, NULL), -1);
    frames[5] = f("1024");
    assert_int_equal(mdp_parse_inbound(frames, 6, &in, NULL), 0);
    frames[5] = f("1x");
    assert_int_equal(mdp_parse_inbound(frames, 6, &in, NULL), -1);
    frames[5] = f("");
    assert_int_equal(mdp_parse_inbound(frames, 6, &in, NULL), -1);
}

static void worker_reply_heartbeat_disconnect(void **state)
{
    (void)state;
    mdp_inbound in;
    mdp_frame reply[] = {f("w"), f(MDP_WORKER), {&reply_cmd, 1}, f("client"), f("rid"), f("b")};
    assert_int_equal(mdp_parse_inbound(reply, 6, &in, NULL), 0);
    assert_int_equal(in.kind, MDP_IN_WORKER_REPLY);
    assert_memory_equal(in.request_id.data, "rid", 3);
    reply[3] = f("");
    assert_int_equal(mdp_parse_inbound(reply, 6, &in, NULL), -1);
    mdp_frame hb[] = {f("w"), f(MDP_WORKER), {&hb_cmd, 1}, f("extra")};
    assert_int_equal(mdp_parse_inbound(hb, 3, &in, NULL), 0);
    assert_int_equal(in.kind, MDP_IN_WORKER_HEARTBEAT);
    assert_int_equal(mdp_parse_inbound(hb, 4, &in, NULL), -1);
    mdp_frame disc[] = {f("w"), f(MDP_WORKER), {&disc_cmd, 1}};
    assert_int_equal(mdp_parse_inbound(disc, 3, &in, NULL), 0);
    assert_int_equal(in.kind, MDP_IN_WORKER_DISCONNECT);
    mdp_frame bogus[] = {f("w"), f(MDP_WORKER), {&bogus_cmd, 1}};
    assert_int_equal(mdp_parse_inbound(bogus, 3, &in, NULL), -1);
    mdp_frame long_cmd[] = {f("w"), f(MDP_WORKER), f("ab")};
    assert_int_equal(mdp_parse_inbound(long_cmd, 3, &in, NULL), -1);
}

static void names_are_validated(void **state)
{
    (void)state;
    assert_true(mdp_name_valid((const uint8_t *)"scoring-1.host_a", 16));
    assert_false(mdp_name_valid((const uint8_t *)"a/b", 3));
    assert_false(mdp_name_valid((const uint8_t *)"", 0));
    char longname[MDP_MAX_NAME + 2];
    memset(longname, 'a', sizeof longname);
    assert_true(mdp_name_valid((const uint8_t *)longname, MDP_MAX_NAME));
    assert_false(mdp_name_valid((const uint8_t *)longname, MDP_MAX_NAME + 1));
}

static void worker_and_client_side_parse(void **state)
{
    (void)state;
    static const uint8_t request = MDP_REQUEST, heartbeat = MDP_HEARTBEAT;
    mdp_frame req[] = {f(MDP_WORKER), {&request, 1}, f("client"), f("rid"), f("body")};
    mdp_to_worker w;
    assert_int_equal(mdp_parse_to_worker(req, 5, &w), 0);
    assert_int_equal(w.command, MDP_REQUEST);
    assert_memory_equal(w.body.data, "body", 4);
    assert_int_equal(mdp_parse_to_worker(req, 4, &w), -1);
    req[2] = f("");
    assert_int_equal(mdp_parse_to_worker(req, 5, &w), -1);
    mdp_frame hb[] = {f(MDP_WORKER), {&heartbeat, 1}};
    assert_int_equal(mdp_parse_to_worker(hb, 2, &w), 0);
    assert_int_equal(w.command, MDP_HEARTBEAT);
    mdp_frame wrong[] = {f(MDP_CLIENT), {&heartbeat, 1}};
    assert_int_equal(mdp_parse_to_worker(wrong, 2, &w), -1);

    mdp_frame reply[] = {f(MDP_CLIENT), f("scoring"), f("payload")};
    mdp_frame body;
    assert_int_equal(mdp_parse_to_client(reply, 3, &body), 0);
    assert_int_equal(body.size, 7);
    assert_int_equal(mdp_parse_to_client(reply, 2, &body), -1);
    reply[1] = f("bad name");
    assert_int_equal(mdp_parse_to_client(reply, 3, &body), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_request_parses),
        cmocka_unit_test(client_request_rejects_bad_shapes),
        cmocka_unit_test(worker_ready_parses_credits),
        cmocka_unit_test(worker_reply_heartbeat_disconnect),
        cmocka_unit_test(names_are_validated),
        cmocka_unit_test(worker_and_client_side_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
