/* masterdata.h: the master data every service shares (DOMAIN.md section
 * 1): products, hospitals (with per-product listing and supply-channel
 * status), departments, customers (prescribers and non-prescribers) with
 * their visit windows, and reps. The scoring service owns and imports it;
 * the others read it through these functions, never through raw keys.
 *
 * Redis layout (all keys of a region carry its hash tag {r:<region>}):
 *   md:product:<id>            hash of the product's fields
 *   md:hospital:<id>           hash; listing:<product> and channel:<product> fields
 *   md:dept:<id>               hash
 *   md:customer:<id>           hash; "windows" holds the visit windows text
 *   md:rep:<id>                hash
 *   md:products, md:hospitals, md:depts, md:customers, md:reps    sets of ids
 *   md:hospital:<id>:depts, md:hospital:<id>:customers,
 *   md:dept:<id>:customers, md:rep:<id>:customers,
 *   md:rep:<id>:hospitals, md:team:<team>:reps, md:dm:<id>:reps   sets of ids
 *
 * Writes are staged into a mr_tx (so an import commits a batch of rows
 * atomically, with its events); reads go straight to the store. Ids are
 * 1..63 bytes of [A-Za-z0-9._:-]. Text fields are copied into fixed
 * buffers and cut to fit. */
#ifndef MEDREP_MASTERDATA_H
#define MEDREP_MASTERDATA_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

#define MR_ID_MAX 64
#define MR_NAME_MAX 128

typedef enum { MR_LISTING_NOT_LISTED = 0, MR_LISTING_APPLIED = 1, MR_LISTING_LISTED = 2 } mr_listing;

typedef struct {
    char id[MR_ID_MAX];
    char name[MR_NAME_MAX];
    char therapy_area[MR_NAME_MAX];
    char competitors[512];        /* comma list of competing product names */
} mr_product;

typedef struct {
    char id[MR_ID_MAX];
    char name[MR_NAME_MAX];
    int tier;                     /* 1, 2, 3 (三级 = 3) */
    int beds;
    int outpatient_visits;        /* per day */
    double lat, lon;
    char opening_hours[128];      /* e.g. "mon-fri 08:00-17:30; sat 08:00-12:00" */
} mr_hospital;

typedef struct {
    char id[MR_ID_MAX];
    char hospital_id[MR_ID_MAX];
    char name[MR_NAME_MAX];
    char specialty[MR_NAME_MAX];
    int headcount;
    int beds;
    char director_id[MR_ID_MAX];  /* a customer id, may be "" */
    char meeting_moments[256];    /* e.g. "handover mon-fri 07:45-08:15; rounds_end mon-fri 10:00-10:30" */
} mr_department;

typedef enum { MR_CUSTOMER_PRESCRIBER = 0, MR_CUSTOMER_NON_PRESCRIBER = 1 } mr_customer_kind;

typedef struct {
    char id[MR_ID_MAX];
    char name[MR_NAME_MAX];
    mr_customer_kind kind;
    char hospital_id[MR_ID_MAX];
    char department_id[MR_ID_MAX];
    char rep_id[MR_ID_MAX];       /* the rep whose territory holds this customer */
    char title[32];               /* prescribers: chief, associate_chief, attending, resident */
    char setting[16];             /* prescribers: outpatient, inpatient */
    bool kol;
    char group[32];               /* non-prescribers: storekeeper, procurement, pharmacy_lead,
                                     laboratory, head_nurse, leadership, pharmacy_director,
                                     non_prescribing_kol, medical_affairs, medical_education */
    bool guideline_author;
    bool opinion_leader;          /* department opinion leader */
    char compliance_risk[8];      /* low, medium, high */
    char windows[256];            /* preferred visit windows, e.g. "mon,wed 08:00-09:00; fri 14:00-15:00" */
    char peak_hours[128];         /* peak clinic hours to avoid, same syntax */
} mr_customer;

typedef struct {
    char id[MR_ID_MAX];
    char name[MR_NAME_MAX];
    char team[32];                /* "ONC" or another team name */
    char dm_id[MR_ID_MAX];        /* district manager */
    double home_lat, home_lon;
} mr_rep;

