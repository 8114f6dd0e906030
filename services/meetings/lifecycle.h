/* lifecycle.h: the meeting lifecycle as data (DOMAIN.md 4, issue 5).
 *
 * The flow is a list of edges "from>to:guard,guard" parsed from
 * configuration ([meetings] flow), so a company can add, remove or guard
 * steps without a rebuild. The core only answers questions: is this
 * transition legal, which guards fail. It holds no clock and does no I/O;
 * the shell passes the facts the guards need in mt_guard_facts. */
#ifndef MEETINGS_LIFECYCLE_H
#define MEETINGS_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    MT_PROPOSED = 0,
    MT_PENDING_APPROVAL,
    MT_APPROVED,
    MT_REJECTED,
    MT_CONFIRMED,
    MT_INVITATIONS_OUT,
    MT_IN_PROGRESS,
    MT_HELD,
    MT_SUMMARISED,
    MT_CLOSED,
    MT_CANCELLED,
    MT_RESCHEDULED,
    MT_STATE_COUNT
} mt_state;

/* Guards an edge can carry. */
typedef enum {
    MT_G_COMPLIANCE = 0,  /* no blocking compliance finding; warnings commented */
    MT_G_APPROVER,        /* the actor is a required approver; all have approved */
    MT_G_INVITEES,        /* a named invitation list exists */
    MT_G_CAP,             /* expected invitees within the head-count cap */
    MT_G_CHECKLIST,       /* every checklist item checked */
    MT_G_OPEN_TIME,       /* now is within the sign-in opening window */
    MT_G_ATTENDANCE,      /* at least one attendee signed in */
    MT_G_SUMMARY,         /* the summary form is filled */
    MT_G_FOLLOWUPS,       /* every follow-up done */
    MT_G_NEW_TIME,        /* a new start time in the future is given */
    MT_G_COMMENT,         /* a comment (reason) is given */
    MT_G_STAFF,           /* company staff within the range for the meeting's size */
    MT_GUARD_COUNT
} mt_guard;

#define MT_MAX_EDGES 48

typedef struct {
    mt_state from, to;
    uint32_t guards;      /* bit i set: guard i applies */
} mt_edge;

typedef struct {
    mt_edge edges[MT_MAX_EDGES];
    size_t count;
} mt_flow;

/* The default flow text (a choice; [meetings] flow replaces it). */
extern const char MT_DEFAULT_FLOW[];

const char *mt_state_name(mt_state s);
int mt_state_parse(const char *name);          /* -1 when unknown */
const char *mt_guard_name(mt_guard g);
int mt_guard_parse(const char *name);          /* -1 when unknown */

/* Parses "a>b:g1,g2; c>d; *>cancelled:comment" (edges separated by ';',
 * "*" = every state before held that is not terminal). 0, or -1 with a
 * message naming the bad part. */
int mt_flow_parse(const char *text, mt_flow *out, char *err, size_t errcap);

/* The edge from -> to, or NULL when the flow has none. */
const mt_edge *mt_flow_find(const mt_flow *flow, mt_state from, mt_state to);

/* The facts the guards look at, gathered by the shell. */
typedef struct {
    int blocking_findings;        /* compliance findings that block */
    int uncommented_warnings;     /* warnings with no comment given */
    bool actor_is_approver;       /* actor is among the required approvers */
    int approvals_missing;        /* required approvals still missing after this one */
    int invitees_expected;        /* named, expected (not backups on standby) */
    int head_count_cap;
    int checklist_open;           /* items not checked */
    int64_t now_ms, open_from_ms; /* sign-in opens at open_from_ms */
    int attendees;
    bool has_summary;
    int followups_open;
    int64_t new_start_ms;         /* 0: none given */
    bool has_comment;
    int staff, staff_min, staff_max;
} mt_guard_facts;

/* Checks every guard of edge against facts. Returns the number of failed
 * guards and writes their names and reasons ("; "-separated) into why. */
int mt_guards_check(const mt_edge *edge, const mt_guard_facts *facts, char *why, size_t whycap);

/* True when the state lies before "held" and is not terminal, i.e. the
 * meeting can still be cancelled or rescheduled. */
bool mt_state_before_held(mt_state s);

#endif
