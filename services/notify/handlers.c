/* handlers.c: the notify service's methods (protobuf request -> checks ->
 * staged writes -> reply) and its event handler (event -> rules of the
 * core -> staged reminders). Every write goes through call->tx, so it
 * commits once per request id or event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "ids.h"
#include "log.h"
#include "masterdata.h"
#include "notify.h"
#include "notify.pb-c.h"
#include "send.h"

#define MAX_TEXT 1000
#define MAX_LIST 500

static nt_state *state_of(mr_service *svc)
{
    return mr_service_state(svc);
}

static bool text_ok(const char *s, size_t max)
{
    return !s || strlen(s) <= max;
}

/* ---- ScheduleReminder(s) ---- */

/* Checks one request and fills r (pointing into q, and into id_buf for a
 * generated id). NULL when valid, else what is wrong. */
static const char *check_reminder(const Medrep__ScheduleReminderRequest *q, char *id_buf,
                                  size_t cap, nt_reminder *r)
{
    if (!q->reminder_id || !q->reminder_id[0])
        mr_random_id(id_buf, cap);
    *r = (nt_reminder){.id = q->reminder_id && q->reminder_id[0] ? q->reminder_id : id_buf,
                       .person = q->person_id, .kind = q->kind ? q->kind : "manual",
                       .title = q->title, .body = q->body, .subject = q->subject_id,
                       .due_ms = q->has_due_ms ? q->due_ms : 0, .urgent = q->has_urgent && q->urgent};
    if (!nt_id_valid(r->id) || !nt_id_valid(q->person_id))
        return "reminder_id and person_id must be 1-127 of [A-Za-z0-9._:@-]";
    if (q->subject_id && q->subject_id[0] && !nt_id_valid(q->subject_id))
        return "invalid subject_id";
    if (!nt_id_valid(r->kind) || strlen(r->kind) > 63)
        return "invalid kind";
    if (!text_ok(q->title, 250) || !text_ok(q->body, MAX_TEXT))
        return "title (250) or body (1000) too long";
    if (r->due_ms <= 0)
        return "due_ms must be set (Unix ms)";
    return NULL;
}

