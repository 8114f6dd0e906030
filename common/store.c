/* store.c: the Redis store (see store.h), the one file that includes
 * hiredis.
 *
 * Connection life: a store starts without a connection. Every command
 * first makes sure one is up; a connect attempt happens at most once per
 * reconnect_interval_ms, so while Redis is away commands fail fast with
 * the cause in the error text. Any I/O failure or time-out drops the
 * context (a late reply would be paired with the wrong command), and the
 * next command connects again.
 *
 * Invariant: store->ctx is either NULL or a usable context with no error,
 * and store->pending counts the pipelined commands whose replies were not
 * read yet. A plain command reads and discards those replies first, so a
 * caller that gave up on a pipeline never gets a stale reply.
 *
 * mr_val is a redisReply under another name: the enum values in store.h
 * are hiredis's REDIS_REPLY_* values, so a value is simply cast. */
#include "store.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"

#define STORE_DEFAULT_CONNECT_TIMEOUT_MS 1000
#define STORE_DEFAULT_COMMAND_TIMEOUT_MS 2000
#define STORE_DEFAULT_RECONNECT_INTERVAL_MS 200

struct mr_store {
    mr_store_cfg cfg;
    redisContext *ctx;
    bool tried_connect;
    int64_t last_connect_ms;   /* monotonic time of the last attempt */
    char connect_cause[160];   /* why the last attempt failed */
    int pending;               /* pipelined replies not read yet */
    bool pipe_broken;          /* the connection failed during this pipeline */
    char error[256];
    char address[200];
};

_Static_assert(MR_VAL_STRING == REDIS_REPLY_STRING && MR_VAL_ARRAY == REDIS_REPLY_ARRAY &&
                   MR_VAL_INTEGER == REDIS_REPLY_INTEGER && MR_VAL_NIL == REDIS_REPLY_NIL &&
                   MR_VAL_STATUS == REDIS_REPLY_STATUS && MR_VAL_ERROR == REDIS_REPLY_ERROR,
               "mr_val types are hiredis reply types");

static inline const redisReply *as_reply(const mr_val *v) { return (const redisReply *)v; }

/* ---- Errors ---- */

