/* meetings.h: what the meetings service's shell files share: the service
 * state (configuration with built-in defaults, region time zones), scoped
 * settings, and the stored meeting record (store.c).
 *
 * Redis layout (every key carries the region tag {r:<region>}):
 *   meet:m:<id>            the packed medrep.Meeting (the record)
 *   meet:state             hash id -> state
 *   meet:all               zset start_ms -> id
 *   meet:rep:<rep>         zset start_ms -> id
 *   meet:cust:<customer>   zset start_ms -> id of meetings the customer is expected at
 *   meet:spk:<speaker>     zset start_ms -> id of meetings the person speaks at
 *   meet:staff:<person>    zset start_ms -> id of meetings the person staffs
 *   meet:deadlines         zset rsvp deadline -> id while invitations are out
 *   meet:seg:<product>     hash customer -> segment (our copy from CustomerRegraded)
 *   meet:fu:<customer>     set of meetings with an open follow-up of the customer
 *   meet:ver               hash id -> version of the stored record: every save
 *                          expects (mr_tx_expect) the version it loaded, so a
 *                          change made from a stale version is refused whole */
#ifndef MEETINGS_SHELL_H
#define MEETINGS_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "meetings.pb-c.h"
#include "service.h"
#include "masterdata.h"
#include "transport.h"

#define MT_MAX_REGIONS 64
#define MT_MAX_GUESTS 256

typedef struct mt_ticker mt_ticker;

typedef struct {
    mr_config *defaults;          /* built-in defaults (owned) */
    mt_ticker *ticker;            /* the deadline-check thread (owned), or NULL */
    const mr_config *cfg;         /* the service's configuration (borrowed) */
    char region_names[MT_MAX_REGIONS][33];
    mr_tz *tzs[MT_MAX_REGIONS];   /* owned */
    int region_count;
    mr_client *peer;              /* to ask scoring and scheduling (owned; made on first use by the request thread) */
} mt_state_t;

/* Settings of one meeting: looked up in [meetings@kind:K], [meetings@product:P],
 * [meetings@region:R], [meetings], then the same in the defaults. */
typedef struct {
    const mt_state_t *st;
    char scope[3][96];
    const char *scopes[4];
} mt_settings;

void mt_settings_init(mt_settings *s, const mt_state_t *st, const char *region, const char *kind,
                      const char *product);
const char *mt_get(const mt_settings *s, const char *section, const char *key);
long long mt_int(const mt_settings *s, const char *key, long long def);
double mt_double(const mt_settings *s, const char *key, double def);
bool mt_bool(const mt_settings *s, const char *key, bool def);
const char *mt_str(const mt_settings *s, const char *key);   /* never NULL */

const mr_tz *mt_region_tz(const mt_state_t *st, const char *region);

/* ---- The stored record (store.c) ---- */

/* Loads meeting id: 1 found (*out owned by the caller, free with
 * medrep__meeting__free_unpacked), 0 not found, -1 Redis failed. */
int mt_load(mr_store *store, const char *region, const char *id, Medrep__Meeting **out);

/* Stages the save of m (whose version was base_version when loaded; -1
 * for a new meeting) with its indexes; m->version is bumped. When another
 * request committed a change from the same version first, the commit
 * fails and nothing is applied. 0 or -1. */
int mt_stage_save(mr_tx *tx, const char *region, Medrep__Meeting *m, int64_t base_version);

/* The segment of customer for product from our copy ("" when unknown). */
void mt_segment(mr_store *store, const char *region, const char *product, const char *customer,
                char *out, size_t cap);

/* Ids of the meetings in zset key (without the region tag) starting in
 * [from_ms, to_ms], with their start and state, for the compliance
 * windows and slot clashes: two round trips whatever the window holds,
 * and only the window is read. Returns the count (array owned by the
 * caller, free with free()), -1 on Redis failure. */
typedef struct {
    char id[64];
    int64_t start_ms;
    char state[24];
} mt_indexed;
long mt_index_read(mr_store *store, const char *region, const char *zkey, int64_t from_ms, int64_t to_ms,
                   mt_indexed **out);
/* The same for nk indexes at once (one pipeline, then one HMGET): *out
 * holds the items of zkeys[0], then of zkeys[1], ...; counts[k] how many
 * are zkeys[k]'s. Returns the total, -1 on Redis failure. */
long mt_index_read_many(mr_store *store, const char *region, const char *const *zkeys, size_t nk, int64_t from_ms,
                        int64_t to_ms, mt_indexed **out, long *counts);

/* Reads customers ids[0..n) (master data) and their segments for product
 * (our copy) in one pipeline: found[i] says whether customer i exists.
 * 0, or -1 when Redis failed. */
