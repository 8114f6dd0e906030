/* agenda.h: staff, agenda, checklist, follow-ups and evaluation of a
 * meeting (DOMAIN.md 4.4, 4.6, 4.8). Every number comes from the caller
 * (configuration); time is passed in. Pure. */
#ifndef MEETINGS_AGENDA_H
#define MEETINGS_AGENDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_MAX_PHASES 12

typedef struct {
    char name[24];
    int minutes;
    int min, max;          /* the limits of the phase, from the template */
} mt_phase;

typedef struct {
    mt_phase phases[MT_MAX_PHASES];
    size_t count;
    int total;             /* sum of minutes */
} mt_agenda;

/* Parses "video:5,talk:20,qa:5,director:5" against limits
 * "video:5-10,talk:0-25,qa:5-5,director:5-5" and checks that every phase
 * is within its limits, every limited phase is present and the phases
 * add up to total_min. 0, or -1 with the reason. */
int mt_agenda_parse(const char *phases, const char *limits, int total_min, mt_agenda *out,
                    char *err, size_t errcap);

/* Staff for a meeting: [small_min, small_max] when attendees <=
 * small_limit, else [large_min, large_max]. */
typedef struct {
    int small_limit, small_min, small_max, large_min, large_max;
} mt_staff_policy;
void mt_staff_range(const mt_staff_policy *p, int attendees, int *min, int *max);

/* Staff call time and set-up deadline from the start. */
int64_t mt_call_time_ms(int64_t start_ms, int call_before_min);
int64_t mt_setup_by_ms(int64_t start_ms, int setup_before_min);

/* The checklist is a comma list of item names; an item is checked once
 * the day before (check "day_before") and once on the day ("day_of").
 * Returns how many items are not yet checked for the round. */
typedef enum { MT_CHECK_DAY_BEFORE = 1, MT_CHECK_DAY_OF = 2 } mt_check_round;

/* Follow-up due times: n attendees spread over the days from
 * first_day_ms (local midnight of the day after the meeting) for
 * within_days days, at most ceil(n / within_days) a day, each due at the
 * end of its day. Writes n due times into out. */
void mt_followups_spread(int64_t first_day_ms, int within_days, size_t n, int64_t *out);

/* Evaluation (DOMAIN.md 4.8): the hardware part (supply channel open,
 * share of key guests among attendees) weighted hardware_weight, the
 * prescription part (attendees' change minus non-attendees', in share
 * points, scaled so rx_full_points earns the whole part) weighted the
 * rest. Returns 0..100. rx_known false: only the hardware part, scaled. */
double mt_evaluation_score(double hardware_weight, bool channel_open, int key_attendees,
                           int attendees, bool rx_known, double rx_diff_points,
                           double rx_full_points);

/* Mean change (after - before, in share points: 0.05 -> 5) of the
 * customers where attended[i] equals `which`; *count gets how many. */
double mt_mean_change_points(const double *before, const double *after, const bool *attended,
                             size_t n, bool which, int *count);

/* The prescription change from monthly data (DOMAIN.md 4.8). */

/* "YYYY-MM" of the month `delta` months from (year, month 1-12). */
void mt_month_shift(int year, int month, int delta, char out[8]);

/* One customer's prescriptions in one month (strings borrowed). */
typedef struct {
    const char *customer;
    const char *month;         /* "YYYY-MM" */
    double our, market;
} mt_rx_month;

/* Our share (0..1) of customer's therapy-area prescriptions summed over
 * the months first..last (inclusive, "YYYY-MM"), or -1 when the customer
 * has no therapy-area prescriptions there (no data: not counted). */
double mt_rx_share(const mt_rx_month *rows, size_t n, const char *customer, const char *first,
                   const char *last);

#endif
