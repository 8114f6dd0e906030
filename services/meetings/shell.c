/* shell.c: helpers the meetings handlers share: the actor, loading a
 * meeting for a call, the guest list between protobuf and the core,
 * history entries, the MeetingChanged event, and save-and-reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "masterdata.h"
#include "meetings.h"

const char *mt_actor(mr_call *call)
{
    const Medrep__Caller *c = call->req->caller;
    if (c && c->user_id && c->user_id[0] && strlen(c->user_id) < 64)
        return c->user_id;
    mr_call_fail(call, MR_INVALID_ARGUMENT, "the caller's user_id is required");
    return NULL;
}

int mt_load_call(mr_call *call, const char *id, Medrep__Meeting **m)
{
    if (!id || !mr_md_id_valid(id))
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "a valid meeting_id is required"), -1;
    int rc = mt_load(call->store, call->region, id, m);
    if (rc < 0)
        return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store)), -1;
    if (rc == 0)
        return mr_call_fail(call, MR_NOT_FOUND, "no meeting %s", id), -1;
    return 0;
}

int mt_set_str(char **field, const char *v)
{
    char *copy = strdup(v ? v : "");
    if (!copy)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

void mt_guests_load(const Medrep__Meeting *m, mt_invitee *items, mt_guest_list *g)
{
    *g = (mt_guest_list){items, 0, MT_MAX_GUESTS};
    for (size_t i = 0; i < m->n_invitees && g->count < g->cap; i++) {
        const Medrep__Invitee *p = m->invitees[i];
        mt_invitee *v = &items[g->count++];
        memset(v, 0, sizeof *v);
        snprintf(v->customer_id, sizeof v->customer_id, "%s", p->customer_id ? p->customer_id : "");
        snprintf(v->segment, sizeof v->segment, "%s", p->segment ? p->segment : "");
        snprintf(v->title, sizeof v->title, "%s", p->title ? p->title : "");
        snprintf(v->backup_for, sizeof v->backup_for, "%s", p->backup_for ? p->backup_for : "");
        snprintf(v->substitute_for, sizeof v->substitute_for, "%s", p->substitute_for ? p->substitute_for : "");
        int r = mt_rsvp_parse(p->rsvp);
        v->rsvp = r < 0 ? MT_RSVP_PENDING : (mt_rsvp)r;
        int s = mt_inv_status_parse(p->status);
        v->status = s < 0 ? MT_INV_EXPECTED : (mt_inv_status)s;
        v->attended = p->attended;
        v->invited_ms = p->invited_ms;
    }
}

static Medrep__Invitee *invitee_new(const mt_invitee *v)
{
    Medrep__Invitee *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    medrep__invitee__init(p);
    int rc = mt_set_str(&p->customer_id, v->customer_id) | mt_set_str(&p->segment, v->segment) |
             mt_set_str(&p->title, v->title) | mt_set_str(&p->backup_for, v->backup_for) |
             mt_set_str(&p->substitute_for, v->substitute_for) |
             mt_set_str(&p->rsvp, mt_rsvp_name(v->rsvp)) |
             mt_set_str(&p->status, mt_inv_status_name(v->status));
    p->attended = v->attended, p->has_attended = true;
    p->invited_ms = v->invited_ms, p->has_invited_ms = true;
    if (rc) {
        protobuf_c_message_free_unpacked(&p->base, NULL);
        return NULL;
    }
    return p;
}

int mt_guests_store(Medrep__Meeting *m, const mt_guest_list *g)
{
    Medrep__Invitee **arr = calloc(g->count ? g->count : 1, sizeof *arr);
    if (!arr)
        return -1;
    for (size_t i = 0; i < g->count; i++) {
        arr[i] = invitee_new(&g->items[i]);
        if (!arr[i]) {
            for (size_t j = 0; j < i; j++)
                protobuf_c_message_free_unpacked(&arr[j]->base, NULL);
            free(arr);
            return -1;
        }
    }
    for (size_t i = 0; i < m->n_invitees; i++)
        protobuf_c_message_free_unpacked(&m->invitees[i]->base, NULL);
    free(m->invitees);
    m->invitees = arr;
    m->n_invitees = g->count;
    return 0;
}

int mt_history_add(Medrep__Meeting *m, const char *from, const char *to, const char *actor,
                   int64_t at_ms, const char *comment)
{
    Medrep__HistoryEntry *h = calloc(1, sizeof *h);
    Medrep__HistoryEntry **arr = realloc(m->history, (m->n_history + 1) * sizeof *arr);
    if (!h || !arr) {
        free(h);
        if (arr)
            m->history = arr;
        return -1;
    }
    m->history = arr;
    medrep__history_entry__init(h);
    int rc = mt_set_str(&h->from_state, from) | mt_set_str(&h->to_state, to) |
             mt_set_str(&h->actor_id, actor) | mt_set_str(&h->comment, comment);
    h->at_ms = at_ms, h->has_at_ms = true;
    m->history[m->n_history++] = h;
    return rc ? -1 : 0;
}

int mt_emit_changed(mr_call *call, const Medrep__Meeting *m, const char *from, const char *to,
                    const char *actor, const char *approver)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__MeetingChanged mc = MEDREP__MEETING_CHANGED__INIT;
    char *ids[MT_MAX_GUESTS];
    size_t n = 0;
    for (size_t i = 0; i < m->n_invitees && n < MT_MAX_GUESTS; i++)
        if (mt_invitee_counts(m->invitees[i]))
            ids[n++] = m->invitees[i]->customer_id;
    mc.meeting_id = m->meeting_id;
    mc.from_state = (char *)from;
    mc.to_state = (char *)to;
    mc.actor_id = (char *)actor;
    mc.start_ms = m->start_ms, mc.has_start_ms = true;
    mc.rep_id = m->rep_id;
    mc.invitee_ids = ids, mc.n_invitee_ids = n;
    mc.staff_ids = m->staff_ids, mc.n_staff_ids = m->n_staff_ids;
    mc.approver_id = (char *)(approver ? approver : m->approver_id);
    /* where, how long and what kind: scheduling makes the meeting a stop
     * in the rep's day from these, never from this service's record */
    mc.kind = m->kind;
    if (m->hospital_id && m->hospital_id[0] && (!m->kind || strcmp(m->kind, "out_of_department")))
        mc.hospital_id = m->hospital_id;
    if (m->has_duration_min && m->duration_min > 0)
        mc.duration_min = m->duration_min, mc.has_duration_min = true;
    ev.body_case = MEDREP__EVENT__BODY_MEETING_CHANGED;
    ev.meeting_changed = &mc;
    return mr_call_emit(call, &ev);
}

int mt_save(mr_call *call, Medrep__Meeting *m, int64_t base)
{
    if (mt_stage_save(call->tx, call->region, m, base) != 0)
        return mr_call_fail(call, MR_INTERNAL, "could not stage the meeting"), -1;
    return 0;
}

int mt_save_reply(mr_call *call, Medrep__Meeting *m, int64_t base)
{
    if (mt_save(call, m, base) != 0)
        return call->code;
    Medrep__MeetingReply r = MEDREP__MEETING_REPLY__INIT;
    r.meeting = m;
    return mr_call_reply(call, &r.base);
}

int mt_filed_in_advance(mr_call *call, const mt_settings *s, int64_t start_ms)
{
    long long lead = mt_int(s, "filing_lead_hours", 0);
    if (start_ms - call->now_ms >= lead * 3600000LL)
        return 0;
    return mr_call_fail(call, MR_FAILED_PRECONDITION, "a meeting is filed at least %lld hours before its start", lead),
           -1;
}
