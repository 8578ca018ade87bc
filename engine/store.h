/*
 * store — durable intake: every message as received, its outcome, and one
 * outbox row per destination, committed together in one transaction.
 *
 * One interface for the back ends (SQLite now; PostgreSQL next). A batch of
 * messages is committed in ONE transaction (the group commit of the intake
 * thread); when store_commit returns 0 the batch is durable (SQLite:
 * WAL with synchronous=FULL), and only then may the messages be ACKed.
 * Not here: threads, delivery, ACK text.
 */
#ifndef SOLENT_ENGINE_STORE_H
#define SOLENT_ENGINE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/strbuf.h"

#define STORE_HASH_LEN 32

enum store_status {
    STORE_ACCEPTED,  /* parsed, routed, transformed: outbox rows follow */
    STORE_ERROR,     /* parsed but not processable (AE): replayable after a fix */
    STORE_REJECTED,  /* structurally unacceptable (AR): bytes kept */
    STORE_DUPLICATE, /* same sender, control id and content as an earlier one */
    STORE_PARKED,    /* no route, policy park: accepted, not delivered */
};

/* One destination's bundle for a message. */
struct store_outbox {
    const char *destination;
    const char *ordering_key; /* destination + patient key: delivery order is per key */
    const char *bundle;
    size_t bundle_len;
};

/* A message to commit. Strings are borrowed for the call. */
struct store_message {
    int64_t received_at_ms;
    const char *listener, *sending_app, *sending_facility, *control_id, *message_type;
    unsigned char hash[STORE_HASH_LEN]; /* of the raw bytes */
    enum store_status status;
    int error_code;             /* HL7 table 0357, 0 when none */
    const char *error_location; /* e.g. PID-3; never a value */
    const char *raw;
    size_t raw_len;
    const char *ack; /* the ACK sent, re-sent for a duplicate */
    size_t ack_len;
    const struct store_outbox *outbox;
    size_t noutbox;
    int64_t id; /* out: the message's id once committed */
};

/* What `solent messages` lists: metadata only, never content. */
struct store_row {
    int64_t id, received_at_ms;
    const char *listener, *sending_app, *sending_facility, *control_id, *message_type;
    const char *status;
    int error_code;
    const char *error_location;
    size_t raw_len, noutbox;
};

struct store_filter {
    const char *status; /* NULL: any */
    const char *type;   /* prefix of the message type, NULL: any */
    int64_t since_ms;   /* 0: any */
    size_t limit;       /* 0: 1000 */
};

struct store_stats {
    uint64_t transactions, messages; /* committed by this handle */
};

struct store;

/* Opens (creating, mode 0600, and migrating) the store at path; NULL with a reason. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Closes; NULL is fine. */
void store_close(struct store *s);
/* Commits the n messages in one transaction and sets their ids; -1 with a reason
 * (nothing of the batch is stored then); -2 when an fsync failed: the store's state on
 * disk is unknown and the process must stop (never retry). */
int store_commit(struct store *s, struct store_message *msgs, size_t n, char *err, size_t errlen);
/* An earlier message with this sender, facility and control id: 1 and its ACK appended to
 * ack when the content hash is the same, 2 when the content differs (control-id reuse),
 * 0 when there is none, -1 on error. */
int store_find_duplicate(struct store *s, const char *app, const char *facility,
                         const char *control_id, const unsigned char hash[STORE_HASH_LEN],
                         struct strbuf *ack);
/* Calls fn for each message matching f, newest first; -1 on error. */
int store_list(struct store *s, const struct store_filter *f,
               void (*fn)(void *arg, const struct store_row *row), void *arg);
/* Counters of this handle. */
struct store_stats store_stats(const struct store *s);
/* The schema version the store is at (the number of migrations applied). */
int store_schema_version(struct store *s);

#endif
