/* test_cli_main.c: the medrep CLI's main commands against a real stack
 * (redis, broker with its live feed, scoring, scheduling, notify): --help
 * for every command the top-level help lists; clear errors with exit
 * status 2 for bad usage and 1 for what the system refused; a region made
 * by scripts/gen-data imported file by file; the segment matrix (table and
 * --json, its total equal to the customers graded); `plan --all` for every
 * rep (with progress bars on a terminal, as for imports); a week's stored
 * plan; attainment; calls add and cancel; the inbox;
 * tokens created, listed and revoked; and `watch` printing a live event. */
// ctest-label: integration
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "harness.h"
#include "stack.h"

static h_stack stack;
static char out[65536];
static char data_dir[400];
static char month[32];
static char customer[64];   /* the first customer of R1 */

static int cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int cli(const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return h_stack_cli(&stack, args, out, sizeof out);
}

/* The project's root, from this file's path. */
static void project_root(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", __FILE__);
    char *cut = strstr(buf, "/tests/integration/");
    if (cut)
        *cut = '\0';
}

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, NULL) != 0)
        return -1;
    const char *programs[] = {"scoring", "scheduling", "notify"};
    for (int i = 0; i < 3; i++) {
        char instance[64];
        snprintf(instance, sizeof instance, "%s-cli", programs[i]);
        if (h_stack_start_service(&stack, programs[i], instance, NULL) < 0 ||
            h_stack_wait_workers(&stack, programs[i], 1, 10000) != 0)
            return -1;
    }
    char root[400], command[1400];
    project_root(root, sizeof root);
    snprintf(data_dir, sizeof data_dir, "%s/data", stack.dir);
    snprintf(command, sizeof command, "%s/scripts/gen-data --out %s --reps 2 --seed 3 --months 1 >/dev/null",
             root, data_dir);
    if (system(command) != 0)
        return -1;
    time_t next = (time_t)(mr_now_ms() / 1000 + 32 * 86400);
    struct tm tm;
    gmtime_r(&next, &tm);
    snprintf(month, sizeof month, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static void test_help_everywhere(void **state)
{
    (void)state;
    assert_int_equal(cli("--help"), 0);
    char listing[8192], names[2048] = "";
    snprintf(listing, sizeof listing, "%.8000s", out);
    int commands = 0;
    for (char *line = strtok(strstr(listing, "commands:\n") + 10, "\n"); line && strncmp(line, "options:", 8) != 0;
         line = strtok(NULL, "\n")) {
        char name[32];
        assert_int_equal(sscanf(line, " %31s", name), 1);
        strncat(names, name, sizeof names - strlen(names) - 2);
        strcat(names, " ");
        commands++;
    }
    assert_true(commands >= 14);
    /* every command's --help, in one shell: each prints its usage and exits 0 */
    char bin[512], command[4096];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command,
             "for c in %s; do u=$(%s --config %s $c --help 2>&1) || echo \"FAILED $c\"; "
             "case \"$u\" in *\"medrep $c\"*) ;; *) echo \"NO USAGE $c\" ;; esac; done 2>&1",
             names, bin, stack.config_path);
    FILE *p = popen(command, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    if (out[0])
        fprintf(stderr, "%s", out);
    assert_string_equal(out, "");
    /* deeper too */
    assert_int_equal(cli("meetings propose --help"), 0);
    assert_non_null(strstr(out, "medrep meetings"));
    assert_int_equal(cli("calls log --help"), 0);
    assert_non_null(strstr(out, "medrep calls log"));
}

static void test_clear_errors(void **state)
{
    (void)state;
    assert_int_equal(cli("no-such-command"), 2);
    assert_non_null(strstr(out, "medrep: unknown command 'no-such-command'"));
    assert_int_equal(cli("plan R1"), 2);
    assert_non_null(strstr(out, "medrep: plan: want REP PERIOD"));
    assert_int_equal(cli("plan R1 2026-13"), 2);             /* refused by the service as bad input */
    assert_non_null(strstr(out, "INVALID_ARGUMENT"));
    assert_int_equal(cli("token create --user U1"), 2);
    assert_non_null(strstr(out, "--role"));
    assert_int_equal(cli("import nonsense /nonexistent.csv"), 2);
    assert_non_null(strstr(out, "medrep: "));
    assert_int_equal(cli("attainment"), 2);
}

static void import_all(void)
{
    const char *kinds[] = {"products", "hospitals", "listings", "reps", "customers", "departments",
                           "prescriptions"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        int rc = cli("import %s %s/%s.csv", kinds[i], data_dir, kinds[i]);
        if (rc != 0 || !strstr(out, ", bad 0"))
            fprintf(stderr, "import %s: %s\n", kinds[i], out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, ", bad 0"));
        assert_null(strstr(out, "\r"));   /* no progress bar when not on a terminal */
    }
    assert_non_null(strstr(out, "grades recomputed: "));
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The customer-product pairs with prescription data in the generated
 * file: each gets a grade, so the segment matrix must sum to this. */
static long long graded_pairs(void)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/prescriptions.csv", data_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *pairs[4096];
    size_t n = 0;
    assert_non_null(fgets(line, sizeof line, f));   /* the header: customer_id,product_id,... */
    while (n < 4096 && fgets(line, sizeof line, f)) {
        char customer[64], product[64];
        if (sscanf(line, "%63[^,],%63[^,]", customer, product) == 2) {
            char key[160];
            snprintf(key, sizeof key, "%s,%s", customer, product);
            pairs[n++] = strdup(key);
        }
    }
    fclose(f);
    qsort(pairs, n, sizeof pairs[0], compare_text);
    long long unique = 0;
    for (size_t i = 0; i < n; i++)
        unique += i == 0 || strcmp(pairs[i], pairs[i - 1]) != 0;
    for (size_t i = 0; i < n; i++)
        free(pairs[i]);
    return unique;
}

