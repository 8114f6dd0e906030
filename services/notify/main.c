/* main.c of the notify service: turns events into reminders at each
 * person's local time and delivers them exactly once per delivery id
 * (DOMAIN.md section 5). Reads the settings and the rules of every region,
 * starts the timer threads (timers.c) and runs the service shell with the
 * methods and event handler of handlers.c and on_event.c.
 *
 * Configuration ([notify], every key optional):
 *   shards (4), lease_ms (5000), max_sleep_ms (1000), wake_precise_ms (200),
 *   senders (1), outside_senders (1), outside_batch (1), block_ms (500), claim_min_idle_ms (5000), claim_interval_ms (1000),
 *   max_attempts (5), move_batch (500), delivered_event_max (500),
 *   trim_interval_ms (1000), tidy_backlog_max (1000000), read_batch (1000), batch_max (10000), sent_ttl_ms (30 days),
 *   events_maxlen (1000000), clock_skew_ms (0, tests only), timers (true;
 *   false: an instance that serves requests and events but moves and sends
 *   nothing),
 *   and scoped per region ([notify@region:<r>]): quiet_hours ("none"),
 *   channels ("inbox"), webhook_secret, webhook_allow_private (false),
 *   webhook_timeout_ms (3000), smtp_url, smtp_from, smtp_domain,
 *   smtp_timeout_ms (5000), channel_attempts (5), retry_base_ms (1000),
 *   retry_max_ms (300000), inbox_max_items (1000, 0: no cap),
 *   inbox_max_age_s (90 days, 0: no limit), direct_inbox (true: inbox-only
 *   reminders are delivered by the mover itself, direct.c); rules in [notify.rule.<name>] (see core.c). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "notify.h"
#include "send.h"

int64_t nt_now_ms(const nt_state *st)
{
    return mr_now_ms() + st->set.clock_skew_ms;
}

const nt_region *nt_region_find(const nt_state *st, const char *region)
{
    for (int i = 0; region && i < st->region_count; i++)
        if (strcmp(st->regions[i].name, region) == 0)
            return &st->regions[i];
    return NULL;
}

const mr_tz *nt_tz_get(nt_state *st, const char *name)
{
    const mr_tz *found = NULL;
    if (!name || !name[0] || strlen(name) >= sizeof st->tz_cache[0].name)
        return NULL;
    pthread_mutex_lock(&st->tz_lock);
    for (int i = 0; i < st->tz_count && !found; i++)
        if (strcmp(st->tz_cache[i].name, name) == 0)
            found = st->tz_cache[i].tz;
    if (!found && st->tz_count < NT_TZ_CACHE) {
        mr_tz *tz = mr_tz_load(name);
        if (tz) {
            snprintf(st->tz_cache[st->tz_count].name, sizeof st->tz_cache[0].name, "%s", name);
            st->tz_cache[st->tz_count++].tz = tz;
            found = tz;
        }
    }
    pthread_mutex_unlock(&st->tz_lock);
    return found;
}

/* ---- Settings ---- */

typedef struct {
    const char *key;
    long long def, min, max;
    size_t offset;
    bool is_int;
} setting;

#define INT_SETTING(k, d, lo, hi) {#k, d, lo, hi, offsetof(nt_settings, k), true}
#define LL_SETTING(k, d, lo, hi) {#k, d, lo, hi, offsetof(nt_settings, k), false}

static int read_settings(nt_state *st, char *err, size_t errcap)
{
    static const setting table[] = {
        INT_SETTING(shards, 4, 1, NT_MAX_SHARDS),
        INT_SETTING(lease_ms, 5000, 300, 600000),
        INT_SETTING(max_sleep_ms, 1000, 10, 60000),
        INT_SETTING(wake_precise_ms, 200, 0, 10000),
        INT_SETTING(senders, 1, 1, NT_MAX_SENDERS),
        INT_SETTING(outside_senders, 1, 1, NT_MAX_SENDERS),
        INT_SETTING(outside_batch, 1, 1, 1000),
        INT_SETTING(block_ms, 500, 10, 10000),
        INT_SETTING(claim_min_idle_ms, 5000, 100, 3600000),
        INT_SETTING(claim_interval_ms, 1000, 50, 600000),
        INT_SETTING(max_attempts, 5, 1, 1000),
        INT_SETTING(move_batch, 500, 1, 100000),
        INT_SETTING(delivered_event_max, 500, 1, 10000),
        INT_SETTING(trim_interval_ms, 1000, 0, 3600000),
        INT_SETTING(tidy_backlog_max, 1000000, 0, 100000000),
        INT_SETTING(read_batch, 1000, 1, 10000),
        INT_SETTING(batch_max, 10000, 1, 100000),
        LL_SETTING(sent_ttl_ms, 30LL * 86400000, 60000, 3650LL * 86400000),
        LL_SETTING(clock_skew_ms, 0, -86400000, 86400000),
        LL_SETTING(events_maxlen, 1000000, 0, 1000000000),
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        long long v;
        if (mr_config_int(st->cfg, "notify", table[i].key, table[i].def, table[i].min, table[i].max,
                          &v, err, errcap) != 0)
            return -1;
        char *field = (char *)&st->set + table[i].offset;
        if (table[i].is_int)
            *(int *)field = (int)v;
        else
            *(long long *)field = v;
    }
    if (mr_config_bool(st->cfg, "notify", "timers", true, &st->set.timers, err, errcap) != 0)
        return -1;
    if (st->set.max_sleep_ms > st->set.lease_ms / 3) {
        snprintf(err, errcap, "[notify] max_sleep_ms must be at most lease_ms / 3");
        return -1;
    }
    return 0;
}

