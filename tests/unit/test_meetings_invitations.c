/* test_meetings_invitations.c: the guest list: cap, prescriber-only
 * filter, backups on decline and on deadline, sign-in with walk-ins and
 * substitutes, the KPIs on a worked example, and the suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "invitations.h"

static mt_invitee items[32];
static mt_guest_list list;
static const mt_invite_policy policy = {.head_count_cap = 3, .prescriber_only = true,
                                        .excluded_titles = "nurse,intern,head_nurse",
                                        .key_segments = "A,B"};

static mt_invitee guest(const char *id, const char *seg, const char *title, const char *backup_for)
{
    mt_invitee v;
    memset(&v, 0, sizeof v);
    snprintf(v.customer_id, sizeof v.customer_id, "%s", id);
    snprintf(v.segment, sizeof v.segment, "%s", seg);
    snprintf(v.title, sizeof v.title, "%s", title);
    snprintf(v.backup_for, sizeof v.backup_for, "%s", backup_for ? backup_for : "");
    return v;
}

static int setup(void **state)
{
    (void)state;
    memset(items, 0, sizeof items);
    list = (mt_guest_list){items, 0, 32};
    return 0;
}

static int add(const char *id, const char *seg, const char *title, const char *backup_for, char *why)
{
    mt_invitee v = guest(id, seg, title, backup_for);
    return mt_invite(&list, &policy, &v, 100, why, 256);
}

static void cap_filter_and_duplicates(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(add("c1", "A", "chief", NULL, why), 0);
    assert_int_equal(add("n1", "", "nurse", NULL, why), -1);
    assert_non_null(strstr(why, "prescriber-only"));
    assert_int_equal(add("c1", "A", "chief", NULL, why), -1);
    assert_non_null(strstr(why, "already"));
    assert_int_equal(add("c2", "B", "attending", NULL, why), 0);
    assert_int_equal(add("c3", "B", "attending", NULL, why), 0);
    assert_int_equal(add("c4", "C", "attending", NULL, why), -1);
    assert_non_null(strstr(why, "cap of 3"));
    /* backups wait on standby and do not count against the cap */
    assert_int_equal(add("b1", "A", "chief", "c1", why), 0);
    assert_int_equal(items[3].status, MT_INV_STANDBY);
    assert_int_equal(add("b9", "A", "chief", "zz", why), -1);
    assert_int_equal(mt_expected_count(&list), 3);
    /* a meeting not for prescribers only takes nurses */
    mt_invite_policy open = policy;
    open.prescriber_only = false;
    open.head_count_cap = 0;
    mt_invitee n = guest("n1", "", "nurse", NULL);
    assert_int_equal(mt_invite(&list, &open, &n, 1, why, sizeof why), 0);
}

static void backup_on_decline(void **state)
{
    (void)state;
    char why[256];
    int b;
    add("c1", "A", "chief", NULL, why);
    add("c2", "B", "attending", NULL, why);
    add("b1", "A", "chief", "c1", why);
    assert_int_equal(mt_rsvp_answer(&list, "c2", MT_RSVP_ACCEPTED, 200, &b), 0);
    assert_int_equal(b, -1);
    assert_int_equal(mt_rsvp_answer(&list, "c1", MT_RSVP_DECLINED, 300, &b), 0);
    assert_int_equal(b, 2);
    assert_int_equal(items[2].status, MT_INV_EXPECTED);
    assert_int_equal(items[2].invited_ms, 300);
    assert_int_equal(mt_expected_count(&list), 2);
    /* declining again invites nobody more; a standby guest cannot answer */
    assert_int_equal(mt_rsvp_answer(&list, "c1", MT_RSVP_DECLINED, 400, &b), 0);
    assert_int_equal(b, -1);
    assert_int_equal(mt_rsvp_answer(&list, "nobody", MT_RSVP_ACCEPTED, 400, &b), -1);
}

static void backup_on_deadline(void **state)
{
    (void)state;
    char why[256];
    int b;
    add("c1", "A", "chief", NULL, why);
    add("c2", "B", "attending", NULL, why);
    add("c3", "C", "attending", NULL, why);
    add("b1", "A", "chief", "c1", why);
    add("b2", "B", "attending", "c2", why);
    assert_int_equal(mt_rsvp_answer(&list, "c2", MT_RSVP_ACCEPTED, 200, &b), 0);
    int out[8];
    /* c1 (key, silent) is replaced; c2 answered; c3 is not a key guest */
    assert_int_equal(mt_deadline_pass(&list, &policy, 500, out, 8), 1);
    assert_int_equal(out[0], 3);
    assert_int_equal(items[0].rsvp, MT_RSVP_NO_ANSWER);
    assert_int_equal(items[2].rsvp, MT_RSVP_PENDING);
    assert_int_equal(items[4].status, MT_INV_STANDBY);
    /* a second pass changes nothing */
    assert_int_equal(mt_deadline_pass(&list, &policy, 600, out, 8), 0);
}

