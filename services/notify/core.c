/* core.c: the pure core of the notify service (see core.h): rule parsing,
 * fire times in local time, quiet hours, delivery ids, shards. */
#include "core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rules of DOMAIN.md section 5 with the defaults chosen for them.
 * Each meeting rule matches the one state that triggers it, so a meeting
 * going through its lifecycle tells each person each thing once (a rule
 * matching two states in a row would deliver its reminder twice).
 * Every key can be changed per region in [notify.rule.<name>@region:<r>]
 * or for all regions in [notify.rule.<name>]; enabled = false drops one. */
const char nt_default_rules_ini[] =
    "[notify.rule.meeting_cancel]\n"
    "event = meeting_changed\nmatch = cancelled,rescheduled\naction = cancel\n"
    "[notify.rule.meeting_approval]\n"
    "anchor = event\n"
    "event = meeting_changed\nmatch = pending_approval\nto = approver\n"
    "offsets = 0\nkind = meeting_approval\ntitle = A meeting awaits your approval\n"
    "[notify.rule.meeting_invitation]\n"
    "anchor = event\n"
    "event = meeting_changed\nmatch = invitations_out\nto = invitees\noffsets = 0\n"
    "kind = meeting_invitation\ntitle = You are invited to a department meeting\n"
    "[notify.rule.meeting_day_before]\n"
    "event = meeting_changed\nmatch = confirmed\nto = invitees\n"
    "offsets = -1d\nkind = meeting_day_before\ntitle = Department meeting tomorrow\n"
    "[notify.rule.meeting_staff_call]\n"
    "event = meeting_changed\nmatch = confirmed\nto = staff,rep\n"
    "offsets = -1h\nkind = meeting_staff_call\ntitle = Staff call time: the meeting starts in 1 hour\n"
    "[notify.rule.meeting_setup]\n"
    "event = meeting_changed\nmatch = confirmed\nto = staff\n"
    "offsets = -25m\nkind = meeting_setup\ntitle = Set up the room: ready 10 minutes before the start\n"
    "[notify.rule.meeting_outcome]\n"
    "anchor = event\n"
    "event = meeting_changed\nmatch = summarised\nto = rep,approver\noffsets = 0\n"
    "kind = meeting_outcome\ntitle = Meeting outcome\n"
    "[notify.rule.meeting_cancelled]\n"
    "anchor = event\n"
    "event = meeting_changed\nmatch = cancelled\nto = invitees,staff\noffsets = 0\n"
    "kind = meeting_cancelled\nurgent = true\ntitle = A meeting was cancelled\n"
    "[notify.rule.follow_up_done]\n"
    "event = call_logged\naction = cancel\n"
    "[notify.rule.follow_up]\n"
    "event = follow_up_due\nto = rep\noffsets = -1d,0\nkind = follow_up\n"
    "title = Follow-up call due\nescalate_to = dm\nescalate_after = 1d\n"
    "escalate_kind = follow_up_overdue\n"
    "[notify.rule.next_appointment]\n"
    "event = call_logged\nto = rep\noffsets = -1d\nkind = next_appointment\n"
    "title = Next appointment tomorrow\n"
    "[notify.rule.call_cancelled]\n"
    "event = call_cancelled\naction = cancel\n"
    "[notify.rule.itinerary]\n"
    "event = call_planned\nto = rep\nat = 07:30\nat_day = 0\nper_day = true\n"
    "kind = itinerary\ntitle = Your calls today\n"
    "[notify.rule.plan_week]\n"
    "event = plan_due\nmatch = week\nto = rep\noffsets = -1d,0\nkind = plan_week_due\n"
    "title = Next week's plan is due\n"
    "[notify.rule.plan_quarter]\n"
    "anchor = event\n"
    "event = plan_due\nmatch = quarter\nto = approver\noffsets = 0\n"
    "kind = plan_quarter_approval\ntitle = A quarter plan awaits your approval\n"
    "[notify.rule.coverage_behind]\n"
    "event = coverage_behind_pace\nto = rep,dm\noffsets = 0\nkind = coverage_behind\n"
    "title = Behind pace on A/B coverage\n"
    "[notify.rule.grade_changed]\n"
    "event = customer_regraded\nto = rep\noffsets = 0\nkind = grade_changed\n"
    "title = A customer's segment changed\n";

