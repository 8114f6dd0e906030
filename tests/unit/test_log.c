/* test_log.c: logfmt records and value quoting (common/log.c). Records are
 * caught by pointing stderr at a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* ---- Catching stderr ---- */

typedef struct {
    int saved_fd;
    int file_fd;
    char path[64];
} capture;

static void capture_start(capture *c) {
    strcpy(c->path, "/tmp/medrep-test-log-XXXXXX");
    c->file_fd = mkstemp(c->path);
    assert_true(c->file_fd >= 0);
    fflush(stderr);
    c->saved_fd = dup(STDERR_FILENO);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(c->file_fd, STDERR_FILENO) >= 0);
}

/* Restores stderr and returns what was written (caller frees). */
static char *capture_end(capture *c) {
    fflush(stderr);
    assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
    close(c->saved_fd);
    off_t size = lseek(c->file_fd, 0, SEEK_END);
    assert_true(size >= 0);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(c->file_fd, text, (size_t)size, 0), size);
    close(c->file_fd);
    unlink(c->path);
    return text;
}

static int count_lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += (*text == '\n');
    return n;
}

/* ---- Levels ---- */

static void test_level_parse(void **state) {
    (void)state;
    assert_int_equal(mr_log_level_parse("debug"), MR_LOG_DEBUG);
    assert_int_equal(mr_log_level_parse("info"), MR_LOG_INFO);
    assert_int_equal(mr_log_level_parse("warn"), MR_LOG_WARN);
    assert_int_equal(mr_log_level_parse("ERROR"), MR_LOG_ERROR);
    assert_int_equal(mr_log_level_parse("warning"), -1);
    assert_int_equal(mr_log_level_parse("inf"), -1);
    assert_int_equal(mr_log_level_parse(""), -1);
    assert_int_equal(mr_log_level_parse(NULL), -1);
}

/* ---- Quoting ---- */

static void test_quote_leaves_plain_values_alone(void **state) {
    (void)state;
    char buf[64];
    assert_string_equal(mr_log_quote("scoring", buf, sizeof(buf)), "scoring");
    assert_string_equal(mr_log_quote("a\\b", buf, sizeof(buf)), "a\\b");
    assert_string_equal(mr_log_quote("tcp://127.0.0.1:5555", buf, sizeof(buf)),
                        "tcp://127.0.0.1:5555");
}

static void test_quote_quotes_spaces_quotes_and_equals(void **state) {
    (void)state;
    char buf[64];
    assert_string_equal(mr_log_quote("two words", buf, sizeof(buf)), "\"two words\"");
    assert_string_equal(mr_log_quote("a=b", buf, sizeof(buf)), "\"a=b\"");
    assert_string_equal(mr_log_quote("say \"hi\"", buf, sizeof(buf)), "\"say \\\"hi\\\"\"");
    assert_string_equal(mr_log_quote("c:\\dir x", buf, sizeof(buf)), "\"c:\\\\dir x\"");
    assert_string_equal(mr_log_quote("", buf, sizeof(buf)), "\"\"");
    assert_string_equal(mr_log_quote(NULL, buf, sizeof(buf)), "\"\"");
}

static void test_quote_replaces_control_characters(void **state) {
    (void)state;
    char buf[64];
    assert_string_equal(mr_log_quote("line1\nline2", buf, sizeof(buf)), "line1?line2");
    assert_string_equal(mr_log_quote("tab\there x", buf, sizeof(buf)), "\"tab?here x\"");
    assert_string_equal(mr_log_quote("del\x7f", buf, sizeof(buf)), "del?");
    /* UTF-8 passes through */
    assert_string_equal(mr_log_quote("北京", buf, sizeof(buf)), "北京");
}

static void test_quote_truncates_and_keeps_closing_quote(void **state) {
    (void)state;
    char buf[8];
    assert_string_equal(mr_log_quote("abcdefghijk", buf, sizeof(buf)), "abcdefg");
    assert_string_equal(mr_log_quote("abc defghijk", buf, sizeof(buf)), "\"abc d\"");
    /* an escape is never cut in half */
    assert_string_equal(mr_log_quote("abcd\"efg", buf, sizeof(buf)), "\"abcd\"");
    char tiny[2];
    assert_string_equal(mr_log_quote("a b", tiny, sizeof(tiny)), "");
    char untouched[4] = "xyz";
    mr_log_quote("abc", untouched, 0);
    assert_string_equal(untouched, "xyz");
}