static void store_set_error(mr_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void store_set_error(mr_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
}

static void store_clear_error(mr_store *s) { s->error[0] = '\0'; }

/* ---- Connection ---- */

static struct timeval timeval_from_ms(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* hiredis sends with write(2), which raises SIGPIPE when the server has
 * closed the connection, and a library must not kill its process for
 * that. So every hiredis call that may write runs with SIGPIPE blocked in
 * this thread, and a SIGPIPE it raised is consumed before unblocking (one
 * that was already pending is left alone) - unless the process ignores
 * SIGPIPE anyway, as every medrep program does. */
typedef struct {
    sigset_t old_mask;
    bool was_pending;
    bool active;
} sigpipe_guard;

/* True when the process ignores SIGPIPE (every medrep process does, at
 * start): then the guard costs nothing. Looked up once. */
static bool sigpipe_ignored(void)
{
    static atomic_int known = -1;
    int value = atomic_load(&known);
    if (value < 0) {
        struct sigaction current;
        value = sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_IGN;
        atomic_store(&known, value);
    }
    return value == 1;
}

static void sigpipe_guard_begin(sigpipe_guard *g)
{
    g->active = !sigpipe_ignored();
    if (!g->active)
        return;
    sigset_t pipe_only, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &g->old_mask);
}

static void sigpipe_guard_end(sigpipe_guard *g)
{
    if (!g->active)
        return;
    sigset_t pipe_only, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec no_wait = {0, 0};
        sigtimedwait(&pipe_only, NULL, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
}

/* Frees the context after a failure, keeping its error text. */
static void store_drop_connection(mr_store *s, const char *what)
{
    if (s->ctx == NULL)
        return;
    store_set_error(s, "redis %s: %s: %s", s->address, what,
                    s->ctx->errstr[0] ? s->ctx->errstr : "connection lost");
    redisFree(s->ctx);
    s->ctx = NULL;
}

/* Runs one command during connection setup (AUTH, SELECT); false with
 * connect_cause set when it failed or Redis refused. */
static bool setup_command(mr_store *s, redisContext *ctx, const char *what, int argc,
                          const char **argv)
{
    sigpipe_guard guard;
    sigpipe_guard_begin(&guard);
    redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
    sigpipe_guard_end(&guard);
    bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;
    if (r == NULL)
        snprintf(s->connect_cause, sizeof s->connect_cause, "%s: %s", what, ctx->errstr);
    else if (!ok)
        snprintf(s->connect_cause, sizeof s->connect_cause, "%s: %s", what, r->str);
    freeReplyObject(r);
    return ok;
}

static redisContext *open_context(mr_store *s)
{
    redisContext *ctx = redisConnectWithTimeout(s->cfg.host, s->cfg.port,
                                                timeval_from_ms(s->cfg.connect_timeout_ms));
    if (ctx == NULL) {
        snprintf(s->connect_cause, sizeof s->connect_cause, "out of memory");
        return NULL;
    }
    if (ctx->err) {
        snprintf(s->connect_cause, sizeof s->connect_cause, "connect: %s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, timeval_from_ms(s->cfg.command_timeout_ms));
    redisEnableKeepAlive(ctx);
    if (s->cfg.password[0]) {
        const char *argv[] = {"AUTH", s->cfg.password};
        if (!setup_command(s, ctx, "AUTH", 2, argv))
            goto fail;
    }
    if (s->cfg.db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", s->cfg.db);
        const char *argv[] = {"SELECT", db};
        if (!setup_command(s, ctx, "SELECT", 2, argv))
            goto fail;
    }
    return ctx;
fail:
    redisFree(ctx);
    return NULL;
}

/* True when a connection is up, connecting first if allowed. */
static bool store_ensure_connected(mr_store *s)
{
    if (s->ctx != NULL)
        return true;
    int64_t now = mr_mono_ms();
    if (s->tried_connect && now - s->last_connect_ms < s->cfg.reconnect_interval_ms) {
        store_set_error(s, "redis %s unavailable: %s", s->address, s->connect_cause);
        return false;
    }
    s->tried_connect = true;
    s->last_connect_ms = now;
    s->ctx = open_context(s);
    if (s->ctx == NULL) {
        store_set_error(s, "redis %s unavailable: %s", s->address, s->connect_cause);
        return false;
    }
    s->connect_cause[0] = '\0';
    return true;
}

/* Reads one reply; NULL (and the connection dropped) on failure. */
static mr_val *store_read_reply(mr_store *s)
{
    void *reply = NULL;
    sigpipe_guard guard;
    sigpipe_guard_begin(&guard);
    int rc = redisGetReply(s->ctx, &reply);
    sigpipe_guard_end(&guard);
    if (rc != REDIS_OK) {
        store_drop_connection(s, "read");
        return NULL;
    }
    return (mr_val *)reply;
}

static void store_discard_pipeline(mr_store *s)
{
    while (s->pending > 0) {
        mr_val *v = mr_store_next_reply(s);
        mr_val_free(&v);
    }
    s->pipe_broken = false;
}

/* Prepares for one plain command: no stale replies, no old error, a
 * connection. */
static bool store_begin_command(mr_store *s)
{
    store_discard_pipeline(s);
    store_clear_error(s);
    return store_ensure_connected(s);
}

/* ---- Lifecycle ---- */

mr_store *mr_store_new(const mr_store_cfg *cfg)
{
    mr_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    s->cfg.host[sizeof s->cfg.host - 1] = '\0';
    s->cfg.password[sizeof s->cfg.password - 1] = '\0';
    if (s->cfg.connect_timeout_ms <= 0)
        s->cfg.connect_timeout_ms = STORE_DEFAULT_CONNECT_TIMEOUT_MS;
    if (s->cfg.command_timeout_ms <= 0)
        s->cfg.command_timeout_ms = STORE_DEFAULT_COMMAND_TIMEOUT_MS;
    if (s->cfg.reconnect_interval_ms <= 0)
        s->cfg.reconnect_interval_ms = STORE_DEFAULT_RECONNECT_INTERVAL_MS;
    snprintf(s->address, sizeof s->address, "%s:%d/%d", s->cfg.host, s->cfg.port, s->cfg.db);
    snprintf(s->connect_cause, sizeof s->connect_cause, "not connected yet");
    return s;
}

void mr_store_free(mr_store **store)
{
    if (store == NULL || *store == NULL)
        return;
    if ((*store)->ctx)
        redisFree((*store)->ctx);
    free(*store);
    *store = NULL;
}

bool mr_store_ping(mr_store *store)
{
    mr_val *v = mr_store_cmd(store, "PING");
    size_t len = 0;
    const char *text = mr_val_type(v) == MR_VAL_STATUS ? mr_val_str(v, &len) : NULL;
    bool ok = text != NULL && len == 4 && memcmp(text, "PONG", 4) == 0;
    if (v != NULL && !ok)
        store_set_error(store, "redis %s: PING answered %s", store->address,
                        text ? text : "something else");
    mr_val_free(&v);
    return ok;
}

bool mr_store_connected(const mr_store *store) { return store->ctx != NULL; }

const char *mr_store_error(const mr_store *store) { return store->error; }

const char *mr_store_address(const mr_store *store) { return store->address; }

/* ---- Commands ---- */

mr_val *mr_store_cmd(mr_store *store, const char *fmt, ...)
{
    if (!store_begin_command(store))
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(store->ctx, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        store_drop_connection(store, "format");
        return NULL;
    }
    return store_read_reply(store);
}

mr_val *mr_store_cmdv(mr_store *store, int argc, const char **argv, const size_t *lens)
{
    if (!store_begin_command(store))
        return NULL;
    if (redisAppendCommandArgv(store->ctx, argc, argv, lens) != REDIS_OK) {
        store_drop_connection(store, "append");
        return NULL;
    }
    return store_read_reply(store);
}

mr_val *mr_store_cmdv_blocking(mr_store *store, int block_ms, int argc, const char **argv,
                               const size_t *lens)
{
    if (!store_begin_command(store))
        return NULL;
    if (block_ms < 0)
        block_ms = 0;
    redisSetTimeout(store->ctx, timeval_from_ms(store->cfg.command_timeout_ms + block_ms));
    mr_val *v = NULL;
    if (redisAppendCommandArgv(store->ctx, argc, argv, lens) != REDIS_OK)
        store_drop_connection(store, "append");
    else
        v = store_read_reply(store);
    if (store->ctx)
        redisSetTimeout(store->ctx, timeval_from_ms(store->cfg.command_timeout_ms));
    return v;
}

/* ---- Pipelining ---- */

/* The first command of a pipeline clears the error and connects. Once the
 * connection failed within a pipeline, later commands are only counted so
 * their replies come out as NULL in order. */
static bool pipeline_can_append(mr_store *s)
{
    if (s->pending == 0) {
        store_clear_error(s);
        s->pipe_broken = !store_ensure_connected(s);
    }
    s->pending++;
    return !s->pipe_broken && s->ctx != NULL;
}

int mr_store_append(mr_store *store, int argc, const char **argv, const size_t *lens)
{
    if (!pipeline_can_append(store))
        return -1;
    if (redisAppendCommandArgv(store->ctx, argc, argv, lens) != REDIS_OK) {
        store_drop_connection(store, "append");
        store->pipe_broken = true;
        return -1;
    }
    return 0;
}

int mr_store_appendf(mr_store *store, const char *fmt, ...)
{
    if (!pipeline_can_append(store))
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(store->ctx, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        store_drop_connection(store, "append");
        store->pipe_broken = true;
        return -1;
    }
    return 0;
}

mr_val *mr_store_next_reply(mr_store *store)
{
    if (store->pending == 0) {
        store_set_error(store, "no pipelined command left to read");
        return NULL;
    }
    store->pending--;
    if (store->pipe_broken || store->ctx == NULL) {
        store->pipe_broken = true;
        return NULL;
    }
    mr_val *v = store_read_reply(store);
    if (v == NULL)
        store->pipe_broken = true;
    return v;
}

/* ---- Values ---- */

int mr_val_type(const mr_val *v) { return v ? as_reply(v)->type : 0; }

long long mr_val_int(const mr_val *v)
{
    return mr_val_type(v) == MR_VAL_INTEGER ? as_reply(v)->integer : 0;
}

const char *mr_val_str(const mr_val *v, size_t *len)
{
    int type = mr_val_type(v);
    if (type != MR_VAL_STRING && type != MR_VAL_STATUS && type != MR_VAL_ERROR) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = as_reply(v)->len;
    return as_reply(v)->str;
}

size_t mr_val_count(const mr_val *v)
{
    return mr_val_type(v) == MR_VAL_ARRAY ? as_reply(v)->elements : 0;
}

const mr_val *mr_val_at(const mr_val *v, size_t i)
{
    if (i >= mr_val_count(v))
        return NULL;
    return (const mr_val *)as_reply(v)->element[i];
}

bool mr_val_is_error(const mr_val *v) { return v == NULL || mr_val_type(v) == MR_VAL_ERROR; }

void mr_val_free(mr_val **v)
{
    if (v == NULL || *v == NULL)
        return;
    freeReplyObject(*v);
    *v = NULL;
}

/* Takes element i out of array v: the caller owns the result, v keeps a
 * NULL in its place (freeReplyObject skips NULL elements). */
static mr_val *val_detach(mr_val *v, size_t i)
{
    if (i >= mr_val_count(v))
        return NULL;
    redisReply *r = (redisReply *)v;
    mr_val *out = (mr_val *)r->element[i];
    r->element[i] = NULL;
    return out;
}

/* ---- Scripts ---- */

/* mr_script values are static and shared by every thread's stores, so
 * their lazily filled sha is read and written under this lock. */
static pthread_mutex_t script_lock = PTHREAD_MUTEX_INITIALIZER;

static void script_sha_get(const mr_script *script, char sha[41])
{
    pthread_mutex_lock(&script_lock);
    memcpy(sha, script->sha, 41);
    pthread_mutex_unlock(&script_lock);
    sha[40] = '\0';
}

static void script_sha_set(mr_script *script, const char *sha)
{
    pthread_mutex_lock(&script_lock);
    memcpy(script->sha, sha, 40);
    script->sha[40] = '\0';
    pthread_mutex_unlock(&script_lock);
}

/* SCRIPT LOAD. Returns NULL on success (sha filled), else the failure to
 * hand to the caller: NULL-as-failure is told apart by *failed. */
static mr_val *script_load(mr_store *s, mr_script *script, char sha[41], bool *failed)
{
    const char *argv[] = {"SCRIPT", "LOAD", script->source};
    mr_val *v = mr_store_cmdv(s, 3, argv, NULL);
    size_t len = 0;
    const char *text = mr_val_type(v) == MR_VAL_STRING ? mr_val_str(v, &len) : NULL;
    if (text != NULL && len == 40) {
        memcpy(sha, text, 40);
        sha[40] = '\0';
        script_sha_set(script, sha);
        mr_val_free(&v);
        *failed = false;
        return NULL;
    }
    *failed = true;
    if (v != NULL && mr_val_type(v) == MR_VAL_ERROR)
        store_set_error(s, "script %s: %s", script->name, mr_val_str(v, NULL));
    return v;
}

static mr_val *script_run(mr_store *s, const char *sha, int nkeys, int nargs, const char **args,
                          const size_t *lens)
{
    int argc = 3 + nargs;
    const char **argv = malloc(sizeof *argv * (size_t)argc);
    size_t *argl = malloc(sizeof *argl * (size_t)argc);
    if (argv == NULL || argl == NULL) {
        free(argv);
        free(argl);
        store_set_error(s, "out of memory");
        return NULL;
    }
    char numkeys[16];
    snprintf(numkeys, sizeof numkeys, "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = sha;
    argv[2] = numkeys;
    for (int i = 0; i < 3; i++)
        argl[i] = strlen(argv[i]);
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        argl[3 + i] = lens ? lens[i] : strlen(args[i]);
    }
    mr_val *v = mr_store_cmdv(s, argc, argv, argl);
    free(argv);
    free(argl);
    return v;
}

static bool is_noscript(const mr_val *v)
{
    size_t len = 0;
    const char *text = mr_val_type(v) == MR_VAL_ERROR ? mr_val_str(v, &len) : NULL;
    return text != NULL && len >= 8 && memcmp(text, "NOSCRIPT", 8) == 0;
}

/* args holds nargs strings: the first nkeys are the script's KEYS, the
 * rest its ARGV. */
mr_val *mr_store_eval(mr_store *store, mr_script *script, int nkeys, int nargs,
                      const char **args, const size_t *lens)
{
    if (nkeys < 0 || nargs < nkeys) {
        store_set_error(store, "script %s: bad key count", script->name);
        return NULL;
    }
    char sha[41];
    bool failed = false;
    script_sha_get(script, sha);
    if (sha[0] == '\0') {
        mr_val *fail = script_load(store, script, sha, &failed);
        if (failed)
            return fail;
    }
    mr_val *v = script_run(store, sha, nkeys, nargs, args, lens);
    if (!is_noscript(v))
        return v;
    mr_val_free(&v);
    mr_val *fail = script_load(store, script, sha, &failed);
    if (failed)
        return fail;
    return script_run(store, sha, nkeys, nargs, args, lens);
}

/* ---- Keys ---- */

int mr_key(char *buf, size_t cap, const char *region, const char *fmt, ...)
{
    if (buf == NULL || cap == 0)
        return -1;
    buf[0] = '\0';
    if (region == NULL || !mr_region_name_valid(region))
        return -1;
    int head = snprintf(buf, cap, "{r:%s}:", region);
    if (head < 0 || (size_t)head >= cap) {
        buf[0] = '\0';
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int tail = vsnprintf(buf + head, cap - (size_t)head, fmt, ap);
    va_end(ap);
    if (tail < 0 || (size_t)tail >= cap - (size_t)head) {
        buf[0] = '\0';
        return -1;
    }
    return head + tail;
}

/* ---- Transactions ---- */

typedef struct {
    int argc;
    char **argv;    /* each a NUL-terminated copy (binary safe with lens) */
    size_t *lens;
} tx_command;

struct mr_tx {
    tx_command *cmds;
    size_t count;
    size_t cap;
};

mr_tx *mr_tx_new(void) { return calloc(1, sizeof(mr_tx)); }

static void tx_command_clear(tx_command *c)
{
    for (int i = 0; i < c->argc; i++)
        free(c->argv[i]);
    free(c->argv);
    free(c->lens);
    memset(c, 0, sizeof *c);
}

int mr_tx_expect(mr_tx *tx, const char *key, const char *field, const char *value)
{
    const char *argv[5] = {"__EXPECT", key, field ? field : "", value ? value : "",
                           value ? "1" : "0"};
    return mr_tx_add(tx, 5, argv, NULL);
}

void mr_tx_reset(mr_tx *tx)
{
    for (size_t i = 0; i < tx->count; i++)
        tx_command_clear(&tx->cmds[i]);
    tx->count = 0;
}

void mr_tx_free(mr_tx **tx)
{
    if (tx == NULL || *tx == NULL)
        return;
    mr_tx_reset(*tx);
    free((*tx)->cmds);
    free(*tx);
    *tx = NULL;
}

size_t mr_tx_count(const mr_tx *tx) { return tx->count; }

static bool tx_reserve_one(mr_tx *tx)
{
    if (tx->count < tx->cap)
        return true;
    size_t cap = tx->cap ? tx->cap * 2 : 8;
    tx_command *cmds = realloc(tx->cmds, cap * sizeof *cmds);
    if (cmds == NULL)
        return false;
    tx->cmds = cmds;
    tx->cap = cap;
    return true;
}

static char *copy_bytes(const char *src, size_t len)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, src, len);
    out[len] = '\0';
    return out;
}

int mr_tx_add(mr_tx *tx, int argc, const char **argv, const size_t *lens)
{
    if (tx == NULL || argc <= 0 || argv == NULL || !tx_reserve_one(tx))
        return -1;
    tx_command c = {.argc = 0};
    c.argv = calloc((size_t)argc, sizeof *c.argv);
    c.lens = calloc((size_t)argc, sizeof *c.lens);
    if (c.argv == NULL || c.lens == NULL)
        goto oom;
    for (; c.argc < argc; c.argc++) {
        size_t len = lens ? lens[c.argc] : strlen(argv[c.argc]);
        c.argv[c.argc] = copy_bytes(argv[c.argc], len);
        if (c.argv[c.argc] == NULL)
            goto oom;
        c.lens[c.argc] = len;
    }
    tx->cmds[tx->count++] = c;
    return 0;
oom:
    tx_command_clear(&c);
    return -1;
}

#define TX_MAX_ADDV_ARGS 64

int mr_tx_addv(mr_tx *tx, const char *arg0, ...)
{
    const char *argv[TX_MAX_ADDV_ARGS];
    int argc = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *arg = arg0; arg != NULL; arg = va_arg(ap, const char *)) {
        if (argc == TX_MAX_ADDV_ARGS) {
            va_end(ap);
            return -1;
        }
        argv[argc++] = arg;
    }
    va_end(ap);
    return mr_tx_add(tx, argc, argv, NULL);
}

/* The commit script.
 *   KEYS[1]  the dedupe key, or any key of the region (routing only)
 *   ARGV[1]  "1" when KEYS[1] is a dedupe key, else "0"
 *   ARGV[2]  the record to store under the dedupe key
 *   ARGV[3]  its TTL in ms (<= 0: no expiry)
 *   ARGV[4]  the number of commands, then each command as
 *            argc, arg1 .. argc-th arg
 * Returns {0} when the commands ran, {1, record} for a duplicate, {2}
 * when an expectation (a "__EXPECT key field value present" pseudo-command
 * staged by mr_tx_expect) did not hold: then nothing ran.
 *
 * Redis does not roll a script back when a command fails midway, so
 * before the first write the script checks the type of every written key
 * against the command's data type and refuses the whole transaction on a
 * mismatch (the usual runtime error). Malformed commands are the caller's
 * bug and may leave the commands before them applied. */
static mr_script tx_script = {
    .name = "mr_tx_commit",
    .source =
        "local dedupe = ARGV[1] == '1'\n"
        "if dedupe then\n"
        "  local prior = redis.call('GET', KEYS[1])\n"
        "  if prior then return {1, prior} end\n"
        "end\n"
        "local kinds = {\n"
        "  INCR='string', INCRBY='string', DECR='string', DECRBY='string',\n"
        "  INCRBYFLOAT='string', APPEND='string', SETRANGE='string', SETNX='string',\n"
        "  HSET='hash', HSETNX='hash', HMSET='hash', HDEL='hash', HINCRBY='hash',\n"
        "  HINCRBYFLOAT='hash', SADD='set', SREM='set', ZADD='zset', ZREM='zset',\n"
        "  ZINCRBY='zset', ZREMRANGEBYSCORE='zset', ZREMRANGEBYRANK='zset',\n"
        "  LPUSH='list', RPUSH='list', LREM='list', LTRIM='list', LPOP='list',\n"
        "  RPOP='list', LSET='list', XADD='stream', XACK='stream', XDEL='stream',\n"
        "  XTRIM='stream'}\n"
        "local cmds = {}\n"
        "local checked = {}\n"
        "local i = 5\n"
        "for c = 1, tonumber(ARGV[4]) do\n"
        "  local argc = tonumber(ARGV[i])\n"
        "  cmds[c] = {i + 1, i + argc}\n"
        "  i = i + argc + 1\n"
        "end\n"
        "for c, r in ipairs(cmds) do\n"
        "  if ARGV[r[1]] == '__EXPECT' then\n"
        "    local now\n"
        "    if ARGV[r[1] + 2] == '' then now = redis.call('GET', ARGV[r[1] + 1])\n"
        "    else now = redis.call('HGET', ARGV[r[1] + 1], ARGV[r[1] + 2]) end\n"
        "    local want = ARGV[r[1] + 3]\n"
        "    if ARGV[r[1] + 4] == '0' then want = false end\n"
        "    if now ~= want then return {2} end\n"
        "  end\n"
        "  local kind = kinds[string.upper(ARGV[r[1]])]\n"
        "  if kind and r[2] > r[1] and checked[ARGV[r[1] + 1]] ~= kind then\n"
        "    checked[ARGV[r[1] + 1]] = kind\n"
        "    local t = redis.call('TYPE', ARGV[r[1] + 1]).ok\n"
        "    if t ~= 'none' and t ~= kind then\n"
        "      return redis.error_reply('WRONGTYPE tx command ' .. c .. ' (' .. ARGV[r[1]] ..\n"
        "        ') on a ' .. t .. ' key; nothing was applied')\n"
        "    end\n"
        "  end\n"
        "end\n"
        "for _, r in ipairs(cmds) do\n"
        "  if ARGV[r[1]] ~= '__EXPECT' then redis.call(unpack(ARGV, r[1], r[2])) end\n"
        "end\n"
        "if dedupe then\n"
        "  local ttl = tonumber(ARGV[3])\n"
        "  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)\n"
        "  else redis.call('SET', KEYS[1], ARGV[2]) end\n"
        "end\n"
        "return {0}\n",
};

/* The key the script is routed by: the dedupe key, else the first
 * command's first argument (its key for every write command). */
static const char *tx_routing_key(const mr_tx *tx, const char *dedupe_key, size_t *len)
{
    if (dedupe_key != NULL) {
        *len = strlen(dedupe_key);
        return dedupe_key;
    }
    for (size_t i = 0; i < tx->count; i++) {
        if (tx->cmds[i].argc >= 2) {
            *len = tx->cmds[i].lens[1];
            return tx->cmds[i].argv[1];
        }
    }
    *len = 0;
    return "";
}

/* The script's KEYS and ARGV as borrowed pointers into tx and into the
 * numbers buffer; free args, lens and numbers when done. */
typedef struct {
    int nargs;
    const char **args;
    size_t *lens;
    char (*numbers)[24];
} tx_script_args;

static void tx_script_args_free(tx_script_args *a)
{
    free(a->args);
    free(a->lens);
    free(a->numbers);
}

static void push_arg(tx_script_args *a, const char *arg, size_t len)
{
    a->args[a->nargs] = arg;
    a->lens[a->nargs] = len;
    a->nargs++;
}

static void push_number(tx_script_args *a, size_t slot, long long n)
{
    int len = snprintf(a->numbers[slot], sizeof a->numbers[slot], "%lld", n);
    push_arg(a, a->numbers[slot], (size_t)len);
}

static int tx_build_args(const mr_tx *tx, const char *dedupe_key, const void *record,
                         size_t record_len, int64_t ttl_ms, tx_script_args *a)
{
    size_t total = 5;
    for (size_t i = 0; i < tx->count; i++)
        total += 1 + (size_t)tx->cmds[i].argc;
    memset(a, 0, sizeof *a);
    a->args = malloc(total * sizeof *a->args);
    a->lens = malloc(total * sizeof *a->lens);
    a->numbers = malloc((tx->count + 2) * sizeof *a->numbers);
    if (a->args == NULL || a->lens == NULL || a->numbers == NULL) {
        tx_script_args_free(a);
        return -1;
    }
    size_t key_len = 0;
    const char *key = tx_routing_key(tx, dedupe_key, &key_len);
    push_arg(a, key, key_len);
    push_arg(a, dedupe_key ? "1" : "0", 1);
    push_arg(a, record ? (const char *)record : "", record ? record_len : 0);
    push_number(a, 0, (long long)ttl_ms);
    push_number(a, 1, (long long)tx->count);
    for (size_t i = 0; i < tx->count; i++) {
        push_number(a, i + 2, tx->cmds[i].argc);
        for (int j = 0; j < tx->cmds[i].argc; j++)
            push_arg(a, tx->cmds[i].argv[j], tx->cmds[i].lens[j]);
    }
    return 0;
}

/* Reads the script's answer {0} or {1, record}. */
static mr_tx_result tx_read_result(mr_store *store, mr_val *v, mr_val **prior)
{
    if (v == NULL)
        return MR_TX_FAILED;
    if (mr_val_type(v) == MR_VAL_ERROR) {
        store_set_error(store, "tx refused: %s", mr_val_str(v, NULL));
        return MR_TX_FAILED;
    }
    const mr_val *status = mr_val_at(v, 0);
    if (mr_val_type(status) != MR_VAL_INTEGER) {
        store_set_error(store, "tx: unexpected script reply");
        return MR_TX_FAILED;
    }
    if (mr_val_int(status) == 0)
        return MR_TX_COMMITTED;
    if (mr_val_int(status) == 2) {
        store_set_error(store, "tx: a value it expected had changed; nothing was applied");
        return MR_TX_CONFLICT;
    }
    if (prior)
        *prior = val_detach(v, 1);
    return MR_TX_DUPLICATE;
}

mr_tx_result mr_tx_commit(mr_store *store, mr_tx *tx, const char *dedupe_key,
                          const void *record, size_t record_len, int64_t ttl_ms,
                          mr_val **prior)
{
    if (prior)
        *prior = NULL;
    if (tx->count == 0 && dedupe_key == NULL) {
        store_clear_error(store);
        return MR_TX_COMMITTED;
    }
    tx_script_args a;
    if (tx_build_args(tx, dedupe_key, record, record_len, ttl_ms, &a) != 0) {
        store_set_error(store, "out of memory");
        return MR_TX_FAILED;
    }
    mr_val *v = mr_store_eval(store, &tx_script, 1, a.nargs, a.args, a.lens);
    tx_script_args_free(&a);
    mr_tx_result result = tx_read_result(store, v, prior);
    mr_val_free(&v);
    return result;
}

/* ---- Pool ---- */

#define POOL_MAX_REGIONS 256

typedef struct {
    char name[33];
    mr_store *store;   /* borrowed from pool->stores */
} pool_region;

struct mr_store_pool {
    pool_region *regions;
    size_t nregions;
    mr_store **stores;  /* owned, one per distinct server */
    size_t nstores;
};

static bool same_server(const mr_store_cfg *a, const mr_region_cfg *r)
{
    return strcmp(a->host, r->redis_host) == 0 && a->port == r->redis_port &&
           a->db == r->redis_db && strcmp(a->password, r->redis_password) == 0;
}

/* The pool's store for region r's server, created when new. */
static mr_store *pool_store_for(mr_store_pool *pool, const mr_region_cfg *r)
{
    for (size_t i = 0; i < pool->nstores; i++)
        if (same_server(&pool->stores[i]->cfg, r))
            return pool->stores[i];
    mr_store_cfg cfg = {.port = r->redis_port, .db = r->redis_db};
    snprintf(cfg.host, sizeof cfg.host, "%s", r->redis_host);
    snprintf(cfg.password, sizeof cfg.password, "%s", r->redis_password);
    mr_store *s = mr_store_new(&cfg);
    if (s != NULL)
        pool->stores[pool->nstores++] = s;
    return s;
}

static int pool_fill(mr_store_pool *pool, const mr_region_cfg *regions, size_t n, char *err,
                     size_t errcap)
{
    pool->regions = calloc(n, sizeof *pool->regions);
    pool->stores = calloc(n, sizeof *pool->stores);
    if (pool->regions == NULL || pool->stores == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!mr_region_name_valid(regions[i].name))
            continue;
        mr_store *s = pool_store_for(pool, &regions[i]);
        if (s == NULL) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        pool_region *pr = &pool->regions[pool->nregions++];
        snprintf(pr->name, sizeof pr->name, "%s", regions[i].name);
        pr->store = s;
    }
    if (pool->nregions == 0) {
        snprintf(err, errcap, "no valid region in the configuration");
        return -1;
    }
    return 0;
}

mr_store_pool *mr_store_pool_new(const mr_config *cfg, char *err, size_t errcap)
{
    char scratch[8];
    if (err == NULL) {
        err = scratch;
        errcap = sizeof scratch;
    }
    mr_region_cfg *regions = calloc(POOL_MAX_REGIONS, sizeof *regions);
    mr_store_pool *pool = calloc(1, sizeof *pool);
    if (regions == NULL || pool == NULL) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    int n = mr_config_regions(cfg, regions, POOL_MAX_REGIONS, err, errcap);
    if (n < 0)
        goto fail;
    if (n == 0) {
        snprintf(err, errcap, "no region configured (a [region.NAME] section with redis = ...)");
        goto fail;
    }
    if (n > POOL_MAX_REGIONS) {
        snprintf(err, errcap, "too many regions (at most %d)", POOL_MAX_REGIONS);
        goto fail;
    }
    if (pool_fill(pool, regions, (size_t)n, err, errcap) != 0)
        goto fail;
    free(regions);
    return pool;
fail:
    free(regions);
    mr_store_pool_free(&pool);
    return NULL;
}

void mr_store_pool_free(mr_store_pool **pool)
{
    if (pool == NULL || *pool == NULL)
        return;
    for (size_t i = 0; i < (*pool)->nstores; i++)
        mr_store_free(&(*pool)->stores[i]);
    free((*pool)->stores);
    free((*pool)->regions);
    free(*pool);
    *pool = NULL;
}

mr_store *mr_store_pool_get(mr_store_pool *pool, const char *region)
{
    if (region == NULL)
        return NULL;
    for (size_t i = 0; i < pool->nregions; i++)
        if (strcmp(pool->regions[i].name, region) == 0)
            return pool->regions[i].store;
    return NULL;
}

size_t mr_store_pool_region_count(const mr_store_pool *pool) { return pool->nregions; }

const char *mr_store_pool_region_name(const mr_store_pool *pool, size_t i)
{
    return i < pool->nregions ? pool->regions[i].name : NULL;
}
