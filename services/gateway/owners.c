/* owners.c: whose territory a meeting or a planned call is in, so the
 * gateway can check access before forwarding a request that names one.
 * A meeting is asked of the meetings service (GetMeeting, with the
 * caller's identity); a planned call is read from the region's store
 * where scheduling keeps it ({r:<region>}:sched:call:<id>, a PlannedCall),
 * because scheduling has no method to get one call. */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "gateway.h"
#include "masterdata.h"
#include "meetings.pb-c.h"
#include "scheduling.pb-c.h"

int gw_meeting_owner(const gw_identity *id, const char *region, const char *meeting_id, char *rep,
                     size_t cap, gw_answer *a)
{
    mr_client *client = gw_client();
    if (!client) {
        gw_answer_error(a, 503, "UNAVAILABLE", "broker unavailable");
        return -1;
    }
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    caller.user_id = (char *)id->user_id;
    caller.role = (char *)id->role_name;
    caller.region = (char *)id->region;
    caller.team = (char *)id->team;
    Medrep__GetMeetingRequest req = MEDREP__GET_MEETING_REQUEST__INIT;
    req.meeting_id = (char *)meeting_id;
    ProtobufCMessage *out = NULL;
    char msg[256] = "";
    int code = mr_client_rpc(client, "meetings", "GetMeeting", region, &caller, &req.base,
                             &medrep__get_meeting_reply__descriptor, &out, gw.timeout_ms, msg, sizeof msg);
    if (code != MR_OK) {
        gw_answer_error(a, gw_http_status_of(code), mr_code_name(code), "meeting %s: %s", meeting_id, msg);
        return -1;
    }
    const Medrep__GetMeetingReply *r = (const Medrep__GetMeetingReply *)out;
    snprintf(rep, cap, "%s", r->meeting && r->meeting->rep_id ? r->meeting->rep_id : "");
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}

int gw_call_owner(mr_store *store, const char *region, const char *call_id, char *rep, size_t cap,
                  gw_answer *a)
{
    char key[256];
    if (!mr_md_id_valid(call_id) || mr_key(key, sizeof key, region, "sched:call:%s", call_id) < 0) {
        gw_answer_error(a, 400, "INVALID_ARGUMENT", "call_id: not a valid id");
        return -1;
    }
    mr_val *v = mr_store_cmd(store, "GET %s", key);
    if (!v || mr_val_type(v) == MR_VAL_ERROR) {
        mr_val_free(&v);
        gw_answer_error(a, 503, "UNAVAILABLE", "the region's store is unavailable");
        return -1;
    }
    size_t len = 0;
    const char *data = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, &len) : NULL;
    Medrep__PlannedCall *pb = data ? medrep__planned_call__unpack(NULL, len, (const uint8_t *)data) : NULL;
    mr_val_free(&v);
    if (!pb) {
        gw_answer_error(a, 404, "NOT_FOUND", "no call '%s'", call_id);
        return -1;
    }
    snprintf(rep, cap, "%s", pb->rep_id ? pb->rep_id : "");
    medrep__planned_call__free_unpacked(pb, NULL);
    return 0;
}