static void test_import_segments_plan_attainment(void **state)
{
    (void)state;
    import_all();
    assert_int_equal(cli("--json segments"), 0);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    assert_non_null(j);
    long long total = 0;
    size_t i;
    json_t *row;
    json_array_foreach(j, i, row) {
        for (const char *seg = "ABCD"; *seg; seg++) {
            char key[2] = {*seg, 0};
            total += json_integer_value(json_object_get(row, key));
        }
    }
    json_decref(j);
    assert_true(total > 0);
    assert_int_equal(total, graded_pairs());
    assert_int_equal(cli("segments"), 0);
    assert_non_null(strstr(out, "P1"));

    assert_int_equal(cli("--json plan --all %s", month), 0);
    j = json_loads(out, 0, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "reps")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "plans")), 2);
    assert_true(json_integer_value(json_object_get(json_array_get(json_object_get(j, "plans"), 0), "calls")) > 0);
    json_decref(j);
    assert_int_equal(cli("plan R1 %s --stored", month), 0);
    assert_non_null(strstr(out, "Plan of R1 for "));
    assert_non_null(strstr(out, "call(s)"));

    assert_int_equal(cli("attainment %s --rep R1", month), 0);
    assert_non_null(strstr(out, "Attainment of rep R1"));
    assert_int_equal(cli("--json attainment %s --team ONC", month), 0);
    j = json_loads(out, 0, &err);
    assert_non_null(json_object_get(j, "segments"));
    json_decref(j);
}

/* The REVOKED column of the token's row in the last output. */
static const char *revoked_column(const char *hash)
{
    static char last[16];
    const char *row = strstr(out, hash);
    assert_non_null(row);
    size_t len = strcspn(row, "\n");
    const char *p = row + len;
    while (p > row && p[-1] != ' ')
        p--;
    snprintf(last, sizeof last, "%.*s", (int)(row + len - p), p);
    return last;
}

/* Runs medrep on a pseudo-terminal (util-linux `script`), so it draws its
 * progress bars; the output (both streams) goes to out. */
