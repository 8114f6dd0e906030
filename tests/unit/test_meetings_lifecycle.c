/* test_meetings_lifecycle.c: the meeting state machine as data: every
 * legal and every illegal transition of the default flow, each guard
 * failing alone, and flow parsing (custom flows, bad text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lifecycle.h"

/* The legal edges of the default flow, written out by hand. */
static bool expected_legal(mt_state f, mt_state t)
{
    static const int legal[][2] = {
        {MT_PROPOSED, MT_PENDING_APPROVAL}, {MT_PENDING_APPROVAL, MT_APPROVED},
        {MT_PENDING_APPROVAL, MT_REJECTED}, {MT_APPROVED, MT_CONFIRMED},
        {MT_CONFIRMED, MT_INVITATIONS_OUT}, {MT_INVITATIONS_OUT, MT_IN_PROGRESS},
        {MT_IN_PROGRESS, MT_HELD},          {MT_HELD, MT_SUMMARISED},
        {MT_SUMMARISED, MT_CLOSED},         {MT_RESCHEDULED, MT_PENDING_APPROVAL},
    };
    for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++)
        if (legal[i][0] == (int)f && legal[i][1] == (int)t)
            return true;
    bool before_held = f == MT_PROPOSED || f == MT_PENDING_APPROVAL || f == MT_APPROVED ||
                       f == MT_CONFIRMED || f == MT_INVITATIONS_OUT || f == MT_IN_PROGRESS ||
                       f == MT_RESCHEDULED;
    if (t == MT_CANCELLED && before_held)
        return true;
    if (t == MT_RESCHEDULED && before_held && f != MT_RESCHEDULED)
        return true;
    return false;
}

static void every_pair_of_default_flow(void **state)
{
    (void)state;
    mt_flow flow;
    char err[256];
    assert_int_equal(mt_flow_parse(MT_DEFAULT_FLOW, &flow, err, sizeof err), 0);
    int legal = 0, illegal = 0;
    for (int f = 0; f < MT_STATE_COUNT; f++)
        for (int t = 0; t < MT_STATE_COUNT; t++) {
            bool found = mt_flow_find(&flow, (mt_state)f, (mt_state)t) != NULL;
            if (found != expected_legal((mt_state)f, (mt_state)t))
                fail_msg("%s -> %s: flow says %d", mt_state_name(f), mt_state_name(t), found);
            found ? legal++ : illegal++;
        }
    assert_int_equal(legal, 10 + 7 + 6);
    assert_int_equal(legal + illegal, MT_STATE_COUNT * MT_STATE_COUNT);
    /* terminal states lead nowhere */
    for (int t = 0; t < MT_STATE_COUNT; t++) {
        assert_null(mt_flow_find(&flow, MT_CLOSED, (mt_state)t));
        assert_null(mt_flow_find(&flow, MT_CANCELLED, (mt_state)t));
        assert_null(mt_flow_find(&flow, MT_REJECTED, (mt_state)t));
    }
}

static void names_round_trip(void **state)
{
    (void)state;
    for (int s = 0; s < MT_STATE_COUNT; s++)
        assert_int_equal(mt_state_parse(mt_state_name((mt_state)s)), s);
    for (int g = 0; g < MT_GUARD_COUNT; g++)
        assert_int_equal(mt_guard_parse(mt_guard_name((mt_guard)g)), g);
    assert_int_equal(mt_state_parse("flying"), -1);
    assert_int_equal(mt_state_parse(NULL), -1);
}

/* Facts under which every guard holds. */
static mt_guard_facts all_good(void)
{
    return (mt_guard_facts){.actor_is_approver = true, .invitees_expected = 5, .head_count_cap = 10,
                            .now_ms = 1000, .open_from_ms = 500, .attendees = 3,
                            .has_summary = true, .new_start_ms = 5000, .has_comment = true,
                            .staff = 2, .staff_min = 2, .staff_max = 3};
}

