/* test_meetings_cli.c: `medrep meetings ...` against a real stack: a
 * proposal from the command line, its readable and JSON forms, a
 * transition, an illegal one (exit status 1 and a clear message), the
 * suggestions, the list, the iCalendar export and bad usage (status 2). */
// ctest-label: integration
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "meetings_testlib.h"

static int setup(void **state)
{
    (void)state;
    return mtl_start(NULL, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return mtl_stop();
}

static char out[65536];

static int cli(const char *fmt, ...)
{
    char args[2048], bin[512], command[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s --region north %s 2>&1", bin, mtl_stack.config_path, args);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    int status = p ? pclose(p) : -1;
    if (getenv("MT_DEBUG"))
        fprintf(stderr, "$ medrep %s\n%s", args, out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_propose_show_transition(void **state)
{
    (void)state;
    /* a start time 20 days ahead, in the region's zone (Asia/Shanghai, UTC+8) */
    int64_t t = mr_now_ms() + 20 * DAY_MS;
    int y, mo, d;
    mr_civil_from_days((t + 8 * 3600000LL) / DAY_MS, &y, &mo, &d);
    assert_int_equal(cli("meetings propose --as R1 --hospital H1 --dept D1 --product P1 --rep R1 "
                         "--start %04d-%02d-%02dT07:45 --theme 'Dosing in renal failure' --head 8 "
                         "--budget 80000 --gift 3000 --invite C01,C04,C02'>'C01 --ally AO_H1,AI_H1 "
                         "--director-agreed --staff ST1,ST2 --json", y, mo, d), 0);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    assert_non_null(j);
    const char *id = json_string_value(json_object_get(j, "meeting_id"));
    assert_non_null(id);
    char mid[64];
    snprintf(mid, sizeof mid, "%s", id);
    json_t *m = json_object_get(j, "meeting");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "proposed");
    assert_int_equal(json_array_size(json_object_get(m, "invitees")), 3);
    char local[32];
    snprintf(local, sizeof local, "%04d-%02d-%02d 07:45", y, mo, d);
    json_decref(j);

    assert_int_equal(cli("meetings show %s", mid), 0);
    assert_non_null(strstr(out, "[proposed]"));
    assert_non_null(strstr(out, local));                 /* shown in local time */
    assert_non_null(strstr(out, "backup for C01"));
    assert_non_null(strstr(out, "Dosing in renal failure"));

    assert_int_equal(cli("meetings transition %s pending_approval --as R1", mid), 0);
    assert_non_null(strstr(out, "[pending_approval]"));
    assert_int_equal(cli("meetings transition %s closed --as DM1", mid), 1);
    assert_non_null(strstr(out, "illegal transition pending_approval -> closed"));
    assert_int_equal(cli("meetings transition %s approved --as DM1 --comment fine", mid), 0);
    assert_non_null(strstr(out, "by DM1: fine"));

    assert_int_equal(cli("meetings list --rep R1"), 0);
    assert_non_null(strstr(out, mid));
    assert_non_null(strstr(out, "approved"));
    /* a second meeting a day later, then the list a page at a time */
    mr_civil_from_days((t + DAY_MS + 8 * 3600000LL) / DAY_MS, &y, &mo, &d);
    assert_int_equal(cli("meetings propose --as R1 --hospital H1 --dept D1 --product P1 --rep R1 "
                         "--start %04d-%02d-%02dT07:45 --theme 'Second look' --head 8 "
                         "--invite C01,C04 --ally AO_H1,AI_H1 --director-agreed --staff ST1,ST2", y, mo, d), 0);
    assert_int_equal(cli("meetings list --rep R1 --limit 1"), 0);
    assert_non_null(strstr(out, mid));                   /* the earlier one first */
    assert_non_null(strstr(out, "1 meeting(s)"));
    const char *more = strstr(out, "more: add --page-token ");
    assert_non_null(more);
    char token[200];
    assert_int_equal(sscanf(more, "more: add --page-token %199s", token), 1);
    assert_int_equal(cli("meetings list --rep R1 --limit 1 --page-token '%s'", token), 0);
    assert_null(strstr(out, mid));
    assert_non_null(strstr(out, "Second look"));
    assert_null(strstr(out, "more:"));
    assert_int_equal(cli("meetings list --rep R1 --limit 0"), 2);
    assert_int_equal(cli("meetings list --rep R1 --page-token nonsense"), 1);
    assert_non_null(strstr(out, "INVALID_ARGUMENT"));
    assert_int_equal(cli("meetings ical %s", mid), 0);
    assert_non_null(strstr(out, "BEGIN:VEVENT"));
    assert_int_equal(cli("meetings suggest --dept D1 --product P1"), 0);
    assert_non_null(strstr(out, "speaker candidates: C01"));
    assert_int_equal(cli("meetings rsvp %s", mid), 2);
    assert_int_equal(cli("meetings fly"), 2);
    assert_int_equal(cli("meetings show nosuch"), 1);
    assert_non_null(strstr(out, "NOT_FOUND"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_propose_show_transition),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
