/* test_notify_core.c: the pure core of the notify service
 * (services/notify/core.c): parsing, rules and their defaults, fire times
 * in local time across daylight-saving nights, quiet hours, delivery ids;
 * and the packed bytes of inbox members and deliveries (inbox_item.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "events.pb-c.h"
#include "notify.pb-c.h"

#define H 3600000LL
#define D (24 * H)

/* Unix ms of a UTC civil time. */
static int64_t utc(int y, int m, int d, int hh, int mm)
{
    return (mr_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60) * 1000;
}

static void test_durations(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(nt_parse_duration("1d", &ms), 0);
    assert_int_equal(ms, D);
    assert_int_equal(nt_parse_duration("-1h30m", &ms), 0);
    assert_int_equal(ms, -(H + H / 2));
    assert_int_equal(nt_parse_duration(" 10m ", &ms), 0);
    assert_int_equal(ms, 600000);
    assert_int_equal(nt_parse_duration("0", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(nt_parse_duration("-0", &ms), 0);
    const char *bad[] = {"", "-", "1x", "h", "1d 2h", "10", "1.5h", "99999999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nt_parse_duration(bad[i], &ms), -1);
    assert_int_equal(nt_parse_duration(NULL, &ms), -1);
}

static void test_times_of_day(void **state)
{
    (void)state;
    int m, a, b;
    unsigned mask;
    assert_int_equal(nt_parse_hhmm("07:30", &m), 0);
    assert_int_equal(m, 450);
    assert_int_equal(nt_parse_hhmm("24:00", &m), -1);
    assert_int_equal(nt_parse_hhmm("7:60", &m), -1);
    assert_int_equal(nt_parse_hhmm("07:30x", &m), -1);
    assert_int_equal(nt_parse_clock("07:30", &m), 0);
    assert_int_equal(m, 27000);
    assert_int_equal(nt_parse_clock("07:30:15", &m), 0);
    assert_int_equal(m, 27015);
    assert_int_equal(nt_parse_clock("07:30:60", &m), -1);
    assert_int_equal(nt_parse_clock("07:30:", &m), -1);
    assert_int_equal(nt_parse_clock("07:30:15x", &m), -1);
    assert_int_equal(nt_parse_clock("24:00:00", &m), -1);
    assert_int_equal(nt_parse_clock(NULL, &m), -1);
    assert_int_equal(nt_parse_window("22:00-07:00", &a, &b), 0);
    assert_int_equal(a, 1320);
    assert_int_equal(b, 420);
    assert_int_equal(nt_parse_window("22:00", &a, &b), -1);
    assert_int_equal(nt_parse_window("none", &a, &b), -1);
    assert_int_equal(nt_parse_recipients("rep, dm,staff", &mask), 0);
    assert_int_equal(mask, NT_TO_REP | NT_TO_DM | NT_TO_STAFF);
    assert_int_equal(nt_parse_recipients("rep,boss", &mask), -1);
}

/* ---- Rules through a lookup over a small key table ---- */

typedef struct {
    const char *const *kv;     /* key, value, ..., NULL */
} table;

static const char *table_lookup(void *arg, const char *rule, const char *key)
{
    (void)rule;
    const table *t = arg;
    for (size_t i = 0; t->kv[i]; i += 2)
        if (strcmp(t->kv[i], key) == 0)
            return t->kv[i + 1];
    return NULL;
}

static void test_rule_load(void **state)
{
    (void)state;
    nt_rule r;
    char err[200];
    const char *ok[] = {"event", "meeting_changed", "match", "confirmed, invitations_out", "to",
                        "invitees,staff", "offsets", "-1d,-1h", "kind", "k1", NULL};
    table t = {ok};
    assert_int_equal(nt_rule_load(&r, "r1", table_lookup, &t, err, sizeof err), 1);
    assert_int_equal(r.event, NT_EV_MEETING_CHANGED);
    assert_int_equal(r.recipients, NT_TO_INVITEES | NT_TO_STAFF);
    assert_int_equal(r.offset_count, 2);
    assert_int_equal(r.offsets_ms[0], -D);
    assert_int_equal(r.max_late_ms, H);
    assert_true(nt_rule_matches(&r, NT_EV_MEETING_CHANGED, "confirmed"));
    assert_true(nt_rule_matches(&r, NT_EV_MEETING_CHANGED, "invitations_out"));
    assert_false(nt_rule_matches(&r, NT_EV_MEETING_CHANGED, "confirm"));
    assert_false(nt_rule_matches(&r, NT_EV_MEETING_CHANGED, NULL));
    assert_false(nt_rule_matches(&r, NT_EV_PLAN_DUE, "confirmed"));

    const char *off[] = {"event", "plan_due", "enabled", "false", NULL};
    t.kv = off;
    assert_int_equal(nt_rule_load(&r, "r2", table_lookup, &t, err, sizeof err), 0);

    const char *no_to[] = {"event", "plan_due", "offsets", "0", NULL};
    t.kv = no_to;
    assert_int_equal(nt_rule_load(&r, "r3", table_lookup, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "'to'"));
    const char *bad_offsets[] = {"event", "plan_due", "to", "rep", "offsets", "-1d,soon", NULL};
    t.kv = bad_offsets;
    assert_int_equal(nt_rule_load(&r, "r4", table_lookup, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "offsets"));
    const char *bad_event[] = {"event", "tea_time", "to", "rep", "offsets", "0", NULL};
    t.kv = bad_event;
    assert_int_equal(nt_rule_load(&r, "r5", table_lookup, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "event"));
    const char *cancel[] = {"event", "call_logged", "action", "cancel", NULL};
    t.kv = cancel;
    assert_int_equal(nt_rule_load(&r, "r6", table_lookup, &t, err, sizeof err), 1);
    assert_true(r.cancel);
}

static const char *config_lookup(void *arg, const char *rule, const char *key)
{
    char section[96];
    snprintf(section, sizeof section, "notify.rule.%s", rule);
    return mr_config_get(arg, section, key);
}

static int count_rule(const char *section, void *arg)
{
    char err[200];
    nt_rule r;
    void **a = arg;
    assert_int_equal(nt_rule_load(&r, section + strlen("notify.rule."), config_lookup, a[0], err,
                                  sizeof err), 1);
    (*(int *)a[1])++;
    return 0;
}

/* Every built-in rule of DOMAIN.md section 5 loads. */
static void test_default_rules(void **state)
{
    (void)state;
    char err[200];
    mr_config *cfg = mr_config_from_string(nt_default_rules_ini, err, sizeof err);
    assert_non_null(cfg);
    int count = 0;
    void *args[] = {cfg, &count};
    mr_config_each_section(cfg, "notify.rule.", count_rule, args);
    assert_true(count >= 15);
    nt_rule r;
    assert_int_equal(nt_rule_load(&r, "follow_up", config_lookup, cfg, err, sizeof err), 1);
    assert_int_equal(r.escalate_to, NT_TO_DM);
    assert_int_equal(r.escalate_after_ms, D);
    assert_int_equal(nt_rule_load(&r, "itinerary", config_lookup, cfg, err, sizeof err), 1);
    assert_int_equal(r.at_minute, 450);
    assert_true(r.per_day);
    mr_config_free(&cfg);
}

static void test_rule_times(void **state)
{
    (void)state;
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    assert_non_null(tz);
    nt_rule r = {.offsets_ms = {-D, -H, 0}, .offset_count = 3, .at_minute = -1, .max_late_ms = H};
    int64_t now = utc(2026, 12, 1, 0, 0), out[8];
    /* meeting in 2 hours: the day-before reminder is long past (dropped) */
    int n = nt_rule_times(&r, tz, now + 2 * H, now, out, 8);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], now + H);
    assert_int_equal(out[1], now + 2 * H);
    /* a time a little in the past (within max_late) fires now */
    n = nt_rule_times(&r, tz, now + H / 2, now, out, 8);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], now);
    /* at 07:30 local on the anchor's local day: Shanghai is UTC+8 */
    nt_rule at = {.at_minute = 450, .max_late_ms = H};
    n = nt_rule_times(&at, tz, utc(2026, 12, 2, 2, 0), now, out, 8);   /* 10:00 local */
    assert_int_equal(n, 1);
    assert_int_equal(out[0], utc(2026, 12, 1, 23, 30));
    at.at_day = -1;
    nt_rule_times(&at, tz, utc(2026, 12, 3, 2, 0), now, out, 8);
    assert_int_equal(out[0], utc(2026, 12, 1, 23, 30));
    mr_tz_free(&tz);
}

