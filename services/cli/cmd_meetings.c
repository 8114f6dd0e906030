/* cmd_meetings.c: `medrep meetings SUB ...`: the meetings service from the
 * command line: propose, suggest, show, list, transition, invite, rsvp,
 * signin, check (checklist), doc, expense, reimburse, followup-done,
 * deadlines, ical. Readable output, or the reply as JSON with --json.
 * `--as USER` names the caller (default $USER). Times are
 * "YYYY-MM-DDTHH:MM" in the region's time zone, or epoch milliseconds. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "errors.h"
#include "meetings.pb-c.h"

#define MAX_LIST 64

/* ---- Options ---- */

typedef struct {
    const char *key;
    const char *val;
} opt;

typedef struct {
    opt opts[48];
    int nopts;
    const char *pos[8];
    int npos;
} args;

/* Options are "--name value" or flags (listed in flags); the rest are
 * positional. -1 on a dangling option. */
static int parse_args(int argc, char **argv, const char *flags, args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            const char *name = argv[i] + 2;
            bool flag = strstr(flags, name) != NULL;
            if ((!flag && i + 1 >= argc) || a->nopts >= 48)
                return -1;
            a->opts[a->nopts++] = (opt){name, flag ? "1" : argv[++i]};
        } else if (a->npos < 8) {
            a->pos[a->npos++] = argv[i];
        } else {
            return -1;
        }
    }
    return 0;
}

static const char *get(const args *a, const char *key)
{
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].key, key) == 0)
            return a->opts[i].val;
    return NULL;
}

/* "YYYY-MM-DDTHH:MM" in the region's zone, or epoch ms. 0 on error. */
static int64_t parse_time(cli_ctx *ctx, const char *text)
{
    int y, mo, d, h, mi;
    char section[64];
    if (!text)
        return 0;
    if (sscanf(text, "%d-%d-%dT%d:%d", &y, &mo, &d, &h, &mi) == 5 && mr_date_valid(y, mo, d)) {
        snprintf(section, sizeof section, "region.%s", ctx->region);
        mr_tz *tz = mr_tz_load(mr_config_str(ctx->cfg, section, "timezone", "UTC"));
        if (!tz)
            return 0;
        int64_t s = mr_tz_from_local(tz, y, mo, d, h, mi, 0);
        mr_tz_free(&tz);
        return s * 1000;
    }
    char *end;
    long long ms = strtoll(text, &end, 10);
    return *end == 0 && ms > 0 ? ms : 0;
}

/* Splits a comma list in place into out (up to cap). */
static size_t split(char *text, char **out, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = text ? strtok_r(text, ",", &save) : NULL; t && n < cap; t = strtok_r(NULL, ",", &save))
        out[n++] = t;
    return n;
}

/* ---- Output ---- */

static json_t *to_json(const ProtobufCMessage *m);

static json_t *field_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: return json_string(*(char *const *)p ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_INT32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_INT64: return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p ? to_json(*(ProtobufCMessage *const *)p) : json_null();
    default: return json_null();
    }
}

static size_t field_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64: return sizeof(int64_t);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    default: return sizeof(void *);
    }
}

/* A protobuf-c message as JSON, by its descriptor (the fields this CLI
 * meets: strings, integers, booleans, doubles, messages, repeated). */
static json_t *to_json(const ProtobufCMessage *m)
{
    json_t *o = json_object();
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)base;
            json_t *a = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(a, field_json(f, arr + k * field_size(f)));
            json_object_set_new(o, f->name, a);
            continue;
        }
        bool present = f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE
                           ? *(void *const *)base != NULL
                           : *(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset);
        if (present)
            json_object_set_new(o, f->name, field_json(f, base));
    }
    return o;
}

