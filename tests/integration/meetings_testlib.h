/* meetings_testlib.h: what the meetings integration tests share (header
 * only, static): the stack with the meetings service, master data seeded
 * through common/masterdata.h, segments delivered as CustomerRegraded
 * events, typed calls with a caller, and reading the event stream. */
#ifndef MEDREP_MEETINGS_TESTLIB_H
#define MEDREP_MEETINGS_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calls.h"
#include "clock.h"
#include "errors.h"
#include "events.h"
#include "masterdata.h"
#include "meetings.pb-c.h"
#include "stack.h"
#include "store.h"

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

static h_stack mtl_stack;
static mr_client *mtl_client;
static mr_store *mtl_store;
static char mtl_msg[1024];

/* ---- Master data ---- */

static inline void mtl_customer(mr_tx *tx, const char *id, const char *hospital, const char *dept, bool prescriber,
                         const char *title, const char *setting, bool kol, const char *risk)
{
    mr_customer c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "Dr %s", id);
    c.kind = prescriber ? MR_CUSTOMER_PRESCRIBER : MR_CUSTOMER_NON_PRESCRIBER;
    snprintf(c.hospital_id, sizeof c.hospital_id, "%s", hospital);
    snprintf(c.department_id, sizeof c.department_id, "%s", dept);
    snprintf(c.rep_id, sizeof c.rep_id, "R1");
    if (prescriber) {
        snprintf(c.title, sizeof c.title, "%s", title);
        snprintf(c.setting, sizeof c.setting, "%s", setting);
    } else {
        snprintf(c.group, sizeof c.group, "%s", title);
    }
    c.kol = kol;
    snprintf(c.compliance_risk, sizeof c.compliance_risk, "%s", risk);
    mr_md_stage_customer(tx, "north", &c, NULL);
}

static inline void mtl_hospital(mr_tx *tx, const char *id, mr_listing listing, bool open, const char *dept)
{
    mr_hospital h;
    memset(&h, 0, sizeof h);
    snprintf(h.id, sizeof h.id, "%s", id);
    snprintf(h.name, sizeof h.name, "Hospital %s", id);
    h.tier = 3;
    mr_md_stage_hospital(tx, "north", &h);
    mr_md_stage_listing(tx, "north", id, "P1", listing, open);
    mr_department d;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "%s", dept);
    snprintf(d.hospital_id, sizeof d.hospital_id, "%s", id);
    snprintf(d.name, sizeof d.name, "Cardiology");
    snprintf(d.director_id, sizeof d.director_id, "DIR_%s", id);
    snprintf(d.meeting_moments, sizeof d.meeting_moments,
             "rounds_end mon-fri 10:00-10:30; handover mon-fri 07:45-08:15");
    mr_md_stage_department(tx, "north", &d, NULL);
    char ao[32], ai[32];
    snprintf(ao, sizeof ao, "AO_%s", id);
    snprintf(ai, sizeof ai, "AI_%s", id);
    mtl_customer(tx, ao, id, dept, true, "attending", "outpatient", false, "low");
    mtl_customer(tx, ai, id, dept, true, "associate_chief", "inpatient", false, "low");
}

static inline void mtl_segment_event(mr_tx *tx, const char *customer, const char *seg)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    Medrep__CustomerRegraded cr = MEDREP__CUSTOMER_REGRADED__INIT;
    char eid[40];
    snprintf(eid, sizeof eid, "seed-%s", customer);
    ev.event_id = eid;
    ev.region = "north";
    ev.occurred_ms = mr_now_ms(), ev.has_occurred_ms = true;
    cr.customer_id = (char *)customer;
    cr.product_id = "P1";
    cr.old_segment = "";
    cr.new_segment = (char *)seg;
    cr.rep_id = "R1";
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &cr;
    mr_events_stage(tx, &ev, 0);
}

/* H1 (listed, open) with D1 and the customers the tests use; H2 not
 * listed (D2); H3 listed with the channel blocked (D3). Segments of D1's
 * customers for P1 are announced as CustomerRegraded events. */
