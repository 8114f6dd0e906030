/* test_gateway_api.c: the HTTP gateway against a running stack: the fixed
 * paths (/healthz, /openapi.json, /metrics), tokens made with `medrep
 * token` (unknown, revoked), at least 100 cross-scope accesses (another
 * rep's customers, plans, meetings and inbox; another team; another
 * region; admin routes) each refused with 403, in-scope access let
 * through to the service, bad input (JSON, unknown fields, oversized
 * bodies) refused with a clear error, the rate limit, and the changes
 * feed filtered to what the caller may see. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "calls.h"
#include "clock.h"
#include "events.h"
#include "http.h"
#include "masterdata.h"
#include "stack.h"

static h_stack stack;
static int port;
static char tok_r1[96], tok_d1[96], tok_a1[96], tok_c0[96], tok_r9[96], tok_revoked[96],
    tok_rate[96], revoked_hash[72];

static void stage_master_data(void)
{
    mr_store *north = h_stack_store(&stack, 0), *south = h_stack_store(&stack, 1);
    mr_tx *tx = mr_tx_new();
    const char *reps[][2] = {{"R1", "D1"}, {"R2", "D1"}, {"R3", "D2"}};
    for (int i = 0; i < 3; i++) {
        mr_rep r = {0};
        snprintf(r.id, sizeof r.id, "%s", reps[i][0]);
        snprintf(r.dm_id, sizeof r.dm_id, "%s", reps[i][1]);
        snprintf(r.team, sizeof r.team, "ONC");
        assert_int_equal(mr_md_stage_rep(tx, "north", &r, NULL), 0);
        mr_customer c = {0};
        snprintf(c.id, sizeof c.id, "C%d", i + 1);
        snprintf(c.rep_id, sizeof c.rep_id, "%s", reps[i][0]);
        assert_int_equal(mr_md_stage_customer(tx, "north", &c, NULL), 0);
    }
    assert_int_equal(mr_tx_commit(north, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_reset(tx);
    mr_rep r9 = {.id = "R9", .dm_id = "D9"};
    mr_customer c9 = {.id = "C9", .rep_id = "R9"};
    assert_int_equal(mr_md_stage_rep(tx, "south", &r9, NULL), 0);
    assert_int_equal(mr_md_stage_customer(tx, "south", &c9, NULL), 0);
    assert_int_equal(mr_tx_commit(south, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
    mr_store_free(&north);
    mr_store_free(&south);
}

static int setup(void **state)
{
    (void)state;
    port = h_free_port();
    char extra[256];
    snprintf(extra, sizeof extra,
             "[gateway]\nport = %d\nthreads = 2\nmax_body_bytes = 4096\nrate_per_second = 5\n"
             "rate_burst = 1000\nauth_region = north\ntoken_cache_ms = 0\n", port);
    const char *regions[] = {"north", "south", NULL};
    if (h_stack_start(&stack, 2, regions, extra) != 0)
        return -1;
    const char *programs[] = {"scoring", "scheduling", "meetings", "notify", "gateway"};
    for (int i = 0; i < 5; i++) {
        char instance[64];
        snprintf(instance, sizeof instance, "%s-gw", programs[i]);
        if (h_stack_start_service(&stack, programs[i], instance, NULL) < 0)
            return -1;
    }
    if (h_stack_wait_workers(&stack, "notify", 1, 10000) != 0 ||
        h_stack_wait_workers(&stack, "scoring", 1, 10000) != 0)
        return -1;
    stage_master_data();
    assert_int_equal(h_stack_token(&stack, "--user R1 --role rep --region north", tok_r1, sizeof tok_r1, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user D1 --role dm --region north", tok_d1, sizeof tok_d1, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user A1 --role region_admin --region north", tok_a1, sizeof tok_a1, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user C0 --role company_admin", tok_c0, sizeof tok_c0, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user R9 --role rep --region south", tok_r9, sizeof tok_r9, NULL, 0), 0);
    assert_int_equal(h_stack_token(&stack, "--user R2 --role rep --region north", tok_revoked, sizeof tok_revoked, revoked_hash, sizeof revoked_hash), 0);
    assert_int_equal(h_stack_token(&stack, "--user R3 --role rep --region north", tok_rate, sizeof tok_rate, NULL, 0), 0);
    return h_http_wait_up(port, 5000) ? 0 : -1;   /* the gateway listens once it is up */
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

