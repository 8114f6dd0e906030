/* cli_args.h: the command line every medrep process shares:
 *   --config FILE     configuration file (default: $MEDREP_CONFIG, else none)
 *   --instance NAME   instance name (default: <service>-<host>-<pid>)
 *   --help            usage */
#ifndef MEDREP_CLI_ARGS_H
#define MEDREP_CLI_ARGS_H

typedef struct {
    const char *config_path;   /* NULL when none; points into argv or environ */
    const char *instance;      /* NULL when not given */
} mr_cli_args;

/* 0 on success; prints usage and returns 1 for --help, 2 for bad usage. */
int mr_cli_args_parse(int argc, char **argv, mr_cli_args *out);

#endif
