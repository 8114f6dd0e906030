/* gateway.h: what the gateway's files share: its settings, the
 * per-thread connections, and the pieces of a request's handling. */
#ifndef MEDREP_GATEWAY_H
#define MEDREP_GATEWAY_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "cache.h"
#include "config.h"
#include "routes.h"
#include "store.h"
#include "transport.h"

typedef struct {
    const mr_config *cfg;
    const char *broker;
    const char *auth_region;     /* the region whose Redis holds the API tokens */
    int port;
    int threads;
    long long max_body_bytes;
    int timeout_ms;              /* per service call */
    double rate_per_second;      /* per token */
    double rate_burst;
    int token_cache_ms;          /* how long a verified token is trusted without Redis (0: never) */
    int token_cache_max;         /* cached tokens at most (the cache is emptied when full) */
    int max_in_flight;           /* service calls outstanding at once (dispatch.c) */
    bool loop;                   /* http_mode "loop": one thread for HTTP and the broker */
    const char *feed;            /* the broker's live event feed (PUB), or NULL */
    int feed_silence_ms;         /* no feed message for this long: the cache is dropped and bypassed */
    gw_cache *cache;             /* the read cache, or NULL when [gateway] read_cache_ms is 0 */
    int *cache_ms;               /* per route: max age of its cached answers (0: not cached) */
} gw_settings;

extern gw_settings gw;

/* What a read that missed the cache (or a write that drops entries)
 * remembers until its reply: the key (owned), its tag, the epoch. */
typedef struct {
    char *key;                   /* NULL: not a cached read */
    char region[48];
    char id[136];                /* the tag's id ("" region-wide); path values are < 128 bytes */
    uint64_t epoch;
} gw_cache_ticket;

/* This thread's broker client (for owner look-ups; the route's own call
 * goes through dispatch.c) and store pool (made on first use, freed when
 * the thread ends). NULL when they cannot be made. */
mr_client *gw_client(void);
mr_store_pool *gw_pool(void);

typedef struct gw_call gw_call;   /* a service call on its way (dispatch.c) */

/* An HTTP answer: status and a JSON body (owned), or a call to make
 * first (owned; the answer comes from its reply). */
typedef struct {
    int status;
    json_t *body;
    const char *content_type;    /* default application/json */
    char *text;                  /* a non-JSON body (owned), e.g. /metrics */
    gw_call *call;
} gw_answer;

void gw_answer_error(gw_answer *a, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- auth.c ---- */

typedef struct {
    char user_id[64];
    char role_name[32];
    char region[40];
    char team[40];
    gw_caller caller;            /* points into the fields above */
    char token_hash[65];
} gw_identity;

/* SHA-256 of token as 64 hex characters. */
void gw_token_hash(const char *token, char out[65]);
/* Looks the bearer token up (in the cache of verified tokens, then in
 * Redis). 1 valid, 0 unknown or revoked, -1 Redis down. */
int gw_authenticate(const char *token, int64_t now_ms, gw_identity *id);
void gw_token_cache_free(void);   /* at exit */
/* Token bucket per token: true when the request may go ahead. */
bool gw_rate_allow(const char *token_hash, int64_t now_ms);

/* ---- metrics.c ---- */

void gw_metrics_record(int route_index, int status, int64_t micros);
char *gw_metrics_text(void);   /* Prometheus text; caller frees */

/* ---- openapi.c ---- */

json_t *gw_openapi(void);

/* ---- changes.c ---- */

void gw_changes(const gw_identity *id, const char *region, const char *since, int limit,
                gw_answer *a);

/* ---- owners.c: whose territory a named meeting or call is in ---- */

/* Copies the owning rep's id into rep; -1 when answered (not found, down). */
int gw_meeting_owner(const gw_identity *id, const char *region, const char *meeting_id, char *rep,
                     size_t cap, gw_answer *a);
int gw_call_owner(const gw_identity *id, const char *region, const char *call_id, char *rep, size_t cap,
                  gw_answer *a);

/* ---- dispatch.c: asynchronous service calls ---- */

struct MHD_Connection;
/* A call of route's method with msg (packed; msg stays the caller's). NULL when out of memory. */
gw_call *gw_call_new(const gw_route *route, const gw_identity *id, const char *region,
                     const ProtobufCMessage *msg);
void gw_call_free(gw_call **c);
const gw_route *gw_call_route(const gw_call *c);
Medrep__Reply *gw_call_reply(const gw_call *c);   /* after the resume; NULL when none */
gw_cache_ticket *gw_call_ticket(gw_call *c);      /* the call's cache ticket (zeroed at first) */
/* loop: no dispatcher thread; the caller runs gw_dispatch_loop. */
int gw_dispatch_start(bool loop);
struct MHD_Daemon;
/* The "loop" HTTP mode: runs httpd (started without an internal thread)
 * and the dispatcher in the calling thread until *stop; then refuses new
 * calls, waits for those in flight and answers them. */
void gw_dispatch_loop(struct MHD_Daemon *httpd, volatile sig_atomic_t *stop);
/* Suspends conn and queues the call; conn is resumed when its reply is
 * there. -1 (conn not suspended) when the gateway is stopping. */
int gw_dispatch_submit(gw_call *c, struct MHD_Connection *conn);
/* Refuses new calls, waits for those in flight, resumes every connection. */
void gw_dispatch_stop(void);
/* Whether the live feed is heard without a loss (feedseq.h): only then
 * may answers be cached. Any thread. */
bool gw_feed_trusted(void);

/* ---- api.c ---- */

/* The HTTP answer of a service reply to route (reply may be NULL). */
void gw_answer_from_reply(const gw_route *route, const Medrep__Reply *reply, gw_answer *a);


/* ---- readcache.c ---- */

/* After the access checks: answers a (true) from the cache when the
 * request is cached; otherwise fills t (the key when route is cacheable;
 * the region and tag id always, for a write's drops) and returns false. */
bool gw_cache_lookup(const gw_route *route, const gw_params *params, const gw_resource *res,
                     json_t *query, gw_answer *a, gw_cache_ticket *t);
/* Stores a read's 200 answer in the cache, or drops what a write's route
 * names (route->cache_drops), per the call's ticket. body: the answer's text. */
void gw_cache_after_reply(const gw_route *route, gw_cache_ticket *t, int status, const char *body,
                          size_t len, const char *content_type);

/* The HTTP status of a reply code (errors.h). */
int gw_http_status_of(int code);


/* Handles one API request (everything but the fixed paths). */
void gw_handle_api(const char *method, const char *path, const char *body, size_t body_len,
                   const char *authorization, json_t *query, int *route_index, gw_answer *a);

#endif
