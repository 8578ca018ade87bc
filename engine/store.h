/*
 * store — durable intake: every message as received, its outcome, and one
 * outbox row per destination, committed together in one transaction.
 *
 * One interface, a table of operations (struct store_ops) each back end fills:
 * store_sqlite.c (the embedded default) and store_pg.c (PostgreSQL, shared by several
 * engines). Nothing outside them knows which one is in use: store_open_conf picks it from
 * [store] kind. A batch of messages is committed in ONE transaction (the group commit of
 * the intake thread); when store_commit returns 0 the batch is durable (SQLite: WAL with
 * synchronous=FULL; PostgreSQL: COMMIT returned, synchronous_commit on), and only then
 * may the messages be ACKed. Not here: threads, delivery, ACK text.
 */
#ifndef SOLENT_ENGINE_STORE_H
#define SOLENT_ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "parsers/strbuf.h"

#define STORE_HASH_LEN 32
/* In the reason a back end gives when its database cannot be reached (not refused): what
 * store_open_waiting tries again. */
#define STORE_UNREACHABLE "cannot reach the database"

enum store_status {
    STORE_ACCEPTED,  /* parsed, routed, transformed: outbox rows follow */
    STORE_ERROR,     /* parsed but not processable (AE): replayable after a fix */
    STORE_REJECTED,  /* structurally unacceptable (AR): bytes kept */
    STORE_DUPLICATE, /* same sender, control id and content as an earlier one */
    STORE_PARKED,    /* no route, policy park: accepted, not delivered */
    STORE_STATUSES
};

/* One destination's bundle for a message. */
struct store_outbox {
    const char *destination;
    const char *ordering_key; /* destination + patient key: delivery order is per key */
    const char *bundle;
    size_t bundle_len;
    size_t entries; /* the bundle's entry count: what its transaction-response must match */
};

/* A message to commit. Strings are borrowed for the call. */
struct store_message {
    int64_t received_at_ms;
    const char *listener, *sending_app, *sending_facility, *control_id, *message_type;
    const char *peer; /* who sent it: its [peer] name, else its certificate identity or address */
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
    uint32_t warnings, unmapped; /* the transform's ledger: counts */
    const char *ledger;          /* and its lines (positions, no content), or NULL */
    size_t ledger_len;
    const char *route; /* the route it took ("" or NULL: none) */
    int64_t id;        /* out: the message's id once committed */
};

/* What `solent messages` lists: metadata only, never content. */
struct store_row {
    int64_t id, received_at_ms;
    const char *listener, *sending_app, *sending_facility, *control_id, *message_type;
    const char *peer;
    const char *engine; /* the engine that received it, where several share the store ("": -) */
    const char *route;  /* the route it took ("": none) */
    const char *ack;    /* the ACK it was answered with (MSH and MSA: no patient data) */
    size_t ack_len;
    const char *status;
    int error_code;
    const char *error_location;
    size_t raw_len, noutbox;
    uint32_t warnings, unmapped;
};

struct store_filter {
    const char *status;     /* NULL: any */
    const char *type;       /* prefix of the message type, NULL: any */
    const char *control_id; /* MSH-10 exactly, NULL: any */
    int64_t since_ms;       /* 0: any */
    size_t limit;           /* 0: 1000 */
    const char *listener, *sending_app, *sending_facility, *peer; /* exactly; NULL: any */
    int64_t until_ms;                                             /* received before; 0: any */
    int64_t before_id; /* ids below it only (the next page after a cursor); 0: any */
    int64_t id;        /* this message only; 0: any */
};

struct store_stats {
    uint64_t transactions, messages; /* committed by this handle */
};

struct store;

/* The clock every time in the store is kept in: wall-clock milliseconds since the epoch. */
static inline int64_t store_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

struct conf_store;
/* Opens (creating and migrating) the store [store] describes: its kind, where it is, and with
 * an encryption_key, encryption at rest (engine/crypt.h: raw messages, bundles and server
 * answers sealed, the duplicate hash and ordering keys keyed hashes; a key the store's values
 * need and the key file lacks or gets wrong, or no key for a store that has keys, is refused
 * here with the reason). NULL with a reason. */