/* True when id is 1..63 bytes of [A-Za-z0-9._:-]. */
bool mr_md_id_valid(const char *id);

/* Stage the upsert of one record (hash plus every index set it belongs
 * to; when an indexed field such as rep_id changed, the caller passes the
 * previous record as `old` so the stale index entry is removed, else
 * NULL). Return 0, or -1 on an invalid id or region. */
int mr_md_stage_product(mr_tx *tx, const char *region, const mr_product *p);
int mr_md_stage_hospital(mr_tx *tx, const char *region, const mr_hospital *h);
int mr_md_stage_listing(mr_tx *tx, const char *region, const char *hospital_id,
                        const char *product_id, mr_listing listing, bool channel_open);
int mr_md_stage_department(mr_tx *tx, const char *region, const mr_department *d,
                           const mr_department *old);
int mr_md_stage_customer(mr_tx *tx, const char *region, const mr_customer *c,
                         const mr_customer *old);
int mr_md_stage_rep(mr_tx *tx, const char *region, const mr_rep *r, const mr_rep *old);

/* Read one record: 1 found (out filled), 0 not found, -1 Redis failed. */
int mr_md_get_product(mr_store *s, const char *region, const char *id, mr_product *out);
int mr_md_get_hospital(mr_store *s, const char *region, const char *id, mr_hospital *out);
int mr_md_get_listing(mr_store *s, const char *region, const char *hospital_id,
                      const char *product_id, mr_listing *listing, bool *channel_open);
int mr_md_get_department(mr_store *s, const char *region, const char *id, mr_department *out);
int mr_md_get_customer(mr_store *s, const char *region, const char *id, mr_customer *out);
int mr_md_get_rep(mr_store *s, const char *region, const char *id, mr_rep *out);

/* Writes the name of an index set (without the region tag) into buf:
 * mr_md_index(buf, cap, "rep", "R7", "customers") -> "md:rep:R7:customers";
 * kind NULL: mr_md_index(buf, cap, NULL, NULL, "customers") -> "md:customers".
 * Returns the length or -1. */
/* Ids in an index set, sorted. *ids is an array of malloc'd strings the
 * caller frees with mr_md_free_ids. Returns the count, or -1. */
int mr_md_index(char *buf, size_t cap, const char *kind, const char *id, const char *what);
long mr_md_list(mr_store *s, const char *region, const char *index, char ***ids);
void mr_md_free_ids(char **ids, long count);

/* ---- Added by the scoring service (issue 3): generic access for bulk
 * imports, which read many records in one pipeline. ---- */

typedef enum {
    MR_MD_PRODUCT = 0, MR_MD_HOSPITAL, MR_MD_DEPARTMENT, MR_MD_CUSTOMER, MR_MD_REP,
    MR_MD_KIND_COUNT
} mr_md_kind;

/* "product", "hospital", "dept", "customer", "rep". */
const char *mr_md_kind_name(mr_md_kind kind);
/* Writes the record's key "{r:<region>}:md:<kind>:<id>". Length or -1. */
int mr_md_key(char *buf, size_t cap, const char *region, mr_md_kind kind, const char *id);
/* Fills the record (an mr_product, mr_hospital, ... matching kind) from an
 * HGETALL reply of its key: 1 found, 0 empty or not a hash. */
int mr_md_parse(mr_md_kind kind, const mr_val *hgetall, void *out);
/* True when a and b (records of kind) would be stored identically. */
bool mr_md_same(mr_md_kind kind, const void *a, const void *b);
/* Stages the upsert of a record of any kind (see the typed functions). */
int mr_md_stage(mr_tx *tx, const char *region, mr_md_kind kind, const void *rec, const void *old);
/* Sets the field `name` of a record of kind from text, strictly: whole
 * numbers for integers, decimals for doubles, 1/0/true/false/yes/no for
 * booleans, prescriber/non_prescriber for the kind; strings longer than
 * their buffer are refused. 0, -1 unknown field, -2 bad value. */
int mr_md_set_field(mr_md_kind kind, void *rec, const char *name, const char *text);
/* "not_listed", "applied", "listed"; parse gives -1 for anything else. */
const char *mr_listing_name(mr_listing l);
int mr_listing_parse(const char *text);

#endif
