/* invitations.h: named invitations of a meeting (DOMAIN.md 4.5): the
 * head-count cap and the prescriber-only filter when adding guests,
 * backups of the same segment for key guests, invited when the guest
 * declines or does not answer by the deadline, sign-in (attendees,
 * walk-ins, substitutes), the two KPIs, and the suggestions made at
 * proposal (invitation list, backups, speaker candidates). Pure. */
#ifndef MEETINGS_INVITATIONS_H
#define MEETINGS_INVITATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_ID 64

typedef enum { MT_RSVP_PENDING = 0, MT_RSVP_ACCEPTED, MT_RSVP_DECLINED, MT_RSVP_NO_ANSWER } mt_rsvp;

typedef enum {
    MT_INV_EXPECTED = 0,   /* invited: counts as expected unless declined */
    MT_INV_STANDBY,        /* a backup not yet invited */
    MT_INV_WALK_IN,        /* came without an invitation (or as a substitute) */
} mt_inv_status;

typedef struct {
    char customer_id[MT_ID];
    char segment[4];             /* "A".."D" or "" */
    char title[32];              /* title or non-prescriber group */
    char backup_for[MT_ID];      /* "" unless this is a backup */
    char substitute_for[MT_ID];  /* walk-ins standing in for an invitee */
    mt_rsvp rsvp;
    mt_inv_status status;
    bool attended;
    int64_t invited_ms;          /* 0 while on standby */
} mt_invitee;

typedef struct {
    mt_invitee *items;           /* borrowed array of cap entries */
    size_t count, cap;
} mt_guest_list;

/* Policy, from configuration. */
typedef struct {
    int head_count_cap;                  /* 0: no cap */
    bool prescriber_only;
    const char *excluded_titles;         /* comma list kept out of prescriber-only meetings */
    const char *key_segments;            /* comma list, e.g. "A,B" */
} mt_invite_policy;

/* True when word is an element of the comma list. */
bool mt_in_list(const char *list, const char *word);

/* Number of guests that count as expected now (invited, not declined or
 * silent past the deadline, not walk-ins). */
int mt_expected_count(const mt_guest_list *g);

/* Adds a guest (status MT_INV_EXPECTED, or MT_INV_STANDBY when backup_for
 * is set). 0, or -1 with the reason: already invited, excluded by the
 * prescriber-only rule, over the cap, unknown guest to back up, full. */
int mt_invite(mt_guest_list *g, const mt_invite_policy *p, const mt_invitee *guest, int64_t now_ms,
              char *why, size_t whycap);

/* Records an answer. When a key guest declines, the first standby backup
 * named for them is invited; *backup_index gets its index (or -1).
 * 0, or -1 when the customer is not invited. */
int mt_rsvp_answer(mt_guest_list *g, const char *customer_id, mt_rsvp answer, int64_t now_ms,
                   int *backup_index);

/* The deadline passed at now_ms: every key guest still pending becomes
 * MT_RSVP_NO_ANSWER and their backup is invited. Writes the indexes of
 * the backups invited into out (up to cap) and returns how many. */
size_t mt_deadline_pass(mt_guest_list *g, const mt_invite_policy *p, int64_t now_ms,
                        int *out, size_t cap);

/* Sign-in: an invited guest attends; an unknown person is added as a
 * walk-in (substitute_for names the invitee they replace, may be NULL).
 * 0, or -1 when the list is full or the substitute's invitee is unknown. */
int mt_sign_in(mt_guest_list *g, const char *customer_id, const char *segment,
               const char *substitute_for, int64_t now_ms);

typedef struct {
    int expected;        /* invited and not declined */
    int attendees;       /* everyone who signed in, walk-ins and substitutes included */
    int expected_came;   /* expected people who signed in themselves */
    double attendance_rate;   /* attendees / expected (0 when none expected) */
    double accuracy;          /* expected_came / expected */
} mt_kpis;

void mt_kpis_compute(const mt_guest_list *g, mt_kpis *out);

/* ---- Suggestions at proposal ---- */

typedef struct {
    char customer_id[MT_ID];
    char segment[4];
    char title[32];
    bool prescriber;
    bool kol;
    char compliance_risk[8];     /* low, medium, high */
} mt_candidate;

/* Picks the department's key-segment customers (A before B, then by id)
 * as the invitation list, up to the cap, honouring the prescriber-only
 * rule, and for each a backup of the same segment among the rest.
 * Writes into out (borrowed, cap entries); returns the number written. */
size_t mt_suggest_guests(const mt_candidate *cands, size_t n, const mt_invite_policy *p,
                         mt_invitee *out, size_t cap);

/* Speaker candidates: prescribers whose compliance risk is not in
 * risky_levels (e.g. "high"), KOLs first, then by title rank of
 * title_order (comma list, best first). Writes indexes into out. */
size_t mt_suggest_speakers(const mt_candidate *cands, size_t n, const char *risky_levels,
                           const char *title_order, int *out, size_t cap);

const char *mt_rsvp_name(mt_rsvp r);
int mt_rsvp_parse(const char *name);
const char *mt_inv_status_name(mt_inv_status s);
int mt_inv_status_parse(const char *name);

#endif
