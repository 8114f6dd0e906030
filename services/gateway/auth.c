/* auth.c: API tokens and rate limits. A token is a random string given
 * once to its owner; Redis keeps only its SHA-256, in the hash
 *   {r:<auth_region>}:auth:token:<sha256 hex>
 * with fields user_id, role, region, team, revoked ("1" when revoked).
 * `medrep token ...` creates, lists and revokes them.
 *
 * Verified tokens are kept in a cache in this process for
 * [gateway] token_cache_ms (so most requests need no Redis round trip);
 * a revocation therefore takes effect within that time. Unknown and
 * revoked tokens are never cached. */
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "gateway.h"

void gw_token_hash(const char *token, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static void copy_field(const mr_val *v, size_t i, char *dst, size_t cap)
{
    size_t len = 0;
    const char *s = mr_val_str(mr_val_at(v, i), &len);
    snprintf(dst, cap, "%.*s", s ? (int)len : 0, s ? s : "");
}

/* ---- The cache of verified tokens ---- */

typedef struct {
    char hash[65];
    gw_identity id;
    int64_t verified_ms;
    UT_hash_handle hh;
} cached_token;

static cached_token *token_cache;
static unsigned token_cache_count;
static pthread_mutex_t token_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void token_cache_clear(void)
{
    cached_token *t, *tmp;
    HASH_ITER(hh, token_cache, t, tmp) {
        HASH_DEL(token_cache, t);
        free(t);
    }
    token_cache_count = 0;
}

/* Copies a fresh cached identity for hash into id; false when none. */
static bool cache_get(const char *hash, int64_t now_ms, gw_identity *id)
{
    if (gw.token_cache_ms <= 0)
        return false;
    pthread_mutex_lock(&token_cache_lock);
    cached_token *t = NULL;
    HASH_FIND_STR(token_cache, hash, t);
    bool fresh = t && now_ms - t->verified_ms < gw.token_cache_ms;
    if (fresh)
        *id = t->id;
    pthread_mutex_unlock(&token_cache_lock);
    if (fresh)   /* the caller view points into the copy */
        id->caller = (gw_caller){.user_id = id->user_id, .role = gw_role_parse(id->role_name),
                                 .region = id->region, .team = id->team};
    return fresh;
}

static void cache_put(const gw_identity *id, int64_t now_ms)
{
    if (gw.token_cache_ms <= 0)
        return;
    pthread_mutex_lock(&token_cache_lock);
    cached_token *t = NULL;
    HASH_FIND_STR(token_cache, id->token_hash, t);
    if (!t) {
        if (token_cache_count >= (unsigned)gw.token_cache_max)
            token_cache_clear();
        if ((t = calloc(1, sizeof *t)) != NULL) {
            snprintf(t->hash, sizeof t->hash, "%s", id->token_hash);
            HASH_ADD_STR(token_cache, hash, t);
            token_cache_count++;
        }
    }
    if (t) {
        t->id = *id;
        t->verified_ms = now_ms;
    }
    pthread_mutex_unlock(&token_cache_lock);
}

void gw_token_cache_free(void)
{
    pthread_mutex_lock(&token_cache_lock);
    token_cache_clear();
    pthread_mutex_unlock(&token_cache_lock);
}

/* Reads the token's record from Redis. 1 valid, 0 not, -1 Redis down. */
static int lookup_token(gw_identity *id)
{
    mr_store *store = gw_pool() ? mr_store_pool_get(gw_pool(), gw.auth_region) : NULL;
    char key[160];
    if (!store || mr_key(key, sizeof key, gw.auth_region, "auth:token:%s", id->token_hash) < 0)
        return -1;
    mr_val *v = mr_store_cmd(store, "HMGET %s user_id role region team revoked", key);
    if (!v || mr_val_type(v) != MR_VAL_ARRAY || mr_val_count(v) != 5) {
        mr_val_free(&v);
        return -1;
    }
    char revoked[8];
    copy_field(v, 0, id->user_id, sizeof id->user_id);
    copy_field(v, 1, id->role_name, sizeof id->role_name);
    copy_field(v, 2, id->region, sizeof id->region);
    copy_field(v, 3, id->team, sizeof id->team);
    copy_field(v, 4, revoked, sizeof revoked);
    mr_val_free(&v);
    id->caller = (gw_caller){.user_id = id->user_id, .role = gw_role_parse(id->role_name),
                             .region = id->region, .team = id->team};
    return id->user_id[0] && id->caller.role != GW_ROLE_NONE && strcmp(revoked, "1") != 0;
}

int gw_authenticate(const char *token, int64_t now_ms, gw_identity *id)
{
    memset(id, 0, sizeof *id);
    if (!token || strlen(token) < 16)
        return 0;
    gw_token_hash(token, id->token_hash);
    char hash[65];
    memcpy(hash, id->token_hash, sizeof hash);
    if (cache_get(hash, now_ms, id))
        return 1;
    int ok = lookup_token(id);
    if (ok == 1)
        cache_put(id, now_ms);
    return ok;
}

/* ---- Rate limits: a token bucket per token, in this process ---- */

typedef struct {
    char hash[65];
    double tokens;
    int64_t last_ms;
    UT_hash_handle hh;
} bucket;

static bucket *buckets;
static pthread_mutex_t buckets_lock = PTHREAD_MUTEX_INITIALIZER;

bool gw_rate_allow(const char *token_hash, int64_t now_ms)
{
    pthread_mutex_lock(&buckets_lock);
    bucket *b = NULL;
    HASH_FIND_STR(buckets, token_hash, b);
    if (!b && (b = calloc(1, sizeof *b)) != NULL) {
        snprintf(b->hash, sizeof b->hash, "%s", token_hash);
        b->tokens = gw.rate_burst;
        b->last_ms = now_ms;
        HASH_ADD_STR(buckets, hash, b);
    }
    bool allowed = true;
    if (b) {
        b->tokens += (double)(now_ms - b->last_ms) / 1000.0 * gw.rate_per_second;
        if (b->tokens > gw.rate_burst)
            b->tokens = gw.rate_burst;
        b->last_ms = now_ms;
        allowed = b->tokens >= 1.0;
        if (allowed)
            b->tokens -= 1.0;
    }
    pthread_mutex_unlock(&buckets_lock);
    return allowed;
}

/* Frees the buckets (at exit). */
void gw_rate_free(void);
void gw_rate_free(void)
{
    bucket *b, *tmp;
    HASH_ITER(hh, buckets, b, tmp) {
        HASH_DEL(buckets, b);
        free(b);
    }
}