static int schedule_reminder(mr_call *call)
{
    nt_state *st = state_of(call->svc);
    Medrep__ScheduleReminderRequest *q = mr_call_decode(call, &medrep__schedule_reminder_request__descriptor);
    if (!q)
        return call->code;
    char id[40];
    nt_reminder r;
    const char *why = check_reminder(q, id, sizeof id, &r);
    if (why)
        mr_call_fail(call, MR_INVALID_ARGUMENT, "%s", why);
    else if (nt_stage_schedule(st, call->store, call->tx, call->region, &r, NULL) != 0)
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    else {
        Medrep__ScheduleReminderReply reply = MEDREP__SCHEDULE_REMINDER_REPLY__INIT;
        reply.reminder_id = (char *)r.id;
        mr_call_reply(call, &reply.base);
    }
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

static int schedule_reminders(mr_call *call)
{
    nt_state *st = state_of(call->svc);
    Medrep__ScheduleRemindersRequest *q = mr_call_decode(call, &medrep__schedule_reminders_request__descriptor);
    if (!q)
        return call->code;
    size_t n = q->n_reminders;
    nt_reminder *rs = calloc(n ? n : 1, sizeof *rs);
    char (*ids)[40] = calloc(n ? n : 1, sizeof *ids);
    char **out = calloc(n ? n : 1, sizeof *out);
    const char *why = !rs || !ids || !out ? "out of memory" : NULL;
    if (!why && (n == 0 || n > (size_t)st->set.batch_max))
        mr_call_fail(call, MR_INVALID_ARGUMENT, "give 1-%d reminders", st->set.batch_max);
    for (size_t i = 0; !why && call->code == MR_OK && i < n; i++)
        if ((why = check_reminder(q->reminders[i], ids[i], sizeof ids[i], &rs[i])) != NULL)
            mr_call_fail(call, MR_INVALID_ARGUMENT, "reminder %zu: %s", i, why);
    if (call->code == MR_OK && why)
        mr_call_fail(call, MR_INTERNAL, "%s", why);
    else if (call->code == MR_OK && nt_stage_schedule_many(st, call->store, call->tx, call->region, rs, n) != 0)
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    else if (call->code == MR_OK) {
        for (size_t i = 0; i < n; i++)
            out[i] = (char *)rs[i].id;
        Medrep__ScheduleRemindersReply reply = MEDREP__SCHEDULE_REMINDERS_REPLY__INIT;
        reply.reminder_ids = out;
        reply.n_reminder_ids = n;
        mr_call_reply(call, &reply.base);
    }
    free(rs), free(ids), free(out);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

/* ---- CancelReminders ---- */

static int cancel_reminders(mr_call *call)
{
    nt_state *st = state_of(call->svc);
    Medrep__CancelRemindersRequest *q = mr_call_decode(call, &medrep__cancel_reminders_request__descriptor);
    if (!q)
        return call->code;
    bool has_subject = q->subject_id && q->subject_id[0];
    long cancelled = 0, n = 0;
    char **ids = NULL;
    if ((!has_subject && q->n_reminder_ids == 0) || (has_subject && !nt_id_valid(q->subject_id)) ||
        q->n_reminder_ids > MAX_LIST) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "give a valid subject_id or up to %d reminder_ids", MAX_LIST);
        goto out;
    }
    if (has_subject && (n = nt_subject_ids(call->store, call->region, q->subject_id, &ids)) < 0)
        goto unavailable;
    for (long i = 0; i < n + (long)q->n_reminder_ids; i++) {
        const char *id = i < n ? ids[i] : q->reminder_ids[i - n];
        int r = nt_stage_cancel(st, call->store, call->tx, call->region, id);
        if (r < 0)
            goto unavailable;
        cancelled += r;
    }
    Medrep__CancelRemindersReply reply = MEDREP__CANCEL_REMINDERS_REPLY__INIT;
    reply.has_cancelled = true;
    reply.cancelled = cancelled;
    mr_call_reply(call, &reply.base);
    goto out;
unavailable:
    mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
out:
    nt_free_ids(ids, n);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

/* ---- MoveReminders ---- */

/* A reminder as stored (rem:<id>). */
typedef struct {
    char person[128], kind[64], title[256], body[MAX_TEXT + 1], subject[128];
    int64_t due_ms;
    bool urgent;
} nt_stored;

/* Reads the reminders of ids in one pipeline into out[] (found ones
 * first, *found of them). 0 or -1 (Redis failed). */
static int read_many(mr_store *store, const char *region, char *const *ids, long n, nt_stored *out,
                     const char **out_ids, long *found)
{
    char key[256];
    *found = 0;
    for (long i = 0; i < n; i++) {
        nt_key(key, sizeof key, region, "rem:%s", ids[i]);
        const char *argv[] = {"HMGET", key, "p", "k", "t", "b", "s", "due", "u"};
        mr_store_append(store, 9, argv, NULL);
    }
    int rc = 0;
    for (long i = 0; i < n; i++) {
        mr_val *v = mr_store_next_reply(store);
        if (mr_val_is_error(v) || mr_val_count(v) != 7)
            rc = -1;
        else if (mr_val_str(mr_val_at(v, 0), NULL)) {
            nt_stored *s = &out[*found];
            char *dst[] = {s->person, s->kind, s->title, s->body, s->subject};
            size_t caps[] = {sizeof s->person, sizeof s->kind, sizeof s->title, sizeof s->body,
                             sizeof s->subject};
            for (size_t f = 0; f < 5; f++) {
                const char *t = mr_val_str(mr_val_at(v, f), NULL);
                snprintf(dst[f], caps[f], "%s", t ? t : "");
            }
            const char *due = mr_val_str(mr_val_at(v, 5), NULL), *u = mr_val_str(mr_val_at(v, 6), NULL);
            s->due_ms = due ? atoll(due) : 0;
            s->urgent = u && strcmp(u, "1") == 0;
            out_ids[(*found)++] = ids[i];
        }
        mr_val_free(&v);
    }
    return rc;
}

/* Stages the move of the reminders of ids. Moved count, or -1. */
static long move_ids(nt_state *st, mr_call *call, char *const *ids, long n,
                     const Medrep__MoveRemindersRequest *q)
{
    nt_stored *stored = calloc(n ? (size_t)n : 1, sizeof *stored);
    const char **found_ids = calloc(n ? (size_t)n : 1, sizeof *found_ids);
    nt_reminder *rs = calloc(n ? (size_t)n : 1, sizeof *rs);
    long found = 0, moved = 0;
    long rc = stored && found_ids && rs ? read_many(call->store, call->region, ids, n, stored, found_ids, &found) : -1;
    for (long i = 0; rc == 0 && i < found; i++) {
        nt_stored *s = &stored[i];
        int64_t due = q->has_due_ms ? q->due_ms : s->due_ms + q->delta_ms;
        if (due <= 0)
            continue;
        rs[moved++] = (nt_reminder){.id = found_ids[i], .person = s->person, .kind = s->kind,
                                    .title = s->title, .body = s->body, .subject = s->subject,
                                    .urgent = s->urgent, .due_ms = due};
    }
    if (rc == 0 && moved > 0)
        rc = nt_stage_schedule_many(st, call->store, call->tx, call->region, rs, (size_t)moved);
    free(stored), free(found_ids), free(rs);
    return rc == 0 ? moved : -1;
}

static int move_reminders(mr_call *call)
{
    nt_state *st = state_of(call->svc);
    Medrep__MoveRemindersRequest *q = mr_call_decode(call, &medrep__move_reminders_request__descriptor);
    if (!q)
        return call->code;
    bool by_subject = q->subject_id && q->subject_id[0], one = q->reminder_id && q->reminder_id[0];
    long n = 0, moved = 0;
    char **ids = NULL;
    if (by_subject == one || (by_subject && !nt_id_valid(q->subject_id)) || (one && !nt_id_valid(q->reminder_id))) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "give exactly one of subject_id and reminder_id");
        goto out;
    }
    if (q->has_due_ms == q->has_delta_ms || (q->has_due_ms && (by_subject || q->due_ms <= 0))) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "give delta_ms, or due_ms (> 0) with reminder_id");
        goto out;
    }
    if (by_subject && (n = nt_subject_ids(call->store, call->region, q->subject_id, &ids)) < 0)
        goto unavailable;
    if (n > st->set.batch_max) {
        mr_call_fail(call, MR_RESOURCE_EXHAUSTED, "subject has %ld reminders, more than batch_max %d",
                     n, st->set.batch_max);
        goto out;
    }
    char *single[] = {q->reminder_id};
    if ((moved = move_ids(st, call, one ? single : ids, one ? 1 : n, q)) < 0)
        goto unavailable;
    Medrep__MoveRemindersReply reply = MEDREP__MOVE_REMINDERS_REPLY__INIT;
    reply.has_moved = true;
    reply.moved = moved;
    mr_call_reply(call, &reply.base);
    goto out;
