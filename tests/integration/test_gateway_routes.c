/* test_gateway_routes.c: every route of the gateway's table end to end,
 * against a real stack (redis, broker, scoring, scheduling, meetings,
 * notify, gateway), driven from the table itself (gw_routes):
 *   - every route has a case here (a new route without one fails);
 *   - a good request of each, in the order of a working week (import,
 *     grades, plans, calls, a meeting from proposal to evaluation, the
 *     inbox and reminders), answers 2xx with the expected content;
 *   - for each route: no token -> 401; a rep of another region -> 403;
 *     another rep of the same region (or a rep on a team's or admin's
 *     route) -> 403; malformed input -> 400 with a JSON error; a missing
 *     required field (the table's `required`) -> 400 naming it;
 *   - a revoked token stops working within [gateway] token_cache_ms. */
// ctest-label: integration
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "events.h"
#include "http.h"
#include "masterdata.h"
#include "routes.h"
#include "stack.h"

#define DAY_MS 86400000LL

static h_stack stack;
static int port;

/* Tokens, by who holds them. */
enum { T_R1, T_R2, T_D1, T_A1, T_R9, T_COUNT };
static char tokens[T_COUNT][96];
static const char *const token_args[T_COUNT] = {
    "--user R1 --role rep --region north --team ONC",
    "--user R2 --role rep --region north --team ONC",
    "--user D1 --role dm --region north --team ONC",
    "--user A1 --role region_admin --region north",
    "--user R9 --role rep --region south",
};

/* Ids the good requests produce, substituted into later paths and bodies. */
static char meeting_id[64], call_id[64];
static char month[32], quarter[32];
static long long meeting_start_ms, tomorrow_ms;

/* ---- Set-up ---- */

static void stage_customer(mr_tx *tx, const char *region, const char *id, const char *rep, const char *title)
{
    mr_customer c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "Dr %s", id);
    c.kind = MR_CUSTOMER_PRESCRIBER;
    snprintf(c.hospital_id, sizeof c.hospital_id, "H1");
    snprintf(c.department_id, sizeof c.department_id, "DP1");
    snprintf(c.rep_id, sizeof c.rep_id, "%s", rep);
    snprintf(c.title, sizeof c.title, "%s", title);
    snprintf(c.setting, sizeof c.setting, "%s", strncmp(id, "AO", 2) == 0 ? "outpatient" : "inpatient");
    snprintf(c.compliance_risk, sizeof c.compliance_risk, "low");
    assert_int_equal(mr_md_stage_customer(tx, region, &c, NULL), 0);
}

static void stage_rep(mr_tx *tx, const char *region, const char *id, const char *dm, const char *team)
{
    mr_rep r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.name, sizeof r.name, "Rep %s", id);
    snprintf(r.dm_id, sizeof r.dm_id, "%s", dm);
    snprintf(r.team, sizeof r.team, "%s", team);
    assert_int_equal(mr_md_stage_rep(tx, region, &r, NULL), 0);
}

/* The segment meetings uses to pick guests, announced as scoring would. */
static void stage_segment(mr_tx *tx, const char *customer, const char *segment)
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
    cr.new_segment = (char *)segment;
    cr.rep_id = "R1";
    ev.body_case = MEDREP__EVENT__BODY_CUSTOMER_REGRADED;
    ev.customer_regraded = &cr;
    assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
}

static void stage_north(mr_tx *tx)
{
    mr_product p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "P1");
    snprintf(p.name, sizeof p.name, "Onco-1");
    assert_int_equal(mr_md_stage_product(tx, "north", &p), 0);
    stage_rep(tx, "north", "R1", "D1", "ONC");
    stage_rep(tx, "north", "R2", "D1", "ONC");
    mr_hospital h;
    memset(&h, 0, sizeof h);
    snprintf(h.id, sizeof h.id, "H1");
    snprintf(h.name, sizeof h.name, "City Hospital");
    h.tier = 3;
    assert_int_equal(mr_md_stage_hospital(tx, "north", &h), 0);
    assert_int_equal(mr_md_stage_listing(tx, "north", "H1", "P1", MR_LISTING_LISTED, true), 0);
    mr_department d;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "DP1");
    snprintf(d.hospital_id, sizeof d.hospital_id, "H1");
    snprintf(d.name, sizeof d.name, "Oncology");
    snprintf(d.director_id, sizeof d.director_id, "DIR1");
    snprintf(d.meeting_moments, sizeof d.meeting_moments, "rounds_end mon-fri 10:00-10:30");
    assert_int_equal(mr_md_stage_department(tx, "north", &d, NULL), 0);
    const char *docs[][3] = {{"C01", "A", "chief"}, {"C02", "A", "associate_chief"}, {"C03", "B", "attending"},
                             {"C04", "B", "attending"}, {"AO_H1", "C", "attending"},
                             {"AI_H1", "C", "associate_chief"}};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        stage_customer(tx, "north", docs[i][0], "R1", docs[i][2]);
        stage_segment(tx, docs[i][0], docs[i][1]);
    }
    stage_customer(tx, "north", "C2", "R2", "attending");
}

