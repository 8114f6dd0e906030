/* config.c: the INI configuration with environment overrides (config.h).
 *
 * The text is parsed by inih. Our own line reader feeds inih one line at a
 * time and watches the lines go by, which lets us
 *   - reject lines longer than inih's line buffer (inih would silently cut
 *     them in two),
 *   - know the section even when it has no keys, and its full name (inih
 *     cuts section names at 49 characters),
 *   - tell an indented continuation line (joined to the value above it with
 *     one space) from a repeated key (an error).
 *
 * The MEDREP__* environment variables are copied when the configuration is
 * loaded, so later setenv calls do not change a loaded configuration and
 * lookups never call getenv (which is not thread-safe against setenv).
 * Section and key names are case-sensitive; environment names are not. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"

#define ENV_PREFIX "MEDREP__"
#define REGION_PREFIX "region."
#define NO_ENTRY SIZE_MAX

extern char **environ;

typedef struct {
    char *section;
    char *key;
    char *value;
} cfg_entry;

typedef struct {
    char *name; /* the full variable name, MEDREP__SECTION__KEY */
    char *value;
} cfg_env;

struct mr_config {
    cfg_entry *entries; /* file order */
    size_t entry_count, entry_cap;
    char **sections; /* unique, in order of first appearance */
    size_t section_count, section_cap;
    cfg_env *env;
    size_t env_count, env_cap;
};

/* ---- Small helpers ---- */

