/* cli_args.c: parsing of the common process command line (cli_args.h). */
#include "cli_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--config FILE] [--instance NAME]\n"
            "  --config FILE     configuration (default: $MEDREP_CONFIG)\n"
            "  --instance NAME   unique instance name (default: <service>-<host>-<pid>)\n",
            prog);
}

int mr_cli_args_parse(int argc, char **argv, mr_cli_args *out)
{
    out->config_path = getenv("MEDREP_CONFIG");
    out->instance = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(argv[0]);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            out->config_path = argv[++i];
        } else if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc) {
            out->instance = argv[++i];
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[i]);
            usage(argv[0]);
            return 2;
        }
    }
    return 0;
}
