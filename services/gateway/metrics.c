/* metrics.c: request counters and latency histograms per route, and the
 * Prometheus text of /metrics, which also carries each service instance's
 * Status figures (asked through the broker when scraped). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "gateway.h"

#define BUCKETS 12
static const double bucket_bounds[BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

/* Fixed paths take the slots after the table's routes. */
enum { EXTRA_SLOTS = 1, MAX_ROUTES = 256 };

typedef struct {
    unsigned long long requests;
    unsigned long long by_class[6];   /* 1xx..5xx */
    unsigned long long buckets[BUCKETS];
    double seconds_sum;
} route_stats;

static route_stats stats[MAX_ROUTES + EXTRA_SLOTS];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

void gw_metrics_record(int route_index, int status, int64_t micros)
{
    int slot = route_index >= 0 && route_index < MAX_ROUTES ? route_index : MAX_ROUTES;
    double seconds = (double)micros / 1e6;
    pthread_mutex_lock(&stats_lock);
    route_stats *s = &stats[slot];
    s->requests++;
    s->by_class[status / 100 >= 1 && status / 100 <= 5 ? status / 100 : 5]++;
    for (int b = 0; b < BUCKETS; b++)
        if (seconds <= bucket_bounds[b])
            s->buckets[b]++;
    s->seconds_sum += seconds;
    pthread_mutex_unlock(&stats_lock);
}

static void route_label(int slot, char *buf, size_t cap)
{
    if (slot < (int)gw_route_count)
        snprintf(buf, cap, "%s %s", gw_routes[slot].http_method, gw_routes[slot].pattern);
    else
        snprintf(buf, cap, "other");
}

static void print_route(FILE *out, int slot, const route_stats *s)
{
    char label[300];
    route_label(slot, label, sizeof label);
    fprintf(out, "medrep_http_requests_total{route=\"%s\"} %llu\n", label, s->requests);
    for (int c = 1; c <= 5; c++)
        if (s->by_class[c])
            fprintf(out, "medrep_http_responses_total{route=\"%s\",class=\"%dxx\"} %llu\n", label, c,
                    s->by_class[c]);
    for (int b = 0; b < BUCKETS; b++)
        fprintf(out, "medrep_http_request_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", label,
                bucket_bounds[b], s->buckets[b]);
    fprintf(out, "medrep_http_request_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", label,
            s->requests);
    fprintf(out, "medrep_http_request_seconds_sum{route=\"%s\"} %f\n", label, s->seconds_sum);
    fprintf(out, "medrep_http_request_seconds_count{route=\"%s\"} %llu\n", label, s->requests);
}

static void print_instance(FILE *out, mr_client *c, const Medrep__WorkerInfo *w)
{
    Medrep__Request req = MEDREP__REQUEST__INIT;
    req.method = "Status";
    req.target_instance = w->instance;
    Medrep__Reply *reply = mr_client_call(c, w->service, &req, 2000);
    Medrep__StatusReply *st = reply && reply->status && reply->status->code == MEDREP__CODE__OK
        ? medrep__status_reply__unpack(NULL, reply->payload.len, reply->payload.data) : NULL;
    const char *labels_fmt = "{service=\"%s\",instance=\"%s\"}";
    char labels[200];
    snprintf(labels, sizeof labels, labels_fmt, w->service, w->instance);
    fprintf(out, "medrep_service_up%s %d\n", labels, st != NULL);
    if (st) {
        fprintf(out, "medrep_service_requests_total%s %lld\n", labels, (long long)st->requests_served);
        fprintf(out, "medrep_service_events_handled_total%s %lld\n", labels, (long long)st->events_handled);
        fprintf(out, "medrep_service_handler_p50_seconds%s %f\n", labels, st->handler_p50_us / 1e6);
        fprintf(out, "medrep_service_handler_p99_seconds%s %f\n", labels, st->handler_p99_us / 1e6);
        fprintf(out, "medrep_service_uptime_seconds%s %f\n", labels, st->uptime_ms / 1e3);
        fprintf(out, "medrep_service_redis_ok%s %d\n", labels, strcmp(st->redis_state, "ok") == 0);
        medrep__status_reply__free_unpacked(st, NULL);
    }
    if (reply)
        medrep__reply__free_unpacked(reply, NULL);
}

