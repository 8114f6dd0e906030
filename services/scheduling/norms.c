/* norms.c: the visit norms as configuration, and attainment (norms.h). */
#include "norms.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hours.h"

/* The defaults: DOMAIN.md 3.1 (A-D) and the (choice) reading of 3.2. */
static const sc_class_norm default_classes[] = {
    {"A", 4, 0.9, 1.0, true,
     "defend: block competitors | bring new evidence | remind to keep using | invite as speaker or chair"},
    {"B", 4, 0.9, 1.0, true,
     "find the treatment concerns our product answers | correct competitor claims for the adoption stage"
     " | invite to a meeting"},
    {"np_support", 2, 0.5, 0.8, false,
     "keep the supply channel open | check stock and orders | agree the next step"},
    {"np_leadership", 1, 0.5, 0.8, false,
     "report progress | raise listing or supply issues | agree the next step"},
    {"C", 1, 0.6, 0.8, false, "maintain: share evidence | remind to use | offer academic help"},
    {"D", 0, 0.2, 0.6, false,
     "observe: call in waiting time | invite to a department meeting or PIM | move up one adoption rung"},
    {"np_as_needed", 0, 0, 0, false, "answer the request | record needs | agree the next step"},
    {"none", 0, 0, 0, false, "learn the prescribing pattern | introduce the product | agree the next step"},
};

static const char *const default_groups[][2] = {
    {"storekeeper", "np_support"},     {"procurement", "np_support"},
    {"pharmacy_lead", "np_support"},   {"laboratory", "np_support"},
    {"head_nurse", "np_support"},      {"leadership", "np_leadership"},
    {"pharmacy_director", "np_leadership"}, {"non_prescribing_kol", "np_leadership"},
    {"medical_affairs", "np_as_needed"}, {"medical_education", "np_as_needed"},
};

void sc_norms_defaults(sc_norms *n, bool onc_team)
{
    memset(n, 0, sizeof *n);
    n->ncls = (int)(sizeof default_classes / sizeof default_classes[0]);
    memcpy(n->cls, default_classes, sizeof default_classes);
    n->ngroups = (int)(sizeof default_groups / sizeof default_groups[0]);
    for (int i = 0; i < n->ngroups; i++) {
        snprintf(n->group_class[i][0], SC_CLASS_NAME_MAX, "%s", default_groups[i][0]);
        snprintf(n->group_class[i][1], SC_CLASS_NAME_MAX, "%s", default_groups[i][1]);
    }
    n->calls_per_day_min = onc_team ? 10 : 12;
    n->calls_per_day_max = 15;
    n->call_minutes = 20;
    n->call_minutes_min = 15;
    n->call_minutes_max = 30;
    n->calls_per_week_per_customer = 1;
    n->conflict_days = 4;
    n->pims_per_week = 1;
    n->pim_minutes = 35;
    n->pim_start = 12 * 60;
    n->day_start = 8 * 60;
    n->day_end = 18 * 60;
    n->same_site_minutes = 5;
    n->speed_kmh = 30;
    n->road_factor = 1.3;
    n->route_exact_max = 10;
    n->min_objectives = 3;
    n->backdate_days = 3;
    n->pace_tolerance = 1.0;
    n->talks_per_event = 2;
    n->talk_minutes = 10;
    n->talk_minutes_min = 5;
    n->talk_window = 30;
    n->moment_slack = 20;
    n->day_groups = 0;
    n->detour_calls = 6;
    n->improve_passes = 2;
    n->plan_starts = 3;
}

typedef struct {
    const mr_config *cfg;
    const char *const *scopes;
    char *err;
    size_t errcap;
} loader;

static int get_double(loader *l, const char *key, double min, double max, double *out)
{
    const char *v = mr_config_scoped(l->cfg, "scheduling", key, l->scopes);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    while (*end == ' ')
        end++;
    if (errno || end == v || *end || !(d >= min && d <= max)) {
        snprintf(l->err, l->errcap, "[scheduling] %s = '%s': want a number in [%g, %g]", key, v,
                 min, max);
        return -1;
    }
    *out = d;
    return 0;
}

static int get_int(loader *l, const char *key, int min, int max, int *out)
{
    double d = *out;
    if (get_double(l, key, min, max, &d) != 0)
        return -1;
    if (d != floor(d)) {
        snprintf(l->err, l->errcap, "[scheduling] %s: want a whole number", key);
        return -1;
    }
    *out = (int)d;
    return 0;
}

static int get_time(loader *l, const char *key, int *out)
{
    const char *v = mr_config_scoped(l->cfg, "scheduling", key, l->scopes);
    if (!v)
        return 0;
    int m = sc_hhmm_parse(v);
    if (m < 0 || strlen(v) != 5) {
        snprintf(l->err, l->errcap, "[scheduling] %s = '%s': want HH:MM", key, v);
        return -1;
    }
    *out = m;
    return 0;
}

