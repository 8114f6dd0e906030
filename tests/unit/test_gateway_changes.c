/* test_gateway_changes.c: the pure part of the gateway's changes feed
 * (changes_core.c): a reminders_delivered batch stands for one
 * reminder_delivered change per item, each with the batch's envelope and
 * shown as JSON exactly like the single event would be; each item is
 * about its recipient; other events stand for themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "changes_core.h"
#include "events.h"
#include "pbjson.h"

/* The changes given to collect: their JSON, type and person. */
typedef struct {
    size_t n;
    char *json[8];
    const char *type[8];
    const char *person[8];
} seen;

static void collect(const Medrep__Event *one, void *arg)
{
    seen *s = arg;
    assert_true(s->n < 8);
    const char *rep;
    gw_event_owner(one, &rep, &s->person[s->n]);
    assert_null(rep);
    s->type[s->n] = mr_event_type_name(one);
    json_t *j = mr_pb_to_json(&one->base);
    s->json[s->n++] = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->json[i]);
}

static void envelope(Medrep__Event *ev)
{
    ev->event_id = "ev-42";
    ev->region = "north";
    ev->has_occurred_ms = true;
    ev->occurred_ms = 1764000000000;
    ev->source = "notify-1";
    ev->request_id = "req-7";
}

/* The JSON of a single reminder_delivered event with the same envelope
 * and the item's own event id. */
static char *single_json(Medrep__ReminderDelivered *item)
{
    Medrep__Event ev = MEDREP__EVENT__INIT;
    envelope(&ev);
    char id[64];
    snprintf(id, sizeof id, "dlv:%s", item->delivery_id);
    ev.event_id = id;
    ev.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    ev.reminder_delivered = item;
    json_t *j = mr_pb_to_json(&ev.base);
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return text;
}

static void batch_is_one_change_per_item(void **state)
{
    (void)state;
    Medrep__ReminderDelivered items[3];
    Medrep__ReminderDelivered *ptrs[3];
    const char *people[] = {"P1", "P2", "P1"};
    const char *deliveries[] = {"d-1", "d-2", "d-3"};
    for (int i = 0; i < 3; i++) {
        items[i] = (Medrep__ReminderDelivered)MEDREP__REMINDER_DELIVERED__INIT;
        items[i].reminder_id = "rem-1";
        items[i].delivery_id = (char *)deliveries[i];
        items[i].recipient_id = (char *)people[i];
        items[i].channel = "inbox";
        ptrs[i] = &items[i];
    }
    Medrep__RemindersDelivered batch = MEDREP__REMINDERS_DELIVERED__INIT;
    batch.n_deliveries = 3;
    batch.deliveries = ptrs;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    envelope(&ev);
    ev.body_case = MEDREP__EVENT__BODY_REMINDERS_DELIVERED;
    ev.reminders_delivered = &batch;

    seen s = {0};
    assert_int_equal(gw_changes_of_event(&ev, collect, &s), 3);
    assert_int_equal(s.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(s.type[i], "reminder_delivered");
        assert_string_equal(s.person[i], people[i]);
        char *want = single_json(&items[i]);
        assert_string_equal(s.json[i], want);
        assert_non_null(strstr(s.json[i], deliveries[i]));
        assert_non_null(strstr(s.json[i], "\"request_id\":\"req-7\""));
        free(want);
    }
    seen_free(&s);
    /* the batch itself is untouched */
    assert_int_equal(ev.body_case, MEDREP__EVENT__BODY_REMINDERS_DELIVERED);
    assert_ptr_equal(ev.reminders_delivered, &batch);
}

static void empty_batch_is_no_change(void **state)
{
    (void)state;
    Medrep__RemindersDelivered batch = MEDREP__REMINDERS_DELIVERED__INIT;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    envelope(&ev);
    ev.body_case = MEDREP__EVENT__BODY_REMINDERS_DELIVERED;
    ev.reminders_delivered = &batch;
    seen s = {0};
    assert_int_equal(gw_changes_of_event(&ev, collect, &s), 0);
    ev.reminders_delivered = NULL;
    assert_int_equal(gw_changes_of_event(&ev, collect, &s), 0);
    assert_int_equal(s.n, 0);
}

static void other_events_stand_for_themselves(void **state)
{
    (void)state;
    Medrep__ReminderDelivered rd = MEDREP__REMINDER_DELIVERED__INIT;
    rd.recipient_id = "P9";
    rd.delivery_id = "d-9";
    Medrep__Event ev = MEDREP__EVENT__INIT;
    envelope(&ev);
    ev.body_case = MEDREP__EVENT__BODY_REMINDER_DELIVERED;
    ev.reminder_delivered = &rd;
    seen s = {0};
    assert_int_equal(gw_changes_of_event(&ev, collect, &s), 1);
    assert_string_equal(s.person[0], "P9");
    json_t *j = mr_pb_to_json(&ev.base);   /* itself: its own event id kept */
    char *want = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    assert_string_equal(s.json[0], want);
    assert_non_null(strstr(want, "\"event_id\":\"ev-42\""));
    free(want);
    seen_free(&s);

    Medrep__PlanChanged pc = MEDREP__PLAN_CHANGED__INIT;
    pc.rep_id = "R1";
    ev.body_case = MEDREP__EVENT__BODY_PLAN_CHANGED;
    ev.plan_changed = &pc;
    const char *rep, *person;
    gw_event_owner(&ev, &rep, &person);
    assert_string_equal(rep, "R1");
    assert_null(person);
    ev.body_case = MEDREP__EVENT__BODY_PROBE;   /* nobody's: for administrators */
    Medrep__Probe probe = MEDREP__PROBE__INIT;
    ev.probe = &probe;
    gw_event_owner(&ev, &rep, &person);
    assert_null(rep);
    assert_null(person);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_is_one_change_per_item),
        cmocka_unit_test(empty_batch_is_no_change),
        cmocka_unit_test(other_events_stand_for_themselves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
