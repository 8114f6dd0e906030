/* routes_table.c: the published API. One row per route; the OpenAPI
 * document at /openapi.json is generated from this table and the
 * protobuf descriptors, so a row is all it takes to publish a method. */
#include "routes.h"

#include "meetings.pb-c.h"
#include "notify.pb-c.h"
#include "scheduling.pb-c.h"
#include "scoring.pb-c.h"

#define R "/v1/regions/{region}"

const gw_route gw_routes[] = {
    /* scoring (DOMAIN.md 2) */
    {"GET", R "/customers/{customer_id}/grades", "scoring", "GetCustomerGrades",
     &medrep__get_customer_grades_request__descriptor, &medrep__get_customer_grades_reply__descriptor,
     GW_TOUCH_CUSTOMER, "one customer's grades with explanations and history"},
    {"GET", R "/reps/{rep_id}/customers", "scoring", "ListCustomers",
     &medrep__list_customers_request__descriptor, &medrep__list_customers_reply__descriptor,
     GW_TOUCH_REP, "a rep's customers by segment, paged"},
    {"GET", R "/reps/{rep_id}/segments", "scoring", "SegmentMatrix",
     &medrep__segment_matrix_request__descriptor, &medrep__segment_matrix_reply__descriptor,
     GW_TOUCH_REP, "counts of A/B/C/D customers of a rep"},
    {"GET", R "/segments", "scoring", "SegmentMatrix",
     &medrep__segment_matrix_request__descriptor, &medrep__segment_matrix_reply__descriptor,
     GW_TOUCH_ADMIN, "counts of A/B/C/D customers of a team or the region"},
    {"GET", R "/hospitals/grades", "scoring", "HospitalGrades",
     &medrep__hospital_grades_request__descriptor, &medrep__hospital_grades_reply__descriptor,
     GW_TOUCH_REGION, "hospital grades A/B/C, paged"},
    {"GET", R "/grade-changes", "scoring", "GradeChanges",
     &medrep__grade_changes_request__descriptor, &medrep__grade_changes_reply__descriptor,
     GW_TOUCH_ADMIN, "grade changes since a time"},
    {"POST", R "/imports", "scoring", "ImportChunk",
     &medrep__import_chunk_request__descriptor, &medrep__import_chunk_reply__descriptor,
     GW_TOUCH_ADMIN, "import one chunk of a master-data or prescription CSV file"},
    {"POST", R "/prescriptions", "scoring", "UpdatePrescription",
     &medrep__update_prescription_request__descriptor, &medrep__update_prescription_reply__descriptor,
     GW_TOUCH_ADMIN, "one prescription-data update"},

    /* scheduling (DOMAIN.md 3) */
    {"POST", R "/reps/{rep_id}/plans", "scheduling", "Plan",
     &medrep__plan_request__descriptor, &medrep__plan_reply__descriptor,
     GW_TOUCH_REP, "plan a rep's period (month, week or day) and return it"},
    {"GET", R "/reps/{rep_id}/attainment", "scheduling", "Attainment",
     &medrep__attainment_request__descriptor, &medrep__attainment_reply__descriptor,
     GW_TOUCH_REP, "coverage, frequency, adherence, call rate and match of a rep"},
    {"POST", R "/reps/{rep_id}/calls", "scheduling", "LogCall",
     &medrep__log_call_request__descriptor, &medrep__log_call_reply__descriptor,
     GW_TOUCH_REP, "report (submit and lock) a call"},

    /* meetings (DOMAIN.md 4) */
    {"GET", R "/reps/{rep_id}/meetings", "meetings", "ListMeetings",
     &medrep__list_meetings_request__descriptor, &medrep__list_meetings_reply__descriptor,
     GW_TOUCH_REP, "a rep's meetings"},

    /* notification (DOMAIN.md 5) */
    {"GET", R "/people/{person_id}/inbox", "notify", "InboxList",
     &medrep__inbox_list_request__descriptor, &medrep__inbox_list_reply__descriptor,
     GW_TOUCH_PERSON, "a person's inbox with the unread count, paged"},
    {"POST", R "/people/{person_id}/inbox/read", "notify", "InboxMarkRead",
     &medrep__inbox_mark_read_request__descriptor, &medrep__inbox_mark_read_reply__descriptor,
     GW_TOUCH_PERSON, "mark inbox items read"},
    {"POST", R "/people/{person_id}/preferences", "notify", "SetPreferences",
     &medrep__set_preferences_request__descriptor, &medrep__set_preferences_reply__descriptor,
     GW_TOUCH_PERSON, "a person's reminder preferences (zone, quiet hours, channels)"},
};

const size_t gw_route_count = sizeof gw_routes / sizeof gw_routes[0];
