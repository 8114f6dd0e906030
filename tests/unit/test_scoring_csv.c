/* test_scoring_csv.c: the streaming CSV reader (common/csv.c) that the
 * scoring imports use: RFC 4180 quoting, CRLF, line numbers of records
 * that span lines, every malformed case reported by line and skipped,
 * byte-at-a-time feeding giving the same records, and the chunk splitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

typedef struct {
    int count;
    long lines[16];
    char text[16][256];   /* fields joined with '|', or "!error" */
} seen;

static int collect(const mr_csv_row *r, void *arg)
{
    seen *s = arg;
    if (s->count == 16)
        return 1;
    s->lines[s->count] = r->line;
    char *t = s->text[s->count];
    t[0] = '\0';
    if (r->error) {
        snprintf(t, 256, "!%s", r->error);
    } else {
        for (size_t i = 0; i < r->count; i++) {
            if (i)
                strcat(t, "|");
            strncat(t, r->fields[i], 200 - strlen(t));
        }
    }
    s->count++;
    return 0;
}

static seen parse(const char *text, long first_line, size_t max_record, bool bytewise)
{
    seen s = {0};
    mr_csv *csv = mr_csv_new(first_line, max_record, 8);
    assert_non_null(csv);
    if (bytewise)
        for (size_t i = 0; text[i]; i++)
            assert_int_equal(mr_csv_feed(csv, text + i, 1, collect, &s), 0);
    else
        assert_int_equal(mr_csv_feed(csv, text, strlen(text), collect, &s), 0);
    assert_int_equal(mr_csv_finish(csv, collect, &s), 0);
    mr_csv_free(&csv);
    assert_null(csv);
    return s;
}

static void plain_records_with_line_numbers(void **state)
{
    (void)state;
    seen s = parse("a,b,c\n1,2,3\r\n\n4,,6", 1, 1024, false);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.text[0], "a|b|c");
    assert_string_equal(s.text[1], "1|2|3");
    assert_string_equal(s.text[2], "4||6");
    assert_int_equal(s.lines[0], 1);
    assert_int_equal(s.lines[1], 2);
    assert_int_equal(s.lines[2], 4);   /* the blank line 3 is skipped but counted */
}

static void quoted_fields_span_lines(void **state)
{
    (void)state;
    const char *text = "\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\nlast,\"\"\n";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        seen s = parse(text, 10, 1024, bytewise);
        assert_int_equal(s.count, 3);
        assert_string_equal(s.text[0], "x, y|say \"hi\"");
        assert_string_equal(s.text[1], "two\nlines|z");
        assert_string_equal(s.text[2], "last|");
        assert_int_equal(s.lines[0], 10);
        assert_int_equal(s.lines[1], 11);
        assert_int_equal(s.lines[2], 13);
    }
}

static void malformed_records_are_reported_and_skipped(void **state)
{
    (void)state;
    seen s = parse("ok,1\nbad\"quote,2\n\"closed\"x,3\n\"bad\xff\",4\nok,5\n\"open,6\n", 1, 1024, false);
    assert_int_equal(s.count, 6);
    assert_string_equal(s.text[0], "ok|1");
    assert_non_null(strstr(s.text[1], "stray quote"));
    assert_int_equal(s.lines[1], 2);
    assert_non_null(strstr(s.text[2], "after a closing quote"));
    assert_non_null(strstr(s.text[3], "UTF-8"));
    assert_string_equal(s.text[4], "ok|5");
    assert_int_equal(s.lines[4], 5);
    assert_non_null(strstr(s.text[5], "unterminated"));
    assert_int_equal(s.lines[5], 6);
}

static void limits_are_enforced(void **state)
{
    (void)state;
    seen s = parse("aaaaaaaaaaaaaaaaaaaa,b\n1,2,3,4,5,6,7,8,9\nfine,row\n", 1, 10, false);
    assert_int_equal(s.count, 3);
    assert_non_null(strstr(s.text[0], "too long"));
    assert_non_null(strstr(s.text[1], "too many fields"));
    assert_string_equal(s.text[2], "fine|row");
    assert_int_equal(s.lines[2], 3);
}

static void bom_is_skipped_and_utf8_kept(void **state)
{
    (void)state;
    seen s = parse("\xEF\xBB\xBFid,name\nC1,\xE5\xBC\xA0\xE4\xB8\x89\n", 1, 1024, true);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.text[0], "id|name");
    assert_string_equal(s.text[1], "C1|\xE5\xBC\xA0\xE4\xB8\x89");
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_true(mr_utf8_valid("abc", 3));
    assert_true(mr_utf8_valid("\xF0\x9F\x98\x80", 4));
    assert_false(mr_utf8_valid("\xC0\xAF", 2));          /* overlong */
    assert_false(mr_utf8_valid("\xED\xA0\x80", 3));      /* surrogate */
    assert_false(mr_utf8_valid("\xF4\x90\x80\x80", 4));  /* above U+10FFFF */
    assert_false(mr_utf8_valid("\xE5\xBC", 2));          /* cut short */
}

static void split_cuts_after_whole_records(void **state)
{
    (void)state;
    bool q = false;
    long lines = 0;
    const char *a = "a,b\n\"c\nd\",e\n\"f";
    size_t cut = mr_csv_split(a, strlen(a), &q, &lines);
    assert_int_equal(cut, strlen("a,b\n\"c\nd\",e\n"));
    assert_int_equal(lines, 3);
    assert_false(q);
    /* a buffer with no record end inside quotes: nothing to cut */
    q = false;
    lines = 0;
    assert_int_equal(mr_csv_split("\"x\ny", 4, &q, &lines), 0);
    assert_int_equal(lines, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_records_with_line_numbers),
        cmocka_unit_test(quoted_fields_span_lines),
        cmocka_unit_test(malformed_records_are_reported_and_skipped),
        cmocka_unit_test(limits_are_enforced),
        cmocka_unit_test(bom_is_skipped_and_utf8_kept),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(split_cuts_after_whole_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
