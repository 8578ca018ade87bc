/*
 * worker — a thread for what is too slow for the event loop: converting a large
 * frame (parse, route, transform) takes as long as the frame is big, and the loop
 * must go on serving every other connection, ACK, delivery and /healthz meanwhile.
 * Jobs run one at a time in the order submitted, and report back themselves (a
 * conversion hands its record to intake, whose completion reaches the loop).
 *
 * Not here: what a job does (conn.c), the store thread (intake.h).
 */
#ifndef SOLENT_ENGINE_WORKER_H
#define SOLENT_ENGINE_WORKER_H

#include <stddef.h>

struct worker;

/* Starts the thread, named name (at most 15 characters); NULL with a reason. */
struct worker *worker_start(const char *name, char *err, size_t errlen);
/* Queues fn(arg) (from any thread). */
void worker_submit(struct worker *w, void (*fn)(void *arg), void *arg);
/* Runs what is queued, stops the thread and frees w. NULL is fine. */
void worker_stop(struct worker *w);

#endif
