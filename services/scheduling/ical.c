/* ical.c: a plan as iCalendar (RFC 5545) text through libical, so it
 * opens in any phone calendar. Times are written in UTC ("Z"), which
 * every calendar shows in its own local time; the region's zone is named
 * in X-WR-TIMEZONE for people. */
#include "scheduling_svc.h"

#include <libical/ical.h>
#include <stdio.h>
#include <string.h>

static struct icaltimetype utc_time(int64_t ms)
{
    return icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, icaltimezone_get_utc_timezone());
}

static icalcomponent *event_of(const sched_call *k, int64_t now_ms)
{
    char uid[256], summary[320], desc[256];
    snprintf(uid, sizeof uid, "%s@medrep", k->id);
    if (!strcmp(k->kind, "pim"))
        snprintf(summary, sizeof summary, "PIM at %s", k->hospital_name[0] ? k->hospital_name : k->hospital);
    else
        snprintf(summary, sizeof summary, "Call: %s%s%s%s", k->customer_name[0] ? k->customer_name : k->customer,
                 k->segment[0] ? " (" : "", k->segment, k->segment[0] ? ")" : "");
    snprintf(desc, sizeof desc, "state: %s; origin: %s%s", k->state, k->origin, k->pinned ? "; pinned" : "");
    icalcomponent *ev = icalcomponent_new_vevent();
    icalcomponent_add_property(ev, icalproperty_new_uid(uid));
    icalcomponent_add_property(ev, icalproperty_new_dtstamp(utc_time(now_ms)));
    icalcomponent_add_property(ev, icalproperty_new_dtstart(utc_time(k->start_ms)));
    icalcomponent_add_property(ev, icalproperty_new_dtend(utc_time(k->start_ms + (int64_t)k->duration * 60000)));
    icalcomponent_add_property(ev, icalproperty_new_summary(summary));
    icalcomponent_add_property(ev, icalproperty_new_description(desc));
    if (k->hospital_name[0] || k->hospital[0])
        icalcomponent_add_property(ev, icalproperty_new_location(k->hospital_name[0] ? k->hospital_name : k->hospital));
    icalcomponent_add_property(ev, icalproperty_new_status(!strcmp(k->state, "cancelled") ? ICAL_STATUS_CANCELLED
                                                                                       : ICAL_STATUS_CONFIRMED));
    return ev;
}

char *sched_ical(const sched_calls *calls, const char *tzname, int64_t now_ms)
{
    icalcomponent *cal = icalcomponent_new_vcalendar();
    if (!cal)
        return NULL;
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_prodid("-//medrep//scheduling//EN"));
    icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
    icalproperty *tz = icalproperty_new_x(tzname ? tzname : "UTC");
    icalproperty_set_x_name(tz, "X-WR-TIMEZONE");
    icalcomponent_add_property(cal, tz);
    for (int i = 0; i < calls->n; i++)
        icalcomponent_add_component(cal, event_of(&calls->v[i], now_ms));
    char *text = icalcomponent_as_ical_string_r(cal);   /* malloc'd: the caller frees */
    icalcomponent_free(cal);
    return text;
}
