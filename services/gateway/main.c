/* main.c of the gateway: the HTTP/JSON edge for people and other systems
 * (libmicrohttpd + jansson). Fixed paths: /healthz, /metrics,
 * /openapi.json; everything under /v1 goes through api.c, whose service
 * call is sent by dispatch.c while the connection is suspended; the
 * second call of the request handler answers from its reply.
 *
 *   gateway [--config FILE]
 *
 * Keys: [gateway] port (8080), threads (2), max_body_bytes (1048576),
 * timeout_ms (5000), rate_per_second (200), rate_burst (400),
 * token_cache_ms (2000), token_cache_max (100000), max_in_flight (256),
 * auth_region (the first region), log_level, http_mode (pool: an
 * internal thread pool of `threads`; loop: one thread for HTTP and the
 * broker), read_cache_ms (per cache group in [gateway@cache:<group>],
 * else [gateway], else the group's default: inbox and plan 60000, grades
 * 300000; 0: off), read_cache_entries (10000), read_cache_max_body
 * (65536), feed_silence_ms (3 x [feed] heartbeat_ms); [feed] endpoint (the
 * events that invalidate cached answers: without it nothing is cached),
 * heartbeat_ms (1000); docs/configuration-gateway.md explains each. */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"
#include "clock.h"
#include "events.h"
#include "gateway.h"
#include "log.h"

gw_settings gw;
void gw_rate_free(void);

/* ---- Per-thread connections ---- */

typedef struct {
    mr_client *client;
    mr_store_pool *pool;
} thread_conns;

static pthread_key_t conns_key;

static void conns_free(void *p)
{
    thread_conns *t = p;
    mr_client_free(&t->client);
    mr_store_pool_free(&t->pool);
    free(t);
}

static thread_conns *conns(void)
{
    thread_conns *t = pthread_getspecific(conns_key);
    if (!t && (t = calloc(1, sizeof *t)) != NULL)
        pthread_setspecific(conns_key, t);
    return t;
}

mr_client *gw_client(void)
{
    thread_conns *t = conns();
    if (t && !t->client) {
        mr_client_opts opts = {.broker = gw.broker, .max_inflight = 4};
        t->client = mr_client_new(&opts);
    }
    return t ? t->client : NULL;
}

mr_store_pool *gw_pool(void)
{
    thread_conns *t = conns();
    char err[256];
    if (t && !t->pool)
        t->pool = mr_store_pool_new(gw.cfg, err, sizeof err);
    return t ? t->pool : NULL;
}

/* ---- HTTP ---- */

typedef struct {
    char *body;
    size_t len;
    bool too_large;
    int64_t started_us;
    gw_call *call;               /* sent and awaited while the connection is suspended */
} request_state;

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    json_object_set_new(cls, key, json_string(value ? value : ""));
    return MHD_YES;
}

static enum MHD_Result send_answer(struct MHD_Connection *conn, gw_answer *a)
{
    char *text = a->text;
    if (!text)
        text = a->body ? json_dumps(a->body, JSON_COMPACT) : strdup("{}");
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text,
                                                                MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", a->content_type ? a->content_type : "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    json_decref(a->body);
    return rc;
}

static void fixed_path(const char *url, gw_answer *a, int *route_index)
{
    *route_index = -1;
    if (strcmp(url, "/healthz") == 0) {
        a->status = 200;
        a->body = json_pack("{s:s}", "status", "ok");
    } else if (strcmp(url, "/openapi.json") == 0) {
        a->status = 200;
        a->body = gw_openapi();
    } else if (strcmp(url, "/metrics") == 0) {
        a->status = 200;
        a->text = gw_metrics_text();
        a->content_type = "text/plain; version=0.0.4";
    }
}

static void dispatch(struct MHD_Connection *conn, const char *url, const char *method,
                     request_state *st, gw_answer *a, int *route_index)
{
    if (st->too_large) {
        gw_answer_error(a, 413, "PAYLOAD_TOO_LARGE", "the body is larger than %lld bytes", gw.max_body_bytes);
        return;
    }
    if (strcmp(method, "GET") == 0)
        fixed_path(url, a, route_index);
    if (a->status)
        return;
    json_t *query = json_object();
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, query);
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    gw_handle_api(method, url, st->body, st->len, auth, query, route_index, a);
    json_decref(query);
}