struct store *store_open_conf(const struct conf_store *cs, char *err, size_t errlen);
/* The same for an engine starting: a database it cannot reach yet (PostgreSQL down, the
 * network not up) is tried again, 0.5 s doubling to 5 s, each failure logged
 * (event=store_unreachable), until it answers; any other failure is returned at once. Between
 * tries wait(arg, ms) passes the time (the daemon runs its loop meanwhile, so its admin
 * endpoint answers /readyz 503); when it returns false (a stop) the wait ends: NULL with
 * STORE_STOPPED in err. */
#define STORE_STOPPED "stopped while waiting for the database"
struct store *store_open_waiting(const struct conf_store *cs, bool (*wait)(void *arg, unsigned ms),
                                 void *arg, char *err, size_t errlen);
/* The same for a command that reads what an engine wrote: a store that does not exist yet
 * (no SQLite file) is an error saying so, not a new empty one. */
struct store *store_open_existing(const struct conf_store *cs, char *err, size_t errlen);
/* The embedded store at path, as [store] kind = sqlite with no key (tests, benchmarks). */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Closes; NULL is fine. */
void store_close(struct store *s);
/* This process is an engine serving from the store: SQLite takes the file for itself (a
 * second engine refuses) and releases what a crashed run had leased; PostgreSQL records
 * the engine's name, leases being shared. -1 with a reason. */
int store_attach_engine(struct store *s, const char *engine, char *err, size_t errlen);
/* A consistent copy of the store at dest (a new file, mode 0600), taken while engines write
 * on: SQLite's online backup API reading one snapshot (WAL: the engine's commits go on
 * meanwhile), the copy synced to disk before it takes its name. *pages: its size in pages.
 * -1 with a reason (PostgreSQL: its own tools, pg_dump and base backups, are the way). */
int store_backup(struct store *s, const char *dest, uint64_t *pages, char *err, size_t errlen);
/* Whether a second handle on the same store may write while this one does (PostgreSQL) —
 * the engine then gives delivery's bookkeeping a connection and a thread of its own, so
 * intake never waits behind it — or whether writes are one at a time anyway (SQLite). */
bool store_parallel(const struct store *s);
/* The back end's kind: "sqlite" or "postgres". */
const char *store_kind(const struct store *s);
/* Seals anew, with the keyring's newest key, every value sealed with another (or in clear),
 * batch rows a transaction (an engine may be writing meanwhile); then forgets the older keys.
 * *done: the values re-sealed. -1 with a reason (no keyring, a value that does not open). */
int store_rekey(struct store *s, size_t batch, uint64_t *done, char *err, size_t errlen);
/* Commits the n messages in one transaction and sets their ids. A message another engine
 * committed meanwhile (same sender, control id and content) becomes a duplicate of it: its
 * status STORE_DUPLICATE, ack and ack_len the first one's ACK (the store's, until the next
 * call). -1 with a reason
 * (nothing of the batch is stored then); -2 when an fsync failed: the store's state on
 * disk is unknown and the process must stop (never retry). */
int store_commit(struct store *s, struct store_message *msgs, size_t n, char *err, size_t errlen);
/* An earlier message with this sender, facility and control id: 1 and its ACK appended to
 * ack when the content hash is the same, 2 when the content differs (control-id reuse),
 * 0 when there is none, -1 on error. */
int store_find_duplicate(struct store *s, const char *app, const char *facility,
                         const char *control_id, const unsigned char hash[STORE_HASH_LEN],
                         struct strbuf *ack);
/* store_find_duplicate for n messages about to be committed: each lookup's rc as
 * store_find_duplicate would return it, its ack appended when 1 — or 0 from a back end whose
 * commit finds them itself (store_commit then turns such a message into a duplicate, and
 * logs a control id reused with other content). */
struct store_lookup {
    const char *app, *facility, *control_id;
    const unsigned char *hash;
    struct strbuf *ack;
    int rc;
};
void store_find_duplicates(struct store *s, struct store_lookup *q, size_t n);
/* Calls fn for each message matching f, newest first; -1 on error. */
int store_list(struct store *s, const struct store_filter *f,
               void (*fn)(void *arg, const struct store_row *row), void *arg);
/* The name a status has in the store and in `solent messages` ("accepted", ...). */
const char *store_status_name(enum store_status s);
/* Counters of this handle. */
/* The ledger of message id into out: 1, 0 when there is no such message, -1 on error. */
int store_ledger(struct store *s, int64_t id, struct strbuf *out);
struct store_stats store_stats(const struct store *s);
/* True when no statement of the store's connection is mid-step and no transaction is open:
 * what every store function leaves behind. A statement left mid-step holds a read
 * transaction, and the connection's next write fails ("database is locked") once another
 * process has written. */
