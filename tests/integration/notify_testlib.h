/* notify_testlib.h: helpers the notify integration tests share (header
 * only, static inline): typed calls to the notify service, emitting events
 * straight into a region's stream, and reading back inboxes, pending
 * reminders and the ReminderDelivered events. */
#ifndef MEDREP_NOTIFY_TESTLIB_H
#define MEDREP_NOTIFY_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errors.h"
#include "events.h"
#include "ids.h"
#include "notify.pb-c.h"
#include "stack.h"
#include "store.h"

/* Fast timers for tests. */
#define NT_TEST_CONFIG                                                                          \
    "[notify]\nshards = 2\nlease_ms = 1500\nmax_sleep_ms = 500\nblock_ms = 200\n"              \
    "claim_min_idle_ms = 1000\nclaim_interval_ms = 300\nmax_attempts = 3\n"

static inline int nt_rpc(mr_client *c, const char *method, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out)
{
    char msg[256];
    ProtobufCMessage *tmp = NULL;
    int code = mr_client_rpc(c, "notify", method, "north", NULL, req, reply_desc, out ? out : &tmp,
                             10000, msg, sizeof msg);
    if (tmp)
        protobuf_c_message_free_unpacked(tmp, NULL);
    if (code != MR_OK && code != MR_INVALID_ARGUMENT)
        fprintf(stderr, "notify.%s: %s %s\n", method, mr_code_name(code), msg);
    return code;
}

static inline int nt_schedule(mr_client *c, const char *id, const char *person, const char *subject,
                              int64_t due_ms, bool urgent)
{
    Medrep__ScheduleReminderRequest q = MEDREP__SCHEDULE_REMINDER_REQUEST__INIT;
    q.reminder_id = (char *)id;
    q.person_id = (char *)person;
    q.subject_id = (char *)subject;
    q.kind = "manual";
    q.title = "test reminder";
    q.has_due_ms = q.has_urgent = true;
    q.due_ms = due_ms;
    q.urgent = urgent;
    return nt_rpc(c, "ScheduleReminder", &q.base, &medrep__schedule_reminder_reply__descriptor, NULL);
}

/* Pending reminders of person (caller frees), or NULL. */
static inline Medrep__ListRemindersReply *nt_pending(mr_client *c, const char *person)
{
    Medrep__ListRemindersRequest q = MEDREP__LIST_REMINDERS_REQUEST__INIT;
    q.person_id = (char *)person;
    q.has_limit = true;
    q.limit = 500;
    ProtobufCMessage *out = NULL;
    if (nt_rpc(c, "ListReminders", &q.base, &medrep__list_reminders_reply__descriptor, &out) != MR_OK)
        return NULL;
    return (Medrep__ListRemindersReply *)out;
}

static inline long nt_pending_count(mr_client *c, const char *person)
{
    Medrep__ListRemindersReply *r = nt_pending(c, person);
    long n = r ? (long)r->n_reminders : -1;
    if (r)
        medrep__list_reminders_reply__free_unpacked(r, NULL);
    return n;
}

/* The person's inbox, newest first (caller frees), or NULL. */
static inline Medrep__InboxListReply *nt_inbox(mr_client *c, const char *person)
{
    Medrep__InboxListRequest q = MEDREP__INBOX_LIST_REQUEST__INIT;
    q.person_id = (char *)person;
    q.has_page_size = true;
    q.page_size = 500;
    ProtobufCMessage *out = NULL;
    if (nt_rpc(c, "InboxList", &q.base, &medrep__inbox_list_reply__descriptor, &out) != MR_OK)
        return NULL;
    return (Medrep__InboxListReply *)out;
}

/* ZCARD of a person's inbox straight from Redis. */
static inline long long nt_inbox_size(mr_store *store, const char *person)
{
    char key[256];
    snprintf(key, sizeof key, "{r:north}:notify:box:%s", person);
    return h_redis_int(store, "ZCARD %s", key);
}

/* Waits until the person's inbox holds want items; returns the last size. */
static inline long long nt_wait_inbox(mr_store *store, const char *person, long long want, int timeout_ms)
{
    int64_t end = mr_mono_ms() + timeout_ms;
    long long n;
    while ((n = nt_inbox_size(store, person)) < want && mr_mono_ms() < end)
        usleep(20 * 1000);
    return n;
}

