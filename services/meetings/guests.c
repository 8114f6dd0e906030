/* guests.c: Invite, Rsvp, CheckDeadlines and SignIn (DOMAIN.md 4.5): the
 * guest list changes through the core (invitations.c) and every guest
 * invited after the list went out (a backup replacing a key guest who
 * declined or did not answer by the deadline) is announced with an
 * InvitationSent event. CheckDeadlines is meant to be called
 * periodically; it only looks at meetings whose deadline passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "lifecycle.h"
#include "masterdata.h"
#include "meetings.h"

static int emit_invitation(mr_call *call, const Medrep__Meeting *m, const mt_invitee *v, const char *reason)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__InvitationSent is = MEDREP__INVITATION_SENT__INIT;
    is.meeting_id = m->meeting_id;
    is.customer_id = (char *)v->customer_id;
    is.rep_id = m->rep_id;
    is.start_ms = m->start_ms, is.has_start_ms = true;
    is.backup_for = (char *)v->backup_for;
    is.reason = (char *)reason;
    ev.body_case = MEDREP__EVENT__BODY_INVITATION_SENT;
    ev.invitation_sent = &is;
    return mr_call_emit(call, &ev);
}

static void policy_for(const mt_settings *s, const Medrep__Meeting *m, mt_invite_policy *p)
{
    p->head_count_cap = m->head_count_cap;
    p->prescriber_only = m->has_prescriber_only ? m->prescriber_only : mt_bool(s, "prescriber_only", false);
    p->excluded_titles = mt_str(s, "prescriber_only_exclude");
    p->key_segments = mt_str(s, "key_segments");
}

static bool state_in(const Medrep__Meeting *m, const char *list) { return mt_in_list(list, m->state); }

/* ---- Invite ---- */

static int invite_all(mr_call *call, const Medrep__InviteRequest *req, Medrep__Meeting *m)
{
    if (!state_in(m, "proposed,pending_approval,approved,confirmed,invitations_out,rescheduled"))
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "meeting %s is %s: no more invitations", m->meeting_id, m->state);
    mt_settings s;
    mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
    mt_invite_policy pol;
    policy_for(&s, m, &pol);
    mt_invitee *items = calloc(MT_MAX_GUESTS, sizeof *items);
    mt_guest_list g;
    if (!items)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    mt_guests_load(m, items, &g);
    bool out = strcmp(m->state, "invitations_out") == 0;
    for (size_t i = 0; i < req->n_invitees; i++) {
        const Medrep__Invitee *p = req->invitees[i];
        mt_invitee v = {0};
        mr_customer cu;
        if (!p->customer_id || !mr_md_id_valid(p->customer_id) ||
            (p->backup_for && p->backup_for[0] && !mr_md_id_valid(p->backup_for))) {
            mr_call_fail(call, MR_INVALID_ARGUMENT, "invitee %zu needs a valid customer_id", i);
            break;
        }
        if (mr_md_get_customer(call->store, call->region, p->customer_id, &cu) != 1) {
            mr_call_fail(call, MR_NOT_FOUND, "invitee %s is not a known customer", p->customer_id);
            break;
        }
        snprintf(v.customer_id, sizeof v.customer_id, "%s", p->customer_id);
        snprintf(v.backup_for, sizeof v.backup_for, "%s", p->backup_for ? p->backup_for : "");
        snprintf(v.title, sizeof v.title, "%s", cu.kind == MR_CUSTOMER_PRESCRIBER ? cu.title : cu.group);
        mt_segment(call->store, call->region, m->product_id, v.customer_id, v.segment, sizeof v.segment);
        char why[256];
        if (mt_invite(&g, &pol, &v, call->now_ms, why, sizeof why) != 0) {
            mr_call_fail(call, MR_FAILED_PRECONDITION, "invitation refused: %s", why);
            break;
        }
        if (out && !v.backup_for[0] && emit_invitation(call, m, &g.items[g.count - 1], "added") != 0)
            break;
    }
    int64_t base = m->version;
    if (call->code == MR_OK && mt_guests_store(m, &g) != 0)
        mr_call_fail(call, MR_INTERNAL, "out of memory");
    free(items);
    return call->code == MR_OK ? mt_save_reply(call, m, base) : call->code;
}

