/* propose.c: ProposeMeeting and Suggest (DOMAIN.md 4.2, 4.3): the
 * preconditions, each failure named; the invitation list from the
 * department's key-segment customers with backups; speaker candidates
 * without the compliance-risk flag; the best slots from the department's
 * meeting moments, without those clashing with the rep's or the staff's
 * other committed meetings; approval routing (a second approver over a
 * budget threshold); the checklist and agenda from the template. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "errors.h"
#include "masterdata.h"
#include "meetings.h"

#define MAX_CANDS 512

static const char *const KINDS = "in_department,out_of_department,pim";

/* ---- Candidates of a department ---- */

/* Reads the department's customers with our copy of their segments.
 * Returns the count (cands owned by the caller), -1 on Redis failure. */
static long load_candidates(mr_call *call, const char *dept, const char *product, mt_candidate **out)
{
    char index[160], **ids = NULL;
    *out = NULL;
    if (mr_md_index(index, sizeof index, "dept", dept, "customers") < 0)
        return -1;
    long n = mr_md_list(call->store, call->region, index, &ids);
    if (n < 0)
        return -1;
    size_t k = (size_t)(n > MAX_CANDS ? MAX_CANDS : n);
    mt_candidate *c = calloc(k + 1, sizeof *c);
    mr_customer *cu = calloc(k + 1, sizeof *cu);
    char (*segs)[4] = calloc(k + 1, sizeof *segs);
    int *found = calloc(k + 1, sizeof *found);
    long got = -1;
    if (c && cu && segs && found && mt_customers_read(call->store, call->region, product, ids, k, cu, segs, found) == 0) {
        got = 0;
        for (size_t i = 0; i < k; i++) {
            if (!found[i])
                continue;
            mt_candidate *x = &c[got++];
            snprintf(x->customer_id, sizeof x->customer_id, "%s", cu[i].id);
            snprintf(x->segment, sizeof x->segment, "%s", segs[i]);
            snprintf(x->title, sizeof x->title, "%s", cu[i].kind == MR_CUSTOMER_PRESCRIBER ? cu[i].title : cu[i].group);
            x->prescriber = cu[i].kind == MR_CUSTOMER_PRESCRIBER;
            x->kol = cu[i].kol;
            snprintf(x->compliance_risk, sizeof x->compliance_risk, "%s", cu[i].compliance_risk);
        }
    }
    mr_md_free_ids(ids, n);
    free(cu), free(segs), free(found);
    if (got < 0)
        free(c), c = NULL;
    *out = c;
    return got;
}

static void policy_of(const mt_settings *s, const Medrep__Meeting *m, mt_invite_policy *p)
{
    p->head_count_cap = m && m->head_count_cap > 0 ? m->head_count_cap : (int)mt_int(s, "head_count_cap", 0);
    p->prescriber_only = m && m->has_prescriber_only ? m->prescriber_only : mt_bool(s, "prescriber_only", false);
    p->excluded_titles = mt_str(s, "prescriber_only_exclude");
    p->key_segments = mt_str(s, "key_segments");
}

/* ---- Slots from the department's meeting moments ---- */

static int weekday_index(const char *d)
{
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (int i = 0; i < 7; i++)
        if (strncmp(d, names[i], 3) == 0)
            return i;
    return -1;
}

/* True when weekday wd is in a spec like "mon-fri" or "mon,wed". */
static bool days_match(const char *spec, int wd)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int a = weekday_index(tok), b = a;
        char *dash = strchr(tok, '-');
        if (dash)
            b = weekday_index(dash + 1);
        if (a < 0 || b < 0)
            continue;
        if (a <= b ? (wd >= a && wd <= b) : (wd >= a || wd <= b))
            return true;
    }
    return false;
}

typedef struct {
    int64_t start_ms;
    int64_t day;           /* local day number */
    int rank;
    char name[32];
} slot;

static int slot_cmp(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->rank != y->rank ? x->rank - y->rank : (x->start_ms < y->start_ms ? -1 : 1);
}

/* Fills up to cap slots: each moment on each day of the window, earliest
 * day first, and within a day by the configured preference. */
