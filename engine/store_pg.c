/*
 * store_pg — the shared store: a PostgreSQL database several engines use at once (libpq,
 * parameterised statements only, on the store thread: the loop never waits on it).
 *
 * What sharing needs, beyond what store_sqlite does:
 * - Duplicates are found across engines by a unique index (sender, facility, control id,
 *   content hash) over the first copies; a copy another engine committed meanwhile turns the
 *   insert into a duplicate of it, answered with its ACK.
 * - Each patient queue has one head (outbox_heads); every transaction that adds to or
 *   advances a queue first locks its head row, in key order, so a row queued by one engine
 *   while another delivers the head is never left headless.
 * - A claim takes heads with FOR UPDATE SKIP LOCKED and leases them (owner, until, a new
 *   generation); a result is recorded only under the generation it was claimed with, so an
 *   engine whose lease ran out and was taken over cannot complete the row (fencing).
 * - Migrations run under a session advisory lock, so engines starting together do not race.
 * - A COMMIT whose answer is lost (the connection dropped) is resolved by looking for the
 *   batch's token once reconnected: all of the batch is there, or none of it.
 * - Deadlocks and serialization failures are retried; a lost connection is reconnected with
 *   backoff, and what was not committed gets no positive ACK.
 * - Round trips are what cost: an intake batch, a claim and a batch of results are one each
 *   (prepared statements; libpq's pipeline mode for the transactions).
 * With a keyring, values are sealed as in store_sqlite (engine/crypt.h).
 */
#include "engine/store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/auth.h"
#include "engine/conf.h"
#include "engine/crypt.h"
#include "engine/log.h"

#define MIGRATION_LOCK 0x736f6c656e74LL /* "solent": the session lock migrations run under */
#define RETRIES        5                /* a transaction that deadlocked, tried again */
#define OUTBOX_MAX     16               /* outbox rows one message's insert takes along */
#define ARGS_MAX       (21 + 5 * OUTBOX_MAX)
/* intake's statements, prepared once per connection: an insert per outbox row count, then */
enum {
    PREP_LOCK = OUTBOX_MAX + 1,
    PREP_IDS,
    PREP_FIND,
    PREP_CLAIM,
    PREP_RECORD,
    PREP_LOCK_IDS,
    PREP_RENEW,
    PREPARED
};

struct pg {
    struct store base; /* first: the interface's handle is this */
    PGconn *db;
    char conninfo[CONF_TEXT];
    char password[AUTH_SECRET_MAX];
    char engine[CONF_NAME];
    int64_t reconnect_at_ms, backoff_ms; /* after a lost connection: when to try again */
    int64_t vacuumed_at_ms;              /* the queue heads' last vacuum (pg_claim) */
    unsigned long long batches;          /* commit tokens: engine, process, batch */
    struct store_stats stats;
    bool sealed;
    struct crypt *c;
    struct strbuf work;        /* a sealed value being written */
    struct strbuf *first_acks; /* commit: the ACKs of copies another engine committed */
    size_t nfirst_acks;
    char *insert_sql[OUTBOX_MAX + 1];    /* a message with n outbox rows: made once per n */
    bool prepared[PREPARED];             /* on this connection (made again after a reconnect) */
    struct strbuf seals[1 + OUTBOX_MAX]; /* one message's sealed raw and bundles */
};

static const struct store_ops pg_ops;

/* Migration n brings the schema from version n - 1 to n. Append, never edit. Version 1 is
 * store_sqlite's 6, plus what several engines need: who committed a message (engine, the
 * batch's token), who holds a lease (owner, generation), and the engines themselves. */
static const char *const migrations[] = {
    "CREATE TABLE messages ("
    " id BIGSERIAL PRIMARY KEY,"
    " received_at BIGINT NOT NULL,"
    " listener TEXT NOT NULL,"
    " sending_app TEXT NOT NULL,"
    " sending_facility TEXT NOT NULL,"
    " control_id TEXT NOT NULL,"
    " message_type TEXT NOT NULL,"
    " content_hash BYTEA NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN"
    "   ('accepted', 'error', 'rejected', 'duplicate', 'parked')),"
    " error_code INTEGER NOT NULL DEFAULT 0,"
    " error_location TEXT NOT NULL DEFAULT '',"
    " raw BYTEA NOT NULL,"
    " ack BYTEA,"
    " outbox_rows INTEGER NOT NULL DEFAULT 0,"
    " warnings INTEGER NOT NULL DEFAULT 0,"
    " unmapped INTEGER NOT NULL DEFAULT 0,"
    " ledger TEXT NOT NULL DEFAULT '',"
    " peer TEXT NOT NULL DEFAULT '',"
    " engine TEXT NOT NULL DEFAULT '',"
    " commit_token TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX messages_sender ON messages (sending_app, sending_facility, control_id);"
    "CREATE UNIQUE INDEX messages_first ON messages"
    " (sending_app, sending_facility, control_id, content_hash) WHERE status <> 'duplicate';"
    "CREATE INDEX messages_token ON messages (commit_token);"
    "CREATE TABLE outbox ("
    " id BIGSERIAL PRIMARY KEY,"
    " message_id BIGINT NOT NULL REFERENCES messages (id),"
    " destination TEXT NOT NULL,"
    " ordering_key TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
    "   ('pending', 'delivered', 'retry', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at BIGINT NOT NULL DEFAULT 0,"
    " last_http_status INTEGER,"
    " lease_until BIGINT,"
    " lease_owner TEXT,"
    " lease_gen BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL,"
    " delivered_at BIGINT,"
    " last_error TEXT,"
    " response BYTEA,"
    " locations TEXT,"
    " replayed_at BIGINT,"
    " entries INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outbox_key_queue ON outbox (ordering_key, id)"
    " WHERE status IN ('pending', 'retry');"
    "CREATE INDEX outbox_dead ON outbox (destination) WHERE status = 'dead'"
    " AND replayed_at IS NULL;"
    "CREATE TABLE outbox_bundles (outbox_id BIGINT PRIMARY KEY, bundle BYTEA NOT NULL);"
    "CREATE TABLE outbox_heads (ordering_key TEXT PRIMARY KEY, outbox_id BIGINT NOT NULL,"
    " destination TEXT NOT NULL);"
    "CREATE INDEX outbox_heads_due ON outbox_heads (destination, outbox_id);"
    "CREATE TABLE store_keys (id INTEGER PRIMARY KEY, check_value BYTEA NOT NULL);"
    "CREATE TABLE engines (name TEXT PRIMARY KEY, started_at BIGINT NOT NULL);",
    /* 2: bundles and raw messages compressed with lz4, not pglz: a fraction of the CPU per
     * commit (they are TOASTed past 2 KB) */
    "ALTER TABLE outbox_bundles ALTER COLUMN bundle SET COMPRESSION lz4;"
    "ALTER TABLE messages ALTER COLUMN raw SET COMPRESSION lz4;",
    /* 3: the console (issue 16), as store_sqlite's 8: the route each message took, every
     * delivery attempt, the audit of content reads */
    "ALTER TABLE messages ADD COLUMN route TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE attempts (id BIGSERIAL PRIMARY KEY, outbox_id BIGINT NOT NULL,"
    " at BIGINT NOT NULL, outcome TEXT NOT NULL, http_status INTEGER, error TEXT,"
    " locations TEXT, engine TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX attempts_outbox ON attempts (outbox_id);"
    "CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, who TEXT NOT NULL,"
    " via TEXT NOT NULL, message_id BIGINT NOT NULL, what TEXT NOT NULL);",
};

/* ---- statements ---- */

/* The parameters of one statement: text, or binary for bytes. */
struct args {
    int n;
    const char *v[ARGS_MAX];
    int len[ARGS_MAX], fmt[ARGS_MAX];
    char num[ARGS_MAX][24];
};

static void a_text(struct args *a, const char *s)
{
    a->v[a->n] = s ? s : "", a->len[a->n] = 0, a->fmt[a->n++] = 0;
}

static void a_null(struct args *a)
{
    a->v[a->n] = NULL, a->len[a->n] = 0, a->fmt[a->n++] = 0;
}

static void a_i64(struct args *a, int64_t x)
{
    snprintf(a->num[a->n], sizeof a->num[0], "%lld", (long long)x);
    a_text(a, a->num[a->n]);
}

static void a_bytes(struct args *a, const void *p, size_t n)
{
    a->v[a->n] = p ? p : "", a->len[a->n] = (int)n, a->fmt[a->n++] = 1;
}

static PGresult *run(struct pg *p, const char *sql, const struct args *a)
{
    if (!a) /* no parameters: several statements may go in one (migrations) */
        return PQexec(p->db, sql);
    return PQexecParams(p->db, sql, a ? a->n : 0, NULL, a ? a->v : NULL, a ? a->len : NULL,
                        a ? a->fmt : NULL, 0);
}

static bool ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static int ready(struct pg *p, char *err, size_t errlen);

/* A read: sql with a (NULL: none) once the connection is there; its rows (the caller clears
 * them), NULL when the connection is not there or the query failed. */