static int status_of(const char *method, const char *path, const char *token, const char *body)
{
    h_http_answer a;
    int status = h_http(port, method, path, token, body, &a);
    if (status == 500)
        fprintf(stderr, "%s %s -> %d %s\n", method, path, status, a.body);
    h_http_answer_free(&a);
    return status;
}

static void test_fixed_paths(void **state)
{
    (void)state;
    h_http_answer a;
    assert_int_equal(h_http(port, "GET", "/openapi.json", NULL, NULL, &a), 200);
    assert_non_null(strstr(a.body, "\"openapi\":\"3.0.3\""));
    assert_non_null(strstr(a.body, "/v1/regions/{region}/people/{person_id}/inbox"));
    h_http_answer_free(&a);
    assert_int_equal(h_http(port, "GET", "/metrics", NULL, NULL, &a), 200);
    assert_non_null(strstr(a.body, "medrep_http_requests_total{route=\"GET /v1/regions/{region}/people/{person_id}/inbox\"}"));
    assert_non_null(strstr(a.body, "medrep_service_up{service=\"notify\",instance=\"notify-gw\"} 1"));
    assert_non_null(strstr(a.body, "medrep_broker_up 1"));
    /* no read_cache_ms configured: each cache group's own default */
    assert_non_null(strstr(a.body, "medrep_gateway_cache_max_age_seconds{group=\"inbox\"} 60.000\n"));
    assert_non_null(strstr(a.body, "medrep_gateway_cache_max_age_seconds{group=\"plan\"} 60.000\n"));
    assert_non_null(strstr(a.body, "medrep_gateway_cache_max_age_seconds{group=\"grades\"} 300.000\n"));
    h_http_answer_free(&a);
    assert_int_equal(h_http(port, "GET", "/v1/nothing", tok_r1, NULL, &a), 404);
    assert_non_null(strstr(a.body, "\"code\":\"NOT_FOUND\""));
    h_http_answer_free(&a);
    assert_int_equal(status_of("DELETE", "/v1/regions/north/people/R1/inbox", tok_r1, NULL), 405);
}

static void test_tokens(void **state)
{
    (void)state;
    const char *inbox = "/v1/regions/north/people/R2/inbox";
    assert_int_equal(status_of("GET", inbox, NULL, NULL), 401);
    assert_int_equal(status_of("GET", inbox, "mrt_not_a_real_token_at_all", NULL), 401);
    assert_int_equal(status_of("GET", inbox, tok_revoked, NULL), 200);
    char bin[512], command[1400];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s token revoke %s >/dev/null", bin,
             stack.config_path, revoked_hash);
    assert_int_equal(system(command), 0);
    assert_int_equal(status_of("GET", inbox, tok_revoked, NULL), 401);
}