static int get_bool(loader *l, const char *key, bool *out)
{
    const char *v = mr_config_scoped(l->cfg, "scheduling", key, l->scopes);
    if (!v)
        return 0;
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
        *out = false;
    else {
        snprintf(l->err, l->errcap, "[scheduling] %s = '%s': want true or false", key, v);
        return -1;
    }
    return 0;
}

/* The class list "A,B,C" replaces the defaults; unknown names start at 0. */
static int load_class_list(loader *l, sc_norms *n)
{
    const char *v = mr_config_scoped(l->cfg, "scheduling", "classes", l->scopes);
    if (!v)
        return 0;
    sc_norms d;
    sc_norms_defaults(&d, false);
    n->ncls = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (!len)
            break;
        if (len >= SC_CLASS_NAME_MAX || n->ncls >= SC_CLASSES_MAX) {
            snprintf(l->err, l->errcap, "[scheduling] classes: too many or too long names");
            return -1;
        }
        sc_class_norm c = {.calls_per_month = 0};
        snprintf(c.name, sizeof c.name, "%.*s", (int)len, p);
        int known = sc_norms_class_index(&d, c.name);
        if (known >= 0)
            c = d.cls[known];
        n->cls[n->ncls++] = c;
        p += len;
    }
    if (!n->ncls) {
        snprintf(l->err, l->errcap, "[scheduling] classes: empty");
        return -1;
    }
    return 0;
}

static int load_classes(loader *l, sc_norms *n)
{
    if (load_class_list(l, n) != 0)
        return -1;
    for (int i = 0; i < n->ncls; i++) {
        sc_class_norm *c = &n->cls[i];
        char key[64];
        snprintf(key, sizeof key, "%s.calls_per_month", c->name);
        if (get_double(l, key, 0, 100, &c->calls_per_month) != 0)
            return -1;
        snprintf(key, sizeof key, "%s.coverage_month", c->name);
        if (get_double(l, key, 0, 1, &c->coverage_month) != 0)
            return -1;
        snprintf(key, sizeof key, "%s.coverage_quarter", c->name);
        if (get_double(l, key, 0, 1, &c->coverage_quarter) != 0)
            return -1;
        snprintf(key, sizeof key, "%s.high_value", c->name);
        if (get_bool(l, key, &c->high_value) != 0)
            return -1;
        snprintf(key, sizeof key, "%s.objectives", c->name);
        const char *obj = mr_config_scoped(l->cfg, "scheduling", key, l->scopes);
        if (obj)
            snprintf(c->objectives, sizeof c->objectives, "%s", obj);
    }
    for (int g = 0; g < n->ngroups; g++) {
        char key[64];
        snprintf(key, sizeof key, "group.%s", n->group_class[g][0]);
        const char *v = mr_config_scoped(l->cfg, "scheduling", key, l->scopes);
        if (v)
            snprintf(n->group_class[g][1], SC_CLASS_NAME_MAX, "%s", v);
        if (sc_norms_class_index(n, n->group_class[g][1]) < 0) {
            snprintf(l->err, l->errcap, "[scheduling] %s = '%s': not a class in 'classes'", key,
                     n->group_class[g][1]);
            return -1;
        }
    }
    return 0;
}