static PGresult *query(struct pg *p, const char *sql, const struct args *a)
{
    char err[256];
    if (ready(p, err, sizeof err) != 0)
        return NULL;
    PGresult *r = run(p, sql, a);
    if (!ok(r)) {
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Deadlock or serialization failure: the transaction may be tried again. */
static bool retryable(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* Why r (or the connection) failed, into err: the server's primary message and SQLSTATE —
 * never its DETAIL, which can quote the values of a row. -1. */
static int fail(struct pg *p, const PGresult *r, const char *what, char *err, size_t errlen)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!msg) {
        msg = PQerrorMessage(p->db);
        state = "connection";
    }
    char line[256];
    snprintf(line, sizeof line, "%s", msg ? msg : "unknown error");
    line[strcspn(line, "\n")] = '\0';
    if (err && errlen)
        snprintf(err, errlen, "store: %s: %s (%s)", what, line, state ? state : "?");
    return -1;
}

/* Runs sql (no result wanted): 0, or -1 with the reason. */
static int exec(struct pg *p, const char *sql, const struct args *a, const char *what, char *err,
                size_t errlen)
{
    PGresult *r = run(p, sql, a);
    int rc = ok(r) ? 0 : fail(p, r, what, err, errlen);
    PQclear(r);
    return rc;
}

/* The name of statement slot, prepared with sql on this connection if it is not yet; NULL
 * when it cannot be (outside a pipeline: preparing waits for its answer). */
static const char *prepared(struct pg *p, int slot, const char *sql)
{
    static const char *const names[PREPARED] = {
        "solent0",      "solent1",       "solent2",         "solent3",     "solent4",
        "solent5",      "solent6",       "solent7",         "solent8",     "solent9",
        "solent10",     "solent11",      "solent12",        "solent13",    "solent14",
        "solent15",     "solent16",      "solent_lock",     "solent_ids",  "solent_find",
        "solent_claim", "solent_record", "solent_lock_ids", "solent_renew"};
    if (!p->prepared[slot]) {
        PGresult *r = PQprepare(p->db, names[slot], sql, 0, NULL);
        p->prepared[slot] = ok(r);
        PQclear(r);
    }
    return p->prepared[slot] ? names[slot] : NULL;
}

/* Runs prepared statement slot (sql) with a. */
static PGresult *run_prepared(struct pg *p, int slot, const char *sql, const struct args *a)
{
    const char *name = prepared(p, slot, sql);
    return name ? PQexecPrepared(p->db, name, a->n, a->v, a->len, a->fmt, 0) : run(p, sql, a);
}

static int64_t i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A bytea column (text format) appended to out; -1 when it does not decode. */
static int bytes(const PGresult *r, int row, int col, struct strbuf *out)
{
    size_t n;
    unsigned char *v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    if (!v)
        return -1;
    int rc = strbuf_append(out, (const char *)v, n);
    PQfreemem(v);
    return rc;
}

static void rollback(struct pg *p)
{
    PQclear(PQexec(p->db, "ROLLBACK"));
}

/* ---- the connection ---- */

/* The server's notices (NOTICE: relation ... already exists) are not the engine's log. */
static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static int connect_db(struct pg *p, char *err, size_t errlen)
{
    /* pg_stat_activity names the engine holding each connection: solent/NAME */
    char app[CONF_NAME + 8];
    snprintf(app, sizeof app, "solent%s%s", p->engine[0] ? "/" : "", p->engine);
    const char *keys[] = {"dbname", "application_name", "connect_timeout", "password", NULL};
    const char *vals[] = {p->conninfo, app, "10", p->password[0] ? p->password : NULL, NULL};
    if (p->db)
        PQfinish(p->db);
    p->db = PQconnectdbParams(keys, vals, 1); /* dbname expands the dsn */
    if (PQstatus(p->db) != CONNECTION_OK) {
        /* not there (yet): tried again; there and saying no (a password, no such database):
         * not, unless it is only starting or stopping */
        const char *m = PQerrorMessage(p->db);
        bool answered = strstr(m, "FATAL") && !strstr(m, "starting up") &&
                        !strstr(m, "shutting down") && !strstr(m, "recovery");
        return fail(p, NULL, answered ? "connecting" : STORE_UNREACHABLE, err, errlen);
    }
    PQsetNoticeProcessor(p->db, quiet, NULL);
    memset(p->prepared, 0, sizeof p->prepared);
    /* a new connection has none */ /* what is not intake (leases, outcomes, the engines' names)
                                     * does not wait for the WAL's flush: lost to a crash, a
                                     * bundle is sent again — an idempotent update; intake's
                                     * batches and replays set it on for themselves
                                     * (pipeline_tx) */
    PQclear(PQexec(p->db, "SET synchronous_commit = off"));
    return 0;
}

/* Before each operation: the connection, made again after it was lost (at most once per
 * backoff, 0.5 s doubling to 5 s). -1 with the reason while it cannot be. */
static int ready(struct pg *p, char *err, size_t errlen)
{
    if (p->db && PQstatus(p->db) == CONNECTION_OK)
        return 0;
    int64_t now = store_now_ms();
    if (now < p->reconnect_at_ms) {
        snprintf(err, errlen, "store: the database connection is down (next try in %lld ms)",
                 (long long)(p->reconnect_at_ms - now));
        return -1;
    }
    if (connect_db(p, err, errlen) != 0) {
        p->backoff_ms = p->backoff_ms ? (p->backoff_ms * 2 > 5000 ? 5000 : p->backoff_ms * 2) : 500;
        p->reconnect_at_ms = now + p->backoff_ms;
        log_warn("store_reconnect_failed", "next_in_ms=%lld", (long long)p->backoff_ms);
        return -1;
    }
    p->backoff_ms = 0;
    log_info("store_reconnected", "kind=%s", "postgres");
    return 0;
}

/* ---- sealing (as store_sqlite) ---- */

/* Value v (n bytes) of column for row as the next parameter: sealed into buf with the row
 * and column as associated data when the store has keys, as is otherwise. */
static int add_sealed_into(struct pg *p, struct args *a, struct strbuf *buf, const char *column,
                           int64_t row, const void *v, size_t n)
{
    if (!p->sealed) {
        a_bytes(a, v, n);
        return 0;
    }
    char aad[64];
    snprintf(aad, sizeof aad, "%s:%lld", column, (long long)row);
    strbuf_reset(buf);
    if (crypt_seal(p->c, aad, v ? v : "", n, buf) != 0)
        return -1;
    a_bytes(a, buf->p, buf->len);
    return 0;
}

static int add_sealed(struct pg *p, struct args *a, const char *column, int64_t row, const void *v,
                      size_t n)
{
    return add_sealed_into(p, a, &p->work, column, row, v, n);
}

/* Column col of r (a sealed value when the store has keys) opened into out. -1 when it does
 * not open. */
static int open_column(struct pg *p, const PGresult *r, int row, int col, const char *column,
                       int64_t id, struct strbuf *out)
{
    if (!p->sealed)
        return bytes(r, row, col, out);
    struct strbuf raw;
    strbuf_init(&raw, (size_t)1 << 31);
    char aad[64];
    snprintf(aad, sizeof aad, "%s:%lld", column, (long long)id);
    int rc = bytes(r, row, col, &raw) != 0 ||
                     crypt_open(p->c, aad, raw.p ? raw.p : "", raw.len, out) != 0
                 ? -1
                 : 0;
    strbuf_cleanup(&raw);
    return rc;
}

static const char *stored_key(const struct pg *p, const char *key, char *out, size_t n)
{
    if (!p->sealed)
        return key;
    char hex[65];
    crypt_hash_hex(p->c, key, strlen(key), hex);
    snprintf(out, n, "k:%s", hex);
    return out;
}

static void stored_hash(const struct pg *p, const unsigned char in[STORE_HASH_LEN],
                        unsigned char out[STORE_HASH_LEN])
{
    if (p->sealed)
        crypt_hash(p->c, in, STORE_HASH_LEN, out);
    else
        memcpy(out, in, STORE_HASH_LEN);
}

/* ---- opening ---- */

static int pg_schema_version(struct store *base)
{
    struct pg *p = (struct pg *)base;
    PGresult *r = PQexec(p->db, "SELECT coalesce(max(version), 0) FROM solent_migrations");
    int v = ok(r) ? (int)i64(r, 0, 0) : -1;
    PQclear(r);
    return v;
}

/* The migrations this database has not seen, under a session lock: an engine starting
 * meanwhile waits, then finds them applied. */
static int migrate(struct pg *p, char *err, size_t errlen)
{
    struct args a = {0};
    a_i64(&a, MIGRATION_LOCK);
    if (exec(p, "SELECT pg_advisory_lock($1)", &a, "locking the schema", err, errlen) != 0)
        return -1;
    int rc = exec(p, "CREATE TABLE IF NOT EXISTS solent_migrations (version INTEGER PRIMARY KEY)",
                  NULL, "creating the schema table", err, errlen);
    int have = rc == 0 ? pg_schema_version(&p->base) : -1;
    int want = (int)(sizeof migrations / sizeof migrations[0]);
    if (rc == 0 && have < 0)
        rc = fail(p, NULL, "reading the schema version", err, errlen);
    if (rc == 0 && have > want) {
        snprintf(err, errlen, "store: schema version %d is newer than this solent (%d)", have,
                 want);
        rc = -1;
    }
    for (int v = have; rc == 0 && v < want; v++) {
        struct args b = {0};
        a_i64(&b, v + 1);
        rc = exec(p, "BEGIN", NULL, "migrating", err, errlen) ||
             exec(p, migrations[v], NULL, "migrating", err, errlen) ||
             exec(p, "INSERT INTO solent_migrations (version) VALUES ($1)", &b, "migrating", err,
                  errlen) ||
             exec(p, "COMMIT", NULL, "migrating", err, errlen);
        if (rc != 0)
            rollback(p);
        else
            log_info("store_migrated", "kind=postgres version=%d", v + 1);
    }
    exec(p, "SELECT pg_advisory_unlock($1)", &a, "unlocking the schema", NULL, 0);
    return rc;
}

#define KEY_CHECK "solent key check v1"

/* As store_sqlite's: every key that sealed values must be in the keyring and open its check
 * value; without a keyring a store with keys is refused. */
static int check_keys(struct pg *p, char *err, size_t errlen)
{
    PGresult *r = PQexec(p->db, "SELECT id, check_value FROM store_keys ORDER BY id");
    if (!ok(r)) {
        fail(p, r, "reading the store's keys", err, errlen);
        PQclear(r);
        return -1;
    }
    bool newest_known = false;
    int bad = 0;
    struct strbuf out;
    strbuf_init(&out, 256);
    for (int i = 0; !bad && i < PQntuples(r); i++) {
        unsigned id = (unsigned)i64(r, i, 0);
        strbuf_reset(&out);
        if (!p->sealed) {
            snprintf(err, errlen,
                     "store: its values are encrypted (key %u): [store] encryption_key is needed",
                     id);
            bad = 1;
        } else if (open_column(p, r, i, 1, "store_keys", id, &out) != 0 ||
                   strbuf_append(&out, "", 0) != 0 || strcmp(out.p, KEY_CHECK) != 0) {
            snprintf(err, errlen,
                     crypt_has_key(p->c, id) ? "store: key %u in the key file is not the key "
                                               "that sealed this store's values"
                                             : "store: key %u sealed values in this store and "
                                               "is not in the key file",
                     id);
            bad = 1;
        }
        newest_known = newest_known || (p->sealed && id == crypt_newest(p->c));
    }
    PQclear(r);
    strbuf_cleanup(&out);
    if (bad)
        return -1;
    if (p->sealed && !newest_known) {
        struct args a = {0};
        unsigned id = crypt_newest(p->c);
        a_i64(&a, id);
        if (add_sealed(p, &a, "store_keys", id, KEY_CHECK, strlen(KEY_CHECK)) != 0 ||
            exec(p,
                 "INSERT INTO store_keys (id, check_value) VALUES ($1, $2)"
                 " ON CONFLICT (id) DO NOTHING",
                 &a, "recording the key", err, errlen) != 0)
            return -1;
    }
    return 0;
}

static void pg_close(struct store *base)
{
    struct pg *p = (struct pg *)base;
    if (!p)
        return;
    PQfinish(p->db);
    crypt_free(p->c);
    strbuf_cleanup(&p->work);
    for (size_t i = 0; i < p->nfirst_acks; i++)
        strbuf_cleanup(&p->first_acks[i]);
    for (size_t i = 0; i <= OUTBOX_MAX; i++)
        free(p->insert_sql[i]);
    for (size_t i = 0; i < 1 + OUTBOX_MAX; i++)
        strbuf_cleanup(&p->seals[i]);
    free(p->first_acks);
    memset(p->password, 0, sizeof p->password);
    free(p);
}

struct store *store_pg_open(const struct conf_store *cs, const struct keyring *kr, char *err,
                            size_t errlen)
{
    struct pg *p = calloc(1, sizeof *p);
    if (!p)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    p->base.ops = &pg_ops;
    err[0] = '\0';
    strbuf_init(&p->work, (size_t)1 << 31);
    for (size_t i = 0; i < 1 + OUTBOX_MAX; i++)
        strbuf_init(&p->seals[i], (size_t)1 << 31);
    snprintf(p->conninfo, sizeof p->conninfo, "%s", cs->dsn);
    snprintf(p->engine, sizeof p->engine, "%s", "solent");
    char why[CONF_TEXT + 64];
    if (cs->password[0] &&
        auth_read_secret(cs->password, p->password, sizeof p->password, why, sizeof why) != 0) {
        snprintf(err, errlen, "[store] password: %s", why);
        pg_close(&p->base);
        return NULL;
    }
    p->sealed = kr != NULL;
    if ((kr && !(p->c = crypt_new(kr))) || connect_db(p, err, errlen) != 0 ||
        migrate(p, err, errlen) != 0 || check_keys(p, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "store: cannot make the encryption contexts");
        pg_close(&p->base);
        return NULL;
    }
    return &p->base;
}

static int pg_attach_engine(struct store *base, const char *engine, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    snprintf(p->engine, sizeof p->engine, "%s", engine);
    char app[CONF_NAME + 8];
    snprintf(app, sizeof app, "solent/%s", engine);
    struct args named = {0}, a = {0};
    a_text(&named, app);
    a_text(&a, engine);
    a_i64(&a, store_now_ms());
    return exec(p, "SELECT set_config('application_name', $1, false)", &named,
                "naming the connection", err, errlen) != 0
               ? -1
               : exec(p,
                      "INSERT INTO engines (name, started_at) VALUES ($1, $2)"
                      " ON CONFLICT (name) DO UPDATE SET started_at = $2",
                      &a, "recording the engine", err, errlen);
}

/* ---- transactions in one round trip ---- */

/* One statement of a pipelined transaction: prepared (name) or not (sql), with a. */
struct stmt {
    const char *name, *sql;
    struct args a;
};

/* Fills statement i of a transaction (built as it is sent: buffers may be reused); -1 when
 * it cannot be (err said why). */
typedef int (*stmt_fn)(struct pg *p, void *ctx, size_t i, struct stmt *s, char *err, size_t errlen);

/* BEGIN, n statements and COMMIT sent as one libpq pipeline (one round trip), durable (the
 * WAL flushed before COMMIT answers) or not (delivery's bookkeeping: lost to a crash, a
 * bundle is sent again — an idempotent update). out[i]: statement i's result, the caller's
 * to clear. 0 committed; -1 not (nothing of it applied; *again when a deadlock or a
 * serialization failure may pass on another try); -2 when the connection went before the
 * COMMIT's answer came: whether it took is unknown. */
static int pipeline_tx(struct pg *p, size_t n, stmt_fn build, void *ctx, bool durable,
                       PGresult **out, bool *again, char *err, size_t errlen)
{
    *again = false;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (PQenterPipelineMode(p->db) != 1)
        return fail(p, NULL, "entering pipeline mode", err, errlen);
    static const char *const begin[] = {"BEGIN", "SET LOCAL synchronous_commit = on"};
    bool sent = true;
    for (size_t k = 0; k < (durable ? 2u : 1u) && sent; k++)
        sent = PQsendQueryParams(p->db, begin[k], 0, NULL, NULL, NULL, NULL, 0) == 1;
    size_t head = durable ? 2 : 1; /* the answers before the statements' */
    struct stmt *s = malloc(sizeof *s);
    if (!s)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    for (size_t i = 0; sent && i < n; i++) {
        memset(s, 0, sizeof *s);
        if (build(p, ctx, i, s, err, errlen) != 0) {
            sent = false;
            break;
        }
        sent = (s->name ? PQsendQueryPrepared(p->db, s->name, s->a.n, s->a.v, s->a.len, s->a.fmt, 0)
                        : PQsendQueryParams(p->db, s->sql, s->a.n, NULL, s->a.v, s->a.len, s->a.fmt,
                                            0)) == 1;
    }
    free(s);
    sent = sent && PQsendQueryParams(p->db, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1;
    sent = PQpipelineSync(p->db) == 1 && sent;
    /* the answers in order, each query's ended by a NULL; then the sync */
    int rc = sent ? 0 : -1;
    size_t query = 0;
    bool committed_ok = false, synced = false;
    while (!synced) {
        PGresult *r = PQgetResult(p->db);
        if (!r) {
            if (PQstatus(p->db) != CONNECTION_OK)
                break;
            query++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            synced = true;
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (rc == 0) {
                *again = retryable(r);
                fail(p, st == PGRES_PIPELINE_ABORTED ? NULL : r, "a transaction", err, errlen);
            }
            rc = -1;
        } else if (query >= head && query < head + n) {
            out[query - head] = r;
            continue; /* kept */
        } else if (query == head + n) {
            committed_ok = true;
        }
        PQclear(r);
    }
    if (!synced) /* the connection went: whether the COMMIT took is unknown */
        return -2;
    PQexitPipelineMode(p->db);
    if (rc == 0 && committed_ok)
        return 0;
    rollback(p);
    for (size_t i = 0; i < n; i++) {
        PQclear(out[i]);
        out[i] = NULL;
    }
    return -1;
}

/* ---- intake ---- */

/* Every transaction that adds to a patient queue or advances its head first locks the
 * queue's head row (those that exist), all in one order (the key): a record computes the
 * next row only once an intake that adds one has committed, so a queue is never left without
 * a head; and two transactions lock in the same order, so they do not deadlock. (Advisory
 * locks did the same, at ten times the cost: measured 3 ms a record batch.) */
#define LOCK_KEYS_SQL                                                                              \
    "SELECT count(*) FROM (SELECT 1 FROM outbox_heads WHERE ordering_key = ANY("                   \
    "string_to_array($1, E'\\n')) ORDER BY ordering_key FOR UPDATE) s"

static int lock_queues(struct pg *p, const char *keys, PGresult **res)
{
    struct args a = {0};
    a_text(&a, keys);
    *res = run(p, LOCK_KEYS_SQL, &a);
    return ok(*res) ? 0 : -1;
}

static int insert_outbox(struct pg *p, int64_t message_id, const struct store_outbox *o,
                         int64_t created_at_ms, PGresult **res)
{
    char hashed[72];
    struct args a = {0};
    int64_t id = 0;
    if (p->sealed) { /* the bundle's associated data is its row's id: taken first */
        *res = PQexec(p->db, "SELECT nextval(pg_get_serial_sequence('outbox', 'id'))");
        if (!ok(*res))
            return -1;
        id = i64(*res, 0, 0);
        PQclear(*res);
        *res = NULL;
    }
    a_i64(&a, message_id);
    a_text(&a, o->destination);
    a_text(&a, stored_key(p, o->ordering_key, hashed, sizeof hashed));
    a_i64(&a, created_at_ms);
    a_i64(&a, (int64_t)o->entries);
    if (p->sealed)
        a_i64(&a, id);
    else
        a_null(&a);
    if (add_sealed(p, &a, "outbox_bundles.bundle", id, o->bundle, o->bundle_len) != 0)
        return -1;
    *res = run(p,
               "WITH o AS (INSERT INTO outbox (message_id, destination, ordering_key, created_at,"
               " entries, id) VALUES ($1, $2, $3, $4, $5,"
               " coalesce($6::bigint, nextval(pg_get_serial_sequence('outbox', 'id'))))"
               " RETURNING id, ordering_key, destination),"
               " b AS (INSERT INTO outbox_bundles (outbox_id, bundle) SELECT id, $7 FROM o)"
               " INSERT INTO outbox_heads (ordering_key, outbox_id, destination)"
               " SELECT ordering_key, id, destination FROM o ON CONFLICT (ordering_key) DO NOTHING",
               &a);
    return ok(*res) ? 0 : -1;
}

/* The statement that inserts a message and its n outbox rows, their bundles and their queue
 * heads — at ids taken beforehand (a sealed store: they are the values' associated data), or
 * the sequences' next (parameters NULL). It answers the message's id, NULL when the same
 * message (sender, control id, content) is there already, committed by another engine; and
 * whether another message has the same sender and control id with other content. */
static const char *insert_sql(struct pg *p, size_t n)
{
    if (p->insert_sql[n])
        return p->insert_sql[n];
    struct strbuf q;
    strbuf_init(&q, 1 << 20);
    strbuf_puts(&q,
                "WITH m AS (INSERT INTO messages (id, received_at, listener, sending_app,"
                " sending_facility, control_id, message_type, content_hash, status,"
                " error_code, error_location, ack, outbox_rows, warnings, unmapped, ledger,"
                " peer, engine, commit_token, raw, route) VALUES"
                " (coalesce($1::bigint, nextval('messages_id_seq')), $2, $3, $4, $5, $6, $7, $8,"
                " $9, $10, $11, $12, $13, $14, $15, convert_from($16, 'UTF8'), $17, $18,"
                " $19, $20, $21) ON CONFLICT DO NOTHING RETURNING id)");
    if (n) {
        strbuf_puts(&q, ", x (id, destination, ordering_key, entries, bundle) AS (VALUES ");
        for (size_t k = 0; k < n; k++) {
            char row[160];
            int b = 22 + 5 * (int)k;
            snprintf(row, sizeof row,
                     "%s(coalesce($%d::bigint, nextval('outbox_id_seq')), $%d::text, $%d::text,"
                     " $%d::int, $%d::bytea)",
                     k ? ", " : "", b, b + 1, b + 2, b + 3, b + 4);
            strbuf_puts(&q, row);
        }
        strbuf_puts(&q, "), o AS (INSERT INTO outbox (id, message_id, destination, ordering_key,"
                        " created_at, entries) SELECT x.id, m.id, x.destination, x.ordering_key,"
                        " $2, x.entries FROM m, x RETURNING id, ordering_key, destination),"
                        " b AS (INSERT INTO outbox_bundles (outbox_id, bundle) SELECT x.id,"
                        " x.bundle FROM m, x),"
                        " h AS (INSERT INTO outbox_heads (ordering_key, outbox_id, destination)"
                        " SELECT ordering_key, id, destination FROM o"
                        " ON CONFLICT (ordering_key) DO NOTHING)");
    }
    strbuf_puts(&q, " SELECT (SELECT id FROM m), EXISTS (SELECT 1 FROM messages WHERE"
                    " sending_app = $4 AND sending_facility = $5 AND control_id = $6"
                    " AND content_hash <> $8 AND status <> 'duplicate')");
    return p->insert_sql[n] = strbuf_take(&q, NULL);
}

/* The parameters of message m (at id, its outbox rows at oids), tagged with token; keys: room
 * for its rows' ordering keys as stored. */
static int message_args(struct pg *p, const struct store_message *m, int64_t id,
                        const int64_t *oids, const unsigned char *hash, const char *token,
                        char (*keys)[72], struct args *a)
{
    a->n = 0;
    if (id)
        a_i64(a, id);
    else
        a_null(a);
    a_i64(a, m->received_at_ms);
    a_text(a, m->listener);
    a_text(a, m->sending_app);
    a_text(a, m->sending_facility);
    a_text(a, m->control_id);
    a_text(a, m->message_type);
    a_bytes(a, hash, STORE_HASH_LEN);
    a_text(a, store_status_name(m->status));
    a_i64(a, m->error_code);
    a_text(a, m->error_location);
    if (m->ack)
        a_bytes(a, m->ack, m->ack_len);
    else
        a_null(a);
    a_i64(a, (int64_t)m->noutbox);
    a_i64(a, m->warnings);
    a_i64(a, m->unmapped);
    a_bytes(a, m->ledger ? m->ledger : "", m->ledger ? m->ledger_len : 0);
    a_text(a, m->peer);
    a_text(a, p->engine);
    a_text(a, token);
    if (add_sealed_into(p, a, &p->seals[0], "messages.raw", id, m->raw, m->raw_len) != 0)
        return -1;
    a_text(a, m->route ? m->route : "");
    for (size_t k = 0; k < m->noutbox; k++) {
        const struct store_outbox *o = &m->outbox[k];
        if (oids)
            a_i64(a, oids[k]);
        else
            a_null(a);
        a_text(a, o->destination);
        a_text(a, stored_key(p, o->ordering_key, keys[k], sizeof keys[k]));
        a_i64(a, (int64_t)o->entries);
        if (add_sealed_into(p, a, &p->seals[1 + k], "outbox_bundles.bundle", oids ? oids[k] : 0,
                            o->bundle, o->bundle_len) != 0)
            return -1;
    }
    return 0;
}

/* n message ids into ids and rows outbox ids after them, in one round trip (outside any
 * transaction: sequences are not rolled back anyway). */
static int take_ids(struct pg *p, size_t n, size_t rows, int64_t *ids)
{
    struct args a = {0};
    a_i64(&a, (int64_t)n);
    a_i64(&a, (int64_t)rows);
    PGresult *r = run_prepared(
        p, PREP_IDS,
        "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)"
        " UNION ALL SELECT -nextval(pg_get_serial_sequence('outbox', 'id'))"
        " FROM generate_series(1, $2)",
        &a);
    int rc = ok(r) && (size_t)PQntuples(r) == n + rows ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n + rows; i++) { /* outbox ids came negated: apart */
        int64_t v = i64(r, (int)i, 0);
        ids[i] = v < 0 ? -v : v;
        rc = (i < n) == (v > 0) ? 0 : -1;
    }
    PQclear(r);
    return rc;
}

/* Whether the batch tagged token (the n messages msgs) is in the database: after a COMMIT
 * whose answer was lost. 1 all of it (their ids set), 0 none, -1 unknown still. */
static int committed(struct pg *p, const char *token, size_t n, struct store_message *msgs)
{
    struct args a = {0};
    a_text(&a, token);
    PGresult *r = query(p, "SELECT id FROM messages WHERE commit_token = $1 ORDER BY id", &a);
    int rc = !r ? -1 : (size_t)PQntuples(r) == n ? 1 : PQntuples(r) == 0 ? 0 : -1;
    for (size_t i = 0; rc == 1 && i < n; i++) /* ids grow in the order the batch went in */
        msgs[i].id = i64(r, (int)i, 0);
    PQclear(r);
    return rc;
}

/* Message m, found stored by another engine as the batch went in: a duplicate of it,
 * answered with its first copy's ACK, recorded as a duplicate at id after the batch (the
 * first copy is what is durable). */
static void became_duplicate(struct pg *p, struct store_message *m, int64_t id, struct strbuf *ack)
{
    unsigned char hash[STORE_HASH_LEN];
    stored_hash(p, m->hash, hash);
    struct args a = {0};
    a_text(&a, m->sending_app);
    a_text(&a, m->sending_facility);
    a_text(&a, m->control_id);
    a_bytes(&a, hash, STORE_HASH_LEN);
    PGresult *r = run(p,
                      "SELECT ack FROM messages WHERE sending_app = $1 AND sending_facility = $2"
                      " AND control_id = $3 AND content_hash = $4 AND status <> 'duplicate'",
                      &a);
    strbuf_reset(ack);
    if (ok(r) && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        bytes(r, 0, 0, ack);
    PQclear(r);
    m->status = STORE_DUPLICATE;
    m->noutbox = 0;
    m->ack = ack->p ? ack->p : "";
    m->ack_len = ack->len;
    char keys[1][72];
    if (message_args(p, m, id, NULL, hash, "", keys, &a) == 0) {
        r = run(p, insert_sql(p, 0), &a);
        m->id = ok(r) ? i64(r, 0, 0) : id;
        PQclear(r);
    }
    log_info("store_duplicate_elsewhere", "msh10=%s msh3=%s", m->control_id, m->sending_app);
}

/* An intake batch as a transaction's statements: its queues' locks (when it queues
 * anything), then one statement per message. */
struct batch {
    struct store_message *msgs;
    size_t n;
    const int64_t *ids, *oids; /* taken beforehand (a sealed store), else NULL */
    const char *token, *keys;
    size_t at;                          /* the next message's first outbox id in oids */
    char rowkeys[OUTBOX_MAX][72];       /* the statement's parameters point into these: */
    unsigned char hash[STORE_HASH_LEN]; /* they live until it is sent */
};

static int batch_stmt(struct pg *p, void *ctx, size_t i, struct stmt *s, char *err, size_t errlen)
{
    struct batch *b = ctx;
    if (b->keys[0] && i == 0) {
        s->name = prepared(p, PREP_LOCK, NULL);
        a_text(&s->a, b->keys);
        return 0;
    }
    size_t m = i - (b->keys[0] ? 1 : 0);
    stored_hash(p, b->msgs[m].hash, b->hash);
    if (message_args(p, &b->msgs[m], b->ids ? b->ids[m] : 0, b->ids ? b->oids + b->at : NULL,
                     b->hash, b->token, b->rowkeys, &s->a) != 0) {
        snprintf(err, errlen, "store: cannot seal a value");
        return -1;
    }
    b->at += b->msgs[m].noutbox;
    s->name = prepared(p, (int)b->msgs[m].noutbox, NULL);
    return 0;
}

/* One attempt at the batch, durable: as pipeline_tx; inserted[i] whether message i went in
 * (else another engine had committed it already), its id set. */
static int send_batch(struct pg *p, struct store_message *msgs, size_t n, const int64_t *ids,
                      const int64_t *oids, const char *token, const char *keys, bool *inserted,
                      bool *again, char *err, size_t errlen)
{
    struct batch b = {msgs, n, ids, oids, token, keys, 0, {{0}}, {0}};
    size_t first = keys[0] ? 1 : 0, count = first + n;
    PGresult **out = calloc(count, sizeof *out);
    if (!out)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    int rc = pipeline_tx(p, count, batch_stmt, &b, true, out, again, err, errlen);
    for (size_t i = 0; i < n && rc == 0; i++) {
        PGresult *r = out[first + i];
        inserted[i] = !PQgetisnull(r, 0, 0);
        msgs[i].id = i64(r, 0, 0);
        if (strcmp(PQgetvalue(r, 0, 1), "t") == 0 && msgs[i].status != STORE_REJECTED &&
            msgs[i].control_id[0]) /* identifiers only: the content is not logged */
            log_warn("control_id_reused", "msh10=%s msh3=%s", msgs[i].control_id,
                     msgs[i].sending_app);
    }
    for (size_t i = 0; i < count; i++)
        PQclear(out[i]);
    free(out);
    return rc;
}

static int pg_commit(struct store *base, struct store_message *msgs, size_t n, char *err,
                     size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (ready(p, err, errlen) != 0)
        return -1;
    if (p->nfirst_acks < n) {
        p->first_acks = realloc(p->first_acks, n * sizeof *p->first_acks);
        if (!p->first_acks)
            abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        for (size_t i = p->nfirst_acks; i < n; i++)
            strbuf_init(&p->first_acks[i], (size_t)1 << 20);
        p->nfirst_acks = n;
    }
    char token[CONF_NAME + 64];
    snprintf(token, sizeof token, "%s:%ld:%llu", p->engine, (long)getpid(), ++p->batches);
    struct strbuf keys;
    strbuf_init(&keys, (size_t)1 << 30);
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].noutbox > OUTBOX_MAX) {
            snprintf(err, errlen, "store: %zu outbox rows for one message (at most %d)",
                     msgs[i].noutbox, OUTBOX_MAX);
            strbuf_cleanup(&keys);
            return -1;
        }
        rows += msgs[i].noutbox;
        for (size_t k = 0; k < msgs[i].noutbox; k++) {
            char hashed[72];
            const char *key = stored_key(p, msgs[i].outbox[k].ordering_key, hashed, sizeof hashed);
            strbuf_append(&keys, "\n", keys.len ? 1 : 0);
            strbuf_append(&keys, key, strlen(key));
        }
    }
    strbuf_append(&keys, "", 0);
    int64_t *ids = calloc(n + rows + 1, sizeof *ids);
    bool *inserted = calloc(n + 1, sizeof *inserted);
    if (!ids || !inserted)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    int rc = -1; /* the statements this needs, prepared (outside the pipeline) */
    bool ready_all = prepared(p, PREP_LOCK, LOCK_KEYS_SQL) != NULL;
    for (size_t i = 0; ready_all && i < n; i++)
        ready_all = prepared(p, (int)msgs[i].noutbox, insert_sql(p, msgs[i].noutbox)) !=
                    NULL; /* a sealed store's ids first (they are its values' associated data); else
                           * the sequences give them as the rows go in */
    if (!ready_all || (p->sealed && take_ids(p, n, rows, ids) != 0)) {
        fail(p, NULL, "taking ids", err, errlen);
    } else {
        for (int attempt = 0; attempt < RETRIES; attempt++) {
            bool again = false;
            rc = send_batch(p, msgs, n, p->sealed ? ids : NULL, ids + n, token, keys.p, inserted,
                            &again, err, errlen);
            if (rc == -2) { /* the answer is lost, not necessarily the commit: look */
                int found = committed(p, token, n, msgs);
                for (size_t i = 0; i < n; i++)
                    inserted[i] = true;
                rc = found == 1 ? 0 : -1;
                log_warn("store_commit_unknown", "messages=%zu resolved=%s", n,
                         found == 1   ? "committed"
                         : found == 0 ? "not_committed"
                                      : "unknown");
                if (rc != 0 && !err[0])
                    snprintf(err, errlen, "store: the connection went during the commit");
            }
            if (rc == 0 || !again)
                break;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (p->sealed)
            msgs[i].id = ids[i];
        if (!inserted[i])
            became_duplicate(p, &msgs[i], p->sealed ? ids[i] : 0, &p->first_acks[i]);
    }
    free(ids);
    free(inserted);
    strbuf_cleanup(&keys);
    if (rc == 0) {
        p->stats.transactions++;
        p->stats.messages += n;
    }
    return rc;
}

