/* events.h: durable events in the region's Redis stream.
 *
 * Producing: mr_events_stage() adds the XADD of an event to a mr_tx, so the
 * event is committed in the same script as the change it records (the
 * outbox). The stream is "{r:<region>}:events"; each entry has the fields
 *   type  the body's name (e.g. "customer_regraded")
 *   ev    the packed medrep.Event
 *
 * Consuming: each service reads with its own consumer group (the service
 * name) and one consumer per instance. A consumer
 *   1. first re-reads its own pending entries (those it read before a
 *      crash or restart and never acknowledged),
 *   2. every claim_interval_ms claims entries other instances left pending
 *      longer than claim_min_idle_ms (XAUTOCLAIM), so a dead instance's
 *      work is finished by a live one,
 *   3. otherwise reads new entries, blocking up to block_ms.
 * The handler commits its effects with a dedupe key from
 * mr_consumer_dedupe_key() (so a re-delivered entry changes nothing the
 * second time) and then acknowledges with mr_consumer_ack().
 * An entry that cannot be decoded is moved to "{r:<region>}:events:dead"
 * with the reason, acknowledged, and skipped.
 *
 * The live feed: mr_feed tails the streams of every configured region and
 * publishes each event on a ZeroMQ PUB socket as three frames
 *   "<region>.<type>"   the topic, for prefix subscriptions
 *   packed medrep.Event
 *   the sequence: 16 bytes, session id then counter (uint64 big-endian)
 * and, when nothing was published for [feed] heartbeat_ms (default 1000),
 * a heartbeat: topic MR_FEED_HEARTBEAT_TOPIC, an empty body, the sequence.
 * The session id is random per feed start; the counter starts at 1 and
 * grows by one with every message (heartbeats too), so a subscriber to
 * every topic can tell a lost message (a gap), a restarted feed (a new
 * session) and a feed gone silent (no heartbeat). Heartbeats are sent
 * only while the streams are being read (not while Redis is away).
 * It is a watcher's view (best effort, from the time it starts); the
 * stream is the durable record. */
#ifndef MEDREP_EVENTS_H
#define MEDREP_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "store.h"

/* "customer_regraded", "call_logged", ..., "probe"; "unknown" when no body. */
const char *mr_event_type_name(const Medrep__Event *ev);

/* Writes "{r:<region>}:events" into buf; -1 on invalid region. */
int mr_events_stream_key(char *buf, size_t cap, const char *region);

/* Stages the XADD of ev to its region's stream (ev->region must be set
 * and valid; the stream is capped with MAXLEN ~ maxlen, 0 = uncapped).
 * Returns 0, or -1 when ev has no valid region or packing failed. */
int mr_events_stage(mr_tx *tx, const Medrep__Event *ev, long long maxlen);

/* ---- Consumer ---- */

typedef struct {
    int claim_min_idle_ms;     /* default 30000 when 0 */
    int claim_interval_ms;     /* default 5000 when 0 */
    int batch;                 /* entries per read, default 64 when 0 */
} mr_consumer_opts;

typedef struct mr_consumer mr_consumer;

/* The store is borrowed (it must outlive the consumer and belong to the
 * same thread). Creates the group at the start of the stream if missing
 * (MKSTREAM), so events emitted before the service ever ran are handled. */
mr_consumer *mr_consumer_new(mr_store *store, const char *region, const char *group,
                             const char *consumer, const mr_consumer_opts *opts);
void mr_consumer_free(mr_consumer **c);

typedef struct {
    char id[48];                /* stream entry id "1700000000000-0" */
    Medrep__Event *event;       /* owned; freed by mr_event_entry_clear */
    int deliveries;             /* 1 on first delivery when known, else 0 */
} mr_event_entry;

/* Next entry to handle: 1 and *out filled, 0 when none came within
 * block_ms, -1 when Redis failed (mr_store_error tells why; try again
 * later). Undecodable entries are dead-lettered and skipped inside. */
int mr_consumer_next(mr_consumer *c, int block_ms, mr_event_entry *out);

/* XACK. Returns 0 or -1. */
int mr_consumer_ack(mr_consumer *c, const char *entry_id);
/* One XACK for n entry ids (n >= 1). Returns 0 or -1. */
int mr_consumer_ack_many(mr_consumer *c, const char *const *entry_ids, size_t n);

/* "{r:<region>}:done:<group>:<entry id>": the dedupe key under which the
 * handler commits its effects. */
int mr_consumer_dedupe_key(const mr_consumer *c, const char *entry_id, char *buf, size_t cap);

const char *mr_consumer_region(const mr_consumer *c);

void mr_event_entry_clear(mr_event_entry *e);

/* ---- Live feed ---- */

typedef struct mr_feed mr_feed;

/* The topic of heartbeats ('~' sorts after region names; a prefix
 * subscription to a region never receives them). */
#define MR_FEED_HEARTBEAT_TOPIC "~heartbeat"
#define MR_FEED_SEQ_BYTES 16
#define MR_FEED_DEFAULT_HEARTBEAT_MS 1000

typedef struct {
    uint64_t session;   /* random per feed start, never 0 */
    uint64_t counter;   /* 1, 2, ... per message of the session */
} mr_feed_seq;

/* Writes seq into buf (MR_FEED_SEQ_BYTES). */
void mr_feed_seq_encode(const mr_feed_seq *seq, uint8_t buf[MR_FEED_SEQ_BYTES]);
/* Reads a sequence frame; false when it is not one (wrong size). */
bool mr_feed_seq_decode(const void *data, size_t len, mr_feed_seq *out);
/* Whether a topic frame is the heartbeat's. */
bool mr_feed_is_heartbeat(const void *topic, size_t len);

/* Starts a thread that tails every region of cfg (its own store pool) and
 * publishes on a PUB socket bound to endpoint, in the given zmq context.
 * Reads [feed] heartbeat_ms (1..3600000, default 1000).
 * Returns NULL with err on failure (for example the endpoint in use). */
mr_feed *mr_feed_start(void *zmq_ctx, const mr_config *cfg, const char *endpoint, char *err,
                       size_t errcap);
/* Stops the thread and closes the socket. */
void mr_feed_stop(mr_feed **feed);

#endif
