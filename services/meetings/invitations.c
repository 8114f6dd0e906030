/* invitations.c: the guest list of a meeting: cap, prescriber-only filter,
 * backups on decline and on deadline, sign-in and the KPIs, and the
 * suggestions made at proposal. Pure: no I/O, no clock. */
#include "invitations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rsvp_names[] = {"pending", "accepted", "declined", "no_answer"};
static const char *const status_names[] = {"expected", "standby", "walk_in"};

const char *mt_rsvp_name(mt_rsvp r) { return (unsigned)r < 4 ? rsvp_names[r] : "unknown"; }
const char *mt_inv_status_name(mt_inv_status s) { return (unsigned)s < 3 ? status_names[s] : "unknown"; }

int mt_rsvp_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, rsvp_names[i]) == 0)
            return i;
    return -1;
}

int mt_inv_status_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

bool mt_in_list(const char *list, const char *word)
{
    size_t wl = word ? strlen(word) : 0;
    if (!list || !wl)
        return false;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t len = strcspn(p, ",");
        size_t l = len;
        while (l && p[l - 1] == ' ') l--;
        if (l == wl && strncmp(p, word, wl) == 0)
            return true;
        p += len;
    }
    return false;
}

static int find(const mt_guest_list *g, const char *id)
{
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->items[i].customer_id, id) == 0)
            return (int)i;
    return -1;
}

static bool counts_expected(const mt_invitee *v)
{
    return v->status == MT_INV_EXPECTED && v->rsvp != MT_RSVP_DECLINED && v->rsvp != MT_RSVP_NO_ANSWER;
}

int mt_expected_count(const mt_guest_list *g)
{
    int n = 0;
    for (size_t i = 0; i < g->count; i++)
        n += counts_expected(&g->items[i]);
    return n;
}

int mt_invite(mt_guest_list *g, const mt_invite_policy *p, const mt_invitee *guest, int64_t now_ms,
              char *why, size_t whycap)
{
    bool backup = guest->backup_for[0] != 0;
    if (!guest->customer_id[0])
        return snprintf(why, whycap, "a guest needs a customer id"), -1;
    if (find(g, guest->customer_id) >= 0)
        return snprintf(why, whycap, "%s is already on the list", guest->customer_id), -1;
    if (p->prescriber_only && mt_in_list(p->excluded_titles, guest->title))
        return snprintf(why, whycap, "%s (%s) is kept out of a prescriber-only meeting",
                        guest->customer_id, guest->title), -1;
    if (backup && find(g, guest->backup_for) < 0)
        return snprintf(why, whycap, "%s backs up %s, who is not invited", guest->customer_id,
                        guest->backup_for), -1;
    if (!backup && p->head_count_cap > 0 && mt_expected_count(g) >= p->head_count_cap)
        return snprintf(why, whycap, "the head-count cap of %d is reached", p->head_count_cap), -1;
    if (g->count >= g->cap)
        return snprintf(why, whycap, "the guest list is full"), -1;
    mt_invitee *v = &g->items[g->count++];
    *v = *guest;
    v->rsvp = MT_RSVP_PENDING;
    v->status = backup ? MT_INV_STANDBY : MT_INV_EXPECTED;
    v->attended = false;
    v->invited_ms = backup ? 0 : now_ms;
    return 0;
}

/* Invites the first standby backup of guest i; its index or -1. */
static int activate_backup(mt_guest_list *g, size_t i, int64_t now_ms)
{
    for (size_t j = 0; j < g->count; j++) {
        mt_invitee *b = &g->items[j];
        if (b->status == MT_INV_STANDBY && strcmp(b->backup_for, g->items[i].customer_id) == 0) {
            b->status = MT_INV_EXPECTED;
            b->invited_ms = now_ms;
            return (int)j;
        }
    }
    return -1;
}

int mt_rsvp_answer(mt_guest_list *g, const char *customer_id, mt_rsvp answer, int64_t now_ms,
                   int *backup_index)
{
    *backup_index = -1;
    int i = find(g, customer_id);
    if (i < 0 || g->items[i].status != MT_INV_EXPECTED)
        return -1;
    mt_rsvp before = g->items[i].rsvp;
    g->items[i].rsvp = answer;
    if (answer == MT_RSVP_DECLINED && before != MT_RSVP_DECLINED && before != MT_RSVP_NO_ANSWER)
        *backup_index = activate_backup(g, (size_t)i, now_ms);
    return 0;
}

size_t mt_deadline_pass(mt_guest_list *g, const mt_invite_policy *p, int64_t now_ms, int *out,
                        size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < g->count; i++) {
        mt_invitee *v = &g->items[i];
        if (v->status != MT_INV_EXPECTED || v->rsvp != MT_RSVP_PENDING ||
            !mt_in_list(p->key_segments, v->segment))
            continue;
        v->rsvp = MT_RSVP_NO_ANSWER;
        int b = activate_backup(g, i, now_ms);
        if (b >= 0 && n < cap)
            out[n++] = b;
    }
    return n;
}