static inline int mtl_seed(void)
{
    mr_tx *tx = mr_tx_new();
    mr_product p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "P1");
    snprintf(p.name, sizeof p.name, "Cardiozol");
    mr_md_stage_product(tx, "north", &p);
    mr_rep r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "R1");
    snprintf(r.team, sizeof r.team, "CARD");
    snprintf(r.dm_id, sizeof r.dm_id, "DM1");
    mr_md_stage_rep(tx, "north", &r, NULL);
    mtl_hospital(tx, "H1", MR_LISTING_LISTED, true, "D1");
    mtl_hospital(tx, "H2", MR_LISTING_APPLIED, true, "D2");
    mtl_hospital(tx, "H3", MR_LISTING_LISTED, false, "D3");
    static const struct {
        const char *id, *seg, *title;
        bool kol;
        const char *risk;
    } docs[] = {
        {"C01", "A", "chief", true, "low"},         {"C02", "A", "associate_chief", false, "low"},
        {"C03", "A", "attending", false, "low"},    {"C04", "B", "attending", false, "low"},
        {"C05", "B", "attending", false, "medium"}, {"C06", "B", "resident", false, "low"},
        {"C07", "C", "attending", false, "low"},    {"C08", "D", "resident", false, "low"},
        {"RISKY", "A", "chief", true, "high"},      {"INT1", "B", "intern", false, "low"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        mtl_customer(tx, docs[i].id, "H1", "D1", true, docs[i].title, "inpatient", docs[i].kol, docs[i].risk);
        mtl_segment_event(tx, docs[i].id, docs[i].seg);
    }
    mtl_customer(tx, "N1", "H1", "D1", false, "head_nurse", "", false, "low");
    mtl_customer(tx, "W1", "H1", "D1", true, "resident", "outpatient", false, "low");
    mtl_customer(tx, "S1", "H1", "D1", true, "attending", "outpatient", false, "low");
    mr_tx_result rc = mr_tx_commit(mtl_store, tx, NULL, NULL, 0, 0, NULL);
    mr_tx_free(&tx);
    if (rc != MR_TX_COMMITTED)
        return -1;
    /* wait until the meetings service holds its copy of the segments */
    for (int i = 0; i < 200; i++) {
        if (h_redis_int(mtl_store, "HLEN %s", "{r:north}:meet:seg:P1") == 10)
            return 0;
        usleep(50000);
    }
    return -1;
}

static inline int mtl_start(const char *extra_config, const char *const *more_services)
{
    const char *regions[] = {"north", NULL};
    if (h_stack_start(&mtl_stack, 1, regions, extra_config) != 0)
        return -1;
    if (h_stack_start_service(&mtl_stack, "meetings", "meetings-a", NULL) < 0 ||
        h_stack_wait_workers(&mtl_stack, "meetings", 1, 10000) != 0)
        return -1;
    for (int i = 0; more_services && more_services[i]; i++) {
        char inst[64];
        snprintf(inst, sizeof inst, "%s-a", more_services[i]);
        if (h_stack_start_service(&mtl_stack, more_services[i], inst, NULL) < 0 ||
            h_stack_wait_workers(&mtl_stack, more_services[i], 1, 10000) != 0)
            return -1;
    }
    mtl_client = h_stack_client(&mtl_stack, 8, 5000);
    mtl_store = h_stack_store(&mtl_stack, 0);
    return mtl_seed();
}

static inline int mtl_stop(void)
{
    mr_client_free(&mtl_client);
    mr_store_free(&mtl_store);
    return h_stack_stop(&mtl_stack) == 0 ? 0 : -1;
}

/* ---- Calls ---- */

static inline int mtl_rpc_as(const char *user, const char *method, const ProtobufCMessage *in,
                      const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out)
{
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = (char *)user;
    ProtobufCMessage *tmp = NULL;
    mtl_msg[0] = 0;
    int code = mr_client_rpc(mtl_client, "meetings", method, "north", user ? &caller : NULL, in, out_desc,
                             out ? out : &tmp, 10000, mtl_msg, sizeof mtl_msg);
    if (tmp)
        protobuf_c_message_free_unpacked(tmp, NULL);
    if (getenv("MT_DEBUG"))
        fprintf(stderr, "%s as %s: %s %s\n", method, user ? user : "-", mr_code_name(code), mtl_msg);
    return code;
}

/* A proposal that meets every precondition at H1/D1. */
static inline void mtl_base_meeting(Medrep__Meeting *m, int64_t start_ms)
{
    static char *allies[] = {"AO_H1", "AI_H1"};
    medrep__meeting__init(m);
    m->kind = "in_department";
    m->hospital_id = "H1";
    m->department_id = "D1";
    m->product_id = "P1";
    m->rep_id = "R1";
    m->start_ms = start_ms, m->has_start_ms = true;
    m->place = "D1 meeting room";
    m->theme = "New indication of Cardiozol";
    m->purpose = "new_indication";
    m->audience = "prescribers";
    m->budget_cents = 100000, m->has_budget_cents = true;
    m->head_count = 10, m->has_head_count = true;
    m->gift_cents_per_attendee = 5000, m->has_gift_cents_per_attendee = true;
    m->director_agreed = true, m->has_director_agreed = true;
    m->ally_ids = allies, m->n_ally_ids = 2;
    static char *staff[] = {"ST1", "ST2"};
    m->staff_ids = staff, m->n_staff_ids = 2;
}