static void each_guard_fails_alone(void **state)
{
    (void)state;
    mt_edge all = {MT_PROPOSED, MT_PENDING_APPROVAL, (1u << MT_GUARD_COUNT) - 1};
    char why[512];
    mt_guard_facts ok = all_good();
    assert_int_equal(mt_guards_check(&all, &ok, why, sizeof why), 0);
    assert_string_equal(why, "");
    for (int g = 0; g < MT_GUARD_COUNT; g++) {
        mt_guard_facts f = all_good();
        switch ((mt_guard)g) {
        case MT_G_COMPLIANCE: f.blocking_findings = 1; break;
        case MT_G_APPROVER: f.actor_is_approver = false; break;
        case MT_G_INVITEES: f.invitees_expected = 0; f.head_count_cap = 0; break;
        case MT_G_CAP: f.invitees_expected = 11; break;
        case MT_G_CHECKLIST: f.checklist_open = 2; break;
        case MT_G_OPEN_TIME: f.now_ms = 100; f.new_start_ms = 5000; break;
        case MT_G_ATTENDANCE: f.attendees = 0; break;
        case MT_G_SUMMARY: f.has_summary = false; break;
        case MT_G_FOLLOWUPS: f.followups_open = 4; break;
        case MT_G_NEW_TIME: f.new_start_ms = 0; break;
        case MT_G_COMMENT: f.has_comment = false; break;
        case MT_G_STAFF: f.staff = 4; break;
        default: break;
        }
        int n = mt_guards_check(&all, &f, why, sizeof why);
        if (n != 1 || strncmp(why, mt_guard_name((mt_guard)g), strlen(mt_guard_name((mt_guard)g))) != 0)
            fail_msg("guard %s: %d failed: %s", mt_guard_name((mt_guard)g), n, why);
        /* an edge without that guard does not care */
        mt_edge none = {MT_PROPOSED, MT_PENDING_APPROVAL, all.guards & ~(1u << g)};
        assert_int_equal(mt_guards_check(&none, &f, why, sizeof why), 0);
    }
}

static void compliance_warnings_need_comment_and_approvals_all(void **state)
{
    (void)state;
    mt_edge e = {MT_PROPOSED, MT_PENDING_APPROVAL, 1u << MT_G_COMPLIANCE};
    mt_guard_facts f = all_good();
    char why[256];
    f.uncommented_warnings = 2;
    assert_int_equal(mt_guards_check(&e, &f, why, sizeof why), 1);
    assert_non_null(strstr(why, "comment"));
    mt_edge a = {MT_PENDING_APPROVAL, MT_APPROVED, 1u << MT_G_APPROVER};
    f = all_good();
    f.approvals_missing = 1;
    assert_int_equal(mt_guards_check(&a, &f, why, sizeof why), 1);
    assert_non_null(strstr(why, "1 approval"));
}

static void custom_flow_and_bad_text(void **state)
{
    (void)state;
    mt_flow flow;
    char err[256];
    /* a company that skips confirmation with the department */
    assert_int_equal(mt_flow_parse("proposed>approved:approver; approved>invitations_out:cap ;"
                                   "*>cancelled", &flow, err, sizeof err), 0);
    const mt_edge *e = mt_flow_find(&flow, MT_APPROVED, MT_INVITATIONS_OUT);
    assert_non_null(e);
    assert_int_equal(e->guards, 1u << MT_G_CAP);
    assert_null(mt_flow_find(&flow, MT_APPROVED, MT_CONFIRMED));
    assert_non_null(mt_flow_find(&flow, MT_IN_PROGRESS, MT_CANCELLED));
    assert_null(mt_flow_find(&flow, MT_HELD, MT_CANCELLED));
    assert_int_equal(mt_flow_parse("proposed>nowhere", &flow, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown state"));
    assert_int_equal(mt_flow_parse("proposed>approved:luck", &flow, err, sizeof err), -1);
    assert_non_null(strstr(err, "luck"));
    assert_int_equal(mt_flow_parse("proposed approved", &flow, err, sizeof err), -1);
    assert_int_equal(mt_flow_parse(" ; ", &flow, err, sizeof err), -1);
    /* cancelling or rescheduling a held meeting would leave its follow-ups planned */
    assert_int_equal(mt_flow_parse("proposed>pending_approval;held>cancelled:comment", &flow, err, sizeof err), -1);
    assert_non_null(strstr(err, "before it is held"));
    assert_int_equal(mt_flow_parse("proposed>pending_approval;summarised>rescheduled", &flow, err, sizeof err), -1);
    assert_int_equal(mt_flow_parse("proposed>pending_approval;in_progress>cancelled", &flow, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pair_of_default_flow),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(each_guard_fails_alone),
        cmocka_unit_test(compliance_warnings_need_comment_and_approvals_all),
        cmocka_unit_test(custom_flow_and_bad_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
