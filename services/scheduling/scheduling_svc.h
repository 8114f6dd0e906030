/* scheduling_svc.h: the scheduling service's shell (everything around the pure
 * core): its Redis layout, the stored call record, and the replanning
 * entry point shared by the methods and the event handler.
 *
 * Redis layout (every key carries the region tag {r:<region>}):
 *   sched:call:<id>              packed medrep.PlannedCall
 *   sched:rep:<rep>:calls        zset of call ids by start_ms
 *   sched:rep:<rep>:busy         hash tag -> "<start_ms>:<end_ms>[:<kind>:<hospital>]"
 *                                (time off "off:...", meetings "meeting:<id>"; a
 *                                meeting with a hospital is a fixed stop there)
 *   sched:report:<call id>       packed medrep.CallReport (submitted, locked)
 *   sched:seg:<customer>         hash product -> segment (from CustomerRegraded)
 *   sched:stage:<customer>       hash product -> adoption stage 0..4
 *   sched:plan:<rep>:<YYYY-MM>   packed medrep.PlanReply without calls (the summary)
 *   sched:pace:<rep>:<date>:<class>  marks a CoverageBehindPace already sent that day
 *   sched:pace:runs              hash local date -> CheckPace runs that day
 *   sched:dirty                  zset rep -> when its debounced regrade replan is due
 *   sched:dirty:mark, :first     hash rep -> the last marking event / the first mark's ms
 *   sched:ticker:lease           the instance whose ticker serves the region now
 *   sched:travel                 hash "<from>><to>" -> supplied travel minutes
 *   sched:ver:<rep>              the rep's plan version: every unit of work that
 *                                changes the rep's calls increments it; a replan
 *                                expects it unchanged at commit (mr_tx_expect), so
 *                                two replans of one rep never interleave
 * Master data is read through common/masterdata.h only. Where, how long
 * and what kind a meeting is comes from its MeetingChanged event (the
 * meetings service's own keys are never read). */
#ifndef SCHED_SHELL_H
#define SCHED_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "norms.h"
#include "period.h"
#include "scheduling.pb-c.h"
#include "service.h"

#define SCHED_REGIONS_MAX 64
#define SCHED_OBJ_MAX 6             /* objectives carried by a planned call */

typedef struct {
    char name[33];
    mr_tz *tz;
    mr_calendar *cal;
} sched_region;

/* Read-only after init: shared by the request and event threads. */
typedef struct {
    const mr_config *cfg;
    sched_region regions[SCHED_REGIONS_MAX];
    int nregions;
    struct sched_ticker *ticker;  /* the ticker thread (ticker.c), owned; NULL: none */
} sched_state;

/* One unit of work: a request or an event, its store and its tx. */
typedef struct {
    mr_store *store;
    mr_tx *tx;
    const char *region;
    int64_t now_ms;
    const sched_state *st;
    const sched_region *rg;
    mr_call *call;               /* one of call / ecall is set */
    mr_event_call *ecall;
    int code;                    /* MR_OK or the failure */
    char err[256];
    char locked_rep[64];         /* the rep whose plan version this unit expects */
    char touched_rep[64];        /* the rep whose version increment is staged */
    const char *plan_reason;     /* PlanChanged's reason (static string); NULL: "replan" */
    int plan_bias;               /* calls the unit changed itself before replanning (counted
                                  * into every PlanChanged it emits) */
} sched_ctx;

typedef struct {
    char id[192], rep[64], customer[64], hospital[64], dept[64], product[64];
    char state[16], origin[24], kind[8], segment[24];
    char customer_name[128], hospital_name[128];
    char objectives[SCHED_OBJ_MAX][96];
    int nobjectives;
    char last_call[192];
    int64_t start_ms;
    int duration;
    bool pinned;
} sched_call;

typedef struct {
    sched_call *v;
    int n, cap;
} sched_calls;

/* Changes made by the current request or event, not yet in Redis. */
typedef struct {
    const sched_call *calls;     /* replace stored calls of the same id, or add */
    int ncalls;
    const sc_busy *busy;         /* extra busy spans */
    int nbusy;
    const char *drop_busy;       /* a stored busy tag to ignore (replaced or removed) */
    const char *seg_customer;    /* a new segment for one customer */
    const char *seg_product;
    const char *seg_value;
} sched_overrides;

/* ---- sched_state ---- */
int sched_state_init(sched_state *st, const mr_config *cfg, char *err, size_t errcap);
void sched_state_fini(sched_state *st);
const sched_region *sched_region_of(const sched_state *st, const char *region);