static int stage_master_data(void)
{
    mr_store *store = h_stack_store(&stack, 0);
    mr_tx *tx = mr_tx_new();
    stage_north(tx);
    int rc = mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : -1;
    mr_tx_reset(tx);
    stage_rep(tx, "south", "R9", "D9", "ONC");
    if (rc == 0 && mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) != MR_TX_COMMITTED)
        rc = -1;
    mr_tx_free(&tx);
    /* the meetings service keeps its copy of the segments from the events */
    for (int i = 0; rc == 0 && i < 200; i++) {
        if (h_redis_int(store, "HLEN %s", "{r:north}:meet:seg:P1") == 6)
            break;
        usleep(50000);
    }
    mr_store_free(&store);
    return rc;
}

static void set_dates(void)
{
    int64_t now = mr_now_ms();
    time_t next = (time_t)((now + 32 * DAY_MS) / 1000);
    struct tm tm;
    gmtime_r(&next, &tm);
    snprintf(month, sizeof month, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
    snprintf(quarter, sizeof quarter, "%04d-Q%d", tm.tm_year + 1900, tm.tm_mon / 3 + 1);
    meeting_start_ms = now + 30 * 60 * 1000;
    tomorrow_ms = (now / DAY_MS + 1) * DAY_MS + 2 * 3600 * 1000;   /* 10:00 in Asia/Shanghai */
}

static int setup(void **state)
{
    (void)state;
    port = h_free_port();
    char extra[512];
    snprintf(extra, sizeof extra,
             "[gateway]\nport = %d\nthreads = 2\nrate_per_second = 100000\nrate_burst = 100000\n"
             "auth_region = north\ntoken_cache_ms = 300\n[meetings]\nchecklist = projector\n", port);
    const char *regions[] = {"north", "south", NULL};
    if (h_stack_start(&stack, 1, regions, extra) != 0)
        return -1;
    const char *programs[] = {"scoring", "scheduling", "meetings", "notify", "gateway"};
    for (int i = 0; i < 5; i++) {
        char instance[64];
        snprintf(instance, sizeof instance, "%s-rt", programs[i]);
        if (h_stack_start_service(&stack, programs[i], instance, NULL) < 0)
            return -1;
    }
    for (int i = 0; i < 4; i++)
        if (h_stack_wait_workers(&stack, programs[i], 1, 10000) != 0)
            return -1;
    if (stage_master_data() != 0)
        return -1;
    for (int t = 0; t < T_COUNT; t++)
        assert_int_equal(h_stack_token(&stack, token_args[t], tokens[t], sizeof tokens[t], NULL, 0), 0);
    set_dates();
    return h_http_wait_up(port, 5000) ? 0 : -1;   /* the gateway listens once it is up */
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* ---- The cases: one or more per route, in the order they run ---- */

typedef struct {
    const char *method;
    const char *pattern;     /* the route's, after /v1/regions/{region} */
    int who;                 /* the token of the good request */
    const char *path;        /* after /v1/regions/north; {M} meeting, {C} call, {MONTH}, {Q} */
    const char *body;        /* good body (POST) or NULL; {START} {TOMORROW} substituted */
    int status;              /* expected */
    const char *expect;      /* a substring of the answer, or NULL */
    const char *capture;     /* a JSON field of the answer to keep: "meeting_id", "call_id" */
} route_case;

static const route_case cases[] = {
    /* scoring */
    {"POST", "/imports", T_A1, "/imports",
     "{\"kind\":\"products\",\"file_name\":\"p.csv\",\"first_line\":1,"
     "\"header\":\"id,name,therapy_area,competitors\","
     "\"csv\":\"aWQsbmFtZSx0aGVyYXB5X2FyZWEsY29tcGV0aXRvcnMKUDcsU2V2ZW4sb25jb2xvZ3ksCg==\"}",
     200, "\"rows_ok\":1", NULL},
    {"POST", "/prescriptions", T_A1, "/prescriptions",
     "{\"row\":{\"customer_id\":\"C01\",\"product_id\":\"P1\",\"month\":\"2026-09\",\"our_rx\":30,"
     "\"market_rx\":60,\"patients_per_week\":40}}", 200, "\"customer_id\":\"C01\"", NULL},
    {"POST", "/prescriptions/monthly", T_A1, "/prescriptions/monthly",
     "{\"product_id\":\"P1\",\"customer_ids\":[\"C01\"],\"months\":[\"2026-09\"]}", 200,
     "\"month\":\"2026-09\"", NULL},
    {"POST", "/regrade", T_A1, "/regrade", "{\"product_id\":\"P1\"}", 200, "\"graded\"", NULL},
    {"GET", "/customers/{customer_id}/grades", T_R1, "/customers/C01/grades", NULL, 200, "\"grades\"", NULL},
    {"POST", "/customers/{customer_id}/adoption", T_R1, "/customers/C01/adoption",
     "{\"product_id\":\"P1\",\"stage\":2}", 200, "\"adoption_stage\":2", NULL},
    {"GET", "/reps/{rep_id}/customers", T_R1, "/reps/R1/customers?product_id=P1&page_size=2", NULL, 200,
     "\"next_page_token\"", NULL},
    {"GET", "/reps/{rep_id}/segments", T_R1, "/reps/R1/segments?product_id=P1", NULL, 200, "\"counts\"", NULL},
    {"GET", "/teams/{team}/segments", T_D1, "/teams/ONC/segments", NULL, 200, "\"counts\"", NULL},
    {"GET", "/segments", T_A1, "/segments", NULL, 200, "\"counts\"", NULL},
    {"GET", "/hospitals/grades", T_R1, "/hospitals/grades?product_id=P1", NULL, 200, "\"hospital_id\":\"H1\"", NULL},
    {"GET", "/grade-changes", T_A1, "/grade-changes?since_ms=0", NULL, 200, "{", NULL},
    /* scheduling */
    {"POST", "/reps/{rep_id}/plans", T_R1, "/reps/R1/plans", "{\"period\":\"{MONTH}\"}", 200,
     "\"period\":\"{MONTH}\"", NULL},
    {"GET", "/reps/{rep_id}/plans/{period}", T_R1, "/reps/R1/plans/{MONTH}", NULL, 200,
     "\"period\":\"{MONTH}\"", NULL},
    {"GET", "/reps/{rep_id}/quarters/{quarter}", T_R1, "/reps/R1/quarters/{Q}", NULL, 200,
     "\"quarter\":\"{Q}\"", NULL},
    {"POST", "/reps/{rep_id}/quarters/{quarter}/approval", T_D1, "/reps/R1/quarters/{Q}/approval", "{}", 200,
     "\"state\":\"approved\"", NULL},
    {"POST", "/reps/{rep_id}/planned-calls", T_R1, "/reps/R1/planned-calls",
     "{\"customer_id\":\"C03\",\"start_ms\":{TOMORROW},\"duration_min\":20}", 200, "\"call_id\"", "call_id"},
    {"POST", "/calls/{call_id}", T_R1, "/calls/{C}", "{\"pinned\":true}", 200, "\"pinned\":true", NULL},
    {"GET", "/calls/{call_id}", T_R1, "/calls/{C}", NULL, 200, "\"call_id\":\"{C}\"", NULL},
    {"POST", "/calls/{call_id}/cancel", T_R1, "/calls/{C}/cancel", "{\"reason\":\"sick\"}", 200, "{", NULL},
    {"POST", "/reps/{rep_id}/calls", T_R1, "/reps/R1/calls",
     "{\"report\":{\"customer_id\":\"C02\",\"product_id\":\"P1\",\"start_ms\":{AGO},\"duration_min\":15,"
     "\"objectives\":[\"o1\",\"o2\",\"o3\"],\"key_messages\":[\"efficacy\"]}}", 200, "\"call_id\"", NULL},
    {"POST", "/reps/{rep_id}/time-off", T_R1, "/reps/R1/time-off",
     "{\"start_ms\":{TOMORROW},\"end_ms\":{TOMORROW_END},\"reason\":\"training\"}", 200, "{", NULL},
    {"GET", "/reps/{rep_id}/attainment", T_R1, "/reps/R1/attainment?period={MONTH}", NULL, 200, "\"segments\"", NULL},
    {"GET", "/teams/{team}/attainment", T_D1, "/teams/ONC/attainment?period={MONTH}", NULL, 200, "\"reps\":2", NULL},
    {"GET", "/attainment", T_A1, "/attainment?period={MONTH}", NULL, 200, "\"reps\"", NULL},
    {"POST", "/pace-check", T_A1, "/pace-check", "{}", 200, "{", NULL},
    {"GET", "/reps/{rep_id}/calendar", T_R1, "/reps/R1/calendar?period={MONTH}", NULL, 200, "BEGIN:VCALENDAR", NULL},
    {"POST", "/travel-times", T_A1, "/travel-times",
     "{\"times\":[{\"from_id\":\"H1\",\"to_id\":\"H2\",\"minutes\":25}]}", 200, "\"stored\":1", NULL},
    /* meetings: one department meeting from proposal to evaluation */
    {"POST", "/reps/{rep_id}/meeting-suggestions", T_R1, "/reps/R1/meeting-suggestions",
     "{\"hospital_id\":\"H1\",\"department_id\":\"DP1\",\"product_id\":\"P1\",\"kind\":\"in_department\"}",
     200, "\"customer_id\":\"C01\"", NULL},
    {"POST", "/reps/{rep_id}/meetings", T_R1, "/reps/R1/meetings",
     "{\"meeting\":{\"kind\":\"in_department\",\"hospital_id\":\"H1\",\"department_id\":\"DP1\","
     "\"product_id\":\"P1\",\"start_ms\":{START},\"place\":\"DP1 room\",\"theme\":\"New indication\","
     "\"purpose\":\"new_indication\",\"audience\":\"prescribers\",\"budget_cents\":100000,\"head_count\":10,"
     "\"gift_cents_per_attendee\":5000,\"director_agreed\":true,\"ally_ids\":[\"AO_H1\",\"AI_H1\"],"
     "\"staff_ids\":[\"ST1\",\"ST2\"],\"invitees\":[{\"customer_id\":\"C01\"},{\"customer_id\":\"C02\"},"
     "{\"customer_id\":\"C04\"}]}}", 200, "\"meeting_id\"", "meeting_id"},
    {"GET", "/meetings/{meeting_id}", T_R1, "/meetings/{M}", NULL, 200, "\"state\":\"proposed\"", NULL},
    {"POST", "/meetings/{meeting_id}/transitions", T_R1, "/meetings/{M}/transitions",
     "{\"to_state\":\"pending_approval\"}", 200, "\"state\":\"pending_approval\"", NULL},
    {"POST", "/meetings/{meeting_id}/transitions", T_D1, "/meetings/{M}/transitions",
     "{\"to_state\":\"approved\"}", 200, "\"state\":\"approved\"", NULL},
    {"POST", "/meetings/{meeting_id}/invitations", T_R1, "/meetings/{M}/invitations",
     "{\"invitees\":[{\"customer_id\":\"C03\"}]}", 200, "\"customer_id\":\"C03\"", NULL},
    {"POST", "/meetings/{meeting_id}/transitions", T_R1, "/meetings/{M}/transitions",
     "{\"to_state\":\"confirmed\"}", 200, "\"state\":\"confirmed\"", NULL},
    {"POST", "/meetings/{meeting_id}/transitions", T_R1, "/meetings/{M}/transitions",
     "{\"to_state\":\"invitations_out\"}", 200, "\"state\":\"invitations_out\"", NULL},
    {"POST", "/meetings/{meeting_id}/rsvp", T_R1, "/meetings/{M}/rsvp",
     "{\"customer_id\":\"C01\",\"answer\":\"accepted\"}", 200, "\"rsvp\":\"accepted\"", NULL},
    {"POST", "/meetings/{meeting_id}/checklist", T_R1, "/meetings/{M}/checklist",
     "{\"item\":\"projector\",\"round\":\"day_before\"}", 200, "\"name\":\"projector\"", NULL},
    {"POST", "/meetings/{meeting_id}/checklist", T_R1, "/meetings/{M}/checklist",
     "{\"item\":\"projector\",\"round\":\"day_of\"}", 200, "\"day_of_ms\"", NULL},
    {"POST", "/meetings/{meeting_id}/transitions", T_R1, "/meetings/{M}/transitions",
     "{\"to_state\":\"in_progress\"}", 200, "\"state\":\"in_progress\"", NULL},
    {"POST", "/meetings/{meeting_id}/sign-ins", T_R1, "/meetings/{M}/sign-ins", "{\"customer_id\":\"C01\"}", 200,
     "\"attended\":true", NULL},
    {"POST", "/meetings/{meeting_id}/sign-ins", T_R1, "/meetings/{M}/sign-ins", "{\"customer_id\":\"C02\"}", 200,
     "\"attended\":true", NULL},
    {"POST", "/meetings/{meeting_id}/transitions", T_R1, "/meetings/{M}/transitions", "{\"to_state\":\"held\"}",
     200, "\"state\":\"held\"", NULL},
    {"POST", "/meetings/{meeting_id}/documents", T_R1, "/meetings/{M}/documents", "{\"document\":\"notice\"}",
     200, "\"notice\"", NULL},
    {"POST", "/meetings/{meeting_id}/documents", T_R1, "/meetings/{M}/documents",
     "{\"document\":\"sign_in_sheet\"}", 200, "\"sign_in_sheet\"", NULL},
    {"POST", "/meetings/{meeting_id}/documents", T_R1, "/meetings/{M}/documents", "{\"document\":\"invoice\"}",
     200, "\"invoice\"", NULL},
    {"POST", "/meetings/{meeting_id}/documents", T_R1, "/meetings/{M}/documents",
     "{\"document\":\"expense_detail\"}", 200, "\"expense_detail\"", NULL},
    {"POST", "/meetings/{meeting_id}/expenses", T_R1, "/meetings/{M}/expenses",
     "{\"expense\":{\"person_id\":\"C01\",\"kind\":\"meal\",\"cents\":3000}}", 200, "\"kind\":\"meal\"", NULL},
    {"POST", "/meetings/{meeting_id}/reimbursement", T_R1, "/meetings/{M}/reimbursement", "{}", 200,
     "\"reimbursed\":true", NULL},
    {"POST", "/meetings/{meeting_id}/follow-ups", T_R1, "/meetings/{M}/follow-ups", "{\"customer_id\":\"C01\"}",
     200, "\"done_ms\"", NULL},
    {"POST", "/meetings/{meeting_id}/evaluation", T_R1, "/meetings/{M}/evaluation",
     "{\"changes\":[{\"customer_id\":\"C01\",\"share_before\":0.2,\"share_after\":0.4},"
     "{\"customer_id\":\"C04\",\"share_before\":0.2,\"share_after\":0.2}]}", 200, "\"evaluation_score\"", NULL},
    {"GET", "/meetings/{meeting_id}/calendar", T_R1, "/meetings/{M}/calendar", NULL, 200, "BEGIN:VEVENT", NULL},
    {"GET", "/reps/{rep_id}/meetings", T_R1, "/reps/R1/meetings", NULL, 200, "\"meeting_id\":\"{M}\"", NULL},
    {"GET", "/teams/{team}/meetings", T_D1, "/teams/ONC/meetings?limit=10", NULL, 200,
     "\"meeting_id\":\"{M}\"", NULL},
    {"GET", "/meetings", T_A1, "/meetings?limit=10", NULL, 200, "\"meeting_id\":\"{M}\"", NULL},
    /* notification */
    {"POST", "/people/{person_id}/preferences", T_R1, "/people/R1/preferences",
     "{\"quiet_hours\":\"22:00-07:00\"}", 200, "{", NULL},
    {"POST", "/reminders", T_A1, "/reminders",
     "{\"reminder_id\":\"rt-1\",\"person_id\":\"R1\",\"kind\":\"custom\",\"title\":\"Bring samples\","
     "\"due_ms\":{TOMORROW},\"subject_id\":\"test:rt\"}", 200, "\"reminder_id\":\"rt-1\"", NULL},
    {"POST", "/reminders/batch", T_A1, "/reminders/batch",
     "{\"reminders\":[{\"reminder_id\":\"rt-2\",\"person_id\":\"R1\",\"kind\":\"custom\",\"title\":\"Batch\","
     "\"due_ms\":{TOMORROW},\"subject_id\":\"test:rt2\"}]}", 200, "\"reminder_ids\":[\"rt-2\"]", NULL},
    {"GET", "/reminders", T_A1, "/reminders?person_id=R1", NULL, 200, "\"title\":\"Bring samples\"", NULL},
    {"POST", "/reminders/move", T_A1, "/reminders/move", "{\"subject_id\":\"test:rt\",\"delta_ms\":60000}", 200,
     "\"moved\":1", NULL},
    {"POST", "/reminders/cancel", T_A1, "/reminders/cancel", "{\"subject_id\":\"test:rt\"}", 200,
     "\"cancelled\":1", NULL},
    {"GET", "/people/{person_id}/inbox", T_R1, "/people/R1/inbox?page_size=5", NULL, 200, "\"unread\"", NULL},
    {"POST", "/people/{person_id}/inbox/read", T_R1, "/people/R1/inbox/read",
     "{\"delivery_ids\":[\"d-none\"]}", 200, "{", NULL},
};
static const size_t case_count = sizeof cases / sizeof cases[0];

/* Fills in the {NAME} fields of a path or body template; returns out. */
static char *fill(const char *text, char *out, size_t cap)
{
    char start[24], tomorrow[24], tomorrow_end[24], ago[24];
    snprintf(start, sizeof start, "%lld", meeting_start_ms);
    snprintf(tomorrow, sizeof tomorrow, "%lld", tomorrow_ms);
    snprintf(tomorrow_end, sizeof tomorrow_end, "%lld", tomorrow_ms + 3600 * 1000);
    snprintf(ago, sizeof ago, "%lld", (long long)mr_now_ms() - 3600 * 1000);
    const char *names[] = {"{M}", "{C}", "{MONTH}", "{Q}", "{START}", "{TOMORROW_END}", "{TOMORROW}", "{AGO}"};
    const char *values[] = {meeting_id, call_id, month, quarter, start, tomorrow_end, tomorrow, ago};
    size_t n = 0;
    while (*text && n + 1 < cap) {
        size_t k = 0;
        while (k < 8 && strncmp(text, names[k], strlen(names[k])) != 0)
            k++;
        if (k < 8) {
            n += (size_t)snprintf(out + n, cap - n, "%s", values[k]);
            text += strlen(names[k]);
        } else {
            out[n++] = *text++;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
    return out;
}

static const route_case *case_of(const gw_route *r)
{
    for (size_t i = 0; i < case_count; i++)
        if (strcmp(cases[i].method, r->http_method) == 0 &&
            strcmp(r->pattern + strlen("/v1/regions/{region}"), cases[i].pattern) == 0)
            return &cases[i];
    return NULL;
}

static int request(const char *method, const char *path, int who, const char *body, h_http_answer *a)
{
    char full[640];   /* the prefix plus a path of up to 600 characters */
    snprintf(full, sizeof full, "/v1/regions/north%s", path);
    return h_http(port, method, full, who >= 0 ? tokens[who] : NULL, body, a);
}

/* ---- Tests ---- */

static void test_every_route_has_a_case(void **state)
{
    (void)state;
    for (size_t i = 0; i < gw_route_count; i++) {
        if (!case_of(&gw_routes[i]))
            fprintf(stderr, "route without a case: %s %s\n", gw_routes[i].http_method, gw_routes[i].pattern);
        assert_non_null(case_of(&gw_routes[i]));
    }
    for (size_t i = 0; i < case_count; i++) {   /* and every case names a route */
        char path[256];
        snprintf(path, sizeof path, "/v1/regions/{region}%s", cases[i].pattern);
        gw_params params;
        bool known = false;
        assert_non_null(gw_route_find(cases[i].method, path, &params, &known));
    }
}

static void keep(const char *body, const char *field)
{
    json_error_t err;
    json_t *j = json_loads(body, 0, &err);
    const char *v = json_string_value(json_object_get(j, field));
    assert_non_null(v);
    snprintf(strcmp(field, "meeting_id") == 0 ? meeting_id : call_id, 64, "%s", v);
    json_decref(j);
}

static void test_good_requests(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < case_count; i++) {
        const route_case *c = &cases[i];
        char path[512], body[2048], expect[256];
        h_http_answer a;
        int status = request(c->method, fill(c->path, path, sizeof path), c->who,
                             c->body ? fill(c->body, body, sizeof body) : NULL, &a);
        bool ok = status == c->status && (!c->expect || strstr(a.body, fill(c->expect, expect, sizeof expect)));
        if (!ok)
            fprintf(stderr, "case %zu: %s %s -> %d %s\n", i, c->method, path, status, a.body);
        failed += !ok;
        if (ok && c->capture)
            keep(a.body, c->capture);
        h_http_answer_free(&a);
    }
    assert_int_equal(failed, 0);
}

/* A 4xx answer is JSON with an error code and a message. */
static void assert_json_error(const h_http_answer *a, const char *code)
{
    json_error_t err;
    json_t *j = json_loads(a->body, 0, &err);
    json_t *e = json_object_get(j, "error");
    const char *got = json_string_value(json_object_get(e, "code"));
    if (!got || strcmp(got, code) != 0 || !json_string_value(json_object_get(e, "message")))
        fprintf(stderr, "expected error %s, got %s\n", code, a->body);
    assert_true(got && strcmp(got, code) == 0);
    assert_non_null(json_string_value(json_object_get(e, "message")));
    json_decref(j);
}

static void expect_status(const char *method, const char *path, int who, const char *body, int status,
                          const char *code)
{
    h_http_answer a;
    int got = request(method, path, who, body, &a);
    if (got != status)
        fprintf(stderr, "%s %s as %d -> %d (expected %d) %s\n", method, path, who, got, status, a.body);
    assert_int_equal(got, status);
    assert_json_error(&a, code);
    h_http_answer_free(&a);
}

/* The token of someone outside the route's scope in the same region. */
static int outsider_of(const gw_route *r, int good)
{
    if (r->touch == GW_TOUCH_REGION)
        return -1;   /* anyone of the region may */
    return good == T_R2 ? T_R1 : T_R2;
}

static void test_auth_scope_and_bad_input_per_route(void **state)
{
    (void)state;
    assert_true(meeting_id[0] && call_id[0]);
    int checked = 0;
    for (size_t i = 0; i < gw_route_count; i++) {
        const gw_route *r = &gw_routes[i];
        const route_case *c = case_of(r);
        char path[512], bad[600];
        fill(c->path, path, sizeof path);
        bool post = strcmp(r->http_method, "POST") == 0;
        const char *body = post ? "{}" : NULL;
        expect_status(r->http_method, path, -1, body, 401, "UNAUTHENTICATED");
        expect_status(r->http_method, path, T_R9, body, 403, "PERMISSION_DENIED");
        int outsider = outsider_of(r, c->who);
        if (outsider >= 0)
            expect_status(r->http_method, path, outsider, body, 403, "PERMISSION_DENIED");
        if (post) {
            expect_status("POST", path, c->who, "{not json", 400, "INVALID_ARGUMENT");
            expect_status("POST", path, c->who, "{\"no_such_field\":1}", 400, "INVALID_ARGUMENT");
        } else {
            snprintf(bad, sizeof bad, "%s%sno_such_field=1", path, strchr(path, '?') ? "&" : "?");
            expect_status("GET", bad, c->who, NULL, 400, "INVALID_ARGUMENT");
        }
        if (r->required && r->required[0]) {
            h_http_answer a;
            path[strcspn(path, "?")] = '\0';   /* a GET's required fields come in the query */
            assert_int_equal(request(r->http_method, path, c->who, post ? "{}" : NULL, &a), 400);
            char first[64];
            snprintf(first, sizeof first, "'%.*s' is required", (int)strcspn(r->required, ","), r->required);
            if (!strstr(a.body, first))
                fprintf(stderr, "%s %s: %s\n", r->http_method, path, a.body);
            assert_non_null(strstr(a.body, first));
            assert_json_error(&a, "INVALID_ARGUMENT");
            h_http_answer_free(&a);
        }
        checked++;
    }
    fprintf(stderr, "routes checked for 401/403/400: %d\n", checked);
    assert_int_equal(checked, (int)gw_route_count);
}

static void test_content_types_and_owner_checks(void **state)
{
    (void)state;
    h_http_answer a;
    char path[256];
    snprintf(path, sizeof path, "/meetings/%s/calendar", meeting_id);
    assert_int_equal(request("GET", path, T_D1, NULL, &a), 200);   /* the rep's DM sees it */
    assert_non_null(strstr(a.body, "BEGIN:VCALENDAR"));
    h_http_answer_free(&a);
    assert_int_equal(request("GET", "/meetings/no-such-meeting", T_R1, NULL, &a), 404);
    assert_json_error(&a, "NOT_FOUND");
    h_http_answer_free(&a);
    assert_int_equal(request("POST", "/calls/no-such-call/cancel", T_R1, "{}", &a), 404);
    h_http_answer_free(&a);
    /* a call's owner is asked of scheduling (GetCall): its rep's DM sees it, another rep does not,
       an unknown id is not found and a malformed one is bad input */
    snprintf(path, sizeof path, "/calls/%s", call_id);
    assert_int_equal(request("GET", path, T_D1, NULL, &a), 200);
    assert_non_null(strstr(a.body, "\"rep_id\":\"R1\""));
    h_http_answer_free(&a);
    expect_status("GET", path, T_R2, NULL, 403, "PERMISSION_DENIED");
    expect_status("GET", "/calls/no-such-call", T_R1, NULL, 404, "NOT_FOUND");
    expect_status("POST", "/calls/bad!id/cancel", T_R1, "{}", 400, "INVALID_ARGUMENT");
    /* a body naming another rep does not move the proposal into their territory */
    assert_int_equal(request("POST", "/reps/R1/meetings", T_R1, "{\"meeting\":{\"rep_id\":\"R2\"}}", &a), 400);
    h_http_answer_free(&a);
    /* the OpenAPI document publishes every route */
    assert_int_equal(h_http(port, "GET", "/openapi.json", NULL, NULL, &a), 200);
    for (size_t i = 0; i < gw_route_count; i++) {
        char quoted[300];
        snprintf(quoted, sizeof quoted, "\"%s\"", gw_routes[i].pattern);
        assert_non_null(strstr(a.body, quoted));
    }
    assert_non_null(strstr(a.body, "text/calendar"));
    assert_non_null(strstr(a.body, "\"/v1/regions/{region}/changes\""));
    assert_non_null(strstr(a.body, "\"required\":[\"meeting\"]"));   /* ProposeMeeting's body */
    /* ListMeetings is paged: page_token and limit in, next_page_token out; on the team's route the
       team is the path's */
    json_t *doc = json_loads(a.body, 0, NULL);
    assert_non_null(doc);
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"),
                                                 "/v1/regions/{region}/teams/{team}/meetings"), "get");
    assert_non_null(op);
    int seen_token = 0, seen_limit = 0, seen_team_query = 0;
    json_t *param;
    size_t at;
    json_array_foreach(json_object_get(op, "parameters"), at, param) {
        const char *name = json_string_value(json_object_get(param, "name"));
        const char *in = json_string_value(json_object_get(param, "in"));
        seen_token += name && strcmp(name, "page_token") == 0;
        seen_limit += name && strcmp(name, "limit") == 0;
        seen_team_query += name && in && strcmp(name, "team") == 0 && strcmp(in, "query") == 0;
    }
    assert_int_equal(seen_token, 1);
    assert_int_equal(seen_limit, 1);
    assert_int_equal(seen_team_query, 0);
    char *reply_schema = json_dumps(json_object_get(json_object_get(op, "responses"), "200"), 0);
    assert_non_null(reply_schema);
    assert_non_null(strstr(reply_schema, "\"next_page_token\""));
    free(reply_schema);
    json_decref(doc);
    h_http_answer_free(&a);
    /* a malformed page token is bad input */
    assert_int_equal(request("GET", "/meetings?page_token=nonsense", T_A1, NULL, &a), 400);
    assert_json_error(&a, "INVALID_ARGUMENT");
    h_http_answer_free(&a);
}

static void test_revoked_token_stops_within_cache_time(void **state)
{
    (void)state;
    char token[96], hash[72], bin[512], command[1400];
    assert_int_equal(h_stack_token(&stack, "--user R1 --role rep --region north", token, sizeof token, hash, sizeof hash), 0);
    h_http_answer a;
    assert_int_equal(h_http(port, "GET", "/v1/regions/north/people/R1/inbox", token, NULL, &a), 200);
    h_http_answer_free(&a);
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s token revoke %s >/dev/null", bin, stack.config_path, hash);
    assert_int_equal(system(command), 0);
    usleep(400 * 1000);   /* past token_cache_ms = 300 */
    assert_int_equal(h_http(port, "GET", "/v1/regions/north/people/R1/inbox", token, NULL, &a), 401);
    h_http_answer_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_has_a_case),
        cmocka_unit_test(test_good_requests),
        cmocka_unit_test(test_auth_scope_and_bad_input_per_route),
        cmocka_unit_test(test_content_types_and_owner_checks),
        cmocka_unit_test(test_revoked_token_stops_within_cache_time),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
