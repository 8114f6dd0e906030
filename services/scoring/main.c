/* main.c of the scoring service: grades customers from prescription data
 * (DOMAIN.md section 2). The shell (common/service.c) runs the methods of
 * handlers.c; init checks the [scoring] and [hospital_grade] settings
 * once so a bad configuration stops the start with a clear message. */
#include <stdio.h>

#include "handlers.h"
#include "service.h"
#include "settings.h"

static int init(mr_service *svc, const mr_config *cfg, char *err, size_t errcap)
{
    (void)svc;
    sc_grade_cfg g;
    sc_hospital_cfg h;
    if (sc_settings_grade(cfg, NULL, NULL, &g, err, errcap) != 0 ||
        sc_settings_hospital(cfg, NULL, NULL, &h, err, errcap) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static mr_service_def def = {.name = "scoring", .on_event = sc_on_event, .init = init};
    def.methods = sc_methods;
    def.method_count = sc_method_count;
    return mr_service_main(&def, argc, argv);
}
