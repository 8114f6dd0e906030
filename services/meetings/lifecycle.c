/* lifecycle.c: the meeting state machine as data: state and guard names,
 * the flow parser, edge lookup and guard checks. Pure: no I/O, no clock. */
#include "lifecycle.h"

#include <stdio.h>
#include <string.h>

const char MT_DEFAULT_FLOW[] =
    "proposed>pending_approval:compliance;"
    "pending_approval>approved:approver;"
    "pending_approval>rejected:approver,comment;"
    "approved>confirmed:invitees;"
    "confirmed>invitations_out:invitees,cap,staff;"
    "invitations_out>in_progress:checklist,open_time;"
    "in_progress>held:attendance;"
    "held>summarised:summary;"
    "summarised>closed:followups;"
    "*>cancelled:comment;"
    "*>rescheduled:new_time;"
    "rescheduled>pending_approval:compliance";

static const char *const state_names[MT_STATE_COUNT] = {
    "proposed", "pending_approval", "approved", "rejected", "confirmed", "invitations_out",
    "in_progress", "held", "summarised", "closed", "cancelled", "rescheduled",
};

static const char *const guard_names[MT_GUARD_COUNT] = {
    "compliance", "approver", "invitees", "cap", "checklist", "open_time",
    "attendance", "summary", "followups", "new_time", "comment", "staff",
};

const char *mt_state_name(mt_state s)
{
    return (unsigned)s < MT_STATE_COUNT ? state_names[s] : "unknown";
}

