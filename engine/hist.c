/* hist — latency histograms: counts per upper bound. */
#include "engine/hist.h"

const double hist_bounds[HIST_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10,   30,
                                          60,    300,    900,   3600, 14400, 86400};

void hist_add(struct hist *h, double seconds)
{
    if (seconds < 0)
        seconds = 0; /* a clock stepped back */
    h->count++;
    h->sum += seconds;
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        if (seconds <= hist_bounds[i]) {
            h->le[i]++;
            return;
        }
}
