/* bench_scoring.c: what importing and grading prescription data costs.
 * Starts a real stack (redis-server, broker, one scoring service) in a
 * temporary folder, generates master data and a prescriptions file of
 * --rows customer-product-month rows, imports them with the real
 * `medrep import` (chunks through the broker) and recomputes every grade
 * (`medrep regrade`), and prints:
 *   - rows/s of import + grade end to end (and of each phase);
 *   - the peak memory (VmHWM) of the scoring service after a small file
 *     (--rows/10) and after the whole file: flat when imports stream;
 *   - Redis's peak memory;
 *   - beside them, the reference measured in the same run, before and
 *     after the import: the rate `redis-benchmark -P 16` reaches on this
 *     machine for the write commands the import uses (HSET, ZADD, SADD),
 *     and the ratio; also both per CPU second of redis-server, a ratio
 *     that holds better when other work shares the machine.
 * Figures are "bench.scoring.<name> <value> <unit>" lines; nothing is
 * asserted. Run by scripts/bench scoring.
 *
 *   bench-scoring [--rows N] [--products P] [--months M] [--chunk-kb K]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "stack.h"

typedef struct {
    long rows;
    int products, months, chunk_kb;
} bench_opts;

static h_stack stack;
static bool stack_up;

static void fail(const char *what)
{
    fprintf(stderr, "bench-scoring: %s\n", what);
    if (stack_up)
        h_stack_stop(&stack);
    exit(1);
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.rows = 2000000, .products = 2, .months = 12, .chunk_kb = 512};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rows") == 0)
            o->rows = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--products") == 0)
            o->products = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--months") == 0)
            o->months = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--chunk-kb") == 0)
            o->chunk_kb = atoi(argv[i + 1]);
        else
            fail("usage: bench-scoring [--rows N] [--products P] [--months M] [--chunk-kb K]");
    }
    if (o->rows < 1000 || o->products < 1 || o->months < 1 || o->months > 12 || o->chunk_kb < 16)
        fail("--rows >= 1000, --products >= 1, --months 1..12, --chunk-kb >= 16");
}

/* ---- Generated files ---- */

static FILE *open_in_dir(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", stack.dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fail("cannot write a generated file");
    return f;
}

static long customers_for(const bench_opts *o, long rows)
{
    long per = (long)o->products * o->months;
    return (rows + per - 1) / per;
}

static void write_master(const bench_opts *o)
{
    long customers = customers_for(o, o->rows);
    FILE *f = open_in_dir("products.csv");
    fprintf(f, "id,name,therapy_area,competitors\n");
    for (int p = 0; p < o->products; p++)
        fprintf(f, "P%d,Product %d,area%d,\"X%d, Y%d\"\n", p, p, p, p, p);
    fclose(f);
    f = open_in_dir("hospitals.csv");
    fprintf(f, "id,name,tier,beds,outpatient_visits,lat,lon\n");
    for (int h = 0; h < 200; h++)
        fprintf(f, "H%d,Hospital %d,%d,%d,%d,31.%d,121.%d\n", h, h, 1 + h % 3, 100 + 7 * h, 300 + 13 * h, h, h);
    fclose(f);
    f = open_in_dir("reps.csv");
    fprintf(f, "id,name,team,dm_id\n");
    for (int r = 0; r < 100; r++)
        fprintf(f, "R%d,Rep %d,%s,DM%d\n", r, r, r % 2 ? "ONC" : "GEN", r / 10);
    fclose(f);
    f = open_in_dir("customers.csv");
    fprintf(f, "id,name,kind,hospital_id,department_id,rep_id,title,setting,kol,compliance_risk\n");
    for (long c = 0; c < customers; c++)
        fprintf(f, "C%07ld,Doctor %ld,prescriber,H%ld,D%ld,R%ld,attending,outpatient,%d,low\n", c, c,
                c % 200, c % 1000, c % 100, c % 50 == 0);
    fclose(f);
}

