/* period.c: periods, month days and local times (period.h). */
#include "period.h"

#include <stdio.h>
#include <string.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int sc_week_of(int64_t days)
{
    return (int)floor_div(days + 3, 7);
}

void sc_period_month_of(int64_t days, sc_period *out)
{
    int y, m, d;
    mr_civil_from_days(days, &y, &m, &d);
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    out->kind = 'M';
    out->first = mr_days_from_civil(y, m, 1);
    out->last = mr_days_from_civil(ny, nm, 1) - 1;
    snprintf(out->text, sizeof out->text, "%04d-%02d", y % 10000, m);
}

/* Monday of ISO week w of year y. */
static int64_t iso_week_monday(int y, int w)
{
    int64_t jan4 = mr_days_from_civil(y, 1, 4);
    int wd = mr_weekday_from_days(jan4);          /* 0 = Sunday */
    int64_t monday = jan4 - ((wd + 6) % 7);
    return monday + 7 * (w - 1);
}

static int iso_weeks_in_year(int y)
{
    int64_t next = iso_week_monday(y + 1, 1);
    return (int)((next - iso_week_monday(y, 1)) / 7);
}

void sc_iso_week_text(int64_t days, char *buf, size_t cap)
{
    int64_t monday = days - (mr_weekday_from_days(days) + 6) % 7;
    int y, m, d;
    mr_civil_from_days(monday + 3, &y, &m, &d);     /* the week's Thursday names its year */
    int week = (int)((monday - iso_week_monday(y, 1)) / 7) + 1;
    snprintf(buf, cap, "%04d-W%02d", y % 10000, week % 100);
}

int sc_period_parse(const char *t, sc_period *out, char *err, size_t errcap)
{
    int y, m, d, w, n = 0;
    memset(out, 0, sizeof *out);
    size_t len = t ? strlen(t) : 0;
    if (len == 10 && mr_date_parse(t, &y, &m, &d) == 0 && y >= 1970 && y < 10000) {
        out->kind = 'D';
        out->first = out->last = mr_days_from_civil(y, m, d);
        snprintf(out->text, sizeof out->text, "%04d-%02d-%02d", y, m, d);
        return 0;
    }
    if (len == 7 && sscanf(t, "%4d-%2d%n", &y, &m, &n) == 2 && n == 7 && y >= 1970 && m >= 1 &&
        m <= 12) {
        sc_period_month_of(mr_days_from_civil(y, m, 1), out);
        return 0;
    }
    if (len == 8 && sscanf(t, "%4d-W%2d%n", &y, &w, &n) == 2 && n == 8 && y >= 1970 && w >= 1 &&
        w <= iso_weeks_in_year(y)) {
        out->kind = 'W';
        out->first = iso_week_monday(y, w);
        out->last = out->first + 6;
        snprintf(out->text, sizeof out->text, "%04d-W%02d", y, w);
        return 0;
    }
    int q;
    if (len == 7 && sscanf(t, "%4d-Q%1d%n", &y, &q, &n) == 2 && n == 7 && y >= 1970 && q >= 1 && q <= 4) {
        sc_period last;
        out->kind = 'Q';
        out->first = mr_days_from_civil(y, 3 * q - 2, 1);
        sc_period_month_of(mr_days_from_civil(y, 3 * q, 1), &last);
        out->last = last.last;
        snprintf(out->text, sizeof out->text, "%04d-Q%d", y, q);
        return 0;
    }
    snprintf(err, errcap, "period '%s': want YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-Qn", t ? t : "");
    return -1;
}

int64_t sc_local_ms(const mr_tz *tz, int64_t days, int minute)
{
    int y, m, d;
    mr_civil_from_days(days, &y, &m, &d);
    return mr_tz_from_local(tz, y, m, d, minute / 60, minute % 60, 0) * 1000;
}

void sc_local_of(const mr_tz *tz, int64_t ms, int64_t *days, int *minute)
{
    mr_local_time lt;
    mr_tz_to_local(tz, floor_div(ms, 1000), &lt);
    *days = mr_days_from_civil(lt.year, lt.month, lt.day);
    *minute = lt.hour * 60 + lt.minute;
}

static void block_day(sc_day *day, int64_t days, const mr_tz *tz, const sc_busy *b, int day_start,
                      int day_end)
{
    int64_t lo = sc_local_ms(tz, days, 0), hi = sc_local_ms(tz, days + 1, 0);
    if (b->end_ms <= lo || b->start_ms >= hi)
        return;
    int64_t sd;
    int a = 0, z = 24 * 60;
    if (b->start_ms > lo)
        sc_local_of(tz, b->start_ms, &sd, &a);
    if (b->end_ms < hi) {
        sc_local_of(tz, b->end_ms, &sd, &z);
        if (sd > days)
            z = 24 * 60;
    }
    if (a <= day_start && z >= day_end)
        day->off = true;
    else
        sc_spans_add(&day->blocked, a, z);
}

void sc_month_days(const sc_period *month, const mr_calendar *cal, const mr_tz *tz,
                   const sc_busy *busy, int nbusy, int day_start, int day_end, sc_day *days)
{
    for (int64_t x = month->first; x <= month->last; x++) {
        sc_day *day = &days[x - month->first];
        int y, m, d;
        mr_civil_from_days(x, &y, &m, &d);
        memset(day, 0, sizeof *day);
        day->field = mr_calendar_is_field_day(cal, y, m, d);
        day->weekday = mr_weekday_from_days(x);
        day->week = sc_week_of(x);
        for (int i = 0; i < nbusy; i++)
            block_day(day, x, tz, &busy[i], day_start, day_end);
    }
}