static void print_json(const ProtobufCMessage *m)
{
    json_t *j = to_json(m);
    json_dumpf(j, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(j);
}

static void local_time(cli_ctx *ctx, int64_t ms, char *buf, size_t cap)
{
    char section[64];
    snprintf(section, sizeof section, "region.%s", ctx->region);
    mr_tz *tz = mr_tz_load(mr_config_str(ctx->cfg, section, "timezone", "UTC"));
    mr_local_time lt = {0};
    if (tz)
        mr_tz_to_local(tz, ms / 1000, &lt);
    snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d", lt.year, lt.month, lt.day, lt.hour, lt.minute);
    mr_tz_free(&tz);
}

static void print_meeting(cli_ctx *ctx, const Medrep__Meeting *m)
{
    char when[32];
    local_time(ctx, m->start_ms, when, sizeof when);
    printf("meeting %s  [%s]  %s  %s\n", m->meeting_id, m->state, m->kind, when);
    printf("  %s at %s / %s, product %s, rep %s\n", m->theme ? m->theme : "", m->hospital_id,
           m->department_id, m->product_id, m->rep_id);
    printf("  place %s; head count %d (cap %d); budget %.2f; gifts %.2f a head\n", m->place ? m->place : "-",
           m->head_count, m->head_count_cap, m->budget_cents / 100.0, m->gift_cents_per_attendee / 100.0);
    printf("  approver %s%s%s; speaker %s\n", m->approver_id ? m->approver_id : "-",
           m->second_approver_id && m->second_approver_id[0] ? " + " : "",
           m->second_approver_id ? m->second_approver_id : "", m->speaker_id && m->speaker_id[0] ? m->speaker_id : "-");
    printf("  invitees:\n");
    for (size_t i = 0; i < m->n_invitees; i++) {
        const Medrep__Invitee *v = m->invitees[i];
        printf("    %-12s %-2s %-9s %-10s%s%s%s\n", v->customer_id, v->segment ? v->segment : "",
               v->status ? v->status : "", v->rsvp ? v->rsvp : "", v->attended ? " attended" : "",
               v->backup_for && v->backup_for[0] ? " backup for " : "", v->backup_for ? v->backup_for : "");
    }
    for (size_t i = 0; i < m->n_findings; i++)
        printf("  compliance %s: %s %s %.0f > %.0f\n", m->findings[i]->action, m->findings[i]->rule,
               m->findings[i]->subject, m->findings[i]->value, m->findings[i]->max);
    for (size_t i = 0; i < m->n_history; i++) {
        local_time(ctx, m->history[i]->at_ms, when, sizeof when);
        printf("  %s  %-16s -> %-16s by %s%s%s\n", when, m->history[i]->from_state, m->history[i]->to_state,
               m->history[i]->actor_id, m->history[i]->comment && m->history[i]->comment[0] ? ": " : "",
               m->history[i]->comment ? m->history[i]->comment : "");
    }
}

/* ---- Calls ---- */

static int call(cli_ctx *ctx, const char *user, const char *method, const ProtobufCMessage *in,
                const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out)
{
    mr_client *c = cli_client(ctx);
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = (char *)user;
    char msg[1024];
    int code = c ? mr_client_rpc(c, "meetings", method, ctx->region, &caller, in, out_desc, out, 10000, msg,
                                 sizeof msg)
                 : MR_UNAVAILABLE;
    if (code != MR_OK && c)
        cli_error("meetings %s: %s: %s", method, mr_code_name(code), msg);
    return code == MR_OK ? 0 : 1;
}

/* Calls and prints a reply whose field 1 is the meeting (or just JSON). */
static int call_show(cli_ctx *ctx, const char *user, const char *method, const ProtobufCMessage *in,
                     const ProtobufCMessageDescriptor *out_desc)
{
    ProtobufCMessage *out = NULL;
    if (call(ctx, user, method, in, out_desc, &out) != 0)
        return 1;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(out_desc, 1);
    Medrep__Meeting *m = f && f->descriptor == &medrep__meeting__descriptor
                             ? *(Medrep__Meeting **)((char *)out + f->offset) : NULL;
    if (ctx->json || !m)
        print_json(out);
    else
        print_meeting(ctx, m);
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}

static Medrep__Invitee *invitees_of(char *list, Medrep__Invitee *buf, Medrep__Invitee **ptrs, size_t *n)
{
    char *items[MAX_LIST];
    *n = split(list, items, MAX_LIST);
    for (size_t i = 0; i < *n; i++) {
        medrep__invitee__init(&buf[i]);
        char *gt = strchr(items[i], '>');
        if (gt)
            *gt = 0, buf[i].backup_for = gt + 1;
        buf[i].customer_id = items[i];
        ptrs[i] = &buf[i];
    }
    return buf;
}

static int do_propose(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__Meeting m = MEDREP__MEETING__INIT;
    Medrep__Invitee inv[MAX_LIST], *pinv[MAX_LIST];
    char *allies[MAX_LIST], *staff[MAX_LIST];
    char ally_buf[512] = "", staff_buf[512] = "", inv_buf[1024] = "";
    m.kind = (char *)(get(a, "kind") ? get(a, "kind") : "in_department");
    m.hospital_id = (char *)get(a, "hospital");
    m.department_id = (char *)get(a, "dept");
    m.product_id = (char *)get(a, "product");
    m.rep_id = (char *)(get(a, "rep") ? get(a, "rep") : user);
    m.start_ms = parse_time(ctx, get(a, "start")), m.has_start_ms = true;
    m.place = (char *)get(a, "place");
    m.theme = (char *)get(a, "theme");
    m.purpose = (char *)get(a, "purpose");
    m.audience = (char *)get(a, "audience");
    m.speaker_id = (char *)get(a, "speaker");
    m.budget_cents = get(a, "budget") ? atoll(get(a, "budget")) : 0, m.has_budget_cents = true;
    m.gift_cents_per_attendee = get(a, "gift") ? atoll(get(a, "gift")) : 0, m.has_gift_cents_per_attendee = true;
    m.head_count = get(a, "head") ? atoi(get(a, "head")) : 0, m.has_head_count = true;
    m.director_agreed = get(a, "director-agreed") != NULL, m.has_director_agreed = true;
    if (get(a, "prescriber-only"))
        m.prescriber_only = true, m.has_prescriber_only = true;
    snprintf(ally_buf, sizeof ally_buf, "%s", get(a, "ally") ? get(a, "ally") : "");
    snprintf(staff_buf, sizeof staff_buf, "%s", get(a, "staff") ? get(a, "staff") : "");
    snprintf(inv_buf, sizeof inv_buf, "%s", get(a, "invite") ? get(a, "invite") : "");
    m.ally_ids = allies, m.n_ally_ids = split(ally_buf, allies, MAX_LIST);
    m.staff_ids = staff, m.n_staff_ids = split(staff_buf, staff, MAX_LIST);
    invitees_of(inv_buf, inv, pinv, &m.n_invitees);
    m.invitees = pinv;
    Medrep__ProposeMeetingRequest req = MEDREP__PROPOSE_MEETING_REQUEST__INIT;
    req.meeting = &m;
    req.suggest_invitations = get(a, "suggest") != NULL, req.has_suggest_invitations = true;
    return call_show(ctx, user, "ProposeMeeting", &req.base, &medrep__propose_meeting_reply__descriptor);
}

static int do_suggest(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__SuggestRequest req = MEDREP__SUGGEST_REQUEST__INIT;
    req.department_id = (char *)get(a, "dept");
    req.product_id = (char *)get(a, "product");
    req.kind = (char *)(get(a, "kind") ? get(a, "kind") : "in_department");
    req.prescriber_only = get(a, "prescriber-only") != NULL, req.has_prescriber_only = true;
    req.rep_id = (char *)get(a, "rep");
    char staff_buf[512], *staff[MAX_LIST];
    snprintf(staff_buf, sizeof staff_buf, "%s", get(a, "staff") ? get(a, "staff") : "");
    req.staff_ids = staff, req.n_staff_ids = split(staff_buf, staff, MAX_LIST);
    ProtobufCMessage *out = NULL;
    if (call(ctx, user, "Suggest", &req.base, &medrep__suggest_reply__descriptor, &out) != 0)
        return 1;
    Medrep__SuggestReply *r = (Medrep__SuggestReply *)out;
    if (ctx->json) {
        print_json(out);
    } else {
        printf("invitation list:\n");
        for (size_t i = 0; i < r->n_invitees; i++)
            printf("  %-12s %-2s %s%s\n", r->invitees[i]->customer_id, r->invitees[i]->segment,
                   r->invitees[i]->backup_for[0] ? "backup for " : "", r->invitees[i]->backup_for);
        printf("speaker candidates:");
        for (size_t i = 0; i < r->n_speaker_ids; i++)
            printf(" %s", r->speaker_ids[i]);
        printf("\nslots:\n");
        for (size_t i = 0; i < r->n_slot_start_ms && i < 10; i++) {
            char when[32];
            local_time(ctx, r->slot_start_ms[i], when, sizeof when);
            printf("  %s  %s\n", when, r->slot_names[i]);
        }
    }
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}

static int do_list(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__ListMeetingsRequest req = MEDREP__LIST_MEETINGS_REQUEST__INIT;
    req.rep_id = (char *)get(a, "rep");
    req.state = (char *)get(a, "state");
    req.team = (char *)get(a, "team");
    req.page_token = (char *)get(a, "page-token");
    if (get(a, "limit")) {
        req.limit = atoi(get(a, "limit")), req.has_limit = true;
        if (req.limit <= 0) {
            cli_error("meetings list: --limit must be a positive number");
            return 2;
        }
    }
    ProtobufCMessage *out = NULL;
    if (call(ctx, user, "ListMeetings", &req.base, &medrep__list_meetings_reply__descriptor, &out) != 0)
        return 1;
    Medrep__ListMeetingsReply *r = (Medrep__ListMeetingsReply *)out;
    if (ctx->json) {
        print_json(out);
    } else {
        printf("%-18s %-17s %-16s %-10s %-8s %s\n", "MEETING", "STATE", "START", "HOSPITAL", "REP", "THEME");
        for (size_t i = 0; i < r->n_meetings; i++) {
            char when[32];
            local_time(ctx, r->meetings[i]->start_ms, when, sizeof when);
            printf("%-18s %-17s %-16s %-10s %-8s %s\n", r->meetings[i]->meeting_id, r->meetings[i]->state, when,
                   r->meetings[i]->hospital_id, r->meetings[i]->rep_id, r->meetings[i]->theme);
        }
        printf("%zu meeting(s)\n", r->n_meetings);
        if (r->next_page_token && *r->next_page_token)
            printf("more: add --page-token %s\n", r->next_page_token);
    }
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}

static int do_show(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__GetMeetingRequest req = MEDREP__GET_MEETING_REQUEST__INIT;
    req.meeting_id = (char *)a->pos[0];
    ProtobufCMessage *out = NULL;
    if (call(ctx, user, "GetMeeting", &req.base, &medrep__get_meeting_reply__descriptor, &out) != 0)
        return 1;
    Medrep__GetMeetingReply *r = (Medrep__GetMeetingReply *)out;
    if (ctx->json) {
        print_json(out);
    } else {
        print_meeting(ctx, r->meeting);
        printf("  expected %d, attendees %d, attendance rate %.0f%%, attendee accuracy %.0f%%\n", r->expected,
               r->attendees, 100 * r->attendance_rate, 100 * r->attendee_accuracy);
        printf("  staff %d-%d\n", r->staff_min, r->staff_max);
    }
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}

static int do_transition(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__TransitionRequest req = MEDREP__TRANSITION_REQUEST__INIT;
    req.meeting_id = (char *)a->pos[0];
    req.to_state = (char *)a->pos[1];
    req.comment = (char *)get(a, "comment");
    req.summary = (char *)get(a, "summary");
    req.director_comments = (char *)get(a, "director-comments");
    req.feedback = (char *)get(a, "feedback");
    if (get(a, "new-start"))
        req.new_start_ms = parse_time(ctx, get(a, "new-start")), req.has_new_start_ms = true;
    return call_show(ctx, user, "Transition", &req.base, &medrep__transition_reply__descriptor);
}

static int do_invite(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__Invitee inv[MAX_LIST], *pinv[MAX_LIST];
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", a->pos[1]);
    Medrep__InviteRequest req = MEDREP__INVITE_REQUEST__INIT;
    req.meeting_id = (char *)a->pos[0];
    invitees_of(buf, inv, pinv, &req.n_invitees);
    req.invitees = pinv;
    return call_show(ctx, user, "Invite", &req.base, &medrep__meeting_reply__descriptor);
}

static int do_simple(cli_ctx *ctx, const char *sub, const args *a, const char *user)
{
    if (strcmp(sub, "rsvp") == 0) {
        Medrep__RsvpRequest r = MEDREP__RSVP_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0], r.customer_id = (char *)a->pos[1], r.answer = (char *)a->pos[2];
        return call_show(ctx, user, "Rsvp", &r.base, &medrep__rsvp_reply__descriptor);
    }
    if (strcmp(sub, "signin") == 0) {
        Medrep__SignInRequest r = MEDREP__SIGN_IN_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0], r.customer_id = (char *)a->pos[1], r.substitute_for = (char *)get(a, "for");
        return call_show(ctx, user, "SignIn", &r.base, &medrep__meeting_reply__descriptor);
    }
    if (strcmp(sub, "check") == 0) {
        Medrep__ChecklistRequest r = MEDREP__CHECKLIST_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0], r.item = (char *)a->pos[1], r.round = (char *)a->pos[2];
        return call_show(ctx, user, "Checklist", &r.base, &medrep__meeting_reply__descriptor);
    }
    if (strcmp(sub, "doc") == 0) {
        Medrep__DocumentRequest r = MEDREP__DOCUMENT_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0], r.document = (char *)a->pos[1];
        return call_show(ctx, user, "AttachDocument", &r.base, &medrep__meeting_reply__descriptor);
    }
    if (strcmp(sub, "expense") == 0) {
        Medrep__Expense e = MEDREP__EXPENSE__INIT;
        e.person_id = (char *)a->pos[1], e.kind = (char *)a->pos[2];
        e.cents = a->pos[3] ? atoll(a->pos[3]) : 0, e.has_cents = true;
        Medrep__ExpenseRequest r = MEDREP__EXPENSE_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0], r.expense = &e;
        return call_show(ctx, user, "AddExpense", &r.base, &medrep__meeting_reply__descriptor);
    }
    if (strcmp(sub, "reimburse") == 0) {
        Medrep__ReimburseRequest r = MEDREP__REIMBURSE_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0];
        return call_show(ctx, user, "Reimburse", &r.base, &medrep__meeting_reply__descriptor);
    }
    if (strcmp(sub, "followup-done") == 0) {
        Medrep__FollowUpDoneRequest r = MEDREP__FOLLOW_UP_DONE_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0], r.customer_id = (char *)a->pos[1];
        return call_show(ctx, user, "FollowUpDone", &r.base, &medrep__meeting_reply__descriptor);
    }
    if (strcmp(sub, "deadlines") == 0) {
        Medrep__CheckDeadlinesRequest r = MEDREP__CHECK_DEADLINES_REQUEST__INIT;
        return call_show(ctx, user, "CheckDeadlines", &r.base, &medrep__check_deadlines_reply__descriptor);
    }
    if (strcmp(sub, "ical") == 0) {
        Medrep__ExportIcalRequest r = MEDREP__EXPORT_ICAL_REQUEST__INIT;
        r.meeting_id = (char *)a->pos[0];
        ProtobufCMessage *out = NULL;
        if (call(ctx, user, "ExportIcal", &r.base, &medrep__export_ical_reply__descriptor, &out) != 0)
            return 1;
        ctx->json ? print_json(out) : (void)fputs(((Medrep__ExportIcalReply *)out)->ics, stdout);
        protobuf_c_message_free_unpacked(out, NULL);
        return 0;
    }
    return -1;
}

