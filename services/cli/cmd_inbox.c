/* cmd_inbox.c: `medrep inbox --person P [--limit N]` (a person's in-app
 * inbox, newest first, with the unread count) and `medrep inbox read
 * --person P ID...` (mark deliveries read), through the notify service. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "errors.h"
#include "notify.pb-c.h"

static int call_notify(cli_ctx *ctx, const char *method, const ProtobufCMessage *in,
                       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    char msg[512];
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    int code = mr_client_rpc(c, "notify", method, ctx->region, NULL, in, desc, out, 10000, msg, sizeof msg);
    if (code != MR_OK) {
        cli_error("%s: %s: %s", method, mr_code_name(code), msg);
        return 1;
    }
    return 0;
}

static const char *utc_text(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

static int list_inbox(cli_ctx *ctx, const char *person, int limit)
{
    Medrep__InboxListRequest q = MEDREP__INBOX_LIST_REQUEST__INIT;
    q.person_id = (char *)person;
    q.has_page_size = true;
    q.page_size = limit;
    Medrep__InboxListReply *r = NULL;
    if (call_notify(ctx, "InboxList", &q.base, &medrep__inbox_list_reply__descriptor, (ProtobufCMessage **)&r))
        return 1;
    char when[32];
    json_t *items = ctx->json ? json_array() : NULL;
    if (!ctx->json)
        printf("%-19s %-4s %-22s %-36s %s\n", "DELIVERED (UTC)", "READ", "KIND", "TITLE", "DELIVERY ID");
    for (size_t i = 0; i < r->n_items; i++) {
        const Medrep__InboxItem *it = r->items[i];
        if (ctx->json)
            json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b}",
                "delivery_id", it->delivery_id, "kind", it->kind, "title", it->title, "body", it->body,
                "due_ms", (json_int_t)it->due_ms, "delivered_ms", (json_int_t)it->delivered_ms, "read", it->read));
        else
            printf("%-19s %-4s %-22s %-36.36s %s\n", utc_text(it->delivered_ms, when, sizeof when),
                   it->read ? "yes" : "no", it->kind, it->title, it->delivery_id);
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:o, s:I}", "items", items, "unread", (json_int_t)r->unread);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        printf("%zu shown, %lld unread\n", r->n_items, (long long)r->unread);
    }
    medrep__inbox_list_reply__free_unpacked(r, NULL);
    return 0;
}

static int mark_read(cli_ctx *ctx, const char *person, char **ids, int n)
{
    Medrep__InboxMarkReadRequest q = MEDREP__INBOX_MARK_READ_REQUEST__INIT;
    q.person_id = (char *)person;
    q.delivery_ids = ids;
    q.n_delivery_ids = (size_t)n;
    Medrep__InboxMarkReadReply *r = NULL;
    if (call_notify(ctx, "InboxMarkRead", &q.base, &medrep__inbox_mark_read_reply__descriptor,
                    (ProtobufCMessage **)&r))
        return 1;
    if (ctx->json)
        printf("{\"unread\": %lld}\n", (long long)r->unread);
    else
        printf("%lld unread\n", (long long)r->unread);
    medrep__inbox_mark_read_reply__free_unpacked(r, NULL);
    return 0;
}

static int run_inbox(cli_ctx *ctx, int argc, char **argv)
{
    const char *person = NULL;
    int limit = 50, first_id = -1;
    bool read = argc > 0 && strcmp(argv[0], "read") == 0;
    for (int i = read ? 1 : 0; i < argc; i++) {
        if (strcmp(argv[i], "--person") == 0 && i + 1 < argc)
            person = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = atoi(argv[++i]);
        else if (read && argv[i][0] != '-') {
            first_id = i;
            break;
        } else {
            cli_error("inbox: unexpected argument '%s'", argv[i]);
            return 2;
        }
    }
    if (!person || limit <= 0 || (read && first_id < 0)) {
        cli_error("inbox: give --person P%s", read ? " and at least one delivery id" : "");
        return 2;
    }
    return read ? mark_read(ctx, person, argv + first_id, argc - first_id) : list_inbox(ctx, person, limit);
}

const cli_command cli_cmd_inbox = {
    .name = "inbox",
    .summary = "a person's in-app reminders; mark them read",
    .usage = "usage: medrep inbox --person P [--limit N]\n"
             "       medrep inbox read --person P DELIVERY_ID...\n",
    .run = run_inbox,
};
