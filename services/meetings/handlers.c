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

/* A position in a meetings zset: score (start_ms) then id, the order in
 * which ZRANGEBYSCORE returns members. The page token is "<start>:<id>". */
typedef struct {
    long long score;
    char id[MR_ID_MAX];
} list_pos;

static int pos_cmp(long long score, const char *id, const list_pos *p)
{
    if (score != p->score)
        return score < p->score ? -1 : 1;
    return strcmp(id, p->id);
}

/* Parses a page token; false when it is malformed. */
static bool parse_page_token(const char *tok, list_pos *p)
{
    const char *colon = strchr(tok, ':');
    if (!colon || colon == tok || colon - tok > 19)   /* at most 18 digits: no overflow */
        return false;
    char num[24];
    memcpy(num, tok, (size_t)(colon - tok));
    num[colon - tok] = 0;
    for (const char *c = num[0] == '-' ? num + 1 : num; ; c++) {
        if (!*c)
            break;
        if (*c < '0' || *c > '9')
            return false;
    }
    if (!num[0] || (num[0] == '-' && !num[1]))
        return false;
    p->score = strtoll(num, NULL, 10);
    if (!mr_md_id_valid(colon + 1))
        return false;
    snprintf(p->id, sizeof p->id, "%s", colon + 1);
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks the zset from the page token on, in batches, keeping the meetings
 * that pass the filters, up to `limit`, then looks ahead (within the scan
 * budget) for one more to decide whether there is a next page. Every
 * entry examined moves the cursor, so nothing is returned twice; entries
 * added behind the cursor meanwhile are left to a fresh listing. */
static int list_meetings(mr_call *call)
{
    Medrep__ListMeetingsRequest *req = mr_call_decode(call, &medrep__list_meetings_request__descriptor);
    if (!req)
        return call->code;
    char key[160], from[32], to[32], next_tok[128] = "";
    int limit = req->limit > 0 && req->limit <= 500 ? req->limit : 100;
    bool by_rep = req->rep_id && req->rep_id[0];
    bool by_team = req->team && req->team[0];
    bool by_state = req->state && req->state[0];
    list_pos cur = {0, ""};
    bool have_cur = req->page_token && req->page_token[0];
    char **team_reps = NULL;
    long n_team = 0;
    Medrep__Meeting **ms = NULL;
    size_t k = 0;
    if (by_rep && !mr_md_id_valid(req->rep_id)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "rep_id is not valid");
        goto done;
    }
    if (by_team && !mr_md_id_valid(req->team)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "team is not valid");
        goto done;
    }
    if (have_cur && !parse_page_token(req->page_token, &cur)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "page_token is not valid (pass a next_page_token back unchanged)");
        goto done;
    }
    ms = calloc((size_t)limit + 1, sizeof *ms);
    if (!ms) {
        mr_call_fail(call, MR_INTERNAL, "out of memory");
        goto done;
    }
    if (by_team) {
        char idx[160];
        if (mr_md_index(idx, sizeof idx, "team", req->team, "reps") < 0) {
            mr_call_fail(call, MR_INVALID_ARGUMENT, "team is not valid");
            goto done;
        }
        n_team = mr_md_list(call->store, call->region, idx, &team_reps);
        if (n_team < 0) {
            team_reps = NULL;
            mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
            goto done;
        }
        if (n_team > 1)
            qsort(team_reps, (size_t)n_team, sizeof *team_reps, cmp_str);
        if (by_rep && !(n_team > 0 && bsearch(&req->rep_id, team_reps, (size_t)n_team, sizeof *team_reps,
                                               cmp_str)))
            goto reply;   /* the rep is not on the team: none */
        if (n_team == 0)
            goto reply;
    }
    if (by_rep)
        mr_key(key, sizeof key, call->region, "meet:rep:%s", req->rep_id);
    else
        mr_key(key, sizeof key, call->region, "meet:all");
    long long lo = req->from_ms;
    if (have_cur && cur.score > lo)
        lo = cur.score;
    snprintf(from, sizeof from, "%lld", lo);
    if (req->to_ms > 0)
        snprintf(to, sizeof to, "(%lld", (long long)req->to_ms);
    else
        snprintf(to, sizeof to, "+inf");
    const long batch = limit < 50 ? 50 : limit;
    const long budget = (long)limit * 20 > 2000 ? (long)limit * 20 : 2000;   /* entries examined per call */
    long offset = 0, examined = 0;
    bool more = false, full = false, exhausted = false;
    list_pos last_kept = {0, ""};
    while (!exhausted && !more && examined < budget) {
        mr_val *v = mr_store_cmd(call->store, "ZRANGEBYSCORE %s %s %s WITHSCORES LIMIT %ld %ld", key, from, to,
                                 offset, batch);
        if (!v || mr_val_type(v) == MR_VAL_ERROR) {
            mr_val_free(&v);
            mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
            goto done;
        }
        size_t n = mr_val_count(v) / 2;
        offset += (long)n;
        size_t i = 0;
        for (; i < n && !more && examined < budget; i++) {
            const char *id = mr_val_str(mr_val_at(v, 2 * i), NULL);
            const char *sc = mr_val_str(mr_val_at(v, 2 * i + 1), NULL);
            if (!id || !sc || strlen(id) >= MR_ID_MAX)
                continue;
            long long score = strtoll(sc, NULL, 10);
            if (have_cur && pos_cmp(score, id, &cur) <= 0)
                continue;   /* at or before the cursor: already seen */
            examined++;
            cur.score = score, have_cur = true;
            snprintf(cur.id, sizeof cur.id, "%s", id);
            Medrep__Meeting *m = NULL;
            if (mt_load(call->store, call->region, id, &m) != 1)
                continue;
            bool keep = !(by_state && strcmp(req->state, m->state ? m->state : "") != 0);
            if (keep && by_team && !by_rep) {
                const char *rep = m->rep_id ? m->rep_id : "";
                keep = bsearch(&rep, team_reps, (size_t)n_team, sizeof *team_reps, cmp_str) != NULL;
            }
            if (keep && full) {
                more = true;   /* one more exists: there is a next page */
            } else if (keep) {
                ms[k++] = m, m = NULL;
                last_kept = cur;
                full = k == (size_t)limit;
            }
            if (m)
                medrep__meeting__free_unpacked(m, NULL);
        }
        exhausted = i == n && n < (size_t)batch;   /* every entry up to the end was seen */
        mr_val_free(&v);
    }
    if (more)
        snprintf(next_tok, sizeof next_tok, "%lld:%s", last_kept.score, last_kept.id);
    else if (!exhausted && !full)   /* the budget ran out: go on from the last examined */
        snprintf(next_tok, sizeof next_tok, "%lld:%s", cur.score, cur.id);
    else if (!exhausted && full && k > 0)   /* budget ran out while looking ahead */
        snprintf(next_tok, sizeof next_tok, "%lld:%s", last_kept.score, last_kept.id);