#define FIND_SQL                                                                                   \
    "SELECT content_hash, ack FROM messages WHERE sending_app = $1 AND sending_facility = $2"      \
    " AND control_id = $3 AND status <> 'duplicate' ORDER BY id LIMIT 1"

/* What r (FIND_SQL's answer) says of a message with hash: as store_find_duplicate. */
static int judge(struct pg *p, const PGresult *r, const unsigned char *hash, struct strbuf *ack)
{
    if (!ok(r))
        return -1;
    if (PQntuples(r) == 0)
        return 0;
    unsigned char want[STORE_HASH_LEN];
    struct strbuf h;
    strbuf_init(&h, 1024);
    stored_hash(p, hash, want);
    int found;
    if (bytes(r, 0, 0, &h) != 0 || h.len != STORE_HASH_LEN ||
        memcmp(h.p, want, STORE_HASH_LEN) != 0)
        found = 2; /* the same control id with other content: a new message */
    else
        found = PQgetisnull(r, 0, 1) || bytes(r, 0, 1, ack) == 0 ? 1 : -1;
    strbuf_cleanup(&h);
    return found;
}

static int pg_find_duplicate(struct store *base, const char *app, const char *facility,
                             const char *control_id, const unsigned char hash[STORE_HASH_LEN],
                             struct strbuf *ack)
{
    struct pg *p = (struct pg *)base;
    char err[256];
    if (ready(p, err, sizeof err) != 0)
        return -1;
    struct args a = {0};
    a_text(&a, app);
    a_text(&a, facility);
    a_text(&a, control_id);
    PGresult *r = run_prepared(p, PREP_FIND, FIND_SQL, &a);
    int found = judge(p, r, hash, ack);
    PQclear(r);
    return found;
}