static int cli_on_terminal(const char *args)
{
    char bin[512], command[2048];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "script -qec '%s --config %s %s' /dev/null </dev/null 2>&1", bin,
             stack.config_path, args);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    int status = p ? pclose(p) : -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_progress_bars_on_a_terminal(void **state)
{
    (void)state;
    char args[600];
    snprintf(args, sizeof args, "import prescriptions %s/prescriptions.csv --chunk-kb 2 --no-regrade", data_dir);
    assert_int_equal(cli_on_terminal(args), 0);
    assert_non_null(strstr(out, "\r"));
    assert_non_null(strstr(out, "100.0%"));
    snprintf(args, sizeof args, "plan --all %s", month);
    assert_int_equal(cli_on_terminal(args), 0);
    assert_non_null(strstr(out, "] 2/2"));
    assert_non_null(strstr(out, "2 rep(s) planned for "));
}

static void test_calls_inbox_tokens(void **state)
{
    (void)state;
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/customers.csv", data_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) && !customer[0])   /* the first customer of R1 */
        if (strstr(line, ",R1,"))
            sscanf(line, "%63[^,]", customer);
    fclose(f);
    assert_true(customer[0]);
    assert_int_equal(cli("calls add R1 %s '%s-20 10:00'", customer, month), 0);
    assert_non_null(strstr(out, "added (pinned)"));
    assert_int_equal(cli("--json calls add R1 %s '%s-20 14:00'", customer, month), 0);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    char call[64] = "";
    snprintf(call, sizeof call, "%s", json_string_value(json_object_get(j, "call_id")) ?: "");
    json_decref(j);
    assert_true(call[0]);
    assert_int_equal(cli("calls cancel %s --reason ill", call), 0);
    assert_int_equal(cli("calls cancel %s", call), 1);   /* no longer planned */
    assert_non_null(strstr(out, "FAILED_PRECONDITION"));

    assert_int_equal(cli("inbox --person R1"), 0);
    assert_non_null(strstr(out, "unread"));
    assert_int_equal(cli("--json inbox --person R1"), 0);
    assert_non_null(strstr(out, "\"items\""));

    assert_int_equal(cli("token create --user R1 --role rep --region north"), 0);
    char hash[72] = "";
    assert_int_equal(sscanf(strstr(out, "# hash "), "# hash %64s", hash), 1);
    assert_int_equal(cli("token list"), 0);
    assert_non_null(strstr(out, hash));
    assert_string_equal(revoked_column(hash), "no");
    assert_int_equal(cli("token revoke %s", hash), 0);
    assert_int_equal(cli("token list"), 0);
    assert_string_equal(revoked_column(hash), "yes");
}

static void test_watch_prints_live_events(void **state)
{
    (void)state;
    char bin[512], command[1400];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "timeout 20 %s --config %s --json watch --count 1 2>&1", bin, stack.config_path);
    FILE *p = popen(command, "r");
    assert_non_null(p);
    /* events the feed carries (CallPlanned), until watch has subscribed and printed one */
    struct pollfd pfd = {.fd = fileno(p), .events = POLLIN};
    for (int i = 0; i < 20 && poll(&pfd, 1, 0) == 0; i++) {
        assert_int_equal(cli("calls add R1 %s '%s-%02d 11:00'", customer, month, 2 + i), 0);
        poll(&pfd, 1, 500);
    }
    char got[4096] = "";
    size_t n = fread(got, 1, sizeof got - 1, p);
    got[n] = '\0';
    int status = pclose(p);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "watch: %s\n", got);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    json_error_t err;
    json_t *j = json_loads(got, 0, &err);   /* one JSON object a line */
    if (!j)
        fprintf(stderr, "watch: %s\n", got);
    assert_non_null(j);
    assert_int_equal(strncmp(json_string_value(json_object_get(j, "topic")) ?: "", "north.", 6), 0);
    assert_non_null(json_object_get(json_object_get(j, "event"), "event_id"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_clear_errors),
        cmocka_unit_test(test_import_segments_plan_attainment),
        cmocka_unit_test(test_progress_bars_on_a_terminal),
        cmocka_unit_test(test_calls_inbox_tokens),
        cmocka_unit_test(test_watch_prints_live_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
