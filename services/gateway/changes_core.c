/* changes_core.c: whom an event is about and the changes it stands for
 * (see changes_core.h). */
#include "changes_core.h"

#include <stddef.h>
#include <stdio.h>

void gw_event_owner(const Medrep__Event *ev, const char **rep, const char **person)
{
    *rep = *person = NULL;
    switch (ev->body_case) {
    case MEDREP__EVENT__BODY_CUSTOMER_REGRADED: *rep = ev->customer_regraded->rep_id; break;
    case MEDREP__EVENT__BODY_CALL_LOGGED: *rep = ev->call_logged->rep_id; break;
    case MEDREP__EVENT__BODY_CALL_CANCELLED: *rep = ev->call_cancelled->rep_id; break;
    case MEDREP__EVENT__BODY_CALL_PLANNED: *rep = ev->call_planned->rep_id; break;
    case MEDREP__EVENT__BODY_PLAN_DUE: *rep = ev->plan_due->rep_id; break;
    case MEDREP__EVENT__BODY_COVERAGE_BEHIND_PACE: *rep = ev->coverage_behind_pace->rep_id; break;
    case MEDREP__EVENT__BODY_MEETING_CHANGED: *rep = ev->meeting_changed->rep_id; break;
    case MEDREP__EVENT__BODY_FOLLOW_UP_DUE: *rep = ev->follow_up_due->rep_id; break;
    case MEDREP__EVENT__BODY_REMINDER_DELIVERED: *person = ev->reminder_delivered->recipient_id; break;
    case MEDREP__EVENT__BODY_PLAN_CHANGED: *rep = ev->plan_changed->rep_id; break;
    case MEDREP__EVENT__BODY_INBOX_READ: *person = ev->inbox_read->person_id; break;
    default: break;
    }
}

size_t gw_changes_of_event(const Medrep__Event *ev, void (*fn)(const Medrep__Event *one, void *arg),
                           void *arg)
{
    if (ev->body_case != MEDREP__EVENT__BODY_REMINDERS_DELIVERED) {
        fn(ev, arg);
        return 1;
    }
    const Medrep__RemindersDelivered *batch = ev->reminders_delivered;
    Medrep__Event one = *ev;   /* the envelope, field for field */
    one.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    size_t n = batch ? batch->n_deliveries : 0;
    char id[256];
    for (size_t i = 0; i < n; i++) {
        const Medrep__ReminderDelivered *d = batch->deliveries[i];
        /* an id per item, so a client deduplicating by event id keeps them all */
        if (d->delivery_id && d->delivery_id[0])
            snprintf(id, sizeof id, "dlv:%s", d->delivery_id);
        else
            snprintf(id, sizeof id, "%s#%zu", ev->event_id ? ev->event_id : "", i);
        one.event_id = id;
        one.reminder_delivered = batch->deliveries[i];
        fn(&one, arg);
    }
    return n;
}
