/* test_scoring_cli.c: `medrep import` as a real command against a running
 * stack: a file streamed in many small chunks (a quoted field spanning
 * lines included) keeps the file's line numbers in its bad-row report,
 * grades are recomputed after prescriptions, importing the same file
 * again changes nothing, and `medrep grades / segments / hospitals /
 * regrade` answer. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "stack.h"

#define CUSTOMERS 200
#define MONTHS 6
#define BAD_LINE 1000

static h_stack stack;
static char out[65536];

static int run_cli(const char *args)
{
    char bin[512], command[2048];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s %s 2>&1", bin, stack.config_path, args);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    int status = p ? pclose(p) : -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", stack.dir, name);
    assert_int_equal(h_write_file(path, text), 0);
}

static void write_customers(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/customers.csv", stack.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "id,name,kind,hospital_id,department_id,rep_id,title,setting,kol,group\n");
    for (int i = 1; i <= CUSTOMERS; i++)
        fprintf(f, "C%04d,\"Dr %d\nsecond line, with comma\",prescriber,H1,D1,R1,attending,outpatient,0,\n",
                i, i);
    fclose(f);
}

/* Every customer, MONTHS months; the row on line BAD_LINE has a bad month. */
static void write_prescriptions(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rx.csv", stack.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "customer_id,product_id,month,our_rx,market_rx,patients_per_week\n");
    int line = 2;
    for (int i = 1; i <= CUSTOMERS; i++)
        for (int m = 1; m <= MONTHS; m++, line++)
            fprintf(f, "C%04d,P1,2026-%02d,%d,%d,%s\n", i, line == BAD_LINE ? 13 : m, i % 7, 10 + i,
                    m % 2 ? "4" : "");
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&stack, 1, regions, NULL) != 0 ||
        h_stack_start_service(&stack, "scoring", "scoring-cli", NULL) < 0 ||
        h_stack_wait_workers(&stack, "scoring", 1, 10000) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static void import_command(char *buf, size_t cap, const char *kind, const char *file)
{
    snprintf(buf, cap, "import %s %s/%s --chunk-kb 4", kind, stack.dir, file);
}

static void test_import_streams_and_reports_lines(void **state)
{
    (void)state;
    char cmd[1024];
    write_file("products.csv", "id,name,therapy_area,competitors\nP1,Onco,oncology,X\n");
    write_file("hospitals.csv", "id,name,tier,beds,outpatient_visits,lat,lon\nH1,First,3,900,2500,31.2,121.4\n");
    write_file("reps.csv", "id,name,team,dm_id\nR1,Li,ONC,DM1\n");
    write_customers();
    write_prescriptions();
    import_command(cmd, sizeof cmd, "products", "products.csv");
    assert_int_equal(run_cli(cmd), 0);
    assert_non_null(strstr(out, "rows ok 1, unchanged 0, bad 0"));
    import_command(cmd, sizeof cmd, "hospitals", "hospitals.csv");
    assert_int_equal(run_cli(cmd), 0);
    import_command(cmd, sizeof cmd, "reps", "reps.csv");
    assert_int_equal(run_cli(cmd), 0);
    import_command(cmd, sizeof cmd, "customers", "customers.csv");
    assert_int_equal(run_cli(cmd), 0);
    assert_non_null(strstr(out, "rows ok 200, unchanged 0, bad 0"));

    import_command(cmd, sizeof cmd, "prescriptions", "rx.csv");
    assert_int_equal(run_cli(cmd), 1);   /* one bad row */
    fprintf(stderr, "%s", out);
    assert_non_null(strstr(out, "rows ok 1199, unchanged 0, bad 1"));
    assert_non_null(strstr(out, "line 1000: month must be YYYY-MM"));
    assert_non_null(strstr(out, "grades recomputed: 200, changed: 200"));

    assert_int_equal(run_cli(cmd), 1);
    assert_non_null(strstr(out, "rows ok 0, unchanged 1199, bad 1"));
    assert_non_null(strstr(out, "grades recomputed: 200, changed: 0"));
    import_command(cmd, sizeof cmd, "customers", "customers.csv");
    assert_int_equal(run_cli(cmd), 0);
    assert_non_null(strstr(out, "rows ok 0, unchanged 200, bad 0"));
}

static void test_queries(void **state)
{
    (void)state;
    assert_int_equal(run_cli("grades C0150"), 0);
    assert_non_null(strstr(out, "P1"));
    assert_non_null(strstr(out, "potential"));
    assert_non_null(strstr(out, "-> "));        /* its history line */
    assert_int_equal(run_cli("--json segments --team ONC --product P1"), 0);
    assert_non_null(strstr(out, "\"product\": \"P1\""));
    assert_int_equal(run_cli("segments --rep R1"), 0);
    assert_non_null(strstr(out, "PRODUCT"));
    assert_int_equal(run_cli("hospitals --product P1"), 0);
    assert_non_null(strstr(out, "H1"));
    assert_non_null(strstr(out, "score"));
    assert_int_equal(run_cli("regrade"), 0);
    assert_non_null(strstr(out, "changed: 0"));
    assert_int_equal(run_cli("import spaceships /dev/null"), 2);
    assert_int_equal(run_cli("import products /no/such/file"), 2);
    assert_int_equal(run_cli("grades"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_streams_and_reports_lines),
        cmocka_unit_test(test_queries),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