/* Every (token, route) pair here is outside the token's scope. */
static void test_cross_scope_refused(void **state)
{
    (void)state;
    const char *outside[][2] = {
        /* rep R1: other reps, their customers, other inboxes, admin routes, the south */
        {tok_r1, "R2"}, {tok_r1, "R3"}, {tok_r1, "C2"}, {tok_r1, "C3"}, {tok_r1, "@R2"},
        {tok_r1, "@D1"}, {tok_r1, "@A1"}, {tok_r1, "!"}, {tok_r1, "sR9"}, {tok_r1, "sC9"},
        /* dm D1: another team, its reps' inboxes, the south */
        {tok_d1, "R3"}, {tok_d1, "C3"}, {tok_d1, "@R1"}, {tok_d1, "@R2"}, {tok_d1, "!"},
        {tok_d1, "sR9"}, {tok_d1, "sC9"},
        /* region admin of the north: the south */
        {tok_a1, "sR9"}, {tok_a1, "sC9"}, {tok_a1, "s!"},
        /* rep of the south: the north */
        {tok_r9, "R1"}, {tok_r9, "C1"}, {tok_r9, "@R1"}, {tok_r9, "!"}, {tok_r9, "R2"},
        {tok_r9, "R3"}, {tok_r9, "C2"}, {tok_r9, "C3"}, {tok_r9, "@D1"},
        /* people's own things, even for their managers and admins of other regions */
        {tok_d1, "@A1"}, {tok_a1, "s@R9"},
    };
    const char *rep_routes[][2] = {{"GET", "customers"}, {"GET", "segments"}, {"GET", "attainment"},
                                   {"POST", "plans"}, {"POST", "calls"}, {"GET", "meetings"}};
    const char *person_routes[][2] = {{"GET", "inbox"}, {"POST", "inbox/read"}, {"POST", "preferences"}};
    const char *admin_routes[][2] = {{"GET", "segments"}, {"GET", "grade-changes"}, {"POST", "imports"},
                                     {"POST", "prescriptions"}};
    int refused = 0, tried = 0;
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        const char *token = outside[i][0], *target = outside[i][1];
        const char *region = target[0] == 's' ? "south" : "north";
        if (target[0] == 's')
            target++;
        char path[256];
        for (int k = 0; k < 6; k++) {
            const char *kind = NULL;
            if (target[0] == 'R') {
                kind = rep_routes[k][1];
                snprintf(path, sizeof path, "/v1/regions/%s/reps/%s/%s", region, target, kind);
            } else if (target[0] == 'C' && k == 0) {
                kind = "grades";
                snprintf(path, sizeof path, "/v1/regions/%s/customers/%s/grades", region, target);
            } else if (target[0] == '@' && k < 3) {
                kind = person_routes[k][1];
                snprintf(path, sizeof path, "/v1/regions/%s/people/%s/%s", region, target + 1, kind);
            } else if (target[0] == '!' && k < 4) {
                kind = admin_routes[k][1];
                snprintf(path, sizeof path, "/v1/regions/%s/%s", region, kind);
            }
            if (!kind)
                continue;
            const char *method = target[0] == 'R' ? rep_routes[k][0]
                                 : target[0] == '@' ? person_routes[k][0]
                                 : target[0] == '!' ? admin_routes[k][0] : "GET";
            int status = status_of(method, path, token, strcmp(method, "POST") == 0 ? "{}" : NULL);
            tried++;
            if (status == 403)
                refused++;
            else
                fprintf(stderr, "NOT refused: %s %s -> %d\n", method, path, status);
        }
    }
    fprintf(stderr, "cross-scope accesses tried %d, refused %d\n", tried, refused);
    assert_true(tried >= 100);
    assert_int_equal(refused, tried);
}

