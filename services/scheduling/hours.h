/* hours.h: weekly opening hours and visit windows, and interval sets.
 *
 * A weekly timetable is written as "mon-fri 08:00-17:30; sat 08:00-12:00"
 * or "mon,wed 08:00-09:00 14:00-15:00; fri 14:00-15:00": clauses separated
 * by ';', each a day list (names, ranges, commas) then one or more
 * HH:MM-HH:MM spans. An empty text means "no restriction".
 *
 * An interval set is a sorted list of disjoint [start, end) minute spans
 * of one day (0..1440). Pure code: no I/O, no globals. */
#ifndef SCHED_HOURS_H
#define SCHED_HOURS_H

#include <stdbool.h>
#include <stddef.h>

#define SC_SPANS_MAX 8

typedef struct {
    int start, end;            /* minutes since local midnight, [start, end) */
} sc_span;

typedef struct {
    sc_span s[SC_SPANS_MAX];
    int n;
} sc_spans;

typedef struct {
    bool any;                  /* true: no restriction at all (empty text) */
    sc_spans day[7];           /* 0 = Sunday */
} sc_week_hours;

/* Parses text into out. Returns 0, or -1 with a message in err. */
int sc_hours_parse(const char *text, sc_week_hours *out, char *err, size_t errcap);

/* Parses a department's meeting moments, "handover mon-fri 07:45-08:15;
 * rounds_end mon-fri 10:00-10:30": clauses of a name then a timetable
 * clause. Only moments named in `names` (a comma list; NULL or "" takes
 * every moment) go into out, merged per weekday; out->any stays false
 * (no moment means no preference). 0, or -1 with a message in err. */
int sc_moments_parse(const char *text, const char *names, sc_week_hours *out, char *err,
                     size_t errcap);

/* The spans of weekday wd, or the whole day when h->any. */
void sc_hours_of_day(const sc_week_hours *h, int wd, sc_spans *out);

/* Set operations on one day's spans (results normalised: sorted, merged). */
void sc_spans_add(sc_spans *a, int start, int end);
void sc_spans_intersect(const sc_spans *a, const sc_spans *b, sc_spans *out);
void sc_spans_subtract(const sc_spans *a, const sc_spans *b, sc_spans *out);
/* Total minutes covered. */
int sc_spans_minutes(const sc_spans *a);

/* Parses "HH:MM" into minutes; -1 when malformed. */
int sc_hhmm_parse(const char *text);

#endif
