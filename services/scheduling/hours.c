/* hours.c: weekly timetables and per-day interval sets (hours.h). */
#include "hours.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

int sc_hhmm_parse(const char *t)
{
    if (!t || !isdigit((unsigned char)t[0]) || !isdigit((unsigned char)t[1]) || t[2] != ':' ||
        !isdigit((unsigned char)t[3]) || !isdigit((unsigned char)t[4]))
        return -1;
    int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

static int day_index(const char *t, size_t len)
{
    if (len != 3)
        return -1;
    for (int i = 0; i < 7; i++)
        if (strncasecmp(t, day_names[i], 3) == 0)
            return i;
    return -1;
}

/* "mon-fri,sun" -> mask bit per weekday; -1 when malformed. */
static int parse_days(const char *t, size_t len)
{
    int mask = 0;
    size_t i = 0;
    while (i < len) {
        int a = day_index(t + i, len - i >= 3 ? 3 : len - i);
        if (a < 0)
            return -1;
        i += 3;
        int b = a;
        if (i < len && t[i] == '-') {
            b = day_index(t + i + 1, len - i - 1 >= 3 ? 3 : len - i - 1);
            if (b < 0)
                return -1;
            i += 4;
        }
        for (int d = a;; d = (d + 1) % 7) {
            mask |= 1 << d;
            if (d == b)
                break;
        }
        if (i < len && t[i] != ',')
            return -1;
        i++;
    }
    return mask;
}

void sc_spans_add(sc_spans *a, int start, int end)
{
    if (end <= start)
        return;
    sc_spans out = {.n = 0};
    int i = 0;
    while (i < a->n && a->s[i].end < start)
        out.s[out.n++] = a->s[i++];
    while (i < a->n && a->s[i].start <= end) {
        if (a->s[i].start < start)
            start = a->s[i].start;
        if (a->s[i].end > end)
            end = a->s[i].end;
        i++;
    }
    if (out.n < SC_SPANS_MAX)
        out.s[out.n++] = (sc_span){start, end};
    while (i < a->n && out.n < SC_SPANS_MAX)
        out.s[out.n++] = a->s[i++];
    *a = out;
}

void sc_spans_intersect(const sc_spans *a, const sc_spans *b, sc_spans *out)
{
    sc_spans r = {.n = 0};
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++) {
            int s = a->s[i].start > b->s[j].start ? a->s[i].start : b->s[j].start;
            int e = a->s[i].end < b->s[j].end ? a->s[i].end : b->s[j].end;
            sc_spans_add(&r, s, e);
        }
    *out = r;
}

void sc_spans_subtract(const sc_spans *a, const sc_spans *b, sc_spans *out)
{
    sc_spans r = *a;
    for (int j = 0; j < b->n; j++) {
        sc_spans next = {.n = 0};
        for (int i = 0; i < r.n; i++) {
            sc_span x = r.s[i], y = b->s[j];
            if (y.end <= x.start || y.start >= x.end) {
                sc_spans_add(&next, x.start, x.end);
                continue;
            }
            sc_spans_add(&next, x.start, y.start);
            sc_spans_add(&next, y.end, x.end);
        }
        r = next;
    }
    *out = r;
}

int sc_spans_minutes(const sc_spans *a)
{
    int m = 0;
    for (int i = 0; i < a->n; i++)
        m += a->s[i].end - a->s[i].start;
    return m;
}

void sc_hours_of_day(const sc_week_hours *h, int wd, sc_spans *out)
{
    if (h->any) {
        out->n = 1;
        out->s[0] = (sc_span){0, 1440};
        return;
    }
    *out = h->day[wd];
}

/* One clause "mon,wed 08:00-09:00 14:00-15:00" of len bytes. */
static int parse_clause(const char *t, size_t len, sc_week_hours *out, char *err, size_t errcap)
{
    while (len && isspace((unsigned char)*t))
        t++, len--;
    while (len && isspace((unsigned char)t[len - 1]))
        len--;
    if (!len)
        return 0;
    size_t sp = 0;
    while (sp < len && !isspace((unsigned char)t[sp]))
        sp++;
    int mask = parse_days(t, sp);
    if (mask <= 0) {
        snprintf(err, errcap, "bad day list '%.*s'", (int)sp, t);
        return -1;
    }
    size_t i = sp, spans = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)t[i]))
            i++;
        if (i >= len)
            break;
        char buf[12] = {0};
        size_t j = i;
        while (j < len && !isspace((unsigned char)t[j]) && j - i < 11)
            j++;
        memcpy(buf, t + i, j - i);
        int a = buf[5] == '-' ? (buf[5] = 0, sc_hhmm_parse(buf)) : -1;
        int b = a >= 0 ? sc_hhmm_parse(buf + 6) : -1;
        if (a < 0 || b <= a || strlen(buf + 6) != 5) {
            snprintf(err, errcap, "bad time span '%.*s' (want HH:MM-HH:MM)", (int)(j - i), t + i);
            return -1;
        }
        for (int d = 0; d < 7; d++)
            if (mask & (1 << d))
                sc_spans_add(&out->day[d], a, b);
        spans++;
        i = j;
    }
    if (!spans) {
        snprintf(err, errcap, "no time span after '%.*s'", (int)sp, t);
        return -1;
    }
    return 0;
}

int sc_hours_parse(const char *text, sc_week_hours *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    const char *p = text ? text : "";
    while (*p && isspace((unsigned char)*p))
        p++;
    if (!*p) {
        out->any = true;
        return 0;
    }
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (parse_clause(p, len, out, err, errcap) != 0)
            return -1;
        p += len;
        if (*p == ';')
            p++;
    }
    return 0;
}

/* True when word (len bytes) is in the comma list (empty list: any). */
static bool name_listed(const char *list, const char *word, size_t len)
{
    if (!list || !*list)
        return true;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == len && n && !strncmp(p, word, n))
            return true;
        p += n;
    }
    return false;
}

int sc_moments_parse(const char *text, const char *names, sc_week_hours *out, char *err,
                     size_t errcap)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text ? text : ""; *p;) {
        size_t len = strcspn(p, ";");
        const char *q = p, *end = p + len;
        while (q < end && isspace((unsigned char)*q))
            q++;
        const char *name = q;
        while (q < end && !isspace((unsigned char)*q))
            q++;
        size_t nlen = (size_t)(q - name);
        if (nlen && name_listed(names, name, nlen)) {
            sc_week_hours one;
            memset(&one, 0, sizeof one);
            if (q == end || parse_clause(q, (size_t)(end - q), &one, err, errcap) != 0) {
                if (q == end)
                    snprintf(err, errcap, "moment '%.*s': no days and hours", (int)nlen, name);
                return -1;
            }
            for (int wd = 0; wd < 7; wd++)
                for (int i = 0; i < one.day[wd].n; i++)
                    sc_spans_add(&out->day[wd], one.day[wd].s[i].start, one.day[wd].s[i].end);
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}
