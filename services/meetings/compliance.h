/* compliance.h: meeting compliance rules of one shape (DOMAIN.md 4.7).
 *
 * A rule says what is limited, over which window, which meeting states
 * count, and whether going over warns (the proposer must comment) or
 * blocks. Rules come from configuration ([meetings.rule.<name>] sections).
 * The reimbursement check (all required documents attached) lives here
 * too. Pure: the shell gathers the other meetings and passes them in. */
#ifndef MEETINGS_COMPLIANCE_H
#define MEETINGS_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle.h"

typedef enum {
    MT_LIM_GIFT_PER_ATTENDEE = 0,   /* cents of gifts per attendee */
    MT_LIM_SPEND_PER_ATTENDEE,      /* budget cents / head count */
    MT_LIM_MEETINGS_PER_CUSTOMER,   /* meetings an invitee attends in the window */
    MT_LIM_MEETINGS_PER_SPEAKER,    /* meetings a speaker speaks at in the window */
    MT_LIM_HONORARIUM_PER_PERSON,   /* cents paid to one person as honorarium */
    MT_LIM_TRAVEL_PER_PERSON,       /* cents paid to one person for travel */
    MT_LIM_COUNT
} mt_limit;

typedef enum { MT_WIN_MEETING = 0, MT_WIN_PERIOD, MT_WIN_ROLLING } mt_window;
typedef enum { MT_ACT_WARN = 0, MT_ACT_BLOCK } mt_action;

typedef struct {
    char name[48];
    mt_limit limit;
    double max;
    mt_window window;
    int days;              /* rolling window length */
    char period[16];       /* fixed period: "month", "quarter", "year" */
    uint32_t states;       /* bit s: meetings in state s count */
    mt_action action;
} mt_rule;

/* Parses one rule from its fields (as text, any may be NULL for the
 * default). 0, or -1 with a message naming the field. */
int mt_rule_parse(mt_rule *r, const char *name, const char *limit, const char *max,
                  const char *window, const char *days, const char *period,
                  const char *states, const char *action, char *err, size_t errcap);

const char *mt_limit_name(mt_limit l);

/* Another meeting of the same person, for count limits. */
typedef struct {
    int64_t start_ms;
    mt_state state;
} mt_other;

/* Count of meetings (this one included) in the worst window of rule r
 * containing start_ms: for MT_WIN_PERIOD the window is [from_ms, to_ms)
 * given by the caller; for MT_WIN_ROLLING, every window of r->days days
 * that contains start_ms is considered and the largest count returned.
 * Others in states r does not count are skipped. */
int mt_window_count(const mt_rule *r, int64_t start_ms, int64_t from_ms, int64_t to_ms,
                    const mt_other *others, size_t n);

typedef struct {
    int rule;              /* index into the rule array */
    char subject[64];      /* customer, speaker or person; "" for the meeting */
    double value, max;
    mt_action action;
} mt_finding;

/* Appends a finding when value > r->max. Returns the new count. */
size_t mt_finding_add(mt_finding *out, size_t n, size_t cap, int rule_index, const mt_rule *r,
                      const char *subject, double value);

/* Required documents missing from attached (both comma lists); the
 * missing names go into missing (comma list). Returns how many. */
int mt_documents_missing(const char *required, const char *attached, char *missing, size_t cap);

#endif
