/* medrep.c: the command-line client for people and scripts. Parses the
 * global options, finds the subcommand in the table below and runs it.
 *
 *   medrep [--config FILE] [--region R] [--json] COMMAND [args]
 *   medrep COMMAND --help
 *
 * The broker endpoint comes from [broker] endpoint (default
 * tcp://127.0.0.1:5555). Exit status: 0 success, 1 an error answered by
 * the system, 2 bad usage. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Every subcommand; add new ones here. */
static const cli_command *const commands[] = {
    &cli_cmd_status,
    &cli_cmd_watch,
    &cli_cmd_token,
    &cli_cmd_import,
    &cli_cmd_regrade,
    &cli_cmd_grades,
    &cli_cmd_segments,
    &cli_cmd_hospitals,
    &cli_cmd_plan,
    &cli_cmd_calls,
    &cli_cmd_attainment,
    &cli_cmd_export,
    &cli_cmd_inbox,
    &cli_cmd_reminders,
    &cli_cmd_remind,
    &cli_cmd_meetings,
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

bool cli_interrupted(void)
{
    return interrupted != 0;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("medrep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

mr_client *cli_client(cli_ctx *ctx)
{
    if (!ctx->client) {
        mr_client_opts opts = {
            .broker = mr_config_str(ctx->cfg, "broker", "endpoint", "tcp://127.0.0.1:5555")};
        ctx->client = mr_client_new(&opts);
        if (!ctx->client)
            cli_error("cannot connect to the broker at %s", opts.broker);
    }
    return ctx->client;
}

static void usage(void)
{
    fprintf(stderr, "usage: medrep [--config FILE] [--region R] [--json] COMMAND [args]\n"
                    "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(stderr, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(stderr, "options:\n"
                    "  --config FILE   configuration (default: $MEDREP_CONFIG)\n"
                    "  --region R      the region to act on (default: the first configured)\n"
                    "  --json          machine-readable output\n"
                    "`medrep COMMAND --help` tells more.\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

/* Global options may stand before or after the command; what remains is
 * handed to the command in order. Returns the command's index in argv or
 * -1 on bad usage. */
static int parse_globals(int argc, char **argv, const char **config_path, const char **region,
                         bool *json, char **rest, int *rest_count)
{
    int command_at = -1;
    *rest_count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            *config_path = argv[++i];
        else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            *region = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            *json = true;
        else if (command_at < 0 && argv[i][0] != '-')
            command_at = i;
        else if (command_at >= 0)
            rest[(*rest_count)++] = argv[i];
        else
            return -1;
    }
    return command_at;
}

static bool wants_help(char **args, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0)
            return true;
    return false;
}

static const char *first_region(const mr_config *cfg, char *buf, size_t cap)
{
    mr_region_cfg regions[64];
    char err[256];
    int n = mr_config_regions(cfg, regions, 64, err, sizeof err);
    if (n <= 0)
        return NULL;
    snprintf(buf, cap, "%s", regions[0].name);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage();
        return 0;
    }
    const char *config_path = getenv("MEDREP_CONFIG");
    const char *region = NULL;
    bool json = false;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_count = 0;
    int at = rest ? parse_globals(argc, argv, &config_path, &region, &json, rest, &rest_count) : -1;
    const cli_command *cmd = at > 0 ? find_command(argv[at]) : NULL;
    if (at < 0 && rest && wants_help(argv + 1, argc - 1)) {   /* medrep --config F --help */
        usage();
        free(rest);
        return 0;
    }
    if (!cmd) {
        if (at > 0 && strcmp(argv[at], "help") != 0)
            cli_error("unknown command '%s'", argv[at]);
        usage();
        free(rest);
        return at > 0 && strcmp(argv[at], "help") == 0 ? 0 : 2;
    }
    if (wants_help(rest, rest_count)) {   /* anywhere: `medrep meetings propose --help` too */
        fputs(cmd->usage, stdout);
        free(rest);
        return 0;
    }
    char err[512], region_buf[40];
    mr_config *cfg = mr_config_load(config_path, err, sizeof err);
    if (!cfg) {
        cli_error("%s", err);
        free(rest);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    cli_ctx ctx = {.cfg = cfg, .json = json,
                   .region = region ? region : first_region(cfg, region_buf, sizeof region_buf)};
    int rc = cmd->run(&ctx, rest_count, rest);
    mr_client_free(&ctx.client);
    mr_config_free(&cfg);
    free(rest);
    return rc;
}
