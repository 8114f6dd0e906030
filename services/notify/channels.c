/* channels.c: the pure parts of the webhook and e-mail channels (see
 * channels.h). */
#include "channels.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *nt_webhook_body(const nt_message *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "delivery_id", json_string(m->delivery_id ? m->delivery_id : ""));
    json_object_set_new(o, "reminder_id", json_string(m->reminder_id ? m->reminder_id : ""));
    json_object_set_new(o, "person_id", json_string(m->person_id ? m->person_id : ""));
    json_object_set_new(o, "kind", json_string(m->kind ? m->kind : ""));
    json_object_set_new(o, "title", json_string(m->title ? m->title : ""));
    json_object_set_new(o, "body", json_string(m->body ? m->body : ""));
    json_object_set_new(o, "due_ms", json_integer(m->due_ms));
    json_object_set_new(o, "fired_ms", json_integer(m->fired_ms));
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

int nt_webhook_sign(const char *secret, int64_t timestamp_s, const char *body, size_t body_len,
                    char *hex, size_t cap)
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "%lld.", (long long)timestamp_s);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (cap < 65 || !secret)
        return -1;
    size_t total = (size_t)plen + body_len;
    unsigned char *msg = malloc(total ? total : 1);
    if (!msg)
        return -1;
    memcpy(msg, prefix, (size_t)plen);
    memcpy(msg + plen, body, body_len);
    unsigned char *ok = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, total, mac, &mac_len);
    free(msg);
    if (!ok)
        return -1;
    for (unsigned int i = 0; i < mac_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

/* IPv4 ranges, host byte order. */
static bool v4_private(uint32_t a)
{
    return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
           (a >> 16) == (192u << 8 | 168) || (a >> 16) == (169u << 8 | 254) ||
           (a >> 22) == (100u << 2 | 1);   /* 100.64.0.0/10 */
}

static bool v4_never(uint32_t a)
{
    return (a >> 24) == 0 || (a >> 28) == 14 || (a >> 28) == 15;   /* 0/8, 224/4, 240/4 */
}

static bool v4_allowed(uint32_t a, bool allow_private)
{
    if (v4_never(a))
        return false;
    return allow_private || !v4_private(a);
}

bool nt_address_allowed(const struct sockaddr *addr, bool allow_private)
{
    if (!addr)
        return false;
    if (addr->sa_family == AF_INET)
        return v4_allowed(ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr), allow_private);
    if (addr->sa_family != AF_INET6)
        return false;
    const uint8_t *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0)
        return v4_allowed((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15],
                          allow_private);
    static const uint8_t zero[16] = {0};
    bool loopback = memcmp(b, zero, 15) == 0 && b[15] == 1;
    if (memcmp(b, zero, 16) == 0 || b[0] == 0xff)
        return false;                      /* unspecified, multicast */
    bool priv = loopback || (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    return allow_private || !priv;
}

int64_t nt_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, double r)
{
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (r < 0)
        r = 0;
    if (r >= 1)
        r = 0.999999;
    return (int64_t)((double)d * (0.5 + r / 2));
}

bool nt_status_disables(long status)
{
    return status == 401 || status == 403 || status == 410;
}

bool nt_status_transient(long status)
{
    return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

bool nt_email_valid(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    const char *at = text ? strchr(text, '@') : NULL;
    if (n < 3 || n > 254 || !at || at == text || !at[1] || strchr(at + 1, '@'))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] <= ' ' || strchr("<>()[]\\,;:\"", text[i]))
            return false;
    return true;
}

/* Copies s into a header value, dropping CR and LF (no header injection). */
static void header_safe(char *dst, size_t cap, const char *s)
{
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < cap; i++)
        if (s[i] != '\r' && s[i] != '\n')
            dst[j++] = s[i];
    dst[j] = '\0';
}

char *nt_email_text(const nt_message *m, const char *from, const char *to, const char *date,
                    const char *domain)
{
    char subject[300], id_left[200];
    header_safe(subject, sizeof subject, m->title && m->title[0] ? m->title : m->kind);
    /* the left part of a Message-ID has no '@': the delivery id's becomes '.' */
    snprintf(id_left, sizeof id_left, "%s", m->delivery_id ? m->delivery_id : "");
    for (char *p = id_left; *p; p++)
        if (*p == '@' || *p == '<' || *p == '>' || (unsigned char)*p <= ' ')
            *p = '.';
    size_t cap = 1024 + strlen(subject) + (m->body ? strlen(m->body) : 0) * 2;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    int n = snprintf(text, cap,
                     "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                     "Message-ID: <%s@%s>\r\nX-Medrep-Delivery: %s\r\nX-Medrep-Kind: %s\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
                     from, to, subject, date, id_left, domain, m->delivery_id,
                     m->kind ? m->kind : "");
    /* the body with bare LF turned into CRLF, and a leading dot doubled */
    bool line_start = true;
    for (const char *p = m->body ? m->body : ""; *p && (size_t)n + 4 < cap; p++) {
        if (line_start && *p == '.')
            text[n++] = '.';
        if (*p == '\n' && (p == m->body || p[-1] != '\r'))
            text[n++] = '\r';
        text[n++] = *p;
        line_start = *p == '\n';
    }
    snprintf(text + n, cap - (size_t)n, "\r\n");
    return text;
}
