/* inbox_item.c: the bytes an inbox holds and a delivery reports, packed in
 * one place for every path that writes an inbox (the mover's direct
 * delivery, whose bytes are packed at schedule time by direct.c; the
 * sender's fast and generic paths). An inbox member is a medrep.InboxItem
 * without its delivered time (the member's score) or read mark (the read
 * set), so the same delivery always packs to the same member and a repeat
 * of it is found by the inbox itself (ZADD NX). A delivery is reported
 * as a one-item RemindersDelivered: such bytes, concatenated, are the
 * body of a batch (protobuf appends repeated fields), which is how the
 * mover builds its events without parsing anything. */
#include "core.h"
#include "events.pb-c.h"
#include "notify.pb-c.h"

size_t nt_pack_inbox_member(const char *did, const char *kind, const char *title, const char *body,
                            int64_t due_ms, uint8_t *buf)
{
    Medrep__InboxItem item = MEDREP__INBOX_ITEM__INIT;
    item.delivery_id = (char *)did;
    item.kind = (char *)kind;
    item.title = (char *)title;
    item.body = (char *)body;
    item.has_due_ms = true;
    item.due_ms = due_ms;
    return medrep__inbox_item__pack(&item, buf);
}

size_t nt_pack_delivered(const char *reminder_id, const char *did, const char *person, const char *channel,
                         uint8_t *buf)
{
    Medrep__ReminderDelivered d = MEDREP__REMINDER_DELIVERED__INIT;
    d.reminder_id = (char *)reminder_id;
    d.delivery_id = (char *)did;
    d.recipient_id = (char *)person;
    d.channel = (char *)channel;
    Medrep__ReminderDelivered *items[] = {&d};
    Medrep__RemindersDelivered one = MEDREP__REMINDERS_DELIVERED__INIT;
    one.deliveries = items;
    one.n_deliveries = 1;
    return medrep__reminders_delivered__pack(&one, buf);
}