static size_t find_slots(const mt_settings *s, const mr_tz *tz, const char *moments,
                         int64_t from_ms, int days, slot *out, size_t cap)
{
    size_t n = 0;
    const char *pref = mt_str(s, "slot_preference");
    mr_local_time lt;
    mr_tz_to_local(tz, from_ms / 1000, &lt);
    int64_t day0 = mr_days_from_civil(lt.year, lt.month, lt.day);
    for (int d = 0; d < days; d++) {
        int y, mo, dd;
        mr_civil_from_days(day0 + d, &y, &mo, &dd);
        int wd = mr_weekday_from_days(day0 + d);
        char buf[256];
        snprintf(buf, sizeof buf, "%s", moments);
        char *save = NULL;
        for (char *item = strtok_r(buf, ";", &save); item && n < cap; item = strtok_r(NULL, ";", &save)) {
            char name[32], dayspec[64];
            int h, mi;
            if (sscanf(item, " %31s %63s %d:%d", name, dayspec, &h, &mi) != 4 || !days_match(dayspec, wd))
                continue;
            int64_t start = mr_tz_from_local(tz, y, mo, dd, h, mi, 0) * 1000;
            if (start < from_ms)
                continue;
            /* earlier in slot_preference ranks better; unlisted moments last */
            const char *at = mt_in_list(pref, name) ? strstr(pref, name) : NULL;
            int rank = at ? (int)(at - pref) : 9999;
            out[n] = (slot){start, day0 + d, rank, ""};
            snprintf(out[n].name, sizeof out[n].name, "%s", name);
            n++;
        }
    }
    qsort(out, n, sizeof *out, slot_cmp);
    return n;
}

/* Drops the slots that clash with a committed meeting of the person
 * (zkey index): one starting within `busy_ms` before or after. Returns
 * the new count, or -1 when Redis failed. */
static long drop_clashes(mr_call *call, const mt_settings *s, const char *zkey, slot *slots, size_t n)
{
    int64_t busy = (mt_int(s, "staff_call_before_min", 60) + mt_int(s, "agenda_total_min", 35)) * 60000LL;
    if (n == 0)
        return 0;
    int64_t lo = slots[0].start_ms, hi = slots[0].start_ms;
    for (size_t i = 1; i < n; i++) {
        lo = slots[i].start_ms < lo ? slots[i].start_ms : lo;
        hi = slots[i].start_ms > hi ? slots[i].start_ms : hi;
    }
    mt_indexed *items = NULL;
    long k = mt_index_read(call->store, call->region, zkey, lo - busy, hi + busy, &items);
    if (k < 0)
        return -1;
    const char *committed = mt_str(s, "slot_blocking_states");
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool clash = false;
        for (long j = 0; j < k && !clash; j++)
            clash = mt_in_list(committed, items[j].state) && items[j].start_ms > slots[i].start_ms - busy &&
                    items[j].start_ms < slots[i].start_ms + busy;
        if (!clash)
            slots[kept++] = slots[i];
    }
    free(items);
    return (long)kept;
}

/* Drops the slots whose time (staff call to the agenda's end) overlaps
 * one of the rep's fixed appointments in scheduling. Returns the new
 * count, or -1 (call failed). */
static long drop_fixed_calls(mr_call *call, const mt_settings *s, const char *rep, slot *slots, size_t n)
{
    if (n == 0 || !mt_bool(s, "slot_rep_plan", true))
        return (long)n;
    int64_t before = mt_int(s, "staff_call_before_min", 60) * 60000LL, len = mt_int(s, "agenda_total_min", 35) * 60000LL;
    int64_t lo = slots[0].start_ms, hi = slots[0].start_ms;
    for (size_t i = 1; i < n; i++) {
        lo = slots[i].start_ms < lo ? slots[i].start_ms : lo;
        hi = slots[i].start_ms > hi ? slots[i].start_ms : hi;
    }
    mt_busy *busy = NULL;
    long nb = mt_rep_fixed_calls(call, s, rep, lo - before, hi + len, &busy);
    if (nb < 0)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool clash = false;
        for (long j = 0; j < nb && !clash; j++)
            clash = busy[j].start_ms < slots[i].start_ms + len && busy[j].end_ms > slots[i].start_ms - before;
        if (!clash)
            slots[kept++] = slots[i];
    }
    free(busy);
    return (long)kept;
}

