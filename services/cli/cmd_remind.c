/* cmd_remind.c: manual reminders through the notify service:
 *   medrep remind --person P (--in DUR | --at YYYY-MM-DDTHH:MM) --title T
 *                 [--body B] [--kind K] [--subject S] [--id ID] [--urgent]
 *   medrep remind cancel (--subject S | --id ID...)
 *   medrep remind move (--subject S | --id ID) (--by DUR | --at YYYY-MM-DDTHH:MM)
 * DUR is like 10m, 2h, 1d, -30m; --at is a local time in the region's zone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "errors.h"
#include "notify.pb-c.h"

/* "1d2h", "-30m", "45s": milliseconds. 0 or -1. */
static int parse_duration(const char *text, int64_t *ms)
{
    int sign = *text == '-' ? -1 : 1;
    const char *p = *text == '-' || *text == '+' ? text + 1 : text;
    int64_t total = 0;
    while (*p) {
        char *end;
        long long n = strtoll(p, &end, 10);
        int64_t unit = *end == 'd' ? 86400000 : *end == 'h' ? 3600000 : *end == 'm' ? 60000 : *end == 's' ? 1000 : 0;
        if (end == p || n < 0 || !unit)
            return -1;
        total += n * unit;
        p = end + 1;
    }
    *ms = sign * total;
    return p == text ? -1 : 0;
}

/* A local "YYYY-MM-DDTHH:MM" in the region's zone: Unix ms. 0 or -1. */
static int parse_local(cli_ctx *ctx, const char *text, int64_t *ms)
{
    int y, mo, d, h, mi;
    char tail;
    mr_region_cfg regions[64];
    char err[256], zone[64] = "UTC";
    if (sscanf(text, "%d-%d-%dT%d:%d%c", &y, &mo, &d, &h, &mi, &tail) != 5 || !mr_date_valid(y, mo, d) ||
        h < 0 || h > 23 || mi < 0 || mi > 59)
        return -1;
    int n = mr_config_regions(ctx->cfg, regions, 64, err, sizeof err);
    for (int i = 0; i < n; i++)
        if (ctx->region && strcmp(regions[i].name, ctx->region) == 0)
            snprintf(zone, sizeof zone, "%s", regions[i].timezone);
    mr_tz *tz = mr_tz_load(zone);
    if (!tz)
        return -1;
    *ms = mr_tz_from_local(tz, y, mo, d, h, mi, 0) * 1000;
    mr_tz_free(&tz);
    return 0;
}

static int call(cli_ctx *ctx, const char *method, const ProtobufCMessage *in,
                const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    char msg[512];
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    int code = mr_client_rpc(c, "notify", method, ctx->region, NULL, in, desc, out, 10000, msg, sizeof msg);
    if (code != MR_OK)
        cli_error("%s: %s: %s", method, mr_code_name(code), msg);
    return code == MR_OK ? 0 : 1;
}

static int schedule(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__ScheduleReminderRequest q = MEDREP__SCHEDULE_REMINDER_REQUEST__INIT;
    int64_t delta = 0;
    bool when = false;
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "--urgent") == 0) {
            q.has_urgent = q.urgent = true;
            continue;
        }
        if (i + 1 >= argc)
            return cli_error("remind: %s needs a value", k), 2;
        const char *v = argv[++i];
        if (!strcmp(k, "--person")) q.person_id = (char *)v;
        else if (!strcmp(k, "--title")) q.title = (char *)v;
        else if (!strcmp(k, "--body")) q.body = (char *)v;
        else if (!strcmp(k, "--kind")) q.kind = (char *)v;
        else if (!strcmp(k, "--subject")) q.subject_id = (char *)v;
        else if (!strcmp(k, "--id")) q.reminder_id = (char *)v;
        else if (!strcmp(k, "--in") && parse_duration(v, &delta) == 0) q.due_ms = mr_now_ms() + delta, when = true;
        else if (!strcmp(k, "--at") && parse_local(ctx, v, &q.due_ms) == 0) when = true;
        else
            return cli_error("remind: bad argument %s %s", k, v), 2;
    }
    if (!q.person_id || !when)
        return cli_error("remind: give --person and --in or --at"), 2;
    q.has_due_ms = true;
    Medrep__ScheduleReminderReply *r = NULL;
    if (call(ctx, "ScheduleReminder", &q.base, &medrep__schedule_reminder_reply__descriptor, (ProtobufCMessage **)&r))
        return 1;
    printf(ctx->json ? "{\"reminder_id\": \"%s\"}\n" : "scheduled %s\n", r->reminder_id);
    medrep__schedule_reminder_reply__free_unpacked(r, NULL);
    return 0;
}