static int load_numbers(loader *l, sc_norms *n)
{
    struct {
        const char *key;
        int *out;
        int min, max;
    } ints[] = {
        {"calls_per_day_min", &n->calls_per_day_min, 0, 20},
        {"calls_per_day_max", &n->calls_per_day_max, 1, 20},   /* a day route holds SC_ROUTE_MAX stops */
        {"call_minutes", &n->call_minutes, 1, 240},
        {"call_minutes_min", &n->call_minutes_min, 1, 240},
        {"call_minutes_max", &n->call_minutes_max, 1, 240},
        {"calls_per_week_per_customer", &n->calls_per_week_per_customer, 1, 7},
        {"conflict_days", &n->conflict_days, 0, 60},
        {"pims_per_week", &n->pims_per_week, 0, 7},
        {"pim_minutes", &n->pim_minutes, 1, 600},
        {"same_site_minutes", &n->same_site_minutes, 0, 120},
        {"route_exact_max", &n->route_exact_max, 0, 14},
        {"min_objectives", &n->min_objectives, 0, 20},
        {"backdate_days", &n->backdate_days, 0, 366},
        {"talks_per_event", &n->talks_per_event, 0, 10},
        {"talk_minutes", &n->talk_minutes, 1, 120},
        {"talk_minutes_min", &n->talk_minutes_min, 1, 120},
        {"talk_window", &n->talk_window, 0, 240},
        {"moment_slack", &n->moment_slack, 0, 600},
        {"day_groups", &n->day_groups, 0, 8},
        {"detour_calls", &n->detour_calls, 0, 20},
        {"improve_passes", &n->improve_passes, 0, 10},
        {"plan_starts", &n->plan_starts, 1, 16},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (get_int(l, ints[i].key, ints[i].min, ints[i].max, ints[i].out) != 0)
            return -1;
    if (get_double(l, "speed_kmh", 1, 500, &n->speed_kmh) != 0 ||
        get_double(l, "road_factor", 1, 10, &n->road_factor) != 0 ||
        get_double(l, "pace_tolerance", 0, 2, &n->pace_tolerance) != 0 ||
        get_time(l, "pim_start", &n->pim_start) != 0 ||
        get_time(l, "day_start", &n->day_start) != 0 || get_time(l, "day_end", &n->day_end) != 0)
        return -1;
    return 0;
}

static int check(loader *l, const sc_norms *n)
{
    const char *why = NULL;
    if (n->calls_per_day_min > n->calls_per_day_max)
        why = "calls_per_day_min > calls_per_day_max";
    else if (n->call_minutes < n->call_minutes_min || n->call_minutes > n->call_minutes_max)
        why = "call_minutes outside [call_minutes_min, call_minutes_max]";
    else if (n->day_end <= n->day_start)
        why = "day_end is not after day_start";
    if (why)
        snprintf(l->err, l->errcap, "[scheduling] %s", why);
    return why ? -1 : 0;
}

int sc_norms_load(const mr_config *cfg, const char *const *scopes, sc_norms *out, char *err,
                  size_t errcap)
{
    bool onc = false;
    for (int i = 0; scopes && scopes[i]; i++)
        if (!strcmp(scopes[i], "team:ONC"))
            onc = true;
    sc_norms_defaults(out, onc);
    loader l = {cfg, scopes, err, errcap};
    if (load_classes(&l, out) != 0 || load_numbers(&l, out) != 0 || check(&l, out) != 0)
        return -1;
    return 0;
}

int sc_norms_class_index(const sc_norms *n, const char *name)
{
    for (int i = 0; i < n->ncls; i++)
        if (!strcmp(n->cls[i].name, name))
            return i;
    return -1;
}

int sc_norms_class_of(const sc_norms *n, bool prescriber, const char *segment, const char *group)
{
    if (prescriber)
        return sc_norms_class_index(n, segment && segment[0] ? segment : "none");
    for (int g = 0; g < n->ngroups; g++)
        if (group && !strcmp(n->group_class[g][0], group))
            return sc_norms_class_index(n, n->group_class[g][1]);
    return -1;
}

/* ---- attainment ---- */

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

void sc_attainment_compute(const sc_norms *n, const int *customer_cls, int ncust,
                           const sc_att_call *calls, int ncalls, double month_share,
                           int field_days_elapsed, sc_attainment *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ncust; i++)
        if (customer_cls[i] >= 0 && customer_cls[i] < n->ncls)
            out->cls[customer_cls[i]].customers++;
    unsigned char *seen = calloc((size_t)(ncust > 0 ? ncust : 1), 1);
    int high_done = 0;
    for (int k = 0; k < ncalls; k++) {
        const sc_att_call *c = &calls[k];
        out->planned += c->planned;
        out->planned_past += c->planned && c->past;
        if (!c->done || c->cls < 0 || c->cls >= n->ncls)
            continue;
        out->done++;
        out->done_planned += c->planned;
        out->cls[c->cls].done_calls++;
        high_done += n->cls[c->cls].high_value;
        if (seen && c->customer >= 0 && c->customer < ncust && !seen[c->customer]) {
            seen[c->customer] = 1;
            out->cls[c->cls].covered++;
        }
    }
    free(seen);
    double high_need = 0, all_need = 0;
    for (int i = 0; i < n->ncls; i++) {
        sc_att_class *a = &out->cls[i];
        const sc_class_norm *cn = &n->cls[i];
        a->coverage = ratio(a->covered, a->customers);
        double need = cn->calls_per_month > 0 ? cn->calls_per_month : 1;
        a->frequency = ratio(ratio(a->done_calls, a->customers), need * month_share);
        double wanted = need * cn->coverage_month * a->customers;
        all_need += wanted;
        high_need += cn->high_value ? wanted : 0;
    }
    out->adherence = ratio(out->done_planned, out->planned_past);
    out->call_rate = ratio(out->done, field_days_elapsed);
    out->match = ratio(ratio(high_done, out->done), ratio(high_need, all_need));
}

bool sc_behind_pace(double required, double achieved, int elapsed, int total, double tolerance,
                    double *expected, double *actual)
{
    *expected = total > 0 ? (double)elapsed / total : 1;
    *actual = required > 0 ? achieved / required : 1;
    if (required <= 0 || elapsed <= 0 || total <= 0)
        return false;
    double projected = achieved * total / elapsed;
    return projected < required * tolerance;
}
