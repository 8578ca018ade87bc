/*
 * delivery — the outbound queue: every outbox row to its destination, in order
 * per patient, through outages and restarts (DESIGN section 5).
 *
 * Runs on the daemon's loop. The store is touched only on the store thread
 * (intake_call): a claim job takes, per destination, the oldest undelivered row
 * of each ordering key that is due and leases it (a key whose head is leased or
 * waiting for its retry gets nothing, so one bundle per patient is in flight and
 * order holds); a record job writes what became of finished attempts in one
 * transaction and releases their leases, which unblocks those keys.
 *
 * fhir destinations: libcurl's multi interface driven by libevent (socket and
 * timer callbacks → curl_multi_socket_action), connections reused, HTTP/2 when
 * the server offers it over TLS, TLS 1.2+ with verified certificates, at most
 * `concurrency` requests in flight, each with a timeout. The answer is classified
 * by delivery_policy: delivered (Locations kept), retry (backoff with full
 * jitter, Retry-After honoured, dead after max_attempts or max_age), or dead
 * (the server's OperationOutcome kept in the store, never logged).
 *
 * directory destinations: claimed like the others, then written by a thread of their
 * own (never the store thread, whose commits intake waits for), in batches at most every
 * 10 ms: each bundle as PATH/<outbox id>.json (temporary file, fdatasync, rename), then
 * one fsync of the directory; the outcomes are recorded like HTTP ones.
 *
 * A stop drains first: no new attempt starts, those in flight finish and every outcome
 * is recorded, so a clean restart sends nothing twice. What a stop still abandons (a
 * request that outlasts the daemon's grace) keeps its lease until the next start releases
 * it (SQLite has one engine per store), and the server sees the same idempotent bundle
 * again.
 */
#ifndef SOLENT_ENGINE_DELIVERY_H
#define SOLENT_ENGINE_DELIVERY_H

#include <stdbool.h>

#include "engine/conf.h"
#include "engine/hist.h"

struct daemon;
struct delivery;

/* Starts delivery (the store's leases already released); delivery_configure starts the
 * destinations. NULL with a reason. */
struct delivery *delivery_start(struct daemon *d, char *err, size_t errlen);
/* Takes a reloaded configuration: new destinations start, removed ones stop claiming. */
void delivery_configure(struct delivery *dv, const struct conf *c);
/* New outbox rows may be waiting. */
void delivery_kick(struct delivery *dv);
/* One destination's counters since the start, for /metrics. */
struct delivery_counts {
    const char *destination, *kind;
    uint64_t delivered, retried, dead; /* attempts, by outcome */
    uint64_t token_failures;           /* token fetches that failed */
    size_t in_flight;                  /* requests (or files being written) now */
    bool up;                           /* not down (delivery_policy.h: health) */
    const struct hist *latency;        /* queued (the message's arrival) → delivered */
};
/* Calls fn for each configured destination (loop thread). */
void delivery_each(struct delivery *dv, void (*fn)(void *arg, const struct delivery_counts *c),
                   void *arg);
/* No more claims; requests in flight are abandoned. Before the store thread stops. */
void delivery_stop(struct delivery *dv);
/* The first step of a stop: no new attempt starts; attempts in flight finish and their
 * outcomes are recorded. The daemon is told (daemon_stop_check) as that progresses. */
void delivery_drain(struct delivery *dv);
/* Nothing in flight and nothing left to record (or stopped): a stop may end. */
bool delivery_idle(const struct delivery *dv);
/* Frees everything; NULL is fine. After the store thread has stopped. */
void delivery_free(struct delivery *dv);

#endif
