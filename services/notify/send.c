/* send.c: sending a webhook or an e-mail once, with libcurl (see send.h).
 * A curl easy handle per call: simple, and the sender thread owns it. */
#include "send.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int nt_send_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void nt_send_global_cleanup(void)
{
    curl_global_cleanup();
}

bool nt_webhook_url_valid(const char *url)
{
    size_t n = url ? strlen(url) : 0;
    if (n < 10 || n > 512 || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
            return false;
    return true;
}

typedef struct {
    bool allow_private;
    bool refused;
} socket_guard;

/* Called by curl with each resolved address before connecting. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    socket_guard *g = clientp;
    (void)purpose;
    if (!nt_address_allowed(&address->addr, g->allow_private)) {
        g->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr, (void)userdata;
    return size * nmemb;
}

static nt_send_result classify_http(CURLcode rc, long status, const socket_guard *g, nt_send_info *info)
{
    info->status = status;
    if (g->refused) {
        snprintf(info->error, sizeof info->error, "address not allowed");
        return NT_SEND_REFUSED;
    }
    if (rc != CURLE_OK) {
        snprintf(info->error, sizeof info->error, "%s", curl_easy_strerror(rc));
        return NT_SEND_TRANSIENT;
    }
    if (status >= 200 && status < 300)
        return NT_SEND_OK;
    snprintf(info->error, sizeof info->error, "HTTP %ld", status);
    if (nt_status_disables(status))
        return NT_SEND_DISABLE;
    return nt_status_transient(status) ? NT_SEND_TRANSIENT : NT_SEND_FAILED;
}

/* The webhook's headers. Caller frees with curl_slist_free_all. */
static struct curl_slist *webhook_headers(const nt_webhook_cfg *cfg, const nt_message *m,
                                          const char *body, int64_t now_s)
{
    char sig[65] = "", line[320];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-Medrep-Delivery: %s", m->delivery_id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-Medrep-Timestamp: %lld", (long long)now_s);
    h = curl_slist_append(h, line);
    if (cfg->secret && cfg->secret[0] &&
        nt_webhook_sign(cfg->secret, now_s, body, strlen(body), sig, sizeof sig) == 0) {
        snprintf(line, sizeof line, "X-Medrep-Signature: sha256=%s", sig);
        h = curl_slist_append(h, line);
    }
    return h;
}

nt_send_result nt_webhook_send(const nt_webhook_cfg *cfg, const char *url, const nt_message *m,
                               int64_t now_s, nt_send_info *info)
{
    memset(info, 0, sizeof *info);
    char *body = nt_webhook_body(m);
    CURL *curl = body ? curl_easy_init() : NULL;
    struct curl_slist *headers = curl ? webhook_headers(cfg, m, body, now_s) : NULL;
    if (!curl || !headers) {
        free(body);
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
        snprintf(info->error, sizeof info->error, "out of memory");
        return NT_SEND_TRANSIENT;
    }
    socket_guard guard = {.allow_private = cfg->allow_private};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    nt_send_result result = classify_http(rc, status, &guard, info);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body);
    return result;
}

typedef struct {
    const char *text;
    size_t len, off;
} upload;

static size_t read_upload(char *buf, size_t size, size_t nitems, void *userdata)
{
    upload *u = userdata;
    size_t n = size * nitems, left = u->len - u->off;
    if (n > left)
        n = left;
    memcpy(buf, u->text + u->off, n);
    u->off += n;
    return n;
}

static nt_send_result classify_smtp(CURLcode rc, long status, nt_send_info *info)
{
    info->status = status;
    if (rc == CURLE_OK)
        return NT_SEND_OK;
    snprintf(info->error, sizeof info->error, "%s (%ld)", curl_easy_strerror(rc), status);
    return status >= 500 && status < 600 ? NT_SEND_FAILED : NT_SEND_TRANSIENT;
}

nt_send_result nt_email_send(const nt_smtp_cfg *cfg, const char *to, const nt_message *m,
                             int64_t now_s, nt_send_info *info)
{
    memset(info, 0, sizeof *info);
    char date[64], from[300], rcpt[300];
    time_t t = (time_t)now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *text = nt_email_text(m, cfg->from, to, date, cfg->domain);
    CURL *curl = text ? curl_easy_init() : NULL;
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl ? curl_slist_append(NULL, rcpt) : NULL;
    if (!rcpts) {
        free(text);
        curl_easy_cleanup(curl);
        snprintf(info->error, sizeof info->error, "out of memory");
        return NT_SEND_TRANSIENT;
    }
    upload u = {.text = text, .len = strlen(text)};
    snprintf(from, sizeof from, "<%s>", cfg->from);
    curl_easy_setopt(curl, CURLOPT_URL, cfg->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    nt_send_result result = classify_smtp(rc, status, info);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(curl);
    free(text);
    return result;
}