/* An intake batch's lookups: none here — the commit's inserts find a message stored before
 * (the unique index of first copies) and make it a duplicate then, and say when a control id
 * comes back with other content: no round trip per message before it. */
static void pg_find_duplicates(struct store *base, struct store_lookup *q, size_t n)
{
    (void)base;
    for (size_t i = 0; i < n; i++)
        q[i].rc = 0;
}

static int pg_list(struct store *base, const struct store_filter *f,
                   void (*fn)(void *arg, const struct store_row *row), void *arg)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    if (f->status)
        a_text(&a, f->status);
    else
        a_null(&a);
    if (f->type)
        a_text(&a, f->type);
    else
        a_null(&a);
    a_i64(&a, f->since_ms);
    a_i64(&a, f->limit ? (int64_t)f->limit : 1000);
    if (f->control_id)
        a_text(&a, f->control_id);
    else
        a_null(&a);
    const char *exact[] = {f->listener, f->sending_app, f->sending_facility, f->peer};
    for (int k = 0; k < 4; k++)
        if (exact[k])
            a_text(&a, exact[k]);
        else
            a_null(&a);
    a_i64(&a, f->until_ms);
    a_i64(&a, f->before_id);
    a_i64(&a, f->id);
    PGresult *r =
        query(p,
              "SELECT id, received_at, listener, sending_app, sending_facility, control_id,"
              " message_type, status, error_code, error_location, octet_length(raw), outbox_rows,"
              " warnings, unmapped, peer, engine, route, ack FROM messages"
              " WHERE ($1::text IS NULL OR status = $1)"
              " AND ($2::text IS NULL OR starts_with(message_type, $2)) AND received_at >= $3"
              " AND ($5::text IS NULL OR control_id = $5) AND ($6::text IS NULL OR listener = $6)"
              " AND ($7::text IS NULL OR sending_app = $7)"
              " AND ($8::text IS NULL OR sending_facility = $8) AND ($9::text IS NULL OR peer = $9)"
              " AND ($10::bigint = 0 OR received_at < $10) AND ($11::bigint = 0 OR id < $11)"
              " AND ($12::bigint = 0 OR id = $12) ORDER BY id DESC LIMIT $4",
              &a);
    struct strbuf ack;
    strbuf_init(&ack, 1 << 20);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_row row = {
            .id = i64(r, i, 0),
            .received_at_ms = i64(r, i, 1),
            .listener = PQgetvalue(r, i, 2),
            .sending_app = PQgetvalue(r, i, 3),
            .sending_facility = PQgetvalue(r, i, 4),
            .control_id = PQgetvalue(r, i, 5),
            .message_type = PQgetvalue(r, i, 6),
            .status = PQgetvalue(r, i, 7),
            .error_code = (int)i64(r, i, 8),
            .error_location = PQgetvalue(r, i, 9),
            .raw_len = (size_t)i64(r, i, 10),
            .noutbox = (size_t)i64(r, i, 11),
            .warnings = (uint32_t)i64(r, i, 12),
            .unmapped = (uint32_t)i64(r, i, 13),
            .peer = PQgetvalue(r, i, 14),
            .engine = PQgetvalue(r, i, 15),
            .route = PQgetvalue(r, i, 16),
        };
        ack.len = 0;
        if (!PQgetisnull(r, i, 17) && bytes(r, i, 17, &ack) == 0)
            row.ack = ack.p ? ack.p : "", row.ack_len = ack.len;
        fn(arg, &row);
    }
    strbuf_cleanup(&ack);
    PQclear(r);
    return 0;
}

