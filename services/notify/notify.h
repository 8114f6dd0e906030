/* notify.h: the shell of the notify service, shared by main.c (state,
 * settings), reminders.c (the Redis layout and the staged writes of
 * reminders), timers.c with mover.c and sender.c (+ outside.c, digest.c:
 * the durable timers and the channels), handlers.c (methods) and
 * on_event.c (events -> reminders by the rules of core.c).
 *
 * Redis layout of a region (every key under the region's hash tag
 * "{r:<region>}:notify:"):
 *   rem:<id>            hash: p person, k kind, t title, b body, due, u urgent, s subject;
 *                       for a direct (inbox-only) reminder also v "<pref v>/<tag>",
 *                       i its inbox member and e its one-item RemindersDelivered
 *                       (direct.c: the mover delivers it itself)
 *   sh:<n>:due          sorted set of reminder ids by due time (ms), shard n
 *   sh:<n>:ready        stream of fired reminders (m id, due, at fire time) read by
 *                       the consumer group "senders"
 *   sh:<n>:lease        the instance that moves shard n now (PX lease)
 *   sh:<n>:wake         list the mover blocks on; pushed when a reminder is
 *                       scheduled before the shard's head
 *   sh:<n>:tries        hash: ready entry id -> deliveries tried
 *   sh:<n>:out          stream of tries on outside channels ("<id>#<channel>"),
 *                       read by the outside senders (group "senders")
 *   sh:<n>:outtries     hash: outside entry id -> reclaims
 *   subj:<subject>      set of reminder ids of a subject (a meeting, ...)
 *   person:<p>          set of a person's pending reminder ids
 *   pref:<p>            hash: tz, quiet, ch:<kind> / ch:* channels, webhook, email,
 *                       webhook_off (why it was disabled), digest (HH:MM),
 *                       v (a version bumped by every SetPreferences)
 *   digest:<p>          hash: delivery id -> "kind<TAB>title" waiting for the digest
 *   retry:<id>#<ch>     hash: a delivery waiting for its next try on a channel;
 *                       "<id>#<ch>" sits in the due set like a reminder
 *   box:<p>             the inbox: sorted set, by delivered time, of members
 *                       (inbox_item.c: a packed medrep.InboxItem without its
 *                       delivered time and read mark)
 *   boxread:<p>         set of the inbox's members read (unread count:
 *                       ZCARD box - SCARD boxread)
 *   inboxdirty          set of persons the mover delivered to since their
 *                       inboxes were last trimmed (mover.c)
 *   tidy                list of "<person> <reminder id>[ <subject>]" the mover
 *                       delivered and has still to take out of person:<p>
 *                       and subj:<s> (mover.c)
 *   prefv               hash: person -> the same v as pref:<p> (the mover
 *                       reads a whole batch's versions in one command)
 * Every key is "<kind>:<id>" with a kind word of its own first, so ids
 * (which may hold ':') cannot make two kinds of key meet.
 *   sent:<delivery id>  set once a delivery is done (with the ack, atomically);
 *                       a direct delivery needs none: the reminder goes in the
 *                       same script, and a member already in the inbox is not
 *                       delivered again
 *   sent:<did>:<ch>     set once an outside channel accepted the delivery
 *   dead                stream of dead-lettered entries with their reason */
#ifndef MEDREP_NOTIFY_H
#define MEDREP_NOTIFY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "core.h"
#include "service.h"
#include "store.h"

#define NT_MAX_REGIONS 32
#define NT_MAX_SHARDS 64
#define NT_TZ_CACHE 64
#define NT_MAX_SENDERS 8

typedef struct {
    int shards;                 /* per region */
    int lease_ms;               /* the mover's lease */
    int max_sleep_ms;           /* the longest a mover sleeps (also bounds shutdown) */
    int wake_precise_ms;        /* the end of a mover's sleep slept locally, not in BLPOP */
    int senders;                /* sender threads per region */
    int outside_senders;        /* outside-channel sender threads per region */
    int outside_batch;          /* tries per read of an outside sender */
    int block_ms;               /* the sender's XREADGROUP block */
    int claim_min_idle_ms;      /* a ready entry pending longer is reclaimed */
    int claim_interval_ms;
    int max_attempts;           /* deliveries of one entry before the dead letter */
    int move_batch;             /* entries per move script */
    int delivered_event_max;    /* direct deliveries per reminders_delivered event */
    int trim_interval_ms;       /* how often the mover trims and tidies after its deliveries */
    int tidy_backlog_max;       /* tidy entries beyond which tidying goes on while saturated */
    int read_batch;             /* entries per XREADGROUP */
    int batch_max;              /* reminders per ScheduleReminders / move */
    long long sent_ttl_ms;      /* how long a delivery id is remembered */
    long long clock_skew_ms;    /* testing: added to this instance's wall clock */
    long long events_maxlen;
    bool timers;                /* false: serve methods and events only (no mover, no sender) */
} nt_settings;

