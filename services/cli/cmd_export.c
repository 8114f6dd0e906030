/* cmd_export.c: `medrep export ical REP PERIOD [-o FILE]`: a day's,
 * week's or month's plan as iCalendar, to open in any phone calendar. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "errors.h"
#include "scheduling.pb-c.h"

static int run_export(cli_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL;
    if (argc == 5 && !strcmp(argv[3], "-o"))
        file = argv[4];
    if (argc < 3 || strcmp(argv[0], "ical") || (argc != 3 && !file)) {
        cli_error("export: want ical REP PERIOD [-o FILE]");
        return 2;
    }
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    Medrep__PlanIcalRequest req = MEDREP__PLAN_ICAL_REQUEST__INIT;
    req.rep_id = argv[1];
    req.period = argv[2];
    Medrep__PlanIcalReply *out = NULL;
    char msg[512];
    int code = mr_client_rpc(c, "scheduling", "ExportIcal", ctx->region, NULL, &req.base,
                             &medrep__plan_ical_reply__descriptor, (ProtobufCMessage **)&out, 30000, msg,
                             sizeof msg);
    if (code != MR_OK) {
        cli_error("export: %s: %s", mr_code_name(code), msg);
        return code == MR_INVALID_ARGUMENT ? 2 : 1;
    }
    FILE *f = file ? fopen(file, "w") : stdout;
    int rc = 0;
    if (!f || fputs(out->ics, f) < 0) {
        cli_error("export: cannot write %s", file ? file : "stdout");
        rc = 1;
    }
    if (f && f != stdout)
        fclose(f);
    medrep__plan_ical_reply__free_unpacked(out, NULL);
    return rc;
}

const cli_command cli_cmd_export = {
    .name = "export",
    .summary = "export a rep's plan as iCalendar",
    .usage = "medrep export ical REP PERIOD [-o FILE]\n"
             "  PERIOD is YYYY-MM, YYYY-Www or YYYY-MM-DD; writes a VCALENDAR (UTC times)\n"
             "  with one event per call and PIM, to stdout or FILE.\n",
    .run = run_export,
};
