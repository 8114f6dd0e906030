/* compliance_check.c: applies the configured compliance rules
 * ([meetings.rule.<name>] sections, scoped by kind/product/region) to a
 * meeting: gathers the other meetings of each invitee and the speaker
 * from the indexes, computes fixed-period bounds in the region's time
 * zone, and records the findings on the meeting. The rules themselves are
 * the pure core's (compliance.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance.h"
#include "errors.h"
#include "meetings.h"

#define MAX_RULES 32
#define MAX_FINDINGS 64

typedef struct {
    const mt_settings *s;
    const mr_config *cfg;
    mt_rule *rules;
    int count;
    char err[256];
} rule_load;

static int load_rule(const char *section, void *arg)
{
    rule_load *rl = arg;
    if (strchr(section, '@') || rl->count >= MAX_RULES)
        return 0;
    const char *const *sc = rl->s->scopes;
#define F(k) mr_config_scoped(rl->cfg, section, k, sc)
    const char *enabled = F("enabled");
    if (enabled && (strcmp(enabled, "false") == 0 || strcmp(enabled, "0") == 0))
        return 0;
    if (mt_rule_parse(&rl->rules[rl->count], section + strlen("meetings.rule."), F("limit"), F("max"),
                      F("window"), F("days"), F("period"), F("states"), F("action"), rl->err,
                      sizeof rl->err) != 0)
        return -1;
#undef F
    rl->count++;
    return 0;
}

static int count_section(const char *section, void *arg)
{
    (void)section;
    (*(int *)arg)++;
    return 0;
}

/* Loads the rules: the configuration's when it has any, else the defaults. */
static int load_rules(mr_call *call, const mt_settings *s, mt_rule *rules)
{
    int n = 0;
    mr_config_each_section(s->st->cfg, "meetings.rule.", count_section, &n);
    rule_load rl = {.s = s, .cfg = n ? s->st->cfg : s->st->defaults, .rules = rules};
    if (mr_config_each_section(rl.cfg, "meetings.rule.", load_rule, &rl) != 0)
        return mr_call_fail(call, MR_INTERNAL, "compliance configuration: %s", rl.err), -1;
    return rl.count;
}

/* [from, to) of the fixed period of r holding start, in the region's zone. */
static void period_bounds(const mt_rule *r, const mr_tz *tz, int64_t start_ms, int64_t *from,
                          int64_t *to)
{
    mr_local_time lt;
    mr_tz_to_local(tz, start_ms / 1000, &lt);
    int months = strcmp(r->period, "year") == 0 ? 12 : strcmp(r->period, "quarter") == 0 ? 3 : 1;
    int m0 = months == 12 ? 1 : ((lt.month - 1) / months) * months + 1;
    int y1 = lt.year, m1 = m0 + months;
    if (m1 > 12)
        m1 -= 12, y1++;
    *from = mr_tz_from_local(tz, lt.year, m0, 1, 0, 0, 0) * 1000;
    *to = mr_tz_from_local(tz, y1, m1, 1, 0, 0, 0) * 1000;
}

/* Counts, for each person's index zkeys[k], the meetings in the worst
 * window of rule r holding m (m itself included) into counts[k]. Only
 * the meetings that can fall in such a window are read, for all persons
 * in two round trips. 0, or -1 with the call failed. */
static int person_counts(mr_call *call, const mt_rule *r, const Medrep__Meeting *m, const char *const *zkeys,
                         size_t nk, const mr_tz *tz, int *counts)
{
    if (r->window == MT_WIN_MEETING) {
        for (size_t k = 0; k < nk; k++)
            counts[k] = mt_window_count(r, m->start_ms, 0, 0, NULL, 0);
        return 0;
    }
    int64_t from = 0, to = 0, len = (int64_t)r->days * 86400000LL;
    if (r->window == MT_WIN_PERIOD)
        period_bounds(r, tz, m->start_ms, &from, &to);
    int64_t lo = r->window == MT_WIN_PERIOD ? from : m->start_ms - len;
    int64_t hi = r->window == MT_WIN_PERIOD ? to : m->start_ms + len;
    mt_indexed *items = NULL;
    long per[MT_MAX_GUESTS];
    long n = mt_index_read_many(call->store, call->region, zkeys, nk, lo, hi, &items, per);
    if (n < 0)
        return mr_call_fail(call, MR_UNAVAILABLE, "redis unavailable: %s", mr_store_error(call->store)), -1;
    mt_other *others = calloc((size_t)n + 1, sizeof *others);
    for (size_t k = 0, at = 0; others && k < nk; at += (size_t)per[k], k++) {
        size_t j = 0;
        for (long i = 0; i < per[k]; i++) {
            const mt_indexed *it = &items[at + (size_t)i];
            int st = mt_state_parse(it->state);
            if (st >= 0 && strcmp(it->id, m->meeting_id) != 0)
                others[j++] = (mt_other){it->start_ms, (mt_state)st};
        }
        counts[k] = mt_window_count(r, m->start_ms, from, to, others, j);
    }
    free(items);
    if (!others)
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    free(others);
    return 0;
}