/* evaluate ID: the evaluation from scoring's monthly prescriptions. */
static int do_evaluate(cli_ctx *ctx, const args *a, const char *user)
{
    Medrep__EvaluateRequest req = MEDREP__EVALUATE_REQUEST__INIT;
    req.meeting_id = (char *)a->pos[0];
    req.from_scoring = true, req.has_from_scoring = true;
    ProtobufCMessage *out = NULL;
    if (call(ctx, user, "Evaluate", &req.base, &medrep__evaluate_reply__descriptor, &out) != 0)
        return 1;
    const Medrep__EvaluateReply *r = (const Medrep__EvaluateReply *)out;
    if (ctx->json)
        print_json(out);
    else
        printf("attendees %+.1f share points (%d with data), non-attendees of the department %+.1f (%d), "
               "evaluation score %.0f\n", r->attendee_change_points, r->attendees_counted,
               r->non_attendee_change_points, r->non_attendees_counted, r->evaluation_score);
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}

/* Positional arguments each subcommand needs. */
static int needs(const char *sub)
{
    static const struct {
        const char *name;
        int n;
    } t[] = {{"show", 1}, {"transition", 2}, {"invite", 2}, {"rsvp", 3}, {"signin", 2}, {"check", 3},
             {"doc", 2}, {"expense", 4}, {"reimburse", 1}, {"followup-done", 2}, {"ical", 1},
             {"evaluate", 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, sub) == 0)
            return t[i].n;
    return 0;
}