static enum MHD_Result answer_call(struct MHD_Connection *conn, request_state *st)
{
    gw_answer a = {0};
    const gw_route *route = gw_call_route(st->call);
    gw_answer_from_reply(route, gw_call_reply(st->call), &a);
    if (!a.text) {
        a.text = a.body ? json_dumps(a.body, JSON_COMPACT) : strdup("{}");
        json_decref(a.body);
        a.body = NULL;
    }
    if (a.text)
        gw_cache_after_reply(route, gw_call_ticket(st->call), a.status, a.text, strlen(a.text),
                             a.content_type);
    gw_call_free(&st->call);
    gw_metrics_record((int)(route - gw_routes), a.status, mr_mono_us() - st->started_us);
    return send_answer(conn, &a);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->started_us = mr_mono_us();
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (st->len + *upload_size > (size_t)gw.max_body_bytes) {
            st->too_large = true;
        } else {
            char *grown = realloc(st->body, st->len + *upload_size + 1);
            if (!grown)
                return MHD_NO;
            st->body = grown;
            memcpy(st->body + st->len, upload, *upload_size);
            st->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->call)   /* resumed: the reply is there */
        return answer_call(conn, st);
    gw_answer a = {0};
    int route_index = -1;
    dispatch(conn, url, method, st, &a, &route_index);
    if (a.call) {
        st->call = a.call;
        if (gw_dispatch_submit(st->call, conn) == 0)
            return MHD_YES;
        gw_call_free(&st->call);
        gw_answer_error(&a, 503, "UNAVAILABLE", "the gateway is stopping");
    }
    gw_metrics_record(route_index, a.status, mr_mono_us() - st->started_us);
    return send_answer(conn, &a);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    request_state *st = *con_cls;
    if (st) {
        gw_call_free(&st->call);
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* ---- Start and stop ---- */

/* A cache group's read_cache_ms when neither its section nor [gateway]
 * sets one: grades change monthly (and by events), the rest by the day.
 * Long, because every change comes with an event and a lost event is
 * detected (feedseq.h): the age bounds only an undetected misbehaviour. */
static long long cache_group_default_ms(const char *group)
{
    static const struct {
        const char *group;
        long long ms;
    } defaults[] = {{"inbox", 60000}, {"plan", 60000}, {"grades", 300000}};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (strcmp(defaults[i].group, group) == 0)
            return defaults[i].ms;
    return 60000;
}

/* The read cache's settings: the max age of each route's answers
 * (gw.cache_ms) and the cache itself when any route is cached. */
static int read_cache_settings(const mr_config *cfg, char *err, size_t errcap)
{
    long long entries, max_body;
    if (mr_config_int(cfg, "gateway", "read_cache_entries", 10000, 1, 10000000, &entries, err, errcap) ||
        mr_config_int(cfg, "gateway", "read_cache_max_body", 65536, 16, 1 << 26, &max_body, err, errcap))
        return -1;
    int *cache_ms = calloc(gw_route_count, sizeof *cache_ms);   /* freed at exit */
    if (!cache_ms) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    gw.cache_ms = cache_ms;
    bool any = false;
    for (size_t i = 0; i < gw_route_count; i++) {
        if (!gw_routes[i].cache)
            continue;
        char section[80];   /* the group's own section refines [gateway] */
        snprintf(section, sizeof section, "gateway@cache:%s", gw_routes[i].cache);
        bool scoped = mr_config_get(cfg, section, "read_cache_ms") != NULL;
        long long ms;
        if (mr_config_int(cfg, scoped ? section : "gateway", "read_cache_ms",
                          cache_group_default_ms(gw_routes[i].cache), 0, 86400000, &ms, err, errcap))
            return -1;
        cache_ms[i] = (int)ms;
        any = any || ms > 0;
    }
    gw.feed = mr_config_get(cfg, "feed", "endpoint");
    long long heartbeat, silence;
    if (mr_config_int(cfg, "feed", "heartbeat_ms", MR_FEED_DEFAULT_HEARTBEAT_MS, 1, 3600000, &heartbeat, err,
                      errcap) ||
        mr_config_int(cfg, "gateway", "feed_silence_ms", 3 * heartbeat, 1, 3 * 3600000LL, &silence, err, errcap))
        return -1;
    if (silence <= heartbeat) {
        snprintf(err, errcap, "[gateway] feed_silence_ms (%lld) must exceed [feed] heartbeat_ms (%lld)", silence,
                 heartbeat);
        return -1;
    }
    gw.feed_silence_ms = (int)silence;
    if (any && !(gw.cache = gw_cache_new((size_t)entries, (size_t)max_body))) {
        snprintf(err, errcap, "out of memory for the read cache");
        return -1;
    }
    return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int read_settings(const mr_config *cfg, char *err, size_t errcap)
{
    long long port, threads, body, timeout, cache_ms, cache_max, in_flight;
    double rate, burst;
    if (mr_config_int(cfg, "gateway", "port", 8080, 1, 65535, &port, err, errcap) ||
        mr_config_int(cfg, "gateway", "threads", 2, 1, 256, &threads, err, errcap) ||
        mr_config_int(cfg, "gateway", "max_body_bytes", 1 << 20, 1024, 1 << 28, &body, err, errcap) ||
        mr_config_int(cfg, "gateway", "timeout_ms", 5000, 100, 600000, &timeout, err, errcap) ||
        mr_config_double(cfg, "gateway", "rate_per_second", 200, 0.01, 1e9, &rate, err, errcap) ||
        mr_config_double(cfg, "gateway", "rate_burst", 400, 1, 1e9, &burst, err, errcap) ||
        mr_config_int(cfg, "gateway", "token_cache_ms", 2000, 0, 3600000, &cache_ms, err, errcap) ||
        mr_config_int(cfg, "gateway", "token_cache_max", 100000, 1, 10000000, &cache_max, err, errcap) ||
        mr_config_int(cfg, "gateway", "max_in_flight", 256, 1, 65536, &in_flight, err, errcap))
        return -1;
    mr_region_cfg regions[1];
    int n = mr_config_regions(cfg, regions, 1, err, errcap);
    static char first_region[40];
    snprintf(first_region, sizeof first_region, "%s", n != 0 ? regions[0].name : "");
    gw = (gw_settings){.cfg = cfg, .port = (int)port, .threads = (int)threads,
                       .max_body_bytes = body, .timeout_ms = (int)timeout,
                       .rate_per_second = rate, .rate_burst = burst,
                       .token_cache_ms = (int)cache_ms, .token_cache_max = (int)cache_max,
                       .max_in_flight = (int)in_flight,
                       .broker = mr_config_str(cfg, "broker", "endpoint", "tcp://127.0.0.1:5555"),
                       .auth_region = mr_config_str(cfg, "gateway", "auth_region", first_region)};
    if (!gw.auth_region[0]) {
        snprintf(err, errcap, "no region configured to keep the API tokens in ([gateway] auth_region)");
        return -1;
    }
    const char *mode = mr_config_str(cfg, "gateway", "http_mode", "pool");
    if (strcmp(mode, "pool") != 0 && strcmp(mode, "loop") != 0) {
        snprintf(err, errcap, "[gateway] http_mode: '%s' is not pool or loop", mode);
        return -1;
    }
    gw.loop = strcmp(mode, "loop") == 0;
    return read_cache_settings(cfg, err, errcap);
}

static struct MHD_Daemon *start_http(void)
{
    if (gw.loop)   /* polled from outside, by gw_dispatch_loop */
        return MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
                                (uint16_t)gw.port, NULL, NULL, on_request, NULL,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                                MHD_ALLOW_SUSPEND_RESUME,
                            (uint16_t)gw.port, NULL, NULL, on_request, NULL,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)gw.threads,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    mr_cli_args args;
    int usage = mr_cli_args_parse(argc, argv, &args);
    if (usage != 0)
        return usage == 1 ? 0 : 2;
    char err[512];
    mr_config *cfg = mr_config_load(args.config_path, err, sizeof err);
    if (!cfg || read_settings(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "gateway: %s\n", err);
        free(gw.cache_ms);
        mr_config_free(&cfg);
        return 2;
    }
    int level = mr_log_level_parse(mr_config_str(cfg, "gateway", "log_level", "info"));
    mr_log_init("gateway", level < 0 ? MR_LOG_INFO : (mr_log_level)level);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    pthread_key_create(&conns_key, conns_free);
    struct MHD_Daemon *d = gw_dispatch_start(gw.loop) == 0 ? start_http() : NULL;
    if (!d) {
        fprintf(stderr, "gateway: cannot listen on port %d (or start the dispatcher)\n", gw.port);
        gw_dispatch_stop();
        pthread_key_delete(conns_key);
        gw_cache_free(&gw.cache);
        free(gw.cache_ms);
        mr_config_free(&cfg);
        return 1;
    }
    mr_info("gateway_started", "port=%d threads=%d http_mode=%s read_cache=%s", gw.port, gw.threads,
            gw.loop ? "loop" : "pool", gw.cache ? "on" : "off");
    if (gw.loop)
        gw_dispatch_loop(d, &stop_requested);
    while (!stop_requested)
        pause();
    gw_dispatch_stop();   /* every suspended connection is resumed before the daemon stops */
    MHD_stop_daemon(d);
    thread_conns *mine = pthread_getspecific(conns_key);
    if (mine)
        conns_free(mine);
    pthread_key_delete(conns_key);
    gw_rate_free();
    gw_token_cache_free();
    gw_cache_free(&gw.cache);
    free(gw.cache_ms);
    mr_config_free(&cfg);
    mr_info("gateway_stopped", "signal=1");
    return 0;
}
