/* fuzz_event.c: libFuzzer target for the event decoder: the input is
 * unpacked as a medrep.Event, as a consumer does with a stream entry's
 * "ev" field and `medrep watch` with a feed message; then the body's type
 * is named with mr_event_type_name, the fields read and the event freed. */
#include <stdint.h>
#include <string.h>

#include "events.h"
#include "events.pb-c.h"

#define FUZZ_MAX_EVENT (1024 * 1024)

static volatile size_t sink;

static void touch_string(const char *s)
{
    if (s)
        sink += strlen(s);
}

static void walk_meeting(const Medrep__MeetingChanged *m)
{
    touch_string(m->meeting_id);
    touch_string(m->from_state);
    touch_string(m->to_state);
    touch_string(m->actor_id);
    touch_string(m->rep_id);
    touch_string(m->approver_id);
    for (size_t i = 0; i < m->n_invitee_ids; i++)
        touch_string(m->invitee_ids[i]);
    for (size_t i = 0; i < m->n_staff_ids; i++)
        touch_string(m->staff_ids[i]);
}

static void walk_delivered(const Medrep__ReminderDelivered *d)
{
    touch_string(d->reminder_id);
    touch_string(d->delivery_id);
    touch_string(d->recipient_id);
    touch_string(d->channel);
}

static void walk_body(const Medrep__Event *ev)
{
    switch (ev->body_case) {
    case MEDREP__EVENT__BODY_CUSTOMER_REGRADED:
        touch_string(ev->customer_regraded->customer_id);
        touch_string(ev->customer_regraded->reason);
        break;
    case MEDREP__EVENT__BODY_CALL_LOGGED:
        touch_string(ev->call_logged->call_id);
        break;
    case MEDREP__EVENT__BODY_MEETING_CHANGED:
        walk_meeting(ev->meeting_changed);
        break;
    case MEDREP__EVENT__BODY_REMINDER_DELIVERED:
        touch_string(ev->reminder_delivered->delivery_id);
        break;
    case MEDREP__EVENT__BODY_REMINDERS_DELIVERED:
        for (size_t i = 0; i < ev->reminders_delivered->n_deliveries; i++)
            walk_delivered(ev->reminders_delivered->deliveries[i]);
        break;
    case MEDREP__EVENT__BODY_PLAN_CHANGED:
        touch_string(ev->plan_changed->rep_id);
        touch_string(ev->plan_changed->period);
        touch_string(ev->plan_changed->reason);
        sink += (size_t)ev->plan_changed->calls_changed;
        break;
    case MEDREP__EVENT__BODY_INBOX_READ:
        touch_string(ev->inbox_read->person_id);
        sink += (size_t)ev->inbox_read->count;
        break;
    case MEDREP__EVENT__BODY_PROBE:
        touch_string(ev->probe->token);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_EVENT)
        return 0;
    Medrep__Event *ev = medrep__event__unpack(NULL, size, data);
    touch_string(mr_event_type_name(ev));   /* NULL is allowed: "unknown" */
    if (!ev)
        return 0;
    touch_string(ev->event_id);
    touch_string(ev->region);
    touch_string(ev->source);
    touch_string(ev->request_id);
    walk_body(ev);
    medrep__event__free_unpacked(ev, NULL);
    return 0;
}