bool store_is_idle(struct store *s);
/* The connection's PRAGMA synchronous: 2 (FULL) whenever no transaction is open — intake's
 * commits are durable only so. */
int store_synchronous(struct store *s);
/* The schema version the store is at (the number of migrations applied). */
int store_schema_version(struct store *s);

/* ---- delivery: the outbox as a queue (DESIGN section 5) ---- */

/* An outbox row claimed for sending; owns its strings (store_claims_free). */
struct store_claim {
    int64_t id, message_id, created_at_ms;
    int64_t lease;  /* the lease's generation: a result records only under it (fencing) */
    int attempts;   /* made before this one */
    size_t entries; /* 0: unknown (a row from before migration 2) */
    char *ordering_key;
    char *bundle;
    size_t bundle_len;
};

/* Claims up to max rows of destination that are due at now_ms, each the oldest row still to
 * deliver of its ordering key (a key whose head is leased or waiting for its retry time gives
 * nothing), and leases them until lease_until_ms, in one transaction. Returns how many (*out
 * is an array the caller frees with store_claims_free), -1 with a reason. */
int store_claim(struct store *s, const char *destination, int64_t now_ms, int64_t lease_until_ms,
                size_t max, struct store_claim **out, char *err, size_t errlen);
void store_claims_free(struct store_claim *c, size_t n);

enum store_result_kind { STORE_DELIVERED, STORE_RETRY, STORE_DEAD };

/* What became of one delivery attempt. Strings are borrowed for the call. */
struct store_result {
    int64_t id;
    int64_t lease; /* the claim's: a lease taken over by another engine since is not ours */
    enum store_result_kind kind;
    int http_status;         /* 0: no HTTP answer */
    int64_t at_ms;           /* when */
    int64_t next_attempt_ms; /* STORE_RETRY: not before */
    const char *error;       /* why it failed: never patient data */
    const char *response;    /* STORE_DEAD: the server's answer (an OperationOutcome), kept */
    size_t response_len;
    const char *locations; /* STORE_DELIVERED: the server's Location of each entry, one per line */
};

/* Records the results in one transaction and releases their leases; a result whose lease
 * expired and was taken by another claim is dropped (counted in *stale when not NULL): its
 * row is the new holder's. -1 with a reason. */
int store_record(struct store *s, const struct store_result *r, size_t n, size_t *stale, char *err,
                 size_t errlen);
/* Extends the leases of the n rows ids (held under leases[i]) to until[i]; a lease another
 * claim has taken since is left alone and counted in *lost. -1 with a reason. */
int store_renew(struct store *s, const int64_t *ids, const int64_t *leases, const int64_t *until,
                size_t n, size_t *lost, char *err, size_t errlen);
/* Releases the leases of the n rows ids, claimed and not sent (their destination went down);
 * -1 with a reason. */
int store_release(struct store *s, const int64_t *ids, size_t n, char *err, size_t errlen);
/* Makes every queue of destination that waits for a retry time due at now_ms (the
 * destination is back); how many in *released, or -1 with a reason. */
int store_retry_now(struct store *s, const char *destination, int64_t now_ms, size_t *released,
                    char *err, size_t errlen);

/* Per destination, for `solent status`. */
struct store_dest_status {
    const char *destination;
    uint64_t pending, in_flight, retrying, delivered, dead;
    int64_t oldest_pending_ms; /* created_at of the oldest row still to deliver; 0: none */
};
int store_delivery_status(struct store *s, int64_t now_ms,
                          void (*fn)(void *arg, const struct store_dest_status *d), void *arg);

/* The engines sharing the store (PostgreSQL; SQLite has one and lists none): each with when
 * it started and how many outbox rows it holds leased now. */
struct store_engine {
    const char *name;
    int64_t started_at_ms;
    uint64_t holding;
};
int store_engines(struct store *s, int64_t now_ms,
                  void (*fn)(void *arg, const struct store_engine *e), void *arg);

/* What waits per destination, cheaply (for /metrics): patient queues with bundles to
 * deliver, the oldest of their heads, dead letters not replayed. */
