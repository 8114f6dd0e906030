/* gateway.h: what the gateway's files share: its settings, the
 * per-thread connections, and the pieces of a request's handling. */
#ifndef MEDREP_GATEWAY_H
#define MEDREP_GATEWAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"
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
} gw_settings;

extern gw_settings gw;

/* This thread's broker client and store pool (made on first use, freed
 * when the thread ends). NULL when they cannot be made. */
mr_client *gw_client(void);
mr_store_pool *gw_pool(void);

/* An HTTP answer: status and a JSON body (owned). */
typedef struct {
    int status;
    json_t *body;
    const char *content_type;    /* default application/json */
    char *text;                  /* a non-JSON body (owned), e.g. /metrics */
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
/* Looks the bearer token up. 1 valid, 0 unknown or revoked, -1 Redis down. */
int gw_authenticate(const char *token, gw_identity *id);
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

/* ---- api.c ---- */

/* Handles one API request (everything but the fixed paths). */
void gw_handle_api(const char *method, const char *path, const char *body, size_t body_len,
                   const char *authorization, json_t *query, int *route_index, gw_answer *a);

#endif