static int run_meetings(cli_ctx *ctx, int argc, char **argv)
{
    args a;
    if (argc < 1 || parse_args(argc - 1, argv + 1, "director-agreed,prescriber-only,suggest", &a) != 0) {
        cli_error("meetings: see `medrep meetings --help`");
        return 2;
    }
    const char *sub = argv[0];
    const char *user = get(&a, "as") ? get(&a, "as") : getenv("USER") ? getenv("USER") : "operator";
    if (a.npos < needs(sub)) {
        cli_error("meetings %s: %d argument(s) needed", sub, needs(sub));
        return 2;
    }
    if (strcmp(sub, "propose") == 0)
        return do_propose(ctx, &a, user);
    if (strcmp(sub, "suggest") == 0)
        return do_suggest(ctx, &a, user);
    if (strcmp(sub, "list") == 0)
        return do_list(ctx, &a, user);
    if (strcmp(sub, "show") == 0)
        return do_show(ctx, &a, user);
    if (strcmp(sub, "transition") == 0)
        return do_transition(ctx, &a, user);
    if (strcmp(sub, "invite") == 0)
        return do_invite(ctx, &a, user);
    if (strcmp(sub, "evaluate") == 0)
        return do_evaluate(ctx, &a, user);
    int rc = do_simple(ctx, sub, &a, user);
    if (rc < 0) {
        cli_error("meetings: unknown subcommand '%s'", sub);
        return 2;
    }
    return rc;
}

