/* owners.c: whose territory a meeting or a planned call is in, so the
 * gateway can check access before forwarding a request that names one.
 * Each is asked of the service that owns it through the broker, with the
 * caller's identity: a meeting of meetings (GetMeeting), a call of
 * scheduling (GetCall). No service's keys are read here. */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "gateway.h"
#include "meetings.pb-c.h"
#include "scheduling.pb-c.h"

static void fill_caller(const gw_identity *id, Medrep__Caller *caller)
{
    caller->user_id = (char *)id->user_id;
    caller->role = (char *)id->role_name;
    caller->region = (char *)id->region;
    caller->team = (char *)id->team;
}

int gw_meeting_owner(const gw_identity *id, const char *region, const char *meeting_id, char *rep,
                     size_t cap, gw_answer *a)
{
    mr_client *client = gw_client();
    if (!client) {
        gw_answer_error(a, 503, "UNAVAILABLE", "broker unavailable");
        return -1;
    }
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    fill_caller(id, &caller);
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

int gw_call_owner(const gw_identity *id, const char *region, const char *call_id, char *rep, size_t cap,
                  gw_answer *a)
{
    mr_client *client = gw_client();
    if (!client) {
        gw_answer_error(a, 503, "UNAVAILABLE", "broker unavailable");
        return -1;
    }
    Medrep__Caller caller = MEDREP__CALLER__INIT;
    fill_caller(id, &caller);
    Medrep__GetCallRequest req = MEDREP__GET_CALL_REQUEST__INIT;
    req.call_id = (char *)call_id;
    ProtobufCMessage *out = NULL;
    char msg[256] = "";
    int code = mr_client_rpc(client, "scheduling", "GetCall", region, &caller, &req.base,
                             &medrep__get_call_reply__descriptor, &out, gw.timeout_ms, msg, sizeof msg);
    if (code != MR_OK) {
        gw_answer_error(a, gw_http_status_of(code), mr_code_name(code), "call %s: %s", call_id, msg);
        return -1;
    }
    const Medrep__GetCallReply *r = (const Medrep__GetCallReply *)out;
    snprintf(rep, cap, "%s", r->call && r->call->rep_id ? r->call->rep_id : "");
    protobuf_c_message_free_unpacked(out, NULL);
    return 0;
}
