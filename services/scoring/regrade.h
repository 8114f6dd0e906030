/* regrade.h: recomputing grades in the shell: reads what the core needs
 * for a batch of customers of one product in one pipeline, grades them
 * with grade.c, and stages only what changed. A segment change gets a
 * history entry (sc:hist, sc:changes) and a CustomerRegraded event in the
 * same transaction. */
#ifndef MEDREP_SCORING_REGRADE_H
#define MEDREP_SCORING_REGRADE_H

#include <stdbool.h>

#include "grade.h"
#include "scoring.pb-c.h"
#include "service.h"

typedef struct {
    long graded, changed;
} sc_regrade_stats;

/* What the same call has staged for the first customer but Redis does not
 * hold yet: its means (NULL: read them), adoption stage and pre-listing
 * stance (-1: read them). */
typedef struct {
    const sc_means *means;
    int adoption_stage;
    int stance;
} sc_staged;

/* Grades customers[0..n) for product and stages the changes. When out is
 * not NULL it receives the first customer's grade (caller frees with
 * sc_grade_msg_free). staged may be NULL. Returns MR_OK or a code set on
 * call. */
int sc_regrade_customers(mr_call *call, const char *product, const char *const *customers,
                         size_t n, const sc_staged *staged, sc_regrade_stats *stats,
                         Medrep__Grade **out);

/* Grades the customers with data for product, ranks [start, start+count)
 * of the region's distribution; *more tells whether any remain after. */
int sc_regrade_page(mr_call *call, const char *product, long start, long count,
                    sc_regrade_stats *stats, bool *more);

/* The stored grade of customer for product (NULL when none). Caller frees. */
Medrep__Grade *sc_grade_msg_unpack(const char *data, size_t len);
void sc_grade_msg_free(Medrep__Grade *g);

#endif
