/*
 * store_sqlite — the embedded store: one SQLite file, WAL, synchronous=FULL,
 * numbered migrations, parameterised statements only. With a keyring (encryption at rest),
 * raw messages, bundles and server answers are sealed (crypt: AES-256-GCM, the row and column
 * as associated data) and the duplicate hash and patient ordering keys are keyed hashes.
 */
#include "engine/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/conf.h"
#include "engine/crypt.h"

struct sq {
    struct store base; /* first: the interface's handle is this */
    char path[4096];
    int lock;               /* an engine's flock on the file (store_attach_engine), else -1 */
    char engine[CONF_NAME]; /* its name (store_attach_engine), in the attempts it records */
    sqlite3 *db;
    sqlite3_stmt *insert_message, *insert_outbox, *insert_bundle, *insert_head, *find_duplicate;
    sqlite3_stmt *next_id;  /* a message's id, chosen before it is written (its sealed raw's) */
    sqlite3_stmt *cache[9]; /* delivery's statements (STMT_*), prepared on first use */
    struct store_stats stats;
    bool sealed;        /* a keyring is set: what holds patient data is sealed */
    struct crypt *c;    /* its contexts and keys (freed and wiped at close) */
    struct strbuf work; /* a sealed or opened value being written or read */
};

static const struct store_ops sqlite_ops;
static void sq_close(struct store *base);
static int sq_schema_version(struct store *base);

static int bind_sealed(struct sq *s, sqlite3_stmt *st, int i, const char *column, int64_t row,
                       const void *p, size_t n);
static int open_value(const struct sq *s, const char *column, int64_t row, const void *p, size_t n,
                      struct strbuf *out);

/* Migration n brings the schema from version n - 1 to n. Append, never edit. */
static const char *const migrations[] = {
    /* 1: messages and their outbox rows */
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " received_at INTEGER NOT NULL,"
    " listener TEXT NOT NULL,"
    " sending_app TEXT NOT NULL,"
    " sending_facility TEXT NOT NULL,"
    " control_id TEXT NOT NULL,"
    " message_type TEXT NOT NULL,"
    " content_hash BLOB NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN"
    "   ('accepted', 'error', 'rejected', 'duplicate', 'parked')),"
    " error_code INTEGER NOT NULL DEFAULT 0,"
    " error_location TEXT NOT NULL DEFAULT '',"
    " raw BLOB NOT NULL,"
    " ack BLOB);"
    "CREATE INDEX messages_sender ON messages (sending_app, sending_facility, control_id);"
    "CREATE INDEX messages_received ON messages (received_at);"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " message_id INTEGER NOT NULL REFERENCES messages (id),"
    " destination TEXT NOT NULL,"
    " ordering_key TEXT NOT NULL,"
    " bundle BLOB NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
    "   ('pending', 'delivered', 'retry', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    " last_http_status INTEGER,"
    " lease_until INTEGER);"
    "CREATE INDEX outbox_due ON outbox (destination, status, next_attempt_at);"
    "CREATE INDEX outbox_order ON outbox (ordering_key, id);",
    /* 2: delivery — when a row was queued and delivered, why it failed, what the server
     * answered (a dead letter's OperationOutcome, the Locations of a delivered bundle),
     * replays; the queue itself indexed by destination and by ordering key */
    "ALTER TABLE outbox ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN delivered_at INTEGER;"
    "ALTER TABLE outbox ADD COLUMN last_error TEXT;"
    "ALTER TABLE outbox ADD COLUMN response BLOB;"
    "ALTER TABLE outbox ADD COLUMN locations TEXT;"
    "ALTER TABLE outbox ADD COLUMN replayed_at INTEGER;"
    "ALTER TABLE outbox ADD COLUMN entries INTEGER NOT NULL DEFAULT 0;"
    /* bundles apart from the row's state: a lease or an outcome rewrites a small row */
    "CREATE TABLE outbox_bundles (outbox_id INTEGER PRIMARY KEY, bundle BLOB NOT NULL);"
    "INSERT INTO outbox_bundles SELECT id, bundle FROM outbox;"
    "UPDATE outbox SET bundle = x'';"
    "UPDATE outbox SET created_at = (SELECT received_at FROM messages m"
    " WHERE m.id = outbox.message_id);"
    "DROP INDEX outbox_due;"
    "CREATE INDEX outbox_key_queue ON outbox (ordering_key, id)"
    " WHERE status IN ('pending', 'retry');"
    /* the head of each patient's queue: its oldest row still to deliver. Claims read the
     * heads, not the whole backlog; a delivered or dead head hands over to the next row. */
    "CREATE TABLE outbox_heads (ordering_key TEXT PRIMARY KEY,"
    " outbox_id INTEGER NOT NULL UNIQUE, destination TEXT NOT NULL);"
    "CREATE INDEX outbox_heads_due ON outbox_heads (destination, outbox_id);"
    "INSERT INTO outbox_heads SELECT ordering_key, min(id), destination FROM outbox"
    " WHERE status IN ('pending', 'retry') GROUP BY ordering_key;",
    /* 3: fewer b-trees written per message (each is a WAL page in every commit): the heads
     * keyed by ordering key alone (WITHOUT ROWID), no index that only duplicates another
     * (outbox_order: outbox_key_queue serves its one query) or serves no query
     * (messages_received: `solent messages` walks ids newest first); each message counts its
     * outbox rows, so listing messages does not search the outbox (which has no index by
     * message: one more b-tree per commit) — counted once here with a temporary index */
    "CREATE TABLE outbox_heads_v3 (ordering_key TEXT PRIMARY KEY,"
    " outbox_id INTEGER NOT NULL, destination TEXT NOT NULL) WITHOUT ROWID;"
    "INSERT INTO outbox_heads_v3 SELECT ordering_key, outbox_id, destination FROM outbox_heads;"
    "DROP TABLE outbox_heads;"
    "ALTER TABLE outbox_heads_v3 RENAME TO outbox_heads;"
    "CREATE INDEX outbox_heads_due ON outbox_heads (destination, outbox_id);"
    "DROP INDEX outbox_order;"
    "DROP INDEX messages_received;"
    "ALTER TABLE messages ADD COLUMN outbox_rows INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX outbox_dead ON outbox (destination) WHERE status = 'dead'"
    " AND replayed_at IS NULL;" /* dead letters, counted for /metrics: rows enter it rarely */
    "CREATE INDEX outbox_by_message_v3 ON outbox (message_id);"
    "UPDATE messages SET outbox_rows = (SELECT count(*) FROM outbox o"
    " WHERE o.message_id = messages.id);"
    "DROP INDEX outbox_by_message_v3;",
    /* 4: the transform's ledger (issue 13): what it warned about and the populated fields it
     * did not use, by position only (xf_ledger: never content), and their counts */
    "ALTER TABLE messages ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN unmapped INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN ledger TEXT NOT NULL DEFAULT '';",
    /* 5: who sent it (issue 14): its [peer] name, else its certificate identity or address */
    "ALTER TABLE messages ADD COLUMN peer TEXT NOT NULL DEFAULT '';",
    /* 6: encryption at rest (issue 14): a check value sealed with each key the store has
     * used, so a missing or wrong key is found at start, before anything is read or written */
    "CREATE TABLE store_keys (id INTEGER PRIMARY KEY, check_value BLOB NOT NULL);",
    /* 7: the store interface (issue 15): each claim a new lease generation, and a result
     * recorded only under the generation it was claimed with (fencing) */
    "ALTER TABLE outbox ADD COLUMN lease_gen INTEGER NOT NULL DEFAULT 0;",
    /* 8: the console (issue 16): the route each message took, every delivery attempt (when,
     * the outcome, the HTTP status, why, the server's ids; no content), and the audit of who
     * read what content (kept whatever retain_ms says) */
    "ALTER TABLE messages ADD COLUMN route TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE attempts (id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL,"
    " at INTEGER NOT NULL, outcome TEXT NOT NULL, http_status INTEGER, error TEXT,"
    " locations TEXT, engine TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX attempts_outbox ON attempts (outbox_id);"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, who TEXT NOT NULL,"
    " via TEXT NOT NULL, message_id INTEGER NOT NULL, what TEXT NOT NULL);",
};

