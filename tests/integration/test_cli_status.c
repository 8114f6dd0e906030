/* test_cli_status.c: `medrep status` run as a real command against a
 * running stack lists every instance of every service with its Redis
 * state, as a table and as JSON; `medrep` with bad usage exits 2. */
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


static void test_status_lists_every_instance(void **state)
{
    (void)state;
    h_stack stack;
    const char *regions[] = {"north", NULL};
    assert_int_equal(h_stack_start(&stack, 1, regions, NULL), 0);
    assert_true(h_stack_start_service(&stack, "scoring", "scoring-t1", NULL) >= 0);
    assert_true(h_stack_start_service(&stack, "scoring", "scoring-t2", NULL) >= 0);
    assert_true(h_stack_start_service(&stack, "notify", "notify-t1", NULL) >= 0);
    assert_int_equal(h_stack_wait_workers(&stack, "scoring", 2, 10000), 0);
    assert_int_equal(h_stack_wait_workers(&stack, "notify", 1, 10000), 0);

    static char out[16384];
    assert_int_equal(h_stack_cli(&stack, "status", out, sizeof out), 0);
    fprintf(stderr, "%s", out);
    assert_non_null(strstr(out, "scoring-t1"));
    assert_non_null(strstr(out, "scoring-t2"));
    assert_non_null(strstr(out, "notify-t1"));
    assert_non_null(strstr(out, "3 instance(s)"));
    assert_non_null(strstr(out, " ok"));

    assert_int_equal(h_stack_cli(&stack, "--json status", out, sizeof out), 0);
    assert_non_null(strstr(out, "\"instance\": \"scoring-t2\""));
    assert_non_null(strstr(out, "\"redis\": \"ok\""));

    assert_int_equal(h_stack_cli(&stack, "no-such-command", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command"));
    assert_int_equal(h_stack_stop(&stack), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_lists_every_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