static const char *const event_names[NT_EV_COUNT] = {
    "meeting_changed", "follow_up_due",        "call_planned",     "call_logged",
    "call_cancelled",  "plan_due", "coverage_behind_pace", "customer_regraded",
};

int nt_event_kind_parse(const char *text)
{
    for (int i = 0; text && i < NT_EV_COUNT; i++)
        if (strcmp(text, event_names[i]) == 0)
            return i;
    return -1;
}

int nt_parse_duration(const char *text, int64_t *ms)
{
    if (!text)
        return -1;
    while (isspace((unsigned char)*text))
        text++;
    int sign = 1;
    if (*text == '-' || *text == '+')
        sign = *text++ == '-' ? -1 : 1;
    if (strcmp(text, "0") == 0) {
        *ms = 0;
        return 0;
    }
    int64_t total = 0;
    int parts = 0;
    while (*text && !isspace((unsigned char)*text)) {
        char *end;
        long long n = strtoll(text, &end, 10);
        if (end == text || n < 0 || n > 100000)
            return -1;
        int64_t unit = *end == 'd' ? 86400000 : *end == 'h' ? 3600000 : *end == 'm' ? 60000
                     : *end == 's' ? 1000 : 0;
        if (!unit)
            return -1;
        total += n * unit;
        text = end + 1;
        parts++;
    }
    while (isspace((unsigned char)*text))
        text++;
    if (!parts || *text)
        return -1;
    *ms = sign * total;
    return 0;
}

