/* cmd_status.c: `medrep status`: every instance of every service, asked
 * one by one through the broker (Status with target_instance). Exits 1
 * when an instance does not answer or reports its Redis unreachable. */
#include <stdio.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "errors.h"

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

/* One instance as a JSON object (caller owns the reference). */
static json_t *status_json(const Medrep__WorkerInfo *w, const Medrep__StatusReply *st,
                           const char *error)
{
    json_t *o = json_pack("{s:s, s:s}", "service", w->service, "instance", w->instance);
    if (!st) {
        json_object_set_new(o, "error", json_string(error));
        return o;
    }
    json_object_set_new(o, "version", json_string(st->version));
    json_object_set_new(o, "uptime_ms", json_integer(st->uptime_ms));
    json_object_set_new(o, "requests", json_integer(st->requests_served));
    json_object_set_new(o, "p50_us", json_integer(st->handler_p50_us));
    json_object_set_new(o, "p99_us", json_integer(st->handler_p99_us));
    json_object_set_new(o, "events", json_integer(st->events_handled));
    json_object_set_new(o, "redis", json_string(st->redis_state));
    return o;
}

static void print_status_row(const Medrep__WorkerInfo *w, const Medrep__StatusReply *st,
                             const char *error)
{
    if (!st) {
        printf("%-11s %-34s %s\n", w->service, w->instance, error);
        return;
    }
    printf("%-11s %-34s %-7s %8.1fs %9lld %7lld %7lld %8lld  %s\n", w->service, w->instance,
           st->version, (double)st->uptime_ms / 1000.0, (long long)st->requests_served,
           (long long)st->handler_p50_us, (long long)st->handler_p99_us,
           (long long)st->events_handled, st->redis_state);
}

static int run_status(cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bool json = ctx->json;
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    char msg[512];
    Medrep__WorkerListReply *list = list_workers(c, msg, sizeof msg);
    if (!list) {
        cli_error("the broker did not answer: %s", msg);
        return 1;
    }
    int failures = 0;
    json_t *array = json ? json_array() : NULL;
    if (!json)
        printf("%-11s %-34s %-7s %9s %9s %7s %7s %8s  %s\n", "SERVICE", "INSTANCE", "VERSION",
               "UPTIME", "REQUESTS", "P50us", "P99us", "EVENTS", "REDIS");
    for (size_t i = 0; i < list->n_workers; i++) {
        Medrep__WorkerInfo *w = list->workers[i];
        Medrep__StatusReply *st = instance_status(c, w->service, w->instance, msg, sizeof msg);
        failures += st == NULL || strcmp(st->redis_state, "ok") != 0;
        if (json)
            json_array_append_new(array, status_json(w, st, msg));
        else
            print_status_row(w, st, msg);
        if (st)
            medrep__status_reply__free_unpacked(st, NULL);
    }
    if (json) {
        json_dumpf(array, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(array);
    } else {
        printf("%zu instance(s)\n", list->n_workers);
    }
    medrep__worker_list_reply__free_unpacked(list, NULL);
    return failures ? 1 : 0;
}

const cli_command cli_cmd_status = {
    .name = "status",
    .summary = "every instance of every service, and how it is",
    .usage = "medrep status [--json]\n"
             "  Lists each instance registered with the broker with its version, uptime,\n"
             "  requests served, handler time p50/p99 (us), events handled and Redis state.\n",
    .run = run_status,
};
