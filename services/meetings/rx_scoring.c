/* rx_scoring.c: the prescription change of a meeting from scoring's data
 * (DOMAIN.md 4.8). Asks the scoring service, through the broker, for the
 * monthly prescriptions (MonthlyPrescriptions) of the attendees and of
 * the customers of the meeting's department over [meetings]
 * evaluation_rx_months months before and as many after the meeting's
 * month (in the region's zone), and turns them into before/after shares
 * with the pure core (agenda.c). Customers without therapy-area
 * prescriptions in either period are left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "errors.h"
#include "masterdata.h"
#include "meetings.h"
#include "scoring.pb-c.h"

#define RX_MAX_CUSTOMERS 2000
#define RX_MAX_MONTHS 18

void mt_rx_set_free(mt_rx_set *set)
{
    free(set->ids), free(set->before), free(set->after);
    memset(set, 0, sizeof *set);
}

/* The department's customers plus the attendees (each once), into ids[]. */
static long rx_customers(mr_call *call, const Medrep__Meeting *m, char (*ids)[64])
{
    char index[160], **dept = NULL;
    if (mr_md_index(index, sizeof index, "dept", m->department_id, "customers") < 0)
        return -1;
    long nd = mr_md_list(call->store, call->region, index, &dept);
    if (nd < 0)
        return -1;
    long n = 0;
    for (long i = 0; i < nd && n < RX_MAX_CUSTOMERS; i++)
        snprintf(ids[n++], 64, "%s", dept[i]);
    mr_md_free_ids(dept, nd);
    for (size_t k = 0; k < m->n_invitees && n < RX_MAX_CUSTOMERS; k++) {
        const Medrep__Invitee *v = m->invitees[k];
        bool known = false;
        for (long i = 0; v->attended && i < n && !known; i++)
            known = strcmp(ids[i], v->customer_id) == 0;
        if (v->attended && !known)
            snprintf(ids[n++], 64, "%s", v->customer_id);
    }
    return n;
}

/* MonthlyPrescriptions through the broker; *out owned by the caller. */
static int ask_scoring(mr_call *call, const mt_settings *s, const Medrep__Meeting *m, char (*ids)[64], long n,
                       char (*months)[8], int nm, Medrep__MonthlyPrescriptionsReply **out)
{
    mr_client *peer = mt_peer(call, s);
    char **cids = calloc((size_t)n + 1, sizeof *cids), *mp[RX_MAX_MONTHS];
    if (!peer || !cids)
        return free(cids), mr_call_fail(call, MR_INTERNAL, "out of memory"), -1;
    for (long i = 0; i < n; i++)
        cids[i] = ids[i];
    for (int i = 0; i < nm; i++)
        mp[i] = months[i];
    Medrep__MonthlyPrescriptionsRequest req = MEDREP__MONTHLY_PRESCRIPTIONS_REQUEST__INIT;
    req.product_id = m->product_id, req.customer_ids = cids, req.n_customer_ids = (size_t)n;
    req.months = mp, req.n_months = (size_t)nm;
    char msg[300] = "";
    int timeout = mt_peer_timeout(call, s);
    int code = timeout <= 0 ? MR_DEADLINE_EXCEEDED
             : mr_client_rpc(peer, "scoring", "MonthlyPrescriptions", call->region, call->req->caller, &req.base,
                             &medrep__monthly_prescriptions_reply__descriptor, (ProtobufCMessage **)out, timeout,
                             msg, sizeof msg);
    free(cids);
    if (code != MR_OK)
        return mr_call_fail(call, MR_UNAVAILABLE, "scoring's monthly prescriptions: %s %s", mr_code_name(code), msg), -1;
    return 0;
}

/* Shares before and after for each customer with data in both periods. */
static int shares(const Medrep__MonthlyPrescriptionsReply *r, char (*ids)[64], long n, char (*months)[8], int half,
                  mt_rx_set *out)
{
    mt_rx_month *rows = calloc(r->n_months + 1, sizeof *rows);
    out->ids = calloc((size_t)n + 1, sizeof *out->ids);
    out->before = calloc((size_t)n + 1, sizeof *out->before);
    out->after = calloc((size_t)n + 1, sizeof *out->after);
    if (!rows || !out->ids || !out->before || !out->after)
        return free(rows), mt_rx_set_free(out), -1;
    for (size_t i = 0; i < r->n_months; i++) {
        const Medrep__CustomerMonth *c = r->months[i];
        rows[i] = (mt_rx_month){c->customer_id ? c->customer_id : "", c->month ? c->month : "", c->our, c->market};
    }
    for (long i = 0; i < n; i++) {
        double b = mt_rx_share(rows, r->n_months, ids[i], months[0], months[half - 1]);
        double a = mt_rx_share(rows, r->n_months, ids[i], months[half], months[2 * half - 1]);
        if (b < 0 || a < 0)
            continue;
        snprintf(out->ids[out->n], sizeof out->ids[0], "%s", ids[i]);
        out->before[out->n] = b, out->after[out->n] = a;
        out->n++;
    }
    free(rows);
    return 0;
}

int mt_rx_from_scoring(mr_call *call, const mt_settings *s, const Medrep__Meeting *m, mt_rx_set *out)
{
    memset(out, 0, sizeof *out);
    int half = (int)mt_int(s, "evaluation_rx_months", 3);
    const mr_tz *tz = mt_region_tz(s->st, call->region);
    if (half < 1 || half > RX_MAX_MONTHS / 2 || !tz)
        return mr_call_fail(call, MR_INTERNAL, "configuration: evaluation_rx_months is 1..%d", RX_MAX_MONTHS / 2), -1;
    char months[RX_MAX_MONTHS][8];
    mr_local_time lt;
    mr_tz_to_local(tz, m->start_ms / 1000, &lt);
    for (int i = 0; i < half; i++) {
        mt_month_shift(lt.year, lt.month, i - half, months[i]);   /* the months before */
        mt_month_shift(lt.year, lt.month, i + 1, months[half + i]); /* the months after */
    }
    char (*ids)[64] = calloc(RX_MAX_CUSTOMERS, sizeof *ids);
    long n = ids ? rx_customers(call, m, ids) : -2;
    Medrep__MonthlyPrescriptionsReply *r = NULL;
    int rc = -1;
    if (n < 0)
        mr_call_fail(call, n == -2 ? MR_INTERNAL : MR_UNAVAILABLE, "the department's customers could not be read");
    else if (n == 0)
        mr_call_fail(call, MR_FAILED_PRECONDITION, "department %s has no customers", m->department_id);
    else if (ask_scoring(call, s, m, ids, n, months, 2 * half, &r) == 0)
        rc = shares(r, ids, n, months, half, out) == 0 ? 0 : (mr_call_fail(call, MR_INTERNAL, "out of memory"), -1);
    if (r)
        medrep__monthly_prescriptions_reply__free_unpacked(r, NULL);
    free(ids);
    return rc;
}
