/* main.c of the notify service: turns events into reminders at each person's local time (DOMAIN.md section 5).
 * This first version registers with the broker, answers Status, and
 * consumes the region event streams with its own consumer group; the
 * domain logic comes with the service's own issue. */
#include "events.h"
#include "service.h"

/* Later: every event kind will map to reminders by rules. The shell already counts every handled event by type. */
static int on_event(mr_event_call *call)
{
    (void)call;
    return 0;
}

int main(int argc, char **argv)
{
    static const mr_service_def def = {.name = "notify", .on_event = on_event};
    return mr_service_main(&def, argc, argv);
}
