/* changes.c: GET /v1/regions/{region}/changes?since=CURSOR&limit=N, the
 * changes feed over the region's event stream, so a mobile app can sync
 * what changed for its user since it was last online. The cursor is a
 * stream entry id; the answer holds the events the caller may see and the
 * cursor to ask from next time (past everything read, seen or not).
 * A batch event (reminders_delivered) shows as one reminder_delivered
 * change per item the caller may see, all with the entry's cursor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes_core.h"
#include "events.h"
#include "gateway.h"
#include "masterdata.h"
#include "pbjson.h"

static bool visible(const gw_identity *id, const char *region, const Medrep__Event *ev,
                    mr_store *store)
{
    gw_resource res = {.region = region};
    gw_event_owner(ev, &res.rep_id, &res.person_id);
    if (!res.rep_id && !res.person_id)
        res.admin_only = true;
    mr_rep rep;
    if (res.rep_id && id->caller.role == GW_ROLE_DM && mr_md_get_rep(store, region, res.rep_id, &rep) == 1)
        res.rep_dm_id = rep.dm_id;
    return gw_allowed(&id->caller, &res, NULL);
}

/* What one stream entry's changes are added with. */
typedef struct {
    const gw_identity *id;
    const char *region;
    mr_store *store;
    json_t *changes;
    const char *cursor;    /* the entry's id: every change of the entry has it */
} collector;

/* Adds one change to the answer when the caller may see it. */
static void add_change(const Medrep__Event *ev, void *arg)
{
    const collector *c = arg;
    if (visible(c->id, c->region, ev, c->store))
        json_array_append_new(c->changes, json_pack("{s:s, s:s, s:o}", "cursor", c->cursor, "type",
                                                    mr_event_type_name(ev), "event",
                                                    mr_pb_to_json(&ev->base)));
}

/* Adds the visible changes of an XRANGE reply to changes (a batch event
 * of the stream: one per item, see changes_core.h); returns the id of the
 * last entry read (into last). */
static void collect(const gw_identity *id, const char *region, mr_store *store, const mr_val *v,
                    json_t *changes, char *last, size_t lastcap)
{
    collector c = {.id = id, .region = region, .store = store, .changes = changes, .cursor = last};
    for (size_t i = 0; i < mr_val_count(v); i++) {
        const mr_val *entry = mr_val_at(v, i);
        const mr_val *fields = mr_val_at(entry, 1);
        snprintf(last, lastcap, "%s", mr_val_str(mr_val_at(entry, 0), NULL));
        for (size_t k = 0; k + 1 < mr_val_count(fields); k += 2) {
            size_t len;
            const char *name = mr_val_str(mr_val_at(fields, k), NULL);
            const char *data = mr_val_str(mr_val_at(fields, k + 1), &len);
            if (!name || strcmp(name, "ev") != 0 || !data)
                continue;
            Medrep__Event *ev = medrep__event__unpack(NULL, len, (const uint8_t *)data);
            if (!ev)
                continue;
            gw_changes_of_event(ev, add_change, &c);
            medrep__event__free_unpacked(ev, NULL);
        }
    }
}

void gw_changes(const gw_identity *id, const char *region, const char *since, int limit,
                gw_answer *a)
{
    mr_store *store = gw_pool() ? mr_store_pool_get(gw_pool(), region) : NULL;
    gw_resource res = {.region = region};
    const char *why;
    if (!store) {
        gw_answer_error(a, 404, "NOT_FOUND", "region '%s' is not served here", region);
        return;
    }
    if (!gw_allowed(&id->caller, &res, &why)) {
        gw_answer_error(a, 403, "PERMISSION_DENIED", "%s", why);
        return;
    }
    char key[96], start[80], last[64] = "";
    mr_events_stream_key(key, sizeof key, region);
    snprintf(start, sizeof start, since && since[0] ? "(%s" : "-", since);
    snprintf(last, sizeof last, "%s", since && since[0] ? since : "0-0");
    mr_val *v = mr_store_cmd(store, "XRANGE %s %s + COUNT %d", key, start, limit);
    if (!v || mr_val_type(v) != MR_VAL_ARRAY) {
        gw_answer_error(a, v ? 400 : 503, v ? "INVALID_ARGUMENT" : "UNAVAILABLE", "%s",
                        v ? "the cursor is not a valid stream id" : "event log unavailable");
        mr_val_free(&v);
        return;
    }
    json_t *changes = json_array();
    collect(id, region, store, v, changes, last, sizeof last);
    mr_val_free(&v);
    a->status = 200;
    a->body = json_pack("{s:o, s:s}", "changes", changes, "next", last);
}