unavailable:
    mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
out:
    nt_free_ids(ids, n);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

/* ---- ListReminders ---- */

/* Pages in the order (score, reminder id); a page token is the position of
 * the last reminder of the page, "<score>:<id>". Region-wide the score is
 * the due set's (what the mover goes by), for one person the stored due
 * time. Redis orders equal scores by member bytes, the same order as
 * strcmp, so a shard's due set is already in this order. */
typedef struct {
    long long score;
    char *id;
} list_pos;

static int pos_cmp(long long sa, const char *ia, long long sb, const char *ib)
{
    return sa < sb ? -1 : sa > sb ? 1 : strcmp(ia, ib);
}

static int by_pos(const void *a, const void *b)
{
    const list_pos *x = a, *y = b;
    return pos_cmp(x->score, x->id, y->score, y->id);
}

static void free_pos(list_pos *p, long n)
{
    for (long i = 0; p && i < n; i++)
        free(p[i].id);
    free(p);
}

/* Parses "<score>:<id>" (score: 1-18 digits) into *out (id points into
 * token). 0, or -1 when malformed. */
static int token_parse(const char *token, list_pos *out)
{
    const char *colon = strchr(token, ':');
    size_t digits = colon ? (size_t)(colon - token) : 0;
    if (digits < 1 || digits > 18 || strspn(token, "0123456789") != digits || !nt_id_valid(colon + 1))
        return -1;
    out->score = strtoll(token, NULL, 10);
    out->id = (char *)(colon + 1);
    return 0;
}

/* Appends to out[*n] the first `want` reminder ids of shard k's due set
 * after position `after` (NULL: from the start), with their scores.
 * Members that are not reminder ids (channel retries "<id>#<channel>") are
 * skipped, and so is anything not after the last one taken (the set may
 * change between two reads). 0 or -1 (Redis failed). */
