/* outside.c: the outside channels (webhook, e-mail): the hand-over of a
 * delivery from the reminder sender to the outside stream, and in the
 * outside senders each try: send once unless the channel's marker says it
 * was done, then stage the marker and event, a retry record after a
 * back-off with jitter, or a dead letter; a webhook that answers
 * 401/403/410 is disabled for the person until they set it again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sender.h"

/* True when a marker says the delivery was done already on this channel,
 * or (for a first try) as a whole: a repeat of a committed entry. */
static bool already_sent(nt_worker *w, const nt_entry *e, const char *did, const char *channel)
{
    char one[320], all[320];
    nt_key(one, sizeof one, w->region, "sent:%s:%s", did, channel);
    nt_key(all, sizeof all, w->region, "sent:%s", did);
    mr_val *v = e->retry ? mr_store_cmd(w->store, "EXISTS %s", one)
                         : mr_store_cmd(w->store, "EXISTS %s %s", one, all);
    bool sent = !mr_val_is_error(v) && mr_val_int(v) > 0;
    mr_val_free(&v);
    return sent;
}

static nt_send_result send_on(nt_worker *w, const nt_entry *e, const char *channel, const char *did,
                              nt_send_info *info)
{
    const nt_region *reg = nt_region_find(w->st, w->region);
    nt_message m = {.delivery_id = did, .reminder_id = e->rid, .person_id = e->r.person,
                    .kind = e->r.kind, .title = e->r.title, .body = e->r.body,
                    .due_ms = e->due_ms, .fired_ms = e->at_ms};
    int64_t now_s = nt_now_ms(w->st) / 1000;
    if (strcmp(channel, "webhook") == 0) {
        nt_webhook_cfg cfg = {.secret = reg->webhook_secret, .allow_private = reg->webhook_allow_private,
                              .timeout_ms = reg->webhook_timeout_ms};
        return nt_webhook_send(&cfg, e->who.webhook, &m, now_s, info);
    }
    nt_smtp_cfg cfg = {.url = reg->smtp_url, .from = reg->smtp_from, .domain = reg->smtp_domain,
                       .timeout_ms = reg->smtp_timeout_ms};
    return nt_email_send(&cfg, e->who.email, &m, now_s, info);
}

/* Stages the next try of a delivery on channel: a retry record in the due
 * set, after a back-off with jitter counted from the time it fired.
 * 4 commands. */
static int cmd_retry(nt_worker *w, nt_args *a, const nt_entry *e, const char *channel, int attempt)
{
    const nt_region *reg = nt_region_find(w->st, w->region);
    char member[160], key[256], zkey[256], wkey[256], score[24], due[24], tries[16];
    snprintf(member, sizeof member, "%s#%s", e->rid, channel);
    double r = (double)rand_r(&w->seed) / ((double)RAND_MAX + 1);
    int64_t at = e->at_ms + nt_backoff_ms(attempt, reg->retry_base_ms, reg->retry_max_ms, r);
    int shard = nt_shard_of(member, w->st->set.shards);
    snprintf(score, sizeof score, "%lld", (long long)at);
    snprintf(due, sizeof due, "%lld", (long long)e->due_ms);
    snprintf(tries, sizeof tries, "%d", attempt);
    nt_key(key, sizeof key, w->region, "retry:%s", member);
    nt_key(zkey, sizeof zkey, w->region, "sh:%d:due", shard);
    nt_key(wkey, sizeof wkey, w->region, "sh:%d:wake", shard);
    const char *hset[] = {"HSET", key, "p", e->r.person, "k", e->r.kind, "t", e->r.title, "b",
                          e->r.body, "s", e->r.subject, "due", due, "at", score, "attempt", tries};
    const char *zadd[] = {"ZADD", zkey, score, member};
    const char *lpush[] = {"LPUSH", wkey, "1"};
    const char *ltrim[] = {"LTRIM", wkey, "0", "0"};
    nt_args_cmd(a, 18, hset, NULL);
    nt_args_cmd(a, 4, zadd, NULL);
    nt_args_cmd(a, 3, lpush, NULL);
    nt_args_cmd(a, 4, ltrim, NULL);
    return 4;
}