static int pg_ledger(struct store *base, int64_t id, struct strbuf *out)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    a_i64(&a, id);
    PGresult *r = query(p, "SELECT ledger FROM messages WHERE id = $1", &a);
    int rc = !r ? -1 : PQntuples(r) == 0 ? 0 : 1;
    if (rc == 1)
        strbuf_append(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return rc;
}

static struct store_stats pg_stats(const struct store *base)
{
    return ((const struct pg *)base)->stats;
}

static bool pg_is_idle(struct store *base)
{
    struct pg *p = (struct pg *)base;
    return !p->db || PQtransactionStatus(p->db) == PQTRANS_IDLE;
}

/* Intake's commits wait for the WAL to be flushed: synchronous_commit on (2, as SQLite's
 * FULL), else 0. */
static int pg_synchronous(struct store *base)
{
    struct pg *p = (struct pg *)base;
    PGresult *r = PQexec(p->db, "SHOW fsync"); /* intake sets synchronous_commit on itself */
    int v = ok(r) && strcmp(PQgetvalue(r, 0, 0), "on") == 0 ? 2 : 0;
    PQclear(r);
    return v;
}

/* ---- delivery ---- */

/* Delivery's bookkeeping (leases, outcomes) does not wait for the WAL's flush, as on SQLite:
 * lost to a crash, a bundle is sent again — an idempotent update. */
static int begin_relaxed(struct pg *p, char *err, size_t errlen)
{
    return ready(p, err, errlen) != 0 || exec(p, "BEGIN", NULL, "beginning", err, errlen) != 0 ? -1
                                                                                               : 0;
}

static int end_tx(struct pg *p, bool bad, const char *what, char *err, size_t errlen)
{
    if (bad) {
        rollback(p);
        return -1;
    }
    return exec(p, "COMMIT", NULL, what, err, errlen);
}

static char *dup_value(const PGresult *r, int row, int col)
{
    size_t n = (size_t)PQgetlength(r, row, col);
    char *out = malloc(n + 1);
    if (!out)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    memcpy(out, PQgetvalue(r, row, col), n);
    out[n] = '\0';
    return out;
}

static int pg_claim(struct store *base, const char *destination, int64_t now_ms,
                    int64_t lease_until_ms, size_t max, struct store_claim **out, char *err,
                    size_t errlen)
{
    struct pg *p = (struct pg *)base;
    *out = NULL;
    if (ready(p, err, errlen) != 0)
        return -1;
    /* the heads turn over once per message (a row in, a row out): dead index entries pile up
     * at the front of the scan below faster than autovacuum comes round (a minute) */
    if (now_ms - p->vacuumed_at_ms > 5000) {
        p->vacuumed_at_ms = now_ms;
        PQclear(PQexec(p->db, "VACUUM (SKIP_LOCKED) outbox_heads"));
    }
    struct args a = {0};
    a_text(&a, destination);
    a_i64(&a, now_ms);
    a_i64(&a, (int64_t)max);
    a_i64(&a, lease_until_ms);
    a_text(&a, p->engine);
    /* the heads due and not leased (a head leased anywhere in the cluster holds its queue);
     * one another engine is claiming right now is skipped, not waited for */
    PGresult *r = run_prepared(
        p, PREP_CLAIM,
        "WITH c AS (SELECT o.id FROM outbox_heads h JOIN outbox o ON o.id = h.outbox_id"
        " WHERE h.destination = $1 AND o.next_attempt_at <= $2"
        " AND (o.lease_until IS NULL OR o.lease_until <= $2) ORDER BY h.outbox_id LIMIT $3"
        " FOR UPDATE OF o SKIP LOCKED),"
        " l AS (UPDATE outbox o SET lease_until = $4, lease_owner = $5, lease_gen = lease_gen + 1"
        " FROM c WHERE o.id = c.id RETURNING o.id, o.message_id, o.ordering_key, o.attempts,"
        " o.created_at, o.entries, o.lease_gen)"
        " SELECT l.id, l.message_id, l.ordering_key, b.bundle, l.attempts, l.created_at,"
        " l.entries, l.lease_gen FROM l JOIN outbox_bundles b ON b.outbox_id = l.id ORDER BY l.id",
        &a);
    bool bad = !ok(r);
    if (bad)
        fail(p, r, "claiming outbox rows", err, errlen);
    size_t n = bad ? 0 : (size_t)PQntuples(r);
    struct store_claim *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    for (size_t i = 0; !bad && i < n; i++) {
        struct store_claim *c = &rows[i];
        c->id = i64(r, (int)i, 0);
        c->message_id = i64(r, (int)i, 1);
        c->ordering_key = dup_value(r, (int)i, 2);
        struct strbuf b;
        strbuf_init(&b, (size_t)1 << 31);
        if (open_column(p, r, (int)i, 3, "outbox_bundles.bundle", c->id, &b) != 0 ||
            strbuf_append(&b, "", 0) != 0) {
            strbuf_cleanup(&b);
            snprintf(err, errlen, "store: outbox row %lld does not open", (long long)c->id);
            bad = true;
            n = i + 1;
            break;
        }
        c->bundle = strbuf_take(&b, &c->bundle_len);
        c->attempts = (int)i64(r, (int)i, 4);
        c->created_at_ms = i64(r, (int)i, 5);
        c->entries = (size_t)i64(r, (int)i, 6);
        c->lease = i64(r, (int)i, 7);
    }
    PQclear(r);
    if (bad) { /* one statement, applied or not: a row that did not open keeps its lease, and
                  is claimed again once it runs out */
        store_claims_free(rows, n);
        return -1;
    }
    *out = rows;
    return (int)n;
}