const cli_command cli_cmd_meetings = {
    .name = "meetings",
    .summary = "department meetings: propose, approve, invite, sign in, follow up",
    .usage =
        "usage: medrep meetings SUB ... [--as USER] [--json]\n"
        "  propose --hospital H --dept D --product P [--rep R] [--kind in_department|out_of_department|pim]\n"
        "          --start YYYY-MM-DDTHH:MM --theme T [--place X] [--purpose X] [--audience X]\n"
        "          [--budget CENTS] [--gift CENTS] [--head N] [--speaker C] [--staff S1,S2]\n"
        "          [--invite C1,C2,C3>C1] [--suggest] [--ally A1,A2] [--director-agreed] [--prescriber-only]\n"
        "  suggest --dept D --product P [--kind K] [--prescriber-only] [--rep R] [--staff S1,S2]\n"
        "  list [--rep R] [--team T] [--state S] [--limit N] [--page-token X]   show ID\n"
        "  transition ID STATE [--comment T] [--new-start TIME] [--summary T] [--director-comments T]\n"
        "  invite ID C1,C2>C1                   rsvp ID CUSTOMER accepted|declined\n"
        "  signin ID CUSTOMER [--for INVITEE]   check ID ITEM day_before|day_of\n"
        "  doc ID NAME   expense ID PERSON KIND CENTS   reimburse ID   followup-done ID CUSTOMER\n"
        "  deadlines     ical ID     evaluate ID (from scoring's monthly prescriptions)\n",
    .run = run_meetings,
};