/* Slots that fit the rep's and the staff's other meetings, and the rep's
 * fixed appointments in scheduling. */
static long fitting_slots(mr_call *call, const mt_settings *s, const Medrep__SuggestRequest *req, slot *slots,
                          size_t n)
{
    char zkey[160];
    long kept = (long)n;
    if (req->rep_id && mr_md_id_valid(req->rep_id)) {
        snprintf(zkey, sizeof zkey, "meet:rep:%s", req->rep_id);
        kept = drop_clashes(call, s, zkey, slots, (size_t)kept);
        if (kept >= 0)
            kept = drop_fixed_calls(call, s, req->rep_id, slots, (size_t)kept);
    }
    for (size_t i = 0; i < req->n_staff_ids && kept >= 0; i++) {
        if (!mr_md_id_valid(req->staff_ids[i]))
            continue;
        snprintf(zkey, sizeof zkey, "meet:staff:%s", req->staff_ids[i]);
        kept = drop_clashes(call, s, zkey, slots, (size_t)kept);
    }
    return kept;
}

/* ---- Suggest ---- */

static int suggest(mr_call *call)
{
    Medrep__SuggestRequest *req = mr_call_decode(call, &medrep__suggest_request__descriptor);
    if (!req)
        return call->code;
    mt_candidate *cands = NULL;
    mr_department dept;
    if (!req->department_id || !mr_md_id_valid(req->department_id) || !req->product_id ||
        !mr_md_id_valid(req->product_id)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "department_id and product_id are required");
        goto done;
    }
    int rc = mr_md_get_department(call->store, call->region, req->department_id, &dept);
    if (rc != 1) {
        mr_call_fail(call, rc < 0 ? MR_UNAVAILABLE : MR_NOT_FOUND, "department %s %s", req->department_id,
                     rc < 0 ? "could not be read" : "is unknown");
        goto done;
    }
    mt_settings s;
    mt_settings_init(&s, mr_service_state(call->svc), call->region, req->kind, req->product_id);
    Medrep__Meeting probe = MEDREP__MEETING__INIT;
    probe.prescriber_only = req->prescriber_only, probe.has_prescriber_only = req->has_prescriber_only;
    mt_invite_policy pol;
    policy_of(&s, &probe, &pol);
    long n = load_candidates(call, req->department_id, req->product_id, &cands);
    if (n < 0) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable");
        goto done;
    }
    mt_invitee guests[MT_MAX_GUESTS];
    size_t ng = mt_suggest_guests(cands, (size_t)n, &pol, guests, MT_MAX_GUESTS);
    int spk[64];
    size_t ns = mt_suggest_speakers(cands, (size_t)n, mt_str(&s, "speaker_excluded_risk"),
                                    mt_str(&s, "speaker_title_order"), spk, 64);
    slot slots[64];
    const mr_tz *tz = mt_region_tz(mr_service_state(call->svc), call->region);
    int days = req->days > 0 && req->days <= 60 ? req->days : (int)mt_int(&s, "slot_days", 14);
    size_t nsl = find_slots(&s, tz, dept.meeting_moments, req->from_ms > 0 ? req->from_ms : call->now_ms,
                            days, slots, 64);
    long fit = fitting_slots(call, &s, req, slots, nsl);
    if (fit < 0) {
        if (call->code == MR_OK)
            mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
        goto done;
    }
    nsl = (size_t)fit;
    Medrep__SuggestReply reply = MEDREP__SUGGEST_REPLY__INIT;
    Medrep__Meeting holder = MEDREP__MEETING__INIT;
    mt_guest_list gl = {guests, ng, MT_MAX_GUESTS};
    char *spk_ids[64], *slot_names[64];
    int64_t slot_starts[64];
    if (mt_guests_store(&holder, &gl) != 0) {
        mr_call_fail(call, MR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ns; i++)
        spk_ids[i] = cands[spk[i]].customer_id;
    for (size_t i = 0; i < nsl; i++)
        slot_starts[i] = slots[i].start_ms, slot_names[i] = slots[i].name;
    reply.invitees = holder.invitees, reply.n_invitees = holder.n_invitees;
    reply.speaker_ids = spk_ids, reply.n_speaker_ids = ns;
    reply.slot_start_ms = slot_starts, reply.n_slot_start_ms = nsl;
    reply.slot_names = slot_names, reply.n_slot_names = nsl;
    mr_call_reply(call, &reply.base);
    for (size_t i = 0; i < holder.n_invitees; i++)
        protobuf_c_message_free_unpacked(&holder.invitees[i]->base, NULL);
    free(holder.invitees);
done:
    free(cands);
    medrep__suggest_request__free_unpacked(req, NULL);
    return call->code;
}