/* Proposes m as R1 with invitees (NULL-terminated "id" or "id>backup_for").
 * Returns the code; *id gets the meeting id on OK. */
static inline int mtl_propose(Medrep__Meeting *m, const char *const *invitees, bool suggest, char *id, size_t cap)
{
    Medrep__Invitee inv[32], *pinv[32];
    char backup[32][64];
    size_t n = 0;
    for (; invitees && invitees[n]; n++) {
        medrep__invitee__init(&inv[n]);
        snprintf(backup[n], sizeof backup[n], "%s", invitees[n]);
        char *gt = strchr(backup[n], '>');
        if (gt) {
            *gt = 0;
            inv[n].backup_for = gt + 1;
        }
        inv[n].customer_id = backup[n];
        pinv[n] = &inv[n];
    }
    m->invitees = pinv, m->n_invitees = n;
    Medrep__ProposeMeetingRequest req = MEDREP__PROPOSE_MEETING_REQUEST__INIT;
    req.meeting = m;
    req.suggest_invitations = suggest, req.has_suggest_invitations = true;
    ProtobufCMessage *out = NULL;
    int code = mtl_rpc_as("R1", "ProposeMeeting", &req.base, &medrep__propose_meeting_reply__descriptor, &out);
    m->invitees = NULL, m->n_invitees = 0;
    if (code == MR_OK && id)
        snprintf(id, cap, "%s", ((Medrep__ProposeMeetingReply *)out)->meeting_id);
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
    return code;
}

static inline int mtl_transition(const char *user, const char *id, const char *to, const char *comment)
{
    Medrep__TransitionRequest req = MEDREP__TRANSITION_REQUEST__INIT;
    req.meeting_id = (char *)id;
    req.to_state = (char *)to;
    req.comment = (char *)comment;
    return mtl_rpc_as(user, "Transition", &req.base, &medrep__transition_reply__descriptor, NULL);
}

/* GetMeeting; caller frees the reply. */
static inline Medrep__GetMeetingReply *mtl_get(const char *id)
{
    Medrep__GetMeetingRequest req = MEDREP__GET_MEETING_REQUEST__INIT;
    req.meeting_id = (char *)id;
    ProtobufCMessage *out = NULL;
    if (mtl_rpc_as("R1", "GetMeeting", &req.base, &medrep__get_meeting_reply__descriptor, &out) != MR_OK)
        return NULL;
    return (Medrep__GetMeetingReply *)out;
}

static inline void mtl_state_is(const char *id, const char *state)
{
    Medrep__GetMeetingReply *r = mtl_get(id);
    if (!r || strcmp(r->meeting->state, state) != 0)
        fprintf(stderr, "meeting %s: state %s, expected %s\n", id, r ? r->meeting->state : "?", state);
    int ok = r && strcmp(r->meeting->state, state) == 0;
    if (r)
        medrep__get_meeting_reply__free_unpacked(r, NULL);
    if (!ok)
        abort();
}

/* Submits and approves (DM1) a proposed meeting. */
static inline int mtl_approve(const char *id)
{
    int code = mtl_transition("R1", id, "pending_approval", NULL);
    return code == MR_OK ? mtl_transition("DM1", id, "approved", NULL) : code;
}

/* ---- Events ---- */

/* Calls fn for each event of the stream (decoded); returns the count fn accepted. */
static inline int mtl_count_events(int (*fn)(const Medrep__Event *ev, const void *arg), const void *arg)
{
    mr_val *v = mr_store_cmd(mtl_store, "XRANGE %s - +", "{r:north}:events");
    int n = 0;
    for (size_t i = 0; i < mr_val_count(v); i++) {
        const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
        for (size_t f = 0; f + 1 < mr_val_count(fields); f += 2) {
            const char *name = mr_val_str(mr_val_at(fields, f), NULL);
            size_t len;
            const char *data = mr_val_str(mr_val_at(fields, f + 1), &len);
            if (!name || strcmp(name, "ev") != 0 || !data)
                continue;
            Medrep__Event *ev = medrep__event__unpack(NULL, len, (const uint8_t *)data);
            if (ev) {
                n += fn(ev, arg);
                medrep__event__free_unpacked(ev, NULL);
            }
        }
    }
    mr_val_free(&v);
    return n;
}

#endif