/* The ids of r as a PostgreSQL array literal. */
static void id_array(const int64_t *ids, size_t n, size_t stride, struct strbuf *out)
{
    strbuf_append(out, "{", 1);
    for (size_t i = 0; i < n; i++) {
        char num[24];
        int len =
            snprintf(num, sizeof num, "%s%lld", i ? "," : "",
                     (long long)*(const int64_t *)(const void *)((const char *)ids + i * stride));
        strbuf_append(out, num, (size_t)len);
    }
    strbuf_append(out, "}", 1);
}

/* Results as a transaction's statements: the queues' locks, then one statement per result:
 * the row updated only under the lease it was claimed with, and a done head handing over to
 * the next row of its queue, or going. (The row's own update is not visible to the other
 * parts of its statement: it is left out of the next-row search by id.) */
struct recording {
    const struct store_result *res;
    const char *ids;
};

#define LOCK_IDS_SQL                                                                               \
    "SELECT count(*) FROM (SELECT 1 FROM outbox_heads WHERE ordering_key IN (SELECT ordering_key"  \
    " FROM outbox WHERE id = ANY($1::bigint[])) ORDER BY ordering_key FOR UPDATE) s"

#define RECORD_SQL                                                                                 \
    "WITH u AS (UPDATE outbox SET status = $2, attempts = attempts + 1, lease_until = NULL,"       \
    " lease_owner = NULL, last_http_status = $3, delivered_at = $4, next_attempt_at = $5,"         \
    " last_error = $6, response = $7, locations = $8 WHERE id = $1 AND lease_gen = $9"             \
    " RETURNING id, ordering_key, status),"                                                        \
    " n AS (SELECT max(x.id) AS id FROM (SELECT o.id FROM outbox o, u"                             \
    " WHERE o.ordering_key = u.ordering_key AND o.id > u.id AND o.status IN ('pending', 'retry')"  \
    " ORDER BY o.id LIMIT 1) x),"                                                                  \
    " hu AS (UPDATE outbox_heads h SET outbox_id = n.id FROM u, n WHERE u.status <> 'retry'"       \
    " AND n.id IS NOT NULL AND h.ordering_key = u.ordering_key AND h.outbox_id = u.id),"           \
    " hd AS (DELETE FROM outbox_heads h USING u, n WHERE u.status <> 'retry' AND n.id IS NULL"     \
    " AND h.ordering_key = u.ordering_key AND h.outbox_id = u.id),"                                \
    " at AS (INSERT INTO attempts (outbox_id, at, outcome, http_status, error, locations, engine)" \
    " SELECT u.id, $10, u.status, $3, $6, $8, $11 FROM u)"                                         \
    " SELECT count(*) FROM u"

static int record_stmt(struct pg *p, void *ctx, size_t i, struct stmt *s, char *err, size_t errlen)
{
    static const char *const status[] = {"delivered", "retry", "dead"};
    struct recording *rec = ctx;
    if (i == 0) {
        s->name = prepared(p, PREP_LOCK_IDS, NULL);
        a_text(&s->a, rec->ids);
        return 0;
    }
    const struct store_result *r = &rec->res[i - 1];
    struct args *a = &s->a;
    a_i64(a, r->id);
    a_text(a, status[r->kind]);
    if (r->http_status)
        a_i64(a, r->http_status);
    else
        a_null(a);
    if (r->kind == STORE_DELIVERED)
        a_i64(a, r->at_ms);
    else
        a_null(a);
    a_i64(a, r->kind == STORE_RETRY ? r->next_attempt_ms : 0);
    if (r->error)
        a_text(a, r->error);
    else
        a_null(a);
    if (!r->response)
        a_null(a);
    else if (add_sealed(p, a, "outbox.response", r->id, r->response, r->response_len) != 0) {
        snprintf(err, errlen, "store: cannot seal a server's answer");
        return -1;
    }
    if (r->locations)
        a_text(a, r->locations);
    else
        a_null(a);
    a_i64(a, r->lease);
    a_i64(a, r->at_ms);
    a_text(a, p->engine);
    s->name = prepared(p, PREP_RECORD, NULL);
    return 0;
}

static int pg_record(struct store *base, const struct store_result *res, size_t n, size_t *stale,
                     char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    *stale = 0;
    if (n == 0)
        return 0;
    if (ready(p, err, errlen) != 0)
        return -1;
    struct strbuf ids;
    strbuf_init(&ids, (size_t)1 << 30);
    id_array(&res[0].id, n, sizeof res[0], &ids);
    struct recording rec = {res, ids.p};
    if (!prepared(p, PREP_LOCK_IDS, LOCK_IDS_SQL) || !prepared(p, PREP_RECORD, RECORD_SQL)) {
        strbuf_cleanup(&ids);
        return fail(p, NULL, "preparing", err, errlen);
    }
    PGresult **out = calloc(n + 1, sizeof *out);
    if (!out)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    int rc = -1;
    for (int attempt = 0; attempt < RETRIES && rc != 0; attempt++) {
        bool again = false;
        rc = pipeline_tx(p, n + 1, record_stmt, &rec, false, out, &again, err, errlen);
        if (rc != 0 && !again)
            break;
    }
    for (size_t i = 1; rc == 0 && i <= n; i++) /* the rows another claim holds now */
        *stale += strcmp(PQgetvalue(out[i], 0, 0), "0") == 0;
    for (size_t i = 0; i <= n; i++)
        PQclear(out[i]);
    free(out);
    strbuf_cleanup(&ids);
    return rc == 0 ? 0 : -1;
}

static int pg_renew(struct store *base, const int64_t *ids, const int64_t *leases,
                    const int64_t *until, size_t n, size_t *lost, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (ready(p, err, errlen) != 0)
        return -1;
    struct strbuf a_ids, a_leases, a_until;
    strbuf_init(&a_ids, (size_t)1 << 30);
    strbuf_init(&a_leases, (size_t)1 << 30);
    strbuf_init(&a_until, (size_t)1 << 30);
    id_array(ids, n, sizeof ids[0], &a_ids);
    id_array(leases, n, sizeof leases[0], &a_leases);
    id_array(until, n, sizeof until[0], &a_until);
    struct args a = {0};
    a_text(&a, a_ids.p);
    a_text(&a, a_leases.p);
    a_text(&a, a_until.p);
    /* only under the generation each was claimed with: one taken over is not ours */
    PGresult *r = run_prepared(
        p, PREP_RENEW,
        "UPDATE outbox o SET lease_until = l.until FROM unnest($1::bigint[], $2::bigint[],"
        " $3::bigint[]) AS l(id, gen, until) WHERE o.id = l.id AND o.lease_gen = l.gen"
        " AND o.lease_until IS NOT NULL",
        &a);
    int rc = ok(r) ? 0 : fail(p, r, "renewing leases", err, errlen);
    if (rc == 0)
        *lost = n - (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    strbuf_cleanup(&a_ids);
    strbuf_cleanup(&a_leases);
    strbuf_cleanup(&a_until);
    return rc;
}

static int pg_release(struct store *base, const int64_t *ids, size_t n, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (n == 0)
        return 0;
    if (ready(p, err, errlen) != 0)
        return -1;
    struct strbuf list;
    strbuf_init(&list, (size_t)1 << 30);
    id_array(ids, n, sizeof ids[0], &list);
    struct args a = {0};
    a_text(&a, list.p);
    a_text(&a, p->engine);
    int rc = exec(p,
                  "UPDATE outbox SET lease_until = NULL, lease_owner = NULL"
                  " WHERE id = ANY($1::bigint[]) AND lease_owner = $2",
                  &a, "releasing leases", err, errlen);
    strbuf_cleanup(&list);
    return rc;
}

static int pg_retry_now(struct store *base, const char *destination, int64_t now_ms,
                        size_t *released, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    *released = 0;
    if (ready(p, err, errlen) != 0)
        return -1;
    struct args a = {0};
    a_text(&a, destination);
    a_i64(&a, now_ms);
    PGresult *r = run(p,
                      "UPDATE outbox SET next_attempt_at = $2 WHERE id IN"
                      " (SELECT outbox_id FROM outbox_heads WHERE destination = $1)"
                      " AND status = 'retry' AND next_attempt_at > $2",
                      &a);
    int rc = ok(r) ? 0 : fail(p, r, "releasing retries", err, errlen);
    if (rc == 0)
        *released = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

static int pg_delivery_status(struct store *base, int64_t now_ms,
                              void (*fn)(void *arg, const struct store_dest_status *d), void *arg)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    a_i64(&a, now_ms);
    PGresult *r = query(
        p,
        "SELECT destination,"
        " count(*) FILTER (WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= "
        "$1)),"
        " count(*) FILTER (WHERE status IN ('pending', 'retry') AND lease_until > $1),"
        " count(*) FILTER (WHERE status = 'retry' AND (lease_until IS NULL OR lease_until <= $1)),"
        " count(*) FILTER (WHERE status = 'delivered'),"
        " count(*) FILTER (WHERE status = 'dead' AND replayed_at IS NULL),"
        " min(created_at) FILTER (WHERE status IN ('pending', 'retry'))"
        " FROM outbox GROUP BY destination ORDER BY destination",
        &a);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_dest_status d = {
            .destination = PQgetvalue(r, i, 0),
            .pending = (uint64_t)i64(r, i, 1),
            .in_flight = (uint64_t)i64(r, i, 2),
            .retrying = (uint64_t)i64(r, i, 3),
            .delivered = (uint64_t)i64(r, i, 4),
            .dead = (uint64_t)i64(r, i, 5),
            .oldest_pending_ms = i64(r, i, 6),
        };
        fn(arg, &d);
    }
    PQclear(r);
    return 0;
}

