/* medrep.c: the command-line client for people and scripts.
 *
 *   medrep [--config FILE] status [--json]      every instance of every service
 *   medrep [--config FILE] watch [--count N] [--topic PREFIX]
 *                                               the live event feed
 *
 * The broker endpoint comes from [broker] endpoint (default
 * tcp://127.0.0.1:5555), the feed from [feed] endpoint. Exit status: 0 on
 * success, 1 when something answered with an error, 2 on bad usage. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"
#include "config.h"
#include "errors.h"
#include "events.h"
#include "transport.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: medrep [--config FILE] COMMAND [options]\n"
            "commands:\n"
            "  status [--json]                  every instance of every service, and how it is\n"
            "  watch [--count N] [--topic P]    print events from the live feed as they happen\n"
            "                                   (topic prefix like 'north.' or 'north.call_logged')\n"
            "options:\n"
            "  --config FILE   configuration (default: $MEDREP_CONFIG)\n");
}

/* ---- status ---- */

static Medrep__WorkerListReply *list_workers(mr_client *c, char *msg, size_t cap)
{
    Medrep__WorkerListRequest all = MEDREP__WORKER_LIST_REQUEST__INIT;
    Medrep__WorkerListReply *list = NULL;
    int code = mr_client_rpc(c, "broker", "Workers", NULL, NULL, &all.base,
                             &medrep__worker_list_reply__descriptor, (ProtobufCMessage **)&list,
                             3000, msg, cap);
    return code == MR_OK ? list : NULL;
}

/* Status of one instance; NULL with msg on failure. */
static Medrep__StatusReply *instance_status(mr_client *c, const char *service,
                                            const char *instance, char *msg, size_t cap)
{
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = "Status";
    req.target_instance = (char *)instance;
    Medrep__Reply *reply = mr_client_call(c, service, &req, 3000);
    Medrep__StatusReply *st = NULL;
    if (reply && reply->status && (int)reply->status->code != MR_OK)
        snprintf(msg, cap, "%s: %s", mr_code_name(reply->status->code),
                 reply->status->message ? reply->status->message : "");
    else if (reply)
        st = medrep__status_reply__unpack(NULL, reply->payload.len, reply->payload.data);
    if (reply)
        medrep__reply__free_unpacked(reply, NULL);
    return st;
}

static void print_status_row(const Medrep__WorkerInfo *w, const Medrep__StatusReply *st,
                             const char *error, bool json, bool first)
{
    if (json) {
        printf("%s\n  {\"service\": \"%s\", \"instance\": \"%s\"", first ? "" : ",", w->service,
               w->instance);
        if (st)
            printf(", \"version\": \"%s\", \"uptime_ms\": %lld, \"requests\": %lld, "
                   "\"p50_us\": %lld, \"p99_us\": %lld, \"events\": %lld, \"redis\": \"%s\"}",
                   st->version, (long long)st->uptime_ms, (long long)st->requests_served,
                   (long long)st->handler_p50_us, (long long)st->handler_p99_us,
                   (long long)st->events_handled, st->redis_state);
        else
            printf(", \"error\": \"%s\"}", error);
        return;
    }
    if (!st) {
        printf("%-11s %-34s %s\n", w->service, w->instance, error);
        return;
    }
    printf("%-11s %-34s %-7s %8.1fs %9lld %7lld %7lld %8lld  %s\n", w->service, w->instance,
           st->version, (double)st->uptime_ms / 1000.0, (long long)st->requests_served,
           (long long)st->handler_p50_us, (long long)st->handler_p99_us,
           (long long)st->events_handled, st->redis_state);
}

static int cmd_status(mr_client *c, int argc, char **argv)
{
    bool json = argc > 0 && strcmp(argv[0], "--json") == 0;
    char msg[512];
    Medrep__WorkerListReply *list = list_workers(c, msg, sizeof msg);
    if (!list) {
        fprintf(stderr, "medrep: the broker did not answer: %s\n", msg);
        return 1;
    }
    int failures = 0;
    if (json)
        printf("[");
    else
        printf("%-11s %-34s %-7s %9s %9s %7s %7s %8s  %s\n", "SERVICE", "INSTANCE", "VERSION",
               "UPTIME", "REQUESTS", "P50us", "P99us", "EVENTS", "REDIS");
    for (size_t i = 0; i < list->n_workers; i++) {
        Medrep__WorkerInfo *w = list->workers[i];
        Medrep__StatusReply *st = instance_status(c, w->service, w->instance, msg, sizeof msg);
        failures += st == NULL;
        print_status_row(w, st, msg, json, i == 0);
        if (st)
            medrep__status_reply__free_unpacked(st, NULL);
    }
    if (json)
        printf("\n]\n");
    else
        printf("%zu instance(s)\n", list->n_workers);
    medrep__worker_list_reply__free_unpacked(list, NULL);
    return failures ? 1 : 0;
}

/* ---- watch ---- */

static void print_event(const char *topic, const Medrep__Event *ev)
{
    time_t secs = (time_t)(ev->occurred_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s  %-28s id=%s source=%s\n", when, topic, ev->event_id ? ev->event_id : "-",
           ev->source ? ev->source : "-");
    fflush(stdout);
}

static int cmd_watch(const mr_config *cfg, int argc, char **argv)
{
    long count = -1;
    const char *topic = "";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atol(argv[++i]);
        else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc)
            topic = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    const char *endpoint = mr_config_get(cfg, "feed", "endpoint");
    if (!endpoint) {
        fprintf(stderr, "medrep: no [feed] endpoint in the configuration\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    mr_zmq_harden(sub, MR_DEFAULT_MAX_MSG);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
    zmq_connect(sub, endpoint);
    long seen = 0;
    while (!interrupted && (count < 0 || seen < count)) {
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        mr_frames f;
        int n = mr_zmq_recv_frames(sub, &f, ZMQ_DONTWAIT);
        if (n == 2) {
            Medrep__Event *ev = medrep__event__unpack(NULL, f.frames[1].size, f.frames[1].data);
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)f.frames[0].size, (const char *)f.frames[0].data);
            if (ev) {
                print_event(name, ev);
                medrep__event__free_unpacked(ev, NULL);
                seen++;
            }
        }
        if (n > 0)
            mr_zmq_frames_close(&f);
    }
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = getenv("MEDREP_CONFIG");
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
        config_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        usage();
        return i >= argc ? 2 : 0;
    }
    char err[512];
    mr_config *cfg = mr_config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "medrep: %s\n", err);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    const char *command = argv[i++];
    int rc;
    if (strcmp(command, "watch") == 0) {
        rc = cmd_watch(cfg, argc - i, argv + i);
    } else if (strcmp(command, "status") == 0) {
        mr_client_opts opts = {.broker = mr_config_str(cfg, "broker", "endpoint", "tcp://127.0.0.1:5555")};
        mr_client *c = mr_client_new(&opts);
        rc = c ? cmd_status(c, argc - i, argv + i) : 1;
        mr_client_free(&c);
    } else {
        fprintf(stderr, "medrep: unknown command '%s'\n", command);
        usage();
        rc = 2;
    }
    mr_config_free(&cfg);
    return rc;
}
