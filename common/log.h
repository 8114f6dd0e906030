/* log.h: structured logging to stderr, one logfmt line per record.
 *
 *   ts=2026-11-24T23:50:01.123Z level=info comp=broker event=worker_ready service=scoring
 *
 * The caller passes the event name and then key=value pairs already
 * formatted (printf style). Values with spaces must be quoted by the
 * caller, or formatted with mr_log_quote(). Thread-safe: each record is one
 * write(2). */
#ifndef MEDREP_LOG_H
#define MEDREP_LOG_H

#include <stddef.h>

typedef enum { MR_LOG_DEBUG = 0, MR_LOG_INFO, MR_LOG_WARN, MR_LOG_ERROR } mr_log_level;

/* Names the component (for example "scoring-3f2a") and the lowest level
 * printed. Call once at start; before it, comp is "medrep" and level info. */
void mr_log_init(const char *component, mr_log_level min_level);

/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int mr_log_level_parse(const char *name);

void mr_log(mr_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define mr_debug(event, ...) mr_log(MR_LOG_DEBUG, event, __VA_ARGS__)
#define mr_info(event, ...) mr_log(MR_LOG_INFO, event, __VA_ARGS__)
#define mr_warn(event, ...) mr_log(MR_LOG_WARN, event, __VA_ARGS__)
#define mr_error(event, ...) mr_log(MR_LOG_ERROR, event, __VA_ARGS__)

/* Writes `text` into buf as a logfmt value: quoted with \" and \\ escaped
 * when it has spaces, quotes or '='; control characters become '?'.
 * Truncates to cap-1 bytes. Returns buf. */
const char *mr_log_quote(const char *text, char *buf, size_t cap);

#endif
