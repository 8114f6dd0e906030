/* log.c: logfmt records on stderr (log.h). Each record is built in a
 * buffer on the stack and written with one write(2), so records from
 * threads and processes sharing stderr never interleave. */
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* One record at most; PIPE_BUF (4096 on Linux) keeps a write to a pipe
 * atomic. Longer records are cut and still end with a newline. */
#define LOG_RECORD_MAX 4096
#define LOG_COMPONENT_MAX 128

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Set once by mr_log_init before threads start; read-only afterwards. */
static char log_component[LOG_COMPONENT_MAX] = "medrep";
static int log_min_level = MR_LOG_INFO;

static int clamp_level(int level) {
    if (level < MR_LOG_DEBUG) return MR_LOG_DEBUG;
    if (level > MR_LOG_ERROR) return MR_LOG_ERROR;
    return level;
}

void mr_log_init(const char *component, mr_log_level min_level) {
    if (component == NULL || component[0] == '\0') component = "medrep";
    mr_log_quote(component, log_component, sizeof(log_component));
    log_min_level = clamp_level((int)min_level);
}

int mr_log_level_parse(const char *name) {
    if (name == NULL) return -1;
    for (int level = MR_LOG_DEBUG; level <= MR_LOG_ERROR; level++) {
        if (strcasecmp(name, level_names[level]) == 0) return level;
    }
    return -1;
}

static bool needs_quotes(const char *text) {
    if (text[0] == '\0') return true;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' || *p == '"' || *p == '=') return true;
    }
    return false;
}

static bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

const char *mr_log_quote(const char *text, char *buf, size_t cap) {
    if (cap == 0) return buf;
    if (text == NULL) text = "";
    size_t len = 0;
    if (!needs_quotes(text)) {
        for (const unsigned char *p = (const unsigned char *)text; *p && len + 1 < cap; p++)
            buf[len++] = is_control(*p) ? '?' : (char)*p;
        buf[len] = '\0';
        return buf;
    }
    /* Quoted: room for both quotes and the NUL, else nothing at all. */
    if (cap < 3) {
        buf[0] = '\0';
        return buf;
    }
    buf[len++] = '"';
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool escaped = (*p == '"' || *p == '\\');
        size_t need = escaped ? 2 : 1;
        if (len + need + 2 > cap) break; /* keep the closing quote and NUL */
        if (escaped) buf[len++] = '\\';
        buf[len++] = is_control(*p) ? '?' : (char)*p;
    }
    buf[len++] = '"';
    buf[len] = '\0';
    return buf;
}

/* Appends printf output to buf[*len], leaving one byte spare for the
 * final newline; cuts what does not fit. */
static void append_v(char *buf, size_t cap, size_t *len, const char *fmt, va_list ap) {
    size_t room = cap - 1 - *len; /* vsnprintf's NUL takes the spare byte */
    int n = vsnprintf(buf + *len, room, fmt, ap);
    if (n < 0) return;
    *len += (size_t)n < room ? (size_t)n : room - 1;
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    append_v(buf, cap, len, fmt, ap);
    va_end(ap);
}

static void append_timestamp(char *buf, size_t cap, size_t *len) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    append(buf, cap, len, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void write_record(const char *record, size_t len) {
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, record, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        record += n;
        len -= (size_t)n;
    }
}

void mr_log(mr_log_level level, const char *event, const char *fmt, ...) {
    int lvl = clamp_level((int)level);
    if (lvl < log_min_level) return;

    int saved_errno = errno;
    char record[LOG_RECORD_MAX];
    char quoted_event[128];
    size_t len = 0;

    append_timestamp(record, sizeof(record), &len);
    append(record, sizeof(record), &len, " level=%s comp=%s event=%s", level_names[lvl],
           log_component, mr_log_quote(event ? event : "none", quoted_event, sizeof(quoted_event)));
    if (fmt != NULL && fmt[0] != '\0') {
        va_list ap;
        size_t before = len;
        append(record, sizeof(record), &len, " ");
        va_start(ap, fmt);
        append_v(record, sizeof(record), &len, fmt, ap);
        va_end(ap);
        if (len == before + 1) len = before; /* the pairs came out empty */
    }
    record[len++] = '\n';
    write_record(record, len);
    errno = saved_errno;
}