int mt_sign_in(mt_guest_list *g, const char *customer_id, const char *segment,
               const char *substitute_for, int64_t now_ms)
{
    int i = find(g, customer_id);
    if (i >= 0 && g->items[i].status != MT_INV_STANDBY) {
        g->items[i].attended = true;
        return 0;
    }
    if (substitute_for && substitute_for[0] && find(g, substitute_for) < 0)
        return -1;
    if (i < 0) {
        if (g->count >= g->cap)
            return -1;
        i = (int)g->count++;
        memset(&g->items[i], 0, sizeof g->items[i]);
        snprintf(g->items[i].customer_id, MT_ID, "%s", customer_id);
        snprintf(g->items[i].segment, sizeof g->items[i].segment, "%s", segment ? segment : "");
    }
    /* a standby backup who comes uninvited, or a stranger, is a walk-in */
    mt_invitee *v = &g->items[i];
    v->status = MT_INV_WALK_IN;
    v->attended = true;
    v->invited_ms = v->invited_ms ? v->invited_ms : now_ms;
    snprintf(v->substitute_for, MT_ID, "%s", substitute_for ? substitute_for : "");
    return 0;
}

void mt_kpis_compute(const mt_guest_list *g, mt_kpis *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < g->count; i++) {
        const mt_invitee *v = &g->items[i];
        bool expected = counts_expected(v);
        out->expected += expected;
        out->attendees += v->attended;
        out->expected_came += expected && v->attended;
    }
    if (out->expected > 0) {
        out->attendance_rate = (double)out->attendees / out->expected;
        out->accuracy = (double)out->expected_came / out->expected;
    }
}

/* ---- Suggestions ---- */

static int segment_rank(const mt_invite_policy *p, const char *seg)
{
    /* rank = position in key_segments, so "A,B" puts A first */
    int rank = 0;
    for (const char *s = p->key_segments; s && *s; rank++) {
        while (*s == ' ' || *s == ',') s++;
        size_t len = strcspn(s, ",");
        if (len == strlen(seg) && strncmp(s, seg, len) == 0)
            return rank;
        s += len;
    }
    return -1;
}

typedef struct {
    const mt_candidate *c;
    int rank;
} ranked;

static int by_rank_then_id(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return strcmp(x->c->customer_id, y->c->customer_id);
}

static bool eligible(const mt_candidate *c, const mt_invite_policy *p)
{
    return !(p->prescriber_only && (!c->prescriber || mt_in_list(p->excluded_titles, c->title)));
}

static void fill_invitee(mt_invitee *v, const mt_candidate *c, const char *backup_for)
{
    memset(v, 0, sizeof *v);
    snprintf(v->customer_id, MT_ID, "%s", c->customer_id);
    snprintf(v->segment, sizeof v->segment, "%s", c->segment);
    snprintf(v->title, sizeof v->title, "%s", c->title);
    snprintf(v->backup_for, MT_ID, "%s", backup_for ? backup_for : "");
    v->status = backup_for ? MT_INV_STANDBY : MT_INV_EXPECTED;
}

size_t mt_suggest_guests(const mt_candidate *cands, size_t n, const mt_invite_policy *p,
                         mt_invitee *out, size_t cap)
{
    ranked *r = calloc(n ? n : 1, sizeof *r);
    bool *used = calloc(n ? n : 1, sizeof *used);
    size_t m = 0, written = 0, guests = 0;
    if (!r || !used)
        goto done;
    for (size_t i = 0; i < n; i++) {
        int rank = segment_rank(p, cands[i].segment);
        if (rank >= 0 && eligible(&cands[i], p))
            r[m++] = (ranked){&cands[i], rank};
    }
    qsort(r, m, sizeof *r, by_rank_then_id);
    /* guests first, up to the cap; the rest may serve as backups */
    size_t limit = p->head_count_cap > 0 ? (size_t)p->head_count_cap : m;
    for (size_t i = 0; i < m && guests < limit && written < cap; i++, guests++) {
        fill_invitee(&out[written++], r[i].c, NULL);
        used[i] = true;
    }
    for (size_t gi = 0; gi < guests && written < cap; gi++) {
        for (size_t j = 0; j < m; j++) {
            if (used[j] || strcmp(r[j].c->segment, out[gi].segment) != 0)
                continue;
            fill_invitee(&out[written++], r[j].c, out[gi].customer_id);
            used[j] = true;
            break;
        }
    }
done:
    free(r);
    free(used);
    return written;
}

static int title_rank(const char *order, const char *title)
{
    int rank = 0;
    for (const char *s = order; s && *s; rank++) {
        while (*s == ' ' || *s == ',') s++;
        size_t len = strcspn(s, ",");
        if (len == strlen(title) && strncmp(s, title, len) == 0)
            return rank;
        s += len;
    }
    return 1000;
}

size_t mt_suggest_speakers(const mt_candidate *cands, size_t n, const char *risky_levels,
                           const char *title_order, int *out, size_t cap)
{
    size_t m = 0;
    for (size_t i = 0; i < n && m < cap; i++) {
        const mt_candidate *c = &cands[i];
        if (!c->prescriber || mt_in_list(risky_levels, c->compliance_risk))
            continue;
        /* insertion sort: KOL first, then title rank, then id */
        int key = (c->kol ? 0 : 10000) + title_rank(title_order, c->title);
        size_t j = m++;
        while (j > 0) {
            const mt_candidate *p = &cands[out[j - 1]];
            int pk = (p->kol ? 0 : 10000) + title_rank(title_order, p->title);
            if (pk < key || (pk == key && strcmp(p->customer_id, c->customer_id) < 0))
                break;
            out[j] = out[j - 1];
            j--;
        }
        out[j] = (int)i;
    }
    return m;
}
