/* stats.c: the latency histogram (stats.h). Bucket i holds values up to
 * 2^(i/8) microseconds, so neighbouring buckets differ by about 9%. */
#include "stats.h"

#include <math.h>
#include <string.h>

void mr_hist_reset(mr_hist *h)
{
    memset(h, 0, sizeof *h);
}

static int bucket_of(int64_t us)
{
    if (us <= 1)
        return 0;
    int b = (int)ceil(8.0 * log2((double)us));
    return b < MR_HIST_BUCKETS ? b : MR_HIST_BUCKETS - 1;
}

static int64_t bucket_upper(int b)
{
    return (int64_t)floor(pow(2.0, b / 8.0));
}

void mr_hist_add(mr_hist *h, int64_t us)
{
    h->counts[bucket_of(us)]++;
    h->total++;
    if (us > h->max_us)
        h->max_us = us;
}

int64_t mr_hist_quantile(const mr_hist *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < MR_HIST_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            int64_t upper = bucket_upper(b);
            return upper < h->max_us ? upper : h->max_us;
        }
    }
    return h->max_us;
}
