/* changes_core.h: the pure part of the changes feed (changes.c): whom an
 * event is about, and the changes one event of the stream stands for. A
 * reminders_delivered event (a batch written by notify's mover) stands
 * for one reminder_delivered change per item, each with the batch's
 * envelope and an event id of its own, so a client sees what single
 * events would have shown.
 *
 * Pure: no I/O, no clock, no globals. */
#ifndef MEDREP_GW_CHANGES_CORE_H
#define MEDREP_GW_CHANGES_CORE_H

#include "events.pb-c.h"

/* The rep and the person ev is about (either may stay NULL; both NULL:
 * an event for administrators only). Points into ev. */
void gw_event_owner(const Medrep__Event *ev, const char **rep, const char **person);

/* Calls fn(one, arg) for each change ev stands for, in order: ev itself,
 * or for a reminders_delivered event one event per item (the same
 * envelope: region, occurred_ms, source, request_id; event_id
 * "dlv:<delivery id>", unique per item; body reminder_delivered = the item). one is valid during the call only and
 * borrows from ev. Returns how many changes fn was given. */
size_t gw_changes_of_event(const Medrep__Event *ev, void (*fn)(const Medrep__Event *one, void *arg),
                           void *arg);

#endif