static void test_in_scope_reaches_service(void **state)
{
    (void)state;
    h_http_answer a;
    assert_int_equal(h_http(port, "GET", "/v1/regions/north/people/R1/inbox", tok_r1, NULL, &a), 200);
    assert_non_null(strstr(a.body, "{"));
    h_http_answer_free(&a);
    /* the dm sees a rep of the team; the admins see the region; the company everything */
    int s = status_of("GET", "/v1/regions/north/reps/R2/meetings", tok_d1, NULL);
    assert_true(s != 401 && s != 403);
    s = status_of("GET", "/v1/regions/north/reps/R3/meetings", tok_a1, NULL);
    assert_true(s != 401 && s != 403);
    s = status_of("GET", "/v1/regions/south/reps/R9/meetings", tok_c0, NULL);
    assert_true(s != 401 && s != 403);
    assert_int_equal(status_of("GET", "/v1/regions/west/people/C0/inbox", tok_c0, NULL), 404);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *prefs = "/v1/regions/north/people/R1/preferences";
    h_http_answer a;
    assert_int_equal(h_http(port, "POST", prefs, tok_r1, "{not json", &a), 400);
    assert_non_null(strstr(a.body, "INVALID_ARGUMENT"));
    h_http_answer_free(&a);
    assert_int_equal(h_http(port, "POST", prefs, tok_r1, "{\"no_such_field\":1}", &a), 400);
    assert_non_null(strstr(a.body, "no_such_field"));
    h_http_answer_free(&a);
    assert_int_equal(status_of("POST", prefs, tok_r1, "[1,2]"), 400);
    assert_int_equal(status_of("POST", prefs, tok_r1, "{\"timezone\":5}"), 400);
    char *big = malloc(8192);
    memset(big, ' ', 8191);
    big[0] = '{';
    big[8190] = '}';
    big[8191] = '\0';
    assert_int_equal(status_of("POST", prefs, tok_r1, big), 413);
    free(big);
    /* a body naming another person does not make the request someone else's:
     * the path's person is checked and wins */
    int status = status_of("POST", "/v1/regions/north/people/R1/inbox/read", tok_r1,
                           "{\"person_id\":\"R2\",\"delivery_ids\":[\"d-none\"]}");
    assert_true(status != 401 && status != 403);
}

static void test_rate_limit(void **state)
{
    (void)state;
    /* burst 1000 at 5/s: a burst bigger than what is left gets 429s */
    int limited = 0;
    for (int i = 0; i < 1100 && !limited; i++)
        limited = status_of("GET", "/v1/regions/north/people/R3/inbox", tok_rate, NULL) == 429;
    assert_true(limited);
}

static void stage_call_logged(mr_store *store, const char *rep)
{
    mr_tx *tx = mr_tx_new();
    Medrep__CallLogged cl = MEDREP__CALL_LOGGED__INIT;
    cl.rep_id = (char *)rep;
    cl.call_id = "call-x";
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.event_id = (char *)rep;
    ev.region = "north";
    ev.body_case = MEDREP__EVENT__BODY_CALL_LOGGED;
    ev.call_logged = &cl;
    assert_int_equal(mr_events_stage(tx, &ev, 0), 0);
    assert_int_equal(mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL), MR_TX_COMMITTED);
    mr_tx_free(&tx);
}

static void test_changes_feed(void **state)
{
    (void)state;
    mr_store *north = h_stack_store(&stack, 0);
    stage_call_logged(north, "R1");
    stage_call_logged(north, "R3");
    mr_store_free(&north);
    h_http_answer a;
    assert_int_equal(h_http(port, "GET", "/v1/regions/north/changes?limit=1000", tok_r1, NULL, &a), 200);
    assert_non_null(strstr(a.body, "\"rep_id\":\"R1\""));
    assert_null(strstr(a.body, "\"rep_id\":\"R3\""));
    char next[64] = "";
    char *n = strstr(a.body, "\"next\":\"");
    assert_non_null(n);
    sscanf(n + 8, "%63[^\"]", next);
    h_http_answer_free(&a);
    assert_int_equal(h_http(port, "GET", "/v1/regions/north/changes?limit=1000", tok_a1, NULL, &a), 200);
    assert_non_null(strstr(a.body, "\"rep_id\":\"R3\""));
    h_http_answer_free(&a);
    char path[160];
    snprintf(path, sizeof path, "/v1/regions/north/changes?since=%s", next);
    assert_int_equal(h_http(port, "GET", path, tok_r1, NULL, &a), 200);
    assert_non_null(strstr(a.body, "\"changes\":[]"));
    h_http_answer_free(&a);
    assert_int_equal(status_of("GET", "/v1/regions/north/changes?since=bogus", tok_r1, NULL), 400);
    assert_int_equal(status_of("GET", "/v1/regions/south/changes", tok_r1, NULL), 403);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_paths),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_cross_scope_refused),
        cmocka_unit_test(test_in_scope_reaches_service),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_changes_feed),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
