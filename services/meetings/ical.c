/* ical.c: a meeting as an iCalendar invitation (RFC 5545, METHOD:REQUEST,
 * or CANCEL for a cancelled meeting) built with libical. Times are given
 * in UTC; the region's local time (from clock.h) goes in the description. */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "meetings.h"

static icalproperty *attendee(const char *customer, const char *partstat_name)
{
    char uri[128];
    snprintf(uri, sizeof uri, "urn:medrep:customer:%s", customer);
    icalproperty *p = icalproperty_new_attendee(uri);
    icalparameter_partstat ps = strcmp(partstat_name, "accepted") == 0   ? ICAL_PARTSTAT_ACCEPTED
                              : strcmp(partstat_name, "declined") == 0   ? ICAL_PARTSTAT_DECLINED
                              : ICAL_PARTSTAT_NEEDSACTION;
    icalproperty_add_parameter(p, icalparameter_new_partstat(ps));
    icalproperty_add_parameter(p, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
    icalproperty_add_parameter(p, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    return p;
}

static icalcomponent *event_of(const Medrep__Meeting *m, const char *tzname, int duration_min)
{
    icaltimezone *utc = icaltimezone_get_utc_timezone();
    time_t start = (time_t)(m->start_ms / 1000);
    char uid[128], org[128], desc[1024], local[64] = "";
    mr_tz *tz = mr_tz_load(tzname);
    if (tz) {
        mr_local_time lt;
        mr_tz_to_local(tz, start, &lt);
        snprintf(local, sizeof local, "%04d-%02d-%02d %02d:%02d %s", lt.year, lt.month, lt.day, lt.hour,
                 lt.minute, tzname);
        mr_tz_free(&tz);
    }
    snprintf(uid, sizeof uid, "%s@medrep", m->meeting_id);
    snprintf(org, sizeof org, "urn:medrep:rep:%s", m->rep_id ? m->rep_id : "");
    snprintf(desc, sizeof desc, "Purpose: %s\nAudience: %s\nLocal time: %s\nAgenda: %s",
             m->purpose ? m->purpose : "", m->audience ? m->audience : "", local, m->agenda ? m->agenda : "");
    bool cancelled = m->state && strcmp(m->state, "cancelled") == 0;
    icalcomponent *ev = icalcomponent_vanew(
        ICAL_VEVENT_COMPONENT, icalproperty_new_uid(uid),
        icalproperty_new_dtstamp(icaltime_from_timet_with_zone((time_t)(m->created_ms / 1000), 0, utc)),
        icalproperty_new_dtstart(icaltime_from_timet_with_zone(start, 0, utc)),
        icalproperty_new_dtend(icaltime_from_timet_with_zone(start + duration_min * 60, 0, utc)),
        icalproperty_new_summary(m->theme ? m->theme : "Department meeting"),
        icalproperty_new_location(m->place ? m->place : ""), icalproperty_new_description(desc),
        icalproperty_new_organizer(org), icalproperty_new_sequence((int)m->version),
        icalproperty_new_status(cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED), (void *)0);
    for (size_t i = 0; i < m->n_invitees; i++)
        if (mt_invitee_counts(m->invitees[i]))
            icalcomponent_add_property(ev, attendee(m->invitees[i]->customer_id,
                                                    m->invitees[i]->rsvp ? m->invitees[i]->rsvp : ""));
    return ev;
}

char *mt_ical_export(const Medrep__Meeting *m, const char *tzname, int duration_min)
{
    bool cancelled = m->state && strcmp(m->state, "cancelled") == 0;
    icalcomponent *cal = icalcomponent_vanew(
        ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
        icalproperty_new_prodid("-//medrep//meetings//EN"),
        icalproperty_new_method(cancelled ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST),
        event_of(m, tzname, duration_min), (void *)0);
    if (!cal)
        return NULL;
    char *text = icalcomponent_as_ical_string_r(cal);   /* malloc'd, ours */
    icalcomponent_free(cal);
    return text;
}
