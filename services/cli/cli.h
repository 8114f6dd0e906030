/* cli.h: what every `medrep` subcommand shares. Each subcommand lives in
 * its own cmd_<name>.c and is listed in the table in medrep.c.
 *
 * A subcommand gets the loaded configuration, a broker client made on
 * first use, and its own arguments (after the subcommand name). It prints
 * tables for people, or JSON with --json, and returns the exit status:
 * 0 success, 1 an error answered by the system, 2 bad usage. */
#ifndef MEDREP_CLI_H
#define MEDREP_CLI_H

#include <stdbool.h>

#include "config.h"
#include "transport.h"

typedef struct {
    const mr_config *cfg;
    const char *region;        /* --region, or the configuration's first region */
    bool json;                 /* --json given */
    mr_client *client;         /* made by cli_client() on first use */
} cli_ctx;

typedef struct {
    const char *name;
    const char *summary;       /* one line for `medrep --help` */
    const char *usage;         /* the subcommand's own help text */
    int (*run)(cli_ctx *ctx, int argc, char **argv);
} cli_command;

/* The broker client (made on first call); NULL when it cannot be made. */
mr_client *cli_client(cli_ctx *ctx);

/* True when interrupted by SIGINT/SIGTERM. */
bool cli_interrupted(void);

/* Prints "medrep: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern const cli_command cli_cmd_status;
extern const cli_command cli_cmd_watch;
extern const cli_command cli_cmd_token;
extern const cli_command cli_cmd_import;
extern const cli_command cli_cmd_regrade;
extern const cli_command cli_cmd_grades;
extern const cli_command cli_cmd_segments;
extern const cli_command cli_cmd_hospitals;
extern const cli_command cli_cmd_plan;
extern const cli_command cli_cmd_calls;
extern const cli_command cli_cmd_attainment;
extern const cli_command cli_cmd_export;
extern const cli_command cli_cmd_inbox;
extern const cli_command cli_cmd_reminders;
extern const cli_command cli_cmd_remind;
extern const cli_command cli_cmd_meetings;

#endif