/* Worked example: g1..g6 invited; g1 declines and her backup k1 is
 * invited, so 6 are expected (g2..g6, k1). g2, g3, g4 and k1 come; s5
 * stands in for g5; w1 walks in; g6 stays away. Attendees 6, so the
 * attendance rate is 6/6 = 1.0; expected people who came 4, so the
 * accuracy is 4/6 = 0.667 (the substitute does not count). */
static void kpis_worked_example(void **state)
{
    (void)state;
    char why[256];
    int b;
    mt_invite_policy p = policy;
    p.head_count_cap = 10;
    const char *ids[] = {"g1", "g2", "g3", "g4", "g5", "g6"};
    for (int i = 0; i < 6; i++) {
        mt_invitee v = guest(ids[i], i < 3 ? "A" : "B", "attending", NULL);
        assert_int_equal(mt_invite(&list, &p, &v, 1, why, sizeof why), 0);
    }
    mt_invitee bk = guest("k1", "A", "attending", "g1");
    assert_int_equal(mt_invite(&list, &p, &bk, 1, why, sizeof why), 0);
    assert_int_equal(mt_rsvp_answer(&list, "g1", MT_RSVP_DECLINED, 2, &b), 0); /* k1 invited */
    /* expected now: g2..g6 and k1 = 6 */
    assert_int_equal(mt_sign_in(&list, "g2", NULL, NULL, 10), 0);
    assert_int_equal(mt_sign_in(&list, "g3", NULL, NULL, 10), 0);
    assert_int_equal(mt_sign_in(&list, "g4", NULL, NULL, 10), 0);
    assert_int_equal(mt_sign_in(&list, "k1", NULL, NULL, 10), 0);
    assert_int_equal(mt_sign_in(&list, "s5", "C", "g5", 10), 0);     /* stands in for g5 */
    assert_int_equal(mt_sign_in(&list, "w1", "D", NULL, 10), 0);     /* walk-in */
    assert_int_equal(mt_sign_in(&list, "s9", "C", "nobody", 10), -1);
    mt_kpis k;
    mt_kpis_compute(&list, &k);
    assert_int_equal(k.expected, 6);
    assert_int_equal(k.attendees, 6);        /* g2 g3 g4 k1 s5 w1 */
    assert_int_equal(k.expected_came, 4);    /* substitutes do not count */
    assert_true(k.attendance_rate > 0.9999 && k.attendance_rate < 1.0001);
    assert_true(k.accuracy > 0.6666 && k.accuracy < 0.6667);
}

static void suggestions(void **state)
{
    (void)state;
    mt_candidate c[] = {
        {"d1", "B", "attending", true, false, "low"},
        {"d2", "A", "chief", true, true, "high"},
        {"d3", "A", "associate_chief", true, false, "low"},
        {"d4", "C", "attending", true, false, "low"},
        {"d5", "B", "resident", true, false, "medium"},
        {"d6", "A", "attending", true, false, "low"},
        {"n1", "A", "nurse", false, false, "low"},
    };
    mt_invite_policy p = policy;
    p.head_count_cap = 3;
    mt_invitee out[16];
    size_t n = mt_suggest_guests(c, 7, &p, out, 16);
    /* A first (d2 d3 d6), cap 3, then backups of the same segment: none left for A */
    assert_int_equal(n, 3);
    assert_string_equal(out[0].customer_id, "d2");
    assert_string_equal(out[2].customer_id, "d6");
    p.head_count_cap = 4;
    n = mt_suggest_guests(c, 7, &p, out, 16);
    assert_int_equal(n, 5);                       /* d2 d3 d6 d1 + backup d5 for d1 */
    assert_string_equal(out[3].customer_id, "d1");
    assert_string_equal(out[4].customer_id, "d5");
    assert_string_equal(out[4].backup_for, "d1");
    assert_int_equal(out[4].status, MT_INV_STANDBY);
    int idx[8];
    size_t s = mt_suggest_speakers(c, 7, "high", "chief,associate_chief,attending,resident", idx, 8);
    assert_int_equal(s, 5);                       /* d2 is high risk; n1 no prescriber */
    assert_string_equal(c[idx[0]].customer_id, "d3");
    assert_string_equal(c[idx[1]].customer_id, "d1");
    assert_string_equal(c[idx[4]].customer_id, "d5");
}

static void lists_and_names(void **state)
{
    (void)state;
    assert_true(mt_in_list("A, B", "B"));
    assert_false(mt_in_list("AB", "A"));
    assert_false(mt_in_list(NULL, "A"));
    assert_false(mt_in_list("A", ""));
    assert_int_equal(mt_rsvp_parse("declined"), MT_RSVP_DECLINED);
    assert_int_equal(mt_rsvp_parse("maybe"), -1);
    assert_int_equal(mt_inv_status_parse(mt_inv_status_name(MT_INV_WALK_IN)), MT_INV_WALK_IN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(cap_filter_and_duplicates, setup),
        cmocka_unit_test_setup(backup_on_decline, setup),
        cmocka_unit_test_setup(backup_on_deadline, setup),
        cmocka_unit_test_setup(kpis_worked_example, setup),
        cmocka_unit_test_setup(suggestions, setup),
        cmocka_unit_test_setup(lists_and_names, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