static void print_services(FILE *out)
{
    mr_client *c = gw_client();
    Medrep__WorkerListRequest all = MEDREP__WORKER_LIST_REQUEST__INIT;
    Medrep__WorkerListReply *list = NULL;
    char msg[256];
    int code = c ? mr_client_rpc(c, "broker", "Workers", NULL, NULL, &all.base,
                                 &medrep__worker_list_reply__descriptor,
                                 (ProtobufCMessage **)&list, 2000, msg, sizeof msg)
                 : MR_UNAVAILABLE;
    fprintf(out, "medrep_broker_up %d\n", code == MR_OK);
    for (size_t i = 0; code == MR_OK && i < list->n_workers; i++)
        print_instance(out, c, list->workers[i]);
    if (list)
        medrep__worker_list_reply__free_unpacked(list, NULL);
}

/* The read cache's counters (all 0 when the cache is off). */
static void print_cache(FILE *out)
{
    gw_cache_stats st = {0};
    if (gw.cache)
        gw_cache_stats_get(gw.cache, &st);
    fprintf(out, "# TYPE medrep_gateway_cache_hits_total counter\n"
                 "medrep_gateway_cache_hits_total %llu\n"
                 "medrep_gateway_cache_misses_total %llu\n"
                 "medrep_gateway_cache_invalidations_total %llu\n"
                 "medrep_gateway_cache_expired_total %llu\n"
                 "medrep_gateway_cache_evictions_total %llu\n"
                 "medrep_gateway_cache_stored_total %llu\n"
                 "medrep_gateway_cache_refused_total %llu\n"
                 "medrep_gateway_cache_entries %zu\n"
                 "medrep_gateway_cache_clears_total %llu\n"
                 "medrep_gateway_cache_feed_trusted %d\n",
            (unsigned long long)st.hits, (unsigned long long)st.misses, (unsigned long long)st.invalidated,
            (unsigned long long)st.expired, (unsigned long long)st.evicted, (unsigned long long)st.stored,
            (unsigned long long)st.refused, st.entries, (unsigned long long)st.clears, gw_feed_trusted() ? 1 : 0);
    fprintf(out, "# TYPE medrep_gateway_cache_max_age_seconds gauge\n");
    for (size_t i = 0; i < gw_route_count; i++) {   /* each group once: its first route */
        const char *group = gw_routes[i].cache;
        bool seen = false;
        for (size_t j = 0; group && j < i; j++)
            seen = seen || (gw_routes[j].cache && strcmp(gw_routes[j].cache, group) == 0);
        if (group && !seen)
            fprintf(out, "medrep_gateway_cache_max_age_seconds{group=\"%s\"} %.3f\n", group,
                    gw.cache_ms ? gw.cache_ms[i] / 1000.0 : 0.0);
    }
}

char *gw_metrics_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    fprintf(out, "# TYPE medrep_http_requests_total counter\n"
                 "# TYPE medrep_http_request_seconds histogram\n");
    route_stats copy[MAX_ROUTES + EXTRA_SLOTS];
    pthread_mutex_lock(&stats_lock);
    memcpy(copy, stats, sizeof copy);
    pthread_mutex_unlock(&stats_lock);
    for (int slot = 0; slot < (int)gw_route_count; slot++)
        print_route(out, slot, &copy[slot]);
    print_route(out, MAX_ROUTES, &copy[MAX_ROUTES]);
    print_cache(out);
    print_services(out);
    fclose(out);
    return text;
}
