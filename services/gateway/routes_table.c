/* routes_table.c: the published API. One row per route; the OpenAPI
 * document at /openapi.json is generated from this table and the
 * protobuf descriptors, so a row is all it takes to publish a method.
 * The end-to-end test (tests/integration/test_gateway_routes.c) walks
 * this table too: a row without a test case there fails it. */
#include "routes.h"

#include "meetings.pb-c.h"
#include "notify.pb-c.h"
#include "scheduling.pb-c.h"
#include "scoring.pb-c.h"

#define R "/v1/regions/{region}"
#define D(name) &medrep__##name##__descriptor

/* ROUTE(method, path under R, service, rpc, request, reply, touch, summary, optional fields...) */
#define ROUTE(M_, P_, S_, F_, Q_, A_, T_, SUM_, ...)                                              \
    {.http_method = M_, .pattern = R P_, .service = S_, .rpc = F_, .request = D(Q_),              \
     .reply = D(A_), .touch = T_, .summary = SUM_, __VA_ARGS__}

const gw_route gw_routes[] = {
    /* ---- scoring (DOMAIN.md 2) ---- */
    ROUTE("POST", "/imports", "scoring", "ImportChunk", import_chunk_request, import_chunk_reply,
          GW_TOUCH_ADMIN, "import one chunk of a master-data or prescription CSV file",
          .required = "kind,csv", .cache_drops = "grades"),
    ROUTE("GET", "/customers/{customer_id}/grades", "scoring", "GetCustomerGrades",
          get_customer_grades_request, get_customer_grades_reply, GW_TOUCH_CUSTOMER,
          "one customer's grades with explanations and history", .cache = "grades",
          .cache_events = "customer_regraded:rep_id"),
    ROUTE("POST", "/customers/{customer_id}/adoption", "scoring", "SetAdoption", set_adoption_request,
          set_adoption_reply, GW_TOUCH_CUSTOMER, "set a customer's adoption stage for a product",
          .required = "product_id,stage", .cache_drops = "grades"),
    ROUTE("GET", "/reps/{rep_id}/customers", "scoring", "ListCustomers", list_customers_request,
          list_customers_reply, GW_TOUCH_REP, "a rep's customers by segment, paged (page_token, page_size)"),
    ROUTE("GET", "/reps/{rep_id}/segments", "scoring", "SegmentMatrix", segment_matrix_request,
          segment_matrix_reply, GW_TOUCH_REP, "counts of A/B/C/D customers of a rep"),
    ROUTE("GET", "/teams/{team}/segments", "scoring", "SegmentMatrix", segment_matrix_request,
          segment_matrix_reply, GW_TOUCH_TEAM, "counts of A/B/C/D customers of a team"),
    ROUTE("GET", "/segments", "scoring", "SegmentMatrix", segment_matrix_request, segment_matrix_reply,
          GW_TOUCH_ADMIN, "counts of A/B/C/D customers of the region"),
    ROUTE("GET", "/hospitals/grades", "scoring", "HospitalGrades", hospital_grades_request,
          hospital_grades_reply, GW_TOUCH_REGION, "hospital grades A/B/C, paged (page_token, page_size)"),
    ROUTE("GET", "/grade-changes", "scoring", "GradeChanges", grade_changes_request, grade_changes_reply,
          GW_TOUCH_ADMIN, "grade changes since a time, paged (page_token, page_size)"),
    ROUTE("POST", "/prescriptions", "scoring", "UpdatePrescription", update_prescription_request,
          update_prescription_reply, GW_TOUCH_ADMIN, "one prescription-data update",
          .required = "row.customer_id,row.product_id,row.month", .cache_drops = "grades"),
    ROUTE("POST", "/prescriptions/monthly", "scoring", "MonthlyPrescriptions", monthly_prescriptions_request,
          monthly_prescriptions_reply, GW_TOUCH_ADMIN, "stored monthly prescriptions of customers for a product",
          .required = "product_id,customer_ids,months"),
    ROUTE("POST", "/regrade", "scoring", "Regrade", regrade_request, regrade_reply, GW_TOUCH_ADMIN,
          "regrade a page of customers (next_cursor continues)", .cache_drops = "grades"),

    /* ---- scheduling (DOMAIN.md 3) ---- */
    ROUTE("POST", "/reps/{rep_id}/plans", "scheduling", "Plan", plan_request, plan_reply, GW_TOUCH_REP,
          "plan a rep's period (month, week or day) and return it", .required = "period",
          .cache_drops = "plan"),
    ROUTE("GET", "/reps/{rep_id}/plans/{period}", "scheduling", "GetPlan", plan_request, plan_reply,
          GW_TOUCH_REP, "a rep's stored plan of a period, with routes", .cache = "plan",
          .cache_events = "call_planned:rep_id,call_logged:rep_id,call_cancelled:rep_id,meeting_changed:rep_id,"
                          "plan_changed:rep_id"),
    ROUTE("GET", "/reps/{rep_id}/quarters/{quarter}", "scheduling", "QuarterPlan", quarter_plan_request,
          quarter_plan_reply, GW_TOUCH_REP, "a rep's quarter targets and their approval state"),
    ROUTE("POST", "/reps/{rep_id}/quarters/{quarter}/approval", "scheduling", "ApproveQuarter",
          approve_quarter_request, approve_quarter_reply, GW_TOUCH_REP,
          "approve a rep's quarter plan (the caller is the approver: the rep's district manager)",
          .caller_field = "approver_id"),
    ROUTE("POST", "/reps/{rep_id}/calls", "scheduling", "LogCall", log_call_request, log_call_reply,
          GW_TOUCH_REP, "report (submit and lock) a call", .into = "report",
          .required = "report.customer_id", .cache_drops = "plan"),
    ROUTE("POST", "/reps/{rep_id}/planned-calls", "scheduling", "AddCall", add_call_request,
          add_call_reply, GW_TOUCH_REP, "add a call to a rep's plan", .required = "customer_id,start_ms",
          .cache_drops = "plan"),
    ROUTE("GET", "/calls/{call_id}", "scheduling", "GetCall", get_call_request, get_call_reply,
          GW_TOUCH_CALL, "a call (planned, done or cancelled) with its rep"),
    ROUTE("POST", "/calls/{call_id}", "scheduling", "UpdateCall", update_call_request, update_call_reply,
          GW_TOUCH_CALL, "move or pin a planned call", .cache_drops = "plan"),
    ROUTE("POST", "/calls/{call_id}/cancel", "scheduling", "CancelCall", cancel_call_request,
          cancel_call_reply, GW_TOUCH_CALL, "cancel a planned call", .cache_drops = "plan"),
    ROUTE("POST", "/reps/{rep_id}/time-off", "scheduling", "AddTimeOff", time_off_request, time_off_reply,
          GW_TOUCH_REP, "record time off (the plan makes room)", .required = "start_ms,end_ms",
          .cache_drops = "plan"),
    ROUTE("GET", "/reps/{rep_id}/attainment", "scheduling", "Attainment", attainment_request,
          attainment_reply, GW_TOUCH_REP, "coverage, frequency, adherence, call rate and match of a rep"),
    ROUTE("GET", "/teams/{team}/attainment", "scheduling", "Attainment", attainment_request,
          attainment_reply, GW_TOUCH_TEAM, "attainment of a team"),
    ROUTE("GET", "/attainment", "scheduling", "Attainment", attainment_request, attainment_reply,
          GW_TOUCH_ADMIN, "attainment of the region"),
    ROUTE("POST", "/pace-check", "scheduling", "CheckPace", pace_check_request, pace_check_reply,
          GW_TOUCH_ADMIN, "check every rep's coverage pace (CoverageBehindPace events)"),
    ROUTE("GET", "/reps/{rep_id}/calendar", "scheduling", "ExportIcal", plan_ical_request, plan_ical_reply,
          GW_TOUCH_REP, "a rep's plan of a period as iCalendar (text/calendar)", .text_field = "ics",
          .required = "period"),
    ROUTE("POST", "/travel-times", "scheduling", "SetTravelTimes", set_travel_times_request,
          set_travel_times_reply, GW_TOUCH_ADMIN, "store measured travel times between places",
          .required = "times"),

    /* ---- meetings (DOMAIN.md 4) ---- */
    ROUTE("POST", "/reps/{rep_id}/meetings", "meetings", "ProposeMeeting", propose_meeting_request,
          propose_meeting_reply, GW_TOUCH_REP, "propose a meeting (checks its preconditions)",
          .into = "meeting", .required = "meeting.hospital_id,meeting.start_ms"),
    ROUTE("POST", "/reps/{rep_id}/meeting-suggestions", "meetings", "Suggest", suggest_request,
          suggest_reply, GW_TOUCH_REP, "suggested guests, speakers and time slots for a meeting",
          .required = "hospital_id"),
    ROUTE("GET", "/reps/{rep_id}/meetings", "meetings", "ListMeetings", list_meetings_request,
          list_meetings_reply, GW_TOUCH_REP,
          "a rep's meetings by start (state, from_ms, to_ms), paged (page_token, limit)"),
    ROUTE("GET", "/teams/{team}/meetings", "meetings", "ListMeetings", list_meetings_request,
          list_meetings_reply, GW_TOUCH_TEAM,
          "the meetings of a team's reps by start (state, from_ms, to_ms), paged (page_token, limit)"),
    ROUTE("GET", "/meetings", "meetings", "ListMeetings", list_meetings_request, list_meetings_reply,
          GW_TOUCH_ADMIN, "the region's meetings by start (team, state, from_ms, to_ms), paged (page_token, limit)"),
    ROUTE("GET", "/meetings/{meeting_id}", "meetings", "GetMeeting", get_meeting_request,
          get_meeting_reply, GW_TOUCH_MEETING, "a meeting with its KPIs"),
    ROUTE("POST", "/meetings/{meeting_id}/transitions", "meetings", "Transition", transition_request,
          transition_reply, GW_TOUCH_MEETING, "move a meeting to its next state (submit, approve, hold, ...)",
          .required = "to_state"),
    ROUTE("POST", "/meetings/{meeting_id}/invitations", "meetings", "Invite", invite_request,
          meeting_reply, GW_TOUCH_MEETING, "invite guests (with backups)", .required = "invitees"),
    ROUTE("POST", "/meetings/{meeting_id}/rsvp", "meetings", "Rsvp", rsvp_request, rsvp_reply,
          GW_TOUCH_MEETING, "a guest's answer", .required = "customer_id,answer"),
    ROUTE("POST", "/meetings/{meeting_id}/sign-ins", "meetings", "SignIn", sign_in_request, meeting_reply,
          GW_TOUCH_MEETING, "sign a guest in (or a walk-in, or a substitute)", .required = "customer_id"),
    ROUTE("POST", "/meetings/{meeting_id}/checklist", "meetings", "Checklist", checklist_request,
          meeting_reply, GW_TOUCH_MEETING, "tick a checklist item (day_before, day_of)",
          .required = "item,round"),
    ROUTE("POST", "/meetings/{meeting_id}/documents", "meetings", "AttachDocument", document_request,
          meeting_reply, GW_TOUCH_MEETING, "attach a reimbursement document", .required = "document"),
    ROUTE("POST", "/meetings/{meeting_id}/expenses", "meetings", "AddExpense", expense_request,
          meeting_reply, GW_TOUCH_MEETING, "record an expense", .required = "expense.kind,expense.cents"),
    ROUTE("POST", "/meetings/{meeting_id}/reimbursement", "meetings", "Reimburse", reimburse_request,
          meeting_reply, GW_TOUCH_MEETING, "mark the meeting reimbursed (documents complete)"),
    ROUTE("POST", "/meetings/{meeting_id}/follow-ups", "meetings", "FollowUpDone", follow_up_done_request,
          meeting_reply, GW_TOUCH_MEETING, "a follow-up with a guest is done", .required = "customer_id"),
    ROUTE("POST", "/meetings/{meeting_id}/evaluation", "meetings", "Evaluate", evaluate_request,
          evaluate_reply, GW_TOUCH_MEETING, "evaluate the meeting from prescription changes"),
    ROUTE("GET", "/meetings/{meeting_id}/calendar", "meetings", "ExportIcal", export_ical_request,
          export_ical_reply, GW_TOUCH_MEETING, "the meeting as iCalendar (text/calendar)", .text_field = "ics"),

    /* ---- notification (DOMAIN.md 5) ---- */
    ROUTE("GET", "/people/{person_id}/inbox", "notify", "InboxList", inbox_list_request, inbox_list_reply,
          GW_TOUCH_PERSON, "a person's inbox with the unread count, paged (page_token, page_size)",
          .cache = "inbox",
          .cache_events = "reminder_delivered:recipient_id,reminders_delivered:deliveries.recipient_id,"
                          "inbox_read:person_id"),
    ROUTE("POST", "/people/{person_id}/inbox/read", "notify", "InboxMarkRead", inbox_mark_read_request,
          inbox_mark_read_reply, GW_TOUCH_PERSON, "mark inbox items read", .required = "delivery_ids",
          .cache_drops = "inbox"),
    ROUTE("POST", "/people/{person_id}/preferences", "notify", "SetPreferences", set_preferences_request,
          set_preferences_reply, GW_TOUCH_PERSON, "a person's reminder preferences (zone, quiet hours, channels)"),
    ROUTE("GET", "/reminders", "notify", "ListReminders", list_reminders_request, list_reminders_reply,
          GW_TOUCH_ADMIN, "pending reminders by due time, paged (person_id, limit, page_token)"),
    ROUTE("POST", "/reminders", "notify", "ScheduleReminder", schedule_reminder_request,
          schedule_reminder_reply, GW_TOUCH_ADMIN, "schedule a reminder", .required = "person_id,due_ms"),
    ROUTE("POST", "/reminders/batch", "notify", "ScheduleReminders", schedule_reminders_request,
          schedule_reminders_reply, GW_TOUCH_ADMIN, "schedule many reminders at once", .required = "reminders"),
    ROUTE("POST", "/reminders/cancel", "notify", "CancelReminders", cancel_reminders_request,
          cancel_reminders_reply, GW_TOUCH_ADMIN, "cancel reminders by subject or id"),
    ROUTE("POST", "/reminders/move", "notify", "MoveReminders", move_reminders_request,
          move_reminders_reply, GW_TOUCH_ADMIN, "move reminders by subject or id"),
};

const size_t gw_route_count = sizeof gw_routes / sizeof gw_routes[0];
