/* cmd_plan.c: `medrep plan REP PERIOD` (and --all, in cmd_plan_all.c): (re)plans a rep's month, week or
 * day through the scheduling service and shows the day routes as a
 * table in the region's local time (or JSON with --json); --stored shows
 * the stored plan without replanning. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "errors.h"
#include "scheduling.pb-c.h"

static const char *const weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static void local_text(const mr_tz *tz, int64_t ms, char *day, size_t dcap, char *hm, size_t hcap)
{
    mr_local_time lt;
    mr_tz_to_local(tz, ms / 1000, &lt);
    if (day)
        snprintf(day, dcap, "%s %04d-%02d-%02d", weekdays[lt.weekday], lt.year, lt.month, lt.day);
    if (hm)
        snprintf(hm, hcap, "%02d:%02d", lt.hour, lt.minute);
}

static json_t *plan_json(const Medrep__PlanReply *p, const mr_tz *tz)
{
    json_t *calls = json_array(), *sf = json_array();
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        char day[32], hm[8];
        local_text(tz, c->start_ms, day, sizeof day, hm, sizeof hm);
        json_array_append_new(calls, json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
            "call_id", c->call_id, "day", day + 4, "time", hm, "start_ms", (json_int_t)c->start_ms,
            "duration_min", c->duration_min, "kind", c->kind ? c->kind : "", "customer_id",
            c->customer_id ? c->customer_id : "", "segment", c->segment ? c->segment : "", "hospital_id",
            c->hospital_id ? c->hospital_id : "", "state", c->state ? c->state : "", "origin",
            c->origin ? c->origin : "", "pinned", c->pinned));
    }
    for (size_t i = 0; i < p->n_shortfalls; i++)
        json_array_append_new(sf, json_pack("{s:s, s:f, s:f}", "norm", p->shortfalls[i]->norm,
                                            "required", p->shortfalls[i]->required, "planned",
                                            p->shortfalls[i]->planned));
    return json_pack("{s:s, s:s, s:o, s:o, s:i, s:i, s:i, s:i}", "period", p->period ? p->period : "",
                     "timezone", p->timezone ? p->timezone : "", "calls", calls, "shortfalls", sf,
                     "travel_minutes", p->travel_minutes, "idle_minutes", p->idle_minutes,
                     "norms_checked", p->norms_checked, "norms_met", p->norms_met);
}

static void print_call(const Medrep__PlannedCall *c, const mr_tz *tz)
{
    char from[8], to[8], who[160];
    local_text(tz, c->start_ms, NULL, 0, from, sizeof from);
    local_text(tz, c->start_ms + (int64_t)c->duration_min * 60000, NULL, 0, to, sizeof to);
    if (c->kind && !strcmp(c->kind, "pim"))
        snprintf(who, sizeof who, "PIM (product meeting)");
    else
        snprintf(who, sizeof who, "%s%s%s%s", c->customer_name && c->customer_name[0] ? c->customer_name : c->customer_id,
                 c->segment && c->segment[0] ? " (" : "", c->segment ? c->segment : "", c->segment && c->segment[0] ? ")" : "");
    printf("  %s-%s  %-32.32s %-22.22s %-9s %s%s\n", from, to, who,
           c->hospital_name && c->hospital_name[0] ? c->hospital_name : (c->hospital_id ? c->hospital_id : ""),
           c->state ? c->state : "", c->origin ? c->origin : "", c->pinned ? ", pinned" : "");
}

static void print_plan(const char *rep, const Medrep__PlanReply *p, const mr_tz *tz)
{
    printf("Plan of %s for %s (%s)\n", rep, p->period, p->timezone);
    char day[32] = "", last[32] = "";
    int calls = 0, pims = 0;
    for (size_t i = 0; i < p->n_calls; i++) {
        const Medrep__PlannedCall *c = p->calls[i];
        local_text(tz, c->start_ms, day, sizeof day, NULL, 0);
        if (strcmp(day, last)) {
            printf("%s\n", day);
            snprintf(last, sizeof last, "%s", day);
        }
        print_call(c, tz);
        bool live = c->state && strcmp(c->state, "cancelled");
        pims += live && c->kind && !strcmp(c->kind, "pim");
        calls += live && !(c->kind && !strcmp(c->kind, "pim"));
    }
    printf("%d call(s), %d PIM(s)", calls, pims);
    if (p->has_travel_minutes)
        printf("; month: travel %d min, idle %d min, norms met %d of %d", p->travel_minutes, p->idle_minutes,
               p->norms_met, p->norms_checked);
    printf("\n");
    if (p->n_shortfalls)
        printf("Shortfalls (least important first):\n");
    for (size_t i = 0; i < p->n_shortfalls; i++)
        printf("  %-28s planned %.1f of %.1f\n", p->shortfalls[i]->norm, p->shortfalls[i]->planned,
               p->shortfalls[i]->required);
}

static int run_quarter(cli_ctx *ctx, const char *rep, const char *quarter)
{
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    Medrep__QuarterPlanRequest req = MEDREP__QUARTER_PLAN_REQUEST__INIT;
    req.rep_id = (char *)rep;
    req.quarter = (char *)quarter;
    Medrep__QuarterPlanReply *q = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", "QuarterPlan", ctx->region, NULL, &req.base,
                             &medrep__quarter_plan_reply__descriptor, (ProtobufCMessage **)&q, 30000, msg, sizeof msg);
    if (code != MR_OK) {
        cli_error("plan: %s: %s", mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    printf("Quarter plan of %s for %s: %s (approver %s)\n", q->rep_id, q->quarter, q->state, q->approver_id);
    printf("  %-16s %-24s %-8s %6s %6s %8s  %s\n", "CUSTOMER", "NAME", "SEGMENT", "TARGET", "DONE", "PLANNED",
           "OBJECTIVES");
    for (size_t i = 0; i < q->n_targets; i++) {
        const Medrep__QuarterTarget *t = q->targets[i];
        if (!t->calls_target && !t->calls_done)
            continue;
        printf("  %-16.16s %-24.24s %-8s %6d %6d %8d  %s\n", t->customer_id, t->customer_name ? t->customer_name : "",
               t->segment, t->calls_target, t->calls_done, t->calls_planned, t->n_objectives ? t->objectives[0] : "");
    }
    medrep__quarter_plan_reply__free_unpacked(q, NULL);
    return 0;
}

static int run_approve(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3) {
        cli_error("plan approve: want REP QUARTER DM");
        return 2;
    }
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    Medrep__ApproveQuarterRequest req = MEDREP__APPROVE_QUARTER_REQUEST__INIT;
    req.rep_id = argv[0];
    req.quarter = argv[1];
    req.approver_id = argv[2];
    Medrep__ApproveQuarterReply *out = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", "ApproveQuarter", ctx->region, NULL, &req.base,
                             &medrep__approve_quarter_reply__descriptor, (ProtobufCMessage **)&out, 30000, msg,
                             sizeof msg);
    if (code != MR_OK) {
        cli_error("plan approve: %s: %s", mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    printf("quarter plan %s of %s: %s\n", argv[1], argv[0], out->state);
    medrep__approve_quarter_reply__free_unpacked(out, NULL);
    return 0;
}

int cli_plan_all(cli_ctx *ctx, const char *period);   /* cmd_plan_all.c */

