/* cmd_import.c: `medrep import KIND FILE`: streams a CSV file through the
 * broker to the scoring service in chunks of whole records (never the
 * whole file in memory), shows progress on a terminal, and ends with a
 * summary of rows ok / unchanged / bad and the first bad rows by line.
 * After prescriptions it recomputes the grades (Regrade, page by page),
 * unless --no-regrade. Also `medrep regrade [--product P]`. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "errors.h"
#include "scoring.pb-c.h"

#define CHUNK_DEFAULT (256 * 1024)
#define SHOW_ERRORS 20

typedef struct {
    long long ok, unchanged, bad;
    long errors_line[SHOW_ERRORS];
    char errors[SHOW_ERRORS][200];
    int nerrors;
    long long bytes_done, bytes_total;
    bool tty;
} import_totals;

static void keep_errors(import_totals *t, const Medrep__ImportChunkReply *r)
{
    t->ok += r->rows_ok;
    t->unchanged += r->rows_unchanged;
    t->bad += r->rows_bad;
    for (size_t i = 0; i < r->n_errors && t->nerrors < SHOW_ERRORS; i++) {
        t->errors_line[t->nerrors] = (long)r->errors[i]->line;
        snprintf(t->errors[t->nerrors], sizeof t->errors[0], "%s", r->errors[i]->reason);
        t->nerrors++;
    }
}

static void show_progress(const import_totals *t)
{
    if (!t->tty)
        return;
    double pct = t->bytes_total > 0 ? 100.0 * (double)t->bytes_done / (double)t->bytes_total : 100;
    fprintf(stderr, "\r%5.1f%%  %.1f/%.1f MB  ok %lld  unchanged %lld  bad %lld   ", pct,
            (double)t->bytes_done / 1e6, (double)t->bytes_total / 1e6, t->ok, t->unchanged, t->bad);
}

/* Sends one chunk and waits for its answer. Returns the status code. */
static int send_chunk(mr_client *c, const char *region, const char *kind, const char *file,
                      const char *header, long first_line, const char *data, size_t len,
                      import_totals *t, char *msg, size_t msgcap)
{
    Medrep__ImportChunkRequest req = MEDREP__IMPORT_CHUNK_REQUEST__INIT;
    req.kind = (char *)kind;
    req.file_name = (char *)file;
    req.header = (char *)header;
    req.first_line = first_line, req.has_first_line = true;
    req.csv.data = (uint8_t *)data, req.csv.len = len, req.has_csv = true;
    Medrep__ImportChunkReply *r = NULL;
    int code = mr_client_rpc(c, "scoring", "ImportChunk", region, NULL, &req.base,
                             &medrep__import_chunk_reply__descriptor, (ProtobufCMessage **)&r,
                             60000, msg, msgcap);
    if (code == MR_OK) {
        keep_errors(t, r);
        medrep__import_chunk_reply__free_unpacked(r, NULL);
    }
    return code;
}

/* Reads the header row (the first line) into header; returns the bytes
 * it took, or -1. */
static long read_header(FILE *f, char *header, size_t cap)
{
    if (!fgets(header, (int)cap, f))
        return -1;
    long taken = (long)strlen(header);
    if (taken == 0 || header[taken - 1] != '\n')
        return -1;
    header[strcspn(header, "\r\n")] = '\0';
    if (strncmp(header, "\xEF\xBB\xBF", 3) == 0)
        memmove(header, header + 3, strlen(header + 3) + 1);
    return taken;
}

typedef struct {
    cli_ctx *ctx;
    const char *kind, *path;
    size_t chunk;
    bool regrade;
} import_opts;

/* Streams the file; 0 when every chunk was answered OK. */
static int stream_file(const import_opts *o, FILE *f, import_totals *t)
{
    char header[4096], msg[512];
    long taken = read_header(f, header, sizeof header);
    if (taken < 0) {
        cli_error("%s: the first line must be a header row shorter than 4 KB", o->path);
        return 2;
    }
    t->bytes_done = taken;
    char *buf = malloc(o->chunk);
    if (!buf)
        return 1;
    size_t have = 0;
    long line = 2;
    bool in_quotes = false, eof = false;
    int rc = 0;
    while (!rc && !cli_interrupted() && (!eof || have > 0)) {
        size_t got = eof ? 0 : fread(buf + have, 1, o->chunk - have, f);
        eof = eof || got < o->chunk - have;
        have += got;
        if (have == 0)
            break;
        long lines = 0;
        size_t cut = eof ? have : mr_csv_split(buf, have, &in_quotes, &lines);
        if (cut == 0) {
            cli_error("%s: a record near line %ld is longer than the chunk size", o->path, line);
            rc = 1;
            break;
        }
        int code = send_chunk(cli_client(o->ctx), o->ctx->region, o->kind, o->path, header, line,
                              buf, cut, t, msg, sizeof msg);
        if (code != MR_OK) {
            cli_error("chunk at line %ld: %s: %s", line, mr_code_name(code), msg);
            rc = 1;
        }
        line += lines;
        t->bytes_done += (long long)cut;
        memmove(buf, buf + cut, have - cut);
        have -= cut;
        show_progress(t);
    }
    free(buf);
    return rc;
}