/* Sum of the expenses of person of the rule's kind (extra counted too). */
static double person_expenses(const Medrep__Meeting *m, const char *kind, const char *person,
                              const Medrep__Expense *extra)
{
    double sum = 0;
    for (size_t i = 0; i < m->n_expenses; i++) {
        const Medrep__Expense *e = m->expenses[i];
        if (e->kind && e->person_id && strcmp(e->kind, kind) == 0 && strcmp(e->person_id, person) == 0)
            sum += (double)e->cents;
    }
    if (extra && extra->kind && strcmp(extra->kind, kind) == 0 && strcmp(extra->person_id, person) == 0)
        sum += (double)extra->cents;
    return sum;
}

typedef struct {
    mt_finding f[MAX_FINDINGS];
    size_t n;
} findings;

/* meetings_per_customer: one finding per expected guest over the limit. */
static int per_customer(mr_call *call, const Medrep__Meeting *m, const mt_rule *r, int ri, const mr_tz *tz,
                        findings *out)
{
    char (*zkeys)[200] = calloc(m->n_invitees + 1, sizeof *zkeys);
    const char **keys = calloc(m->n_invitees + 1, sizeof *keys);
    const char **who = calloc(m->n_invitees + 1, sizeof *who);
    int *counts = calloc(m->n_invitees + 1, sizeof *counts), rc = 0;
    size_t nk = 0;
    if (!zkeys || !keys || !who || !counts)
        rc = -1, mr_call_fail(call, MR_INTERNAL, "out of memory");
    for (size_t i = 0; rc == 0 && i < m->n_invitees && nk < MT_MAX_GUESTS; i++) {
        if (!mt_invitee_counts(m->invitees[i]))
            continue;
        snprintf(zkeys[nk], sizeof zkeys[nk], "meet:cust:%s", m->invitees[i]->customer_id);
        keys[nk] = zkeys[nk], who[nk] = m->invitees[i]->customer_id;
        nk++;
    }
    if (rc == 0 && nk > 0)
        rc = person_counts(call, r, m, keys, nk, tz, counts);
    for (size_t k = 0; rc == 0 && k < nk; k++)
        out->n = mt_finding_add(out->f, out->n, MAX_FINDINGS, ri, r, who[k], counts[k]);
    free(zkeys), free(keys), free(who), free(counts);
    return rc;
}

