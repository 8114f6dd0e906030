/* http.c: the minimal HTTP client of the tests (http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static char *read_all(int fd, size_t *len)
{
    size_t cap = 4096;
    char *buf = malloc(cap);
    *len = 0;
    for (;;) {
        if (*len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t n = recv(fd, buf + *len, cap - *len - 1, 0);
        if (n <= 0)
            break;
        *len += (size_t)n;
    }
    buf[*len] = '\0';
    return buf;
}

int h_http(int port, const char *method, const char *path, const char *token, const char *body,
           h_http_answer *out)
{
    out->status = 0;
    out->body = NULL;
    int fd = connect_local(port);
    if (fd < 0)
        return 0;
    size_t body_len = body ? strlen(body) : 0;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, token ? "Authorization: Bearer " : "", token ? token : "",
                     token ? "\r\n" : "", body_len);
    if (send_all(fd, head, (size_t)n) == 0 && (body_len == 0 || send_all(fd, body, body_len) == 0)) {
        size_t len;
        char *raw = read_all(fd, &len);
        char *sep = strstr(raw, "\r\n\r\n");
        if (sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1)
            out->status = 0;
        out->body = strdup(sep ? sep + 4 : "");
        free(raw);
    }
    close(fd);
    if (!out->body)
        out->body = strdup("");
    return out->status;
}

void h_http_answer_free(h_http_answer *a)
{
    free(a->body);
    a->body = NULL;
}

long long h_http_metric(int port, const char *name)
{
    h_http_answer a;
    long long value = -1;
    if (h_http(port, "GET", "/metrics", NULL, NULL, &a) == 200) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "\n%s ", name);
        const char *at = strstr(a.body, prefix);
        if (at)
            value = atoll(at + strlen(prefix));
    }
    h_http_answer_free(&a);
    return value;
}

bool h_http_wait_metric(int port, const char *name, long long want, int timeout_ms)
{
    for (int waited = 0;; waited += 50) {
        if (h_http_metric(port, name) == want)
            return true;
        if (waited >= timeout_ms)
            return false;
        usleep(50 * 1000);
    }
}

bool h_http_wait_up(int port, int timeout_ms)
{
    for (int waited = 0;; waited += 50) {
        h_http_answer a;
        int status = h_http(port, "GET", "/healthz", NULL, NULL, &a);
        h_http_answer_free(&a);
        if (status == 200)
            return true;
        if (waited >= timeout_ms)
            return false;
        usleep(50 * 1000);
    }
}
