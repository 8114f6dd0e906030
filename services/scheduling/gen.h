/* gen.h: synthetic territories for the tests and the bench: a rep's home,
 * hospitals around a city with opening hours, customers with segments,
 * windows and peak hours, and a horizon of days. Deterministic for a
 * seed; pure (no I/O, no globals). */
#ifndef SCHED_GEN_H
#define SCHED_GEN_H

#include <stdint.h>

#include "planner.h"

typedef struct {
    int nloc;                 /* 1 + hospitals; location 0 is the rep's home */
    int *travel;              /* nloc x nloc */
    sc_week_hours *opening;   /* per location */
    sc_visit *visits;
    int nvisits;
    sc_day *days;
    int ndays;
    sc_problem problem;       /* points into the arrays above */
} sc_gen;

typedef struct {
    uint64_t seed;
    int hospitals, customers;
    int days;                 /* from a Monday; Mon-Fri are field days */
    double radius_km;         /* hospitals spread around the centre */
    double share_a, share_b, share_c, share_d;   /* the rest are non-prescribers */
    double windowed;          /* share of customers with their own windows */
} sc_gen_opts;

/* Fills g (caller frees with sc_gen_free). 0 or -1 (out of memory, bad options). */
int sc_gen_make(const sc_gen_opts *o, const sc_norms *norms, sc_gen *g);
void sc_gen_free(sc_gen *g);

/* A random number in [0, n) from *state (xorshift). */
uint32_t sc_gen_rand(uint64_t *state, uint32_t n);

#endif
