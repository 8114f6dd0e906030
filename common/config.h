/* config.h: configuration from an INI file plus environment overrides.
 *
 * File format (parsed with inih): sections and key = value lines.
 *
 *   [broker]
 *   endpoint = tcp://127.0.0.1:5555
 *
 *   [region.north]
 *   redis = 127.0.0.1:6379/0
 *   timezone = Asia/Shanghai
 *   field_days = mon,tue,wed,thu,fri
 *   holidays = 2026-10-01..2026-10-07, 2027-01-01
 *   workdays = 2026-10-10
 *
 *   [norms]                 numbers that can differ per product/team/region
 *   calls_per_day = 12
 *   [norms@team:ONC]
 *   calls_per_day = 10
 *
 * Environment overrides: MEDREP__<SECTION>__<KEY>, where SECTION and KEY are
 * upper-cased and every character other than a letter or digit becomes '_'
 * (so [region.north] redis is MEDREP__REGION_NORTH__REDIS). An override
 * wins over the file. Overrides also create keys the file lacks, but only
 * for sections the file has or that are looked up by name.
 *
 * Scoped values: a section "name@scope" refines "name". mr_config_scoped()
 * looks the key up in each scope in the order given, then in the plain
 * section. Scopes are free text such as "product:P1", "team:ONC",
 * "region:north".
 *
 * A mr_config is immutable after loading and safe to read from threads. */
#ifndef MEDREP_CONFIG_H
#define MEDREP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mr_config mr_config;

/* Loads `path`; NULL or "" means no file (environment and defaults only).
 * Returns NULL and writes a message naming the file and line on error. */
mr_config *mr_config_load(const char *path, char *err, size_t errcap);

/* Same, from text in memory (tests). */
mr_config *mr_config_from_string(const char *text, char *err, size_t errcap);

void mr_config_free(mr_config **cfg);

/* The raw value or NULL. The environment override wins. The returned
 * string lives as long as cfg. */
const char *mr_config_get(const mr_config *cfg, const char *section, const char *key);

const char *mr_config_str(const mr_config *cfg, const char *section, const char *key,
                          const char *def);

/* Typed getters: write the value (or def when absent) to *out. Return 0,
 * or -1 with a message in err when present but malformed or outside
 * [min, max]. */
int mr_config_int(const mr_config *cfg, const char *section, const char *key, long long def,
                  long long min, long long max, long long *out, char *err, size_t errcap);
int mr_config_double(const mr_config *cfg, const char *section, const char *key, double def,
                     double min, double max, double *out, char *err, size_t errcap);
int mr_config_bool(const mr_config *cfg, const char *section, const char *key, bool def,
                   bool *out, char *err, size_t errcap);

/* Looks in "section@scopes[0]", "section@scopes[1]", ... then "section".
 * scopes is NULL-terminated (may be NULL). Returns NULL when absent. */
const char *mr_config_scoped(const mr_config *cfg, const char *section, const char *key,
                             const char *const *scopes);

/* Calls fn for each section whose name starts with prefix, in file order.
 * Stops early and returns fn's value when it is non-zero. */
int mr_config_each_section(const mr_config *cfg, const char *prefix,
                           int (*fn)(const char *section, void *arg), void *arg);

/* ---- Regions ---- */

typedef struct {
    char name[33];          /* [A-Za-z0-9_-]{1,32} */
    char redis_host[128];
    int redis_port;
    int redis_db;
    char redis_password[128];
    char timezone[64];      /* IANA name, default "UTC" */
    char field_days[64];    /* default "mon,tue,wed,thu,fri" */
    char holidays[1024];    /* dates and ranges, see clock.h mr_calendar_parse */
    char workdays[512];     /* extra field days (weekend make-up days) */
} mr_region_cfg;

/* Fills out[] with every [region.NAME] section, up to cap. Returns the
 * number of regions, or -1 with err on a malformed region. The "redis"
 * key is host:port[/db]; "redis_password" is optional. */
int mr_config_regions(const mr_config *cfg, mr_region_cfg *out, size_t cap, char *err,
                      size_t errcap);

/* True when name is a valid region name: 1-32 of [A-Za-z0-9_-]. */
bool mr_region_name_valid(const char *name);

#endif