typedef struct {
    char name[33];
    char timezone[64];
    /* outside channels ([notify] or [notify@region:<r>]) */
    char webhook_secret[128];
    bool webhook_allow_private;
    int webhook_timeout_ms;
    int channel_attempts;       /* sends of one delivery on a channel */
    long long retry_base_ms, retry_max_ms;
    char smtp_url[256], smtp_from[128], smtp_domain[128];
    int smtp_timeout_ms;
    /* inbox retention: items kept per person (0: no cap), age (0: none) */
    int inbox_max_items;
    long long inbox_max_age_ms;
    /* direct inbox delivery by the mover ([notify] direct_inbox) and the
     * tag of the region's defaults it was decided under (direct.c) */
    bool direct_inbox;
    char direct_tag[24];
    nt_rule rules[NT_MAX_RULES];
    int rule_count;
} nt_region;

typedef struct {
    mr_service *svc;
    const mr_config *cfg;
    nt_settings set;
    nt_region regions[NT_MAX_REGIONS];
    int region_count;
    pthread_mutex_t tz_lock;    /* guards the zone cache */
    struct { char name[64]; mr_tz *tz; } tz_cache[NT_TZ_CACHE];
    int tz_count;
    atomic_bool stop;
    bool curl_ready;
    pthread_t threads[(1 + 2 * NT_MAX_SENDERS) * NT_MAX_REGIONS];
    void *workers[(1 + 2 * NT_MAX_SENDERS) * NT_MAX_REGIONS];   /* owned by timers.c */
    int thread_count;
} nt_state;

/* ---- main.c ---- */
int64_t nt_now_ms(const nt_state *st);
const nt_region *nt_region_find(const nt_state *st, const char *region);
/* A loaded zone from the cache (never freed before fini), or NULL. */
const mr_tz *nt_tz_get(nt_state *st, const char *name);

/* ---- store.c ---- */
int nt_key(char *buf, size_t cap, const char *region, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef struct {
    const char *id, *person, *kind, *title, *body, *subject;
    int64_t due_ms;
    bool urgent;
} nt_reminder;

/* A person's zone, quiet window and channels for a kind. */
typedef struct {
    const mr_tz *tz;
    int quiet_start, quiet_end;     /* equal: never quiet */
    char channels[128];             /* comma list */
    char webhook[520];              /* URL, "" none */
    char email[256];                /* address, "" none */
    char webhook_off[64];           /* why the webhook was disabled, "" if not */
    int digest_second;              /* local second of the day of the daily digest, -1 none */
    char version[24];               /* pref field v: bumped by every preference change, "0" none */
} nt_person;

/* Reads the person's preferences (falling back to the region's). 0 or -1
 * (Redis failed). */
int nt_person_load(nt_state *st, mr_store *store, const char *region, const char *person,
                   const char *kind, nt_person *out);
/* The same in two halves, for pipelines: append the read, then parse
 * its reply. */
int nt_person_append(mr_store *store, const char *region, const char *person, const char *kind);
int nt_person_parse(nt_state *st, const char *region, const mr_val *reply, nt_person *out);
/* Stages the (re)scheduling of r, after quiet hours. 0, or -1 when Redis
 * failed or r is invalid. *due_out: the due time stored. */
int nt_stage_schedule(nt_state *st, mr_store *store, mr_tx *tx, const char *region,
                      const nt_reminder *r, int64_t *due_out);
/* The same for n reminders, reading what they need in one pipeline. */
int nt_stage_schedule_many(nt_state *st, mr_store *store, mr_tx *tx, const char *region,
                           const nt_reminder *rs, size_t n);
/* Stages the cancel of one reminder: 1 cancelled, 0 not found, -1 Redis failed. */
int nt_stage_cancel(nt_state *st, mr_store *store, mr_tx *tx, const char *region, const char *id);
/* Reminder ids of a subject (SMEMBERS). Count or -1; caller frees with mr_md-like loop. */
long nt_subject_ids(mr_store *store, const char *region, const char *subject, char ***ids);
void nt_free_ids(char **ids, long count);

/* ---- direct.c ---- */
/* The tag of a region's defaults that decide an inbox-only delivery. */
void nt_direct_tag(const char *default_channels, bool direct, char *buf, size_t cap);
/* Stages, for a reminder that fires at at_ms into the inbox alone (the
 * person's channels, no digest, direct delivery on), the fields with which
 * the mover delivers it itself (HSET on rem_key). 1 staged, 0 not
 * eligible, -1 failed. */
int nt_stage_direct(nt_state *st, mr_tx *tx, const char *region, const char *rem_key,
                    const nt_reminder *r, const nt_person *who, int64_t at_ms);

/* ---- timers.c ---- */
/* Starts the mover and the sender of every region. 0 or -1. */
int nt_timers_start(nt_state *st, char *err, size_t errcap);
/* Sets stop, joins the threads and gives up held leases. */
void nt_timers_stop(nt_state *st);

/* ---- handlers.c ---- */
extern const mr_method nt_methods[];
extern const size_t nt_method_count;
int nt_on_event(mr_event_call *call);

#endif
