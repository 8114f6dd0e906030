/* stats.h: a latency histogram with about 9% resolution from 1 us to
 * about an hour, for p50/p99 figures without keeping every sample.
 * Not thread-safe: one per thread, or guard it. */
#ifndef MEDREP_STATS_H
#define MEDREP_STATS_H

#include <stdint.h>

#define MR_HIST_BUCKETS 256

typedef struct {
    uint64_t counts[MR_HIST_BUCKETS];
    uint64_t total;
    int64_t max_us;
} mr_hist;

void mr_hist_reset(mr_hist *h);
void mr_hist_add(mr_hist *h, int64_t us);
/* The value at quantile q (0..1), as the upper bound of its bucket; 0
 * when empty. */
int64_t mr_hist_quantile(const mr_hist *h, double q);

#endif