static int pg_engines(struct store *base, int64_t now_ms,
                      void (*fn)(void *arg, const struct store_engine *e), void *arg)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    a_i64(&a, now_ms);
    PGresult *r = query(p,
                        "SELECT e.name, e.started_at, (SELECT count(*) FROM outbox o"
                        " WHERE o.lease_owner = e.name AND o.lease_until > $1)"
                        " FROM engines e ORDER BY e.name",
                        &a);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_engine e = {PQgetvalue(r, i, 0), i64(r, i, 1), (uint64_t)i64(r, i, 2)};
        fn(arg, &e);
    }
    PQclear(r);
    return 0;
}

static int pg_queue_gauges(struct store *base,
                           void (*fn)(void *arg, const struct store_queue_gauge *g), void *arg)
{
    struct pg *p = (struct pg *)base;
    PGresult *r =
        query(p,
              "SELECT destination, sum(q), sum(d), min(oldest) FROM ("
              " SELECT h.destination AS destination, 1 AS q, 0 AS d, o.created_at AS oldest"
              " FROM outbox_heads h JOIN outbox o ON o.id = h.outbox_id"
              " UNION ALL SELECT destination, 0, 1, NULL FROM outbox"
              " WHERE status = 'dead' AND replayed_at IS NULL) s"
              " GROUP BY destination ORDER BY destination",
              NULL);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_queue_gauge g = {
            .destination = PQgetvalue(r, i, 0),
            .queues = (uint64_t)i64(r, i, 1),
            .dead = (uint64_t)i64(r, i, 2),
            .oldest_pending_ms = i64(r, i, 3),
        };
        fn(arg, &g);
    }
    PQclear(r);
    return 0;
}

static int pg_dead_list(struct store *base, const char *destination, int64_t since_ms,
                        struct store_dead **out, size_t *n)
{
    struct pg *p = (struct pg *)base;
    *out = NULL;
    *n = 0;
    struct args a = {0};
    if (destination)
        a_text(&a, destination);
    else
        a_null(&a);
    a_i64(&a, since_ms);
    PGresult *r = query(p,
                        "SELECT id, message_id, destination, last_http_status,"
                        " coalesce(last_error, '') FROM outbox WHERE status = 'dead'"
                        " AND replayed_at IS NULL AND ($1::text IS NULL OR destination = $1)"
                        " AND created_at >= $2 ORDER BY id",
                        &a);
    if (!r)
        return -1;
    if (PQntuples(r) > 0) {
        *out = calloc((size_t)PQntuples(r), sizeof **out);
        if (!*out)
            abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        for (int i = 0; i < PQntuples(r); i++) {
            struct store_dead *d = &(*out)[(*n)++];
            d->outbox_id = i64(r, i, 0);
            d->message_id = i64(r, i, 1);
            snprintf(d->destination, sizeof d->destination, "%s", PQgetvalue(r, i, 2));
            d->http_status = (int)i64(r, i, 3);
            snprintf(d->error, sizeof d->error, "%s", PQgetvalue(r, i, 4));
        }
    }
    PQclear(r);
    return 0;
}

static int pg_message_get(struct store *base, int64_t id, struct strbuf *raw, char *listener,
                          size_t listener_len, int64_t *received_at_ms)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    a_i64(&a, id);
    PGresult *r = query(p, "SELECT raw, listener, received_at FROM messages WHERE id = $1", &a);
    int rc = !r ? -1 : PQntuples(r) == 0 ? 0 : 1;
    if (rc == 1 && open_column(p, r, 0, 0, "messages.raw", id, raw) != 0)
        rc = -1;
    if (rc == 1) {
        snprintf(listener, listener_len, "%s", PQgetvalue(r, 0, 1));
        *received_at_ms = i64(r, 0, 2);
    }
    PQclear(r);
    return rc;
}

static int pg_enqueue(struct store *base, int64_t message_id, int64_t created_at_ms,
                      const struct store_outbox *o, size_t n, int64_t replaced_id, int64_t now_ms,
                      char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (ready(p, err, errlen) != 0 || exec(p, "BEGIN", NULL, "beginning", err, errlen) != 0)
        return -1;
    if (exec(p, "SET LOCAL synchronous_commit = on", NULL, "beginning", err, errlen) != 0) {
        rollback(p); /* a replay the operator was told of is durable */
        return -1;
    }
    struct strbuf keys;
    strbuf_init(&keys, (size_t)1 << 30);
    for (size_t i = 0; i < n; i++) {
        char hashed[72];
        const char *key = stored_key(p, o[i].ordering_key, hashed, sizeof hashed);
        strbuf_append(&keys, key, strlen(key));
        strbuf_append(&keys, i + 1 < n ? "\n" : "", i + 1 < n ? 1 : 0);
    }
    strbuf_append(&keys, "", 0);
    PGresult *r = NULL;
    bool bad = n && lock_queues(p, keys.p, &r) != 0;
    for (size_t i = 0; !bad && i < n; i++) {
        PQclear(r);
        bad = insert_outbox(p, message_id, &o[i], created_at_ms, &r) != 0;
    }
    strbuf_cleanup(&keys);
    if (!bad && n) {
        PQclear(r);
        struct args a = {0};
        a_i64(&a, message_id);
        a_i64(&a, (int64_t)n);
        r = run(p,
                "UPDATE messages SET outbox_rows = outbox_rows + $2,"
                " status = CASE WHEN status IN ('error', 'parked') THEN 'accepted' ELSE status END,"
                " error_code = CASE WHEN status IN ('error', 'parked') THEN 0 ELSE error_code END,"
                " error_location = CASE WHEN status IN ('error', 'parked') THEN ''"
                " ELSE error_location END WHERE id = $1",
                &a);
        bad = !ok(r);
    }
    if (!bad && replaced_id) {
        PQclear(r);
        struct args a = {0};
        a_i64(&a, replaced_id);
        a_i64(&a, now_ms);
        r = run(p, "UPDATE outbox SET replayed_at = $2 WHERE id = $1", &a);
        bad = !ok(r);
    }
    if (bad)
        fail(p, r, "queueing a replay", err, errlen);
    PQclear(r);
    return end_tx(p, bad, "queueing a replay", err, errlen);
}

/* ---- retention (as store_sqlite's: by id, oldest first, what is done with) ---- */

static int pg_purge(struct store *base, struct store_purge *pp, size_t max, char *err,
                    size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (pp->phase >= 2)
        return 0;
    if (max == 0)
        max = 1;
    static const char *const scan[] = {
        "SELECT id, created_at < $2, status = 'delivered' OR (status = 'dead' AND replayed_at"
        " IS NOT NULL), message_id FROM outbox WHERE id > $1 ORDER BY id LIMIT $3",
        "SELECT id, received_at < $2, outbox_rows = 0, 0 FROM messages WHERE id > $1"
        " ORDER BY id LIMIT $3",
    };
    static const char *const removal[] = {
        "WITH g AS (DELETE FROM outbox_bundles WHERE outbox_id = ANY($1::bigint[])),"
        " t AS (DELETE FROM attempts WHERE outbox_id = ANY($1::bigint[])),"
        " o AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]) RETURNING message_id)"
        " UPDATE messages m SET outbox_rows = m.outbox_rows - c.n FROM (SELECT message_id,"
        " count(*) AS n FROM o GROUP BY message_id) c WHERE m.id = c.message_id",
        "DELETE FROM messages WHERE id = ANY($1::bigint[])",
    };
    if (begin_relaxed(p, err, errlen) != 0)
        return -1;
    struct args a = {0};
    a_i64(&a, pp->cursor);
    a_i64(&a, pp->before_ms);
    a_i64(&a, (int64_t)max);
    PGresult *r = run(p, scan[pp->phase], &a);
    bool bad = !ok(r), ended = false;
    size_t seen = 0, n = 0;
    int64_t *ids = calloc(max, sizeof *ids);
    if (!ids)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    for (int i = 0; !bad && !ended && i < PQntuples(r); i++) {
        seen++;
        if (!(ended = strcmp(PQgetvalue(r, i, 1), "t") != 0)) {
            pp->cursor = i64(r, i, 0);
            if (strcmp(PQgetvalue(r, i, 2), "t") == 0)
                ids[n++] = pp->cursor;
        }
    }
    ended = ended || seen < max;
    if (bad)
        fail(p, r, "purging old messages", err, errlen);
    PQclear(r);
    if (!bad && n) {
        struct strbuf list;
        strbuf_init(&list, (size_t)1 << 30);
        id_array(ids, n, sizeof ids[0], &list);
        struct args b = {0};
        a_text(&b, list.p);
        bad = exec(p, removal[pp->phase], &b, "purging old messages", err, errlen) != 0;
        strbuf_cleanup(&list);
    }
    free(ids);
    if (end_tx(p, bad, "purging old messages", err, errlen) != 0)
        return -1;
    *(pp->phase == 0 ? &pp->outbox_rows : &pp->messages) += n;
    if (ended) {
        pp->phase++;
        pp->cursor = 0;
    }
    return pp->phase < 2;
}

/* ---- rekey (as store_sqlite's) ---- */