static int shard_after(mr_call *call, int k, const list_pos *after, int want, list_pos *out, long *n)
{
    char key[256], min[24] = "-inf";
    nt_key(key, sizeof key, call->region, "sh:%d:due", k);
    if (after)
        snprintf(min, sizeof min, "%lld", after->score);
    const list_pos *last = after;
    int got = 0;
    for (long offset = 0;; offset += want) {
        mr_val *v = mr_store_cmd(call->store, "ZRANGEBYSCORE %s %s +inf WITHSCORES LIMIT %ld %d", key,
                                 min, offset, want);
        if (mr_val_is_error(v)) {
            mr_val_free(&v);
            return -1;
        }
        size_t count = mr_val_count(v);
        for (size_t i = 0; i + 1 < count && got < want; i += 2) {
            const char *id = mr_val_str(mr_val_at(v, i), NULL);
            const char *sc = mr_val_str(mr_val_at(v, i + 1), NULL);
            if (!id || !sc || !nt_id_valid(id))
                continue;
            long long score = (long long)strtod(sc, NULL);   /* whole ms, exact below 2^53 */
            if (last && pos_cmp(score, id, last->score, last->id) <= 0)
                continue;
            char *dup = strdup(id);
            if (!dup) {
                mr_val_free(&v);
                return -1;
            }
            out[*n] = (list_pos){score, dup};
            last = &out[(*n)++];
            got++;
        }
        mr_val_free(&v);
        if (got >= want || count < 2 * (size_t)want)
            return 0;
    }
}

/* Region-wide: the first limit + 1 positions after `after` across every
 * shard, merged. Count, or -1. */
static long region_positions(nt_state *st, mr_call *call, const list_pos *after, int limit, list_pos **out)
{
    long n = 0;
    *out = calloc((size_t)(limit + 1) * (size_t)st->set.shards + 1, sizeof **out);
    for (int k = 0; *out && k < st->set.shards; k++)
        if (shard_after(call, k, after, limit + 1, *out, &n) != 0) {
            free_pos(*out, n);
            *out = NULL;
        }
    if (!*out)
        return -1;
    qsort(*out, (size_t)n, sizeof **out, by_pos);
    return n;
}

/* One person: every id of the person's set with its stored due time, after
 * `after`, sorted. Reads the whole set (one SMEMBERS and one pipelined HGET
 * per member), so a page costs O(the person's pending reminders). No cap
 * is enforced: the bound is what is pending for one person (what the rules
 * schedule ahead for them, plus manual reminders). Count, or -1. */
static long person_positions(mr_call *call, const char *person, const list_pos *after, list_pos **out)
{
    char key[256];
    nt_key(key, sizeof key, call->region, "person:%s", person);
    mr_val *v = mr_store_cmd(call->store, "SMEMBERS %s", key);
    *out = NULL;
    if (mr_val_is_error(v)) {
        mr_val_free(&v);
        return -1;
    }
    size_t count = mr_val_count(v);
    long n = 0, rc = 0;
    if (!(*out = calloc(count + 1, sizeof **out))) {
        mr_val_free(&v);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const char *id = mr_val_str(mr_val_at(v, i), NULL);
        nt_key(key, sizeof key, call->region, "rem:%s", id && nt_id_valid(id) ? id : "-");
        const char *argv[] = {"HGET", key, "due"};
        mr_store_append(call->store, 3, argv, NULL);
    }
    for (size_t i = 0; i < count; i++) {
        mr_val *due = mr_store_next_reply(call->store);
        const char *id = mr_val_str(mr_val_at(v, i), NULL);
        const char *d = mr_val_str(due, NULL);
        if (mr_val_is_error(due))
            rc = -1;
        else if (rc == 0 && d && id && nt_id_valid(id)) {
            list_pos p = {atoll(d), NULL};
            if ((!after || pos_cmp(p.score, id, after->score, after->id) > 0) && !(p.id = strdup(id)))
                rc = -1;
            if (p.id)
                (*out)[n++] = p;
        }
        mr_val_free(&due);
    }
    mr_val_free(&v);
    if (rc != 0) {
        free_pos(*out, n);
        *out = NULL;
        return -1;
    }
    qsort(*out, (size_t)n, sizeof **out, by_pos);
    return n;
}

static void free_reminders(Medrep__Reminder **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i]->reminder_id), free(list[i]->person_id), free(list[i]->kind);
        free(list[i]->title), free(list[i]->subject_id), free(list[i]);
    }
    free(list);
}