static int db_fail(struct sq *s, const char *what, char *err, size_t errlen)
{
    /* The SQLite message names tables and constraints, never bound values. */
    int sys = sqlite3_system_errno(s->db);
    snprintf(err, errlen, "store: %s: %s%s%s", what, sqlite3_errmsg(s->db), sys ? ": " : "",
             sys ? strerror(sys) : "");
    return -1;
}

static int exec(struct sq *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int sys = sqlite3_system_errno(s->db);
    snprintf(err, errlen, "store: %s%s%s", msg ? msg : "error", sys ? ": " : "",
             sys ? strerror(sys) : "");
    sqlite3_free(msg);
    return -1;
}

static bool sq_is_idle(struct store *base)
{
    struct sq *s = (struct sq *)base;
    for (sqlite3_stmt *st = sqlite3_next_stmt(s->db, NULL); st; st = sqlite3_next_stmt(s->db, st))
        if (sqlite3_stmt_busy(st))
            return false;
    return sqlite3_get_autocommit(s->db) != 0;
}

/* The integer a PRAGMA reads, -1 when it cannot be read. */
static int pragma_int(struct sq *s, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int sq_synchronous(struct store *base)
{
    struct sq *s = (struct sq *)base;
    return pragma_int(s, "PRAGMA synchronous");
}

static int sq_schema_version(struct store *base)
{
    struct sq *s = (struct sq *)base;
    return pragma_int(s, "PRAGMA user_version");
}

/* Applies the migrations the file has not seen, each in its own transaction. */
static int migrate(struct sq *s, char *err, size_t errlen)
{
    int have = sq_schema_version(&s->base), want = (int)(sizeof migrations / sizeof migrations[0]);
    if (have < 0)
        return db_fail(s, "reading the schema version", err, errlen);
    if (have > want) {
        snprintf(err, errlen, "store: schema version %d is newer than this solent (%d)", have,
                 want);
        return -1;
    }
    for (int v = have; v < want; v++) {
        char bump[48];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1); /* a constant */
        if (exec(s, "BEGIN IMMEDIATE", err, errlen) != 0)
            return -1;
        if (exec(s, migrations[v], err, errlen) != 0 || exec(s, bump, err, errlen) != 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (exec(s, "COMMIT", err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int prepare(struct sq *s, char *err, size_t errlen)
{
    static const char *const sql[] = {
        "INSERT INTO messages (received_at, listener, sending_app, sending_facility, control_id,"
        " message_type, content_hash, status, error_code, error_location, raw, ack, outbox_rows,"
        " warnings, unmapped, ledger, peer, id, route)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19)",
        "INSERT INTO outbox (message_id, destination, ordering_key, bundle, created_at, entries)"
        " VALUES (?1, ?2, ?3, x'', ?4, ?5)",
        "INSERT INTO outbox_bundles (outbox_id, bundle) VALUES (?1, ?2)",
        "INSERT OR IGNORE INTO outbox_heads (ordering_key, outbox_id, destination)"
        " VALUES (?1, ?2, ?3)",
        "SELECT content_hash, ack FROM messages WHERE sending_app = ?1 AND sending_facility = ?2"
        " AND control_id = ?3 AND status != 'duplicate' ORDER BY id LIMIT 1",
        "SELECT coalesce(max(id), 0) + 1 FROM messages",
    };
    sqlite3_stmt **out[] = {&s->insert_message, &s->insert_outbox,  &s->insert_bundle,
                            &s->insert_head,    &s->find_duplicate, &s->next_id};
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, out[i], NULL) !=
            SQLITE_OK)
            return db_fail(s, "preparing statements", err, errlen);
    return 0;
}

/* Creates the file readable by its owner only before SQLite opens it. */
static int create_private(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "store: %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

#define KEY_CHECK "solent key check v1"

/* The keys the store's values were sealed with, against the keyring: each must be in it and
 * open its check value; the newest gets one when it has none. Without a keyring, a store
 * that has keys is refused: nothing is written in clear once a key has been set. */
static int check_keys(struct sq *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT id, check_value FROM store_keys ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(s, "reading the store's keys", err, errlen);
    bool newest_known = false;
    int rc, bad = 0;
    struct strbuf out;
    strbuf_init(&out, 256);
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        unsigned id = (unsigned)sqlite3_column_int(st, 0);
        strbuf_reset(&out);
        if (!s->sealed) {
            snprintf(err, errlen,
                     "store: its values are encrypted (key %u): [store] encryption_key is needed",
                     id);
            bad = 1;
        } else if (open_value(s, "store_keys", id, sqlite3_column_blob(st, 1),
                              (size_t)sqlite3_column_bytes(st, 1), &out) != 0 ||
                   strcmp(out.p ? out.p : "", KEY_CHECK) != 0) {
            bool listed = crypt_has_key(s->c, id);
            snprintf(err, errlen,
                     listed ? "store: key %u in the key file is not the key that sealed this "
                              "store's values"
                            : "store: key %u sealed values in this store and is not in the key "
                              "file",
                     id);
            bad = 1;
        }
        newest_known = newest_known || (s->sealed && id == crypt_newest(s->c));
    }
    sqlite3_finalize(st);
    strbuf_cleanup(&out);
    if (bad)
        return -1;
    if (s->sealed && !newest_known) {
        sqlite3_stmt *ins;
        if (sqlite3_prepare_v2(s->db, "INSERT INTO store_keys (id, check_value) VALUES (?1, ?2)",
                               -1, &ins, NULL) != SQLITE_OK)
            return db_fail(s, "recording the key", err, errlen);
        sqlite3_bind_int(ins, 1, (int)crypt_newest(s->c));
        bad = bind_sealed(s, ins, 2, "store_keys", crypt_newest(s->c), KEY_CHECK,
                          strlen(KEY_CHECK)) != 0 ||
              sqlite3_step(ins) != SQLITE_DONE;
        sqlite3_finalize(ins);
        if (bad)
            return db_fail(s, "recording the key", err, errlen);
    }
    return 0;
}

struct store *store_sqlite_open(const char *path, const struct keyring *kr, char *err,
                                size_t errlen)
{
    struct sq *s = calloc(1, sizeof *s);
    if (!s)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    err[0] = '\0';
    s->lock = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    strbuf_init(&s->work, (size_t)1 << 31);
    if (kr && !(s->c = crypt_new(kr))) {
        snprintf(err, errlen, "store: cannot make the encryption contexts");
        strbuf_cleanup(&s->work);
        free(s);
        return NULL;
    }
    s->sealed = kr != NULL;
    if (create_private(path, err, errlen) != 0) {
        strbuf_cleanup(&s->work);
        crypt_free(s->c);
        free(s);
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        exec(s,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
             " PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
             err, errlen) != 0 ||
        migrate(s, err, errlen) != 0 || prepare(s, err, errlen) != 0 ||
        check_keys(s, err, errlen) != 0) {
        if (s->db && !err[0])
            db_fail(s, "opening", err, errlen);
        sq_close(&s->base);
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    return &s->base;
}

static void sq_close(struct store *base)
{
    struct sq *s = (struct sq *)base;
    if (!s)
        return;
    sqlite3_finalize(s->insert_message);
    sqlite3_finalize(s->insert_outbox);
    sqlite3_finalize(s->insert_bundle);
    sqlite3_finalize(s->insert_head);
    sqlite3_finalize(s->find_duplicate);
    sqlite3_finalize(s->next_id);
    strbuf_cleanup(&s->work);
    crypt_free(s->c);
    for (size_t i = 0; i < sizeof s->cache / sizeof s->cache[0]; i++)
        sqlite3_finalize(s->cache[i]);
    sqlite3_close(s->db);
    if (s->lock >= 0)
        close(s->lock);
    free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Steps a statement that returns no rows and resets it: a statement left mid-step would keep
 * a read transaction open on the connection, and its next write would find the snapshot
 * stale ("database is locked") once another process has written. 0 when it completed. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Binds value p (n bytes) to parameter i of st: sealed with the row and column as
 * associated data when the store has a keyring, as is otherwise. -1 when it cannot seal. */
static int bind_sealed(struct sq *s, sqlite3_stmt *st, int i, const char *column, int64_t row,
                       const void *p, size_t n)
{
    if (!s->sealed)
        return sqlite3_bind_blob64(st, i, p ? p : "", n, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
    char aad[64];
    snprintf(aad, sizeof aad, "%s:%lld", column, (long long)row);
    strbuf_reset(&s->work);
    if (crypt_seal(s->c, aad, p ? p : "", n, &s->work) != 0)
        return -1;
    return sqlite3_bind_blob64(st, i, s->work.p, s->work.len, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

/* What column holds for row (blob p, n bytes), opened into out (appended). -1 when it is
 * sealed and does not open. */
static int open_value(const struct sq *s, const char *column, int64_t row, const void *p, size_t n,
                      struct strbuf *out)
{
    char aad[64];
    snprintf(aad, sizeof aad, "%s:%lld", column, (long long)row);
    return crypt_open(s->c, aad, p ? p : "", n, out);
}

/* A patient ordering key as stored: a keyed hash of it when sealed (it holds the patient's
 * identifier), else itself. out: at least 68 bytes, or key's own length + 1. */
static const char *stored_key(const struct sq *s, const char *key, char *out, size_t n)
{
    if (!s->sealed)
        return key;
    char hex[65];
    crypt_hash_hex(s->c, key, strlen(key), hex);
    snprintf(out, n, "k:%s", hex);
    return out;
}

/* One outbox row of message_id, queued at created_at_ms; -1 on error. */
static int insert_outbox(struct sq *s, int64_t message_id, const struct store_outbox *o,
                         int64_t created_at_ms)
{
    sqlite3_stmt *ob = s->insert_outbox;
    char hashed[72];
    const char *key = stored_key(s, o->ordering_key, hashed, sizeof hashed);
    sqlite3_reset(ob);
    sqlite3_bind_int64(ob, 1, message_id);
    bind_text(ob, 2, o->destination);
    bind_text(ob, 3, key);
    sqlite3_bind_int64(ob, 4, created_at_ms);
    sqlite3_bind_int64(ob, 5, (sqlite3_int64)o->entries);
    if (step_done(ob) != 0)
        return -1;
    sqlite3_int64 id = sqlite3_last_insert_rowid(s->db);
    sqlite3_stmt *b = s->insert_bundle, *h = s->insert_head;
    sqlite3_reset(b);
    sqlite3_bind_int64(b, 1, id);
    if (bind_sealed(s, b, 2, "outbox_bundles.bundle", id, o->bundle, o->bundle_len) != 0 ||
        step_done(b) != 0)
        return -1;
    sqlite3_reset(h); /* the head of its queue, unless the queue has one */
    bind_text(h, 1, key);
    sqlite3_bind_int64(h, 2, id);
    bind_text(h, 3, o->destination);
    return step_done(h);
}

/* The content hash as stored: keyed (HMAC) when sealed, so it tells nothing of the content. */
static void stored_hash(const struct sq *s, const unsigned char in[STORE_HASH_LEN],
                        unsigned char out[STORE_HASH_LEN])
{
    if (s->sealed)
        crypt_hash(s->c, in, STORE_HASH_LEN, out);
    else
        memcpy(out, in, STORE_HASH_LEN);
}

static int insert_one(struct sq *s, struct store_message *m)
{
    sqlite3_stmt *st = s->insert_message;
    unsigned char hash[STORE_HASH_LEN];
    sqlite3_reset(s->next_id);
    if (sqlite3_step(s->next_id) != SQLITE_ROW) {
        sqlite3_reset(s->next_id);
        return -1;
    }
    int64_t id = sqlite3_column_int64(s->next_id, 0);
    sqlite3_reset(s->next_id);
    stored_hash(s, m->hash, hash);
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, m->received_at_ms);
    bind_text(st, 2, m->listener);
    bind_text(st, 3, m->sending_app);
    bind_text(st, 4, m->sending_facility);
    bind_text(st, 5, m->control_id);
    bind_text(st, 6, m->message_type);
    sqlite3_bind_blob(st, 7, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
    bind_text(st, 8, store_status_name(m->status));
    sqlite3_bind_int(st, 9, m->error_code);
    bind_text(st, 10, m->error_location);
    if (bind_sealed(s, st, 11, "messages.raw", id, m->raw, m->raw_len) != 0)
        return -1;
    if (m->ack)
        sqlite3_bind_blob64(st, 12, m->ack, m->ack_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 12);
    sqlite3_bind_int64(st, 13, (sqlite3_int64)m->noutbox);
    sqlite3_bind_int64(st, 14, m->warnings);
    sqlite3_bind_int64(st, 15, m->unmapped);
    sqlite3_bind_text64(st, 16, m->ledger ? m->ledger : "", m->ledger ? m->ledger_len : 0,
                        SQLITE_STATIC, SQLITE_UTF8);
    bind_text(st, 17, m->peer ? m->peer : "");
    sqlite3_bind_int64(st, 18, id);
    bind_text(st, 19, m->route ? m->route : "");
    if (step_done(st) != 0)
        return -1;
    m->id = id;
    for (size_t i = 0; i < m->noutbox; i++)
        if (insert_outbox(s, m->id, &m->outbox[i], m->received_at_ms) != 0)
            return -1;
    return 0;
}

static int sq_commit(struct store *base, struct store_message *msgs, size_t n, char *err,
                     size_t errlen)
{
    struct sq *s = (struct sq *)base;
    if (exec(s, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (insert_one(s, &msgs[i]) != 0) {
            db_fail(s, "storing a message", err, errlen);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    /* COMMIT returns once the WAL is fsync'd (synchronous=FULL): durable from here on. */
    if (exec(s, "COMMIT", err, errlen) != 0) {
        int code = sqlite3_extended_errcode(s->db);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        /* After a failed fsync the kernel may have dropped the dirty pages: what is on disk
         * is unknown, and retrying can report success for data that is gone. */
        return code == SQLITE_IOERR_FSYNC || code == SQLITE_IOERR_DIR_FSYNC ? -2 : -1;
    }
    s->stats.transactions++;
    s->stats.messages += n;
    return 0;
}

static int sq_find_duplicate(struct store *base, const char *app, const char *facility,
                             const char *control_id, const unsigned char hash[STORE_HASH_LEN],
                             struct strbuf *ack)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st = s->find_duplicate;
    sqlite3_reset(st);
    bind_text(st, 1, app);
    bind_text(st, 2, facility);
    bind_text(st, 3, control_id);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        const void *h = sqlite3_column_blob(st, 0), *a = sqlite3_column_blob(st, 1);
        unsigned char want[STORE_HASH_LEN];
        stored_hash(s, hash, want);
        if (sqlite3_column_bytes(st, 0) != STORE_HASH_LEN || memcmp(h, want, STORE_HASH_LEN) != 0)
            found = 2; /* the same control id with other content: a new message */
        else if (a && strbuf_append(ack, a, (size_t)sqlite3_column_bytes(st, 1)) != 0)
            found = -1;
        else
            found = 1;
    }
    sqlite3_reset(st); /* never left mid-step: see step_done */
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

static int sq_list(struct store *base, const struct store_filter *f,
                   void (*fn)(void *arg, const struct store_row *row), void *arg)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st;
    const char *sql =
        "SELECT m.id, m.received_at, m.listener, m.sending_app, m.sending_facility,"
        " m.control_id, m.message_type, m.status, m.error_code, m.error_location, length(m.raw),"
        " m.outbox_rows, m.warnings, m.unmapped, m.peer, m.route, m.ack"
        " FROM messages m WHERE (?1 IS NULL OR m.status = ?1)"
        " AND (?2 IS NULL OR m.message_type LIKE ?2 || '%') AND m.received_at >= ?3"
        " AND (?5 IS NULL OR m.control_id = ?5) AND (?6 IS NULL OR m.listener = ?6)"
        " AND (?7 IS NULL OR m.sending_app = ?7) AND (?8 IS NULL OR m.sending_facility = ?8)"
        " AND (?9 IS NULL OR m.peer = ?9) AND (?10 = 0 OR m.received_at < ?10)"
        " AND (?11 = 0 OR m.id < ?11) AND (?12 = 0 OR m.id = ?12)"
        " ORDER BY m.id DESC LIMIT ?4";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (f->status)
        sqlite3_bind_text(st, 1, f->status, -1, SQLITE_STATIC);
    if (f->type)
        sqlite3_bind_text(st, 2, f->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->since_ms);
    sqlite3_bind_int64(st, 4, f->limit ? (sqlite3_int64)f->limit : 1000);
    if (f->control_id)
        sqlite3_bind_text(st, 5, f->control_id, -1, SQLITE_STATIC);
    const char *exact[] = {f->listener, f->sending_app, f->sending_facility, f->peer};
    for (int k = 0; k < 4; k++)
        if (exact[k])
            sqlite3_bind_text(st, 6 + k, exact[k], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, f->until_ms);
    sqlite3_bind_int64(st, 11, f->before_id);
    sqlite3_bind_int64(st, 12, f->id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_row r = {
            .id = sqlite3_column_int64(st, 0),
            .received_at_ms = sqlite3_column_int64(st, 1),
            .listener = (const char *)sqlite3_column_text(st, 2),
            .sending_app = (const char *)sqlite3_column_text(st, 3),
            .sending_facility = (const char *)sqlite3_column_text(st, 4),
            .control_id = (const char *)sqlite3_column_text(st, 5),
            .message_type = (const char *)sqlite3_column_text(st, 6),
            .status = (const char *)sqlite3_column_text(st, 7),
            .error_code = sqlite3_column_int(st, 8),
            .error_location = (const char *)sqlite3_column_text(st, 9),
            .raw_len = (size_t)sqlite3_column_int64(st, 10),
            .noutbox = (size_t)sqlite3_column_int64(st, 11),
            .warnings = (uint32_t)sqlite3_column_int64(st, 12),
            .unmapped = (uint32_t)sqlite3_column_int64(st, 13),
            .peer = (const char *)sqlite3_column_text(st, 14),
            .route = (const char *)sqlite3_column_text(st, 15),
            .ack = sqlite3_column_blob(st, 16),
            .ack_len = (size_t)sqlite3_column_bytes(st, 16),
        };
        fn(arg, &r);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_ledger(struct store *base, int64_t id, struct strbuf *out)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT ledger FROM messages WHERE id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        strbuf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static struct store_stats sq_stats(const struct store *base)
{
    const struct sq *s = (const struct sq *)base;
    return s->stats;
}

/* ---- delivery ---- */

enum {
    STMT_CLAIM,
    STMT_LEASE,
    STMT_RECORD,
    STMT_ADVANCE,
    STMT_DROP_HEAD,
    STMT_RELEASE,
    STMT_FLOOR_A,
    STMT_FLOOR_B,
    STMT_ATTEMPT
};
_Static_assert(STMT_ATTEMPT < sizeof((struct sq *)0)->cache / sizeof(sqlite3_stmt *),
               "a cache slot per statement");

/* Statement slot of the cache, prepared once with sql and reset for a new use; NULL on
 * error. */
static sqlite3_stmt *cached(struct sq *s, int slot, const char *sql)
{
    sqlite3_stmt **st = &s->cache[slot];
    if (!*st &&
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return *st;
}

/* Delivery's own bookkeeping (leases, outcomes) commits without waiting for fsync
 * (synchronous=NORMAL, WAL): after a power loss it may be lost, and then a bundle is sent
 * again — harmless, every bundle is an idempotent update — while the next intake commit
 * (synchronous=FULL) makes it durable anyway. Messages and their outbox rows never take
 * this path. */
static int begin_relaxed(struct sq *s, char *err, size_t errlen)
{
    if (exec(s, "PRAGMA synchronous = NORMAL", err, errlen) != 0)
        return -1;
    if (exec(s, "BEGIN IMMEDIATE", err, errlen) != 0) {
        exec(s, "PRAGMA synchronous = FULL", err, errlen);
        return -1;
    }
    return 0;
}

/* Ends a write transaction: COMMIT unless bad, else ROLLBACK; then synchronous=FULL again
 * (after begin_relaxed; a no-op otherwise). */
static int end_tx(struct sq *s, int bad, const char *what, char *err, size_t errlen)
{
    int rc = 0;
    if (bad != 0) {
        db_fail(s, what, err, errlen);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        rc = -1;
    } else if (exec(s, "COMMIT", err, errlen) != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        rc = -1;
    }
    sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    return rc;
}

static char *dup_column(sqlite3_stmt *st, int col, size_t *len)
{
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    const void *p = sqlite3_column_blob(st, col);
    char *out = malloc(n + 1);
    if (!out)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    if (n)
        memcpy(out, p, n);
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

static int sq_claim(struct store *base, const char *destination, int64_t now_ms,
                    int64_t lease_until_ms, size_t max, struct store_claim **out, char *err,
                    size_t errlen)
{
    struct sq *s = (struct sq *)base;
    /* The head of each ordering key: its oldest row still to deliver. A leased head (in
     * flight, here or in another process) or one waiting for its retry time holds its key. */
    const char *sql =
        "SELECT o.id, o.message_id, o.ordering_key, b.bundle, o.attempts, o.created_at, o.entries"
        " FROM outbox_heads h JOIN outbox o ON o.id = h.outbox_id"
        " JOIN outbox_bundles b ON b.outbox_id = o.id"
        " WHERE h.destination = ?1 AND o.next_attempt_at <= ?2"
        " AND (o.lease_until IS NULL OR o.lease_until <= ?2) ORDER BY h.outbox_id LIMIT ?3";
    size_t n = 0, cap = 0;
    struct store_claim *rows = NULL;
    *out = NULL;
    if (begin_relaxed(s, err, errlen) != 0)
        return -1;
    sqlite3_stmt *st = cached(s, STMT_CLAIM, sql),
                 *lease = cached(s, STMT_LEASE,
                                 "UPDATE outbox SET lease_until = ?2, lease_gen = lease_gen + 1"
                                 " WHERE id = ?1 RETURNING lease_gen");
    int bad = !st || !lease;
    if (!bad) {
        sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                rows = realloc(rows, cap * sizeof *rows);
                if (!rows)
                    abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
            }
            struct store_claim *c = &rows[n++];
            c->id = sqlite3_column_int64(st, 0);
            c->message_id = sqlite3_column_int64(st, 1);
            c->ordering_key = dup_column(st, 2, NULL);
            struct strbuf b;
            strbuf_init(&b, (size_t)1 << 31);
            if (open_value(s, "outbox_bundles.bundle", c->id, sqlite3_column_blob(st, 3),
                           (size_t)sqlite3_column_bytes(st, 3), &b) != 0 ||
                strbuf_append(&b, "", 0) != 0) { /* sealed with a key it has not: stop */
                strbuf_cleanup(&b);
                c->bundle = NULL;
                rc = SQLITE_ERROR;
                break;
            }
            c->bundle = strbuf_take(&b, &c->bundle_len);
            c->attempts = sqlite3_column_int(st, 4);
            c->created_at_ms = sqlite3_column_int64(st, 5);
            c->entries = (size_t)sqlite3_column_int64(st, 6);
        }
        bad = rc != SQLITE_DONE;
        for (size_t i = 0; !bad && i < n; i++) {
            sqlite3_reset(lease);
            sqlite3_bind_int64(lease, 1, rows[i].id);
            sqlite3_bind_int64(lease, 2, lease_until_ms);
            bad = sqlite3_step(lease) != SQLITE_ROW;
            if (!bad)
                rows[i].lease = sqlite3_column_int64(lease, 0);
            bad = bad || sqlite3_step(lease) != SQLITE_DONE;
        }
    }
    if (st)
        sqlite3_reset(st);
    if (lease)
        sqlite3_reset(lease);
    if (end_tx(s, bad, "claiming outbox rows", err, errlen) != 0) {
        store_claims_free(rows, n);
        return -1;
    }
    *out = rows;
    return (int)n;
}

static int sq_record(struct store *base, const struct store_result *r, size_t n, size_t *stale,
                     char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    *stale = 0;
    static const char *const status[] = {"delivered", "retry", "dead"};
    const char *sql = "UPDATE outbox SET status = ?2, attempts = attempts + 1, lease_until = NULL,"
                      " last_http_status = ?3, delivered_at = ?4, next_attempt_at = ?5,"
                      " last_error = ?6, response = ?7, locations = ?8"
                      " WHERE id = ?1 AND lease_gen = ?9";
    /* a head that is done hands over to the next row of its queue; with none left, the head
     * (its id negated) goes */
    const char *advance =
        "UPDATE outbox_heads SET outbox_id = coalesce((SELECT min(o.id) FROM outbox o"
        " WHERE o.ordering_key = outbox_heads.ordering_key"
        " AND o.status IN ('pending', 'retry')), -outbox_id)"
        " WHERE ordering_key = (SELECT ordering_key FROM outbox WHERE id = ?1) AND outbox_id = ?1";
    const char *drop = "DELETE FROM outbox_heads WHERE"
                       " ordering_key = (SELECT ordering_key FROM outbox WHERE id = ?1)"
                       " AND outbox_id = -?1";
    if (begin_relaxed(s, err, errlen) != 0)
        return -1;
    sqlite3_stmt *st = cached(s, STMT_RECORD, sql), *adv = cached(s, STMT_ADVANCE, advance),
                 *del = cached(s, STMT_DROP_HEAD, drop),
                 *att = cached(s, STMT_ATTEMPT,
                               "INSERT INTO attempts (outbox_id, at, outcome, http_status, error,"
                               " locations, engine) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    int bad = !st || !adv || !del || !att;
    for (size_t i = 0; !bad && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_int64(st, 1, r[i].id);
        sqlite3_bind_text(st, 2, status[r[i].kind], -1, SQLITE_STATIC);
        if (r[i].http_status)
            sqlite3_bind_int(st, 3, r[i].http_status);
        if (r[i].kind == STORE_DELIVERED)
            sqlite3_bind_int64(st, 4, r[i].at_ms);
        sqlite3_bind_int64(st, 5, r[i].kind == STORE_RETRY ? r[i].next_attempt_ms : 0);
        if (r[i].error)
            sqlite3_bind_text(st, 6, r[i].error, -1, SQLITE_STATIC);
        if (r[i].response && bind_sealed(s, st, 7, "outbox.response", r[i].id, r[i].response,
                                         r[i].response_len) != 0)
            bad = 1;
        if (r[i].locations)
            sqlite3_bind_text(st, 8, r[i].locations, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, r[i].lease);
        bad = bad || sqlite3_step(st) != SQLITE_DONE;
        bool mine = !bad && sqlite3_changes(s->db) == 1; /* else claimed again since */
        *stale += !bad && !mine;
        if (mine) { /* the attempt, in the history */
            sqlite3_reset(att);
            sqlite3_clear_bindings(att);
            sqlite3_bind_int64(att, 1, r[i].id);
            sqlite3_bind_int64(att, 2, r[i].at_ms);
            sqlite3_bind_text(att, 3, status[r[i].kind], -1, SQLITE_STATIC);
            if (r[i].http_status)
                sqlite3_bind_int(att, 4, r[i].http_status);
            if (r[i].error)
                sqlite3_bind_text(att, 5, r[i].error, -1, SQLITE_STATIC);
            if (r[i].locations)
                sqlite3_bind_text(att, 6, r[i].locations, -1, SQLITE_STATIC);
            sqlite3_bind_text(att, 7, s->engine, -1, SQLITE_STATIC);
            bad = sqlite3_step(att) != SQLITE_DONE;
            sqlite3_reset(att);
        }
        if (mine && !bad && r[i].kind != STORE_RETRY) {
            sqlite3_reset(adv);
            sqlite3_bind_int64(adv, 1, r[i].id);
            bad = sqlite3_step(adv) != SQLITE_DONE;
            sqlite3_reset(adv);
            sqlite3_reset(del);
            sqlite3_bind_int64(del, 1, r[i].id);
            bad = bad || sqlite3_step(del) != SQLITE_DONE;
            sqlite3_reset(del);
        }
    }
    if (st)
        sqlite3_reset(st);
    return end_tx(s, bad, "recording deliveries", err, errlen);
}

/* fsync of path (a file or a directory); -1 with errno set. */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int sq_backup(struct store *base, const char *dest, uint64_t *pages, char *err,
                     size_t errlen)
{
    struct sq *s = (struct sq *)base;
    char tmp[4200], dir[4200];
    snprintf(tmp, sizeof tmp, "%s.partial", dest);
    snprintf(dir, sizeof dir, "%s", dest); /* where it is named: synced after the rename */
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir] = '\0';
    if (access(dest, F_OK) == 0) {
        snprintf(err, errlen, "backup: %s exists: a backup never overwrites", dest);
        return -1;
    }
    unlink(tmp);
    int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "backup: %s: %s", tmp, strerror(errno));
        return -1;
    }
    close(fd);
    sqlite3 *out = NULL;
    int rc = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(out, "main", s->db, "main") : NULL;
    if (b) {
        /* one step: one read snapshot of the source; in WAL the engine commits on meanwhile
         * (several steps would start over at each of its commits) */
        while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
        *pages = (uint64_t)sqlite3_backup_pagecount(b);
        sqlite3_backup_finish(b);
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "backup: %s", out ? sqlite3_errmsg(out) : "cannot open the copy");
        sqlite3_close(out);
        unlink(tmp);
        return -1;
    }
    /* the copy alone, its journal in the file: a rollback journal, nothing beside it */
    rc = sqlite3_exec(out, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    sqlite3_close(out);
    if (rc != SQLITE_OK || sync_path(tmp, O_RDONLY) != 0 || rename(tmp, dest) != 0 ||
        sync_path(dir, O_RDONLY | O_DIRECTORY) != 0) {
        snprintf(err, errlen, "backup: %s: %s", dest, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* One engine per SQLite file: a lock held while it runs, so what a crashed run had leased is
 * free again. */
static int sq_attach_engine(struct store *base, const char *engine, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    snprintf(s->engine, sizeof s->engine, "%s", engine);
    s->lock = open(s->path, O_RDONLY | O_CLOEXEC);
    if (s->lock < 0 || flock(s->lock, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "another solent run is using the store %s", s->path);
        return -1;
    }
    return exec(s, "UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL", err,
                errlen);
}

static int sq_renew(struct store *base, const int64_t *ids, const int64_t *leases,
                    const int64_t *until, size_t n, size_t *lost, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    if (begin_relaxed(s, err, errlen) != 0)
        return -1;
    sqlite3_stmt *st;
    int bad = sqlite3_prepare_v2(s->db,
                                 "UPDATE outbox SET lease_until = ?3 WHERE id = ?1"
                                 " AND lease_gen = ?2 AND lease_until IS NOT NULL",
                                 -1, &st, NULL) != SQLITE_OK;
    for (size_t i = 0; !bad && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        sqlite3_bind_int64(st, 2, leases[i]);
        sqlite3_bind_int64(st, 3, until[i]);
        bad = sqlite3_step(st) != SQLITE_DONE;
        *lost += !bad && sqlite3_changes(s->db) == 0;
    }
    sqlite3_finalize(st);
    return end_tx(s, bad, "renewing leases", err, errlen);
}

static int sq_release(struct store *base, const int64_t *ids, size_t n, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    if (n == 0 || begin_relaxed(s, err, errlen) != 0)
        return n == 0 ? 0 : -1;
    sqlite3_stmt *st =
        cached(s, STMT_RELEASE, "UPDATE outbox SET lease_until = NULL WHERE id = ?1");
    int bad = !st;
    for (size_t i = 0; !bad && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        bad = sqlite3_step(st) != SQLITE_DONE;
    }
    if (st)
        sqlite3_reset(st);
    return end_tx(s, bad, "releasing leases", err, errlen);
}

static int sq_retry_now(struct store *base, const char *destination, int64_t now_ms,
                        size_t *released, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    /* only heads wait for a retry time: a row is tried only once it heads its queue */
    const char *sql = "UPDATE outbox SET next_attempt_at = ?2 WHERE id IN"
                      " (SELECT outbox_id FROM outbox_heads WHERE destination = ?1)"
                      " AND status = 'retry' AND next_attempt_at > ?2";
    *released = 0;
    if (begin_relaxed(s, err, errlen) != 0)
        return -1;
    sqlite3_stmt *st;
    int bad = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK;
    if (!bad) {
        sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms);
        bad = sqlite3_step(st) != SQLITE_DONE;
        *released = bad ? 0 : (size_t)sqlite3_changes(s->db);
        sqlite3_finalize(st);
    }
    return end_tx(s, bad, "releasing retries", err, errlen);
}

static int sq_delivery_status(struct store *base, int64_t now_ms,
                              void (*fn)(void *arg, const struct store_dest_status *d), void *arg)
{
    struct sq *s = (struct sq *)base;
    const char *sql = "SELECT destination,"
                      " sum(status = 'pending' AND (lease_until IS NULL OR lease_until <= ?1)),"
                      " sum(status IN ('pending', 'retry') AND lease_until > ?1),"
                      " sum(status = 'retry' AND (lease_until IS NULL OR lease_until <= ?1)),"
                      " sum(status = 'delivered'), sum(status = 'dead' AND replayed_at IS NULL),"
                      " min(CASE WHEN status IN ('pending', 'retry') THEN created_at END)"
                      " FROM outbox GROUP BY destination ORDER BY destination";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_dest_status d = {
            .destination = (const char *)sqlite3_column_text(st, 0),
            .pending = (uint64_t)sqlite3_column_int64(st, 1),
            .in_flight = (uint64_t)sqlite3_column_int64(st, 2),
            .retrying = (uint64_t)sqlite3_column_int64(st, 3),
            .delivered = (uint64_t)sqlite3_column_int64(st, 4),
            .dead = (uint64_t)sqlite3_column_int64(st, 5),
            .oldest_pending_ms =
                sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6),
        };
        fn(arg, &d);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_queue_gauges(struct store *base,
                           void (*fn)(void *arg, const struct store_queue_gauge *g), void *arg)
{
    struct sq *s = (struct sq *)base;
    /* the heads (one per patient queue) and the dead-letter index: what is waiting costs the
     * queues, not the backlog */
    const char *sql = "SELECT destination, sum(q), sum(d), min(oldest) FROM ("
                      " SELECT h.destination AS destination, 1 AS q, 0 AS d, o.created_at AS oldest"
                      " FROM outbox_heads h JOIN outbox o ON o.id = h.outbox_id"
                      " UNION ALL SELECT destination, 0, 1, NULL FROM outbox"
                      " WHERE status = 'dead' AND replayed_at IS NULL)"
                      " GROUP BY destination ORDER BY destination";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_queue_gauge g = {
            .destination = (const char *)sqlite3_column_text(st, 0),
            .queues = (uint64_t)sqlite3_column_int64(st, 1),
            .dead = (uint64_t)sqlite3_column_int64(st, 2),
            .oldest_pending_ms =
                sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3),
        };
        fn(arg, &g);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_dead_list(struct store *base, const char *destination, int64_t since_ms,
                        struct store_dead **out, size_t *n)
{
    struct sq *s = (struct sq *)base;
    const char *sql = "SELECT o.id, o.message_id, o.destination, o.last_http_status,"
                      " coalesce(o.last_error, '') FROM outbox o"
                      " WHERE o.status = 'dead' AND o.replayed_at IS NULL"
                      " AND (?1 IS NULL OR o.destination = ?1) AND o.created_at >= ?2"
                      " ORDER BY o.id";
    sqlite3_stmt *st;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (destination)
        sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out)
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        }
        struct store_dead *d = &(*out)[(*n)++];
        d->outbox_id = sqlite3_column_int64(st, 0);
        d->message_id = sqlite3_column_int64(st, 1);
        snprintf(d->destination, sizeof d->destination, "%s", sqlite3_column_text(st, 2));
        d->http_status = sqlite3_column_int(st, 3);
        snprintf(d->error, sizeof d->error, "%s", sqlite3_column_text(st, 4));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_message_get(struct store *base, int64_t id, struct strbuf *raw, char *listener,
                          size_t listener_len, int64_t *received_at_ms)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT raw, listener, received_at FROM messages WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), out = -1;
    if (rc == SQLITE_DONE)
        out = 0;
    else if (rc == SQLITE_ROW && open_value(s, "messages.raw", id, sqlite3_column_blob(st, 0),
                                            (size_t)sqlite3_column_bytes(st, 0), raw) == 0) {
        snprintf(listener, listener_len, "%s", sqlite3_column_text(st, 1));
        *received_at_ms = sqlite3_column_int64(st, 2);
        out = 1;
    }
    sqlite3_finalize(st);
    return out;
}

static int sq_enqueue(struct store *base, int64_t message_id, int64_t created_at_ms,
                      const struct store_outbox *o, size_t n, int64_t replaced_id, int64_t now_ms,
                      char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st = NULL;
    if (exec(s, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    int bad = 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = insert_outbox(s, message_id, &o[i], created_at_ms);
    /* A message that failed (AE) or was parked and now transforms is accepted from now on. */
    if (!bad && n) {
        bad = sqlite3_prepare_v2(s->db,
                                 "UPDATE messages SET outbox_rows = outbox_rows + ?2,"
                                 " status = CASE WHEN status IN ('error', 'parked')"
                                 " THEN 'accepted' ELSE status END,"
                                 " error_code = CASE WHEN status IN ('error', 'parked')"
                                 " THEN 0 ELSE error_code END,"
                                 " error_location = CASE WHEN status IN ('error', 'parked')"
                                 " THEN '' ELSE error_location END WHERE id = ?1",
                                 -1, &st, NULL) != SQLITE_OK;
        if (!bad) {
            sqlite3_bind_int64(st, 1, message_id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
            bad = sqlite3_step(st) != SQLITE_DONE;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (!bad && replaced_id) {
        bad = sqlite3_prepare_v2(s->db, "UPDATE outbox SET replayed_at = ?2 WHERE id = ?1", -1, &st,
                                 NULL) != SQLITE_OK;
        if (!bad) {
            sqlite3_bind_int64(st, 1, replaced_id);
            sqlite3_bind_int64(st, 2, now_ms);
            bad = sqlite3_step(st) != SQLITE_DONE;
        }
        sqlite3_finalize(st);
    }
    return end_tx(s, bad, "queueing a replay", err, errlen);
}

/* ---- retention ---- */

/* Each purge phase walks its table by id, oldest first, and ends at the first row that is not
 * old enough (ids grow with time; a row the clock put out of order waits a pass). A row goes
 * when it is old and done: an outbox row delivered, or dead and replayed; a message whose
 * outbox rows have all gone (its count of them is 0). Columns: id, old, done, message. */
static const char *const purge_scan[] = {
    "SELECT id, created_at < ?2, status = 'delivered' OR (status = 'dead' AND replayed_at"
    " IS NOT NULL), message_id FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?3",
    "SELECT id, received_at < ?2, outbox_rows = 0, 0 FROM messages WHERE id > ?1"
    " ORDER BY id LIMIT ?3",
};
static const char *const purge_removal[][4] = {
    {"DELETE FROM outbox_bundles WHERE outbox_id = ?1", "DELETE FROM attempts WHERE outbox_id = ?1",
     "DELETE FROM outbox WHERE id = ?1",
     "UPDATE messages SET outbox_rows = outbox_rows - 1 WHERE id = ?2"},
    {"DELETE FROM messages WHERE id = ?1", NULL, NULL, NULL},
};

/* Up to max rows of p's phase after its cursor: the (id, message id) of those to remove into
 * rows, *n of them; *ended when the phase has no more old rows. -1 on error. */
static int purge_find(struct sq *s, struct store_purge *p, size_t max, int64_t (*rows)[2],
                      size_t *n, bool *ended)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, purge_scan[p->phase], -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, p->cursor);
    sqlite3_bind_int64(st, 2, p->before_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    size_t seen = 0;
    int rc;
    *n = 0;
    *ended = false;
    while (!*ended && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        seen++;
        if (!(*ended = !sqlite3_column_int(st, 1))) {
            p->cursor = sqlite3_column_int64(st, 0);
            if (sqlite3_column_int(st, 2)) {
                rows[*n][0] = p->cursor;
                rows[(*n)++][1] = sqlite3_column_int64(st, 3);
            }
        }
    }
    sqlite3_finalize(st);
    *ended = *ended || seen < max;
    return *ended || rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Removes the n rows found for p's phase. -1 on error. */
static int purge_remove(struct sq *s, const struct store_purge *p, int64_t (*rows)[2], size_t n)
{
    int bad = 0;
    for (int k = 0; !bad && k < 4 && purge_removal[p->phase][k]; k++) {
        sqlite3_stmt *st;
        bad = sqlite3_prepare_v2(s->db, purge_removal[p->phase][k], -1, &st, NULL) != SQLITE_OK;
        for (size_t i = 0; !bad && i < n; i++) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, rows[i][0]);
            sqlite3_bind_int64(st, 2, rows[i][1]);
            bad = sqlite3_step(st) != SQLITE_DONE;
        }
        sqlite3_finalize(st);
    }
    return bad ? -1 : 0;
}

static int sq_purge(struct store *base, struct store_purge *p, size_t max, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    if (p->phase >= 2)
        return 0;
    if (max == 0)
        max = 1; /* a pass always moves on */
    int64_t(*rows)[2] = calloc(max, sizeof *rows);
    if (!rows)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    if (begin_relaxed(s, err, errlen) != 0) {
        free(rows);
        return -1;
    }
    /* the rows to remove first, then the removals: no table changes under a running scan */
    size_t n = 0;
    bool ended = false;
    int bad = purge_find(s, p, max, rows, &n, &ended) != 0 || purge_remove(s, p, rows, n) != 0;
    free(rows);
    if (end_tx(s, bad, "purging old messages", err, errlen) != 0)
        return -1;
    *(p->phase == 0 ? &p->outbox_rows : &p->messages) += n;
    if (ended) {
        p->phase++;
        p->cursor = 0;
    }
    return p->phase < 2;
}

/* One table's sealed column: every value not sealed with the newest key (or not sealed at
 * all) opened and sealed anew, batch rows a transaction; counted into *done. When hash is
 * set (messages), a row whose value was in clear gets its content hash keyed too. */
static int rekey_column(struct sq *s, const char *table, const char *idcol, const char *column,
                        const char *aad, bool hash, size_t batch, uint64_t *done, char *err,
                        size_t errlen)
{
    char select[256], update[256];
    snprintf(select, sizeof select,
             "SELECT %s, %s%s FROM %s WHERE %s > ?1 AND %s IS NOT NULL ORDER BY %s LIMIT ?2", idcol,
             column, hash ? ", content_hash" : "", table, idcol, column, idcol);
    snprintf(update, sizeof update, "UPDATE %s SET %s = ?2%s WHERE %s = ?1", table, column,
             hash ? ", content_hash = coalesce(?3, content_hash)" : "", idcol);
    int64_t last = 0;
    for (;;) {
        sqlite3_stmt *sel = NULL, *upd = NULL;
        if (exec(s, "BEGIN IMMEDIATE", err, errlen) != 0)
            return -1;
        int bad = sqlite3_prepare_v2(s->db, select, -1, &sel, NULL) != SQLITE_OK ||
                  sqlite3_prepare_v2(s->db, update, -1, &upd, NULL) != SQLITE_OK;
        size_t seen = 0;
        struct strbuf clear;
        strbuf_init(&clear, (size_t)1 << 31);
        if (!bad) {
            sqlite3_bind_int64(sel, 1, last);
            sqlite3_bind_int64(sel, 2, (sqlite3_int64)batch);
        }
        while (!bad && sqlite3_step(sel) == SQLITE_ROW) {
            seen++;
            last = sqlite3_column_int64(sel, 0);
            const void *p = sqlite3_column_blob(sel, 1);
            size_t n = (size_t)sqlite3_column_bytes(sel, 1);
            unsigned key = crypt_key_of(p, n);
            if (key == crypt_newest(s->c))
                continue;
            strbuf_reset(&clear);
            if (open_value(s, aad, last, p, n, &clear) != 0) {
                snprintf(err, errlen, "store: %s %lld does not open with the key file's keys",
                         table, (long long)last);
                bad = 1;
                break;
            }
            sqlite3_reset(upd);
            sqlite3_clear_bindings(upd);
            sqlite3_bind_int64(upd, 1, last);
            unsigned char keyed[STORE_HASH_LEN];
            if (hash && !key && sqlite3_column_bytes(sel, 2) == STORE_HASH_LEN) {
                crypt_hash(s->c, sqlite3_column_blob(sel, 2), STORE_HASH_LEN, keyed);
                sqlite3_bind_blob(upd, 3, keyed, STORE_HASH_LEN, SQLITE_TRANSIENT);
            }
            bad = bind_sealed(s, upd, 2, aad, last, clear.p ? clear.p : "", clear.len) != 0 ||
                  sqlite3_step(upd) != SQLITE_DONE;
            if (!bad)
                ++*done;
        }
        strbuf_cleanup(&clear);
        sqlite3_finalize(sel);
        sqlite3_finalize(upd);
        if (bad) {
            if (!err[0])
                db_fail(s, "re-sealing", err, errlen);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (exec(s, "COMMIT", err, errlen) != 0)
            return -1;
        if (seen < batch)
            return 0;
    }
}

static int sq_rekey(struct store *base, size_t batch, uint64_t *done, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    err[0] = '\0';
    *done = 0;
    if (!s->sealed) {
        snprintf(err, errlen, "store: no encryption key: nothing to seal with");
        return -1;
    }
    if (rekey_column(s, "messages", "id", "raw", "messages.raw", true, batch, done, err, errlen) ||
        rekey_column(s, "outbox_bundles", "outbox_id", "bundle", "outbox_bundles.bundle", false,
                     batch, done, err, errlen) ||
        rekey_column(s, "outbox", "id", "response", "outbox.response", false, batch, done, err,
                     errlen))
        return -1;
    /* every value is sealed with the newest key now: the older keys are needed no more */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM store_keys WHERE id != ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, "forgetting the older keys", err, errlen);
    sqlite3_bind_int(st, 1, (int)crypt_newest(s->c));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, "forgetting the older keys", err, errlen);
}

static int sq_floor(struct store *base, const void *a, size_t alen, const void *b, size_t blen,
                    size_t n, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    if (n == 0) {
        for (int k = STMT_FLOOR_A; k <= STMT_FLOOR_B; k++) {
            sqlite3_finalize(s->cache[k]);
            s->cache[k] = NULL;
        }
        return exec(s, "DROP TABLE IF EXISTS solent_floor_a; DROP TABLE IF EXISTS solent_floor_b",
                    err, errlen);
    }
    if (exec(s,
             "CREATE TABLE IF NOT EXISTS solent_floor_a (id INTEGER PRIMARY KEY, v BLOB);"
             "CREATE TABLE IF NOT EXISTS solent_floor_b (id INTEGER PRIMARY KEY, v BLOB);"
             "BEGIN IMMEDIATE",
             err, errlen) != 0)
        return -1;
    sqlite3_stmt *ins[2] = {cached(s, STMT_FLOOR_A, "INSERT INTO solent_floor_a (v) VALUES (?1)"),
                            cached(s, STMT_FLOOR_B, "INSERT INTO solent_floor_b (v) VALUES (?1)")};
    const void *v[2] = {a, b};
    size_t len[2] = {alen, blen};
    bool bad = !ins[0] || !ins[1];
    for (size_t i = 0; i < n && !bad; i++)
        for (int k = 0; k < 2 && !bad; k++) {
            sqlite3_bind_blob(ins[k], 1, v[k], (int)len[k], SQLITE_STATIC);
            bad = sqlite3_step(ins[k]) != SQLITE_DONE;
            sqlite3_reset(ins[k]);
        }
    if (bad) {
        char ignored[64];
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        exec(s, "ROLLBACK", ignored, sizeof ignored);
        return -1;
    }
    return exec(s, "COMMIT", err, errlen);
}

/* The text of column i, "" for NULL. */
static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static char *copy(const char *t)
{
    char *c = strdup(t);
    if (!c)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    return c;
}

/* A column sealed as column.row opened into out (its plain value when the store has no key);
 * -1 when it does not open. */
static int col_opened(const struct sq *s, sqlite3_stmt *st, int i, const char *column, int64_t row,
                      struct strbuf *out)
{
    out->len = 0;
    return open_value(s, column, row, sqlite3_column_blob(st, i),
                      (size_t)sqlite3_column_bytes(st, i), out);
}

static int sq_deliveries(struct store *base, int64_t message_id, bool content,
                         void (*fn)(void *arg, const struct store_delivery *d), void *arg)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st = NULL, *at = NULL;
    const char *rows =
        "SELECT o.id, o.destination, o.status, o.attempts, o.created_at,"
        " coalesce(o.delivered_at, 0), o.next_attempt_at, coalesce(o.replayed_at, 0),"
        " coalesce(o.last_http_status, 0), o.last_error, o.locations, b.bundle, o.response"
        " FROM outbox o LEFT JOIN outbox_bundles b ON b.outbox_id = o.id AND ?2"
        " WHERE o.message_id = ?1 ORDER BY o.id";
    const char *history = "SELECT at, outcome, coalesce(http_status, 0), error, locations, engine"
                          " FROM attempts WHERE outbox_id = ?1 ORDER BY id";
    if (sqlite3_prepare_v2(s->db, rows, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, history, -1, &at, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int(st, 2, content);
    struct strbuf bundle, response;
    strbuf_init(&bundle, (size_t)1 << 30);
    strbuf_init(&response, (size_t)1 << 30);
    struct store_attempt *h = NULL;
    size_t cap = 0;
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        struct store_delivery d = {.id = id,
                                   .destination = col_text(st, 1),
                                   .status = col_text(st, 2),
                                   .attempts = (uint32_t)sqlite3_column_int64(st, 3),
                                   .created_at_ms = sqlite3_column_int64(st, 4),
                                   .delivered_at_ms = sqlite3_column_int64(st, 5),
                                   .next_attempt_ms = sqlite3_column_int64(st, 6),
                                   .replayed_at_ms = sqlite3_column_int64(st, 7),
                                   .last_http_status = sqlite3_column_int(st, 8),
                                   .last_error = col_text(st, 9),
                                   .locations = col_text(st, 10)};
        if (content) {
            bad = col_opened(s, st, 11, "outbox_bundles.bundle", id, &bundle) != 0 ||
                  (sqlite3_column_type(st, 12) != SQLITE_NULL &&
                   col_opened(s, st, 12, "outbox.response", id, &response) != 0);
            d.bundle = bundle.p ? bundle.p : "", d.bundle_len = bundle.len;
            d.response =
                sqlite3_column_type(st, 12) != SQLITE_NULL && response.p ? response.p : NULL;
            d.response_len = d.response ? response.len : 0;
        }
        sqlite3_reset(at);
        sqlite3_bind_int64(at, 1, id);
        size_t n = 0;
        while (!bad && (rc = sqlite3_step(at)) == SQLITE_ROW) {
            if (n == cap && !(h = realloc(h, (cap = cap ? 2 * cap : 8) * sizeof *h)))
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
            /* copied: a step of at ends the text of the one before, fn sees them all */
            h[n++] = (struct store_attempt){sqlite3_column_int64(at, 0), copy(col_text(at, 1)),
                                            sqlite3_column_int(at, 2),   copy(col_text(at, 3)),
                                            copy(col_text(at, 4)),       copy(col_text(at, 5))};
        }
        bad = bad || rc != SQLITE_DONE;
        d.history = h, d.nhistory = n;
        if (!bad)
            fn(arg, &d);
        for (size_t k = 0; k < n; k++) {
            free((char *)h[k].outcome);
            free((char *)h[k].error);
            free((char *)h[k].locations);
            free((char *)h[k].engine);
        }
    }
    bad = bad || rc != SQLITE_DONE;
    free(h);
    strbuf_cleanup(&bundle);
    strbuf_cleanup(&response);
    sqlite3_finalize(st);
    sqlite3_finalize(at);
    return bad ? -1 : 0;
}

static int sq_audit_add(struct store *base, const struct store_audit *a, char *err, size_t errlen)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO audit (at, who, via, message_id, what)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "writing the audit", err, errlen);
    sqlite3_bind_int64(st, 1, a->at_ms);
    sqlite3_bind_text(st, 2, a->who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->via, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->message_id);
    sqlite3_bind_text(st, 5, a->what, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, "writing the audit", err, errlen);
    sqlite3_finalize(st);
    return rc; /* autocommit, synchronous = FULL: on disk before the content goes out */
}

static int sq_audit_list(struct store *base, int64_t since_ms, size_t limit,
                         void (*fn)(void *arg, const struct store_audit *a), void *arg)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, at, who, via, message_id, what FROM audit WHERE at >= ?1"
                           " ORDER BY id DESC LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : 1000);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_audit a = {.id = sqlite3_column_int64(st, 0),
                                .at_ms = sqlite3_column_int64(st, 1),
                                .who = col_text(st, 2),
                                .via = col_text(st, 3),
                                .message_id = sqlite3_column_int64(st, 4),
                                .what = col_text(st, 5)};
        fn(arg, &a);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static const struct store_ops sqlite_ops = {
    .kind = "sqlite",
    .close = sq_close,
    .attach_engine = sq_attach_engine,
    .backup = sq_backup,
    .rekey = sq_rekey,
    .commit = sq_commit,
    .find_duplicate = sq_find_duplicate,
    .list = sq_list,
    .ledger = sq_ledger,
    .stats = sq_stats,
    .is_idle = sq_is_idle,
    .synchronous = sq_synchronous,
    .schema_version = sq_schema_version,
    .claim = sq_claim,
    .record = sq_record,
    .renew = sq_renew,
    .release = sq_release,
    .retry_now = sq_retry_now,
    .delivery_status = sq_delivery_status,
    .queue_gauges = sq_queue_gauges,
    .dead_list = sq_dead_list,
    .message_get = sq_message_get,
    .enqueue = sq_enqueue,
    .purge = sq_purge,
    .floor = sq_floor,
    .deliveries = sq_deliveries,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
};
