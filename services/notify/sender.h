/* sender.h: what the parts of the sender share (private to sender.c,
 * outside.c and digest.c): a ready entry with what was read for it, and
 * the commands each part stages into the delivery script's arguments. */
#ifndef MEDREP_NOTIFY_SENDER_H
#define MEDREP_NOTIFY_SENDER_H

#include "script_args.h"
#include "send.h"
#include "worker.h"

typedef struct {
    char person[128], kind[64], title[256], body[1024], subject[128];
    int64_t due_ms;
    int64_t at_ms;              /* retries: the time of this try */
    int attempt;                /* retries: tries made so far */
    bool urgent;
    bool found;
} nt_loaded;

typedef struct {
    char entry_id[48];
    int shard;
    char rid[128];
    bool retry;                 /* a retry on one channel: member "<rid>#<channel>" */
    char member[160], channel[16];
    int64_t score_ms;           /* the due-set score it fired at */
    int64_t due_ms, at_ms;      /* the reminder's due time, and Redis's time when it fired */
    nt_loaded r;
    nt_person who;
    bool current;               /* the reminder still exists with this due time */
    char dead_reason[192];      /* set: goes to the dead-letter stream */
    char **digest_ids;          /* a digest: the delivery ids it gathers (owned) */
    size_t digest_n;
} nt_entry;

/* ---- sender.c: commands of one entry ---- */
/* Packs the entry's ReminderDelivered event into buf (NT_PACK_MAX
 * bytes). Returns the length. */
size_t nt_pack_event(nt_worker *w, const nt_entry *e, const char *did, const char *channel, uint8_t *buf);
/* The person's channel list holds the inbox only. */
bool nt_inbox_only(const nt_entry *e);
/* XACK, XDEL and the tries' HDEL: 3 commands. */
void nt_cmd_ack(nt_worker *w, nt_args *a, const nt_entry *e);
/* The ReminderDelivered event of a delivery on channel: 1 command. */
void nt_cmd_event(nt_worker *w, nt_args *a, const nt_entry *e, const char *did, const char *channel);
/* The removal of a delivered reminder: returns its command count (2 or 3). */
int nt_cmd_done(nt_worker *w, nt_args *a, const nt_entry *e);
/* A dead letter with its reason: 1 command. */
void nt_cmd_dead(nt_worker *w, nt_args *a, const nt_entry *e, const char *reason);

/* ---- inbox_fast.c ---- */
/* True when the entry takes the inbox fast path: current, a first try,
 * no digest, no dead letter, the inbox its only channel. */
bool nt_fast_eligible(const nt_entry *e);
/* Delivers the fast entries of a batch (flags[i] set; of any shards) in one
 * specialised script: the inbox writes, the event, the removal and the
 * sent marker per entry unless its marker exists; one XACK, XDEL and HDEL
 * for all. 0, or -1 (left pending). */
int nt_deliver_fast(nt_worker *w, nt_entry *es, size_t n, const bool *flags);
/* Trims the inboxes of the people of the flagged entries to the region's
 * retention (items and age). Idempotent, so outside the delivery script. */
void nt_trim_inboxes(nt_worker *w, const nt_entry *es, size_t n, const bool *flags);

/* ---- outside.c ---- */
/* Stages the hand-over of a delivery on an outside channel to the outside
 * senders: a first-try record and its entry on the outside stream.
 * Returns the number of commands staged (2). */
int nt_cmd_outside_enqueue(nt_worker *w, nt_args *a, const nt_entry *e, const char *channel);
/* Sends the delivery on an outside channel now (try number attempt + 1)
 * and stages what follows: the channel's marker and event, a retry
 * (*retrying set), or a dead letter (and disabling a webhook that answered
 * 401/403/410). Returns the number of commands staged. */
int nt_deliver_outside(nt_worker *w, nt_args *a, const nt_entry *e, const char *channel,
                       const char *did, int attempt, bool *retrying);

/* ---- digest.c ---- */
bool nt_is_digest(const nt_entry *e);
/* True when the entry waits for its person's daily digest instead. */
bool nt_waits_for_digest(const nt_entry *e);
/* Reads what the digests among the entries gather, in one pipeline. 0 or -1. */
int nt_load_digests(nt_worker *w, nt_entry *es, size_t n);
void nt_free_digest(nt_entry *e);
/* Stages the gathering of an entry for its person's digest: 7 commands. */
int nt_cmd_digest_gather(nt_worker *w, nt_args *a, const nt_entry *e, const char *did);
/* Stages the removal of what a digest gathered: 1 command (or 0). */
int nt_cmd_digest_clear(nt_worker *w, nt_args *a, const nt_entry *e);

#endif
