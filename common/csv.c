/* csv.c: the streaming CSV reader (see csv.h).
 *
 * A byte-at-a-time state machine. The current record's field text lives
 * in one buffer, each field followed by a NUL, so memory stays at
 * max_record + max_fields bytes whatever the file. Invariant: csv->len is
 * the bytes of the record so far; fields[0..nfields) are its closed
 * fields; the open field starts at field_start. */
#include "csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    S_FIELD_START,   /* at the start of a field */
    S_UNQUOTED,      /* inside an unquoted field */
    S_QUOTED,        /* inside a quoted field */
    S_QUOTE_SEEN,    /* a quote inside a quoted field: closes it or starts "" */
    S_SKIP,          /* a malformed record: skipping to its end */
};

struct mr_csv {
    long line;             /* line number of the next byte */
    long record_line;      /* where the current record starts */
    int state;
    bool record_started;   /* the record has at least one byte */
    bool cr_pending;       /* a CR outside quotes waits for its LF */
    bool skip_in_quotes;   /* quoting state while skipping a bad record */
    int bom_pos;           /* bytes of the BOM matched at the start; -1 when done */
    const char *error;
    char *buf;
    size_t len, cap, max_record;
    size_t field_start;
    size_t *offs, *lens;
    const char **ptrs;
    size_t nfields, max_fields;
};

mr_csv *mr_csv_new(long first_line, size_t max_record, size_t max_fields)
{
    mr_csv *csv = calloc(1, sizeof *csv);
    if (!csv || max_fields == 0)
        goto fail;
    csv->line = first_line;
    csv->record_line = first_line;
    csv->max_record = max_record;
    csv->max_fields = max_fields;
    csv->cap = max_record + max_fields + 1;
    csv->buf = malloc(csv->cap);
    csv->offs = calloc(max_fields, sizeof *csv->offs);
    csv->lens = calloc(max_fields, sizeof *csv->lens);
    csv->ptrs = calloc(max_fields, sizeof *csv->ptrs);
    if (!csv->buf || !csv->offs || !csv->lens || !csv->ptrs)
        goto fail;
    return csv;
fail:
    mr_csv_free(&csv);
    return NULL;
}

void mr_csv_free(mr_csv **csv)
{
    if (!csv || !*csv)
        return;
    free((*csv)->buf);
    free((*csv)->offs);
    free((*csv)->lens);
    free((*csv)->ptrs);
    free(*csv);
    *csv = NULL;
}

/* ---- UTF-8 ---- */

/* Length of the valid sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

bool mr_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* ---- Records ---- */

static void record_reset(mr_csv *csv)
{
    csv->len = 0;
    csv->field_start = 0;
    csv->nfields = 0;
    csv->state = S_FIELD_START;
    csv->record_started = false;
    csv->error = NULL;
    csv->skip_in_quotes = false;
}

/* Marks the record bad; the rest of it is skipped. */
static void record_fail(mr_csv *csv, const char *why, bool in_quotes)
{
    if (!csv->error)
        csv->error = why;
    csv->state = S_SKIP;
    csv->skip_in_quotes = in_quotes;
}

static void push_byte(mr_csv *csv, char c)
{
    if (csv->len - csv->nfields >= csv->max_record) {
        record_fail(csv, "record too long", csv->state == S_QUOTED);
        return;
    }
    csv->buf[csv->len++] = c;
}

static void close_field(mr_csv *csv)
{
    if (csv->nfields == csv->max_fields) {
        record_fail(csv, "too many fields", false);
        return;
    }
    csv->offs[csv->nfields] = csv->field_start;
    csv->lens[csv->nfields] = csv->len - csv->field_start;
    csv->nfields++;
    csv->buf[csv->len++] = '\0';   /* room reserved: cap counts one NUL per field */
    csv->field_start = csv->len;
}

/* Checks the fields of a complete record for UTF-8 and NUL bytes. */
static const char *record_check(const mr_csv *csv)
{
    for (size_t i = 0; i < csv->nfields; i++) {
        const char *f = csv->buf + csv->offs[i];
        if (memchr(f, '\0', csv->lens[i]))
            return "NUL byte in a field";
        if (!mr_utf8_valid(f, csv->lens[i]))
            return "invalid UTF-8";
    }
    return NULL;
}