/* ---- Preconditions ---- */

static bool ally_in(mr_call *call, const Medrep__Meeting *m, const mr_department *d,
                    const char *setting, const char *titles)
{
    for (size_t i = 0; i < m->n_ally_ids; i++) {
        mr_customer c;
        if (!mr_md_id_valid(m->ally_ids[i]) ||
            mr_md_get_customer(call->store, call->region, m->ally_ids[i], &c) != 1)
            continue;
        if (c.kind == MR_CUSTOMER_PRESCRIBER && strcmp(c.hospital_id, d->hospital_id) == 0 &&
            strcmp(c.setting, setting) == 0 && mt_in_list(titles, c.title))
            return true;
    }
    return false;
}

/* Writes the names of the failed preconditions (comma list) into why. */
static int check_preconditions(mr_call *call, const mt_settings *s, const Medrep__Meeting *m,
                               const mr_department *d, char *why, size_t cap)
{
    const char *list = mt_str(s, "preconditions");
    mr_listing listing = MR_LISTING_NOT_LISTED;
    bool open = false;
    if (mr_md_get_listing(call->store, call->region, m->hospital_id, m->product_id, &listing, &open) < 0)
        return -1;
    struct {
        const char *name;
        bool ok;
    } checks[] = {
        {"listed", listing == MR_LISTING_LISTED},
        {"channel_open", open},
        {"director_agreed", m->director_agreed && d->director_id[0]},
        {"outpatient_ally", ally_in(call, m, d, "outpatient", mt_str(s, "outpatient_ally_titles"))},
        {"inpatient_ally", ally_in(call, m, d, "inpatient", mt_str(s, "inpatient_ally_titles"))},
    };
    int failed = 0;
    why[0] = 0;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (!mt_in_list(list, checks[i].name) || checks[i].ok)
            continue;
        size_t used = strlen(why);
        snprintf(why + used, cap - used, "%s%s", failed++ ? ", " : "", checks[i].name);
    }
    return failed;
}

/* ---- Propose ---- */

static void meeting_id_of(const char *request_id, char *out, size_t cap)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = request_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    snprintf(out, cap, "m%016llx", (unsigned long long)h);
}