int nt_parse_hhmm(const char *text, int *minute)
{
    int h, m;
    char tail;
    if (!text || sscanf(text, " %d:%d %c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 ||
        m > 59)
        return -1;
    *minute = h * 60 + m;
    return 0;
}

int nt_parse_clock(const char *text, int *second)
{
    int h, m, sec = 0;
    char tail;
    int n = text ? sscanf(text, " %d:%d:%d %c", &h, &m, &sec, &tail) : 0;
    if (n == 2 && nt_parse_hhmm(text, &m) == 0)
        return *second = m * 60, 0;
    if (n != 3 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
        return -1;
    *second = (h * 60 + m) * 60 + sec;
    return 0;
}

int nt_parse_window(const char *text, int *start, int *end)
{
    char a[16], b[16], tail;
    if (!text || sscanf(text, " %15[0-9:] - %15[0-9:] %c", a, b, &tail) != 2)
        return -1;
    return nt_parse_hhmm(a, start) == 0 && nt_parse_hhmm(b, end) == 0 ? 0 : -1;
}

int nt_parse_recipients(const char *text, unsigned *mask)
{
    static const char *const names[] = {"rep", "dm", "invitees", "staff", "approver"};
    *mask = 0;
    char buf[128];
    if (!text || strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        unsigned bit = 0;
        for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp(tok, names[i]) == 0)
                bit = 1u << i;
        if (!bit)
            return -1;
        *mask |= bit;
    }
    return 0;
}

static int parse_bool(const char *text, bool def, bool *out)
{
    if (!text) {
        *out = def;
        return 0;
    }
    if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1"))
        return *out = true, 0;
    if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0"))
        return *out = false, 0;
    return -1;
}

static int parse_offsets(nt_rule *r, const char *text)
{
    char buf[256];
    r->offset_count = 0;
    if (!text)
        return 0;
    if (strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (r->offset_count == NT_MAX_OFFSETS ||
            nt_parse_duration(tok, &r->offsets_ms[r->offset_count]) != 0)
            return -1;
        r->offset_count++;
    }
    return 0;
}

static void copy_text(char *dst, size_t cap, const char *src, const char *def)
{
    snprintf(dst, cap, "%s", src ? src : def);
}

/* The "when" keys: offsets, or at (+ at_day, per_day). */
static int load_timing(nt_rule *r, nt_lookup_fn lookup, void *arg, const char **bad)
{
    const char *at = lookup(arg, r->name, "at");
    r->at_minute = -1;
    if (at && nt_parse_hhmm(at, &r->at_minute) != 0)
        return *bad = "at", -1;
    const char *day = lookup(arg, r->name, "at_day");
    r->at_day = day ? atoi(day) : 0;
    if (day && (r->at_day < -366 || r->at_day > 366))
        return *bad = "at_day", -1;
    if (parse_bool(lookup(arg, r->name, "per_day"), false, &r->per_day) != 0)
        return *bad = "per_day", -1;
    if (parse_offsets(r, lookup(arg, r->name, "offsets")) != 0)
        return *bad = "offsets", -1;
    if (!r->cancel && r->at_minute < 0 && r->offset_count == 0)
        return *bad = "offsets", -1;
    const char *late = lookup(arg, r->name, "max_late");
    if (nt_parse_duration(late ? late : "1h", &r->max_late_ms) != 0 || r->max_late_ms < 0)
        return *bad = "max_late", -1;
    return 0;
}

static int load_escalation(nt_rule *r, nt_lookup_fn lookup, void *arg, const char **bad)
{
    const char *to = lookup(arg, r->name, "escalate_to");
    r->escalate_to = 0;
    if (!to)
        return 0;
    if (nt_parse_recipients(to, &r->escalate_to) != 0)
        return *bad = "escalate_to", -1;
    if (nt_parse_duration(lookup(arg, r->name, "escalate_after"), &r->escalate_after_ms) != 0)
        return *bad = "escalate_after", -1;
    copy_text(r->escalate_kind, sizeof r->escalate_kind, lookup(arg, r->name, "escalate_kind"),
              r->kind);
    return 0;
}

int nt_rule_load(nt_rule *r, const char *name, nt_lookup_fn lookup, void *arg, char *err,
                 size_t errcap)
{
    memset(r, 0, sizeof *r);
    copy_text(r->name, sizeof r->name, name, "");
    bool enabled;
    const char *bad = NULL;
    if (parse_bool(lookup(arg, name, "enabled"), true, &enabled) != 0)
        bad = "enabled";
    else if (!enabled)
        return 0;
    int ev = nt_event_kind_parse(lookup(arg, name, "event"));
    const char *action = lookup(arg, name, "action");
    r->cancel = action && strcmp(action, "cancel") == 0;
    if (!bad && ev < 0)
        bad = "event";
    if (!bad && action && !r->cancel && strcmp(action, "schedule") != 0)
        bad = "action";
    r->event = (nt_event_kind)(ev < 0 ? 0 : ev);
    copy_text(r->match, sizeof r->match, lookup(arg, name, "match"), "");
    copy_text(r->kind, sizeof r->kind, lookup(arg, name, "kind"), name);
    copy_text(r->title, sizeof r->title, lookup(arg, name, "title"), r->kind);
    const char *to = lookup(arg, name, "to");
    if (!bad && !r->cancel && (!to || nt_parse_recipients(to, &r->recipients) != 0 || !r->recipients))
        bad = "to";
    if (!bad && parse_bool(lookup(arg, name, "urgent"), false, &r->urgent) != 0)
        bad = "urgent";
    const char *anchor = lookup(arg, name, "anchor");
    r->anchor_event = anchor && strcmp(anchor, "event") == 0;
    if (!bad && anchor && !r->anchor_event && strcmp(anchor, "subject") != 0)
        bad = "anchor";
    if (!bad)
        load_timing(r, lookup, arg, &bad);
    if (!bad)
        load_escalation(r, lookup, arg, &bad);
    if (bad) {
        snprintf(err, errcap, "notify rule '%s': bad or missing '%s'", name, bad);
        return -1;
    }
    return 1;
}

bool nt_rule_matches(const nt_rule *rule, nt_event_kind ev, const char *value)
{
    if (rule->event != ev)
        return false;
    if (!rule->match[0])
        return true;
    if (!value || !value[0])
        return false;
    size_t n = strlen(value);
    for (const char *p = rule->match; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncmp(p, value, n) == 0)
            return true;
        p += len;
    }
    return false;
}

int64_t nt_local_at(const mr_tz *tz, int64_t anchor_ms, int days, int minute)
{
    mr_local_time lt;
    mr_tz_to_local(tz, anchor_ms / 1000, &lt);
    int y, m, d;
    mr_civil_from_days(mr_days_from_civil(lt.year, lt.month, lt.day) + days, &y, &m, &d);
    return mr_tz_from_local(tz, y, m, d, minute / 60, minute % 60, 0) * 1000;
}