/* Ends the record at a line break (or the end of input) and reports it. */
static int record_end(mr_csv *csv, mr_csv_row_fn fn, void *arg)
{
    int rc = 0;
    bool blank = !csv->record_started;
    if (!blank) {
        if (csv->state != S_SKIP)
            close_field(csv);
        mr_csv_row row = {.line = csv->record_line};
        row.error = csv->error ? csv->error : record_check(csv);
        if (!row.error) {
            for (size_t i = 0; i < csv->nfields; i++)
                csv->ptrs[i] = csv->buf + csv->offs[i];
            row.count = csv->nfields;
            row.fields = csv->ptrs;
            row.lens = csv->lens;
        }
        rc = fn(&row, arg);
    }
    record_reset(csv);
    csv->record_line = csv->line;
    return rc;
}

/* One byte outside a quoted field (states FIELD_START and UNQUOTED). */
static int byte_unquoted(mr_csv *csv, char c, mr_csv_row_fn fn, void *arg)
{
    if (c == ',') {
        close_field(csv);
        if (csv->state != S_SKIP)
            csv->state = S_FIELD_START;
    } else if (c == '\n') {
        return record_end(csv, fn, arg);
    } else if (c == '\r') {
        csv->cr_pending = true;
    } else if (c == '"') {
        if (csv->state == S_FIELD_START)
            csv->state = S_QUOTED;
        else
            record_fail(csv, "stray quote inside an unquoted field", false);
    } else {
        csv->state = S_UNQUOTED;
        push_byte(csv, c);
    }
    return 0;
}

static int byte_in_state(mr_csv *csv, char c, mr_csv_row_fn fn, void *arg)
{
    switch (csv->state) {
    case S_QUOTED:
        if (c == '"')
            csv->state = S_QUOTE_SEEN;
        else
            push_byte(csv, c);
        return 0;
    case S_QUOTE_SEEN:
        if (c == '"') {
            csv->state = S_QUOTED;
            push_byte(csv, c);
            return 0;
        }
        if (c == ',' || c == '\n' || c == '\r') {
            csv->state = S_UNQUOTED;
            return byte_unquoted(csv, c, fn, arg);
        }
        record_fail(csv, "text after a closing quote", false);
        return 0;
    case S_SKIP:
        if (c == '"')
            csv->skip_in_quotes = !csv->skip_in_quotes;
        else if (c == '\n' && !csv->skip_in_quotes)
            return record_end(csv, fn, arg);
        return 0;
    default:
        return byte_unquoted(csv, c, fn, arg);
    }
}

static int feed_byte(mr_csv *csv, char c, mr_csv_row_fn fn, void *arg)
{
    if (csv->cr_pending) {
        csv->cr_pending = false;
        if (c != '\n' && csv->state != S_SKIP) {
            csv->state = S_UNQUOTED;
            push_byte(csv, '\r');   /* a lone CR is field text */
        }
    }
    if (c == '\n')
        csv->line++;
    if (c != '\n' && c != '\r')
        csv->record_started = true;
    else if (csv->state == S_QUOTED || csv->state == S_SKIP)
        csv->record_started = true;
    return byte_in_state(csv, c, fn, arg);
}

static const char BOM[3] = {(char)0xEF, (char)0xBB, (char)0xBF};

int mr_csv_feed(mr_csv *csv, const char *data, size_t len, mr_csv_row_fn fn, void *arg)
{
    for (size_t i = 0; i < len; i++) {
        if (csv->bom_pos >= 0) {
            if (data[i] == BOM[csv->bom_pos]) {
                if (++csv->bom_pos == 3)
                    csv->bom_pos = -1;
                continue;
            }
            int matched = csv->bom_pos;
            csv->bom_pos = -1;
            for (int k = 0; k < matched; k++) {
                int rc = feed_byte(csv, BOM[k], fn, arg);
                if (rc)
                    return rc;
            }
        }
        int rc = feed_byte(csv, data[i], fn, arg);
        if (rc)
            return rc;
    }
    return 0;
}

int mr_csv_finish(mr_csv *csv, mr_csv_row_fn fn, void *arg)
{
    if (csv->bom_pos > 0) {
        int matched = csv->bom_pos;
        csv->bom_pos = -1;
        for (int k = 0; k < matched; k++)
            feed_byte(csv, BOM[k], fn, arg);
    }
    csv->cr_pending = false;
    if (csv->state == S_QUOTED)
        record_fail(csv, "unterminated quote at the end of the input", true);
    return record_end(csv, fn, arg);
}

size_t mr_csv_split(const char *data, size_t len, bool *in_quotes, long *lines)
{
    size_t cut = 0;
    long seen = 0, at_cut = 0;
    bool q = *in_quotes;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '"') {
            q = !q;
        } else if (data[i] == '\n') {
            seen++;
            if (!q) {
                cut = i + 1;
                at_cut = seen;
            }
        }
    }
    if (cut > 0)
        *in_quotes = false;   /* a record ends at the cut, outside quotes */
    *lines += at_cut;
    return cut;
}