static int list_reminders(mr_call *call)
{
    nt_state *st = state_of(call->svc);
    Medrep__ListRemindersRequest *q = mr_call_decode(call, &medrep__list_reminders_request__descriptor);
    if (!q)
        return call->code;
    const char *person = q->person_id && q->person_id[0] ? q->person_id : NULL;
    int limit = q->has_limit && q->limit > 0 ? (q->limit < MAX_LIST ? q->limit : MAX_LIST) : 100;
    list_pos after = {0, NULL}, *pos = NULL;
    bool has_token = q->page_token && q->page_token[0];
    long n = 0, page = 0, found = 0;
    char **ids = NULL;
    const char **found_ids = NULL;
    nt_stored *stored = NULL;
    Medrep__Reminder **list = NULL;
    size_t count = 0;
    char token[160] = "";
    if (person && !nt_id_valid(person)) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "invalid person_id");
        goto out;
    }
    if (has_token && token_parse(q->page_token, &after) != 0) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "invalid page_token");
        goto out;
    }
    n = person ? person_positions(call, person, has_token ? &after : NULL, &pos)
               : region_positions(st, call, has_token ? &after : NULL, limit, &pos);
    if (n < 0)
        goto unavailable;
    page = n < limit ? n : limit;
    if (n > page)
        snprintf(token, sizeof token, "%lld:%s", pos[page - 1].score, pos[page - 1].id);
    ids = calloc((size_t)page + 1, sizeof *ids);
    found_ids = calloc((size_t)page + 1, sizeof *found_ids);
    stored = calloc((size_t)page + 1, sizeof *stored);
    list = calloc((size_t)page + 1, sizeof *list);
    if (!ids || !found_ids || !stored || !list)
        goto unavailable;
    for (long i = 0; i < page; i++)
        ids[i] = pos[i].id;
    if (read_many(call->store, call->region, ids, page, stored, found_ids, &found) != 0)
        goto unavailable;
    for (long i = 0; i < found; i++) {
        const nt_stored *s = &stored[i];
        Medrep__Reminder *r = malloc(sizeof *r);
        if (!r)
            goto unavailable;
        medrep__reminder__init(r);
        list[count++] = r;
        r->reminder_id = strdup(found_ids[i]), r->person_id = strdup(s->person), r->kind = strdup(s->kind);
        r->title = strdup(s->title), r->subject_id = strdup(s->subject);
        r->has_due_ms = r->has_urgent = true;
        r->due_ms = s->due_ms, r->urgent = s->urgent;
    }
    Medrep__ListRemindersReply reply = MEDREP__LIST_REMINDERS_REPLY__INIT;
    reply.reminders = list;
    reply.n_reminders = count;
    reply.next_page_token = token;
    mr_call_reply(call, &reply.base);
    goto out;
unavailable:
    mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
out:
    free_reminders(list, count);
    free(stored), free(found_ids), free(ids);
    free_pos(pos, n);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

/* ---- Inbox ---- */

/* An inbox is a sorted set of members (inbox_item.c: a medrep.InboxItem
 * without its delivered time, which is the score) and a set of the
 * members read; the unread count is the difference of their sizes (a
 * member leaves both when it is trimmed). */

/* The person's inbox and read-set keys. */
static void box_keys(mr_call *call, const char *person, char *box, char *readk, size_t cap)
{
    nt_key(box, cap, call->region, "box:%s", person);
    nt_key(readk, cap, call->region, "boxread:%s", person);
}

/* In one round trip: the inbox's members lo..hi (page: newest first, with
 * their scores; else oldest first, members only) and its unread count
 * (-1 on failure, then NULL is returned). Caller frees the reply. */
static mr_val *read_box(mr_call *call, const char *box, const char *readk, bool page, long lo, long hi,
                        long long *unread)
{
    if (page)
        mr_store_appendf(call->store, "ZREVRANGE %s %ld %ld WITHSCORES", box, lo, hi);
    else
        mr_store_appendf(call->store, "ZRANGE %s %ld %ld", box, lo, hi);
    mr_store_appendf(call->store, "ZCARD %s", box);
    mr_store_appendf(call->store, "SCARD %s", readk);
    mr_val *range = mr_store_next_reply(call->store);
    mr_val *n = mr_store_next_reply(call->store), *r = mr_store_next_reply(call->store);
    bool failed = mr_val_is_error(range) || mr_val_is_error(n) || mr_val_is_error(r);
    *unread = failed ? -1 : mr_val_int(n) > mr_val_int(r) ? mr_val_int(n) - mr_val_int(r) : 0;
    mr_val_free(&n), mr_val_free(&r);
    if (failed)
        mr_val_free(&range);
    return range;
}