struct store_queue_gauge {
    const char *destination;
    uint64_t queues, dead;
    int64_t oldest_pending_ms; /* 0: none */
};
/* Calls fn for each destination with queues or dead letters; -1 on error. */
int store_queue_gauges(struct store *s, void (*fn)(void *arg, const struct store_queue_gauge *g),
                       void *arg);

/* A dead letter not yet replayed. */
struct store_dead {
    int64_t outbox_id, message_id;
    char destination[64];
    int http_status;
    char error[256];
};
/* The dead letters of destination (NULL: all) queued since since_ms, oldest first, into *out
 * (the caller frees it); -1 on error. */
int store_dead_list(struct store *s, const char *destination, int64_t since_ms,
                    struct store_dead **out, size_t *n);
/* The raw bytes, listener and receive time of message id: 1, 0 when there is none, -1. */
int store_message_get(struct store *s, int64_t id, struct strbuf *raw, char *listener,
                      size_t listener_len, int64_t *received_at_ms);
/* Queues n new outbox rows for message id (a replay), marks a message that had failed as
 * accepted, and the dead row replaced_id (0: none) as replayed, in one transaction. */
int store_enqueue(struct store *s, int64_t message_id, int64_t created_at_ms,
                  const struct store_outbox *o, size_t n, int64_t replaced_id, int64_t now_ms,
                  char *err, size_t errlen);

/* ---- retention ---- */

/* A purge pass: removes what was received (messages) or queued (outbox rows) before
 * before_ms and is done with — an outbox row delivered, or dead and replayed since; a
 * message whose outbox rows have all gone. What still waits (pending, retrying, a dead
 * letter not replayed) stays, and so does its message. Start with everything but before_ms
 * zero; the counts add up over the pass. */
struct store_purge {
    int64_t before_ms;
    int phase;      /* 0: outbox rows, 1: messages, 2: done */
    int64_t cursor; /* the last id looked at in this phase */
    uint64_t outbox_rows, messages;
};
/* One batch of a pass in one transaction (without fsync: a purge lost to a power cut is
 * made again), looking at up to max rows: 1 when the pass has more to do, 0 when it is
 * done, -1 with a reason. */
int store_purge(struct store *s, struct store_purge *p, size_t max, char *err, size_t errlen);

/* ---- one message's deliveries, and who read what ---- */

/* One delivery attempt of an outbox row: no content (the error is Solent's own text, the
 * locations the server's ids). */
struct store_attempt {
    int64_t at_ms;
    const char *outcome; /* delivered | retry | dead */
    int http_status;     /* 0: no HTTP answer */
    const char *error, *locations, *engine;
};
/* An outbox row of a message: where it goes, how it stands, every attempt; with content, the
 * bundle and the server's last answer (a dead letter's OperationOutcome). */
struct store_delivery {
    int64_t id;
    const char *destination, *status;
    uint32_t attempts;
    int64_t created_at_ms, delivered_at_ms, next_attempt_ms, replayed_at_ms; /* 0: not */
    int last_http_status;
    const char *last_error, *locations;
    const struct store_attempt *history;
    size_t nhistory;
    const char *bundle, *response; /* content (NULL without it) */
    size_t bundle_len, response_len;
};
/* Calls fn for each outbox row of message message_id, oldest first, with its attempts (and
 * content when asked: opened when the store is sealed); -1 on error. */
int store_deliveries(struct store *s, int64_t message_id, bool content,
                     void (*fn)(void *arg, const struct store_delivery *d), void *arg);

/* A read of patient data: by whom (an admin token's name, or the OS user of a command), via
 * what (api | cli), which message, what (raw, bundles, responses, dry-run). */
struct store_audit {
    int64_t id, at_ms;
    const char *who, *via, *what;
    int64_t message_id;
};
/* Writes a read to the audit, durably, before the content is handed out; -1 with a reason
 * (the content is then not handed out). */
int store_audit_add(struct store *s, const struct store_audit *a, char *err, size_t errlen);
/* The audit since since_ms, newest first, at most limit (0: 1000); -1 on error. */
int store_audit_list(struct store *s, int64_t since_ms, size_t limit,
                     void (*fn)(void *arg, const struct store_audit *a), void *arg);

/* ---- the benchmark's floor ---- */

