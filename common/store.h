/* store.h: the Redis store. The one module that includes hiredis.
 *
 * A mr_store is one synchronous connection to one Redis server, with
 * connect and command time-outs. It connects lazily and reconnects by
 * itself: when a command fails on the connection, the next command tries
 * to connect again (at most once per reconnect_interval_ms), so a caller
 * simply gets NULL (with mr_store_error()) while Redis is away and
 * answers again when it is back. One mr_store per thread.
 *
 * Replies are mr_val, an opaque view of a Redis reply; the caller owns
 * what a command returns and frees it with mr_val_free().
 *
 * Keys: every key of a region starts with the hash tag "{r:<region>}:",
 * so one region's keys stay in one Redis Cluster slot (multi-key scripts
 * and transactions work) while regions spread over servers.
 *
 * A mr_store_pool maps each configured region to its store (regions that
 * name the same server share one connection). */
#ifndef MEDREP_STORE_H
#define MEDREP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct mr_store mr_store;
typedef struct mr_val mr_val;

typedef struct {
    char host[128];
    int port;
    int db;
    char password[128];          /* "" for none */
    int connect_timeout_ms;      /* default 1000 when 0 */
    int command_timeout_ms;      /* default 2000 when 0 */
    int reconnect_interval_ms;   /* default 200 when 0 */
} mr_store_cfg;

/* Never fails for an unreachable server (it connects on first use);
 * returns NULL only when out of memory. */
mr_store *mr_store_new(const mr_store_cfg *cfg);
void mr_store_free(mr_store **store);

/* Connects if needed and PINGs. True when Redis answered. */
bool mr_store_ping(mr_store *store);
/* True when the connection is up as far as the store knows (no I/O). */
bool mr_store_connected(const mr_store *store);
/* The last error, "" when none. Lives until the next command. */
const char *mr_store_error(const mr_store *store);
/* "host:port/db" */
const char *mr_store_address(const mr_store *store);

/* One command, hiredis format ("SET %s %b", key, buf, len). NULL when the
 * connection failed (see mr_store_error); a Redis error reply is returned
 * as a value of type MR_VAL_ERROR, not NULL. */
mr_val *mr_store_cmd(mr_store *store, const char *fmt, ...);
/* One command from argv; lens may be NULL for C strings. */
mr_val *mr_store_cmdv(mr_store *store, int argc, const char **argv, const size_t *lens);
/* Same for a command that waits on the server up to block_ms (XREAD or
 * XREADGROUP with BLOCK block_ms): the reply time-out is stretched by
 * block_ms for this command only. */
mr_val *mr_store_cmdv_blocking(mr_store *store, int block_ms, int argc, const char **argv,
                               const size_t *lens);

/* Pipelining: append commands, then read their replies in order. If the
 * connection fails midway, the remaining replies are NULL. */
int mr_store_append(mr_store *store, int argc, const char **argv, const size_t *lens);
int mr_store_appendf(mr_store *store, const char *fmt, ...);
mr_val *mr_store_next_reply(mr_store *store);

/* ---- Values ---- */

enum {
    MR_VAL_STRING = 1,
    MR_VAL_ARRAY = 2,
    MR_VAL_INTEGER = 3,
    MR_VAL_NIL = 4,
    MR_VAL_STATUS = 5,
    MR_VAL_ERROR = 6,
};

int mr_val_type(const mr_val *v);
long long mr_val_int(const mr_val *v);          /* INTEGER; 0 otherwise */
const char *mr_val_str(const mr_val *v, size_t *len); /* STRING/STATUS/ERROR; NULL otherwise */
size_t mr_val_count(const mr_val *v);           /* ARRAY elements; 0 otherwise */
const mr_val *mr_val_at(const mr_val *v, size_t i); /* NULL when out of range; owned by v */
bool mr_val_is_error(const mr_val *v);          /* NULL or MR_VAL_ERROR */
void mr_val_free(mr_val **v);

/* ---- Scripts ---- */

/* A Lua script run by SHA; mr_store_eval loads it on first use and again
 * when Redis answers NOSCRIPT (after a restart or failover). Declare one
 * static mr_script per script; sha is filled in lazily. */
typedef struct {
    const char *name;
    const char *source;
    char sha[41];
} mr_script;

/* args holds nargs strings (lens may be NULL): the first nkeys are the
 * script's KEYS, the rest its ARGV. */
mr_val *mr_store_eval(mr_store *store, mr_script *script, int nkeys, int nargs,
                      const char **args, const size_t *lens);

/* ---- Keys ---- */

/* Writes "{r:<region>}:<formatted>" into buf. Returns the length, or -1
 * when the region name is invalid or the key does not fit. */
int mr_key(char *buf, size_t cap, const char *region, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- Atomic transactions with an outbox and idempotency ---- */

/* A mr_tx collects write commands to run atomically in one Lua script, so
 * a change is never saved without its event (stage an XADD with
 * mr_events_stage) and, with a dedupe key, never applied twice. */
typedef struct mr_tx mr_tx;

mr_tx *mr_tx_new(void);
void mr_tx_free(mr_tx **tx);
/* Copies the arguments. Returns 0, or -1 when out of memory. */
int mr_tx_add(mr_tx *tx, int argc, const char **argv, const size_t *lens);
/* Convenience: NULL-terminated C strings, e.g. mr_tx_addv(tx, "INCR", key, NULL). */
int mr_tx_addv(mr_tx *tx, const char *arg0, ...) __attribute__((sentinel));
/* Optimistic concurrency: the commit applies nothing and answers
 * MR_TX_CONFLICT unless, at commit time, the hash field (field NULL: the
 * string key) holds exactly value (value NULL: is absent). Typically a
 * record's version read before deciding the change. Counts as a command. */
int mr_tx_expect(mr_tx *tx, const char *key, const char *field, const char *value);
size_t mr_tx_count(const mr_tx *tx);
void mr_tx_reset(mr_tx *tx);

typedef enum {
    MR_TX_COMMITTED = 0,   /* commands ran; the record was stored under dedupe_key */
    MR_TX_DUPLICATE = 1,   /* dedupe_key existed: nothing ran; *prior holds the stored record */
    MR_TX_CONFLICT = 2,    /* an mr_tx_expect did not hold: nothing ran */
    MR_TX_FAILED = -1,     /* connection failed or Redis refused: nothing ran */
} mr_tx_result;

/* Runs every command of tx in one script. With dedupe_key (a key of the
 * same region) the script first checks it: when it exists nothing runs
 * and the stored record is returned in *prior (caller frees with
 * mr_val_free; prior may be NULL when not wanted); otherwise after the
 * commands it stores `record` under dedupe_key with a TTL of ttl_ms.
 * dedupe_key NULL: the commands just run atomically. */
mr_tx_result mr_tx_commit(mr_store *store, mr_tx *tx, const char *dedupe_key,
                          const void *record, size_t record_len, int64_t ttl_ms,
                          mr_val **prior);

/* ---- Pool: region -> store ---- */

typedef struct mr_store_pool mr_store_pool;

/* One store per distinct Redis server named by the configuration's
 * regions. NULL with err when the configuration has no valid region. */
mr_store_pool *mr_store_pool_new(const mr_config *cfg, char *err, size_t errcap);
void mr_store_pool_free(mr_store_pool **pool);
/* The store of `region`, or NULL when the region is not configured. */
mr_store *mr_store_pool_get(mr_store_pool *pool, const char *region);
/* Number of regions, and the name of the i-th (in configuration order). */
size_t mr_store_pool_region_count(const mr_store_pool *pool);
const char *mr_store_pool_region_name(const mr_store_pool *pool, size_t i);

#endif