static int apply_rule(mr_call *call, const Medrep__Meeting *m, const mt_rule *r, int ri,
                      const mr_tz *tz, const Medrep__Expense *extra, findings *out)
{
    char zkey[200];
    switch (r->limit) {
    case MT_LIM_GIFT_PER_ATTENDEE:
        out->n = mt_finding_add(out->f, out->n, MAX_FINDINGS, ri, r, "", (double)m->gift_cents_per_attendee);
        return 0;
    case MT_LIM_SPEND_PER_ATTENDEE:
        out->n = mt_finding_add(out->f, out->n, MAX_FINDINGS, ri, r, "",
                                (double)m->budget_cents / (m->head_count > 0 ? m->head_count : 1));
        return 0;
    case MT_LIM_MEETINGS_PER_CUSTOMER:
        return per_customer(call, m, r, ri, tz, out);
    case MT_LIM_MEETINGS_PER_SPEAKER: {
        if (!m->speaker_id || !m->speaker_id[0])
            return 0;
        snprintf(zkey, sizeof zkey, "meet:spk:%s", m->speaker_id);
        const char *keys[] = {zkey};
        int c = 0;
        if (person_counts(call, r, m, keys, 1, tz, &c) != 0)
            return -1;
        out->n = mt_finding_add(out->f, out->n, MAX_FINDINGS, ri, r, m->speaker_id, c);
        return 0;
    }
    case MT_LIM_HONORARIUM_PER_PERSON:
    case MT_LIM_TRAVEL_PER_PERSON: {
        const char *kind = r->limit == MT_LIM_TRAVEL_PER_PERSON ? "travel" : "honorarium";
        for (size_t i = 0; i <= m->n_expenses; i++) {
            const Medrep__Expense *e = i < m->n_expenses ? m->expenses[i] : extra;
            bool seen = false;   /* one finding per person */
            for (size_t k = 0; e && k < i && k < m->n_expenses; k++)
                seen |= m->expenses[k]->person_id && e->person_id && strcmp(m->expenses[k]->person_id, e->person_id) == 0;
            if (e && e->person_id && !seen)
                out->n = mt_finding_add(out->f, out->n, MAX_FINDINGS, ri, r, e->person_id,
                                        person_expenses(m, kind, e->person_id, extra));
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* Replaces m->findings with f. 0 or -1. */
static int store_findings(Medrep__Meeting *m, const findings *f, const mt_rule *rules)
{
    for (size_t i = 0; i < m->n_findings; i++)
        protobuf_c_message_free_unpacked(&m->findings[i]->base, NULL);
    free(m->findings);
    m->findings = calloc(f->n ? f->n : 1, sizeof *m->findings);
    m->n_findings = 0;
    if (!m->findings)
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        Medrep__Finding *x = calloc(1, sizeof *x);
        if (!x)
            return -1;
        medrep__finding__init(x);
        m->findings[m->n_findings++] = x;
        if (mt_set_str(&x->rule, rules[f->f[i].rule].name) || mt_set_str(&x->subject, f->f[i].subject) ||
            mt_set_str(&x->action, f->f[i].action == MT_ACT_BLOCK ? "block" : "warn"))
            return -1;
        x->value = f->f[i].value, x->has_value = true;
        x->max = f->f[i].max, x->has_max = true;
    }
    return 0;
}

static int evaluate(mr_call *call, const mt_settings *s, Medrep__Meeting *m,
                    const Medrep__Expense *extra, bool expense_rules_only, int *warnings)
{
    mt_rule rules[MAX_RULES];
    int nr = load_rules(call, s, rules);
    const mr_tz *tz = mt_region_tz(s->st, call->region);
    findings *f = calloc(1, sizeof *f);
    if (nr < 0 || !f || !tz) {
        free(f);
        return nr < 0 ? -1 : (mr_call_fail(call, MR_INTERNAL, "no time zone or memory"), -1);
    }
    for (int i = 0; i < nr; i++) {
        bool per_person = rules[i].limit == MT_LIM_HONORARIUM_PER_PERSON ||
                          rules[i].limit == MT_LIM_TRAVEL_PER_PERSON;
        if ((!expense_rules_only || per_person) && apply_rule(call, m, &rules[i], i, tz, extra, f) != 0) {
            free(f);
            return -1;
        }
    }
    int blocks = 0;
    *warnings = 0;
    for (size_t i = 0; i < f->n; i++)
        f->f[i].action == MT_ACT_BLOCK ? blocks++ : (*warnings)++;
    int rc = expense_rules_only ? 0 : store_findings(m, f, rules);
    free(f);
    if (rc != 0)
        return mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    return blocks;
}

int mt_compliance_check(mr_call *call, const mt_settings *s, Medrep__Meeting *m, int *warnings)
{
    return evaluate(call, s, m, NULL, false, warnings);
}

int mt_expense_check(mr_call *call, const mt_settings *s, Medrep__Meeting *m,
                     const Medrep__Expense *e)
{
    int warnings = 0;
    int blocks = evaluate(call, s, m, e, true, &warnings);
    if (blocks < 0)
        return -1;
    if (blocks > 0)
        return mr_call_fail(call, MR_FAILED_PRECONDITION,
                            "compliance: %s for %s goes over a blocking per-person limit",
                            e->kind, e->person_id), -1;
    return warnings > 0 ? 1 : 0;
}