/* ---- Rules ---- */

typedef struct {
    const mr_config *cfg, *defaults;
    char scope[48];
    char names[NT_MAX_RULES][48];
    int count;
} rule_source;

static const char *rule_lookup(void *arg, const char *rule, const char *key)
{
    rule_source *src = arg;
    char section[96];
    snprintf(section, sizeof section, "notify.rule.%s", rule);
    const char *scopes[] = {src->scope, NULL};
    const char *v = mr_config_scoped(src->cfg, section, key, scopes);
    return v ? v : mr_config_get(src->defaults, section, key);
}

static int collect_name(const char *section, void *arg)
{
    rule_source *src = arg;
    const char *name = section + strlen("notify.rule.");
    if (strchr(name, '@') || strlen(name) >= sizeof src->names[0])
        return 0;
    for (int i = 0; i < src->count; i++)
        if (strcmp(src->names[i], name) == 0)
            return 0;
    if (src->count == NT_MAX_RULES)
        return -1;
    snprintf(src->names[src->count++], sizeof src->names[0], "%s", name);
    return 0;
}

static int load_rules(nt_state *st, mr_config *defaults, nt_region *reg, char *err, size_t errcap)
{
    rule_source src = {.cfg = st->cfg, .defaults = defaults};
    snprintf(src.scope, sizeof src.scope, "region:%s", reg->name);
    if (mr_config_each_section(defaults, "notify.rule.", collect_name, &src) != 0 ||
        mr_config_each_section(st->cfg, "notify.rule.", collect_name, &src) != 0) {
        snprintf(err, errcap, "more than %d notify rules", NT_MAX_RULES);
        return -1;
    }
    for (int i = 0; i < src.count; i++) {
        int rc = nt_rule_load(&reg->rules[reg->rule_count], src.names[i], rule_lookup, &src, err, errcap);
        if (rc < 0)
            return -1;
        reg->rule_count += rc;
    }
    return 0;
}

/* The outside channels' settings of a region. 0 or -1. */
static int load_channels(nt_state *st, nt_region *reg, char *err, size_t errcap)
{
    char scope[48];
    snprintf(scope, sizeof scope, "region:%s", reg->name);
    const char *scopes[] = {scope, NULL};
    const char *text[] = {"webhook_secret", "smtp_url", "smtp_from", "smtp_domain"};
    char *dst[] = {reg->webhook_secret, reg->smtp_url, reg->smtp_from, reg->smtp_domain};
    size_t caps[] = {sizeof reg->webhook_secret, sizeof reg->smtp_url, sizeof reg->smtp_from,
                     sizeof reg->smtp_domain};
    const char *defaults[] = {"", "", "notify@medrep.invalid", "medrep.invalid"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = mr_config_scoped(st->cfg, "notify", text[i], scopes);
        snprintf(dst[i], caps[i], "%s", v ? v : defaults[i]);
    }
    const char *allow = mr_config_scoped(st->cfg, "notify", "webhook_allow_private", scopes);
    reg->webhook_allow_private = allow && (!strcmp(allow, "true") || !strcmp(allow, "yes") || !strcmp(allow, "1"));
    const char *direct = mr_config_scoped(st->cfg, "notify", "direct_inbox", scopes);
    reg->direct_inbox = !direct || !strcmp(direct, "true") || !strcmp(direct, "yes") || !strcmp(direct, "1");
    if (direct && !reg->direct_inbox && strcmp(direct, "false") && strcmp(direct, "no") && strcmp(direct, "0")) {
        snprintf(err, errcap, "[notify] direct_inbox: '%s' is not true or false", direct);
        return -1;
    }
    nt_direct_tag(mr_config_scoped(st->cfg, "notify", "channels", scopes), reg->direct_inbox, reg->direct_tag,
                  sizeof reg->direct_tag);
    const char *nums[] = {"webhook_timeout_ms", "smtp_timeout_ms", "channel_attempts", "retry_base_ms",
                          "retry_max_ms", "inbox_max_items", "inbox_max_age_s"};
    long long defs[] = {3000, 5000, 5, 1000, 300000, 1000, 90 * 86400}, mins[] = {100, 100, 1, 10, 10, 0, 0},
              maxs[] = {60000, 60000, 100, 3600000, 86400000, 1000000, 3650LL * 86400}, vals[7];
    for (size_t i = 0; i < 7; i++) {
        const char *v = mr_config_scoped(st->cfg, "notify", nums[i], scopes);
        char *end = NULL;
        vals[i] = v ? strtoll(v, &end, 10) : defs[i];
        if (v && (*end || vals[i] < mins[i] || vals[i] > maxs[i])) {
            snprintf(err, errcap, "[notify] %s: '%s' is not a number in %lld..%lld", nums[i], v, mins[i], maxs[i]);
            return -1;
        }
    }
    reg->webhook_timeout_ms = (int)vals[0], reg->smtp_timeout_ms = (int)vals[1];
    reg->channel_attempts = (int)vals[2], reg->retry_base_ms = vals[3], reg->retry_max_ms = vals[4];
    reg->inbox_max_items = (int)vals[5], reg->inbox_max_age_ms = vals[6] * 1000LL;
    return 0;
}

