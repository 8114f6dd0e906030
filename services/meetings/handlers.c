/* handlers.c: the meetings service's method table, the read methods
 * (GetMeeting with KPIs and staff timing, ListMeetings, ExportIcal) and
 * the event handler that keeps our copy of customer segments. The write
 * methods live in propose.c, transition.c, guests.c and after.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "errors.h"
#include "masterdata.h"
#include "meetings.h"

int mt_method_propose(mr_call *call);
int mt_method_suggest(mr_call *call);
int mt_method_transition(mr_call *call);
int mt_method_invite(mr_call *call);
int mt_method_rsvp(mr_call *call);
int mt_method_check_deadlines(mr_call *call);
int mt_method_sign_in(mr_call *call);
int mt_method_checklist(mr_call *call);
int mt_method_attach_document(mr_call *call);
int mt_method_add_expense(mr_call *call);
int mt_method_reimburse(mr_call *call);
int mt_method_follow_up_done(mr_call *call);
int mt_method_evaluate(mr_call *call);

/* ---- GetMeeting ---- */

static int get_meeting(mr_call *call)
{
    Medrep__GetMeetingRequest *req = mr_call_decode(call, &medrep__get_meeting_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (mt_load_call(call, req->meeting_id, &m) == 0) {
        mt_settings s;
        mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
        mt_invitee items[MT_MAX_GUESTS];
        mt_guest_list g;
        mt_kpis k;
        mt_guests_load(m, items, &g);
        mt_kpis_compute(&g, &k);
        mt_staff_policy sp = {(int)mt_int(&s, "staff_small_limit", 10), (int)mt_int(&s, "staff_small_min", 2),
                              (int)mt_int(&s, "staff_small_max", 3), (int)mt_int(&s, "staff_large_min", 3),
                              (int)mt_int(&s, "staff_large_max", 5)};
        int lo, hi;
        mt_staff_range(&sp, k.attendees > k.expected ? k.attendees : k.expected, &lo, &hi);
        Medrep__GetMeetingReply r = MEDREP__GET_MEETING_REPLY__INIT;
        r.meeting = m;
        r.attendance_rate = k.attendance_rate, r.has_attendance_rate = true;
        r.attendee_accuracy = k.accuracy, r.has_attendee_accuracy = true;
        r.expected = k.expected, r.has_expected = true;
        r.attendees = k.attendees, r.has_attendees = true;
        r.expected_came = k.expected_came, r.has_expected_came = true;
        r.staff_min = lo, r.has_staff_min = true;
        r.staff_max = hi, r.has_staff_max = true;
        r.staff_call_ms = mt_call_time_ms(m->start_ms, (int)mt_int(&s, "staff_call_before_min", 60));
        r.has_staff_call_ms = true;
        r.setup_by_ms = mt_setup_by_ms(m->start_ms, (int)mt_int(&s, "setup_before_min", 10));
        r.has_setup_by_ms = true;
        mr_call_reply(call, &r.base);
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__get_meeting_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- ListMeetings ---- */

static int list_meetings(mr_call *call)
{
    Medrep__ListMeetingsRequest *req = mr_call_decode(call, &medrep__list_meetings_request__descriptor);
    if (!req)
        return call->code;
    char key[160], from[32], to[32];
    int limit = req->limit > 0 && req->limit <= 500 ? req->limit : 100;
    bool by_rep = req->rep_id && req->rep_id[0];
    if (by_rep && !mr_md_id_valid(req->rep_id)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "rep_id is not valid");
        goto done;
    }
    if (by_rep)
        mr_key(key, sizeof key, call->region, "meet:rep:%s", req->rep_id);
    else
        mr_key(key, sizeof key, call->region, "meet:all");
    snprintf(from, sizeof from, "%lld", (long long)req->from_ms);
    if (req->to_ms > 0)
        snprintf(to, sizeof to, "(%lld", (long long)req->to_ms);
    else
        snprintf(to, sizeof to, "+inf");
    mr_val *v = mr_store_cmd(call->store, "ZRANGEBYSCORE %s %s %s LIMIT 0 %d", key, from, to, limit * 4);
    if (!v || mr_val_type(v) == MR_VAL_ERROR) {
        mr_val_free(&v);
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        goto done;
    }
    size_t n = mr_val_count(v), k = 0;
    Medrep__Meeting **ms = calloc(n + 1, sizeof *ms);
    for (size_t i = 0; ms && i < n && k < (size_t)limit; i++) {
        const char *id = mr_val_str(mr_val_at(v, i), NULL);
        Medrep__Meeting *m = NULL;
        if (!id || mt_load(call->store, call->region, id, &m) != 1)
            continue;
        if (req->state && req->state[0] && strcmp(req->state, m->state) != 0)
            medrep__meeting__free_unpacked(m, NULL);
        else
            ms[k++] = m;
    }
    mr_val_free(&v);
    Medrep__ListMeetingsReply r = MEDREP__LIST_MEETINGS_REPLY__INIT;
    r.meetings = ms, r.n_meetings = k;
    if (ms)
        mr_call_reply(call, &r.base);
    else
        mr_call_fail(call, MR_INTERNAL, "out of memory");
    for (size_t i = 0; i < k; i++)
        medrep__meeting__free_unpacked(ms[i], NULL);
    free(ms);
done:
    medrep__list_meetings_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- ExportIcal ---- */

static int export_ical(mr_call *call)
{
    Medrep__ExportIcalRequest *req = mr_call_decode(call, &medrep__export_ical_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (mt_load_call(call, req->meeting_id, &m) == 0) {
        const mr_tz *tz = mt_region_tz(mr_service_state(call->svc), call->region);
        char *ics = mt_ical_export(m, tz ? mr_tz_name(tz) : "UTC", m->duration_min > 0 ? m->duration_min : 35);
        if (!ics) {
            mr_call_fail(call, MR_INTERNAL, "the iCalendar export failed");
        } else {
            Medrep__ExportIcalReply r = MEDREP__EXPORT_ICAL_REPLY__INIT;
            r.ics = ics;
            mr_call_reply(call, &r.base);
            free(ics);
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__export_ical_request__free_unpacked(req, NULL);
    return call->code;
}

const mr_method mt_methods[] = {
    {"ProposeMeeting", mt_method_propose},
    {"Suggest", mt_method_suggest},
    {"GetMeeting", get_meeting},
    {"ListMeetings", list_meetings},
    {"Transition", mt_method_transition},
    {"Invite", mt_method_invite},
    {"Rsvp", mt_method_rsvp},
    {"CheckDeadlines", mt_method_check_deadlines},
    {"SignIn", mt_method_sign_in},
    {"Checklist", mt_method_checklist},
    {"AttachDocument", mt_method_attach_document},
    {"AddExpense", mt_method_add_expense},
    {"Reimburse", mt_method_reimburse},
    {"FollowUpDone", mt_method_follow_up_done},
    {"ExportIcal", export_ical},
    {"Evaluate", mt_method_evaluate},
};
const size_t mt_method_count = sizeof mt_methods / sizeof mt_methods[0];

/* ---- Events ---- */

/* CallLogged: a call by the meeting's rep on an attendee after the
 * meeting does that attendee's follow-up. Returns 0, or -1 to retry. */
static int on_call_logged(mr_event_call *call, const Medrep__CallLogged *cl)
{
    if (!cl->customer_id || !cl->rep_id || !mr_md_id_valid(cl->customer_id) || !mr_md_id_valid(cl->rep_id))
        return 0;
    char key[200];
    if (mr_key(key, sizeof key, call->region, "meet:fu:%s", cl->customer_id) < 0)
        return 0;
    mr_val *v = mr_store_cmd(call->store, "SMEMBERS %s", key);
    if (!v || mr_val_type(v) == MR_VAL_ERROR) {
        mr_val_free(&v);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < mr_val_count(v) && rc == 0; i++) {
        const char *id = mr_val_str(mr_val_at(v, i), NULL);
        Medrep__Meeting *m = NULL;
        int got = id ? mt_load(call->store, call->region, id, &m) : 0;
        if (got < 0) {
            rc = -1;
            break;
        }
        bool same_rep = got == 1 && strcmp(m->rep_id, cl->rep_id) == 0 && cl->start_ms >= m->start_ms;
        for (size_t k = 0; same_rep && k < m->n_followups; k++) {
            Medrep__FollowUp *f = m->followups[k];
            if (strcmp(f->customer_id, cl->customer_id) != 0 || f->done_ms)
                continue;
            f->done_ms = cl->start_ms > 0 ? cl->start_ms : call->now_ms, f->has_done_ms = true;
            rc = mt_stage_save(call->tx, call->region, m, m->version) != 0 ||
                 mr_tx_addv(call->tx, "SREM", key, id, NULL) != 0 ? -1 : 0;
        }
        if (m)
            medrep__meeting__free_unpacked(m, NULL);
    }
    mr_val_free(&v);
    return rc;
}

/* CustomerRegraded: keep our own copy of the customer's segment per
 * product, under our keys, for invitation suggestions and backups.
 * CallLogged: follow-up calls done. */
int mt_on_event(mr_event_call *call)
{
    const Medrep__Event *ev = call->ev;
    if (ev->body_case == MEDREP__EVENT__BODY_CALL_LOGGED && ev->call_logged)
        return on_call_logged(call, ev->call_logged);
    if (ev->body_case != MEDREP__EVENT__BODY_CUSTOMER_REGRADED)
        return 0;
    const Medrep__CustomerRegraded *cr = ev->customer_regraded;
    if (!cr->customer_id || !cr->product_id || !mr_md_id_valid(cr->customer_id) || !mr_md_id_valid(cr->product_id))
        return 0;
    char key[160];
    if (mr_key(key, sizeof key, call->region, "meet:seg:%s", cr->product_id) < 0)
        return 0;
    if (cr->new_segment && cr->new_segment[0])
        return mr_tx_addv(call->tx, "HSET", key, cr->customer_id, cr->new_segment, NULL) ? -1 : 0;
    return mr_tx_addv(call->tx, "HDEL", key, cr->customer_id, NULL) ? -1 : 0;
}
