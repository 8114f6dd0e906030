/* cmd_watch.c: `medrep watch`: prints events from the broker's live feed
 * (a ZeroMQ SUB on [feed] endpoint) as they happen: a line each, or with
 * --json one JSON object a line ({"topic": ..., "event": {...}}). The
 * feed's heartbeats are not printed. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "cli.h"
#include "events.h"
#include "pbjson.h"

static void print_event(const char *topic, const Medrep__Event *ev, bool json)
{
    if (json) {   /* one JSON object a line, for scripts */
        json_t *o = json_pack("{s:s, s:o}", "topic", topic, "event", mr_pb_to_json(&ev->base));
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        fflush(stdout);
        json_decref(o);
        return;
    }
    time_t secs = (time_t)(ev->occurred_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s  %-28s id=%s source=%s\n", when, topic, ev->event_id ? ev->event_id : "-",
           ev->source ? ev->source : "-");
    fflush(stdout);
}

static int run_watch(cli_ctx *ctx, int argc, char **argv)
{
    long count = -1;
    const char *topic = "";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atol(argv[++i]);
        else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc)
            topic = argv[++i];
        else {
            cli_error("unexpected argument '%s' (see medrep watch --help)", argv[i]);
            return 2;
        }
    }
    const char *endpoint = mr_config_get(ctx->cfg, "feed", "endpoint");
    if (!endpoint) {
        cli_error("no [feed] endpoint in the configuration");
        return 2;
    }
    void *zctx = zmq_ctx_new();
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    mr_zmq_harden(sub, MR_DEFAULT_MAX_MSG);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
    zmq_connect(sub, endpoint);
    long seen = 0;
    while (!cli_interrupted() && (count < 0 || seen < count)) {
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        mr_frames f;
        int n = mr_zmq_recv_frames(sub, &f, ZMQ_DONTWAIT);
        /* an event is topic, body and sequence; heartbeats are skipped */
        if (n >= 2 && !mr_feed_is_heartbeat(f.frames[0].data, f.frames[0].size)) {
            Medrep__Event *ev = medrep__event__unpack(NULL, f.frames[1].size, f.frames[1].data);
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)f.frames[0].size, (const char *)f.frames[0].data);
            if (ev) {
                print_event(name, ev, ctx->json);
                medrep__event__free_unpacked(ev, NULL);
                seen++;
            }
        }
        if (n > 0)
            mr_zmq_frames_close(&f);
    }
    zmq_close(sub);
    zmq_ctx_term(zctx);
    return 0;
}

const cli_command cli_cmd_watch = {
    .name = "watch",
    .summary = "print events from the live feed as they happen",
    .usage = "medrep watch [--count N] [--topic PREFIX]\n"
             "  PREFIX selects events by topic '<region>.<type>', e.g. 'north.' or\n"
             "  'north.call_logged'. Stops after N events, or on Ctrl-C.\n"
             "  With --json: one JSON object a line, {\"topic\": ..., \"event\": {...}}.\n",
    .run = run_watch,
};