/* Which of count members (at members[0], [2], ... of a WITHSCORES reply,
 * or every one with stride 1) are read: one SMISMEMBER. NULL on failure. */
static mr_val *read_marks(mr_call *call, const char *readk, const mr_val *members, size_t count, size_t stride)
{
    const char **argv = calloc(count + 2, sizeof *argv);
    size_t *lens = calloc(count + 2, sizeof *lens);
    mr_val *v = NULL;
    if (argv && lens) {
        argv[0] = "SMISMEMBER", lens[0] = 10;
        argv[1] = readk, lens[1] = strlen(readk);
        for (size_t i = 0; i < count; i++) {
            const char *m = mr_val_str(mr_val_at(members, i * stride), &lens[i + 2]);
            argv[i + 2] = m ? m : "";
        }
        v = mr_store_cmdv(call->store, (int)count + 2, argv, lens);
    }
    free(argv), free(lens);
    if (mr_val_is_error(v) || mr_val_count(v) != count)
        mr_val_free(&v);
    return v;
}

/* Unpacks a page of members with their scores (a WITHSCORES reply) and
 * read marks into items. Count or -1. */
static long load_items(mr_call *call, const char *readk, const mr_val *page, Medrep__InboxItem **items)
{
    size_t count = mr_val_count(page) / 2;
    if (count == 0)
        return 0;
    mr_val *marks = read_marks(call, readk, page, count, 2);
    if (!marks)
        return -1;
    long n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = 0;
        const char *data = mr_val_str(mr_val_at(page, 2 * i), &len);
        const char *score = mr_val_str(mr_val_at(page, 2 * i + 1), NULL);
        Medrep__InboxItem *it = data ? medrep__inbox_item__unpack(NULL, len, (const uint8_t *)data) : NULL;
        if (!it)
            continue;      /* not an item: skipped, not fatal */
        it->has_delivered_ms = true;
        it->delivered_ms = score ? atoll(score) : 0;
        it->has_read = true;
        it->read = mr_val_int(mr_val_at(marks, i)) == 1;
        items[n++] = it;
    }
    mr_val_free(&marks);
    return n;
}

static int inbox_list(mr_call *call)
{
    Medrep__InboxListRequest *q = mr_call_decode(call, &medrep__inbox_list_request__descriptor);
    if (!q)
        return call->code;
    int size = q->has_page_size && q->page_size > 0 ? (q->page_size < MAX_LIST ? q->page_size : MAX_LIST) : 50;
    long offset = q->page_token && q->page_token[0] ? atol(q->page_token) : 0;
    char key[256], readk[256], next[24];
    Medrep__InboxItem **items = NULL;
    long n = 0;
    if (!nt_id_valid(q->person_id) || offset < 0) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "invalid person_id or page_token");
        goto out;
    }
    box_keys(call, q->person_id, key, readk, sizeof key);
    long long unread = -1;
    mr_val *ids = read_box(call, key, readk, true, offset, offset + size - 1, &unread);
    items = calloc((size_t)size, sizeof *items);
    if (ids && items && (n = load_items(call, readk, ids, items)) >= 0) {
        Medrep__InboxListReply reply = MEDREP__INBOX_LIST_REPLY__INIT;
        reply.items = items;
        reply.n_items = (size_t)n;
        reply.has_unread = true;
        reply.unread = unread;
        snprintf(next, sizeof next, "%ld", offset + size);
        reply.next_page_token = mr_val_count(ids) == 2 * (size_t)size ? next : "";
        mr_call_reply(call, &reply.base);
    } else {
        n = n < 0 ? 0 : n;
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    }
    mr_val_free(&ids);
out:
    for (long i = 0; i < n; i++)
        medrep__inbox_item__free_unpacked(items[i], NULL);
    free(items);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

/* InboxRead for the items this call marked, staged in its tx (commits
 * once with the SADDs); nothing when none was unread. 0 or -1 (failed). */