/* Regrade page by page until done. */
static int regrade_all(cli_ctx *ctx, const char *product, int page_size, long long *graded,
                       long long *changed)
{
    char cursor[256] = "", msg[512];
    *graded = *changed = 0;
    while (!cli_interrupted()) {
        Medrep__RegradeRequest req = MEDREP__REGRADE_REQUEST__INIT;
        req.product_id = (char *)product;
        req.cursor = cursor;
        req.page_size = page_size, req.has_page_size = page_size > 0;
        Medrep__RegradeReply *r = NULL;
        int code = mr_client_rpc(cli_client(ctx), "scoring", "Regrade", ctx->region, NULL, &req.base,
                                 &medrep__regrade_reply__descriptor, (ProtobufCMessage **)&r, 60000,
                                 msg, sizeof msg);
        if (code != MR_OK) {
            cli_error("regrade: %s: %s", mr_code_name(code), msg);
            return 1;
        }
        *graded += r->graded;
        *changed += r->changed;
        snprintf(cursor, sizeof cursor, "%s", r->next_cursor ? r->next_cursor : "");
        medrep__regrade_reply__free_unpacked(r, NULL);
        if (!cursor[0])
            return 0;
    }
    return 1;
}

static void print_summary(const cli_ctx *ctx, const import_totals *t, bool regraded, long long graded,
                          long long changed)
{
    if (t->tty)
        fputc('\n', stderr);
    if (ctx->json) {
        json_t *o = json_pack("{s:I, s:I, s:I}", "rows_ok", (json_int_t)t->ok, "rows_unchanged",
                              (json_int_t)t->unchanged, "rows_bad", (json_int_t)t->bad);
        json_t *errs = json_array();
        for (int i = 0; i < t->nerrors; i++)
            json_array_append_new(errs, json_pack("{s:I, s:s}", "line", (json_int_t)t->errors_line[i],
                                                  "reason", t->errors[i]));
        json_object_set_new(o, "errors", errs);
        if (regraded)
            json_object_set_new(o, "regraded", json_pack("{s:I, s:I}", "graded", (json_int_t)graded,
                                                         "changed", (json_int_t)changed));
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
        return;
    }
    printf("rows ok %lld, unchanged %lld, bad %lld\n", t->ok, t->unchanged, t->bad);
    for (int i = 0; i < t->nerrors; i++)
        printf("  line %ld: %s\n", t->errors_line[i], t->errors[i]);
    if (t->bad > t->nerrors)
        printf("  ... and %lld more bad rows\n", t->bad - t->nerrors);
    if (regraded)
        printf("grades recomputed: %lld, changed: %lld\n", graded, changed);
}

static int parse_import_args(int argc, char **argv, import_opts *o)
{
    int positional = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-regrade") == 0)
            o->regrade = false;
        else if (strcmp(argv[i], "--chunk-kb") == 0 && i + 1 < argc)
            o->chunk = (size_t)atol(argv[++i]) * 1024;
        else if (positional == 0)
            o->kind = argv[i], positional++;
        else if (positional == 1)
            o->path = argv[i], positional++;
        else
            return -1;
    }
    return positional == 2 && o->chunk >= 1024 && o->chunk <= 3 * 1024 * 1024 ? 0 : -1;
}

static int run_import(cli_ctx *ctx, int argc, char **argv)
{
    import_opts o = {.ctx = ctx, .chunk = CHUNK_DEFAULT, .regrade = true};
    if (parse_import_args(argc, argv, &o) != 0) {
        fputs(cli_cmd_import.usage, stderr);
        return 2;
    }
    FILE *f = fopen(o.path, "rb");
    if (!f) {
        cli_error("cannot open %s", o.path);
        return 2;
    }
    if (!cli_client(ctx)) {
        fclose(f);
        return 1;
    }
    struct stat st;
    import_totals t = {.tty = isatty(STDERR_FILENO) && !ctx->json};
    t.bytes_total = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : 0;
    int rc = stream_file(&o, f, &t);
    fclose(f);
    long long graded = 0, changed = 0;
    bool regrade = rc == 0 && o.regrade && strcmp(o.kind, "prescriptions") == 0;
    if (regrade)
        rc = regrade_all(ctx, NULL, 0, &graded, &changed);
    print_summary(ctx, &t, regrade && rc == 0, graded, changed);
    return rc ? rc : (t.bad > 0 ? 1 : 0);
}

const cli_command cli_cmd_import = {
    .name = "import",
    .summary = "import a CSV file of master data or prescriptions",
    .usage = "usage: medrep import KIND FILE [--chunk-kb N] [--no-regrade]\n"
             "  KIND: products, hospitals, listings, departments, customers, windows, reps,\n"
             "        prescriptions (formats: docs/formats.md)\n"
             "  Streams FILE in chunks of whole records (default 256 KB); rows already\n"
             "  stored count as unchanged, so importing a file twice changes nothing.\n"
             "  Bad rows are skipped and listed by line; the exit status is 1 when any.\n"
             "  After prescriptions the grades are recomputed unless --no-regrade.\n",
    .run = run_import,
};

static int run_regrade(cli_ctx *ctx, int argc, char **argv)
{
    const char *product = NULL;
    int page = 0;
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--product") == 0) {
            product = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--page-size") == 0 && atoi(argv[i + 1]) > 0) {
            page = atoi(argv[++i]);
        } else {
            fputs(cli_cmd_regrade.usage, stderr);
            return 2;
        }
    }
    if (!cli_client(ctx))
        return 1;
    long long graded, changed;
    int rc = regrade_all(ctx, product, page, &graded, &changed);
    if (rc == 0)
        printf("grades recomputed: %lld, changed: %lld\n", graded, changed);
    return rc;
}

const cli_command cli_cmd_regrade = {
    .name = "regrade",
    .summary = "recompute grades (after a threshold change)",
    .usage = "usage: medrep regrade [--product P] [--page-size N]\n"
             "  Recomputes every customer's grade (or one product's); only changed\n"
             "  segments get a history entry and a CustomerRegraded event.\n",
    .run = run_regrade,
};
