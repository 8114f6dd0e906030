/* core.h: the pure core of the notify service (DOMAIN.md section 5).
 *
 * Rules turn an event into reminders: which event (and which value of its
 * state/kind field), which recipients, when (offsets from the event's
 * anchor time (the subject's time, such as a meeting's start, or with
 * "anchor = event" the time the event is handled), or a fixed local time of day on a day relative to the
 * anchor), which kind, and an optional escalation (a second reminder to
 * another recipient some time after the anchor). A rule with action
 * "cancel" cancels every reminder of the event's subject instead.
 *
 * Rules come from configuration: built-in defaults (nt_default_rules_ini)
 * under [notify.rule.<name>], every key overridable per region through the
 * scoped section [notify.rule.<name>@region:<r>]. The core reads them via a
 * lookup callback, so it never touches a file.
 *
 * Local time: fire times and quiet hours are computed in the recipient's
 * time zone (passed in, clock.h), daylight saving correct.
 *
 * No I/O, no clock, no globals: time is passed in. */
#ifndef MEDREP_NOTIFY_CORE_H
#define MEDREP_NOTIFY_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define NT_MAX_OFFSETS 8
#define NT_MAX_RULES 64

typedef enum {
    NT_EV_MEETING_CHANGED = 0,
    NT_EV_FOLLOW_UP_DUE,
    NT_EV_CALL_PLANNED,
    NT_EV_CALL_LOGGED,
    NT_EV_CALL_CANCELLED,
    NT_EV_PLAN_DUE,
    NT_EV_COVERAGE_BEHIND_PACE,
    NT_EV_CUSTOMER_REGRADED,
    NT_EV_COUNT
} nt_event_kind;

/* Recipient roles, a bit mask. */
enum {
    NT_TO_REP = 1 << 0,
    NT_TO_DM = 1 << 1,
    NT_TO_INVITEES = 1 << 2,
    NT_TO_STAFF = 1 << 3,
    NT_TO_APPROVER = 1 << 4,
};

typedef struct {
    char name[48];
    nt_event_kind event;
    char match[128];           /* comma list of accepted values of the event's
                                  state/kind field; "" = any */
    bool cancel;               /* action = cancel: cancel the subject's reminders */
    unsigned recipients;       /* NT_TO_* */
    int64_t offsets_ms[NT_MAX_OFFSETS];
    int offset_count;
    int at_minute;             /* -1: none; else local minute of day (07:30 = 450) */
    int at_day;                /* with at_minute: days after the anchor's local date */
    bool per_day;              /* one reminder per recipient and local day (itinerary) */
    char kind[32];
    char title[128];
    bool urgent;               /* ignores quiet hours */
    bool anchor_event;         /* anchor = event: times count from when the event
                                  is handled, not from its subject's time */
    unsigned escalate_to;      /* NT_TO_*, 0 = none */
    int64_t escalate_after_ms; /* after the anchor */
    char escalate_kind[32];
    int64_t max_late_ms;       /* a fire time further in the past is dropped */
} nt_rule;

/* Looks up key of the rule section (already scoped by the caller). Returns
 * NULL when absent. */
typedef const char *(*nt_lookup_fn)(void *arg, const char *rule, const char *key);

/* The built-in rules as INI text ([notify.rule.<name>] sections). */
extern const char nt_default_rules_ini[];

/* "1d", "-1h30m", "10m", "45s", "0": milliseconds. 0 or -1. */
int nt_parse_duration(const char *text, int64_t *ms);
/* "07:30" -> 450. 0 or -1. */
int nt_parse_hhmm(const char *text, int *minute);
/* A time of day with optional seconds: "07:30" -> 27000, "07:30:15" ->
 * 27015 (seconds of the day). 0 or -1. */
int nt_parse_clock(const char *text, int *second);
/* "22:00-07:00" -> 1320, 420. start == end means never. 0 or -1. */
int nt_parse_window(const char *text, int *start, int *end);
/* "rep,dm,invitees,staff,approver" -> mask. 0 or -1. */
int nt_parse_recipients(const char *text, unsigned *mask);
/* "meeting_changed" ... -> kind, or -1. */
int nt_event_kind_parse(const char *text);

/* Fills *rule from the lookup of rule `name`. Returns 1 when the rule is
 * enabled and valid, 0 when disabled, -1 with err when malformed. */
int nt_rule_load(nt_rule *rule, const char *name, nt_lookup_fn lookup, void *arg, char *err,
                 size_t errcap);

/* True when the rule reacts to event kind ev whose state/kind field is
 * value (may be NULL or ""). */
bool nt_rule_matches(const nt_rule *rule, nt_event_kind ev, const char *value);

/* The fire times of rule for an anchor, in the recipient's zone tz, at
 * most cap. Times more than rule->max_late_ms before now_ms are dropped;
 * other past times become now_ms. Returns the count. */
int nt_rule_times(const nt_rule *rule, const mr_tz *tz, int64_t anchor_ms, int64_t now_ms,
                  int64_t *out, int cap);

/* The instant of local minute-of-day `minute` on the local date of
 * anchor_ms plus `days` days, in tz. */
int64_t nt_local_at(const mr_tz *tz, int64_t anchor_ms, int days, int minute);

/* When due_ms falls in the local quiet window [start, end) (minutes of
 * day; a window may wrap midnight), the end of that window; else due_ms. */
int64_t nt_quiet_defer(const mr_tz *tz, int64_t due_ms, int start, int end);

/* The first instant after now_ms that is local minute-of-day `minute` in tz. */
int64_t nt_next_local(const mr_tz *tz, int64_t now_ms, int minute);
/* The same for a local second of the day. */
int64_t nt_next_local_second(const mr_tz *tz, int64_t now_ms, int second);

/* Local date "YYYY-MM-DD" of t_ms in tz (buf >= 11). */
void nt_local_date(const mr_tz *tz, int64_t t_ms, char *buf, size_t cap);

/* The delivery id of one firing of a reminder: "<reminder_id>@<due_ms>".
 * A reminder that is moved fires under a new id; a repeat of the same
 * firing has the same id, so a receiver drops it. -1 if it does not fit. */
int nt_delivery_id(char *buf, size_t cap, const char *reminder_id, int64_t due_ms);

/* True when a comma/space list of channels names the inbox and nothing
 * else ("inbox", "inbox,inbox"); false for "", "inbox,email", ... */
bool nt_channels_inbox_only(const char *list);

/* A shard number in [0, shards) for a reminder id (FNV-1a). */
int nt_shard_of(const char *reminder_id, int shards);
/* A person's preference version set by the request request_id: 16 hex
 * digits of its 64-bit FNV-1a hash (the same on a retry, new per request). */
void nt_version_token(const char *request_id, char *buf, size_t cap);

/* True when id is 1..127 bytes of [A-Za-z0-9._:@-]. */
bool nt_id_valid(const char *id);

/* ---- inbox_item.c: the bytes of an inbox member and of a delivery ---- */
/* The largest packed inbox item or event (title 256 + body 1024 + ids). */
#define NT_PACK_MAX 2048
/* An inbox member: the medrep.InboxItem of a delivery without its
 * delivered time and read mark, into buf (NT_PACK_MAX). Returns the length. */
size_t nt_pack_inbox_member(const char *did, const char *kind, const char *title, const char *body,
                            int64_t due_ms, uint8_t *buf);
/* A medrep.RemindersDelivered holding one delivery, into buf
 * (NT_PACK_MAX). Returns the length. */
size_t nt_pack_delivered(const char *reminder_id, const char *did, const char *person, const char *channel,
                         uint8_t *buf);

#endif