static int validate(mr_call *call, const Medrep__Meeting *m)
{
    const char *why = !m                                              ? "a meeting is required"
                    : !m->kind || !mt_in_list(KINDS, m->kind)         ? "kind is in_department, out_of_department or pim"
                    : !m->hospital_id || !mr_md_id_valid(m->hospital_id) ? "a valid hospital_id is required"
                    : !m->department_id || !mr_md_id_valid(m->department_id) ? "a valid department_id is required"
                    : !m->product_id || !mr_md_id_valid(m->product_id) ? "a valid product_id is required"
                    : !m->rep_id || !mr_md_id_valid(m->rep_id)        ? "a valid rep_id is required"
                    : m->start_ms <= call->now_ms                     ? "start_ms must be in the future"
                    : !m->theme || !m->theme[0] || strlen(m->theme) > 500 ? "a theme (up to 500 bytes) is required"
                    : (m->place && strlen(m->place) > 500) || (m->purpose && strlen(m->purpose) > 500) ||
                      (m->audience && strlen(m->audience) > 500) || (m->agenda && strlen(m->agenda) > 500) ? "place, purpose, audience and agenda are up to 500 bytes"
                    : m->n_ally_ids > 16 ? "up to 16 allies"
                    : m->head_count < 0 || m->budget_cents < 0 || m->gift_cents_per_attendee < 0 ? "head_count, budget and gifts cannot be negative"
                    : m->n_invitees > MT_MAX_GUESTS || m->n_staff_ids > 16 ? "too many invitees or staff"
                    : NULL;
    if (why)
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "%s", why), -1;
    for (size_t i = 0; i < m->n_invitees; i++)
        if (!m->invitees[i]->customer_id || !mr_md_id_valid(m->invitees[i]->customer_id))
            return mr_call_fail(call, MR_INVALID_ARGUMENT, "invitee %zu has no valid customer_id", i), -1;
    for (size_t i = 0; i < m->n_staff_ids; i++)
        if (!mr_md_id_valid(m->staff_ids[i]))
            return mr_call_fail(call, MR_INVALID_ARGUMENT, "staff id %zu is not valid", i), -1;
    return 0;
}

/* Invites the guests the proposal names (their records and segments
 * read in one pipeline), each checked by the core. 0 or -1 (call failed). */
static int invite_given(mr_call *call, const mt_invite_policy *pol, const Medrep__Meeting *m, mt_guest_list *g)
{
    size_t n = m->n_invitees;
    if (n == 0)
        return 0;
    char **ids = calloc(n, sizeof *ids), (*segs)[4] = calloc(n, sizeof *segs);
    mr_customer *cu = calloc(n, sizeof *cu);
    int *found = calloc(n, sizeof *found), rc = 0;
    if (!ids || !segs || !cu || !found)
        rc = -1, mr_call_fail(call, MR_INTERNAL, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        ids[i] = m->invitees[i]->customer_id;
    if (rc == 0 && mt_customers_read(call->store, call->region, m->product_id, ids, n, cu, segs, found) != 0)
        rc = -1, mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const Medrep__Invitee *p = m->invitees[i];
        mt_invitee v = {0};
        char why[256];
        snprintf(v.customer_id, sizeof v.customer_id, "%s", p->customer_id);
        snprintf(v.backup_for, sizeof v.backup_for, "%s", p->backup_for ? p->backup_for : "");
        snprintf(v.segment, sizeof v.segment, "%s", segs[i]);
        if (!found[i]) {
            rc = -1, mr_call_fail(call, MR_NOT_FOUND, "invitee %s is not a known customer", p->customer_id);
            break;
        }
        snprintf(v.title, sizeof v.title, "%s", cu[i].kind == MR_CUSTOMER_PRESCRIBER ? cu[i].title : cu[i].group);
        if (mt_invite(g, pol, &v, call->now_ms, why, sizeof why) != 0)
            rc = -1, mr_call_fail(call, MR_FAILED_PRECONDITION, "invitation refused: %s", why);
    }
    free(ids), free(segs), free(cu), free(found);
    return rc;
}

/* Builds the guest list: given invitees checked by the core (segment and
 * title from our data), or the suggestions when asked. */
static int build_guests(mr_call *call, const mt_settings *s, Medrep__Meeting *m, bool suggest_list)
{
    mt_invite_policy pol;
    policy_of(s, m, &pol);
    mt_invitee *items = calloc(MT_MAX_GUESTS, sizeof *items);
    mt_guest_list g = {items, 0, MT_MAX_GUESTS};
    if (!items)
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    if (m->n_invitees == 0 && suggest_list) {
        mt_candidate *c = NULL;
        long n = load_candidates(call, m->department_id, m->product_id, &c);
        g.count = n < 0 ? 0 : mt_suggest_guests(c, (size_t)n, &pol, items, MT_MAX_GUESTS);
        for (size_t i = 0; i < g.count; i++)
            items[i].invited_ms = items[i].status == MT_INV_EXPECTED ? call->now_ms : 0;
        free(c);
    }
    int rc = invite_given(call, &pol, m, &g);
    if (rc == 0 && mt_guests_store(m, &g) != 0) {
        rc = -1;
        mr_call_fail(call, MR_INTERNAL, "out of memory");
    }
    free(items);
    return rc;
}

