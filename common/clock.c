/* clock.c: clocks, civil dates, time zones and work calendars (clock.h).
 *
 * Civil dates count days from 1970-01-01 in the proleptic Gregorian
 * calendar. Time zones come from libical, which reads the system zoneinfo;
 * libical is only asked one question, "what is the UTC offset of zone Z at
 * instant T", and everything else (local fields, the reverse mapping with
 * its rules for gaps and overlaps) is computed here. libical keeps shared
 * caches inside its zones, so every call into it holds ical_lock.
 *
 * Limits: instants are clamped to years 0001..9999 for time zone work, and
 * libical knows daylight saving rules up to about the year 2582 (after it,
 * standard time). */
#include "clock.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SECONDS_PER_DAY 86400
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define TZ_MIN_UNIX_S (-62135596800LL)
#define TZ_MAX_UNIX_S (253402300799LL)
/* Day numbers beyond this (about 1.9e9 years) are clamped so that the
 * year still fits an int. */
#define DAYS_LIMIT 700000000000LL

static void set_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...) {
    if (err == NULL || errcap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

/* ---- Clocks ---- */

static int64_t read_clock_us(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t mr_now_ms(void) {
    return read_clock_us(CLOCK_REALTIME) / 1000;
}

int64_t mr_mono_ms(void) {
    return read_clock_us(CLOCK_MONOTONIC) / 1000;
}

int64_t mr_mono_us(void) {
    return read_clock_us(CLOCK_MONOTONIC);
}

/* ---- Civil dates ----
 *
 * The year is taken to start on March 1st, so the leap day is the last day
 * of its year, and days are counted in 400-year eras of 146097 days each,
 * which repeat exactly. Day 0 of era 0 is 0000-03-01, which is 719468 days
 * before 1970-01-01. */

#define DAYS_PER_ERA 146097
#define ERA0_TO_UNIX_DAYS 719468

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Day of a March-based year (0 = March 1st) on which month m starts; the
 * month lengths from March repeat 31 30 31 30 31 in groups of five. */
static int64_t march_year_day_of_month(int64_t months_since_march) {
    return (153 * months_since_march + 2) / 5;
}

int64_t mr_days_from_civil(int y, int m, int d) {
    int64_t year = (int64_t)y - (m <= 2 ? 1 : 0);
    int64_t era = floor_div(year, 400);
    int64_t year_of_era = year - era * 400; /* 0..399 */
    int64_t months_since_march = m > 2 ? m - 3 : m + 9;
    int64_t day_of_year = march_year_day_of_month(months_since_march) + d - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * DAYS_PER_ERA + day_of_era - ERA0_TO_UNIX_DAYS;
}

void mr_civil_from_days(int64_t days, int *y, int *m, int *d) {
    if (days > DAYS_LIMIT) days = DAYS_LIMIT;
    if (days < -DAYS_LIMIT) days = -DAYS_LIMIT;
    int64_t since_era0 = days + ERA0_TO_UNIX_DAYS;
    int64_t era = floor_div(since_era0, DAYS_PER_ERA);
    int64_t day_of_era = since_era0 - era * DAYS_PER_ERA; /* 0..146096 */
    /* Remove the leap days before day_of_era (one every 4 years, none every
     * 100, one every 400) to find the year within the era. */
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                           day_of_era / (DAYS_PER_ERA - 1)) / 365;
    int64_t day_of_year = day_of_era - (year_of_era * 365 + year_of_era / 4 - year_of_era / 100);
    int64_t months_since_march = (5 * day_of_year + 2) / 153;
    int64_t month = months_since_march < 10 ? months_since_march + 3 : months_since_march - 9;
    *d = (int)(day_of_year - march_year_day_of_month(months_since_march) + 1);
    *m = (int)month;
    *y = (int)(era * 400 + year_of_era + (month <= 2 ? 1 : 0));
}

int mr_weekday_from_days(int64_t days) {
    /* 1970-01-01 was a Thursday (4). */
    return (int)((days % 7 + 7 + 4) % 7);
}

static bool is_leap_year(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
    static const int lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : lengths[m - 1];
}

bool mr_date_valid(int y, int m, int d) {
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static int parse_digits(const char *text, int count) {
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

int mr_date_parse(const char *text, int *y, int *m, int *d) {
    if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-') return -1;
    int year = parse_digits(text, 4);
    int month = parse_digits(text + 5, 2);
    int day = parse_digits(text + 8, 2);
    if (year < 0 || month < 0 || day < 0 || !mr_date_valid(year, month, day)) return -1;
    *y = year;
    *m = month;
    *d = day;
    return 0;
}

/* ---- Time zones ---- */

struct mr_tz {
    char name[64];
    icaltimezone *zone; /* owned by libical's cache: never freed here */
    bool is_utc;
};

static pthread_mutex_t ical_lock = PTHREAD_MUTEX_INITIALIZER;

/* An IANA-style name: parts of letters, digits, '_', '-' and '+' joined
 * by single '/'. No dots, so never a path outside the zoneinfo folder. */
static bool tz_name_valid(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof(((mr_tz *)0)->name)) return false;
    if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//")) return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

mr_tz *mr_tz_load(const char *name) {
    if (name == NULL || !tz_name_valid(name)) return NULL;
    mr_tz *tz = calloc(1, sizeof(*tz));
    if (tz == NULL) return NULL;
    strcpy(tz->name, name);
    tz->is_utc = strcmp(name, "UTC") == 0;
    pthread_mutex_lock(&ical_lock);
    tz->zone = tz->is_utc ? icaltimezone_get_utc_timezone()
                          : icaltimezone_get_builtin_timezone(name);
    pthread_mutex_unlock(&ical_lock);
    if (tz->zone == NULL) {
        free(tz);
        return NULL;
    }
    return tz;
}

void mr_tz_free(mr_tz **tz) {
    if (tz == NULL || *tz == NULL) return;
    free(*tz);
    *tz = NULL;
}

const char *mr_tz_name(const mr_tz *tz) {
    return tz ? tz->name : "UTC";
}

static int64_t clamp_to_tz_range(int64_t unix_s) {
    if (unix_s < TZ_MIN_UNIX_S) return TZ_MIN_UNIX_S;
    if (unix_s > TZ_MAX_UNIX_S) return TZ_MAX_UNIX_S;
    return unix_s;
}

/* Splits an instant into UTC civil fields. */
static void utc_fields(int64_t unix_s, mr_local_time *out) {
    int64_t days = floor_div(unix_s, SECONDS_PER_DAY);
    int64_t second_of_day = unix_s - days * SECONDS_PER_DAY;
    mr_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(second_of_day / 3600);
    out->minute = (int)(second_of_day / 60 % 60);
    out->second = (int)(second_of_day % 60);
    out->weekday = mr_weekday_from_days(days);
    out->utc_offset_s = 0;
}

/* local - UTC in seconds at instant unix_s (already clamped). */
static int utc_offset_at(const mr_tz *tz, int64_t unix_s) {
    if (tz == NULL || tz->is_utc) return 0;
    mr_local_time utc;
    utc_fields(unix_s, &utc);
    struct icaltimetype t = icaltime_null_time();
    t.year = utc.year;
    t.month = utc.month;
    t.day = utc.day;
    t.hour = utc.hour;
    t.minute = utc.minute;
    t.second = utc.second;
    t.is_date = 0;
    int is_daylight = 0;
    pthread_mutex_lock(&ical_lock);
    t.zone = icaltimezone_get_utc_timezone();
    int offset = icaltimezone_get_utc_offset_of_utc_time(tz->zone, &t, &is_daylight);
    pthread_mutex_unlock(&ical_lock);
    return offset;
}

void mr_tz_to_local(const mr_tz *tz, int64_t unix_s, mr_local_time *out) {
    unix_s = clamp_to_tz_range(unix_s);
    int offset = utc_offset_at(tz, unix_s);
    utc_fields(unix_s + offset, out);
    out->utc_offset_s = offset;
}

/* Whether local wall time `wall` (seconds, as if UTC) happens at offset:
 * the instant wall - offset really has that offset. */
static bool offset_fits(const mr_tz *tz, int64_t wall, int offset) {
    int64_t instant = wall - offset;
    return clamp_to_tz_range(instant) == instant && utc_offset_at(tz, instant) == offset;
}

/* The offsets in force a day before and a day after the wall time cover
 * both sides of any transition near it (offsets stay within +-1 day). Of
 * the offsets that fit, the larger gives the earlier instant: the first
 * occurrence of a repeated time. When none fits, the wall time is in a
 * gap, and read with the offset from before the gap it lands as far past
 * the gap as it was into it (02:30 -> 03:30). */
int64_t mr_tz_from_local(const mr_tz *tz, int y, int m, int d, int hour, int minute, int second) {
    int64_t wall = mr_days_from_civil(y, m, d) * SECONDS_PER_DAY + (int64_t)hour * 3600 +
                   (int64_t)minute * 60 + second;
    if (tz == NULL || tz->is_utc) return wall;
    int before = utc_offset_at(tz, clamp_to_tz_range(wall - SECONDS_PER_DAY));
    int after = utc_offset_at(tz, clamp_to_tz_range(wall + SECONDS_PER_DAY));
    int middle = utc_offset_at(tz, clamp_to_tz_range(wall));
    int candidates[3] = {before, middle, after};
    bool found = false;
    int best = 0;
    for (int i = 0; i < 3; i++) {
        if (offset_fits(tz, wall, candidates[i]) && (!found || candidates[i] > best)) {
            best = candidates[i];
            found = true;
        }
    }
    return wall - (found ? best : before);
}

/* ---- Work calendars ---- */

typedef struct {
    int64_t first, last; /* day numbers, inclusive */
} day_range;

struct mr_calendar {
    unsigned weekday_mask;  /* bit w: weekday w (0 = Sunday) is a field day */
    day_range *holidays;    /* sorted by first, disjoint, not adjacent */
    size_t holiday_count;
    int64_t *workdays;      /* sorted, unique, none on a holiday */
    size_t workday_count;
};

#define MON_TO_FRI 0x3eu

/* Takes the next comma-separated item from *p, blanks trimmed, into buf.
 * Returns 1 with an item, 0 at the end, -1 when an item is too long. Empty
 * items (",,", a trailing comma) are skipped. */
static int next_item(const char **p, char *buf, size_t cap) {
    for (;;) {
        const char *s = *p;
        if (*s == '\0') return 0;
        const char *end = strchr(s, ',');
        if (end == NULL) end = s + strlen(s);
        *p = *end ? end + 1 : end;
        while (s < end && strchr(" \t\r\n", *s)) s++;
        while (end > s && strchr(" \t\r\n", end[-1])) end--;
        size_t len = (size_t)(end - s);
        if (len == 0) continue;
        if (len >= cap) return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return 1;
    }
}

static int parse_field_days(const char *text, unsigned *mask, char *err, size_t errcap) {
    static const char *const names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char item[16];
    int rc;
    *mask = 0;
    if (text == NULL) text = "";
    while ((rc = next_item(&text, item, sizeof(item))) == 1) {
        int w = 0;
        while (w < 7 && strcasecmp(item, names[w]) != 0) w++;
        if (w == 7) {
            set_err(err, errcap, "field_days: '%s' is not one of mon..sun", item);
            return -1;
        }
        *mask |= 1u << w;
    }
    if (rc < 0) {
        set_err(err, errcap, "field_days: an item is not one of mon..sun");
        return -1;
    }
    if (*mask == 0) *mask = MON_TO_FRI;
    return 0;
}

static int parse_day(const char *text, int64_t *days) {
    int y, m, d;
    if (mr_date_parse(text, &y, &m, &d) != 0) return -1;
    *days = mr_days_from_civil(y, m, d);
    return 0;
}

/* "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" (blanks allowed around ".."). */
static int parse_day_range(char *item, day_range *out) {
    char *dots = strstr(item, "..");
    if (dots == NULL) {
        if (parse_day(item, &out->first) != 0) return -1;
        out->last = out->first;
        return 0;
    }
    char *second = dots + 2;
    *dots = '\0';
    while (dots > item && (dots[-1] == ' ' || dots[-1] == '\t')) *--dots = '\0';
    while (*second == ' ' || *second == '\t') second++;
    if (parse_day(item, &out->first) != 0 || parse_day(second, &out->last) != 0) return -1;
    return out->first <= out->last ? 0 : -1;
}

static int compare_ranges(const void *a, const void *b) {
    const day_range *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static int compare_days(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and joins overlapping or touching ranges. */
static size_t merge_ranges(day_range *r, size_t count) {
    if (count == 0) return 0;
    qsort(r, count, sizeof(*r), compare_ranges);
    size_t kept = 0;
    for (size_t i = 1; i < count; i++) {
        if (r[i].first <= r[kept].last + 1) {
            if (r[i].last > r[kept].last) r[kept].last = r[i].last;
        } else {
            r[++kept] = r[i];
        }
    }
    return kept + 1;
}

static size_t count_items(const char *text) {
    size_t n = 1;
    for (const char *p = text; *p; p++) n += (*p == ',');
    return n;
}

static int parse_holidays(mr_calendar *cal, const char *text, char *err, size_t errcap) {
    char item[64];
    int rc;
    if (text == NULL) text = "";
    cal->holidays = calloc(count_items(text), sizeof(day_range));
    if (cal->holidays == NULL) {
        set_err(err, errcap, "out of memory");
        return -1;
    }
    while ((rc = next_item(&text, item, sizeof(item))) == 1) {
        char shown[64];
        snprintf(shown, sizeof(shown), "%s", item);
        if (parse_day_range(item, &cal->holidays[cal->holiday_count]) != 0) {
            set_err(err, errcap, "holidays: '%s' is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD "
                    "(first <= last)", shown);
            return -1;
        }
        cal->holiday_count++;
    }
    if (rc < 0) {
        set_err(err, errcap, "holidays: an item is too long");
        return -1;
    }
    cal->holiday_count = merge_ranges(cal->holidays, cal->holiday_count);
    return 0;
}

static bool is_holiday(const mr_calendar *cal, int64_t day) {
    size_t lo = 0, hi = cal->holiday_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->holidays[mid].last < day)
            lo = mid + 1;
        else if (cal->holidays[mid].first > day)
            hi = mid;
        else
            return true;
    }
    return false;
}

static bool is_workday(const mr_calendar *cal, int64_t day) {
    return cal->workday_count > 0 &&
           bsearch(&day, cal->workdays, cal->workday_count, sizeof(int64_t), compare_days);
}

static int parse_workdays(mr_calendar *cal, const char *text, char *err, size_t errcap) {
    char item[64];
    int rc;
    if (text == NULL) text = "";
    cal->workdays = calloc(count_items(text), sizeof(int64_t));
    if (cal->workdays == NULL) {
        set_err(err, errcap, "out of memory");
        return -1;
    }
    while ((rc = next_item(&text, item, sizeof(item))) == 1) {
        int64_t day;
        if (parse_day(item, &day) != 0) {
            set_err(err, errcap, "workdays: '%s' is not a date YYYY-MM-DD", item);
            return -1;
        }
        if (is_holiday(cal, day)) {
            set_err(err, errcap, "workdays: %s is also a holiday", item);
            return -1;
        }
        cal->workdays[cal->workday_count++] = day;
    }
    if (rc < 0) {
        set_err(err, errcap, "workdays: an item is too long");
        return -1;
    }
    qsort(cal->workdays, cal->workday_count, sizeof(int64_t), compare_days);
    size_t kept = 0;
    for (size_t i = 0; i < cal->workday_count; i++)
        if (kept == 0 || cal->workdays[kept - 1] != cal->workdays[i])
            cal->workdays[kept++] = cal->workdays[i];
    cal->workday_count = kept;
    return 0;
}

mr_calendar *mr_calendar_parse(const char *field_days, const char *holidays,
                               const char *workdays, char *err, size_t errcap) {
    mr_calendar *cal = calloc(1, sizeof(*cal));
    if (cal == NULL) {
        set_err(err, errcap, "out of memory");
        return NULL;
    }
    if (parse_field_days(field_days, &cal->weekday_mask, err, errcap) != 0 ||
        parse_holidays(cal, holidays, err, errcap) != 0 ||
        parse_workdays(cal, workdays, err, errcap) != 0) {
        mr_calendar_free(&cal);
        return NULL;
    }
    return cal;
}

void mr_calendar_free(mr_calendar **cal) {
    if (cal == NULL || *cal == NULL) return;
    free((*cal)->holidays);
    free((*cal)->workdays);
    free(*cal);
    *cal = NULL;
}

static bool weekday_in(unsigned mask, int64_t day) {
    return (mask >> mr_weekday_from_days(day)) & 1u;
}

bool mr_calendar_is_field_day(const mr_calendar *cal, int y, int m, int d) {
    if (cal == NULL || !mr_date_valid(y, m, d)) return false;
    int64_t day = mr_days_from_civil(y, m, d);
    if (is_workday(cal, day)) return true;
    if (is_holiday(cal, day)) return false;
    return weekday_in(cal->weekday_mask, day);
}

static int weekdays_in_mask(unsigned mask) {
    int count = 0;
    for (int w = 0; w < 7; w++) count += (mask >> w) & 1u;
    return count;
}

/* Days in [first, last] whose weekday is in mask: whole weeks at once,
 * then the few days left. */
static int64_t weekdays_between(unsigned mask, int64_t first, int64_t last) {
    if (first > last) return 0;
    int64_t length = last - first + 1;
    int64_t count = length / 7 * weekdays_in_mask(mask);
    for (int64_t day = first + length / 7 * 7; day <= last; day++) count += weekday_in(mask, day);
    return count;
}

int mr_calendar_field_days(const mr_calendar *cal, int y1, int m1, int d1, int y2, int m2,
                           int d2) {
    if (cal == NULL || !mr_date_valid(y1, m1, d1) || !mr_date_valid(y2, m2, d2)) return 0;
    int64_t from = mr_days_from_civil(y1, m1, d1), to = mr_days_from_civil(y2, m2, d2);
    if (from > to) return 0;
    int64_t count = weekdays_between(cal->weekday_mask, from, to);
    for (size_t i = 0; i < cal->holiday_count; i++) {
        int64_t first = cal->holidays[i].first > from ? cal->holidays[i].first : from;
        int64_t last = cal->holidays[i].last < to ? cal->holidays[i].last : to;
        count -= weekdays_between(cal->weekday_mask, first, last);
    }
    for (size_t i = 0; i < cal->workday_count; i++) {
        int64_t day = cal->workdays[i];
        if (day >= from && day <= to && !weekday_in(cal->weekday_mask, day)) count++;
    }
    return count > 0x7fffffff ? 0x7fffffff : (int)count;
}