/* Local times on daylight-saving nights (Europe/Berlin: 2026-03-29 02:00
 * -> 03:00, 2026-10-25 03:00 -> 02:00). */
static void test_dst(void **state)
{
    (void)state;
    mr_tz *tz = mr_tz_load("Europe/Berlin");
    assert_non_null(tz);
    assert_int_equal(nt_local_at(tz, utc(2026, 3, 28, 12, 0), 0, 450), utc(2026, 3, 28, 6, 30));
    assert_int_equal(nt_local_at(tz, utc(2026, 3, 29, 12, 0), 0, 450), utc(2026, 3, 29, 5, 30));
    /* the day after, from the night before the change */
    assert_int_equal(nt_local_at(tz, utc(2026, 3, 28, 22, 0), 1, 450), utc(2026, 3, 29, 5, 30));
    /* 02:30 does not exist on the spring night: 03:30 CEST */
    assert_int_equal(nt_local_at(tz, utc(2026, 3, 29, 12, 0), 0, 150), utc(2026, 3, 29, 1, 30));
    /* 02:30 happens twice in autumn: the first (CEST) */
    assert_int_equal(nt_local_at(tz, utc(2026, 10, 25, 12, 0), 0, 150), utc(2026, 10, 25, 0, 30));
    assert_int_equal(nt_local_at(tz, utc(2026, 10, 25, 12, 0), 0, 450), utc(2026, 10, 25, 6, 30));
    /* quiet hours 22:00-07:00 over the spring night end at 07:00 CEST */
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 3, 28, 22, 0), 1320, 420), utc(2026, 3, 29, 5, 0));
    /* the next 07:30 after the evening before the spring change */
    assert_int_equal(nt_next_local(tz, utc(2026, 3, 28, 20, 0), 450), utc(2026, 3, 29, 5, 30));
    assert_int_equal(nt_next_local(tz, utc(2026, 3, 29, 5, 0), 450), utc(2026, 3, 29, 5, 30));
    assert_int_equal(nt_next_local(tz, utc(2026, 3, 29, 5, 30), 450), utc(2026, 3, 30, 5, 30));
    /* to the second: 07:30:15 local, the same day and then the next */
    assert_int_equal(nt_next_local_second(tz, utc(2026, 3, 28, 20, 0), 27015), utc(2026, 3, 29, 5, 30) + 15000);
    assert_int_equal(nt_next_local_second(tz, utc(2026, 3, 29, 5, 30) + 15000, 27015),
                     utc(2026, 3, 30, 5, 30) + 15000);
    char date[16];
    nt_local_date(tz, utc(2026, 3, 28, 23, 30), date, sizeof date);
    assert_string_equal(date, "2026-03-29");
    mr_tz_free(&tz);
}

