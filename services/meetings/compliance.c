/* compliance.c: parsing compliance rules, counting meetings in fixed and
 * rolling windows, findings, and the documents a reimbursement needs.
 * Pure: no I/O, no clock. */
#include "compliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invitations.h"

#define DAY_MS 86400000LL

static const char *const limit_names[MT_LIM_COUNT] = {
    "gift_per_attendee",    "spend_per_attendee",    "meetings_per_customer",
    "meetings_per_speaker", "honorarium_per_person", "travel_per_person",
};

const char *mt_limit_name(mt_limit l) { return (unsigned)l < MT_LIM_COUNT ? limit_names[l] : "unknown"; }

static int parse_states(const char *text, uint32_t *out, char *err, size_t errcap)
{
    *out = 0;
    for (const char *s = text; s && *s;) {
        while (*s == ' ' || *s == ',') s++;
        size_t len = strcspn(s, ",");
        char name[32];
        size_t l = len;
        while (l && s[l - 1] == ' ') l--;
        if (!l) break;
        snprintf(name, sizeof name, "%.*s", (int)l, s);
        int st = mt_state_parse(name);
        if (st < 0)
            return snprintf(err, errcap, "states: unknown state '%s'", name), -1;
        *out |= 1u << st;
        s += len;
    }
    return 0;
}

int mt_rule_parse(mt_rule *r, const char *name, const char *limit, const char *max,
                  const char *window, const char *days, const char *period,
                  const char *states, const char *action, char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    r->limit = MT_LIM_COUNT;
    for (int i = 0; limit && i < MT_LIM_COUNT; i++)
        if (strcmp(limit, limit_names[i]) == 0)
            r->limit = (mt_limit)i;
    if (r->limit == MT_LIM_COUNT)
        return snprintf(err, errcap, "rule %s: unknown limit '%s'", r->name, limit ? limit : ""), -1;
    char *end = NULL;
    r->max = max ? strtod(max, &end) : -1;
    if (!max || end == max || *end || r->max < 0)
        return snprintf(err, errcap, "rule %s: max must be a number >= 0", r->name), -1;
    const char *w = window ? window : "meeting";
    r->window = strcmp(w, "meeting") == 0 ? MT_WIN_MEETING
              : strcmp(w, "period") == 0  ? MT_WIN_PERIOD
              : strcmp(w, "rolling") == 0 ? MT_WIN_ROLLING : (mt_window)-1;
    if ((int)r->window < 0)
        return snprintf(err, errcap, "rule %s: window is meeting, period or rolling", r->name), -1;
    r->days = days ? atoi(days) : 0;
    if (r->window == MT_WIN_ROLLING && (r->days < 1 || r->days > 3660))
        return snprintf(err, errcap, "rule %s: a rolling window needs days 1..3660", r->name), -1;
    snprintf(r->period, sizeof r->period, "%s", period ? period : "month");
    if (r->window == MT_WIN_PERIOD && !mt_in_list("month,quarter,year", r->period))
        return snprintf(err, errcap, "rule %s: period is month, quarter or year", r->name), -1;
    const char *st = states ? states
                            : "pending_approval,approved,confirmed,invitations_out,in_progress,held,"
                              "summarised,closed";
    if (parse_states(st, &r->states, err, errcap) != 0)
        return -1;
    const char *a = action ? action : "block";
    if (strcmp(a, "warn") != 0 && strcmp(a, "block") != 0)
        return snprintf(err, errcap, "rule %s: action is warn or block", r->name), -1;
    r->action = strcmp(a, "warn") == 0 ? MT_ACT_WARN : MT_ACT_BLOCK;
    return 0;
}

static bool counted(const mt_rule *r, const mt_other *o)
{
    return (r->states >> o->state) & 1u;
}

static int count_in(const mt_rule *r, int64_t from, int64_t to, const mt_other *others, size_t n)
{
    int c = 1; /* this meeting */
    for (size_t i = 0; i < n; i++)
        c += counted(r, &others[i]) && others[i].start_ms >= from && others[i].start_ms < to;
    return c;
}

int mt_window_count(const mt_rule *r, int64_t start_ms, int64_t from_ms, int64_t to_ms,
                    const mt_other *others, size_t n)
{
    if (r->window == MT_WIN_PERIOD)
        return count_in(r, from_ms, to_ms, others, n);
    if (r->window != MT_WIN_ROLLING)
        return 1;
    /* The worst window containing start can be slid right until its left
     * edge meets a meeting at or before start without losing any; so the
     * candidates start at start itself or at another meeting within the
     * preceding days. */
    int64_t len = (int64_t)r->days * DAY_MS;
    int best = count_in(r, start_ms, start_ms + len, others, n);
    for (size_t i = 0; i < n; i++) {
        int64_t w = others[i].start_ms;
        if (!counted(r, &others[i]) || w > start_ms || w <= start_ms - len)
            continue;
        int c = count_in(r, w, w + len, others, n);
        best = c > best ? c : best;
    }
    return best;
}

size_t mt_finding_add(mt_finding *out, size_t n, size_t cap, int rule_index, const mt_rule *r,
                      const char *subject, double value)
{
    if (value <= r->max || n >= cap)
        return n;
    mt_finding *f = &out[n];
    memset(f, 0, sizeof *f);
    f->rule = rule_index;
    snprintf(f->subject, sizeof f->subject, "%s", subject ? subject : "");
    f->value = value;
    f->max = r->max;
    f->action = r->action;
    return n + 1;
}

int mt_documents_missing(const char *required, const char *attached, char *missing, size_t cap)
{
    int n = 0;
    size_t used = 0;
    if (cap)
        missing[0] = 0;
    for (const char *s = required; s && *s;) {
        while (*s == ' ' || *s == ',') s++;
        size_t len = strcspn(s, ",");
        char name[64];
        size_t l = len;
        while (l && s[l - 1] == ' ') l--;
        if (!l) break;
        snprintf(name, sizeof name, "%.*s", (int)l, s);
        if (!mt_in_list(attached, name)) {
            n++;
            if (used < cap) {
                int w = snprintf(missing + used, cap - used, "%s%s", used ? "," : "", name);
                used += w > 0 ? (size_t)w : 0;
            }
        }
        s += len;
    }
    return n;
}
