/*
 * retention — `[store] retain_ms`: purge passes over the store, at start and then
 * every retain_ms (at most hourly), a batch per store-thread job so intake commits
 * go between them. Not here: what a purge removes (store_purge).
 */
#ifndef SOLENT_ENGINE_RETENTION_H
#define SOLENT_ENGINE_RETENTION_H

#include <stdint.h>

struct daemon;
struct retention;

/* Purged since the start, for /metrics. */
struct retention_counts {
    uint64_t messages, outbox_rows;
};

/* Schedules the first pass (loop thread); NULL when the loop cannot take a timer. */
struct retention *retention_start(struct daemon *d);
/* After a reload: a pass now under the new retain_ms (none while it is 0), unless one is
 * out already (the next follows the new setting then). */
void retention_configure(struct retention *r);
struct retention_counts retention_counts(const struct retention *r);
/* After the store thread has stopped and its continuations have run; NULL is fine. */
void retention_free(struct retention *r);

#endif