static int route_approval(mr_call *call, const mt_settings *s, Medrep__Meeting *m)
{
    mr_rep rep;
    const char *fixed = mt_str(s, "approver");
    int rc = mr_md_get_rep(call->store, call->region, m->rep_id, &rep);
    if (rc < 0)
        return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable"), -1;
    const char *first = fixed[0] ? fixed : rc == 1 ? rep.dm_id : "";
    if (!first[0])
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "rep %s has no district manager to approve", m->rep_id), -1;
    if (mt_set_str(&m->approver_id, first) != 0)
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    long long threshold = mt_int(s, "approval_threshold_cents", -1);
    if (threshold >= 0 && m->budget_cents > threshold) {
        const char *second = mt_str(s, "second_approver");
        if (!second[0])
            return mr_call_fail(call, MR_FAILED_PRECONDITION,
                                "budget over %lld cents needs a second approver, none configured", threshold), -1;
        if (mt_set_str(&m->second_approver_id, second) != 0)
            return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    }
    return 0;
}

static int check_speaker(mr_call *call, const mt_settings *s, const Medrep__Meeting *m)
{
    if (!m->speaker_id || !m->speaker_id[0])
        return 0;
    mr_customer c;
    if (!mr_md_id_valid(m->speaker_id) || mr_md_get_customer(call->store, call->region, m->speaker_id, &c) != 1)
        return mr_call_fail(call, MR_NOT_FOUND, "speaker %s is not a known customer", m->speaker_id), -1;
    if (mt_in_list(mt_str(s, "speaker_excluded_risk"), c.compliance_risk))
        return mr_call_fail(call, MR_FAILED_PRECONDITION, "speaker %s has compliance risk %s",
                            m->speaker_id, c.compliance_risk), -1;
    return 0;
}