static void set_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...) {
    if (err == NULL || errcap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Returns array with room for one more item after count (growing it and
 * *cap when full), or NULL when out of memory (array is then untouched). */
static void *grow(void *array, size_t *cap, size_t count, size_t elem_size) {
    if (count < *cap) return array;
    size_t new_cap = *cap == 0 ? 8 : *cap * 2;
    void *bigger = realloc(array, new_cap * elem_size);
    if (bigger != NULL) *cap = new_cap;
    return bigger;
}

/* ---- Building the configuration ---- */

static bool has_section(const mr_config *cfg, const char *name) {
    for (size_t i = 0; i < cfg->section_count; i++)
        if (strcmp(cfg->sections[i], name) == 0) return true;
    return false;
}

static int add_section(mr_config *cfg, const char *name) {
    if (has_section(cfg, name)) return 0;
    char **sections = grow(cfg->sections, &cfg->section_cap, cfg->section_count, sizeof(char *));
    if (sections == NULL) return -1;
    cfg->sections = sections;
    char *copy = strdup(name);
    if (copy == NULL) return -1;
    cfg->sections[cfg->section_count++] = copy;
    return 0;
}

static size_t find_entry(const mr_config *cfg, const char *section, const char *key) {
    for (size_t i = 0; i < cfg->entry_count; i++) {
        const cfg_entry *e = &cfg->entries[i];
        if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0) return i;
    }
    return NO_ENTRY;
}

static int add_entry(mr_config *cfg, const char *section, const char *key, const char *value) {
    cfg_entry *entries = grow(cfg->entries, &cfg->entry_cap, cfg->entry_count, sizeof(cfg_entry));
    if (entries == NULL) return -1;
    cfg->entries = entries;
    cfg_entry e = {strdup(section), strdup(key), strdup(value)};
    if (e.section == NULL || e.key == NULL || e.value == NULL) {
        free(e.section);
        free(e.key);
        free(e.value);
        return -1;
    }
    cfg->entries[cfg->entry_count++] = e;
    return 0;
}

/* Joins a continuation line to a value with one space. */
static int append_value(cfg_entry *e, const char *more) {
    size_t old_len = strlen(e->value), more_len = strlen(more);
    char *joined = realloc(e->value, old_len + 1 + more_len + 1);
    if (joined == NULL) return -1;
    joined[old_len] = ' ';
    memcpy(joined + old_len + 1, more, more_len + 1);
    e->value = joined;
    return 0;
}

static int copy_environment(mr_config *cfg) {
    for (char **var = environ; var != NULL && *var != NULL; var++) {
        const char *eq = strchr(*var, '=');
        if (eq == NULL || strncmp(*var, ENV_PREFIX, strlen(ENV_PREFIX)) != 0) continue;
        cfg_env *env_list = grow(cfg->env, &cfg->env_cap, cfg->env_count, sizeof(cfg_env));
        if (env_list == NULL) return -1;
        cfg->env = env_list;
        cfg_env env = {strndup(*var, (size_t)(eq - *var)), strdup(eq + 1)};
        if (env.name == NULL || env.value == NULL) {
            free(env.name);
            free(env.value);
            return -1;
        }
        cfg->env[cfg->env_count++] = env;
    }
    return 0;
}

/* ---- Parsing with inih ---- */

typedef struct {
    mr_config *cfg;
    const char *source; /* file name for messages, or NULL for a string */
    const char *next;   /* the text not yet handed to inih */
    int lineno;         /* the line inih is working on */
    bool line_too_long;
    bool line_continues; /* the line continues the previous value */
    bool after_key;      /* a key was seen since the last section header */
    char section[256];   /* current section, full name, trimmed */
    size_t last_entry;   /* entry written by the last key line */
    int err_line;        /* first error found by us, 0 if none */
    char err_msg[256];
} parse_ctx;

static void parse_error(parse_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void parse_error(parse_ctx *ctx, const char *fmt, ...) {
    if (ctx->err_line != 0) return; /* keep the first */
    ctx->err_line = ctx->lineno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err_msg, sizeof(ctx->err_msg), fmt, ap);
    va_end(ap);
}

/* Notes what inih will make of line [start, start+len): a section header
 * (remembered here with its full name), a continuation or anything else.
 * Mirrors inih: comments first, then continuations, then sections. */
static void watch_line(parse_ctx *ctx, const char *start, size_t len) {
    const char *p = start, *end = start + len;
    while (p < end && is_blank(*p)) p++;
    ctx->line_continues = false;
    if (p == end || *p == ';' || *p == '#') return;
    if (p > start && ctx->after_key) {
        ctx->line_continues = true;
        return;
    }
    if (*p != '[') {
        ctx->after_key = true;
        return;
    }
    ctx->after_key = false;
    ctx->last_entry = NO_ENTRY;
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (close == NULL) return; /* inih reports it */
    p++;
    while (p < close && is_blank(*p)) p++;
    while (close > p && is_blank(close[-1])) close--;
    size_t name_len = (size_t)(close - p);
    if (name_len >= sizeof(ctx->section)) name_len = sizeof(ctx->section) - 1;
    memcpy(ctx->section, p, name_len);
    ctx->section[name_len] = '\0';
    if (name_len > 0 && add_section(ctx->cfg, ctx->section) != 0)
        parse_error(ctx, "out of memory");
}

/* inih's reader, fgets style: one line into str (num bytes). */
static char *read_line(char *str, int num, void *stream) {
    parse_ctx *ctx = stream;
    if (*ctx->next == '\0') return NULL;
    const char *newline = strchr(ctx->next, '\n');
    size_t len = newline ? (size_t)(newline - ctx->next) : strlen(ctx->next);
    size_t fits = num > 2 ? (size_t)num - 2 : 0; /* room for '\n' and NUL */

    ctx->lineno++;
    ctx->line_too_long = len > fits;
    if (ctx->line_too_long)
        parse_error(ctx, "line longer than %zu characters (continue the value on an indented line)",
                    fits);
    if (ctx->lineno == 1 && len >= 3 && memcmp(ctx->next, "\xEF\xBB\xBF", 3) == 0)
        watch_line(ctx, ctx->next + 3, len - 3); /* a UTF-8 BOM, which inih skips too */
    else
        watch_line(ctx, ctx->next, len);

    size_t copy = ctx->line_too_long ? fits : len;
    memcpy(str, ctx->next, copy);
    str[copy] = '\n';
    str[copy + 1] = '\0';
    ctx->next += newline ? len + 1 : len;
    return str;
}

static int handle_pair(void *user, const char *section, const char *key, const char *value) {
    parse_ctx *ctx = user;
    (void)section; /* ctx->section has the full, trimmed name */
    if (ctx->line_too_long) return 0;
    if (ctx->line_continues && ctx->last_entry != NO_ENTRY) {
        if (append_value(&ctx->cfg->entries[ctx->last_entry], value) == 0) return 1;
        parse_error(ctx, "out of memory");
        return 0;
    }
    if (ctx->section[0] == '\0') {
        parse_error(ctx, "key '%s' outside a named section", key);
        return 0;
    }
    if (key[0] == '\0') {
        parse_error(ctx, "missing key name before '='");
        return 0;
    }
    if (find_entry(ctx->cfg, ctx->section, key) != NO_ENTRY) {
        parse_error(ctx, "duplicate key '%s' in [%s]", key, ctx->section);
        return 0;
    }
    if (add_section(ctx->cfg, ctx->section) != 0 ||
        add_entry(ctx->cfg, ctx->section, key, value) != 0) {
        parse_error(ctx, "out of memory");
        return 0;
    }
    ctx->last_entry = ctx->cfg->entry_count - 1;
    return 1;
}

static void report_parse_error(const parse_ctx *ctx, int ini_line, char *err, size_t errcap) {
    int line = ctx->err_line;
    const char *msg = ctx->err_msg;
    if (ini_line > 0 && (line == 0 || ini_line < line)) {
        line = ini_line;
        msg = "syntax error (expected [section], key = value, or a comment)";
    }
    if (ctx->source != NULL)
        set_err(err, errcap, "%s:%d: %s", ctx->source, line, msg);
    else
        set_err(err, errcap, "line %d: %s", line, msg);
}

/* Parses text (NUL-terminated); source names it in messages. */
static mr_config *parse_text(const char *text, const char *source, char *err, size_t errcap) {
    mr_config *cfg = calloc(1, sizeof(*cfg));
    parse_ctx *ctx = calloc(1, sizeof(*ctx));
    if (cfg == NULL || ctx == NULL) {
        free(cfg);
        free(ctx);
        set_err(err, errcap, "out of memory");
        return NULL;
    }
    ctx->cfg = cfg;
    ctx->source = source;
    ctx->next = text;
    ctx->last_entry = NO_ENTRY;

    int rc = ini_parse_stream(read_line, ctx, handle_pair, ctx);
    if (rc < 0) {
        set_err(err, errcap, "%s: out of memory while parsing", source ? source : "config");
    } else if (rc > 0 || ctx->err_line != 0) {
        report_parse_error(ctx, rc, err, errcap);
    } else if (copy_environment(cfg) != 0) {
        set_err(err, errcap, "out of memory");
    } else {
        free(ctx);
        return cfg;
    }
    free(ctx);
    mr_config_free(&cfg);
    return NULL;
}

mr_config *mr_config_from_string(const char *text, char *err, size_t errcap) {
    return parse_text(text ? text : "", NULL, err, errcap);
}

/* Reads a whole file into a new NUL-terminated buffer (caller frees). */
static char *read_file(const char *path, char *err, size_t errcap) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool failed = ferror(f);
    fclose(f);
    if (buf == NULL || failed) {
        set_err(err, errcap, "%s: cannot read%s", path, buf == NULL ? ": out of memory" : "");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        set_err(err, errcap, "%s: contains a NUL byte", path);
        free(buf);
        return NULL;
    }
    return buf;
}

