/* test_gateway_access.c: the gateway's pure access rules and route
 * matching: every role against resources in and out of its scope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "access.h"
#include "routes.h"

static const gw_caller rep7 = {"R7", GW_ROLE_REP, "north", "ONC"};
static const gw_caller dm2 = {"DM2", GW_ROLE_DM, "north", "ONC"};
static const gw_caller admin_north = {"A1", GW_ROLE_REGION_ADMIN, "north", ""};
static const gw_caller company = {"C1", GW_ROLE_COMPANY_ADMIN, "", ""};

static void rep_sees_only_own_territory(void **state)
{
    (void)state;
    const char *why = NULL;
    gw_resource own = {.region = "north", .rep_id = "R7", .rep_dm_id = "DM2"};
    gw_resource other = {.region = "north", .rep_id = "R8", .rep_dm_id = "DM2"};
    gw_resource other_region = {.region = "south", .rep_id = "R7"};
    gw_resource inbox_own = {.region = "north", .person_id = "R7"};
    gw_resource inbox_other = {.region = "north", .person_id = "R8"};
    gw_resource admin = {.region = "north", .admin_only = true};
    assert_true(gw_allowed(&rep7, &own, &why));
    assert_false(gw_allowed(&rep7, &other, &why));
    assert_non_null(strstr(why, "territory"));
    assert_false(gw_allowed(&rep7, &other_region, &why));
    assert_non_null(strstr(why, "region"));
    assert_true(gw_allowed(&rep7, &inbox_own, &why));
    assert_false(gw_allowed(&rep7, &inbox_other, &why));
    assert_false(gw_allowed(&rep7, &admin, &why));
}

static void dm_sees_their_team(void **state)
{
    (void)state;
    gw_resource team_rep = {.region = "north", .rep_id = "R8", .rep_dm_id = "DM2"};
    gw_resource other_team = {.region = "north", .rep_id = "R9", .rep_dm_id = "DM3"};
    gw_resource unknown_dm = {.region = "north", .rep_id = "R9"};
    gw_resource rep_inbox = {.region = "north", .person_id = "R8"};
    assert_true(gw_allowed(&dm2, &team_rep, NULL));
    assert_false(gw_allowed(&dm2, &other_team, NULL));
    assert_false(gw_allowed(&dm2, &unknown_dm, NULL));
    assert_false(gw_allowed(&dm2, &rep_inbox, NULL));
}

static void admins_by_region(void **state)
{
    (void)state;
    gw_resource north = {.region = "north", .rep_id = "R9", .admin_only = true};
    gw_resource south = {.region = "south", .admin_only = true};
    assert_true(gw_allowed(&admin_north, &north, NULL));
    assert_false(gw_allowed(&admin_north, &south, NULL));
    assert_true(gw_allowed(&company, &south, NULL));
    gw_caller nobody = {"", GW_ROLE_REP, "north", ""};
    assert_false(gw_allowed(&nobody, &north, NULL));
    gw_caller no_role = {"X", GW_ROLE_NONE, "north", ""};
    assert_false(gw_allowed(&no_role, &north, NULL));
}

static void roles_parse(void **state)
{
    (void)state;
    assert_int_equal(gw_role_parse("dm"), GW_ROLE_DM);
    assert_int_equal(gw_role_parse("company_admin"), GW_ROLE_COMPANY_ADMIN);
    assert_int_equal(gw_role_parse("root"), GW_ROLE_NONE);
    assert_int_equal(gw_role_parse(NULL), GW_ROLE_NONE);
    assert_string_equal(gw_role_name(GW_ROLE_REGION_ADMIN), "region_admin");
}

static void paths_match_patterns(void **state)
{
    (void)state;
    gw_params p;
    assert_true(gw_route_match("/v1/regions/{region}/reps/{rep_id}/plans", "/v1/regions/north/reps/R7/plans", &p));
    assert_int_equal(p.count, 2);
    assert_string_equal(gw_param(&p, "region"), "north");
    assert_string_equal(gw_param(&p, "rep_id"), "R7");
    assert_null(gw_param(&p, "customer_id"));
    assert_false(gw_route_match("/v1/regions/{region}/reps/{rep_id}/plans", "/v1/regions/north/reps//plans", &p));
    assert_false(gw_route_match("/v1/regions/{region}/reps", "/v1/regions/north/reps/R7", &p));
    assert_false(gw_route_match("/v1/regions/{region}", "/v1/regions", &p));
    bool known;
    assert_non_null(gw_route_find("GET", "/v1/regions/north/people/P1/inbox", &p, &known));
    assert_null(gw_route_find("DELETE", "/v1/regions/north/people/P1/inbox", &p, &known));
    assert_true(known);
    assert_null(gw_route_find("GET", "/v1/nothing", &p, &known));
    assert_false(known);
}

static void team_figures_for_their_manager(void **state)
{
    (void)state;
    const char *why = NULL;
    gw_resource onc = {.region = "north", .team = "ONC"};
    gw_resource cv = {.region = "north", .team = "CV"};
    gw_resource onc_south = {.region = "south", .team = "ONC"};
    assert_true(gw_allowed(&dm2, &onc, &why));
    assert_false(gw_allowed(&dm2, &cv, &why));
    assert_non_null(strstr(why, "team"));
    assert_false(gw_allowed(&dm2, &onc_south, &why));
    assert_false(gw_allowed(&rep7, &onc, &why));     /* a rep of the team is not its manager */
    assert_true(gw_allowed(&admin_north, &cv, &why));
    assert_false(gw_allowed(&admin_north, &onc_south, &why));
    assert_true(gw_allowed(&company, &onc_south, &why));
}

