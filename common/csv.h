/* csv.h: a streaming CSV reader (RFC 4180) for files of untrusted bytes.
 *
 * Bytes are fed in pieces of any size; every complete record is handed to
 * a callback with its fields and the file line number where it starts, so
 * that an importer can name the line of a bad row. Memory is bounded by
 * the longest record allowed (max_record), never by the file.
 *
 * Rules: fields are separated by ',' and records by LF or CRLF; a field
 * may be quoted with '"', a quote inside a quoted field is written "", and
 * a quoted field may hold commas and line breaks. A UTF-8 byte-order mark
 * at the very start is skipped. Blank lines are skipped. A record is
 * reported with `error` set (and no fields) when it has a stray quote,
 * text after a closing quote, an unterminated quote at the end, invalid
 * UTF-8, a NUL byte, more than max_fields fields or more than max_record
 * bytes; reading goes on with the next record. */
#ifndef MEDREP_CSV_H
#define MEDREP_CSV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mr_csv mr_csv;

typedef struct {
    long line;                  /* file line number where the record starts */
    size_t count;               /* number of fields (0 when error is set) */
    const char *const *fields;  /* each NUL-terminated; borrowed for the call */
    const size_t *lens;
    const char *error;          /* NULL, or why the record is malformed */
} mr_csv_row;

/* Called for each record. Non-zero stops the reader, which then returns
 * that value. */
typedef int (*mr_csv_row_fn)(const mr_csv_row *row, void *arg);

/* first_line: the line number of the first byte fed (1 for a whole file).
 * max_record: most bytes of field text in one record; max_fields: most
 * fields in one record. NULL when out of memory. */
mr_csv *mr_csv_new(long first_line, size_t max_record, size_t max_fields);
void mr_csv_free(mr_csv **csv);

/* Feeds bytes. Returns 0, or the callback's non-zero value. */
int mr_csv_feed(mr_csv *csv, const char *data, size_t len, mr_csv_row_fn fn, void *arg);
/* Ends the input: reports a last record without a final line break (or
 * an unterminated quote). Returns 0 or the callback's value. */
int mr_csv_finish(mr_csv *csv, mr_csv_row_fn fn, void *arg);

/* For cutting a file into chunks of whole records: scans data, carrying
 * the quoting state across calls in *in_quotes, and returns the length up
 * to and including the last line break that ends a record (0 when none).
 * *lines gets the number of line breaks in that prefix added. */
size_t mr_csv_split(const char *data, size_t len, bool *in_quotes, long *lines);

/* True when the len bytes at s are valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool mr_utf8_valid(const char *s, size_t len);

#endif