static int invite(mr_call *call)
{
    Medrep__InviteRequest *req = mr_call_decode(call, &medrep__invite_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (req->n_invitees == 0 || req->n_invitees > MT_MAX_GUESTS)
        mr_call_fail(call, MR_INVALID_ARGUMENT, "1 to %d invitees are required", MT_MAX_GUESTS);
    else if (mt_load_call(call, req->meeting_id, &m) == 0)
        invite_all(call, req, m);
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__invite_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- Rsvp ---- */

static int answer(mr_call *call, const Medrep__RsvpRequest *req, Medrep__Meeting *m, mt_rsvp a)
{
    if (!state_in(m, "confirmed,invitations_out,in_progress"))
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "meeting %s is %s: no answers now", m->meeting_id, m->state);
    mt_invitee items[MT_MAX_GUESTS];
    mt_guest_list g;
    mt_guests_load(m, items, &g);
    int b = -1;
    if (mt_rsvp_answer(&g, req->customer_id, a, call->now_ms, &b) != 0)
        return mr_call_fail(call, MR_NOT_FOUND, "%s is not invited to %s", req->customer_id, m->meeting_id);
    if (b >= 0 && emit_invitation(call, m, &items[b], "declined") != 0)
        return call->code;
    int64_t base = m->version;
    if (mt_guests_store(m, &g) != 0)
        return mr_call_fail(call, MR_INTERNAL, "out of memory");
    if (mt_save(call, m, base) != 0)
        return call->code;
    Medrep__RsvpReply r = MEDREP__RSVP_REPLY__INIT;
    r.meeting = m;
    r.backup_invited = b >= 0 ? items[b].customer_id : NULL;
    return mr_call_reply(call, &r.base);
}

static int rsvp(mr_call *call)
{
    Medrep__RsvpRequest *req = mr_call_decode(call, &medrep__rsvp_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    int a = mt_rsvp_parse(req->answer);
    if ((a != MT_RSVP_ACCEPTED && a != MT_RSVP_DECLINED) || !req->customer_id || !mr_md_id_valid(req->customer_id))
        mr_call_fail(call, MR_INVALID_ARGUMENT, "customer_id and answer (accepted or declined) are required");
    else if (mt_load_call(call, req->meeting_id, &m) == 0)
        answer(call, req, m, (mt_rsvp)a);
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__rsvp_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- CheckDeadlines ---- */

/* Passes the deadline of one meeting: backups invited, events staged.
 * Returns the number of backups invited, or -1 (call failed). */
static int pass_one(mr_call *call, Medrep__Meeting *m)
{
    mt_settings s;
    mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
    mt_invite_policy pol;
    policy_for(&s, m, &pol);
    mt_invitee items[MT_MAX_GUESTS];
    mt_guest_list g;
    mt_guests_load(m, items, &g);
    int idx[MT_MAX_GUESTS], silent = 0;
    for (size_t i = 0; i < g.count; i++)
        silent += items[i].status == MT_INV_EXPECTED && items[i].rsvp == MT_RSVP_PENDING &&
                  mt_in_list(pol.key_segments, items[i].segment);
    if (silent == 0)
        return 0;   /* nothing changes: the meeting is not written */
    size_t n = mt_deadline_pass(&g, &pol, call->now_ms, idx, MT_MAX_GUESTS);
    for (size_t i = 0; i < n; i++)
        if (emit_invitation(call, m, &items[idx[i]], "no_answer") != 0)
            return -1;
    int64_t base = m->version;
    if (mt_guests_store(m, &g) != 0)
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    return mt_save(call, m, base) == 0 ? (int)n : -1;
}

static int check_deadlines(mr_call *call)
{
    char key[128], now[32];
    mr_key(key, sizeof key, call->region, "meet:deadlines");
    snprintf(now, sizeof now, "%lld", (long long)call->now_ms);
    mr_val *v = mr_store_cmd(call->store, "ZRANGEBYSCORE %s -inf %s LIMIT 0 100", key, now);
    if (!v || mr_val_type(v) == MR_VAL_ERROR) {
        mr_val_free(&v);
        return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    }
    int checked = 0, invited = 0;
    for (size_t i = 0; i < mr_val_count(v) && call->code == MR_OK; i++) {
        const char *id = mr_val_str(mr_val_at(v, i), NULL);
        Medrep__Meeting *m = NULL;
        if (!id || mt_load_call(call, id, &m) != 0)
            break;
        int n = strcmp(m->state, "invitations_out") == 0 ? pass_one(call, m) : 0;
        medrep__meeting__free_unpacked(m, NULL);
        if (n < 0 || mr_tx_addv(call->tx, "ZREM", key, id, NULL) != 0)
            break;
        checked++, invited += n;
    }
    mr_val_free(&v);
    if (call->code != MR_OK)
        return call->code;
    Medrep__CheckDeadlinesReply r = MEDREP__CHECK_DEADLINES_REPLY__INIT;
    r.meetings_checked = checked, r.has_meetings_checked = true;
    r.backups_invited = invited, r.has_backups_invited = true;
    return mr_call_reply(call, &r.base);
}

/* ---- SignIn ---- */

static int sign_in(mr_call *call)
{
    Medrep__SignInRequest *req = mr_call_decode(call, &medrep__sign_in_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (!req->customer_id || !mr_md_id_valid(req->customer_id) ||
        (req->substitute_for && req->substitute_for[0] && !mr_md_id_valid(req->substitute_for))) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "a valid customer_id is required");
    } else if (mt_load_call(call, req->meeting_id, &m) == 0) {
        if (strcmp(m->state, "in_progress") != 0) {
            mr_call_fail(call, MR_FAILED_PRECONDITION, "sign-in is open only while the meeting is in progress (it is %s)", m->state);
        } else {
            mt_invitee items[MT_MAX_GUESTS];
            mt_guest_list g;
            char seg[4];
            mt_guests_load(m, items, &g);
            mt_segment(call->store, call->region, m->product_id, req->customer_id, seg, sizeof seg);
            int64_t base = m->version;
            if (mt_sign_in(&g, req->customer_id, seg, req->substitute_for, call->now_ms) != 0)
                mr_call_fail(call, MR_FAILED_PRECONDITION, "sign-in refused: the list is full or %s is not invited",
                             req->substitute_for ? req->substitute_for : "the guest replaced");
            else if (mt_guests_store(m, &g) != 0)
                mr_call_fail(call, MR_INTERNAL, "out of memory");
            else
                mt_save_reply(call, m, base);
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__sign_in_request__free_unpacked(req, NULL);
    return call->code;
}

int mt_method_invite(mr_call *call) { return invite(call); }
int mt_method_rsvp(mr_call *call) { return rsvp(call); }
int mt_method_check_deadlines(mr_call *call) { return check_deadlines(call); }
int mt_method_sign_in(mr_call *call) { return sign_in(call); }
