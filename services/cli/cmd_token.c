/* cmd_token.c: `medrep token`: API tokens for the HTTP gateway, written
 * straight to the Redis of the auth region (an operator's command, run
 * where the configuration is). The token itself is printed once and never
 * stored: Redis keeps its SHA-256 (see services/gateway/auth.c).
 *
 *   medrep token create --user U --role ROLE [--region R] [--team T]
 *   medrep token revoke HASH
 *   medrep token list */
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ids.h"
#include "store.h"

typedef struct {
    mr_store_pool *pool;
    mr_store *store;
    const char *region;
} token_store;

static int open_store(cli_ctx *ctx, token_store *ts)
{
    char err[256];
    ts->region = mr_config_str(ctx->cfg, "gateway", "auth_region", ctx->region);
    ts->pool = mr_store_pool_new(ctx->cfg, err, sizeof err);
    ts->store = ts->pool && ts->region ? mr_store_pool_get(ts->pool, ts->region) : NULL;
    if (!ts->store) {
        cli_error("no Redis for the auth region '%s': %s", ts->region ? ts->region : "", err);
        mr_store_pool_free(&ts->pool);
        return -1;
    }
    return 0;
}

static void hash_hex(const char *token, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static bool role_valid(const char *role)
{
    return role && (strcmp(role, "rep") == 0 || strcmp(role, "dm") == 0 ||
                    strcmp(role, "region_admin") == 0 || strcmp(role, "company_admin") == 0);
}

static int create(cli_ctx *ctx, int argc, char **argv)
{
    const char *user = NULL, *role = NULL, *region = ctx->region, *team = "";
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--user") == 0) user = argv[i + 1];
        else if (strcmp(argv[i], "--role") == 0) role = argv[i + 1];
        else if (strcmp(argv[i], "--region") == 0) region = argv[i + 1];
        else if (strcmp(argv[i], "--team") == 0) team = argv[i + 1];
        else { cli_error("unexpected argument '%s'", argv[i]); return 2; }
    }
    if (argc % 2 != 0 || !user || !user[0] || !role_valid(role) || !region) {
        cli_error("token create needs --user U --role rep|dm|region_admin|company_admin");
        return 2;
    }
    token_store ts;
    if (open_store(ctx, &ts) != 0)
        return 1;
    char a[33], b[33], token[80], hash[65], key[160], index[96];
    mr_random_id(a, sizeof a);
    mr_random_id(b, sizeof b);
    snprintf(token, sizeof token, "mrt_%s%s", a, b);
    hash_hex(token, hash);
    mr_key(key, sizeof key, ts.region, "auth:token:%s", hash);
    mr_key(index, sizeof index, ts.region, "auth:tokens");
    mr_tx *tx = mr_tx_new();
    mr_tx_addv(tx, "HSET", key, "user_id", user, "role", role, "region",
               strcmp(role, "company_admin") == 0 ? "" : region, "team", team, "revoked", "0", NULL);
    mr_tx_addv(tx, "SADD", index, hash, NULL);
    int rc = mr_tx_commit(ts.store, tx, NULL, NULL, 0, 0, NULL) == MR_TX_COMMITTED ? 0 : 1;
    mr_tx_free(&tx);
    if (rc == 0)
        printf(ctx->json ? "{\"token\": \"%s\", \"hash\": \"%s\"}\n" : "%s\n# hash %s (keep the token: it is not stored)\n",
               token, hash);
    else
        cli_error("redis: %s", mr_store_error(ts.store));
    mr_store_pool_free(&ts.pool);
    return rc;
}

static int revoke(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 1 || strlen(argv[0]) != 64) {
        cli_error("token revoke takes the token's 64-character hash");
        return 2;
    }
    token_store ts;
    if (open_store(ctx, &ts) != 0)
        return 1;
    char key[160];
    mr_key(key, sizeof key, ts.region, "auth:token:%s", argv[0]);
    mr_val *v = mr_store_cmd(ts.store, "EXISTS %s", key);
    bool exists = v && mr_val_int(v) == 1;
    mr_val_free(&v);
    if (!exists) {
        cli_error("no token with that hash");
        mr_store_pool_free(&ts.pool);
        return 1;
    }
    v = mr_store_cmd(ts.store, "HSET %s revoked 1", key);
    int rc = v && !mr_val_is_error(v) ? 0 : 1;
    mr_val_free(&v);
    if (rc == 0)
        printf("revoked %s\n", argv[0]);
    mr_store_pool_free(&ts.pool);
    return rc;
}

static int list(cli_ctx *ctx)
{
    token_store ts;
    if (open_store(ctx, &ts) != 0)
        return 1;
    char index[96];
    mr_key(index, sizeof index, ts.region, "auth:tokens");
    mr_val *hashes = mr_store_cmd(ts.store, "SMEMBERS %s", index);
    printf("%-64s  %-12s %-14s %-10s %s\n", "HASH", "USER", "ROLE", "REGION", "REVOKED");
    for (size_t i = 0; hashes && i < mr_val_count(hashes); i++) {
        const char *hash = mr_val_str(mr_val_at(hashes, i), NULL);
        char key[160];
        mr_key(key, sizeof key, ts.region, "auth:token:%s", hash);
        mr_val *v = mr_store_cmd(ts.store, "HMGET %s user_id role region revoked", key);
        if (v && mr_val_count(v) == 4)
            printf("%-64s  %-12s %-14s %-10s %s\n", hash, mr_val_str(mr_val_at(v, 0), NULL) ?: "-",
                   mr_val_str(mr_val_at(v, 1), NULL) ?: "-", mr_val_str(mr_val_at(v, 2), NULL) ?: "-",
                   strcmp(mr_val_str(mr_val_at(v, 3), NULL) ?: "", "1") == 0 ? "yes" : "no");
        mr_val_free(&v);
    }
    int rc = hashes ? 0 : 1;
    mr_val_free(&hashes);
    mr_store_pool_free(&ts.pool);
    return rc;
}

static int run_token(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "create") == 0)
        return create(ctx, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
        return revoke(ctx, argc - 1, argv + 1);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return list(ctx);
    cli_error("usage: medrep token create|revoke|list (see medrep token --help)");
    return 2;
}

const cli_command cli_cmd_token = {
    .name = "token",
    .summary = "API tokens of the HTTP gateway: create, revoke, list",
    .usage = "medrep token create --user U --role rep|dm|region_admin|company_admin [--region R] [--team T]\n"
             "  prints a new token once (only its SHA-256 is stored)\n"
             "medrep token revoke HASH     the token stops working at once\n"
             "medrep token list            hashes, users, roles, regions\n",
    .run = run_token,
};
