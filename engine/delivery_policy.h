/*
 * delivery_policy — what a FHIR server's answer means for an outbox row, and when
 * to try again. Pure functions: no I/O, no clock, no global state.
 *
 * Classification (DESIGN section 5): a transport error (connection refused or
 * reset, timeout, TLS) and HTTP 408, 429 and 5xx are retried; 401 and 403 too,
 * because they say the credentials are wrong, not the bundle (dead-lettering the
 * whole queue for a configuration fault helps nobody). Any other 4xx is a dead
 * letter. A 2xx counts only when its body is a transaction-response with one
 * entry per request entry, each with a 2xx status; an entry with 408/429/5xx
 * makes the bundle a retry, any other failing entry a dead letter, and a 2xx
 * with another body is a failure (retried), never a success.
 *
 * Backoff: exponential with full jitter — a uniform delay in [0, min(cap, base ×
 * 2^(attempt-1))] — from a caller-owned seeded generator, so tests can fix it;
 * a server's Retry-After is a floor.
 */
#ifndef SOLENT_ENGINE_DELIVERY_POLICY_H
#define SOLENT_ENGINE_DELIVERY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/strbuf.h"

enum delivery_verdict { DELIVERY_OK, DELIVERY_RETRY, DELIVERY_DEAD };

struct delivery_answer {
    int transport_error; /* 0, or nonzero when no HTTP answer came (reason in error) */
    const char *error;   /* the transport's reason, when transport_error */
    long http_status;    /* 0 when none */
    const char *body;    /* the response body, may be NULL */
    size_t body_len;
    const char *retry_after; /* the Retry-After header value, NULL when absent */
    size_t request_entries;  /* entries in the bundle sent */
    int64_t now_ms;          /* for an HTTP-date Retry-After */
};

struct delivery_outcome {
    enum delivery_verdict verdict;
    char reason[256];       /* one line, no patient data: status codes, entry numbers */
    int64_t retry_after_ms; /* the server's wish, 0 when none */
};

/* Classifies an answer; for DELIVERY_OK appends each entry's Location, one per line, to
 * locations (which may be NULL). */
void delivery_classify(const struct delivery_answer *a, struct delivery_outcome *out,
                       struct strbuf *locations);

/* A small seeded generator (splitmix64) for the jitter. */
struct delivery_rng {
    uint64_t state;
};
uint64_t delivery_rng_next(struct delivery_rng *r);

struct delivery_backoff {
    int64_t base_ms, cap_ms;
};

/* The delay before attempt number attempt + 1, after attempt failures (attempt >= 1), never
 * less than retry_after_ms. */
int64_t delivery_backoff_ms(const struct delivery_backoff *b, int attempt, int64_t retry_after_ms,
                            struct delivery_rng *rng);

/* A destination's health. Up, every queue sends on its own schedule. After
 * DELIVERY_DOWN_AFTER attempts in a row that failed as a whole (no answer: refused, reset,
 * timed out; or a 5xx) it is down: the queues stop, and one attempt at a time probes it,
 * at first after probe_base_ms, doubling up to probe_cap_ms. The first attempt that does
 * not fail as a whole brings it up: every waiting queue is then due at once (the caller
 * releases them, `concurrency` at a time as ever). */
#define DELIVERY_DOWN_AFTER 3

struct delivery_health {
    bool down;
    int failures;          /* whole failures in a row */
    int probes;            /* failed probes since it went down */
    int64_t down_since_ms; /* while down */
    int64_t probe_at_ms;   /* while down: the next probe not before */
};

enum delivery_health_change { DELIVERY_HEALTH_SAME, DELIVERY_HEALTH_DOWN, DELIVERY_HEALTH_UP };

/* Notes an attempt that ended at now_ms (whole_failure: it failed as a whole) and returns
 * the change it makes; probes are paced by b (base and cap). */
enum delivery_health_change delivery_health_note(struct delivery_health *h, bool whole_failure,
                                                 int64_t now_ms, const struct delivery_backoff *b);
/* True when an attempt may start: always while up; while down, one probe when it is due and
 * none in flight. */
bool delivery_health_may_start(const struct delivery_health *h, size_t inflight, int64_t now_ms);

/* The number of entries of a Bundle's JSON text, -1 when it is not a Bundle. */
long delivery_bundle_entries(const char *json, size_t len);

#endif
