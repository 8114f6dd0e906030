/* fuzz_csv.c: libFuzzer target for the streaming CSV reader (common/csv.c)
 * that decodes imported files. The input is read twice, once whole and
 * once in pieces cut at input-chosen places, and both readings must give
 * the same records; every record reported must respect the limits, hold
 * valid UTF-8 without NUL bytes, and carry a line number within the input.
 * The chunk splitter must only cut after a line break. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define MAX_RECORD 256
#define MAX_FIELDS 8

typedef struct {
    uint64_t hash;      /* over line numbers, errors and field bytes */
    long rows;
    long max_line;
} digest;

static void mix(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->hash = (d->hash ^ b[i]) * 1099511628211ULL;
}

static int check_row(const mr_csv_row *r, void *arg)
{
    digest *d = arg;
    if (r->line < 1 || r->line > d->max_line)
        abort();
    mix(d, &r->line, sizeof r->line);
    if (r->error) {
        mix(d, r->error, strlen(r->error));
    } else {
        if (r->count == 0 || r->count > MAX_FIELDS)
            abort();
        size_t total = 0;
        for (size_t i = 0; i < r->count; i++) {
            if (strlen(r->fields[i]) != r->lens[i] || !mr_utf8_valid(r->fields[i], r->lens[i]))
                abort();
            total += r->lens[i];
            mix(d, r->fields[i], r->lens[i] + 1);
        }
        if (total > MAX_RECORD)
            abort();
    }
    d->rows++;
    return 0;
}

static digest read_all(const uint8_t *data, size_t size, size_t step)
{
    digest d = {.hash = 14695981039346656037ULL, .max_line = 1};
    for (size_t i = 0; i < size; i++)
        d.max_line += data[i] == '\n';
    mr_csv *csv = mr_csv_new(1, MAX_RECORD, MAX_FIELDS);
    if (!csv)
        abort();
    for (size_t at = 0; at < size; at += step) {
        size_t n = size - at < step ? size - at : step;
        mr_csv_feed(csv, (const char *)data + at, n, check_row, &d);
    }
    mr_csv_finish(csv, check_row, &d);
    mr_csv_free(&csv);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    digest whole = read_all(data, size, size ? size : 1);
    size_t step = size ? 1 + data[0] % 7 : 1;
    digest pieces = read_all(data, size, step);
    if (whole.hash != pieces.hash || whole.rows != pieces.rows)
        abort();
    bool q = false;
    long lines = 0;
    size_t cut = mr_csv_split((const char *)data, size, &q, &lines);
    if (cut > size || (cut > 0 && data[cut - 1] != '\n'))
        abort();
    return 0;
}
