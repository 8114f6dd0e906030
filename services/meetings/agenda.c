/* agenda.c: agenda template validation, staff sizing and call times,
 * follow-up spreading and the evaluation score. Pure: no I/O, no clock. */
#include "agenda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define MIN_MS 60000LL

/* Parses "name:a" or "name:a-b" items; calls fn for each. */
static int each_item(const char *text, int (*fn)(const char *name, int a, int b, void *arg),
                     void *arg, char *err, size_t errcap)
{
    for (const char *s = text; s && *s;) {
        while (*s == ' ' || *s == ',') s++;
        size_t len = strcspn(s, ",");
        if (!len) break;
        char item[64], name[24];
        snprintf(item, sizeof item, "%.*s", (int)len, s);
        int a = 0, b = -1, used = 0;
        if (sscanf(item, " %23[a-z_]:%d%n", name, &a, &used) < 2)
            return snprintf(err, errcap, "agenda: bad item '%s'", item), -1;
        if (item[used] == '-' && sscanf(item + used + 1, "%d", &b) != 1)
            return snprintf(err, errcap, "agenda: bad range in '%s'", item), -1;
        if (b < 0)
            b = a;
        int rc = fn(name, a, b, arg);
        if (rc != 0)
            return snprintf(err, errcap, "agenda: '%s' %s", item,
                            rc == -2 ? "has no limits in the template" : "is not allowed"), -1;
        s += len;
    }
    return 0;
}

static int add_phase(const char *name, int a, int b, void *arg)
{
    (void)b;
    mt_agenda *ag = arg;
    if (ag->count >= MT_MAX_PHASES || a < 0)
        return -1;
    mt_phase *p = &ag->phases[ag->count++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->minutes = a;
    p->min = -1;
    ag->total += a;
    return 0;
}

static int apply_limit(const char *name, int a, int b, void *arg)
{
    mt_agenda *ag = arg;
    for (size_t i = 0; i < ag->count; i++)
        if (strcmp(ag->phases[i].name, name) == 0) {
            ag->phases[i].min = a, ag->phases[i].max = b;
            return 0;
        }
    return -3; /* a limited phase is missing: reported by the caller */
}

int mt_agenda_parse(const char *phases, const char *limits, int total_min, mt_agenda *out,
                    char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (each_item(phases, add_phase, out, err, errcap) != 0)
        return -1;
    if (out->count == 0)
        return snprintf(err, errcap, "agenda: no phases"), -1;
    if (each_item(limits, apply_limit, out, err, errcap) != 0) {
        snprintf(err, errcap, "agenda: a phase of the template is missing");
        return -1;
    }
    for (size_t i = 0; i < out->count; i++) {
        const mt_phase *p = &out->phases[i];
        if (p->min < 0)
            return snprintf(err, errcap, "agenda: phase '%s' has no limits in the template", p->name), -1;
        if (p->minutes < p->min || p->minutes > p->max)
            return snprintf(err, errcap, "agenda: %s takes %d min, allowed %d-%d", p->name,
                            p->minutes, p->min, p->max), -1;
    }
    if (out->total != total_min)
        return snprintf(err, errcap, "agenda: phases add up to %d min, not %d", out->total,
                        total_min), -1;
    return 0;
}

void mt_staff_range(const mt_staff_policy *p, int attendees, int *min, int *max)
{
    bool small = attendees <= p->small_limit;
    *min = small ? p->small_min : p->large_min;
    *max = small ? p->small_max : p->large_max;
}

int64_t mt_call_time_ms(int64_t start_ms, int call_before_min) { return start_ms - call_before_min * MIN_MS; }
int64_t mt_setup_by_ms(int64_t start_ms, int setup_before_min) { return start_ms - setup_before_min * MIN_MS; }

void mt_followups_spread(int64_t first_day_ms, int within_days, size_t n, int64_t *out)
{
    if (within_days < 1)
        within_days = 1;
    size_t per_day = (n + (size_t)within_days - 1) / (size_t)within_days;
    if (per_day == 0)
        per_day = 1;
    for (size_t i = 0; i < n; i++) {
        int64_t day = (int64_t)(i / per_day);
        out[i] = first_day_ms + (day + 1) * DAY_MS - 1;
    }
}

double mt_evaluation_score(double hardware_weight, bool channel_open, int key_attendees,
                           int attendees, bool rx_known, double rx_diff_points,
                           double rx_full_points)
{
    double key_share = attendees > 0 ? (double)key_attendees / attendees : 0;
    double hardware = 0.5 * (channel_open ? 1.0 : 0.0) + 0.5 * key_share;   /* 0..1 */
    if (!rx_known)
        return 100.0 * hardware;
    double rx = rx_full_points > 0 ? rx_diff_points / rx_full_points : 0;
    rx = rx < 0 ? 0 : rx > 1 ? 1 : rx;
    return 100.0 * (hardware_weight * hardware + (1 - hardware_weight) * rx);
}

double mt_mean_change_points(const double *before, const double *after, const bool *attended,
                             size_t n, bool which, int *count)
{
    double sum = 0;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (attended[i] == which) {
            sum += (after[i] - before[i]) * 100.0;
            (*count)++;
        }
    return *count ? sum / *count : 0;
}

void mt_month_shift(int year, int month, int delta, char out[8])
{
    int total = year * 12 + (month - 1) + delta;
    if (total < 0)
        total = 0;
    unsigned y = (unsigned)(total / 12) % 10000u, mo = (unsigned)(total % 12) + 1u;
    snprintf(out, 8, "%04u-%02u", y, mo % 100u);
}

double mt_rx_share(const mt_rx_month *rows, size_t n, const char *customer, const char *first,
                   const char *last)
{
    double our = 0, market = 0;
    for (size_t i = 0; i < n; i++) {
        const mt_rx_month *r = &rows[i];
        if (strcmp(r->customer, customer) != 0 || strcmp(r->month, first) < 0 || strcmp(r->month, last) > 0)
            continue;
        our += r->our, market += r->market;
    }
    if (market <= 0)
        return -1;
    double share = our / market;
    return share < 0 ? 0 : share > 1 ? 1 : share;
}