/* ---- Records ---- */

static void test_record_format(void **state) {
    (void)state;
    capture c;
    mr_log_init("scoring-3f2a", MR_LOG_INFO);
    capture_start(&c);
    mr_info("worker_ready", "service=%s n=%d", "scoring", 3);
    char *out = capture_end(&c);

    regex_t re;
    const char *pattern =
        "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
        "level=info comp=scoring-3f2a event=worker_ready service=scoring n=3\n$";
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
    int match = regexec(&re, out, 0, NULL, 0);
    regfree(&re);
    if (match != 0) fprintf(stderr, "got: %s", out);
    assert_int_equal(match, 0);
    free(out);
}

static void test_levels_below_minimum_are_dropped(void **state) {
    (void)state;
    capture c;
    mr_log_init("t", MR_LOG_WARN);
    capture_start(&c);
    mr_debug("d", "x=1");
    mr_info("i", "x=2");
    mr_warn("w", "x=3");
    mr_error("e", "x=4");
    char *out = capture_end(&c);
    assert_int_equal(count_lines(out), 2);
    assert_null(strstr(out, "event=d"));
    assert_null(strstr(out, "event=i"));
    assert_non_null(strstr(out, "level=warn comp=t event=w x=3\n"));
    assert_non_null(strstr(out, "level=error comp=t event=e x=4\n"));
    free(out);

    mr_log_init("t", MR_LOG_DEBUG);
    capture_start(&c);
    mr_debug("d", "x=1");
    out = capture_end(&c);
    assert_non_null(strstr(out, "level=debug comp=t event=d x=1\n"));
    free(out);
}

static void test_component_and_event_are_quoted(void **state) {
    (void)state;
    capture c;
    mr_log_init("my comp", MR_LOG_INFO);
    capture_start(&c);
    mr_info("odd event", "k=%s", "v");
    mr_info("bare", "%s", "");
    char *out = capture_end(&c);
    assert_non_null(strstr(out, " comp=\"my comp\" event=\"odd event\" k=v\n"));
    assert_non_null(strstr(out, " event=bare\n"));
    free(out);
    mr_log_init(NULL, MR_LOG_INFO);
    capture_start(&c);
    mr_info("e", "k=1");
    out = capture_end(&c);
    assert_non_null(strstr(out, " comp=medrep event=e k=1\n"));
    free(out);
}

static void test_long_record_is_cut_and_ends_with_newline(void **state) {
    (void)state;
    capture c;
    char big[10000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mr_log_init("t", MR_LOG_INFO);
    capture_start(&c);
    mr_info("big", "v=%s", big);
    mr_info("after", "k=1");
    char *out = capture_end(&c);
    assert_int_equal(count_lines(out), 2);
    char *first_end = strchr(out, '\n');
    assert_true(first_end - out + 1 <= 4096);
    assert_true(first_end - out + 1 >= 4000);
    assert_non_null(strstr(first_end + 1, "event=after k=1\n"));
    free(out);
}

static void test_errno_is_preserved(void **state) {
    (void)state;
    capture c;
    mr_log_init("t", MR_LOG_INFO);
    capture_start(&c);
    errno = ENOENT;
    mr_info("e", "k=1");
    assert_int_equal(errno, ENOENT);
    free(capture_end(&c));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_quote_leaves_plain_values_alone),
        cmocka_unit_test(test_quote_quotes_spaces_quotes_and_equals),
        cmocka_unit_test(test_quote_replaces_control_characters),
        cmocka_unit_test(test_quote_truncates_and_keeps_closing_quote),
        cmocka_unit_test(test_record_format),
        cmocka_unit_test(test_levels_below_minimum_are_dropped),
        cmocka_unit_test(test_component_and_event_are_quoted),
        cmocka_unit_test(test_long_record_is_cut_and_ends_with_newline),
        cmocka_unit_test(test_errno_is_preserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