static void nobodys_things_for_admins_only(void **state)
{
    (void)state;
    gw_resource unowned = {.region = "north", .rep_id = ""};
    assert_false(gw_allowed(&rep7, &unowned, NULL));
    assert_false(gw_allowed(&dm2, &unowned, NULL));
    assert_true(gw_allowed(&admin_north, &unowned, NULL));
}

static void collect(const char *name, size_t len, void *arg)
{
    char *out = arg;
    strncat(out, name, len);
    strcat(out, "|");
}

static void routes_table_is_sound(void **state)
{
    (void)state;
    char fields[256] = "";
    gw_route r = {.required = "a,b.c,,d"};
    gw_route_each_required(&r, collect, fields);
    assert_string_equal(fields, "a|b.c|d|");
    for (size_t i = 0; i < gw_route_count; i++) {
        const gw_route *t = &gw_routes[i];
        /* every route is under a region, names a service method and its types */
        assert_int_equal(strncmp(t->pattern, "/v1/regions/{region}/", 21), 0);
        assert_true(t->service && t->rpc && t->request && t->reply && t->summary);
        /* the parameter the route's access rule needs is in its path */
        const char *need = t->touch == GW_TOUCH_REP ? "{rep_id}" : t->touch == GW_TOUCH_CUSTOMER ? "{customer_id}"
                           : t->touch == GW_TOUCH_PERSON ? "{person_id}" : t->touch == GW_TOUCH_TEAM ? "{team}"
                           : t->touch == GW_TOUCH_MEETING ? "{meeting_id}" : t->touch == GW_TOUCH_CALL ? "{call_id}"
                           : "";
        assert_non_null(strstr(t->pattern, need));
        /* no two routes share a method and a pattern */
        for (size_t k = 0; k < i; k++)
            assert_false(strcmp(t->pattern, gw_routes[k].pattern) == 0 &&
                         strcmp(t->http_method, gw_routes[k].http_method) == 0);
        /* the field a text answer comes from is a field of the reply */
        if (t->text_field)
            assert_non_null(protobuf_c_message_descriptor_get_field_by_name(t->reply, t->text_field));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rep_sees_only_own_territory),
        cmocka_unit_test(dm_sees_their_team),
        cmocka_unit_test(admins_by_region),
        cmocka_unit_test(roles_parse),
        cmocka_unit_test(paths_match_patterns),
        cmocka_unit_test(team_figures_for_their_manager),
        cmocka_unit_test(routes_table_is_sound),
        cmocka_unit_test(nobodys_things_for_admins_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
