/* send.h: sending on the outside channels with libcurl: a webhook POST
 * (JSON body, HMAC-SHA256 signature over timestamp and body, delivery id
 * header; only http/https, no redirects, addresses filtered at connect
 * time so a name cannot resolve around the filter) and an e-mail over
 * SMTP. One call sends once; retrying is the caller's business. */
#ifndef MEDREP_NOTIFY_SEND_H
#define MEDREP_NOTIFY_SEND_H

#include <stdbool.h>
#include <stdint.h>

#include "channels.h"

typedef enum {
    NT_SEND_OK = 0,
    NT_SEND_TRANSIENT,     /* try again later */
    NT_SEND_DISABLE,       /* 401/403/410: stop using this endpoint */
    NT_SEND_REFUSED,       /* the address is not allowed */
    NT_SEND_FAILED,        /* refused for this message: do not retry */
} nt_send_result;

typedef struct {
    const char *secret;    /* webhook signing key */
    bool allow_private;    /* loopback/private addresses allowed */
    int timeout_ms;
} nt_webhook_cfg;

typedef struct {
    const char *url;       /* smtp://host:port */
    const char *from;
    const char *domain;    /* of Message-ID */
    int timeout_ms;
} nt_smtp_cfg;

typedef struct {
    long status;           /* HTTP or SMTP response code, 0 if none */
    char error[160];
} nt_send_info;

/* 0 or -1: once per process, before any thread sends. */
int nt_send_global_init(void);
void nt_send_global_cleanup(void);

/* True when url is an absolute http:// or https:// URL without spaces, at most 512 bytes. */
bool nt_webhook_url_valid(const char *url);

nt_send_result nt_webhook_send(const nt_webhook_cfg *cfg, const char *url, const nt_message *m,
                               int64_t now_s, nt_send_info *info);
nt_send_result nt_email_send(const nt_smtp_cfg *cfg, const char *to, const nt_message *m,
                             int64_t now_s, nt_send_info *info);

#endif