static int set_checklist_and_agenda(mr_call *call, const mt_settings *s, Medrep__Meeting *m)
{
    char err[256];
    mt_agenda ag;
    const char *agenda = m->agenda && m->agenda[0] ? m->agenda : mt_str(s, "agenda");
    if (mt_agenda_parse(agenda, mt_str(s, "agenda_limits"), (int)mt_int(s, "agenda_total_min", 35), &ag,
                        err, sizeof err) != 0)
        return mr_call_fail(call, MR_INVALID_ARGUMENT, "%s", err), -1;
    char items[1024];
    snprintf(items, sizeof items, "%s", mt_str(s, "checklist"));
    size_t n = 0;
    for (const char *p = items; *p; p++) n += *p == ',';
    m->checklist = calloc(n + 1, sizeof *m->checklist);
    if (mt_set_str(&m->agenda, agenda) != 0 || !m->checklist)
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    char *save = NULL;
    for (char *tok = strtok_r(items, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        Medrep__ChecklistItem *c = calloc(1, sizeof *c);
        if (!c)
            return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
        medrep__checklist_item__init(c);
        m->checklist[m->n_checklist++] = c;
        while (*tok == ' ') tok++;
        if (mt_set_str(&c->name, tok) != 0)
            return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    }
    m->duration_min = m->duration_min > 0 ? m->duration_min : ag.total, m->has_duration_min = true;
    return 0;
}

static int fill_proposal(mr_call *call, const mt_settings *s, Medrep__Meeting *m, const char *actor,
                         bool suggest_list)
{
    char id[24];
    meeting_id_of(call->req->request_id, id, sizeof id);
    Medrep__Meeting *old = NULL;
    int rc = mt_load(call->store, call->region, id, &old);
    if (old)
        medrep__meeting__free_unpacked(old, NULL);
    if (rc != 0)
        return mr_call_fail(call, rc < 0 ? MR_UNAVAILABLE : MR_ALREADY_EXISTS, "meeting %s %s", id,
                            rc < 0 ? "could not be read" : "exists"), -1;
    if (check_speaker(call, s, m) || build_guests(call, s, m, suggest_list) || route_approval(call, s, m) ||
        set_checklist_and_agenda(call, s, m))
        return -1;
    int cap = m->head_count_cap > 0 ? m->head_count_cap : (int)mt_int(s, "head_count_cap", 0);
    m->head_count_cap = cap, m->has_head_count_cap = true;
    if (m->head_count <= 0) {
        int expected = 0;
        for (size_t i = 0; i < m->n_invitees; i++)
            expected += mt_invitee_counts(m->invitees[i]);
        m->head_count = expected, m->has_head_count = true;
    }
    m->rsvp_deadline_ms = m->start_ms - mt_int(s, "rsvp_deadline_hours", 24) * 3600000LL;
    m->has_rsvp_deadline_ms = true;
    m->created_ms = call->now_ms, m->has_created_ms = true;
    int warnings = 0;
    if (mt_set_str(&m->meeting_id, id) || mt_set_str(&m->state, "proposed") || mt_set_str(&m->proposer_id, actor) ||
        mt_compliance_check(call, s, m, &warnings) < 0 ||
        mt_history_add(m, "", "proposed", actor, call->now_ms, "proposed"))
        return call->code ? -1 : (mr_call_fail(call, MR_INTERNAL, "out of memory"), -1);
    return 0;
}

static int propose(mr_call *call)
{
    Medrep__ProposeMeetingRequest *req = mr_call_decode(call, &medrep__propose_meeting_request__descriptor);
    if (!req)
        return call->code;
    Medrep__Meeting *m = req->meeting;
    const char *actor = mt_actor(call);
    mr_department d;
    int rc;
    if (!actor || validate(call, m) != 0)
        goto done;
    rc = mr_md_get_department(call->store, call->region, m->department_id, &d);
    if (rc != 1 || strcmp(d.hospital_id, m->hospital_id) != 0) {
        mr_call_fail(call, rc < 0 ? MR_UNAVAILABLE : MR_NOT_FOUND, "department %s of hospital %s %s",
                     m->department_id, m->hospital_id, rc < 0 ? "could not be read" : "is unknown");
        goto done;
    }
    mt_settings s;
    mt_settings_init(&s, mr_service_state(call->svc), call->region, m->kind, m->product_id);
    if (mt_filed_in_advance(call, &s, m->start_ms) != 0)
        goto done;
    char why[256];
    rc = check_preconditions(call, &s, m, &d, why, sizeof why);
    if (rc > 0) {
        /* the names also go in the reply's payload, beside the error */
        char copy[256], *names[8], *save = NULL;
        size_t n = 0;
        snprintf(copy, sizeof copy, "%s", why);
        for (char *t = strtok_r(copy, ", ", &save); t && n < 8; t = strtok_r(NULL, ", ", &save))
            names[n++] = t;
        Medrep__ProposeMeetingReply fr = MEDREP__PROPOSE_MEETING_REPLY__INIT;
        fr.failed_preconditions = names, fr.n_failed_preconditions = n;
        mr_call_reply(call, &fr.base);
    }
    if (rc != 0) {
        mr_call_fail(call, rc < 0 ? MR_UNAVAILABLE : MR_FAILED_PRECONDITION, "preconditions failed: %s",
                     rc < 0 ? "redis unavailable" : why);
        goto done;
    }
    if (fill_proposal(call, &s, m, actor, req->suggest_invitations) != 0 || mt_save(call, m, -1) != 0 ||
        mt_emit_changed(call, m, "", "proposed", actor, NULL) != 0)
        goto done;
    Medrep__ProposeMeetingReply reply = MEDREP__PROPOSE_MEETING_REPLY__INIT;
    reply.meeting_id = m->meeting_id;
    reply.meeting = m;
    mr_call_reply(call, &reply.base);
done:
    medrep__propose_meeting_request__free_unpacked(req, NULL);
    return call->code;
}

int mt_method_propose(mr_call *call) { return propose(call); }
int mt_method_suggest(mr_call *call) { return suggest(call); }
