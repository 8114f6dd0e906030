/* cmd_attainment.c: `medrep attainment PERIOD [--rep R | --team T]`:
 * coverage and frequency per segment, adherence, call rate and match for
 * a rep, a team or the region; `--pace` runs the daily pace check. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "errors.h"
#include "scheduling.pb-c.h"

static void print_attainment(const Medrep__AttainmentReply *a, const char *who, const char *period)
{
    printf("Attainment of %s for %s (%d rep(s), %d field day(s) elapsed)\n", who, period, a->reps,
           a->field_days_elapsed);
    printf("  %-14s %9s %8s %10s %10s\n", "SEGMENT", "CUSTOMERS", "CALLED", "COVERAGE", "FREQUENCY");
    for (size_t i = 0; i < a->n_segments; i++) {
        const Medrep__SegmentAttainment *s = a->segments[i];
        printf("  %-14s %9d %8d %9.0f%% %9.0f%%\n", s->segment, s->customers, s->covered,
               100 * s->coverage, 100 * s->frequency);
    }
    printf("  calls done %d of %d planned; adherence %.0f%%; call rate %.1f a field day; match %.2f\n",
           a->done, a->planned, 100 * a->adherence, a->call_rate, a->match);
}

static int run_pace(cli_ctx *ctx, mr_client *c, const char *rep)
{
    Medrep__PaceCheckRequest req = MEDREP__PACE_CHECK_REQUEST__INIT;
    req.rep_id = (char *)rep;
    Medrep__PaceCheckReply *out = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", "CheckPace", ctx->region, NULL, &req.base,
                             &medrep__pace_check_reply__descriptor, (ProtobufCMessage **)&out, 60000, msg,
                             sizeof msg);
    if (code != MR_OK) {
        cli_error("attainment --pace: %s: %s", mr_code_name(code), msg);
        return 1;
    }
    printf("%zu behind pace\n", out->n_behind);
    for (size_t i = 0; i < out->n_behind; i++)
        printf("  %s\n", out->behind[i]);
    medrep__pace_check_reply__free_unpacked(out, NULL);
    return 0;
}

static int run_attainment(cli_ctx *ctx, int argc, char **argv)
{
    const char *rep = NULL, *team = NULL, *period = NULL;
    bool pace = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--rep") && i + 1 < argc)
            rep = argv[++i];
        else if (!strcmp(argv[i], "--team") && i + 1 < argc)
            team = argv[++i];
        else if (!strcmp(argv[i], "--pace"))
            pace = true;
        else if (!period && argv[i][0] != '-')
            period = argv[i];
        else {
            cli_error("attainment: unexpected '%s'", argv[i]);
            return 2;
        }
    }
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    if (pace)
        return run_pace(ctx, c, rep);
    if (!period) {
        cli_error("attainment: want PERIOD (YYYY-MM, YYYY-Www or YYYY-MM-DD)");
        return 2;
    }
    Medrep__AttainmentRequest req = MEDREP__ATTAINMENT_REQUEST__INIT;
    req.rep_id = (char *)rep;
    req.team = (char *)team;
    req.period = (char *)period;
    Medrep__AttainmentReply *a = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", "Attainment", ctx->region, NULL, &req.base,
                             &medrep__attainment_reply__descriptor, (ProtobufCMessage **)&a, 60000, msg,
                             sizeof msg);
    if (code != MR_OK) {
        cli_error("attainment: %s: %s", mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    if (ctx->json) {
        json_t *segs = json_array();
        for (size_t i = 0; i < a->n_segments; i++)
            json_array_append_new(segs, json_pack("{s:s, s:i, s:i, s:f, s:f}", "segment", a->segments[i]->segment,
                                                  "customers", a->segments[i]->customers, "covered",
                                                  a->segments[i]->covered, "coverage", a->segments[i]->coverage,
                                                  "frequency", a->segments[i]->frequency));
        json_t *o = json_pack("{s:o, s:f, s:f, s:f, s:i, s:i, s:i}", "segments", segs, "adherence", a->adherence,
                              "call_rate", a->call_rate, "match", a->match, "done", a->done, "planned",
                              a->planned, "reps", a->reps);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        char who[160];
        snprintf(who, sizeof who, "%s %s", rep ? "rep" : team ? "team" : "region",
                 rep ? rep : team ? team : (ctx->region ? ctx->region : ""));
        print_attainment(a, who, period);
    }
    medrep__attainment_reply__free_unpacked(a, NULL);
    return 0;
}

const cli_command cli_cmd_attainment = {
    .name = "attainment",
    .summary = "coverage, frequency, adherence, call rate and match; the pace check",
    .usage = "medrep attainment PERIOD [--rep R | --team T] [--json]\n"
             "  Done = submitted call reports; planned = calls scheduled in the period;\n"
             "  coverage = customers of a segment with a done call; frequency = done calls\n"
             "  per customer against the segment's calls a month; adherence = done planned\n"
             "  calls / planned calls whose time has passed; call rate = done calls per\n"
             "  elapsed field day; match = share of calls to A/B against the share the norms ask.\n"
             "medrep attainment --pace [--rep R]\n"
             "  The daily pace check: emits CoverageBehindPace (once a day) for each rep and\n"
             "  A/B segment that cannot reach its calls at the current pace.\n",
    .run = run_attainment,
};