static int rekey_column(struct pg *p, const char *table, const char *idcol, const char *column,
                        const char *aad, bool hash, size_t batch, uint64_t *done, char *err,
                        size_t errlen)
{
    char select[256], update[256];
    snprintf(select, sizeof select,
             "SELECT %s, %s%s FROM %s WHERE %s > $1 AND %s IS NOT NULL ORDER BY %s LIMIT $2", idcol,
             column, hash ? ", content_hash" : "", table, idcol, column, idcol);
    snprintf(update, sizeof update, "UPDATE %s SET %s = $2%s WHERE %s = $1", table, column,
             hash ? ", content_hash = coalesce($3, content_hash)" : "", idcol);
    int64_t last = 0;
    for (;;) {
        if (ready(p, err, errlen) != 0 || exec(p, "BEGIN", NULL, "re-sealing", err, errlen) != 0)
            return -1;
        struct args a = {0};
        a_i64(&a, last);
        a_i64(&a, (int64_t)batch);
        PGresult *r = run(p, select, &a);
        bool bad = !ok(r);
        if (bad)
            fail(p, r, "re-sealing", err, errlen);
        size_t seen = bad ? 0 : (size_t)PQntuples(r);
        struct strbuf sealed, clear;
        strbuf_init(&sealed, (size_t)1 << 31);
        strbuf_init(&clear, (size_t)1 << 31);
        for (size_t i = 0; !bad && i < seen; i++) {
            last = i64(r, (int)i, 0);
            strbuf_reset(&sealed);
            if (bytes(r, (int)i, 1, &sealed) != 0) {
                bad = true;
                break;
            }
            unsigned key = crypt_key_of(sealed.p ? sealed.p : "", sealed.len);
            if (key == crypt_newest(p->c))
                continue;
            strbuf_reset(&clear);
            if (open_column(p, r, (int)i, 1, aad, last, &clear) != 0) {
                snprintf(err, errlen, "store: %s %lld does not open with the key file's keys",
                         table, (long long)last);
                bad = true;
                break;
            }
            struct args u = {0};
            unsigned char keyed[STORE_HASH_LEN];
            struct strbuf h;
            strbuf_init(&h, 1024);
            a_i64(&u, last);
            if (add_sealed(p, &u, aad, last, clear.p ? clear.p : "", clear.len) != 0)
                bad = true;
            if (hash && !key && bytes(r, (int)i, 2, &h) == 0 && h.len == STORE_HASH_LEN) {
                crypt_hash(p->c, h.p, STORE_HASH_LEN, keyed);
                a_bytes(&u, keyed, STORE_HASH_LEN);
            } else if (hash) {
                a_null(&u);
            }
            strbuf_cleanup(&h);
            bad = bad || exec(p, update, &u, "re-sealing", err, errlen) != 0;
            if (!bad)
                ++*done;
        }
        strbuf_cleanup(&sealed);
        strbuf_cleanup(&clear);
        PQclear(r);
        if (end_tx(p, bad, "re-sealing", err, errlen) != 0)
            return -1;
        if (seen < batch)
            return 0;
    }
}

static int pg_rekey(struct store *base, size_t batch, uint64_t *done, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    err[0] = '\0';
    *done = 0;
    if (!p->sealed) {
        snprintf(err, errlen, "store: no encryption key: nothing to seal with");
        return -1;
    }
    if (rekey_column(p, "messages", "id", "raw", "messages.raw", true, batch, done, err, errlen) ||
        rekey_column(p, "outbox_bundles", "outbox_id", "bundle", "outbox_bundles.bundle", false,
                     batch, done, err, errlen) ||
        rekey_column(p, "outbox", "id", "response", "outbox.response", false, batch, done, err,
                     errlen))
        return -1;
    struct args a = {0};
    a_i64(&a, crypt_newest(p->c));
    return exec(p, "DELETE FROM store_keys WHERE id <> $1", &a, "forgetting the older keys", err,
                errlen);
}

static int pg_floor(struct store *base, const void *a, size_t alen, const void *b, size_t blen,
                    size_t n, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (ready(p, err, errlen) != 0)
        return -1;
    if (n == 0)
        return exec(p, "DROP TABLE IF EXISTS solent_floor_a, solent_floor_b", NULL,
                    "dropping the floor", err, errlen);
    if (exec(p,
             "CREATE TABLE IF NOT EXISTS solent_floor_a (id BIGSERIAL PRIMARY KEY, v BYTEA);"
             "CREATE TABLE IF NOT EXISTS solent_floor_b (id BIGSERIAL PRIMARY KEY, v BYTEA)",
             NULL, "making the floor", err, errlen) != 0 ||
        exec(p, "BEGIN", NULL, "beginning", err, errlen) != 0)
        return -1;
    struct args x[2] = {{0}, {0}};
    a_bytes(&x[0], a, alen);
    a_bytes(&x[1], b, blen);
    int rc = exec(p, "SET LOCAL synchronous_commit = on", NULL, "beginning", err, errlen);
    for (size_t i = 0; i < n && rc == 0; i++)
        for (int k = 0; k < 2 && rc == 0; k++)
            rc = exec(p,
                      k ? "INSERT INTO solent_floor_b (v) VALUES ($1)"
                        : "INSERT INTO solent_floor_a (v) VALUES ($1)",
                      &x[k], "writing the floor", err, errlen);
    if (rc != 0) {
        rollback(p);
        return -1;
    }
    return exec(p, "COMMIT", NULL, "committing", err, errlen);
}

static int pg_deliveries(struct store *base, int64_t message_id, bool content,
                         void (*fn)(void *arg, const struct store_delivery *d), void *arg)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    a_i64(&a, message_id);
    a_text(&a, content ? "t" : "f");
    PGresult *r = query(
                 p,
                 "SELECT o.id, o.destination, o.status, o.attempts, o.created_at,"
                 " coalesce(o.delivered_at, 0), o.next_attempt_at, coalesce(o.replayed_at, 0),"
                 " coalesce(o.last_http_status, 0), coalesce(o.last_error, ''),"
                 " coalesce(o.locations, ''), CASE WHEN $2::boolean THEN b.bundle END,"
                 " CASE WHEN $2::boolean THEN o.response END"
                 " FROM outbox o LEFT JOIN outbox_bundles b ON b.outbox_id = o.id"
                 " WHERE o.message_id = $1 ORDER BY o.id",
                 &a),
             *h = query(p,
                        "SELECT t.outbox_id, t.at, t.outcome, coalesce(t.http_status, 0),"
                        " coalesce(t.error, ''), coalesce(t.locations, ''), t.engine"
                        " FROM attempts t JOIN outbox o ON o.id = t.outbox_id"
                        " WHERE o.message_id = $1 AND $2::boolean IS NOT NULL ORDER BY t.id",
                        &a);
    int rc = r && h ? 0 : -1;
    struct strbuf bundle, response;
    strbuf_init(&bundle, (size_t)1 << 30);
    strbuf_init(&response, (size_t)1 << 30);
    struct store_attempt *hist = calloc((size_t)(rc == 0 ? PQntuples(h) : 0) + 1, sizeof *hist);
    if (!hist)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        int64_t id = i64(r, i, 0);
        struct store_delivery d = {.id = id,
                                   .destination = PQgetvalue(r, i, 1),
                                   .status = PQgetvalue(r, i, 2),
                                   .attempts = (uint32_t)i64(r, i, 3),
                                   .created_at_ms = i64(r, i, 4),
                                   .delivered_at_ms = i64(r, i, 5),
                                   .next_attempt_ms = i64(r, i, 6),
                                   .replayed_at_ms = i64(r, i, 7),
                                   .last_http_status = (int)i64(r, i, 8),
                                   .last_error = PQgetvalue(r, i, 9),
                                   .locations = PQgetvalue(r, i, 10),
                                   .history = hist};
        for (int k = 0; k < PQntuples(h); k++)
            if (i64(h, k, 0) == id)
                hist[d.nhistory++] = (struct store_attempt){
                    i64(h, k, 1),        PQgetvalue(h, k, 2), (int)i64(h, k, 3),
                    PQgetvalue(h, k, 4), PQgetvalue(h, k, 5), PQgetvalue(h, k, 6)};
        bundle.len = response.len = 0;
        if (content && !PQgetisnull(r, i, 11) &&
            open_column(p, r, i, 11, "outbox_bundles.bundle", id, &bundle) != 0)
            rc = -1;
        if (content && !PQgetisnull(r, i, 12) &&
            open_column(p, r, i, 12, "outbox.response", id, &response) != 0)
            rc = -1;
        if (content) {
            d.bundle = bundle.p ? bundle.p : "", d.bundle_len = bundle.len;
            d.response = PQgetisnull(r, i, 12) ? NULL : response.p ? response.p : "";
            d.response_len = d.response ? response.len : 0;
        }
        if (rc == 0)
            fn(arg, &d);
    }
    free(hist);
    strbuf_cleanup(&bundle);
    strbuf_cleanup(&response);
    PQclear(r);
    PQclear(h);
    return rc;
}

static int pg_audit_add(struct store *base, const struct store_audit *au, char *err, size_t errlen)
{
    struct pg *p = (struct pg *)base;
    if (ready(p, err, errlen) != 0)
        return -1;
    struct args a = {0};
    a_i64(&a, au->at_ms);
    a_text(&a, au->who);
    a_text(&a, au->via);
    a_i64(&a, au->message_id);
    a_text(&a, au->what);
    /* durable before the content goes out: this session's commits do not wait otherwise */
    return exec(p,
                "WITH s AS (SELECT set_config('synchronous_commit', 'on', true))"
                " INSERT INTO audit (at, who, via, message_id, what)"
                " SELECT $1, $2, $3, $4, $5 FROM s",
                &a, "writing the audit", err, errlen);
}

static int pg_audit_list(struct store *base, int64_t since_ms, size_t limit,
                         void (*fn)(void *arg, const struct store_audit *a), void *arg)
{
    struct pg *p = (struct pg *)base;
    struct args a = {0};
    a_i64(&a, since_ms);
    a_i64(&a, limit ? (int64_t)limit : 1000);
    PGresult *r = query(p,
                        "SELECT id, at, who, via, message_id, what FROM audit WHERE at >= $1"
                        " ORDER BY id DESC LIMIT $2",
                        &a);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_audit au = {.id = i64(r, i, 0),
                                 .at_ms = i64(r, i, 1),
                                 .who = PQgetvalue(r, i, 2),
                                 .via = PQgetvalue(r, i, 3),
                                 .message_id = i64(r, i, 4),
                                 .what = PQgetvalue(r, i, 5)};
        fn(arg, &au);
    }
    PQclear(r);
    return 0;
}

static const struct store_ops pg_ops = {
    .kind = "postgres",
    .parallel = true,
    .close = pg_close,
    .attach_engine = pg_attach_engine,
    .rekey = pg_rekey,
    .commit = pg_commit,
    .find_duplicate = pg_find_duplicate,
    .find_duplicates = pg_find_duplicates,
    .list = pg_list,
    .ledger = pg_ledger,
    .stats = pg_stats,
    .is_idle = pg_is_idle,
    .synchronous = pg_synchronous,
    .schema_version = pg_schema_version,
    .claim = pg_claim,
    .record = pg_record,
    .renew = pg_renew,
    .release = pg_release,
    .retry_now = pg_retry_now,
    .delivery_status = pg_delivery_status,
    .engines = pg_engines,
    .queue_gauges = pg_queue_gauges,
    .dead_list = pg_dead_list,
    .message_get = pg_message_get,
    .enqueue = pg_enqueue,
    .purge = pg_purge,
    .floor = pg_floor,
    .deliveries = pg_deliveries,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
};