static int run_plan(cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 0 && !strcmp(argv[0], "approve"))
        return run_approve(ctx, argc - 1, argv + 1);
    if (argc > 0 && !strcmp(argv[0], "--all")) {
        if (argc != 2) {
            cli_error("plan --all: want PERIOD (see medrep plan --help)");
            return 2;
        }
        return cli_plan_all(ctx, argv[1]);
    }
    const char *pos[2] = {NULL, NULL};
    bool stored = false;
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--stored"))
            stored = true;
        else if (npos < 2 && argv[i][0] != '-')
            pos[npos++] = argv[i];
        else {
            cli_error("plan: unexpected '%s'", argv[i]);
            return 2;
        }
    }
    if (npos != 2) {
        cli_error("plan: want REP PERIOD (see medrep plan --help)");
        return 2;
    }
    if (strlen(pos[1]) == 7 && pos[1][5] == 'Q')
        return run_quarter(ctx, pos[0], pos[1]);
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = (char *)pos[0];
    req.period = (char *)pos[1];
    Medrep__PlanReply *p = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", stored ? "GetPlan" : "Plan", ctx->region, NULL, &req.base,
                             &medrep__plan_reply__descriptor, (ProtobufCMessage **)&p, 30000, msg, sizeof msg);
    if (code != MR_OK) {
        cli_error("plan: %s: %s", mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    mr_tz *tz = mr_tz_load(p->timezone && p->timezone[0] ? p->timezone : "UTC");
    if (ctx->json) {
        json_t *o = plan_json(p, tz);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else
        print_plan(pos[0], p, tz);
    mr_tz_free(&tz);
    medrep__plan_reply__free_unpacked(p, NULL);
    return 0;
}

const cli_command cli_cmd_plan = {
    .name = "plan",
    .summary = "plan a rep's month, week or day and show the day routes",
    .usage = "medrep plan REP PERIOD [--stored] [--json]\n"
             "medrep plan REP YYYY-Qn          the quarter's targets, awaiting the DM's approval\n"
             "medrep plan approve REP YYYY-Qn DM\n"
             "medrep plan --all PERIOD          every rep of the region, with a progress bar\n"
             "  PERIOD is YYYY-MM (month), YYYY-Www (ISO week) or YYYY-MM-DD (day).\n"
             "  Replans the rest of the period's month(s) (done, pinned and added calls stay)\n"
             "  and prints each day's route in the region's local time: call times,\n"
             "  customers with their segment, hospitals, state; then the shortfalls, least\n"
             "  important norm first. --stored shows the stored plan without replanning.\n",
    .run = run_plan,
};
