/* access.h: who may do what, decided without I/O (the gateway's pure
 * core for access control).
 *
 * Roles (DOMAIN.md section 1, issue 7):
 *   rep            their own territory: themselves, their customers, their inbox
 *   dm             their team: the reps whose district manager they are, and
 *                  those reps' customers
 *   region_admin   everything in their region
 *   company_admin  everything in every region
 * Every role but company_admin is bound to its home region. */
#ifndef MEDREP_GW_ACCESS_H
#define MEDREP_GW_ACCESS_H

#include <stdbool.h>

#include "envelope.pb-c.h"

typedef enum {
    GW_ROLE_NONE = 0,
    GW_ROLE_REP,
    GW_ROLE_DM,
    GW_ROLE_REGION_ADMIN,
    GW_ROLE_COMPANY_ADMIN,
} gw_role;

/* "rep", "dm", "region_admin", "company_admin" -> role; GW_ROLE_NONE otherwise. */
gw_role gw_role_parse(const char *name);
const char *gw_role_name(gw_role role);

typedef struct {
    const char *user_id;
    gw_role role;
    const char *region;        /* home region ("" for company admins) */
    const char *team;
} gw_caller;

/* What a request touches. NULL fields are not involved. */
typedef struct {
    const char *region;        /* always set */
    const char *rep_id;        /* the rep whose territory holds the resource */
    const char *rep_dm_id;     /* that rep's district manager (from master data) */
    const char *person_id;     /* a person's own things: inbox, preferences */
    const char *team;          /* a team's figures: its district manager (caller's team) */
    bool admin_only;           /* operations for administrators only */
} gw_resource;

/* True when caller may act on resource. Writes the reason for a refusal
 * into why (static text). */
bool gw_allowed(const gw_caller *caller, const gw_resource *res, const char **why);

#endif