int nt_cmd_outside_enqueue(nt_worker *w, nt_args *a, const nt_entry *e, const char *channel)
{
    char member[160], key[256], out[256], at[24], due[24];
    snprintf(member, sizeof member, "%s#%s", e->rid, channel);
    snprintf(at, sizeof at, "%lld", (long long)e->at_ms);
    snprintf(due, sizeof due, "%lld", (long long)e->due_ms);
    nt_key(key, sizeof key, w->region, "retry:%s", member);
    nt_key(out, sizeof out, w->region, "sh:%d:out", nt_shard_of(member, w->st->set.shards));
    const char *hset[] = {"HSET", key, "p", e->r.person, "k", e->r.kind, "t", e->r.title, "b",
                          e->r.body, "s", e->r.subject, "due", due, "at", at, "attempt", "0"};
    const char *xadd[] = {"XADD", out, "*", "m", member, "due", at, "at", at};
    nt_args_cmd(a, 18, hset, NULL);
    nt_args_cmd(a, 9, xadd, NULL);
    return 2;
}

static int cmd_disable_webhook(nt_worker *w, nt_args *a, const nt_entry *e, const nt_send_info *info)
{
    char key[256];
    nt_key(key, sizeof key, w->region, "pref:%s", e->r.person);
    const char *hset[] = {"HSET", key, "webhook_off", info->error};
    nt_args_cmd(a, 4, hset, NULL);
    return 1;
}

/* The marker and event of a delivery an outside channel accepted: 2 commands. */
static int cmd_channel_sent(nt_worker *w, nt_args *a, const nt_entry *e, const char *did, const char *channel)
{
    char key[320], ttl[24];
    nt_key(key, sizeof key, w->region, "sent:%s:%s", did, channel);
    snprintf(ttl, sizeof ttl, "%lld", w->st->set.sent_ttl_ms);
    const char *set[] = {"SET", key, "1", "PX", ttl};
    nt_args_cmd(a, 5, set, NULL);
    nt_cmd_event(w, a, e, did, channel);
    return 2;
}

int nt_deliver_outside(nt_worker *w, nt_args *a, const nt_entry *e, const char *channel,
                       const char *did, int attempt, bool *retrying)
{
    *retrying = false;
    char reason[256];
    const char *target = strcmp(channel, "webhook") == 0 ? e->who.webhook : e->who.email;
    if (strcmp(channel, "webhook") == 0 && e->who.webhook_off[0]) {
        mr_info("notify_webhook_off", "person=%s delivery=%s why=%s", e->r.person, did, e->who.webhook_off);
        return 0;
    }
    if (!target[0]) {
        snprintf(reason, sizeof reason, "%s: the person has no address for it", channel);
        return nt_cmd_dead(w, a, e, reason), 1;
    }
    if (already_sent(w, e, did, channel))
        return 0;
    nt_send_info info;
    nt_send_result res = send_on(w, e, channel, did, &info);
    if (res == NT_SEND_OK)
        return cmd_channel_sent(w, a, e, did, channel);
    const nt_region *reg = nt_region_find(w->st, w->region);
    if (res == NT_SEND_TRANSIENT && attempt + 1 < reg->channel_attempts) {
        *retrying = true;
        return cmd_retry(w, a, e, channel, attempt + 1);
    }
    snprintf(reason, sizeof reason, "%s: %s after %d attempt(s)%s", channel, info.error, attempt + 1,
             res == NT_SEND_DISABLE ? "; webhook disabled" : "");
    nt_cmd_dead(w, a, e, reason);
    return 1 + (res == NT_SEND_DISABLE ? cmd_disable_webhook(w, a, e, &info) : 0);
}