static int cancel(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__CancelRemindersRequest q = MEDREP__CANCEL_REMINDERS_REQUEST__INIT;
    char **ids = calloc((size_t)argc + 1, sizeof *ids);
    for (int i = 0; ids && i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--subject"))
            q.subject_id = argv[i + 1];
        else if (!strcmp(argv[i], "--id"))
            ids[q.n_reminder_ids++] = argv[i + 1];
        else
            return free(ids), cli_error("remind cancel: bad argument %s", argv[i]), 2;
    }
    q.reminder_ids = ids;
    Medrep__CancelRemindersReply *r = NULL;
    int rc = call(ctx, "CancelReminders", &q.base, &medrep__cancel_reminders_reply__descriptor, (ProtobufCMessage **)&r);
    if (rc == 0)
        printf(ctx->json ? "{\"cancelled\": %lld}\n" : "%lld cancelled\n", (long long)r->cancelled);
    if (r)
        medrep__cancel_reminders_reply__free_unpacked(r, NULL);
    free(ids);
    return rc;
}

static int move(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__MoveRemindersRequest q = MEDREP__MOVE_REMINDERS_REQUEST__INIT;
    for (int i = 0; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--subject")) q.subject_id = (char *)v;
        else if (!strcmp(k, "--id")) q.reminder_id = (char *)v;
        else if (!strcmp(k, "--by") && parse_duration(v, &q.delta_ms) == 0) q.has_delta_ms = true;
        else if (!strcmp(k, "--at") && parse_local(ctx, v, &q.due_ms) == 0) q.has_due_ms = true;
        else
            return cli_error("remind move: bad argument %s %s", k, v), 2;
    }
    Medrep__MoveRemindersReply *r = NULL;
    int rc = call(ctx, "MoveReminders", &q.base, &medrep__move_reminders_reply__descriptor, (ProtobufCMessage **)&r);
    if (rc == 0)
        printf(ctx->json ? "{\"moved\": %lld}\n" : "%lld moved\n", (long long)r->moved);
    if (r)
        medrep__move_reminders_reply__free_unpacked(r, NULL);
    return rc;
}

static int run_remind(cli_ctx *ctx, int argc, char **argv)
{
    if (argc == 0)
        return cli_error("remind: give --person ... or cancel/move"), 2;
    if (!strcmp(argv[0], "cancel"))
        return cancel(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[0], "move"))
        return move(ctx, argc - 1, argv + 1);
    return schedule(ctx, argc, argv);
}

const cli_command cli_cmd_remind = {
    .name = "remind",
    .summary = "schedule, cancel or move a manual reminder",
    .usage = "usage: medrep remind --person P (--in DUR | --at YYYY-MM-DDTHH:MM) --title T\n"
             "                     [--body B] [--kind K] [--subject S] [--id ID] [--urgent]\n"
             "       medrep remind cancel (--subject S | --id ID...)\n"
             "       medrep remind move (--subject S | --id ID) (--by DUR | --at YYYY-MM-DDTHH:MM)\n"
             "DUR: 10m, 2h, 1d, -30m. --at is local time in the region's zone.\n",
    .run = run_remind,
};