static void test_quiet_hours(void **state)
{
    (void)state;
    mr_tz *tz = mr_tz_load("Asia/Shanghai");
    /* window wrapping midnight, 22:00-07:00 local (14:00-23:00 UTC) */
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 15, 0), 1320, 420), utc(2026, 12, 1, 23, 0));
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 19, 0), 1320, 420), utc(2026, 12, 1, 23, 0));
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 4, 0), 1320, 420), utc(2026, 12, 1, 4, 0));
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 23, 0), 1320, 420), utc(2026, 12, 1, 23, 0));
    /* a daytime window, 12:00-14:00 local */
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 5, 0), 720, 840), utc(2026, 12, 1, 6, 0));
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 3, 59), 720, 840), utc(2026, 12, 1, 3, 59));
    /* start == end: never quiet */
    assert_int_equal(nt_quiet_defer(tz, utc(2026, 12, 1, 5, 0), 600, 600), utc(2026, 12, 1, 5, 0));
    mr_tz_free(&tz);
}

static void test_ids(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(nt_delivery_id(buf, sizeof buf, "r1", 1700000000123LL), 16);
    assert_string_equal(buf, "r1@1700000000123");
    assert_int_equal(nt_delivery_id(buf, 8, "r1", 1700000000123LL), -1);
    assert_true(nt_id_valid("meeting_day_before.meeting:M1.C1.0"));
    assert_false(nt_id_valid(""));
    assert_false(nt_id_valid("a b"));
    assert_false(nt_id_valid("a{b"));
    char longid[200];
    memset(longid, 'a', 150);
    longid[150] = '\0';
    assert_false(nt_id_valid(longid));
    int seen[4] = {0};
    for (int i = 0; i < 400; i++) {
        snprintf(buf, sizeof buf, "rem-%d", i);
        int s = nt_shard_of(buf, 4);
        assert_true(s >= 0 && s < 4);
        seen[s]++;
        assert_int_equal(nt_shard_of(buf, 4), s);
    }
    for (int i = 0; i < 4; i++)
        assert_true(seen[i] > 50);
    assert_int_equal(nt_shard_of("x", 1), 0);
}