/* ---- ctx ---- */
void sched_ctx_from_call(sched_ctx *c, mr_call *call);
void sched_ctx_from_event(sched_ctx *c, mr_event_call *ecall);
int sched_fail(sched_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sched_emit(sched_ctx *c, Medrep__Event *ev);
/* The norms of a rep's team in this region. 0 or -1 (ctx failed). */
int sched_norms(sched_ctx *c, const char *team, sc_norms *out);

/* ---- stored calls (callstore.c) ---- */
int sched_calls_push(sched_calls *a, const sched_call *c);
void sched_calls_free(sched_calls *a);
/* pb points into c; objp (SCHED_OBJ_MAX entries) holds the objectives' pointers. */
void sched_call_to_pb(const sched_call *c, Medrep__PlannedCall *pb, char **objp);
void sched_call_from_pb(const Medrep__PlannedCall *pb, sched_call *c);
/* Calls of rep with lo_ms <= start < hi_ms, stored ones then overrides. 0 or -1. */
int sched_load_calls(sched_ctx *c, const char *rep, int64_t lo_ms, int64_t hi_ms,
                     const sched_overrides *ov, sched_calls *out);
/* 1 found, 0 not, -1 failed. */
int sched_get_call(sched_ctx *c, const char *id, sched_call *out);
/* Stages the SET and ZADD of a call (and the ZREM of nothing). 0 or -1. */
int sched_stage_call(sched_ctx *c, const sched_call *call);
int sched_stage_delete_call(sched_ctx *c, const sched_call *call);
/* Busy spans of rep overlapping [lo, hi). Returns the count, -1 failed; *out malloc'd. */
int sched_load_busy(sched_ctx *c, const char *rep, int64_t lo_ms, int64_t hi_ms,
                    const sched_overrides *ov, sc_busy **out);
/* A meeting in the rep's time (busy tag "meeting:<id>"): the span the rep
 * is held and its hospital ("" when it only blocks time). */
typedef struct {
    char meeting_id[64];
    char hospital[64];
    int64_t start_ms, end_ms;
} sched_stop;
/* Meetings of rep overlapping [lo, hi), by start. Returns the count, -1
 * failed; *out malloc'd (NULL when none). */
int sched_load_stops(sched_ctx *c, const char *rep, int64_t lo_ms, int64_t hi_ms, sched_stop **out);
/* The customer's best segment over products ("" when none). 0 or -1. */
int sched_segment(sched_ctx *c, const char *customer, const sched_overrides *ov, char *out,
                  size_t cap);
/* "call_id" valid as part of a key. */
bool sched_id_valid(const char *id);

/* ---- replanning (replan.c) ---- */
/* Replans the rest of `month` for rep from ctx->now_ms, staging every
 * write into ctx->tx; out (may be NULL) gets the month's calls after it,
 * and summary its PlanReply fields without calls. A month already over
 * is not changed (its stored calls are answered). 0 or -1 (ctx failed). */
int sched_replan(sched_ctx *c, const char *rep, const sc_period *month, const sched_overrides *ov,
                 sched_calls *out, Medrep__PlanReply *summary, sc_shortfall *shortfalls,
                 int *nshortfalls);
/* Replans the rest of the current month, and the next month when a plan
 * for it is already stored (events, the debounced regrade replan). 0 or
 * -1 (ctx failed). */
int sched_replan_current(sched_ctx *c, const char *rep, const sched_overrides *ov);
/* Forgets the guard marks of the unit (its staged tx was reset or will
 * not be committed). */
void sched_unlock(sched_ctx *c);
/* Stages the increment of rep's plan version (once per unit): every
 * write of a rep's calls outside a replan calls it, so a concurrent
 * replan that read the old calls does not commit. 0 or -1 (ctx failed). */
int sched_touch_rep(sched_ctx *c, const char *rep);
/* The month period of now in the region. */
void sched_current_month(sched_ctx *c, sc_period *out);

/* ---- debounced replans (dirty.c) and the ticker (ticker.c) ---- */
/* Stages the rep's dirty mark, due after quiet_ms (at most max_wait_ms
 * after the first unreplanned mark). 0 or -1 (ctx failed). */
int sched_mark_dirty(sched_ctx *c, const char *rep, long quiet_ms, long max_wait_ms);
/* Method ReplanDirty. */
int sched_replan_dirty(mr_call *call);

typedef struct sched_ticker sched_ticker;
/* Starts the ticker thread (NULL when [scheduling] ticker_interval_ms is
 * 0 or it could not start). st, cfg and instance outlive it. */
sched_ticker *sched_ticker_start(const sched_state *st, const mr_config *cfg, const char *instance);
void sched_ticker_stop(sched_ticker **t);

/* ---- iCalendar (ical.c) ---- */
/* A malloc'd VCALENDAR text of the calls, or NULL. */
char *sched_ical(const sched_calls *calls, const char *tzname, int64_t now_ms);

/* ---- methods and events (handlers.c) ---- */
extern const mr_method sched_methods[];
extern const size_t sched_method_count;
int sched_on_event(mr_event_call *call);

#endif