static int emit_inbox_read(mr_call *call, const char *person, int marked)
{
    if (marked <= 0)
        return 0;
    Medrep__InboxRead ir = MEDREP__INBOX_READ__INIT;
    ir.person_id = (char *)person;
    ir.count = marked, ir.has_count = true;
    Medrep__Event ev = MEDREP__EVENT__INIT;
    ev.body_case = MEDREP__EVENT__BODY_INBOX_READ;
    ev.inbox_read = &ir;
    return mr_call_emit(call, &ev);
}

/* True when the packed member is the item of one of ids (n). */
static bool member_of(const char *data, size_t len, char *const *ids, size_t n)
{
    Medrep__InboxItem *it = data ? medrep__inbox_item__unpack(NULL, len, (const uint8_t *)data) : NULL;
    bool found = false;
    for (size_t i = 0; it && it->delivery_id && !found && i < n; i++)
        found = strcmp(it->delivery_id, ids[i]) == 0;
    if (it)
        medrep__inbox_item__free_unpacked(it, NULL);
    return found;
}

/* Stages the SADD to the read set of the unread members of the inbox
 * whose delivery id is one of ids: reads the whole inbox (its size is
 * bounded by the retention), with its unread count before. The count
 * staged, or -1. */
static long stage_mark_read(mr_call *call, const char *box, const char *readk, char *const *ids, size_t n,
                            long long *unread)
{
    mr_val *all = read_box(call, box, readk, false, 0, -1, unread);
    size_t count = mr_val_count(all);
    mr_val *marks = all && count ? read_marks(call, readk, all, count, 1) : NULL;
    long marked = !all || (count && !marks) ? -1 : 0;
    for (size_t i = 0; marked >= 0 && i < count; i++) {
        size_t len = 0;
        const char *data = mr_val_str(mr_val_at(all, i), &len);
        if (mr_val_int(mr_val_at(marks, i)) == 1 || !member_of(data, len, ids, n))
            continue;
        const char *argv[] = {"SADD", readk, data};
        size_t lens[] = {4, strlen(readk), len};
        marked = mr_tx_add(call->tx, 3, argv, lens) == 0 ? marked + 1 : -1;
    }
    mr_val_free(&marks), mr_val_free(&all);
    return marked;
}

static int inbox_mark_read(mr_call *call)
{
    Medrep__InboxMarkReadRequest *q = mr_call_decode(call, &medrep__inbox_mark_read_request__descriptor);
    if (!q)
        return call->code;
    char box[256], readk[256];
    bool ok = nt_id_valid(q->person_id) && q->n_delivery_ids > 0 && q->n_delivery_ids <= MAX_LIST;
    for (size_t i = 0; ok && i < q->n_delivery_ids; i++)
        ok = nt_id_valid(q->delivery_ids[i]);
    long long unread = 0;
    long marked = -1;
    if (ok)
        box_keys(call, q->person_id, box, readk, sizeof box);
    if (!ok) {
        mr_call_fail(call, MR_INVALID_ARGUMENT, "give person_id and 1-%d valid delivery_ids", MAX_LIST);
    } else if ((marked = stage_mark_read(call, box, readk, q->delivery_ids, q->n_delivery_ids, &unread)) < 0) {
        mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store));
    } else {
        Medrep__InboxMarkReadReply reply = MEDREP__INBOX_MARK_READ_REPLY__INIT;
        reply.has_unread = true;
        reply.unread = unread - marked < 0 ? 0 : unread - marked;
        if (emit_inbox_read(call, q->person_id, (int)marked) == 0)
            mr_call_reply(call, &reply.base);
    }
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

/* ---- SetPreferences ---- */

static bool channels_ok(const Medrep__ChannelChoice *c)
{
    if (!c->kind || !(strcmp(c->kind, "*") == 0 || nt_id_valid(c->kind)) || strlen(c->kind) > 63 ||
        c->n_channels == 0 || c->n_channels > 4)
        return false;
    for (size_t i = 0; i < c->n_channels; i++)
        if (!c->channels[i] || (strcmp(c->channels[i], "inbox") != 0 &&
                                strcmp(c->channels[i], "webhook") != 0 && strcmp(c->channels[i], "email") != 0))
            return false;
    return true;
}

