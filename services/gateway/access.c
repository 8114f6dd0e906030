/* access.c: the access rules of the gateway (access.h). Pure. */
#include "access.h"

#include <string.h>

static const char *const role_names[] = {"none", "rep", "dm", "region_admin", "company_admin"};

gw_role gw_role_parse(const char *name)
{
    for (int r = GW_ROLE_REP; name && r <= GW_ROLE_COMPANY_ADMIN; r++)
        if (strcmp(name, role_names[r]) == 0)
            return (gw_role)r;
    return GW_ROLE_NONE;
}

const char *gw_role_name(gw_role role)
{
    return role >= GW_ROLE_NONE && role <= GW_ROLE_COMPANY_ADMIN ? role_names[role] : "none";
}

static bool same(const char *a, const char *b)
{
    return a && b && a[0] && strcmp(a, b) == 0;
}

/* The territory rules of reps and district managers. */
static bool territory_allowed(const gw_caller *c, const gw_resource *r, const char **why)
{
    if (r->person_id && !same(r->person_id, c->user_id)) {
        *why = "only the person themself may do this";
        return false;
    }
    if (r->team) {
        if (c->role != GW_ROLE_DM || !same(r->team, c->team)) {
            *why = "team figures are for the team's district manager";
            return false;
        }
        return true;
    }
    if (!r->rep_id)
        return true;
    if (c->role == GW_ROLE_REP && !same(r->rep_id, c->user_id)) {
        *why = "outside the rep's own territory";
        return false;
    }
    if (c->role == GW_ROLE_DM && !same(r->rep_id, c->user_id) && !same(r->rep_dm_id, c->user_id)) {
        *why = "outside the district manager's team";
        return false;
    }
    return true;
}

bool gw_allowed(const gw_caller *c, const gw_resource *r, const char **why)
{
    static const char *unused;
    if (!why)
        why = &unused;
    if (!c || c->role == GW_ROLE_NONE || !c->user_id || !c->user_id[0]) {
        *why = "no valid identity";
        return false;
    }
    if (c->role == GW_ROLE_COMPANY_ADMIN)
        return true;
    if (!same(r->region, c->region)) {
        *why = "outside the caller's region";
        return false;
    }
    if (c->role == GW_ROLE_REGION_ADMIN)
        return true;
    if (r->admin_only) {
        *why = "administrators only";
        return false;
    }
    return territory_allowed(c, r, why);
}
