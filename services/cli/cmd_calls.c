/* cmd_calls.c: `medrep calls ...`: report a call (log), cancel, move,
 * pin or unpin a planned call, add one by hand, and record time off,
 * through the scheduling service. Times are the region's local time,
 * "YYYY-MM-DD HH:MM". */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "errors.h"
#include "pbjson.h"
#include "scheduling.pb-c.h"

#define LIST_MAX 16

/* The configured time zone of the command's region. Caller frees. */

/* With --json, prints the reply message as JSON and returns true. */
static bool json_out(const cli_ctx *ctx, const ProtobufCMessage *m)
{
    if (!ctx->json)
        return false;
    json_t *o = mr_pb_to_json(m);
    json_dumpf(o, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(o);
    return true;
}
static mr_tz *region_tz(const cli_ctx *ctx)
{
    mr_region_cfg *r = calloc(64, sizeof *r);
    char err[256];
    int n = r ? mr_config_regions(ctx->cfg, r, 64, err, sizeof err) : 0;
    mr_tz *tz = NULL;
    for (int i = 0; i < n && !tz; i++)
        if (ctx->region && !strcmp(r[i].name, ctx->region))
            tz = mr_tz_load(r[i].timezone[0] ? r[i].timezone : "UTC");
    free(r);
    return tz ? tz : mr_tz_load("UTC");
}

/* "YYYY-MM-DD HH:MM" (or with 'T') in tz -> ms. 0 or -1. */
static int parse_local(const mr_tz *tz, const char *t, int64_t *ms)
{
    int y, m, d, hh, mm, n = 0;
    char sep;
    if (!t || sscanf(t, "%4d-%2d-%2d%c%2d:%2d%n", &y, &m, &d, &sep, &hh, &mm, &n) != 6 || t[n] ||
        (sep != ' ' && sep != 'T') || !mr_date_valid(y, m, d) || hh > 23 || mm > 59)
        return -1;
    *ms = mr_tz_from_local(tz, y, m, d, hh, mm, 0) * 1000;
    return 0;
}

static int call_rpc(cli_ctx *ctx, const char *method, const ProtobufCMessage *in,
                    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", method, ctx->region, NULL, in, desc, out, 30000, msg, sizeof msg);
    if (code != MR_OK) {
        cli_error("calls %s: %s: %s", method, mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    return 0;
}

typedef struct {
    const char *rep, *customer, *product, *call, *commitment, *notes, *start, *next;
    char *objectives[LIST_MAX], *messages[LIST_MAX], *materials[LIST_MAX], *needs[LIST_MAX];
    size_t nobj, nmsg, nmat, nneed;
    int duration, stage;
} log_args;

static int add_item(char **list, size_t *n, char *v)
{
    if (*n >= LIST_MAX)
        return -1;
    list[(*n)++] = v;
    return 0;
}

static int parse_log(int argc, char **argv, log_args *a)
{
    memset(a, 0, sizeof *a);
    a->stage = -1;
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        i++;
        int rc = 0;
        if (!strcmp(k, "--rep")) a->rep = v;
        else if (!strcmp(k, "--customer")) a->customer = v;
        else if (!strcmp(k, "--product")) a->product = v;
        else if (!strcmp(k, "--call")) a->call = v;
        else if (!strcmp(k, "--start")) a->start = v;
        else if (!strcmp(k, "--next")) a->next = v;
        else if (!strcmp(k, "--commitment")) a->commitment = v;
        else if (!strcmp(k, "--notes")) a->notes = v;
        else if (!strcmp(k, "--duration")) a->duration = atoi(v);
        else if (!strcmp(k, "--stage")) a->stage = atoi(v);
        else if (!strcmp(k, "--objective")) rc = add_item(a->objectives, &a->nobj, v);
        else if (!strcmp(k, "--message")) rc = add_item(a->messages, &a->nmsg, v);
        else if (!strcmp(k, "--material")) rc = add_item(a->materials, &a->nmat, v);
        else if (!strcmp(k, "--need")) rc = add_item(a->needs, &a->nneed, v);
        else return -1;
        if (rc)
            return -1;
    }
    return a->rep && a->customer && a->start ? 0 : -1;
}

static int cmd_log(cli_ctx *ctx, int argc, char **argv, const mr_tz *tz)
{
    log_args a;
    Medrep__CallReport r = MEDREP__CALL_REPORT__INIT;
    if (parse_log(argc, argv, &a) != 0 || parse_local(tz, a.start, &r.start_ms) != 0 ||
        (a.next && parse_local(tz, a.next, &r.next_appointment_ms) != 0)) {
        cli_error("calls log: want --rep R --customer C --start 'YYYY-MM-DD HH:MM' --objective X (3 or more) ...");
        return 2;
    }
    r.has_start_ms = true;
    r.has_next_appointment_ms = a.next != NULL;
    r.call_id = (char *)a.call;
    r.rep_id = (char *)a.rep;
    r.customer_id = (char *)a.customer;
    r.product_id = (char *)a.product;
    r.objectives = a.objectives, r.n_objectives = a.nobj;
    r.key_messages = a.messages, r.n_key_messages = a.nmsg;
    r.materials = a.materials, r.n_materials = a.nmat;
    r.need_keywords = a.needs, r.n_need_keywords = a.nneed;
    r.commitment = (char *)a.commitment;
    r.notes = (char *)a.notes;
    r.duration_min = a.duration, r.has_duration_min = a.duration > 0;
    r.adoption_stage_after = a.stage, r.has_adoption_stage_after = true;
    Medrep__LogCallRequest req = MEDREP__LOG_CALL_REQUEST__INIT;
    req.report = &r;
    Medrep__LogCallReply *out = NULL;
    int rc = call_rpc(ctx, "LogCall", &req.base, &medrep__log_call_reply__descriptor, (ProtobufCMessage **)&out);
    if (rc == 0 && !json_out(ctx, &out->base)) {
        printf("call %s submitted and locked\n", out->call_id);
        if (out->next_call_id && out->next_call_id[0])
            printf("next appointment planned as %s\n", out->next_call_id);
    }
    if (rc == 0) {
        medrep__log_call_reply__free_unpacked(out, NULL);
    }
    return rc;
}

static int cmd_cancel(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__CancelCallRequest req = MEDREP__CANCEL_CALL_REQUEST__INIT;
    if (argc < 1 || (argc == 3 && strcmp(argv[1], "--reason")) || (argc != 1 && argc != 3)) {
        cli_error("calls cancel: want CALL_ID [--reason TEXT]");
        return 2;
    }
    req.call_id = argv[0];
    req.reason = argc == 3 ? argv[2] : NULL;
    Medrep__CancelCallReply *out = NULL;
    int rc = call_rpc(ctx, "CancelCall", &req.base, &medrep__cancel_call_reply__descriptor, (ProtobufCMessage **)&out);
    if (rc == 0) {
        if (!json_out(ctx, &out->base))
            printf("call %s cancelled; the rest of the month was replanned\n", argv[0]);
        medrep__cancel_call_reply__free_unpacked(out, NULL);
    }
    return rc;
}

static int cmd_update(cli_ctx *ctx, int argc, char **argv, const mr_tz *tz, const char *what)
{
    Medrep__UpdateCallRequest req = MEDREP__UPDATE_CALL_REQUEST__INIT;
    bool move = !strcmp(what, "move");
    if (argc != (move ? 2 : 1) || (move && parse_local(tz, argv[1], &req.start_ms) != 0)) {
        cli_error(move ? "calls move: want CALL_ID 'YYYY-MM-DD HH:MM'" : "calls pin|unpin: want CALL_ID");
        return 2;
    }
    req.call_id = argv[0];
    req.has_start_ms = move;
    req.has_pinned = !move;
    req.pinned = !strcmp(what, "pin");
    Medrep__UpdateCallReply *out = NULL;
    int rc = call_rpc(ctx, "UpdateCall", &req.base, &medrep__update_call_reply__descriptor, (ProtobufCMessage **)&out);
    if (rc == 0) {
        if (!json_out(ctx, &out->base))
            printf("call %s %s\n", argv[0], move ? "moved and pinned" : (req.pinned ? "pinned" : "unpinned"));
        medrep__update_call_reply__free_unpacked(out, NULL);
    }
    return rc;
}

static int cmd_add(cli_ctx *ctx, int argc, char **argv, const mr_tz *tz)
{
    Medrep__AddCallRequest req = MEDREP__ADD_CALL_REQUEST__INIT;
    if (argc != 3 || parse_local(tz, argv[2], &req.start_ms) != 0) {
        cli_error("calls add: want REP CUSTOMER 'YYYY-MM-DD HH:MM'");
        return 2;
    }
    req.rep_id = argv[0];
    req.customer_id = argv[1];
    req.has_start_ms = true;
    Medrep__AddCallReply *out = NULL;
    int rc = call_rpc(ctx, "AddCall", &req.base, &medrep__add_call_reply__descriptor, (ProtobufCMessage **)&out);
    if (rc == 0) {
        if (!json_out(ctx, &out->base))
            printf("call %s added (pinned)\n", out->call_id);
        medrep__add_call_reply__free_unpacked(out, NULL);
    }
    return rc;
}

static int cmd_timeoff(cli_ctx *ctx, int argc, char **argv, const mr_tz *tz)
{
    Medrep__TimeOffRequest req = MEDREP__TIME_OFF_REQUEST__INIT;
    if (argc < 3 || argc > 4 || parse_local(tz, argv[1], &req.start_ms) != 0 ||
        parse_local(tz, argv[2], &req.end_ms) != 0) {
        cli_error("calls timeoff: want REP 'FROM YYYY-MM-DD HH:MM' 'TO YYYY-MM-DD HH:MM' [REASON]");
        return 2;
    }
    req.rep_id = argv[0];
    req.has_start_ms = req.has_end_ms = true;
    req.reason = argc == 4 ? argv[3] : NULL;
    Medrep__TimeOffReply *out = NULL;
    int rc = call_rpc(ctx, "AddTimeOff", &req.base, &medrep__time_off_reply__descriptor, (ProtobufCMessage **)&out);
    if (rc == 0) {
        if (!json_out(ctx, &out->base))
            printf("time off recorded for %s; the plan was updated\n", argv[0]);
        medrep__time_off_reply__free_unpacked(out, NULL);
    }
    return rc;
}

static int run_calls(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 1) {
        cli_error("calls: want log|cancel|move|pin|unpin|add|timeoff (see medrep calls --help)");
        return 2;
    }
    mr_tz *tz = region_tz(ctx);
    const char *sub = argv[0];
    int rc;
    if (!strcmp(sub, "log"))
        rc = cmd_log(ctx, argc - 1, argv + 1, tz);
    else if (!strcmp(sub, "cancel"))
        rc = cmd_cancel(ctx, argc - 1, argv + 1);
    else if (!strcmp(sub, "move") || !strcmp(sub, "pin") || !strcmp(sub, "unpin"))
        rc = cmd_update(ctx, argc - 1, argv + 1, tz, sub);
    else if (!strcmp(sub, "add"))
        rc = cmd_add(ctx, argc - 1, argv + 1, tz);
    else if (!strcmp(sub, "timeoff"))
        rc = cmd_timeoff(ctx, argc - 1, argv + 1, tz);
    else {
        cli_error("calls: unknown '%s'", sub);
        rc = 2;
    }
    mr_tz_free(&tz);
    return rc;
}

const cli_command cli_cmd_calls = {
    .name = "calls",
    .summary = "report, cancel, move, pin or add calls; record time off",
    .usage = "medrep calls log --rep R --customer C --start 'YYYY-MM-DD HH:MM'\n"
             "                  --objective TEXT (at least 3) [--message TEXT]... [--material TEXT]...\n"
             "                  [--commitment TEXT] [--next 'YYYY-MM-DD HH:MM'] [--need WORD]...\n"
             "                  [--product P --stage 0..4] [--duration MIN] [--call CALL_ID] [--notes TEXT]\n"
             "      submits (and locks) a call report; the next appointment becomes a planned call\n"
             "medrep calls cancel CALL_ID [--reason TEXT]\n"
             "medrep calls move CALL_ID 'YYYY-MM-DD HH:MM'     (the call is then pinned)\n"
             "medrep calls pin|unpin CALL_ID\n"
             "medrep calls add REP CUSTOMER 'YYYY-MM-DD HH:MM'\n"
             "medrep calls timeoff REP 'YYYY-MM-DD HH:MM' 'YYYY-MM-DD HH:MM' [REASON]\n"
             "Times are in the region's local time.\n",
    .run = run_calls,
};