int mt_customers_read(mr_store *store, const char *region, const char *product, char *const *ids, size_t n,
                      mr_customer *out, char (*segs)[4], int *found);

/* True when the meeting counts toward the customer's meetings (expected or attended). */
bool mt_invitee_counts(const Medrep__Invitee *v);

/* ---- Shell helpers (shell.c) ---- */

#include "invitations.h"

/* The caller's user id, or NULL (then the call failed INVALID_ARGUMENT). */
const char *mt_actor(mr_call *call);
/* Loads the meeting named by id for a call: 0 with *m, or -1 with the
 * call failed (INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE). */
int mt_load_call(mr_call *call, const char *id, Medrep__Meeting **m);
/* Replaces *field (malloc'd or NULL) by a copy of v. 0 or -1. */
int mt_set_str(char **field, const char *v);
/* The guest list of m as core structs (items holds MT_MAX_GUESTS). */
void mt_guests_load(const Medrep__Meeting *m, mt_invitee *items, mt_guest_list *g);
/* Rebuilds m->invitees from g. 0 or -1 (out of memory). */
int mt_guests_store(Medrep__Meeting *m, const mt_guest_list *g);
/* 0 when start_ms is at least [meetings] filing_lead_hours away, else -1
 * with the call failed FAILED_PRECONDITION. */
int mt_filed_in_advance(mr_call *call, const mt_settings *s, int64_t start_ms);
/* Appends a history entry. 0 or -1. */
int mt_history_add(Medrep__Meeting *m, const char *from, const char *to, const char *actor,
                   int64_t at_ms, const char *comment);
/* Emits MeetingChanged with everything a reminder needs. 0 or -1. */
int mt_emit_changed(mr_call *call, const Medrep__Meeting *m, const char *from, const char *to,
                    const char *actor, const char *approver);
/* Saves m (base version) and replies MeetingReply{m}. Returns call->code. */
int mt_save_reply(mr_call *call, Medrep__Meeting *m, int64_t base);
/* The staged commit of m only (no reply). 0 or the call failed. */
int mt_save(mr_call *call, Medrep__Meeting *m, int64_t base);

/* compliance_check.c: evaluates every configured rule against m (other
 * meetings read from the indexes). Findings replace m->findings. Returns
 * the number of blocking findings and sets *warnings; -1 when Redis or
 * the configuration failed (call failed). */
int mt_compliance_check(mr_call *call, const mt_settings *s, Medrep__Meeting *m, int *warnings);
/* Checks a new expense against the per-person rules: 0 fine, 1 warned
 * (finding added), -1 blocked or failed (call failed). */
int mt_expense_check(mr_call *call, const mt_settings *s, Medrep__Meeting *m,
                     const Medrep__Expense *e);

extern const mr_method mt_methods[];
extern const size_t mt_method_count;
int mt_on_event(mr_event_call *call);

/* rx_scoring.c: the attendees' and the department's before/after shares
 * of our product, from scoring's monthly data. */
typedef struct {
    char (*ids)[64];
    double *before, *after;      /* 0..1 */
    size_t n;
} mt_rx_set;
/* Fills *out (free with mt_rx_set_free). 0, or -1 with the call failed
 * (UNAVAILABLE when scoring did not answer). */
int mt_rx_from_scoring(mr_call *call, const mt_settings *s, const Medrep__Meeting *m, mt_rx_set *out);
void mt_rx_set_free(mt_rx_set *set);

/* rep_plan.c: the client other services are asked through (made on
 * first use; NULL when out of memory), and the rep's fixed appointments
 * (pinned calls and PIMs) from scheduling between from_ms and to_ms:
 * the count with *out (free()), or -1 with the call failed (UNAVAILABLE
 * when scheduling did not answer). */
typedef struct {
    int64_t start_ms, end_ms;
} mt_busy;
mr_client *mt_peer(mr_call *call, const mt_settings *s);
/* How long to wait for another service: peer_timeout_ms, cut to what is
 * left of the caller's own deadline (0: nothing left). */
int mt_peer_timeout(const mr_call *call, const mt_settings *s);
long mt_rep_fixed_calls(mr_call *call, const mt_settings *s, const char *rep, int64_t from_ms, int64_t to_ms,
                        mt_busy **out);

/* ticker.c: a thread that sends CheckDeadlines for every region every
 * interval_s seconds (NULL when interval_s <= 0 or it cannot start). */
mt_ticker *mt_ticker_start(const mt_state_t *st, const mr_config *cfg, long long interval_s);
void mt_ticker_stop(mt_ticker **t);

/* ical.c: the meeting as an iCalendar VEVENT request (malloc'd text). */
char *mt_ical_export(const Medrep__Meeting *m, const char *tzname, int duration_min);

#endif