static int set_preferences(mr_call *call)
{
    nt_state *st = state_of(call->svc);
    Medrep__SetPreferencesRequest *q = mr_call_decode(call, &medrep__set_preferences_request__descriptor);
    if (!q)
        return call->code;
    int a, b;
    char key[256], field[80], list[128];
    bool ok = nt_id_valid(q->person_id);
    if (!ok)
        mr_call_fail(call, MR_INVALID_ARGUMENT, "invalid person_id");
    else if (q->timezone && q->timezone[0] && !nt_tz_get(st, q->timezone))
        ok = false, mr_call_fail(call, MR_INVALID_ARGUMENT, "unknown time zone '%.64s'", q->timezone);
    else if (q->quiet_hours && q->quiet_hours[0] && strcmp(q->quiet_hours, "none") != 0 &&
             nt_parse_window(q->quiet_hours, &a, &b) != 0)
        ok = false, mr_call_fail(call, MR_INVALID_ARGUMENT, "quiet_hours must be HH:MM-HH:MM or none");
    for (size_t i = 0; ok && i < q->n_channels; i++)
        if (!channels_ok(q->channels[i]))
            ok = false, mr_call_fail(call, MR_INVALID_ARGUMENT, "channels: a kind and 1-4 of: inbox, webhook, email");
    if (ok && q->webhook_url && q->webhook_url[0] && !nt_webhook_url_valid(q->webhook_url))
        ok = false, mr_call_fail(call, MR_INVALID_ARGUMENT, "webhook_url must be an http(s) URL of at most 512 bytes");
    if (ok && q->email && q->email[0] && !nt_email_valid(q->email))
        ok = false, mr_call_fail(call, MR_INVALID_ARGUMENT, "invalid e-mail address");
    if (ok && q->digest && q->digest[0] && strcmp(q->digest, "off") != 0 && nt_parse_clock(q->digest, &a) != 0)
        ok = false, mr_call_fail(call, MR_INVALID_ARGUMENT, "digest must be HH:MM, HH:MM:SS or off");
    if (ok) {
        char version[24], versions[128];
        nt_key(key, sizeof key, call->region, "pref:%s", q->person_id);
        nt_key(versions, sizeof versions, call->region, "%s", "prefv");
        nt_version_token(call->req->request_id, version, sizeof version);
        /* pending direct reminders check v (the mover reads prefv): they
         * take the generic path now */
        mr_tx_addv(call->tx, "HSET", key, "v", version, NULL);
        mr_tx_addv(call->tx, "HSET", versions, q->person_id, version, NULL);
        if (q->timezone)
            mr_tx_addv(call->tx, "HSET", key, "tz", q->timezone, NULL);
        if (q->quiet_hours)
            mr_tx_addv(call->tx, "HSET", key, "quiet", q->quiet_hours, NULL);
        if (q->webhook_url) {
            mr_tx_addv(call->tx, "HSET", key, "webhook", q->webhook_url, NULL);
            mr_tx_addv(call->tx, "HDEL", key, "webhook_off", NULL);
        }
        if (q->email)
            mr_tx_addv(call->tx, "HSET", key, "email", q->email, NULL);
        if (q->digest)
            mr_tx_addv(call->tx, "HSET", key, "digest", strcmp(q->digest, "off") ? q->digest : "", NULL);
        for (size_t i = 0; i < q->n_channels; i++) {
            list[0] = '\0';
            for (size_t j = 0; j < q->channels[i]->n_channels; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? "," : "",
                         q->channels[i]->channels[j]);
            snprintf(field, sizeof field, "ch:%s", q->channels[i]->kind);
            mr_tx_addv(call->tx, "HSET", key, field, list, NULL);
        }
        Medrep__SetPreferencesReply reply = MEDREP__SET_PREFERENCES_REPLY__INIT;
        mr_call_reply(call, &reply.base);
    }
    protobuf_c_message_free_unpacked(&q->base, NULL);
    return call->code;
}

const mr_method nt_methods[] = {
    {"ScheduleReminder", schedule_reminder, false}, {"ScheduleReminders", schedule_reminders, false},
    {"CancelReminders", cancel_reminders, false},
    {"MoveReminders", move_reminders, false},       {"ListReminders", list_reminders, true},
    {"InboxList", inbox_list, true},                {"InboxMarkRead", inbox_mark_read, false},
    {"SetPreferences", set_preferences, false},
};
const size_t nt_method_count = sizeof nt_methods / sizeof nt_methods[0];