int nt_rule_times(const nt_rule *rule, const mr_tz *tz, int64_t anchor_ms, int64_t now_ms,
                  int64_t *out, int cap)
{
    int64_t raw[NT_MAX_OFFSETS + 1];
    int n = 0;
    if (rule->at_minute >= 0)
        raw[n++] = nt_local_at(tz, anchor_ms, rule->at_day, rule->at_minute);
    for (int i = 0; i < rule->offset_count; i++)
        raw[n++] = anchor_ms + rule->offsets_ms[i];
    int count = 0;
    for (int i = 0; i < n && count < cap; i++) {
        if (raw[i] < now_ms - rule->max_late_ms)
            continue;
        out[count++] = raw[i] < now_ms ? now_ms : raw[i];
    }
    return count;
}

int64_t nt_quiet_defer(const mr_tz *tz, int64_t due_ms, int start, int end)
{
    if (start == end)
        return due_ms;
    mr_local_time lt;
    mr_tz_to_local(tz, due_ms / 1000, &lt);
    int minute = lt.hour * 60 + lt.minute;
    int end_day;               /* the window ends today (0) or tomorrow (1) */
    if (start < end) {
        if (minute < start || minute >= end)
            return due_ms;
        end_day = 0;
    } else {
        if (minute >= end && minute < start)
            return due_ms;
        end_day = minute >= start ? 1 : 0;
    }
    int y, m, d;
    mr_civil_from_days(mr_days_from_civil(lt.year, lt.month, lt.day) + end_day, &y, &m, &d);
    return mr_tz_from_local(tz, y, m, d, end / 60, end % 60, 0) * 1000;
}

int64_t nt_next_local(const mr_tz *tz, int64_t now_ms, int minute)
{
    int64_t t = nt_local_at(tz, now_ms, 0, minute);
    return t > now_ms ? t : nt_local_at(tz, now_ms, 1, minute);
}

/* The instant of local second-of-day `second` on the local date of
 * anchor_ms plus `days` days, in tz. */
static int64_t local_at_second(const mr_tz *tz, int64_t anchor_ms, int days, int second)
{
    mr_local_time lt;
    mr_tz_to_local(tz, anchor_ms / 1000, &lt);
    int y, m, d;
    mr_civil_from_days(mr_days_from_civil(lt.year, lt.month, lt.day) + days, &y, &m, &d);
    return mr_tz_from_local(tz, y, m, d, second / 3600, second / 60 % 60, second % 60) * 1000;
}

int64_t nt_next_local_second(const mr_tz *tz, int64_t now_ms, int second)
{
    int64_t t = local_at_second(tz, now_ms, 0, second);
    return t > now_ms ? t : local_at_second(tz, now_ms, 1, second);
}

void nt_local_date(const mr_tz *tz, int64_t t_ms, char *buf, size_t cap)
{
    mr_local_time lt;
    mr_tz_to_local(tz, t_ms / 1000, &lt);
    snprintf(buf, cap, "%04d-%02d-%02d", lt.year, lt.month, lt.day);
}

int nt_delivery_id(char *buf, size_t cap, const char *reminder_id, int64_t due_ms)
{
    int n = snprintf(buf, cap, "%s@%lld", reminder_id, (long long)due_ms);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

bool nt_channels_inbox_only(const char *list)
{
    bool inbox = false;
    const char *p = list ? list : "";
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n == 5 && strncmp(p, "inbox", 5) == 0)
            inbox = true;
        else if (n > 0)
            return false;
        p += n;
        p += strspn(p, ", ");
    }
    return inbox;
}

int nt_shard_of(const char *reminder_id, int shards)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)reminder_id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return shards > 1 ? (int)(h % (uint32_t)shards) : 0;
}

void nt_version_token(const char *request_id, char *buf, size_t cap)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)(request_id ? request_id : ""); *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    snprintf(buf, cap, "%016llx", (unsigned long long)h);
}

bool nt_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 127)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("._:@-", id[i]))
            return false;
    return true;
}