mr_config *mr_config_load(const char *path, char *err, size_t errcap) {
    if (path == NULL || path[0] == '\0') return parse_text("", NULL, err, errcap);
    char *text = read_file(path, err, errcap);
    if (text == NULL) return NULL;
    mr_config *cfg = parse_text(text, path, err, errcap);
    free(text);
    return cfg;
}

void mr_config_free(mr_config **cfgp) {
    if (cfgp == NULL || *cfgp == NULL) return;
    mr_config *cfg = *cfgp;
    for (size_t i = 0; i < cfg->entry_count; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    for (size_t i = 0; i < cfg->section_count; i++) free(cfg->sections[i]);
    for (size_t i = 0; i < cfg->env_count; i++) {
        free(cfg->env[i].name);
        free(cfg->env[i].value);
    }
    free(cfg->entries);
    free(cfg->sections);
    free(cfg->env);
    free(cfg);
    *cfgp = NULL;
}

/* ---- Lookups ---- */

/* Matches the environment form of name at *p (upper case, anything but a
 * letter or digit as '_') and moves *p past it. */
static bool match_env_part(const char **p, const char *name) {
    for (; *name; name++, (*p)++) {
        char want = is_ascii_alnum(*name) ? (char)toupper((unsigned char)*name) : '_';
        if (**p != want) return false;
    }
    return true;
}

static bool env_name_is(const char *env_name, const char *section, const char *key) {
    const char *p = env_name + strlen(ENV_PREFIX);
    if (!match_env_part(&p, section)) return false;
    if (p[0] != '_' || p[1] != '_') return false;
    p += 2;
    return match_env_part(&p, key) && *p == '\0';
}

/* The value and, when it came from the environment, the variable's name. */
static const char *lookup(const mr_config *cfg, const char *section, const char *key,
                          const char **env_name) {
    if (env_name) *env_name = NULL;
    if (cfg == NULL || section == NULL || key == NULL) return NULL;
    for (size_t i = 0; i < cfg->env_count; i++) {
        if (env_name_is(cfg->env[i].name, section, key)) {
            if (env_name) *env_name = cfg->env[i].name;
            return cfg->env[i].value;
        }
    }
    size_t i = find_entry(cfg, section, key);
    return i == NO_ENTRY ? NULL : cfg->entries[i].value;
}

const char *mr_config_get(const mr_config *cfg, const char *section, const char *key) {
    return lookup(cfg, section, key, NULL);
}

const char *mr_config_str(const mr_config *cfg, const char *section, const char *key,
                          const char *def) {
    const char *value = lookup(cfg, section, key, NULL);
    return value ? value : def;
}

/* "[section] key" or the environment variable, for messages. */
static const char *describe(const char *section, const char *key, const char *env_name,
                            char *buf, size_t cap) {
    if (env_name)
        snprintf(buf, cap, "%s", env_name);
    else
        snprintf(buf, cap, "[%s] %s", section, key);
    return buf;
}

int mr_config_int(const mr_config *cfg, const char *section, const char *key, long long def,
                  long long min, long long max, long long *out, char *err, size_t errcap) {
    const char *env_name;
    const char *text = lookup(cfg, section, key, &env_name);
    char where[160];
    if (text == NULL) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || is_blank(text[0]) || errno == ERANGE) {
        set_err(err, errcap, "%s: '%s' is not an integer",
                describe(section, key, env_name, where, sizeof(where)), text);
        return -1;
    }
    if (value < min || value > max) {
        set_err(err, errcap, "%s: %lld is outside [%lld, %lld]",
                describe(section, key, env_name, where, sizeof(where)), value, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int mr_config_double(const mr_config *cfg, const char *section, const char *key, double def,
                     double min, double max, double *out, char *err, size_t errcap) {
    const char *env_name;
    const char *text = lookup(cfg, section, key, &env_name);
    char where[160];
    if (text == NULL) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || is_blank(text[0]) || errno == ERANGE || !isfinite(value)) {
        set_err(err, errcap, "%s: '%s' is not a finite number",
                describe(section, key, env_name, where, sizeof(where)), text);
        return -1;
    }
    if (!(value >= min && value <= max)) {
        set_err(err, errcap, "%s: %g is outside [%g, %g]",
                describe(section, key, env_name, where, sizeof(where)), value, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int mr_config_bool(const mr_config *cfg, const char *section, const char *key, bool def,
                   bool *out, char *err, size_t errcap) {
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    const char *env_name;
    const char *text = lookup(cfg, section, key, &env_name);
    char where[160];
    if (text == NULL) {
        *out = def;
        return 0;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    set_err(err, errcap, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
            describe(section, key, env_name, where, sizeof(where)), text);
    return -1;
}

const char *mr_config_scoped(const mr_config *cfg, const char *section, const char *key,
                             const char *const *scopes) {
    if (section == NULL) return NULL;
    for (size_t i = 0; scopes != NULL && scopes[i] != NULL; i++) {
        char scoped[512];
        int n = snprintf(scoped, sizeof(scoped), "%s@%s", section, scopes[i]);
        if (n < 0 || (size_t)n >= sizeof(scoped)) continue; /* no such long section */
        const char *value = lookup(cfg, scoped, key, NULL);
        if (value != NULL) return value;
    }
    return lookup(cfg, section, key, NULL);
}

int mr_config_each_section(const mr_config *cfg, const char *prefix,
                           int (*fn)(const char *section, void *arg), void *arg) {
    if (cfg == NULL || fn == NULL) return 0;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < cfg->section_count; i++) {
        if (prefix_len > 0 && strncmp(cfg->sections[i], prefix, prefix_len) != 0) continue;
        int rc = fn(cfg->sections[i], arg);
        if (rc != 0) return rc;
    }
    return 0;
}

/* ---- Regions ---- */

bool mr_region_name_valid(const char *name) {
    if (name == NULL) return false;
    size_t len = 0;
    for (; name[len]; len++) {
        char c = name[len];
        if (!is_ascii_alnum(c) && c != '_' && c != '-') return false;
    }
    return len >= 1 && len <= 32;
}

/* Parses a run of decimal digits [text, end) no greater than max. */
static int parse_number(const char *text, const char *end, long max, long *out) {
    if (text == end) return -1;
    long value = 0;
    for (const char *p = text; p < end; p++) {
        if (*p < '0' || *p > '9') return -1;
        value = value * 10 + (*p - '0');
        if (value > max) return -1;
    }
    *out = value;
    return 0;
}

/* "host:port[/db]", the host possibly in brackets ("[::1]:6379"). */
static int parse_redis_address(const char *text, mr_region_cfg *r) {
    const char *slash = strchr(text, '/');
    const char *end = slash ? slash : text + strlen(text);
    const char *host = text, *host_end, *colon;
    if (text[0] == '[') {
        host = text + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL || host_end[1] != ':') return -1;
        colon = host_end + 1;
    } else {
        colon = memrchr(text, ':', (size_t)(end - text));
        if (colon == NULL) return -1;
        host_end = colon;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof(r->redis_host)) return -1;
    long port, db = 0;
    if (parse_number(colon + 1, end, 65535, &port) != 0 || port == 0) return -1;
    if (slash && parse_number(slash + 1, slash + strlen(slash), INT_MAX, &db) != 0) return -1;
    memcpy(r->redis_host, host, host_len);
    r->redis_host[host_len] = '\0';
    r->redis_port = (int)port;
    r->redis_db = (int)db;
    return 0;
}

/* Copies the value of key (or def) into dst; -1 when it does not fit. */
static int copy_region_key(const mr_config *cfg, const char *section, const char *key,
                           const char *def, char *dst, size_t cap, char *err, size_t errcap) {
    const char *value = mr_config_str(cfg, section, key, def);
    size_t len = strlen(value);
    if (len >= cap) {
        set_err(err, errcap, "[%s] %s: longer than %zu characters", section, key, cap - 1);
        return -1;
    }
    memcpy(dst, value, len + 1);
    return 0;
}

/* Checks that the region's time zone and calendar load. */
static int check_region_time(const mr_region_cfg *r, const char *section, char *err,
                             size_t errcap) {
    mr_tz *tz = mr_tz_load(r->timezone);
    if (tz == NULL) {
        set_err(err, errcap, "[%s] timezone: unknown time zone '%s'", section, r->timezone);
        return -1;
    }
    mr_tz_free(&tz);
    char cal_err[200];
    mr_calendar *cal = mr_calendar_parse(r->field_days, r->holidays, r->workdays, cal_err,
                                         sizeof(cal_err));
    if (cal == NULL) {
        set_err(err, errcap, "[%s] calendar: %s", section, cal_err);
        return -1;
    }
    mr_calendar_free(&cal);
    return 0;
}

static int load_region(const mr_config *cfg, const char *section, mr_region_cfg *r, char *err,
                       size_t errcap) {
    const char *name = section + strlen(REGION_PREFIX);
    memset(r, 0, sizeof(*r));
    if (!mr_region_name_valid(name)) {
        set_err(err, errcap, "[%s]: invalid region name '%s' (1-32 of A-Z a-z 0-9 _ -)", section,
                name);
        return -1;
    }
    strcpy(r->name, name);

    const char *redis = mr_config_get(cfg, section, "redis");
    if (redis == NULL) {
        set_err(err, errcap, "[%s] redis: missing (host:port[/db])", section);
        return -1;
    }
    if (parse_redis_address(redis, r) != 0) {
        set_err(err, errcap, "[%s] redis: '%s' is not host:port[/db]", section, redis);
        return -1;
    }
    if (copy_region_key(cfg, section, "redis_password", "", r->redis_password,
                        sizeof(r->redis_password), err, errcap) != 0 ||
        copy_region_key(cfg, section, "timezone", "UTC", r->timezone, sizeof(r->timezone), err,
                        errcap) != 0 ||
        copy_region_key(cfg, section, "field_days", "mon,tue,wed,thu,fri", r->field_days,
                        sizeof(r->field_days), err, errcap) != 0 ||
        copy_region_key(cfg, section, "holidays", "", r->holidays, sizeof(r->holidays), err,
                        errcap) != 0 ||
        copy_region_key(cfg, section, "workdays", "", r->workdays, sizeof(r->workdays), err,
                        errcap) != 0)
        return -1;
    return check_region_time(r, section, err, errcap);
}

int mr_config_regions(const mr_config *cfg, mr_region_cfg *out, size_t cap, char *err,
                      size_t errcap) {
    if (cfg == NULL) return 0;
    size_t count = 0;
    for (size_t i = 0; i < cfg->section_count; i++) {
        const char *section = cfg->sections[i];
        if (strncmp(section, REGION_PREFIX, strlen(REGION_PREFIX)) != 0) continue;
        if (count == cap) {
            set_err(err, errcap, "more than %zu regions configured", cap);
            return -1;
        }
        if (load_region(cfg, section, &out[count], err, errcap) != 0) return -1;
        count++;
    }
    return (int)count;
}
