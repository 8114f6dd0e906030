/* cmd_reminders.c: `medrep reminders [--person P] [--limit N]`: pending
 * reminders (not yet delivered), soonest first, through the notify service. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "errors.h"
#include "notify.pb-c.h"

static void print_row(const Medrep__Reminder *r)
{
    char when[32];
    time_t t = (time_t)(r->due_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%-19s %-12s %-22s %-3s %-40s %s\n", when, r->person_id, r->kind, r->urgent ? "!" : "",
           r->reminder_id, r->title);
}

static int run_reminders(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__ListRemindersRequest q = MEDREP__LIST_REMINDERS_REQUEST__INIT;
    q.has_limit = true;
    q.limit = 100;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--person") == 0 && i + 1 < argc)
            q.person_id = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            q.limit = atoi(argv[++i]);
        else {
            cli_error("reminders: unexpected argument '%s'", argv[i]);
            return 2;
        }
    }
    mr_client *c = cli_client(ctx);
    Medrep__ListRemindersReply *r = NULL;
    char msg[512];
    int code = c ? mr_client_rpc(c, "notify", "ListReminders", ctx->region, NULL, &q.base,
                                 &medrep__list_reminders_reply__descriptor, (ProtobufCMessage **)&r,
                                 10000, msg, sizeof msg)
                 : MR_UNAVAILABLE;
    if (code != MR_OK) {
        if (c)
            cli_error("ListReminders: %s: %s", mr_code_name(code), msg);
        return 1;
    }
    json_t *all = ctx->json ? json_array() : NULL;
    if (!ctx->json)
        printf("%-19s %-12s %-22s %-3s %-40s %s\n", "DUE (UTC)", "PERSON", "KIND", "URG", "REMINDER", "TITLE");
    for (size_t i = 0; i < r->n_reminders; i++) {
        const Medrep__Reminder *m = r->reminders[i];
        if (ctx->json)
            json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "reminder_id",
                m->reminder_id, "person_id", m->person_id, "kind", m->kind, "title", m->title,
                "subject_id", m->subject_id, "due_ms", (json_int_t)m->due_ms, "urgent", m->urgent));
        else
            print_row(m);
    }
    if (ctx->json) {
        json_dumpf(all, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(all);
    } else {
        printf("%zu pending\n", r->n_reminders);
    }
    medrep__list_reminders_reply__free_unpacked(r, NULL);
    return 0;
}

const cli_command cli_cmd_reminders = {
    .name = "reminders",
    .summary = "pending reminders, soonest first",
    .usage = "usage: medrep reminders [--person P] [--limit N]\n",
    .run = run_reminders,
};
