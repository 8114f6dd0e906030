/* http.h: a minimal HTTP/1.1 client for tests of the gateway: one
 * request per connection (Connection: close), the whole answer read. */
#ifndef MEDREP_HTTP_H
#define MEDREP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int status;          /* 0 when the request failed */
    char *body;          /* owned, NUL-terminated; "" when none */
} h_http_answer;

/* Sends method path to 127.0.0.1:port with an optional bearer token and
 * body (may be NULL). Returns the status (0 on failure). */
int h_http(int port, const char *method, const char *path, const char *token, const char *body,
           h_http_answer *out);
void h_http_answer_free(h_http_answer *a);

/* The value of an unlabelled metric in the gateway's /metrics (Prometheus
 * text), or -1 when the page or the metric is missing. */
long long h_http_metric(int port, const char *name);
/* Waits up to timeout_ms until the gateway on port answers /healthz with
 * 200; true when it did. */
bool h_http_wait_up(int port, int timeout_ms);
/* Waits up to timeout_ms until that metric equals want; true when it did. */
bool h_http_wait_metric(int port, const char *name, long long want, int timeout_ms);

#endif