/* Which channel lists let a reminder be delivered by the mover itself. */
static void test_inbox_only(void **state)
{
    (void)state;
    assert_true(nt_channels_inbox_only("inbox"));
    assert_true(nt_channels_inbox_only(" inbox, inbox "));
    assert_false(nt_channels_inbox_only(""));
    assert_false(nt_channels_inbox_only(NULL));
    assert_false(nt_channels_inbox_only("inbox,email"));
    assert_false(nt_channels_inbox_only("webhook"));
    assert_false(nt_channels_inbox_only("inboxes"));
    assert_false(nt_channels_inbox_only("inbo"));
}

/* An inbox member holds the item without delivered time or read mark, and
 * the same delivery always packs to the same bytes (a repeat is found by
 * the inbox's ZADD NX); a changed text is another member. */
static void test_inbox_member(void **state)
{
    (void)state;
    uint8_t a[NT_PACK_MAX], b[NT_PACK_MAX], c[NT_PACK_MAX];
    size_t na = nt_pack_inbox_member("r1@1000", "manual", "Call Dr Li", "", 1000, a);
    size_t nb = nt_pack_inbox_member("r1@1000", "manual", "Call Dr Li", "", 1000, b);
    size_t nc = nt_pack_inbox_member("r1@1000", "manual", "Call Dr Wu", "", 1000, c);
    assert_true(na > 0 && na == nb);
    assert_memory_equal(a, b, na);
    assert_false(na == nc && memcmp(a, c, na) == 0);
    Medrep__InboxItem *it = medrep__inbox_item__unpack(NULL, na, a);
    assert_non_null(it);
    assert_string_equal(it->delivery_id, "r1@1000");
    assert_string_equal(it->kind, "manual");
    assert_string_equal(it->title, "Call Dr Li");
    assert_string_equal(it->body, "");
    assert_true(it->has_due_ms);
    assert_int_equal(it->due_ms, 1000);
    assert_false(it->has_delivered_ms);
    assert_false(it->has_read);
    medrep__inbox_item__free_unpacked(it, NULL);
    /* the longest texts the service accepts fit */
    char title[251], body[1001];
    memset(title, 't', 250), title[250] = '\0';
    memset(body, 'b', 1000), body[1000] = '\0';
    assert_true(nt_pack_inbox_member("r1@1000", "manual", title, body, 1000, a) <= NT_PACK_MAX);
}

/* One-item RemindersDelivered bytes, concatenated, read back as one batch
 * of those deliveries in order (how the mover builds its events). */
static void test_delivered_concatenate(void **state)
{
    (void)state;
    uint8_t buf[2 * NT_PACK_MAX];
    size_t n = nt_pack_delivered("r1", "r1@1000", "P1", "inbox", buf);
    n += nt_pack_delivered("r2", "r2@2000", "P2", "inbox", buf + n);
    Medrep__RemindersDelivered *batch = medrep__reminders_delivered__unpack(NULL, n, buf);
    assert_non_null(batch);
    assert_int_equal(batch->n_deliveries, 2);
    assert_string_equal(batch->deliveries[0]->reminder_id, "r1");
    assert_string_equal(batch->deliveries[0]->delivery_id, "r1@1000");
    assert_string_equal(batch->deliveries[0]->recipient_id, "P1");
    assert_string_equal(batch->deliveries[0]->channel, "inbox");
    assert_string_equal(batch->deliveries[1]->delivery_id, "r2@2000");
    assert_string_equal(batch->deliveries[1]->recipient_id, "P2");
    medrep__reminders_delivered__free_unpacked(batch, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),    cmocka_unit_test(test_times_of_day),
        cmocka_unit_test(test_rule_load),    cmocka_unit_test(test_default_rules),
        cmocka_unit_test(test_rule_times),   cmocka_unit_test(test_dst),
        cmocka_unit_test(test_quiet_hours),  cmocka_unit_test(test_ids),
        cmocka_unit_test(test_inbox_only),   cmocka_unit_test(test_inbox_member),
        cmocka_unit_test(test_delivered_concatenate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
