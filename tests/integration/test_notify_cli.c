/* test_notify_cli.c: the notify subcommands of the medrep CLI run as real
 * commands against a running stack: `remind` schedules, `reminders`
 * lists what is pending a page at a time, `remind move` and `remind cancel` change it,
 * `inbox` shows what was delivered and `inbox read` marks it read; bad
 * usage exits 2 and a refused request exits 1. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <jansson.h>

#include "calls.h"
#include "notify_testlib.h"


static void test_cli(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NT_TEST_CONFIG), 0);
    assert_true(h_stack_start_service(&stack, "notify", "notify-cli", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "notify", 1, 10000), 0);
    mr_store *store = h_stack_store(&stack, 0);
    static char out[16384];

    assert_int_equal(h_stack_cli(&stack, "remind --person P1 --in 1h --title 'Call Dr Li' --id m1 --subject s1", out, sizeof out), 0);
    assert_non_null(strstr(out, "scheduled m1"));
    assert_int_equal(h_stack_cli(&stack, "remind --person P1 --in 2h --title Later --id m2", out, sizeof out), 0);
    assert_int_equal(h_stack_cli(&stack, "reminders --person P1", out, sizeof out), 0);
    assert_non_null(strstr(out, "Call Dr Li"));
    assert_non_null(strstr(out, "2 pending"));
    /* a page at a time: the first page names its continuation, --all walks both */
    assert_int_equal(h_stack_cli(&stack, "reminders --person P1 --limit 1", out, sizeof out), 0);
    assert_non_null(strstr(out, "Call Dr Li"));
    assert_null(strstr(out, "Later"));
    const char *more = strstr(out, "more: add --page-token ");
    assert_non_null(more);
    char token[256], next_page[320];
    assert_int_equal(sscanf(more, "more: add --page-token %255s", token), 1);
    snprintf(next_page, sizeof next_page, "reminders --person P1 --limit 1 --page-token '%s'", token);
    assert_int_equal(h_stack_cli(&stack, next_page, out, sizeof out), 0);
    assert_non_null(strstr(out, "Later"));
    assert_null(strstr(out, "Call Dr Li"));
    assert_null(strstr(out, "more:"));
    assert_int_equal(h_stack_cli(&stack, "--json reminders --person P1 --limit 1 --all", out, sizeof out), 0);
    json_t *pages = json_loads(out, 0, NULL);
    assert_non_null(pages);
    assert_int_equal(json_array_size(pages), 2);
    json_decref(pages);
    assert_int_equal(h_stack_cli(&stack, "reminders --person P1 --page-token nonsense", out, sizeof out), 1);
    assert_non_null(strstr(out, "INVALID_ARGUMENT"));
    assert_int_equal(h_stack_cli(&stack, "remind cancel --id m2", out, sizeof out), 0);
    assert_non_null(strstr(out, "1 cancelled"));
    /* move m1 from an hour ahead to now: it is delivered */
    assert_int_equal(h_stack_cli(&stack, "remind move --subject s1 --by -1h", out, sizeof out), 0);
    assert_non_null(strstr(out, "1 moved"));
    assert_int_equal(nt_wait_inbox(store, "P1", 1, 10000), 1);

    assert_int_equal(h_stack_cli(&stack, "--json inbox --person P1", out, sizeof out), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "unread")), 1);
    json_t *item = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "title")), "Call Dr Li");
    char args[256];
    snprintf(args, sizeof args, "inbox read --person P1 %s", json_string_value(json_object_get(item, "delivery_id")));
    json_decref(j);
    assert_int_equal(h_stack_cli(&stack, args, out, sizeof out), 0);
    assert_non_null(strstr(out, "0 unread"));
    assert_int_equal(h_stack_cli(&stack, "inbox --person P1", out, sizeof out), 0);
    assert_non_null(strstr(out, "1 shown, 0 unread"));

    assert_int_equal(h_stack_cli(&stack, "inbox", out, sizeof out), 2);
    assert_int_equal(h_stack_cli(&stack, "remind --person P1 --in soon", out, sizeof out), 2);
    assert_int_equal(h_stack_cli(&stack, "remind --person 'bad id' --in 1h", out, sizeof out), 1);
    assert_non_null(strstr(out, "INVALID_ARGUMENT"));

    mr_store_free(&store);
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