/* What the database itself does for the bytes one message's commit writes: n copies of a
 * and b into two bare tables (solent_floor_a, solent_floor_b, made the first time) in one
 * transaction, as durable as intake's commits — the floor `solent bench store` sets the
 * store beside. n = 0 drops the two tables. -1 with a reason. */
int store_floor(struct store *s, const void *a, size_t alen, const void *b, size_t blen, size_t n,
                char *err, size_t errlen);

/* ---- the back ends' side: what each fills in (callers use the functions above) ---- */

struct keyring;
struct store_ops {
    const char *kind;
    bool parallel; /* store_parallel */
    void (*close)(struct store *s);
    int (*attach_engine)(struct store *s, const char *engine, char *err, size_t errlen);
    int (*backup)(struct store *s, const char *dest, uint64_t *pages, char *err, size_t errlen);
    int (*rekey)(struct store *s, size_t batch, uint64_t *done, char *err, size_t errlen);
    int (*commit)(struct store *s, struct store_message *msgs, size_t n, char *err, size_t errlen);
    int (*find_duplicate)(struct store *s, const char *app, const char *facility,
                          const char *control_id, const unsigned char hash[STORE_HASH_LEN],
                          struct strbuf *ack);
    void (*find_duplicates)(struct store *s, struct store_lookup *q, size_t n); /* or NULL */
    int (*list)(struct store *s, const struct store_filter *f,
                void (*fn)(void *arg, const struct store_row *row), void *arg);
    int (*ledger)(struct store *s, int64_t id, struct strbuf *out);
    struct store_stats (*stats)(const struct store *s);
    bool (*is_idle)(struct store *s);
    int (*synchronous)(struct store *s);
    int (*schema_version)(struct store *s);
    int (*claim)(struct store *s, const char *destination, int64_t now_ms, int64_t lease_until_ms,
                 size_t max, struct store_claim **out, char *err, size_t errlen);
    int (*record)(struct store *s, const struct store_result *r, size_t n, size_t *stale, char *err,
                  size_t errlen);
    int (*renew)(struct store *s, const int64_t *ids, const int64_t *leases, const int64_t *until,
                 size_t n, size_t *lost, char *err, size_t errlen);
    int (*release)(struct store *s, const int64_t *ids, size_t n, char *err, size_t errlen);
    int (*retry_now)(struct store *s, const char *destination, int64_t now_ms, size_t *released,
                     char *err, size_t errlen);
    int (*delivery_status)(struct store *s, int64_t now_ms,
                           void (*fn)(void *arg, const struct store_dest_status *d), void *arg);
    int (*engines)(struct store *s, int64_t now_ms,
                   void (*fn)(void *arg, const struct store_engine *e), void *arg);
    int (*queue_gauges)(struct store *s, void (*fn)(void *arg, const struct store_queue_gauge *g),
                        void *arg);
    int (*dead_list)(struct store *s, const char *destination, int64_t since_ms,
                     struct store_dead **out, size_t *n);
    int (*message_get)(struct store *s, int64_t id, struct strbuf *raw, char *listener,
                       size_t listener_len, int64_t *received_at_ms);
    int (*enqueue)(struct store *s, int64_t message_id, int64_t created_at_ms,
                   const struct store_outbox *o, size_t n, int64_t replaced_id, int64_t now_ms,
                   char *err, size_t errlen);
    int (*purge)(struct store *s, struct store_purge *p, size_t max, char *err, size_t errlen);
    int (*floor)(struct store *s, const void *a, size_t alen, const void *b, size_t blen, size_t n,
                 char *err, size_t errlen);
    int (*deliveries)(struct store *s, int64_t message_id, bool content,
                      void (*fn)(void *arg, const struct store_delivery *d), void *arg);
    int (*audit_add)(struct store *s, const struct store_audit *a, char *err, size_t errlen);
    int (*audit_list)(struct store *s, int64_t since_ms, size_t limit,
                      void (*fn)(void *arg, const struct store_audit *a), void *arg);
};

/* Every back end's handle begins with this. */
struct store {
    const struct store_ops *ops;
};

/* The back ends' constructors (store_open_conf calls the one [store] kind names). */
struct store *store_sqlite_open(const char *path, const struct keyring *kr, char *err,
                                size_t errlen);
struct store *store_pg_open(const struct conf_store *cs, const struct keyring *kr, char *err,
                            size_t errlen);

#endif
