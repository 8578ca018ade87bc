/*
 * hist — latency histograms for /metrics: one fixed set of upper bounds from
 * 1 ms to a day, so an ACK's milliseconds and a bundle's hours in a retry queue
 * fit the same shape. Plain counters, updated and read on the loop thread only;
 * admin writes them as Prometheus histograms (cumulative buckets).
 */
#ifndef SOLENT_ENGINE_HIST_H
#define SOLENT_ENGINE_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_BUCKETS 20

struct hist {
    uint64_t le[HIST_BUCKETS]; /* observations in (hist_bounds[i - 1], hist_bounds[i]] */
    uint64_t count;
    double sum; /* seconds */
};

/* The buckets' upper bounds, in seconds. */
extern const double hist_bounds[HIST_BUCKETS];

/* Counts one observation of seconds. */
void hist_add(struct hist *h, double seconds);

#endif
