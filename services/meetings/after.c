/* after.c: the checklist (checked the day before and on the day), the
 * documents and expenses, reimbursement (refused until every required
 * document is attached), and follow-ups marked done (DOMAIN.md 4.6-4.8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "compliance.h"
#include "errors.h"
#include "invitations.h"
#include "masterdata.h"
#include "meetings.h"

static bool valid_text(const char *s, size_t max) { return s && s[0] && strlen(s) <= max; }

/* Loads the request's meeting or fails; the caller frees *m when set. */
static int load(mr_call *call, const char *id, Medrep__Meeting **m, const char *states)
{
    if (mt_load_call(call, id, m) != 0)
        return -1;
    if (states && !mt_in_list(states, (*m)->state))
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "meeting %s is %s (allowed: %s)", id, (*m)->state, states), -1;
    return 0;
}

static int checklist(mr_call *call)
{
    Medrep__ChecklistRequest *req = mr_call_decode(call, &medrep__checklist_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    bool before = req->round && strcmp(req->round, "day_before") == 0;
    bool dayof = req->round && strcmp(req->round, "day_of") == 0;
    const char *actor = mt_actor(call);
    if (!actor) {
    } else if (!valid_text(req->item, 64) || (!before && !dayof)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "item and round (day_before or day_of) are required");
    } else if (load(call, req->meeting_id, &m, "approved,confirmed,invitations_out,in_progress") == 0) {
        Medrep__ChecklistItem *it = NULL;
        for (size_t i = 0; i < m->n_checklist; i++)
            if (strcmp(m->checklist[i]->name, req->item) == 0)
                it = m->checklist[i];
        if (!it) {
            mr_call_fail(call, MR_NOT_FOUND, "the checklist has no item '%s'", req->item);
        } else {
            int64_t base = m->version;
            if (before)
                it->day_before_ms = call->now_ms, it->has_day_before_ms = true;
            else
                it->day_of_ms = call->now_ms, it->has_day_of_ms = true;
            if (mt_set_str(&it->checked_by, actor) != 0)
                mr_call_fail(call, MR_INTERNAL, "out of memory");
            else
                mt_save_reply(call, m, base);
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__checklist_request__free_unpacked(req, NULL);
    return call->code;
}

static int attach_document(mr_call *call)
{
    Medrep__DocumentRequest *req = mr_call_decode(call, &medrep__document_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (!valid_text(req->document, 64) || strchr(req->document, ',')) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "a document name (no commas) is required");
    } else if (load(call, req->meeting_id, &m, NULL) == 0) {
        int64_t base = m->version;
        bool have = false;
        for (size_t i = 0; i < m->n_documents; i++)
            have |= strcmp(m->documents[i], req->document) == 0;
        char **arr = have ? m->documents : realloc(m->documents, (m->n_documents + 1) * sizeof *arr);
        if (!arr) {
            mr_call_fail(call, MR_INTERNAL, "out of memory");
        } else {
            m->documents = arr;
            if (!have)
                m->documents[m->n_documents++] = strdup(req->document);
            mt_save_reply(call, m, base);
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__document_request__free_unpacked(req, NULL);
    return call->code;
}

static int add_expense(mr_call *call)
{
    Medrep__ExpenseRequest *req = mr_call_decode(call, &medrep__expense_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    Medrep__Expense *e = req->expense;
    if (!e || !e->person_id || !mr_md_id_valid(e->person_id) || !valid_text(e->kind, 32) || e->cents <= 0) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "an expense needs person_id, kind and cents > 0");
    } else if (load(call, req->meeting_id, &m, NULL) == 0) {
        mt_settings s;
        mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
        int64_t base = m->version;
        if (mt_expense_check(call, &s, m, e) >= 0) {
            Medrep__Expense **arr = realloc(m->expenses, (m->n_expenses + 1) * sizeof *arr);
            if (arr) {
                m->expenses = arr;
                m->expenses[m->n_expenses++] = e;   /* moved from the request */
                req->expense = NULL;
                mt_save_reply(call, m, base);
            } else {
                mr_call_fail(call, MR_INTERNAL, "out of memory");
            }
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__expense_request__free_unpacked(req, NULL);
    return call->code;
}

static int reimburse(mr_call *call)
{
    Medrep__ReimburseRequest *req = mr_call_decode(call, &medrep__reimburse_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (load(call, req->meeting_id, &m, "held,summarised,closed") == 0) {
        mt_settings s;
        mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
        char attached[1024] = "", missing[512];
        for (size_t i = 0; i < m->n_documents; i++) {
            size_t used = strlen(attached);
            snprintf(attached + used, sizeof attached - used, "%s%s", i ? "," : "", m->documents[i]);
        }
        int64_t base = m->version;
        if (m->reimbursed)
            mr_call_fail(call, MR_ALREADY_EXISTS, "meeting %s is already reimbursed", m->meeting_id);
        else if (mt_documents_missing(mt_str(&s, "reimbursement_documents"), attached, missing, sizeof missing) > 0)
            mr_call_fail(call, MR_FAILED_PRECONDITION, "reimbursement refused: missing %s", missing);
        else {
            m->reimbursed = true, m->has_reimbursed = true;
            mt_save_reply(call, m, base);
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__reimburse_request__free_unpacked(req, NULL);
    return call->code;
}

static int follow_up_done(mr_call *call)
{
    Medrep__FollowUpDoneRequest *req = mr_call_decode(call, &medrep__follow_up_done_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    if (!req->customer_id || !mr_md_id_valid(req->customer_id)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "a valid customer_id is required");
    } else if (load(call, req->meeting_id, &m, "held,summarised") == 0) {
        Medrep__FollowUp *f = NULL;
        for (size_t i = 0; i < m->n_followups; i++)
            if (strcmp(m->followups[i]->customer_id, req->customer_id) == 0)
                f = m->followups[i];
        int64_t base = m->version;
        if (!f) {
            mr_call_fail(call, MR_NOT_FOUND, "meeting %s has no follow-up for %s", m->meeting_id, req->customer_id);
        } else {
            char key[200];
            if (!f->done_ms)
                f->done_ms = call->now_ms, f->has_done_ms = true;
            mr_key(key, sizeof key, call->region, "meet:fu:%s", req->customer_id);
            if (mr_tx_addv(call->tx, "SREM", key, m->meeting_id, NULL) != 0)
                mr_call_fail(call, MR_INTERNAL, "out of memory");
            else
                mt_save_reply(call, m, base);
        }
    }
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__follow_up_done_request__free_unpacked(req, NULL);
    return call->code;
}

/* Evaluate: the prescription part of the evaluation: attendees against
 * non-attendees of the same department, from the shares in rx. */
static int evaluate_with(mr_call *call, const mt_settings *s, const mt_rx_set *rx, Medrep__Meeting *m,
                         bool from_scoring)
{
    size_t n = rx->n;
    bool *came = calloc(n + 1, sizeof *came);
    int key = 0, attendees = 0, na = 0, nn = 0;
    for (size_t i = 0; came && i < n; i++)
        for (size_t k = 0; k < m->n_invitees; k++)
            came[i] |= m->invitees[k]->attended && strcmp(m->invitees[k]->customer_id, rx->ids[i]) == 0;
    for (size_t k = 0; k < m->n_invitees; k++) {
        attendees += m->invitees[k]->attended;
        key += m->invitees[k]->attended && mt_in_list(mt_str(s, "key_segments"), m->invitees[k]->segment);
    }
    double a = came ? mt_mean_change_points(rx->before, rx->after, came, n, true, &na) : 0;
    double b = came ? mt_mean_change_points(rx->before, rx->after, came, n, false, &nn) : 0;
    free(came);
    if (na == 0 || nn == 0)
        return mr_call_fail(call, from_scoring ? MR_FAILED_PRECONDITION : MR_INVALID_ARGUMENT,
                            "prescription data of attendees and of non-attendees are both needed (have %d and %d)",
                            na, nn);
    mr_listing listing;
    bool open = false;
    mr_md_get_listing(call->store, call->region, m->hospital_id, m->product_id, &listing, &open);
    int64_t base = m->version;
    m->evaluation_score = mt_evaluation_score(mt_double(s, "evaluation_hardware_weight", 0.2), open, key, attendees,
                                              true, a - b, mt_double(s, "evaluation_rx_full_points", 10));
    m->has_evaluation_score = true;
    if (mt_save(call, m, base) != 0)
        return call->code;
    Medrep__EvaluateReply r = MEDREP__EVALUATE_REPLY__INIT;
    r.meeting = m;
    r.attendee_change_points = a, r.has_attendee_change_points = true;
    r.non_attendee_change_points = b, r.has_non_attendee_change_points = true;
    r.evaluation_score = m->evaluation_score, r.has_evaluation_score = true;
    r.attendees_counted = na, r.has_attendees_counted = true;
    r.non_attendees_counted = nn, r.has_non_attendees_counted = true;
    return mr_call_reply(call, &r.base);
}

/* The shares given in the request as an mt_rx_set (ids copied). */
static int rx_of_request(const Medrep__EvaluateRequest *req, mt_rx_set *rx)
{
    size_t n = req->n_changes;
    rx->ids = calloc(n + 1, sizeof *rx->ids);
    rx->before = calloc(n + 1, sizeof *rx->before);
    rx->after = calloc(n + 1, sizeof *rx->after);
    if (!rx->ids || !rx->before || !rx->after)
        return mt_rx_set_free(rx), -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(rx->ids[i], sizeof rx->ids[i], "%s", req->changes[i]->customer_id);
        rx->before[i] = req->changes[i]->share_before, rx->after[i] = req->changes[i]->share_after;
    }
    rx->n = n;
    return 0;
}

static bool changes_valid(const Medrep__EvaluateRequest *req)
{
    if (req->from_scoring)
        return req->n_changes == 0;
    bool ok = req->n_changes > 0 && req->n_changes <= 10000;
    for (size_t i = 0; ok && i < req->n_changes; i++) {
        const Medrep__RxChange *c = req->changes[i];
        ok = c->customer_id && strlen(c->customer_id) < 64 && c->share_before >= 0 && c->share_before <= 1 &&
             c->share_after >= 0 && c->share_after <= 1;
    }
    return ok;
}

static int evaluate(mr_call *call)
{
    Medrep__EvaluateRequest *req = mr_call_decode(call, &medrep__evaluate_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = NULL;
    mt_rx_set rx = {0};
    if (!changes_valid(req)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "either from_scoring, or 1 to 10000 changes with customer_id and "
                     "shares in 0..1, are needed");
    } else if (load(call, req->meeting_id, &m, "held,summarised,closed") == 0) {
        mt_settings s;
        mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
        int rc = req->from_scoring ? mt_rx_from_scoring(call, &s, m, &rx)
                                   : (rx_of_request(req, &rx) ? mr_call_fail(call, MR_INTERNAL, "out of memory") : 0);
        if (rc == 0)
            evaluate_with(call, &s, &rx, m, req->from_scoring);
    }
    mt_rx_set_free(&rx);
    if (m)
        medrep__meeting__free_unpacked(m, NULL);
    medrep__evaluate_request__free_unpacked(req, NULL);
    return call->code;
}

int mt_method_evaluate(mr_call *call) { return evaluate(call); }
int mt_method_checklist(mr_call *call) { return checklist(call); }
int mt_method_attach_document(mr_call *call) { return attach_document(call); }
int mt_method_add_expense(mr_call *call) { return add_expense(call); }
int mt_method_reimburse(mr_call *call) { return reimburse(call); }
int mt_method_follow_up_done(mr_call *call) { return follow_up_done(call); }
