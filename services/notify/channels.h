/* channels.h: the pure parts of the outside channels (webhook, e-mail):
 * what a webhook body and an e-mail look like, the HMAC-SHA256 signature
 * of a webhook, which addresses a webhook may reach, and the retry
 * back-off with jitter. No I/O and no clock: times and randomness are
 * passed in. The sending itself is in send.c. */
#ifndef MEDREP_NOTIFY_CHANNELS_H
#define MEDREP_NOTIFY_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
    const char *delivery_id, *reminder_id, *person_id, *kind, *title, *body;
    int64_t due_ms, fired_ms;
} nt_message;

/* The webhook's JSON body (compact, keys sorted). Caller frees; NULL when
 * out of memory. */
char *nt_webhook_body(const nt_message *m);

/* hex(HMAC-SHA256(secret, "<timestamp_s>.<body>")) into hex (>= 65). 0 or -1. */
int nt_webhook_sign(const char *secret, int64_t timestamp_s, const char *body, size_t body_len,
                    char *hex, size_t cap);

/* True when a webhook may connect to addr: never to unspecified,
 * multicast or broadcast addresses; to loopback, private (RFC 1918,
 * fc00::/7), link-local and carrier-grade NAT ranges only with
 * allow_private. IPv4-mapped IPv6 addresses count as their IPv4. */
bool nt_address_allowed(const struct sockaddr *addr, bool allow_private);

/* The delay before retry `attempt` (1 = the first retry): base * 2^(attempt-1),
 * capped at max, then scaled by a jitter factor in [0.5, 1.0] from r in
 * [0, 1). */
int64_t nt_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, double r);

/* True for an HTTP status that means "stop sending here": 401, 403, 410. */
bool nt_status_disables(long status);
/* True for a status worth retrying: 408, 425, 429, 5xx. */
bool nt_status_transient(long status);

/* An RFC 5322 message (CRLF lines) with Message-ID <delivery id@domain>
 * (an '@' of the delivery id written '.') and X-Medrep-Delivery,
 * so receivers drop repeats. date is an RFC 5322 date text. Caller frees. */
char *nt_email_text(const nt_message *m, const char *from, const char *to, const char *date,
                    const char *domain);

/* True when text looks like a plain address local@domain without spaces,
 * angle brackets or line breaks (it goes into SMTP commands). */
bool nt_email_valid(const char *text);

#endif
