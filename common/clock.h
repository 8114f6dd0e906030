/* clock.h: time. Clocks (wall and monotonic), civil-date arithmetic, time
 * zones (IANA names, daylight saving correct, backed by libical and the
 * system's zoneinfo) and regional work calendars.
 *
 * Pure cores never call the clock functions: the shell reads the time and
 * passes it in. Everything else here is pure. */
#ifndef MEDREP_CLOCK_H
#define MEDREP_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock, Unix epoch milliseconds. */
int64_t mr_now_ms(void);
/* Monotonic clock in milliseconds, for time-outs and durations. */
int64_t mr_mono_ms(void);
/* Monotonic clock in microseconds. */
int64_t mr_mono_us(void);

/* ---- Civil dates (proleptic Gregorian, no time zone) ---- */

/* Days since 1970-01-01 of y-m-d. m 1..12, d 1..31 (not validated). */
int64_t mr_days_from_civil(int y, int m, int d);
void mr_civil_from_days(int64_t days, int *y, int *m, int *d);
/* 0 = Sunday .. 6 = Saturday. */
int mr_weekday_from_days(int64_t days);
/* True when y-m-d is a real date. */
bool mr_date_valid(int y, int m, int d);
/* Parses "YYYY-MM-DD"; returns 0 or -1. */
int mr_date_parse(const char *text, int *y, int *m, int *d);

/* ---- Time zones ---- */

typedef struct mr_tz mr_tz;

/* Loads an IANA zone ("Asia/Shanghai", "Europe/Berlin", "UTC"). NULL when
 * unknown. A loaded zone is read-only and may be shared between threads. */
mr_tz *mr_tz_load(const char *name);
void mr_tz_free(mr_tz **tz);
const char *mr_tz_name(const mr_tz *tz);

typedef struct {
    int year, month, day;      /* month 1..12 */
    int hour, minute, second;
    int weekday;               /* 0 = Sunday */
    int utc_offset_s;          /* local - UTC, seconds, including DST */
} mr_local_time;

/* The local civil time of instant unix_s in tz. */
void mr_tz_to_local(const mr_tz *tz, int64_t unix_s, mr_local_time *out);

/* The instant of a local civil time. A time skipped by a spring-forward
 * gap maps to the same wall time after the gap (02:30 -> 03:30); a time
 * repeated by a fall-back maps to its first occurrence. */
int64_t mr_tz_from_local(const mr_tz *tz, int y, int m, int d, int hour, int minute, int second);

/* ---- Work calendars ---- */

typedef struct mr_calendar mr_calendar;

/* field_days: comma list of mon..sun (default mon-fri when NULL or "").
 * holidays: comma list of dates "YYYY-MM-DD" or ranges "A..B" (inclusive).
 * workdays: dates that are field days although their weekday is not.
 * Returns NULL with a message in err on malformed input. */
mr_calendar *mr_calendar_parse(const char *field_days, const char *holidays,
                               const char *workdays, char *err, size_t errcap);
void mr_calendar_free(mr_calendar **cal);

bool mr_calendar_is_field_day(const mr_calendar *cal, int y, int m, int d);
/* Field days from y1-m1-d1 to y2-m2-d2, both inclusive (0 if reversed). */
int mr_calendar_field_days(const mr_calendar *cal, int y1, int m1, int d1, int y2, int m2,
                           int d2);

#endif
