/* main.c of the meetings service: takes department meetings from proposal
 * to follow-up (DOMAIN.md section 4). Holds the built-in defaults of every
 * [meetings] setting (each a choice a company may override per kind,
 * product or region), loads the region time zones, checks the flow,
 * starts the deadline-check thread (ticker.c), and runs the shell with
 * the methods of handlers.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "meetings.h"
#include "service.h"

/* The defaults; [meetings], [meetings@kind:...], [meetings.rule.<name>]
 * in the configuration override them. */
static const char DEFAULTS[] =
    "[meetings]\n"
    "head_count_cap = 0\n"
    "prescriber_only = false\n"
    "prescriber_only_exclude = nurse,intern,head_nurse\n"
    "key_segments = A,B\n"
    "rsvp_deadline_hours = 24\n"
    "filing_lead_hours = 0\n"
    "approval_threshold_cents = 500000\n"
    "second_approver =\n"
    "approver =\n"
    "preconditions = listed,channel_open,director_agreed,outpatient_ally,inpatient_ally\n"
    "outpatient_ally_titles = chief,associate_chief,attending,resident\n"
    "inpatient_ally_titles = associate_chief,chief\n"
    "speaker_excluded_risk = high\n"
    "speaker_title_order = chief,associate_chief,attending,resident\n"
    "slot_preference = handover,rounds_end,case_discussion\n"
    "slot_days = 14\n"
    "slot_blocking_states = approved,confirmed,invitations_out,in_progress\n"
    "checklist = gifts,leaflets,literature,sign_in_sheet,laptop,spare_laptop,projector,screen,"
    "laser_pointer,batteries,adapter,power_strip,devices_tested,place_time_reconfirmed\n"
    "agenda = video:5,talk:20,qa:5,director:5\n"
    "agenda_limits = video:5-10,talk:0-25,qa:5-5,director:5-5\n"
    "agenda_total_min = 35\n"
    "staff_small_limit = 10\nstaff_small_min = 2\nstaff_small_max = 3\n"
    "staff_large_min = 3\nstaff_large_max = 5\n"
    "staff_call_before_min = 60\nsetup_before_min = 10\nsignin_opens_before_min = 60\n"
    "followup_within_days = 7\n"
    "reimbursement_documents = notice,sign_in_sheet,invoice,expense_detail\n"
    "evaluation_hardware_weight = 0.2\n"
    "evaluation_rx_full_points = 10\n"
    "evaluation_rx_months = 3\n"
    "peer_timeout_ms = 2000\n"
    "peer_attempt_ms = 1000\n"
    "slot_rep_plan = true\n"
    "deadline_check_interval_s = 60\n"
    "[meetings@kind:in_department]\n"
    "head_count_cap = 10\n"
    "[meetings.rule.gift]\n"
    "limit = gift_per_attendee\nmax = 20000\nwindow = meeting\naction = block\n";

static void fini(mr_service *svc)
{
    mt_state_t *st = mr_service_state(svc);
    if (!st)
        return;
    mt_ticker_stop(&st->ticker);
    mr_client_free(&st->peer);
    for (int i = 0; i < st->region_count; i++)
        mr_tz_free(&st->tzs[i]);
    mr_config_free(&st->defaults);
    free(st);
    mr_service_set_state(svc, NULL);
}

static int load_regions(mt_state_t *st, char *err, size_t errcap)
{
    mr_region_cfg *rc = calloc(MT_MAX_REGIONS, sizeof *rc);
    int n = rc ? mr_config_regions(st->cfg, rc, MT_MAX_REGIONS, err, errcap) : -1;
    for (int i = 0; i < n; i++) {
        st->tzs[i] = mr_tz_load(rc[i].timezone[0] ? rc[i].timezone : "UTC");
        snprintf(st->region_names[i], sizeof st->region_names[i], "%s", rc[i].name);
        st->region_count = i + 1;
        if (!st->tzs[i]) {
            snprintf(err, errcap, "region %s: unknown time zone %s", rc[i].name, rc[i].timezone);
            n = -1;
        }
    }
    free(rc);
    return n < 0 ? -1 : 0;
}

static int init(mr_service *svc, const mr_config *cfg, char *err, size_t errcap)
{
    mt_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return snprintf(err, errcap, "out of memory"), -1;
    mr_service_set_state(svc, st);
    st->cfg = cfg;
    st->defaults = mr_config_from_string(DEFAULTS, err, errcap);
    if (!st->defaults || load_regions(st, err, errcap) != 0)
        return -1;
    mt_settings s;
    mt_flow flow;
    mt_settings_init(&s, st, "", "", "");
    const char *text = mt_get(&s, "meetings", "flow");
    if (mt_flow_parse(text ? text : MT_DEFAULT_FLOW, &flow, err, errcap) != 0)
        return -1;
    long long every = mt_int(&s, "deadline_check_interval_s", 60);
    st->ticker = mt_ticker_start(st, cfg, every);
    if (every > 0 && !st->ticker)
        return snprintf(err, errcap, "the deadline-check thread did not start"), -1;
    return 0;
}

int main(int argc, char **argv)
{
    /* the types mt_on_event acts on; others are acknowledged in batches */
    static const char *const handled[] = {"call_logged", "customer_regraded", NULL};
    static mr_service_def def = {.name = "meetings", .on_event = mt_on_event, .event_types = handled,
                                 .init = init, .fini = fini};
    def.methods = mt_methods;
    def.method_count = mt_method_count;
    return mr_service_main(&def, argc, argv);
}