int mt_state_parse(const char *name)
{
    for (int i = 0; name && i < MT_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

const char *mt_guard_name(mt_guard g)
{
    return (unsigned)g < MT_GUARD_COUNT ? guard_names[g] : "unknown";
}

int mt_guard_parse(const char *name)
{
    for (int i = 0; name && i < MT_GUARD_COUNT; i++)
        if (strcmp(name, guard_names[i]) == 0)
            return i;
    return -1;
}

bool mt_state_before_held(mt_state s)
{
    return s == MT_PROPOSED || s == MT_PENDING_APPROVAL || s == MT_APPROVED || s == MT_CONFIRMED ||
           s == MT_INVITATIONS_OUT || s == MT_IN_PROGRESS || s == MT_RESCHEDULED;
}

/* Copies text[0..len) without surrounding blanks into buf. */
static void trimmed(const char *text, size_t len, char *buf, size_t cap)
{
    while (len && (*text == ' ' || *text == '\t' || *text == '\n')) text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n')) len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, text, len);
    buf[len] = 0;
}

static int add_edge(mt_flow *flow, mt_state from, mt_state to, uint32_t guards, char *err,
                    size_t errcap)
{
    if (mt_flow_find(flow, from, to))
        return 0; /* the first definition wins; "*" never overrides an explicit edge */
    if (flow->count >= MT_MAX_EDGES) {
        snprintf(err, errcap, "flow: more than %d edges", MT_MAX_EDGES);
        return -1;
    }
    flow->edges[flow->count++] = (mt_edge){from, to, guards};
    return 0;
}

static int parse_guards(const char *text, uint32_t *out, char *err, size_t errcap)
{
    *out = 0;
    while (text && *text) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        char name[32];
        trimmed(text, len, name, sizeof name);
        int g = mt_guard_parse(name);
        if (g < 0) {
            snprintf(err, errcap, "flow: unknown guard '%s'", name);
            return -1;
        }
        *out |= 1u << g;
        text = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int parse_edge(const char *text, mt_flow *flow, char *err, size_t errcap)
{
    char from[32], to[32], guards[256] = "";
    const char *gt = strchr(text, '>');
    if (!gt) {
        snprintf(err, errcap, "flow: edge '%s' lacks '>'", text);
        return -1;
    }
    trimmed(text, (size_t)(gt - text), from, sizeof from);
    const char *colon = strchr(gt, ':');
    trimmed(gt + 1, colon ? (size_t)(colon - gt - 1) : strlen(gt + 1), to, sizeof to);
    if (colon)
        trimmed(colon + 1, strlen(colon + 1), guards, sizeof guards);
    int t = mt_state_parse(to);
    int f = strcmp(from, "*") == 0 ? -2 : mt_state_parse(from);
    if (t < 0 || f == -1) {
        snprintf(err, errcap, "flow: unknown state in '%s'", text);
        return -1;
    }
    /* a held meeting has follow-ups planned in scheduling: no undoing it */
    if (f >= 0 && (t == MT_CANCELLED || t == MT_RESCHEDULED) && !mt_state_before_held((mt_state)f)) {
        snprintf(err, errcap, "flow: '%s': a meeting is cancelled or rescheduled only before it is held", text);
        return -1;
    }
    uint32_t g;
    if (parse_guards(guards, &g, err, errcap) != 0)
        return -1;
    if (f >= 0)
        return add_edge(flow, (mt_state)f, (mt_state)t, g, err, errcap);
    for (int s = 0; s < MT_STATE_COUNT; s++)
        if (mt_state_before_held((mt_state)s) && s != t &&
            add_edge(flow, (mt_state)s, (mt_state)t, g, err, errcap) != 0)
            return -1;
    return 0;
}

int mt_flow_parse(const char *text, mt_flow *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    char edge[512];
    while (text && *text) {
        const char *semi = strchr(text, ';');
        size_t len = semi ? (size_t)(semi - text) : strlen(text);
        trimmed(text, len, edge, sizeof edge);
        if (edge[0] && parse_edge(edge, out, err, errcap) != 0)
            return -1;
        text = semi ? semi + 1 : NULL;
    }
    if (out->count == 0) {
        snprintf(err, errcap, "flow: no edges");
        return -1;
    }
    return 0;
}

const mt_edge *mt_flow_find(const mt_flow *flow, mt_state from, mt_state to)
{
    for (size_t i = 0; i < flow->count; i++)
        if (flow->edges[i].from == from && flow->edges[i].to == to)
            return &flow->edges[i];
    return NULL;
}

/* Writes why guard g fails, or returns false when it holds. */
static bool guard_fails(mt_guard g, const mt_guard_facts *f, char *msg, size_t cap)
{
    switch (g) {
    case MT_G_COMPLIANCE:
        if (f->blocking_findings)
            return snprintf(msg, cap, "%d compliance rule(s) block", f->blocking_findings), true;
        if (f->uncommented_warnings)
            return snprintf(msg, cap, "%d compliance warning(s) need a comment",
                            f->uncommented_warnings), true;
        return false;
    case MT_G_APPROVER:
        if (!f->actor_is_approver)
            return snprintf(msg, cap, "the actor is not a required approver"), true;
        if (f->approvals_missing > 0)
            return snprintf(msg, cap, "%d approval(s) still missing", f->approvals_missing), true;
        return false;
    case MT_G_INVITEES:
        return f->invitees_expected <= 0 && snprintf(msg, cap, "no named invitation list");
    case MT_G_CAP:
        return f->head_count_cap > 0 && f->invitees_expected > f->head_count_cap &&
               snprintf(msg, cap, "%d invitees over the cap of %d", f->invitees_expected,
                        f->head_count_cap);
    case MT_G_CHECKLIST:
        return f->checklist_open > 0 &&
               snprintf(msg, cap, "%d checklist item(s) not checked", f->checklist_open);
    case MT_G_OPEN_TIME:
        return f->now_ms < f->open_from_ms && snprintf(msg, cap, "sign-in does not open yet");
    case MT_G_ATTENDANCE:
        return f->attendees <= 0 && snprintf(msg, cap, "nobody signed in");
    case MT_G_SUMMARY:
        return !f->has_summary && snprintf(msg, cap, "the summary form is empty");
    case MT_G_FOLLOWUPS:
        return f->followups_open > 0 &&
               snprintf(msg, cap, "%d follow-up(s) not done", f->followups_open);
    case MT_G_NEW_TIME:
        return f->new_start_ms <= f->now_ms && snprintf(msg, cap, "a new start time in the future is needed");
    case MT_G_COMMENT:
        return !f->has_comment && snprintf(msg, cap, "a comment is required");
    case MT_G_STAFF:
        return (f->staff < f->staff_min || f->staff > f->staff_max) &&
               snprintf(msg, cap, "%d staff named, %d-%d needed", f->staff, f->staff_min, f->staff_max);
    default:
        return false;
    }
}

int mt_guards_check(const mt_edge *edge, const mt_guard_facts *facts, char *why, size_t whycap)
{
    int failed = 0;
    size_t used = 0;
    if (whycap)
        why[0] = 0;
    for (int g = 0; g < MT_GUARD_COUNT; g++) {
        char msg[160];
        if (!(edge->guards & (1u << g)) || !guard_fails((mt_guard)g, facts, msg, sizeof msg))
            continue;
        failed++;
        if (used < whycap) {
            int n = snprintf(why + used, whycap - used, "%s%s: %s", failed > 1 ? "; " : "",
                             mt_guard_name((mt_guard)g), msg);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    return failed;
}
