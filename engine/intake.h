/*
 * intake — the store thread and its group commit.
 *
 * The event loop submits messages; the store thread takes everything waiting,
 * commits it in ONE transaction, then reports each message's outcome through
 * its done callback (on the store thread: the engine hands it back to its loop).
 * A positive ACK may be sent only from that callback. A failed commit reports
 * failure for every message of the batch (nothing of it is stored), and the
 * thread goes on serving later batches — except after a failed fsync, which
 * stops the process at once (exit 70): the disk's state is unknown then. Before committing, each
 * item is looked up: the same sender, facility and control id with the same content is a duplicate
 * — stored as such, with no outbox rows, and answered with the first ACK.
 */
#ifndef SOLENT_ENGINE_INTAKE_H
#define SOLENT_ENGINE_INTAKE_H

#include "engine/store.h"

struct intake_item;

/* Called once per item on the store thread: rc 0 and the id when durable, -1 when not; the
 * status stored (STORE_DUPLICATE when the store found it a duplicate); ack is the ACK to
 * send (for a duplicate, the one sent the first time), valid for the call. */
typedef void (*intake_done_cb)(void *arg, int rc, int64_t id, enum store_status status,
                               const char *ack, size_t ack_len);

/* A message to commit; every byte it points to is copied (the caller's buffers may go). */
struct intake_item *intake_item_new(const struct store_message *m, intake_done_cb done, void *arg);

struct intake;

/* Starts the store thread over s (which it uses alone from now on); NULL with a reason. */
struct intake *intake_start(struct store *s, char *err, size_t errlen);
/* Queues item (taken); the done callback comes after its batch commits. */
void intake_submit(struct intake *in, struct intake_item *item);
/* Runs fn(store, arg) on the store thread, before the next batch (an intake started for other
 * work than commits — daemon.c's pool — runs only these). fn reports back itself
 * (daemon_call). */
void intake_call(struct intake *in, void (*fn)(struct store *s, void *arg), void *arg);
/* Runs what is queued (jobs, then commits), stops the thread and frees the intake (not the
 * store); NULL: nothing. */
void intake_stop(struct intake *in);

#endif
