/* cmd_reminders.c: `medrep reminders [--person P] [--limit N]
 * [--page-token X | --all]`: pending reminders (not yet delivered),
 * soonest first, through the notify service, a page at a time (--all
 * walks every page). */
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

/* Asks notify for one page. The reply, or NULL (the error printed). */
static Medrep__ListRemindersReply *fetch_page(cli_ctx *ctx, Medrep__ListRemindersRequest *q)
{
    mr_client *c = cli_client(ctx);
    Medrep__ListRemindersReply *r = NULL;
    char msg[512];
    int code = c ? mr_client_rpc(c, "notify", "ListReminders", ctx->region, NULL, &q->base,
                                 &medrep__list_reminders_reply__descriptor, (ProtobufCMessage **)&r,
                                 10000, msg, sizeof msg)
                 : MR_UNAVAILABLE;
    if (code != MR_OK) {
        if (c)
            cli_error("ListReminders: %s: %s", mr_code_name(code), msg);
        return NULL;
    }
    return r;
}

/* Prints one page's rows (or appends them to all, for --json). */
static void show_page(const Medrep__ListRemindersReply *r, json_t *all)
{
    for (size_t i = 0; i < r->n_reminders; i++) {
        const Medrep__Reminder *m = r->reminders[i];
        if (all)
            json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "reminder_id",
                m->reminder_id, "person_id", m->person_id, "kind", m->kind, "title", m->title,
                "subject_id", m->subject_id, "due_ms", (json_int_t)m->due_ms, "urgent", m->urgent));
        else
            print_row(m);
    }
}

static int run_reminders(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__ListRemindersRequest q = MEDREP__LIST_REMINDERS_REQUEST__INIT;
    q.has_limit = true;
    q.limit = 100;
    bool every_page = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--person") == 0 && i + 1 < argc)
            q.person_id = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            q.limit = atoi(argv[++i]);
        else if (strcmp(argv[i], "--page-token") == 0 && i + 1 < argc)
            q.page_token = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            every_page = true;
        else {
            cli_error("reminders: unexpected argument '%s'", argv[i]);
            return 2;
        }
    }
    json_t *all = ctx->json ? json_array() : NULL;
    if (!ctx->json)
        printf("%-19s %-12s %-22s %-3s %-40s %s\n", "DUE (UTC)", "PERSON", "KIND", "URG", "REMINDER", "TITLE");
    size_t shown = 0;
    char next[512] = "";
    for (;;) {
        Medrep__ListRemindersReply *r = fetch_page(ctx, &q);
        if (!r) {
            json_decref(all);
            return 1;
        }
        show_page(r, all);
        shown += r->n_reminders;
        snprintf(next, sizeof next, "%s", r->next_page_token ? r->next_page_token : "");
        medrep__list_reminders_reply__free_unpacked(r, NULL);
        if (!every_page || !*next)
            break;
        q.page_token = next;
    }
    if (ctx->json) {
        json_dumpf(all, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(all);
    } else {
        printf("%zu pending\n", shown);
        if (*next)
            printf("more: add --page-token %s (or --all)\n", next);
    }
    return 0;
}

const cli_command cli_cmd_reminders = {
    .name = "reminders",
    .summary = "pending reminders, soonest first",
    .usage = "usage: medrep reminders [--person P] [--limit N] [--page-token X | --all]\n",
    .run = run_reminders,
};
