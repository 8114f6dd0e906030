/* cmd_plan_all.c: `medrep plan --all PERIOD`: plans the period for every
 * rep of the region (the master data's rep list, read from the region's
 * Redis), one Plan call per rep, with a progress bar on a terminal and a
 * one-line summary per rep (or one JSON object with --json). Stops at the
 * first rep the service refuses and says which. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "errors.h"
#include "masterdata.h"
#include "scheduling.pb-c.h"
#include "store.h"

int cli_plan_all(cli_ctx *ctx, const char *period);

/* The region's rep ids (caller frees with mr_md_free_ids); -1 on error. */
static long region_reps(cli_ctx *ctx, char ***ids)
{
    char err[256], index[64];
    mr_store_pool *pool = mr_store_pool_new(ctx->cfg, err, sizeof err);
    mr_store *store = pool && ctx->region ? mr_store_pool_get(pool, ctx->region) : NULL;
    long n = -1;
    if (!store)
        cli_error("plan --all: no Redis for region '%s' %s", ctx->region ? ctx->region : "", pool ? "" : err);
    else if (mr_md_index(index, sizeof index, NULL, NULL, "reps") < 0 ||
             (n = mr_md_list(store, ctx->region, index, ids)) < 0)
        cli_error("plan --all: cannot read the reps of region '%s'", ctx->region);
    mr_store_pool_free(&pool);
    return n;
}

static void progress(bool tty, long done, long total, const char *rep)
{
    if (!tty)
        return;
    int width = 30, filled = total > 0 ? (int)(width * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %ld/%ld %-16.16s", filled, "##############################", width - filled, "",
            done, total, rep);
    if (done == total)
        fputc('\n', stderr);
}

/* Plans one rep; 0 or the exit status. Adds a row to rows (JSON) or prints
 * one (first clearing the progress bar's line on a terminal). */
static int plan_one(cli_ctx *ctx, mr_client *c, const char *rep, const char *period, json_t *rows, bool tty)
{
    Medrep__PlanRequest req = MEDREP__PLAN_REQUEST__INIT;
    req.rep_id = (char *)rep;
    req.period = (char *)period;
    Medrep__PlanReply *p = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", "Plan", ctx->region, NULL, &req.base, &medrep__plan_reply__descriptor,
                             (ProtobufCMessage **)&p, 60000, msg, sizeof msg);
    if (code != MR_OK) {
        cli_error("plan --all: rep %s: %s: %s", rep, mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    if (rows)
        json_array_append_new(rows, json_pack("{s:s, s:i, s:i, s:i, s:i}", "rep_id", rep, "calls", (int)p->n_calls,
                                              "shortfalls", (int)p->n_shortfalls, "norms_met", p->norms_met,
                                              "norms_checked", p->norms_checked));
    else {
        if (tty) {
            fputs("\r\033[K", stderr);
            fflush(stderr);
        }
        printf("%-12s %5zu call(s)  norms met %d of %d  %zu shortfall(s)\n", rep, p->n_calls, p->norms_met,
               p->norms_checked, p->n_shortfalls);
        fflush(stdout);
    }
    medrep__plan_reply__free_unpacked(p, NULL);
    return 0;
}

int cli_plan_all(cli_ctx *ctx, const char *period)
{
    mr_client *c = cli_client(ctx);
    char **ids = NULL;
    long n = c ? region_reps(ctx, &ids) : -1;
    if (n < 0)
        return 1;
    bool tty = isatty(STDERR_FILENO) && !ctx->json;
    json_t *rows = ctx->json ? json_array() : NULL;
    int rc = 0;
    for (long i = 0; i < n && rc == 0 && !cli_interrupted(); i++) {
        progress(tty, i, n, ids[i]);
        rc = plan_one(ctx, c, ids[i], period, rows, tty);
    }
    if (rc == 0)
        progress(tty, n, n, "");
    if (rows && rc == 0) {
        json_t *o = json_pack("{s:s, s:i, s:o}", "period", period, "reps", (int)n, "plans", rows);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        json_decref(rows);
        if (rc == 0)
            printf("%ld rep(s) planned for %s\n", n, period);
    }
    mr_md_free_ids(ids, n);
    return rc != 0 ? rc : cli_interrupted() ? 1 : 0;
}
