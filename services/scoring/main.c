/* main.c of the scoring service: grades customers from prescription data
 * (DOMAIN.md section 2). The shell (common/service.c) runs the methods of
 * handlers.c; init checks the [scoring] and [hospital_grade] settings,
 * and each of their product and region scopes, once, so a bad
 * configuration stops the start with a clear message. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "service.h"
#include "settings.h"

typedef struct {
    const mr_config *cfg;
    char *err;
    size_t errcap;
} check_ctx;

/* Checks one scoped section ("scoring@product:P1", "hospital_grade@region:north"). */
static int check_section(const char *section, void *arg)
{
    check_ctx *c = arg;
    const char *at = strchr(section, '@');
    if (!at)
        return 0;
    const char *scope = at + 1;
    const char *product = strncmp(scope, "product:", 8) == 0 ? scope + 8 : NULL;
    const char *region = strncmp(scope, "region:", 7) == 0 ? scope + 7 : NULL;
    if (!product && !region) {
        snprintf(c->err, c->errcap, "[%s]: the scope must be product:<id> or region:<name>", section);
        return -1;
    }
    sc_grade_cfg g;
    sc_hospital_cfg h;
    if (sc_settings_grade(c->cfg, region, product, &g, c->err, c->errcap) != 0 ||
        sc_settings_hospital(c->cfg, region, product, &h, c->err, c->errcap) != 0)
        return -1;
    return 0;
}

static int init(mr_service *svc, const mr_config *cfg, char *err, size_t errcap)
{
    (void)svc;
    sc_grade_cfg g;
    sc_hospital_cfg h;
    if (sc_settings_grade(cfg, NULL, NULL, &g, err, errcap) != 0 ||
        sc_settings_hospital(cfg, NULL, NULL, &h, err, errcap) != 0)
        return -1;
    long long n;
    if (mr_config_int(cfg, "scoring", "history_max", SC_HISTORY_MAX_DEFAULT, 1, 10000, &n, err, errcap) != 0 ||
        mr_config_int(cfg, "scoring", "changes_keep_days", SC_CHANGES_KEEP_DAYS_DEFAULT, 1, 36500, &n, err, errcap) != 0)
        return -1;
    check_ctx c = {.cfg = cfg, .err = err, .errcap = errcap};
    if (mr_config_each_section(cfg, "scoring@", check_section, &c) != 0 ||
        mr_config_each_section(cfg, "hospital_grade@", check_section, &c) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    /* the type sc_on_event acts on; others are acknowledged in batches */
    static const char *const handled[] = {"call_logged", NULL};
    static mr_service_def def = {.name = "scoring", .on_event = sc_on_event, .event_types = handled, .init = init};
    def.methods = sc_methods;
    def.method_count = sc_method_count;
    return mr_service_main(&def, argc, argv);
}
