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
 *   meet:v:<id>:<version>  concurrency guard: a change made from version v
 *                          commits only once (see mt_stage_save) */
#ifndef MEETINGS_SHELL_H
#define MEETINGS_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "meetings.pb-c.h"
#include "service.h"

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

/* Ids of meetings in zset key (without the region tag) with their start
 * and state, for the compliance windows. Returns the count (arrays owned
 * by the caller, free with free()), -1 on Redis failure. */
typedef struct {
    char id[64];
    int64_t start_ms;
    char state[24];
} mt_indexed;
long mt_index_read(mr_store *store, const char *region, const char *zkey, mt_indexed **out);

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

/* ticker.c: a thread that sends CheckDeadlines for every region every
 * interval_s seconds (NULL when interval_s <= 0 or it cannot start). */
mt_ticker *mt_ticker_start(const mt_state_t *st, const mr_config *cfg, long long interval_s);
void mt_ticker_stop(mt_ticker **t);

/* ical.c: the meeting as an iCalendar VEVENT request (malloc'd text). */
char *mt_ical_export(const Medrep__Meeting *m, const char *tzname, int duration_min);

#endif
