/* main.c of the broker process: reads the configuration, binds the
 * request socket (and the live event feed when configured), and runs
 * until SIGTERM or SIGINT.
 *
 *   broker [--config FILE]
 *
 * Keys: [broker] endpoint, heartbeat_ms, liveness, max_per_client,
 * max_msg_bytes, services (known service names), log_level;
 * [feed] endpoint (a PUB address; absent: no feed). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "broker.h"
#include "cli_args.h"
#include "config.h"
#include "events.h"
#include "log.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int read_opts(const mr_config *cfg, broker_opts *o, char *err, size_t errcap)
{
    long long hb, live, per_client, max_msg;
    if (mr_config_int(cfg, "broker", "heartbeat_ms", 1000, 10, 600000, &hb, err, errcap) ||
        mr_config_int(cfg, "broker", "liveness", 3, 1, 100, &live, err, errcap) ||
        mr_config_int(cfg, "broker", "max_per_client", 1000, 1, 1000000, &per_client, err, errcap) ||
        mr_config_int(cfg, "broker", "max_msg_bytes", 4 << 20, 1024, 1 << 30, &max_msg, err, errcap))
        return -1;
    o->endpoint = mr_config_str(cfg, "broker", "endpoint", "tcp://127.0.0.1:5555");
    o->heartbeat_ms = (int)hb;
    o->liveness = (int)live;
    o->max_per_client = (int)per_client;
    o->max_msg = max_msg;
    o->known_services = mr_config_str(cfg, "broker", "services", "scoring,scheduling,meetings,notify");
    return 0;
}

int main(int argc, char **argv)
{
    mr_cli_args args;
    int usage = mr_cli_args_parse(argc, argv, &args);
    if (usage != 0)
        return usage == 1 ? 0 : 2;
    char err[512];
    mr_config *cfg = mr_config_load(args.config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "broker: %s\n", err);
        return 2;
    }
    const char *level_name = mr_config_str(cfg, "broker", "log_level", "info");
    int level = mr_log_level_parse(level_name);
    if (level < 0) {
        fprintf(stderr, "broker: log_level '%s' is not one of debug, info, warn, error\n", level_name);
        mr_config_free(&cfg);
        return 2;
    }
    mr_log_init("broker", (mr_log_level)level);
    broker_opts opts;
    if (read_opts(cfg, &opts, err, sizeof err) != 0) {
        fprintf(stderr, "broker: %s\n", err);
        mr_config_free(&cfg);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    void *ctx = zmq_ctx_new();
    broker *b = broker_new(ctx, &opts);
    if (!b) {
        fprintf(stderr, "broker: cannot bind %s: %s\n", opts.endpoint, zmq_strerror(errno));
        zmq_ctx_term(ctx);
        mr_config_free(&cfg);
        return 1;
    }
    mr_feed *feed = NULL;
    const char *feed_endpoint = mr_config_get(cfg, "feed", "endpoint");
    if (feed_endpoint && feed_endpoint[0]) {
        feed = mr_feed_start(ctx, cfg, feed_endpoint, err, sizeof err);
        if (!feed)
            mr_warn("feed_not_started", "why=\"%s\"", err);
    }
    mr_info("broker_started", "endpoint=%s feed=%s", opts.endpoint, feed ? feed_endpoint : "-");
    broker_run(b, &stop_requested);
    mr_info("broker_stopping", "signal=1");
    mr_feed_stop(&feed);
    broker_free(&b);
    zmq_ctx_term(ctx);
    mr_config_free(&cfg);
    return 0;
}
