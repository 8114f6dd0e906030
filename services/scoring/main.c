/* main.c of the scoring service: grades customers from prescription data
 * (DOMAIN.md section 2). This first version registers with the broker,
 * answers Status, and consumes the events it will act on (call reports
 * move the adoption ladder); grading itself comes with its own issue. */
#include "events.h"
#include "service.h"

/* Call reports will move a customer's adoption stage; the shell already
 * counts every handled event, so nothing more is done yet. */
static int on_event(mr_event_call *call)
{
    (void)call;
    return 0;
}

int main(int argc, char **argv)
{
    static const mr_service_def def = {.name = "scoring", .on_event = on_event};
    return mr_service_main(&def, argc, argv);
}