/* rows prescriptions rows, customer by customer, product by product. */
static void write_prescriptions(const bench_opts *o, const char *name, long rows)
{
    FILE *f = open_in_dir(name);
    fprintf(f, "customer_id,product_id,month,our_rx,market_rx,patients_per_week\n");
    long written = 0;
    unsigned seed = 12345;
    for (long c = 0; written < rows; c++)
        for (int p = 0; p < o->products && written < rows; p++)
            for (int m = 1; m <= o->months && written < rows; m++, written++) {
                seed = seed * 1103515245u + 12345u;
                int market = 10 + (int)((seed >> 8) % 500);
                fprintf(f, "C%07ld,P%d,2026-%02d,%d,%d,%d\n", c, p, m, market * (int)((seed >> 20) % 60) / 100,
                        market, market / 20);
            }
    fclose(f);
}

/* ---- Running things ---- */

/* Runs the CLI; its output goes to out. Returns the elapsed seconds. */
static double run_cli(const char *args, char *out, size_t cap)
{
    char bin[512], command[2048];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s %s 2>&1", bin, stack.config_path, args);
    int64_t t0 = mr_mono_us();
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = '\0';
    int status = p ? pclose(p) : -1;
    double secs = (double)(mr_mono_us() - t0) / 1e6;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s\n", out);
        fail("a medrep command failed");
    }
    return secs;
}

static void import_file(const char *kind, const char *file, int chunk_kb, bool regrade)
{
    char args[1024], out[8192];
    snprintf(args, sizeof args, "import %s %s/%s --chunk-kb %d%s", kind, stack.dir, file, chunk_kb,
             regrade ? "" : " --no-regrade");
    run_cli(args, out, sizeof out);
}

static long vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* CPU seconds (user + system) a process used so far. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double redis_info_number(const char *field)
{
    char command[256], line[512];
    snprintf(command, sizeof command, "redis-cli -p %d INFO memory", stack.redis[0].port);
    FILE *p = popen(command, "r");
    double v = -1;
    size_t flen = strlen(field);
    while (p && fgets(line, sizeof line, p))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':')
            v = atof(line + flen + 1);
    if (p)
        pclose(p);
    return v;
}

#define REF_REQUESTS 400000   /* per redis-benchmark test */
#define REF_TESTS 3

typedef struct {
    double rate;          /* mean ops/s over the tests */
    double ops_per_cpu_s; /* ops per CPU second of redis-server */
} ref_rate;

/* redis-benchmark -P 16 on the import's write commands (HSET, ZADD,
 * SADD). Its -q output redraws progress with CRs, so CRs are read as line
 * ends. `label` prefixes the per-command lines ("before", "after"). */