/* Stages ev into the north stream and commits it. 0 or -1. */
static inline int nt_emit(mr_store *store, Medrep__Event *ev)
{
    char id[33];
    mr_random_id(id, sizeof id);
    ev->event_id = id;
    ev->region = "north";
    ev->has_occurred_ms = true;
    ev->occurred_ms = mr_now_ms();
    mr_tx *tx = mr_tx_new();
    int rc = mr_events_stage(tx, ev, 0) == 0 &&
                     mr_tx_commit(store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED
                 ? 0
                 : -1;
    mr_tx_free(&tx);
    return rc;
}

/* Calls fn for each delivery ev reports: a reminder_delivered event, or
 * each item of a reminders_delivered batch (the mover's direct deliveries).
 * Returns the count. */
static inline size_t nt_event_deliveries(const Medrep__Event *ev,
                                         void (*fn)(const Medrep__ReminderDelivered *,
                                                    const Medrep__Event *, void *),
                                         void *arg)
{
    if (ev && ev->body_case == MEDREP__EVENT__BODY_REMINDER_DELIVERED) {
        fn(ev->reminder_delivered, ev, arg);
        return 1;
    }
    if (!ev || ev->body_case != MEDREP__EVENT__BODY_REMINDERS_DELIVERED)
        return 0;
    for (size_t i = 0; i < ev->reminders_delivered->n_deliveries; i++)
        fn(ev->reminders_delivered->deliveries[i], ev, arg);
    return ev->reminders_delivered->n_deliveries;
}

typedef struct {
    void (*fn)(const Medrep__ReminderDelivered *, void *);
    void *arg;
} nt_delivery_fn;

static inline void nt_call_delivery_fn(const Medrep__ReminderDelivered *d, const Medrep__Event *ev,
                                       void *arg)
{
    (void)ev;
    nt_delivery_fn *f = arg;
    f->fn(d, f->arg);
}

/* Calls fn for every delivery reported on region's stream (single and
 * batch events) after the entry id in cursor ("-": from the start), with
 * its event, and leaves cursor past the last entry read ("(<id>", 64
 * bytes). Returns the number seen, or -1. */
static inline long nt_each_delivery_event_after(mr_store *store, const char *region, char *cursor,
                                                void (*fn)(const Medrep__ReminderDelivered *,
                                                           const Medrep__Event *, void *),
                                                void *arg)
{
    long seen = 0;
    for (;;) {
        mr_val *v = mr_store_cmd(store, "XRANGE {r:%s}:events %s + COUNT 1000", region, cursor);
        if (mr_val_is_error(v)) {
            mr_val_free(&v);
            return -1;
        }
        size_t n = mr_val_count(v);
        for (size_t i = 0; i < n; i++) {
            const mr_val *fields = mr_val_at(mr_val_at(v, i), 1);
            for (size_t f = 0; f + 1 < mr_val_count(fields); f += 2) {
                size_t len;
                const char *name = mr_val_str(mr_val_at(fields, f), NULL);
                const char *data = mr_val_str(mr_val_at(fields, f + 1), &len);
                if (!name || strcmp(name, "ev") != 0)
                    continue;
                Medrep__Event *ev = medrep__event__unpack(NULL, len, (const uint8_t *)data);
                seen += (long)nt_event_deliveries(ev, fn, arg);
                if (ev)
                    medrep__event__free_unpacked(ev, NULL);
            }
            if (i == n - 1)
                snprintf(cursor, 64, "(%s", mr_val_str(mr_val_at(mr_val_at(v, i), 0), NULL));
        }
        mr_val_free(&v);
        if (n < 1000)
            return seen;
    }
}

/* The same over the whole north stream. */
static inline long nt_each_delivery_event(mr_store *store,
                                          void (*fn)(const Medrep__ReminderDelivered *,
                                                     const Medrep__Event *, void *),
                                          void *arg)
{
    char cursor[64] = "-";
    return nt_each_delivery_event_after(store, "north", cursor, fn, arg);
}

/* The same, for fn that needs only the delivery. */
static inline long nt_each_delivered(mr_store *store,
                                     void (*fn)(const Medrep__ReminderDelivered *, void *), void *arg)
{
    nt_delivery_fn f = {fn, arg};
    return nt_each_delivery_event(store, nt_call_delivery_fn, &f);
}

#endif