reply:;
    Medrep__ListMeetingsReply r = MEDREP__LIST_MEETINGS_REPLY__INIT;
    r.meetings = ms, r.n_meetings = k;
    r.next_page_token = next_tok;
    mr_call_reply(call, &r.base);
done:
    for (size_t i = 0; i < k; i++)
        medrep__meeting__free_unpacked(ms[i], NULL);
    free(ms);
    if (team_reps)
        mr_md_free_ids(team_reps, n_team);
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
    {"ProposeMeeting", mt_method_propose, false},
    {"Suggest", mt_method_suggest, true},
    {"GetMeeting", get_meeting, true},
    {"ListMeetings", list_meetings, true},
    {"Transition", mt_method_transition, false},
    {"Invite", mt_method_invite, false},
    {"Rsvp", mt_method_rsvp, false},
    {"CheckDeadlines", mt_method_check_deadlines, false},
    {"SignIn", mt_method_sign_in, false},
    {"Checklist", mt_method_checklist, false},
    {"AttachDocument", mt_method_attach_document, false},
    {"AddExpense", mt_method_add_expense, false},
    {"Reimburse", mt_method_reimburse, false},
    {"FollowUpDone", mt_method_follow_up_done, false},
    {"ExportIcal", export_ical, true},
    {"Evaluate", mt_method_evaluate, false},
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
        bool changed = false;
        for (size_t k = 0; same_rep && k < m->n_followups; k++) {
            Medrep__FollowUp *f = m->followups[k];
            if (strcmp(f->customer_id, cl->customer_id) != 0 || f->done_ms)
                continue;
            f->done_ms = cl->start_ms > 0 ? cl->start_ms : call->now_ms, f->has_done_ms = true;
            changed = true;
        }
        /* one save per meeting: a second would expect the version the first sets */
        if (changed)
            rc = mt_stage_save(call->tx, call->region, m, m->version) != 0 ||
                 mr_tx_addv(call->tx, "SREM", key, id, NULL) != 0 ? -1 : 0;
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