static ref_rate redis_write_rate(const char *label)
{
    char command[256];
    static char text[1 << 16];
    snprintf(command, sizeof command,
             "redis-benchmark -p %d -P 16 -n %d -r 100000 -q -t hset,zadd,sadd 2>/dev/null",
             stack.redis[0].port, REF_REQUESTS);
    double cpu0 = cpu_seconds(stack.redis[0].pid);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(text, 1, sizeof text - 1, p) : 0;
    text[n] = '\0';
    if (p)
        pclose(p);
    double cpu = cpu_seconds(stack.redis[0].pid) - cpu0;
    snprintf(command, sizeof command, "redis-cli -p %d DEL myhash myzset myset >/dev/null 2>&1",
             stack.redis[0].port);
    if (system(command) != 0)
        fprintf(stderr, "bench-scoring: could not delete redis-benchmark's keys\n");
    double sum = 0;
    int count = 0;
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon || !strstr(line, "requests per second"))
            continue;
        while (*line == ' ')
            line++;
        double rate = atof(colon + 1);
        printf("bench.scoring.redis_benchmark_%s_%.*s %.0f ops/s\n", label, (int)(colon - line), line, rate);
        sum += rate;
        count++;
    }
    ref_rate r = {.rate = count ? sum / count : -1,
                  .ops_per_cpu_s = cpu > 0 && count ? (double)REF_REQUESTS * count / cpu : -1};
    return r;
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    const char *regions[] = {"bench", NULL};
    if (h_stack_start(&stack, 1, regions, "[service]\nlog_level = warn\n") != 0)
        fail("cannot start redis and the broker");
    stack_up = true;
    int svc = h_stack_start_service(&stack, "scoring", "scoring-bench", NULL);
    if (svc < 0 || h_stack_wait_workers(&stack, "scoring", 1, 10000) != 0)
        fail("the scoring service did not start");
    pid_t pid = stack.procs[svc].pid;
    ref_rate before = redis_write_rate("before");

    write_master(&o);
    long small = o.rows / 10;
    write_prescriptions(&o, "rx-small.csv", small);
    write_prescriptions(&o, "rx.csv", o.rows);
    import_file("products", "products.csv", o.chunk_kb, false);
    import_file("hospitals", "hospitals.csv", o.chunk_kb, false);
    import_file("reps", "reps.csv", o.chunk_kb, false);
    import_file("customers", "customers.csv", o.chunk_kb, false);

    import_file("prescriptions", "rx-small.csv", o.chunk_kb, true);
    long hwm_small = vm_hwm_kb(pid);

    char out[8192];
    double svc_cpu0 = cpu_seconds(pid), redis_cpu0 = cpu_seconds(stack.redis[0].pid);
    int64_t t0 = mr_mono_us();
    char args[1024];
    snprintf(args, sizeof args, "import prescriptions %s/rx.csv --chunk-kb %d --no-regrade", stack.dir,
             o.chunk_kb);
    double import_s = run_cli(args, out, sizeof out);
    double svc_cpu_import = cpu_seconds(pid) - svc_cpu0;
    double redis_cpu_import = cpu_seconds(stack.redis[0].pid) - redis_cpu0;
    double grade_s = run_cli("regrade", out, sizeof out);
    double total_s = (double)(mr_mono_us() - t0) / 1e6;
    long hwm_large = vm_hwm_kb(pid);
    double svc_cpu = cpu_seconds(pid) - svc_cpu0, redis_cpu = cpu_seconds(stack.redis[0].pid) - redis_cpu0;
    double rate = (double)o.rows / total_s;

    printf("bench.scoring.rows %ld rows\n", o.rows);
    printf("bench.scoring.import_rows_per_s %.0f rows/s\n", (double)o.rows / import_s);
    printf("bench.scoring.regrade_s %.2f s (%s)\n", grade_s, strtok(out, "\n"));
    printf("bench.scoring.end_to_end_rows_per_s %.0f rows/s\n", rate);
    printf("bench.scoring.cpu_s service %.2f s, redis %.2f s, wall %.2f s\n", svc_cpu, redis_cpu, total_s);
    printf("bench.scoring.cpu_s_import service %.2f s, redis %.2f s, wall %.2f s\n", svc_cpu_import,
           redis_cpu_import, import_s);
    printf("bench.scoring.cpu_s_regrade service %.2f s, redis %.2f s, wall %.2f s\n",
           svc_cpu - svc_cpu_import, redis_cpu - redis_cpu_import, grade_s);
    printf("bench.scoring.service_peak_rss_after_%ld_rows %ld kB\n", small, hwm_small);
    printf("bench.scoring.service_peak_rss_after_%ld_rows %ld kB\n", o.rows, hwm_large);
    printf("bench.scoring.redis_peak_memory %.0f kB\n", redis_info_number("used_memory_peak") / 1024);
    ref_rate after = redis_write_rate("after");
    double ref = (before.rate + after.rate) / 2;
    double ref_cpu = (before.ops_per_cpu_s + after.ops_per_cpu_s) / 2;
    printf("bench.scoring.redis_benchmark_write_mean %.0f ops/s (reference, -P 16, before and after)\n", ref);
    printf("bench.scoring.end_to_end_vs_redis_write %.1f %% (target >= 40)\n", ref > 0 ? 100 * rate / ref : -1);
    /* the same ratio per CPU second of redis-server: steadier on a busy machine */
    double rows_per_redis_cpu = redis_cpu > 0 ? (double)o.rows / redis_cpu : -1;
    printf("bench.scoring.rows_per_redis_cpu_s %.0f rows/s, reference %.0f ops/s: %.1f %%\n",
           rows_per_redis_cpu, ref_cpu, ref_cpu > 0 ? 100 * rows_per_redis_cpu / ref_cpu : -1);
    fflush(stdout);
    if (h_stack_stop(&stack) != 0)
        fprintf(stderr, "bench-scoring: a process did not exit cleanly\n");
    return 0;
}
