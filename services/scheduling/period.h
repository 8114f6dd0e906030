/* period.h: the scheduling service's calendar arithmetic, pure: periods
 * ("2026-12" a month, "2026-W49" an ISO week, "2026-12-01" a day,
 * "2026-Q4" a quarter),
 * the days of a month as planner days (field days from the region's
 * calendar, ISO week numbers, blocked hours from time off and meetings),
 * and instants <-> (day, minute) in the region's time zone (clock.h). */
#ifndef SCHED_PERIOD_H
#define SCHED_PERIOD_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "planner.h"

typedef struct {
    int64_t first, last;       /* days since 1970-01-01, inclusive */
    char kind;                 /* 'M', 'W', 'D', 'Q' */
    char text[16];             /* normalised */
} sc_period;

/* Parses a period. 0 or -1 (with a reason in err). */
int sc_period_parse(const char *text, sc_period *out, char *err, size_t errcap);

/* "YYYY-Www": the ISO week holding day `days`. */
void sc_iso_week_text(int64_t days, char *buf, size_t cap);

/* The month period holding day `days`. */
void sc_period_month_of(int64_t days, sc_period *out);

/* The ISO week number used for the once-a-week rule: weeks since the
 * Monday 1969-12-29. */
int sc_week_of(int64_t days);

/* Instants of a local day and minute, and back. */
int64_t sc_local_ms(const mr_tz *tz, int64_t days, int minute);
void sc_local_of(const mr_tz *tz, int64_t ms, int64_t *days, int *minute);

/* A time-off or meeting span [start_ms, end_ms); a meeting held at a
 * hospital names it in place (then the planner makes it a fixed stop
 * there), pim when it is a product-information meeting. */
typedef struct {
    int64_t start_ms, end_ms;
    char place[64];
    bool pim;
} sc_busy;

/* Fills days[0..n) for the month m (n = its length): field days from the
 * calendar, whole days off where a busy span covers the working day,
 * blocked hours elsewhere. */
void sc_month_days(const sc_period *month, const mr_calendar *cal, const mr_tz *tz,
                   const sc_busy *busy, int nbusy, int day_start, int day_end, sc_day *days);

#endif