static int load_regions(nt_state *st, char *err, size_t errcap)
{
    mr_region_cfg regions[NT_MAX_REGIONS];
    int n = mr_config_regions(st->cfg, regions, NT_MAX_REGIONS, err, errcap);
    if (n < 0)
        return -1;
    mr_config *defaults = mr_config_from_string(nt_default_rules_ini, err, errcap);
    if (!defaults)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        nt_region *reg = &st->regions[st->region_count++];
        snprintf(reg->name, sizeof reg->name, "%.32s", regions[i].name);
        snprintf(reg->timezone, sizeof reg->timezone, "%.63s", regions[i].timezone);
        if (!nt_tz_get(st, reg->timezone)) {
            snprintf(err, errcap, "region %s: unknown time zone '%s'", reg->name, reg->timezone);
            rc = -1;
        } else {
            rc = load_rules(st, defaults, reg, err, errcap);
            if (rc == 0)
                rc = load_channels(st, reg, err, errcap);
        }
    }
    mr_config_free(&defaults);
    return rc;
}

/* ---- Start and stop ---- */

static int notify_init(mr_service *svc, const mr_config *cfg, char *err, size_t errcap)
{
    nt_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    st->svc = svc;
    st->cfg = cfg;
    pthread_mutex_init(&st->tz_lock, NULL);
    mr_service_set_state(svc, st);
    if (nt_send_global_init() != 0) {
        snprintf(err, errcap, "cannot initialise libcurl");
        return -1;
    }
    st->curl_ready = true;
    if (read_settings(st, err, errcap) != 0 || load_regions(st, err, errcap) != 0 ||
        (st->set.timers && nt_timers_start(st, err, errcap) != 0))
        return -1;
    mr_info("notify_ready", "regions=%d shards=%d rules=%d", st->region_count, st->set.shards,
            st->region_count ? st->regions[0].rule_count : 0);
    return 0;
}

static void notify_fini(mr_service *svc)
{
    nt_state *st = mr_service_state(svc);
    if (!st)
        return;
    nt_timers_stop(st);
    for (int i = 0; i < st->tz_count; i++)
        mr_tz_free(&st->tz_cache[i].tz);
    pthread_mutex_destroy(&st->tz_lock);
    if (st->curl_ready)
        nt_send_global_cleanup();
    free(st);
    mr_service_set_state(svc, NULL);
}

int main(int argc, char **argv)
{
    /* the types on_event.c reacts to: the rest (its own reminder_delivered
     * above all) are acknowledged in batches, unread by the handler */
    static const char *const types[] = {"meeting_changed", "follow_up_due", "call_logged", "call_planned",
                                        "call_cancelled", "plan_due", "coverage_behind_pace",
                                        "customer_regraded", NULL};
    static mr_service_def def = {.name = "notify", .on_event = nt_on_event, .init = notify_init,
                                 .fini = notify_fini, .event_types = types};
    def.methods = nt_methods;
    def.method_count = nt_method_count;
    return mr_service_main(&def, argc, argv);
}
