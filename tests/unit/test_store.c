/*
 * The store's contract, run unchanged against each back end: SQLite on a temporary file
 * (unit_store), and PostgreSQL (unit_store_pg: SOLENT_TEST_STORE=postgres, the database of
 * SOLENT_TEST_PG_DSN with the password in SOLENT_TEST_PG_PASSWORD_FILE, emptied before each
 * test). A batch is one transaction, duplicates are found by sender, facility and control
 * id and told apart by content, everything survives a reopen, the ordering-key scheduler,
 * leases and their fencing, dead letters and replays, retention, sealing. What only one back
 * end has is tested where it is: SQLite's private file and old schemas; PostgreSQL's several
 * engines on one database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "engine/conf.h"
#include "engine/crypt.h"
#include "engine/store.h"
#include "tests/unit/testutil.h"

static char dir[64], path[128];
static bool pg; /* the back end under test is PostgreSQL */

static void pg_exec(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* A connection of the test's own to the PostgreSQL database (as another process). */
static PGconn *pg_connect(void)
{
    char pw[256] = "";
    FILE *f = fopen(getenv("SOLENT_TEST_PG_PASSWORD_FILE"), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(pw, sizeof pw, f));
    fclose(f);
    pw[strcspn(pw, "\n")] = '\0';
    const char *keys[] = {"dbname", "password", NULL},
               *vals[] = {getenv("SOLENT_TEST_PG_DSN"), pw, NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    ck_assert_msg(PQstatus(db) == CONNECTION_OK, "%s", PQerrorMessage(db));
    pg_exec(db, "SET client_min_messages = warning");
    return db;
}

/* The one number sql answers, read over a connection of its own from the store under test. */
static long long count_of(const char *sql)
{
    long long n = -1;
    if (pg) {
        PGconn *db = pg_connect();
        PGresult *r = PQexec(db, sql);
        ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        PQfinish(db);
        return n;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The store under test, with the keyring kr (NULL: none). */
static struct store *open_store(const struct keyring *kr, char *err, size_t errlen)
{
    if (!pg)
        return store_sqlite_open(path, kr, err, errlen);
    struct conf_store cs = {.kind = "postgres"};
    snprintf(cs.dsn, sizeof cs.dsn, "%s", getenv("SOLENT_TEST_PG_DSN"));
    snprintf(cs.password, sizeof cs.password, "file:%s", getenv("SOLENT_TEST_PG_PASSWORD_FILE"));
    return store_pg_open(&cs, kr, err, errlen);
}

/* The schema version a fresh store is at. */
static int current_version(void)
{
    return pg ? 3 : 8;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/solent-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/solent.db", dir);
    if (pg) { /* an empty database */
        PGconn *db = pg_connect();
        pg_exec(db, "DROP SCHEMA public CASCADE");
        pg_exec(db, "CREATE SCHEMA public");
        PQfinish(db);
    }
}

static void teardown(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct store_message message(const char *ctrl, char fill, const char *type)
{
    static const struct store_outbox out[] = {{"phr", "phr|nhs|9434765919", "{\"b\":1}", 7, 1}};
    struct store_message m = {.received_at_ms = 1700000000000,
                              .listener = "pas",
                              .sending_app = "PAS",
                              .sending_facility = "RHM",
                              .control_id = ctrl,
                              .message_type = type,
                              .status = STORE_ACCEPTED,
                              .raw = "MSH|^~\\&|PAS",
                              .raw_len = 12,
                              .ack = "MSH|ACK",
                              .ack_len = 7,
                              .outbox = out,
                              .noutbox = 1};
    memset(m.hash, fill, sizeof m.hash);
    return m;
}

struct tally {
    size_t rows, outbox;
    int64_t last_id;
};

static void count(void *arg, const struct store_row *r)
{
    struct tally *t = arg;
    t->rows++;
    t->outbox += r->noutbox;
    t->last_id = r->id;
}

static void ledger_counts(void *arg, const struct store_row *r)
{
    uint32_t *c = arg;
    c[0] = r->warnings, c[1] = r->unmapped;
}

/* The transform's ledger is stored with its message, counted in the listing, read back. */
START_TEST(test_ledger)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    struct store_message m = message("L1", 'l', "ADT^A01");
    static const char ledger[] = "warning PV1-14: code not in HL7 table 0023\nunmapped ZPD-1\n";
    m.warnings = 1, m.unmapped = 1, m.ledger = ledger, m.ledger_len = sizeof ledger - 1;
    ck_assert_int_eq(store_commit(s, &m, 1, err, sizeof err), 0);
    uint32_t counts[2] = {9, 9};
    struct store_filter f = {.control_id = "L1"};
    ck_assert_int_eq(store_list(s, &f, ledger_counts, counts), 0);
    ck_assert_uint_eq(counts[0], 1);
    ck_assert_uint_eq(counts[1], 1);
    struct strbuf out;
    strbuf_init(&out, 1 << 16);
    ck_assert_int_eq(store_ledger(s, m.id, &out), 1);
    ck_assert_int_eq(strbuf_append(&out, "", 0), 0);
    ck_assert_str_eq(out.p, ledger);
    strbuf_reset(&out);
    ck_assert_int_eq(store_ledger(s, m.id + 1000, &out), 0); /* no such message */
    strbuf_cleanup(&out);
    store_close(s);
}
END_TEST

/* A key file of the given text in the test directory; returns its spec (file:PATH). */
static const char *key_file(const char *name, const char *text, size_t n)
{
    static char spec[2][200];
    static int k;
    char *out = spec[k++ % 2];
    snprintf(out, 200, "file:%s/%s", dir, name);
    FILE *f = fopen(out + 5, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    fclose(f);
    return out;
}

/* Whether the file at p (and its WAL) holds needle anywhere. */
static int file_has(const char *p, const char *needle)
{
    char wal[160];
    int found = 0;
    snprintf(wal, sizeof wal, "%s-wal", p);
    const char *files[] = {p, wal};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f)
            continue;
        static char buf[1 << 22];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (size_t k = 0; k + strlen(needle) <= n && !found; k++)
            found = memcmp(buf + k, needle, strlen(needle)) == 0;
    }
    return found;
}

static const char HEX1[] = "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
static const char HEX2[] = "2 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";

/* Encryption at rest: raw, bundle and answer sealed, the hash and ordering key keyed; the
 * values read back; no key, another key and a missing key refused; rekey moves every value
 * to the newest key. */
START_TEST(test_sealed_store)
{
    char err[256], raw[] = "MSH|^~\\&|PAS\rPID|1||9434765919^^^NHS^NH||Zebedee^Quentin";
    struct keyring kr;
    ck_assert_int_eq(keyring_load(key_file("k1", HEX1, strlen(HEX1)), &kr, err, sizeof err), 0);
    struct store *s = open_store(&kr, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    struct store_message m = message("E1", 'e', "ADT^A01");
    static const char bundle[] = "{\"name\":\"Zebedee\"}";
    struct store_outbox out = {"phr", "phr|nhs|9434765919", bundle, sizeof bundle - 1, 1};
    m.raw = raw, m.raw_len = strlen(raw), m.outbox = &out;
    ck_assert_int_eq(store_commit(s, &m, 1, err, sizeof err), 0);
    struct strbuf back;
    char listener[32];
    int64_t at;
    strbuf_init(&back, 1 << 16);
    ck_assert_int_eq(store_message_get(s, m.id, &back, listener, sizeof listener, &at), 1);
    ck_assert_uint_eq(back.len, strlen(raw));
    ck_assert_int_eq(memcmp(back.p, raw, back.len), 0);
    struct store_claim *c;
    ck_assert_int_eq(
        store_claim(s, "phr", store_now_ms(), store_now_ms() + 60000, 10, &c, err, sizeof err), 1);
    ck_assert_str_eq(c[0].bundle, bundle);
    ck_assert_int_eq(strncmp(c[0].ordering_key, "k:", 2), 0); /* not the NHS number */
    store_claims_free(c, 1);
    struct strbuf ack;
    strbuf_init(&ack, 1 << 12);
    unsigned char same[STORE_HASH_LEN];
    memset(same, 'e', sizeof same);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "E1", same, &ack), 1);
    store_close(s);
    if (!pg) /* PostgreSQL's files: tests/engine/test_cluster.py reads them */
        ck_assert(!file_has(path, "Zebedee") && !file_has(path, "9434765919"));
    ck_assert_ptr_null(open_store(NULL, err, sizeof err)); /* no key for a sealed store */
    ck_assert_ptr_nonnull(strstr(err, "encryption_key is needed"));
    struct keyring other;
    ck_assert_int_eq(
        keyring_load(
            key_file("k9", "1 ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                     67),
            &other, err, sizeof err),
        0);
    ck_assert_ptr_null(open_store(&other, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "is not the key that sealed"));
    keyring_wipe(&other);
    ck_assert_int_eq(keyring_load(key_file("k2", HEX2, strlen(HEX2)), &other, err, sizeof err), 0);
    ck_assert_ptr_null(open_store(&other, err, sizeof err));
    ck_assert_ptr_nonnull(
        strstr(err, "key 1 sealed values in this store and is not in the key file"));
    keyring_wipe(&other);
    /* rotation: keys 1 and 2, 2 the newest; rekey re-seals everything with it */
    char both[200];
    snprintf(both, sizeof both, "%s%s", HEX1, HEX2);
    ck_assert_int_eq(keyring_load(key_file("k12", both, strlen(both)), &other, err, sizeof err), 0);
    s = open_store(&other, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    uint64_t done = 0;
    ck_assert_msg(store_rekey(s, 1, &done, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(done, 2); /* the raw message and the bundle */
    strbuf_reset(&back);
    ck_assert_int_eq(store_message_get(s, m.id, &back, listener, sizeof listener, &at), 1);
    ck_assert_int_eq(memcmp(back.p, raw, strlen(raw)), 0);
    store_close(s);
    struct keyring two;
    ck_assert_int_eq(keyring_load(key_file("k2b", HEX2, strlen(HEX2)), &two, err, sizeof err), 0);
    s = open_store(&two, err, sizeof err); /* key 1 is needed no more */
    ck_assert_msg(s != NULL, "%s", err);
    strbuf_reset(&back);
    ck_assert_int_eq(store_message_get(s, m.id, &back, listener, sizeof listener, &at), 1);
    ck_assert_int_eq(memcmp(back.p, raw, strlen(raw)), 0);
    store_close(s);
    keyring_wipe(&two);
    keyring_wipe(&other);
    keyring_wipe(&kr);
    strbuf_cleanup(&back);
    strbuf_cleanup(&ack);
}
END_TEST

START_TEST(test_batch_is_one_transaction_and_survives_reopen)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(store_schema_version(s), current_version());
    struct store_message batch[3] = {message("1", 'a', "ADT^A01"), message("2", 'b', "ADT^A08"),
                                     message("3", 'c', "ORU^R01")};
    batch[2].status = STORE_ERROR;
    batch[2].error_code = 101;
    batch[2].error_location = "PID-3";
    batch[2].noutbox = 0;
    ck_assert_int_eq(store_commit(s, batch, 3, err, sizeof err), 0);
    ck_assert(batch[0].id > 0 && batch[1].id == batch[0].id + 1 && batch[2].id == batch[1].id + 1);
    ck_assert_uint_eq(store_stats(s).transactions, 1);
    ck_assert_uint_eq(store_stats(s).messages, 3);
    store_close(s);

    s = open_store(NULL, err, sizeof err); /* reopen: nothing lost, no migration re-run */
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(store_schema_version(s), current_version());
    struct tally t = {0};
    struct store_filter all = {0};
    ck_assert_int_eq(store_list(s, &all, count, &t), 0);
    ck_assert_uint_eq(t.rows, 3);
    ck_assert_uint_eq(t.outbox, 2);
    struct store_filter errors = {.status = "error"}, adt = {.type = "ADT"};
    t = (struct tally){0};
    store_list(s, &errors, count, &t);
    ck_assert_uint_eq(t.rows, 1);
    ck_assert_int_eq(t.last_id, batch[2].id);
    t = (struct tally){0};
    store_list(s, &adt, count, &t);
    ck_assert_uint_eq(t.rows, 2);
    store_close(s);
}
END_TEST

START_TEST(test_duplicates)
{
    char err[256];
    struct strbuf ack;
    struct store *s = open_store(NULL, err, sizeof err);
    struct store_message m = message("42", 'x', "ADT^A01");
    unsigned char same[STORE_HASH_LEN], other[STORE_HASH_LEN];
    memset(same, 'x', sizeof same);
    memset(other, 'y', sizeof other);
    strbuf_init(&ack, 1024);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "42", same, &ack), 0);
    ck_assert_int_eq(store_commit(s, &m, 1, err, sizeof err), 0);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "42", same, &ack), 1);
    ck_assert_uint_eq(ack.len, 7);
    ck_assert_int_eq(memcmp(ack.p, "MSH|ACK", 7), 0);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "42", other, &ack), 2);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "OTHER", "42", same, &ack), 0);
    strbuf_cleanup(&ack);
    store_close(s);
}
END_TEST

START_TEST(test_many_messages_one_transaction)
{
    char err[256], ids[1000][8];
    struct store *s = open_store(NULL, err, sizeof err);
    static struct store_message batch[1000];
    for (int i = 0; i < 1000; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", i);
        batch[i] = message(ids[i], (char)i, "ORU^R01");
    }
    ck_assert_int_eq(store_commit(s, batch, 1000, err, sizeof err), 0);
    ck_assert_uint_eq(store_stats(s).transactions, 1);
    ck_assert_uint_eq(store_stats(s).messages, 1000);
    store_close(s);
}
END_TEST

START_TEST(test_private_file_and_failures)
{
    char err[256];
    struct stat st;
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    store_close(s);
    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/solent.db", dir);
    ck_assert_ptr_null(store_open(missing, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
    /* a file that is not a database is refused, not overwritten */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "w");
    fputs("this is not a database, and it is long enough to be read as a header......", f);
    fclose(f);
    ck_assert_ptr_null(store_open(junk, err, sizeof err));
    ck_assert(err[0] != '\0');
}
END_TEST

/* Queues one message with one outbox row for (destination, key); returns the row's id. */
static int64_t queue(struct store *s, const char *dest, const char *key, const char *ctrl)
{
    struct store_outbox o = {dest, key, "{\"resourceType\":\"Bundle\"}", 26, 3};
    struct store_message m = message(ctrl, ctrl[0], "ADT^A08");
    char err[256];
    m.outbox = &o;
    m.noutbox = 1;
    ck_assert_int_eq(store_commit(s, &m, 1, err, sizeof err), 0);
    return m.id; /* message ids and outbox ids advance together here: one row each */
}

static int64_t leases[64]; /* by outbox id: the lease its last claim took */

/* Claims for dest at now and returns how many; ids[] gets the claimed outbox ids. */
static int claim(struct store *s, const char *dest, int64_t now, size_t max, int64_t *ids)
{
    struct store_claim *c;
    char err[256];
    int n = store_claim(s, dest, now, now + 1000, max, &c, err, sizeof err);
    ck_assert_msg(n >= 0, "%s", err);
    for (int i = 0; i < n; i++) {
        ids[i] = c[i].id;
        ck_assert_int_lt(c[i].id, 64);
        leases[c[i].id] = c[i].lease;
        ck_assert_uint_eq(c[i].entries, 3); /* as queued: what the answer must match */
        ck_assert_uint_eq(c[i].bundle_len, 26);
    }
    store_claims_free(c, (size_t)n);
    return n;
}

static void record(struct store *s, int64_t id, enum store_result_kind kind, int64_t next)
{
    struct store_result r = {.id = id,
                             .lease = leases[id],
                             .kind = kind,
                             .http_status = kind == STORE_DEAD ? 400 : 200,
                             .at_ms = 1,
                             .next_attempt_ms = next,
                             .error = "HTTP 400",
                             .response = "{\"resourceType\":\"OperationOutcome\"}",
                             .response_len = 35};
    char err[256];
    ck_assert_int_eq(store_record(s, &r, 1, NULL, err, sizeof err), 0);
}

/* The ordering-key scheduler: one head per key, leases hold a key, a retry waits, a dead
 * letter does not block the key's later rows, destinations are apart. */
START_TEST(test_queue_order_per_key)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    /* outbox ids 1..5: key a gets 1, 3, 5; key b gets 2, 4; another destination: 6 */
    queue(s, "phr", "phr|a", "1");
    queue(s, "phr", "phr|b", "2");
    queue(s, "phr", "phr|a", "3");
    queue(s, "phr", "phr|b", "4");
    queue(s, "phr", "phr|a", "5");
    queue(s, "copy", "copy|a", "6");
    int64_t ids[16];
    ck_assert_int_eq(claim(s, "phr", 100, 10, ids), 2); /* the heads only */
    ck_assert_int_eq(ids[0], 1);
    ck_assert_int_eq(ids[1], 2);
    ck_assert_int_eq(claim(s, "phr", 200, 10, ids), 0); /* both keys leased */
    ck_assert_int_eq(claim(s, "copy", 200, 10, ids), 1);
    ck_assert_int_eq(ids[0], 6);
    record(s, 1, STORE_DELIVERED, 0);
    ck_assert_int_eq(claim(s, "phr", 300, 10, ids), 1); /* a moves on; b still leased */
    ck_assert_int_eq(ids[0], 3);
    record(s, 2, STORE_RETRY, 5000);
    ck_assert_int_eq(claim(s, "phr", 400, 10, ids), 0);  /* b waits for its retry time */
    ck_assert_int_eq(claim(s, "phr", 5000, 10, ids), 2); /* 2 is due, 3's lease is over */
    ck_assert_int_eq(ids[0], 2);
    ck_assert_int_eq(ids[1], 3);
    record(s, 3, STORE_DEAD, 0); /* a dead head: a's next row is free */
    ck_assert_int_eq(claim(s, "phr", 5100, 10, ids), 1);
    ck_assert_int_eq(ids[0], 5);
    /* a lease that lapses (a crashed process) gives the row back */
    ck_assert_int_eq(claim(s, "phr", 7000, 10, ids), 2);
    ck_assert_int_eq(ids[0], 2);
    ck_assert_int_eq(ids[1], 5);
    ck_assert_int_eq(store_attach_engine(s, "test", err, sizeof err), 0);
    /* SQLite: one engine per file, so its start releases every lease; PostgreSQL: shared,
     * so a lease holds until it runs out */
    ck_assert_int_eq(claim(s, "phr", 7001, 1, ids), pg ? 0 : 1);
    if (pg)
        ck_assert_int_eq(claim(s, "phr", 8000, 1, ids), 1); /* run out: claimable */
    ck_assert_int_eq(ids[0], 2);                            /* max honoured */
    store_close(s);
}
END_TEST

struct counts {
    uint64_t delivered, dead, pending, in_flight, retrying;
    int64_t oldest;
};

static void on_status(void *arg, const struct store_dest_status *d)
{
    struct counts *c = arg;
    if (strcmp(d->destination, "phr") != 0)
        return;
    *c = (struct counts){d->delivered, d->dead,     d->pending,
                         d->in_flight, d->retrying, d->oldest_pending_ms};
}

static void on_gauge(void *arg, const struct store_queue_gauge *g)
{
    struct store_queue_gauge *out = arg;
    ck_assert_str_eq(g->destination, "phr");
    *out = *g;
    out->destination = NULL;
}

/* Status counts, queue gauges, the dead-letter list and a replay that replaces a dead
 * letter. */
START_TEST(test_status_dead_and_replay)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    queue(s, "phr", "phr|a", "1");
    queue(s, "phr", "phr|b", "2");
    queue(s, "phr", "phr|c", "3");
    int64_t ids[8];
    ck_assert_int_eq(claim(s, "phr", 100, 10, ids), 3);
    record(s, 1, STORE_DELIVERED, 0);
    record(s, 2, STORE_DEAD, 0);
    struct counts c = {0};
    ck_assert_int_eq(store_delivery_status(s, 200, on_status, &c), 0);
    ck_assert_uint_eq(c.delivered, 1);
    ck_assert_uint_eq(c.dead, 1);
    ck_assert_uint_eq(c.in_flight, 1); /* 3 is still leased */
    ck_assert_uint_eq(c.pending, 0);
    ck_assert_int_eq(c.oldest, 1700000000000);
    struct store_queue_gauge g = {0};
    ck_assert_int_eq(store_queue_gauges(s, on_gauge, &g), 0);
    ck_assert_uint_eq(g.queues, 1); /* key c: its head in flight; a delivered, b dead */
    ck_assert_uint_eq(g.dead, 1);
    ck_assert_int_eq(g.oldest_pending_ms, 1700000000000);
    struct store_dead *d;
    size_t n;
    ck_assert_int_eq(store_dead_list(s, "phr", 0, &d, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(d[0].outbox_id, 2);
    ck_assert_int_eq(d[0].message_id, 2);
    ck_assert_int_eq(d[0].http_status, 400);
    free(d);
    struct store_outbox o = {"phr", "phr|b", "{}", 2, 1};
    ck_assert_int_eq(store_enqueue(s, 2, 9000, &o, 1, 2, 9000, err, sizeof err), 0);
    ck_assert_int_eq(store_dead_list(s, NULL, 0, &d, &n), 0);
    ck_assert_uint_eq(n, 0); /* replayed: no longer listed */
    free(d);
    struct tally t = {0};
    struct store_filter all = {0};
    ck_assert_int_eq(store_list(s, &all, count, &t), 0);
    ck_assert_uint_eq(t.rows, 3);
    ck_assert_uint_eq(t.outbox, 4); /* message 2: its first row and the replay */
    g = (struct store_queue_gauge){0};
    ck_assert_int_eq(store_queue_gauges(s, on_gauge, &g), 0);
    ck_assert_uint_eq(g.queues, 2); /* b again, by its replay */
    ck_assert_uint_eq(g.dead, 0);
    c = (struct counts){0};
    ck_assert_int_eq(store_delivery_status(s, 200, on_status, &c), 0);
    ck_assert_uint_eq(c.dead, 0);
    ck_assert_uint_eq(c.pending, 1);
    struct strbuf raw;
    char listener[64];
    int64_t at;
    strbuf_init(&raw, 1 << 20);
    ck_assert_int_eq(store_message_get(s, 2, &raw, listener, sizeof listener, &at), 1);
    ck_assert_str_eq(listener, "pas");
    ck_assert_uint_eq(raw.len, 12);
    ck_assert_int_eq(store_message_get(s, 99, &raw, listener, sizeof listener, &at), 0);
    strbuf_cleanup(&raw);
    store_close(s);
}
END_TEST

static uint64_t purge_all(struct store *s, int64_t before_ms, size_t max, uint64_t *messages)
{
    struct store_purge p = {.before_ms = before_ms};
    char err[256];
    int rc, batches = 0;
    while ((rc = store_purge(s, &p, max, err, sizeof err)) == 1)
        batches++;
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(store_purge(s, &p, max, err, sizeof err), 0); /* a finished pass stays so */
    ck_assert_int_lt(batches, 20);
    *messages = p.messages;
    return p.outbox_rows;
}

/* Retention: old rows that are done go, in batches; what still waits stays with its
 * message; nothing younger than the cut goes; a second pass finds nothing. */
START_TEST(test_purge)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    const int64_t t0 = 1700000000000; /* when queue() receives */
    for (const char *c = "12345"; *c; c++)
        queue(s, "phr", (char[]){'p', '|', *c, '\0'}, (char[]){*c, '\0'});
    struct store_message m = message("6", '6', "ORU^R01"); /* an old AE: no outbox rows */
    m.status = STORE_ERROR;
    m.noutbox = 0;
    ck_assert_int_eq(store_commit(s, &m, 1, err, sizeof err), 0);
    struct store_outbox o = {"phr", "p|7", "{\"resourceType\":\"Bundle\"}", 26, 3};
    m = message("7", '7', "ADT^A01"); /* received later, delivered: outbox row 6 */
    m.received_at_ms = t0 + 60000;
    m.outbox = &o;
    ck_assert_int_eq(store_commit(s, &m, 1, err, sizeof err), 0);
    int64_t ids[8];
    ck_assert_int_eq(claim(s, "phr", t0 + 70000, 10, ids), 6);
    record(s, 1, STORE_DELIVERED, 0);
    record(s, 2, STORE_DEAD, 0); /* a dead letter not replayed: stays */
    record(s, 3, STORE_RETRY, t0 + 90000);
    record(s, 4, STORE_DEAD, 0); /* replayed below: the dead row goes, its message stays */
    record(s, 6, STORE_DELIVERED, 0);
    o.ordering_key = "p|4";
    ck_assert_int_eq(store_enqueue(s, 4, t0 + 80000, &o, 1, 4, t0 + 80000, err, sizeof err), 0);
    /* 5: pending (its lease lapses): stays */

    uint64_t messages;
    ck_assert_uint_eq(purge_all(s, t0 + 1, 2, &messages), 2); /* outbox rows 1 and 4 */
    ck_assert_uint_eq(messages, 2);                           /* messages 1 and 6 */
    struct tally t = {0};
    struct store_filter all = {0};
    ck_assert_int_eq(store_list(s, &all, count, &t), 0);
    ck_assert_uint_eq(t.rows, 5);   /* 2, 3, 4, 5, 7 */
    ck_assert_uint_eq(t.outbox, 5); /* one each; 4's is its replay */
    struct strbuf raw;
    char listener[64];
    int64_t at;
    strbuf_init(&raw, 1 << 20);
    ck_assert_int_eq(store_message_get(s, 1, &raw, listener, sizeof listener, &at), 0);
    ck_assert_int_eq(store_message_get(s, 4, &raw, listener, sizeof listener, &at), 1);
    strbuf_cleanup(&raw);
    struct store_dead *d;
    size_t n;
    ck_assert_int_eq(store_dead_list(s, NULL, 0, &d, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(d[0].outbox_id, 2);
    free(d);
    ck_assert_uint_eq(purge_all(s, t0 + 1, 2, &messages), 0); /* nothing more to do */
    ck_assert_uint_eq(messages, 0);
    /* a later cut takes message 7 and its delivered row; the queues keep working */
    ck_assert_uint_eq(purge_all(s, t0 + 100000, 100, &messages), 1);
    ck_assert_uint_eq(messages, 1);
    ck_assert_int_eq(claim(s, "phr", t0 + 200000, 10, ids), 3); /* 3 (retry), 5, 4's replay */
    t = (struct tally){0};
    ck_assert_int_eq(store_list(s, &all, count, &t), 0);
    ck_assert_uint_eq(t.rows, 4);
    store_close(s);
}
END_TEST

/* A store written by the first release (schema 1, frozen here as it shipped) with two
 * pending outbox rows of one patient: opening it migrates to the current schema; the rows
 * are claimable in order, their age taken from their message, their entry count unknown
 * (0: delivery counts them itself); once both are delivered the queue is empty. */
START_TEST(test_migrates_a_version_1_store)
{
    static const char *const v1 =
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL,"
        " listener TEXT NOT NULL, sending_app TEXT NOT NULL, sending_facility TEXT NOT NULL,"
        " control_id TEXT NOT NULL, message_type TEXT NOT NULL, content_hash BLOB NOT NULL,"
        " status TEXT NOT NULL CHECK (status IN"
        "   ('accepted', 'error', 'rejected', 'duplicate', 'parked')),"
        " error_code INTEGER NOT NULL DEFAULT 0, error_location TEXT NOT NULL DEFAULT '',"
        " raw BLOB NOT NULL, ack BLOB);"
        "CREATE INDEX messages_sender ON messages (sending_app, sending_facility, control_id);"
        "CREATE INDEX messages_received ON messages (received_at);"
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY,"
        " message_id INTEGER NOT NULL REFERENCES messages (id), destination TEXT NOT NULL,"
        " ordering_key TEXT NOT NULL, bundle BLOB NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
        "   ('pending', 'delivered', 'retry', 'dead')),"
        " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,"
        " last_http_status INTEGER, lease_until INTEGER);"
        "CREATE INDEX outbox_due ON outbox (destination, status, next_attempt_at);"
        "CREATE INDEX outbox_order ON outbox (ordering_key, id);"
        "INSERT INTO messages VALUES (1, 1700000000000, 'pas', 'PAS', 'RHM', 'C1', 'ADT^A01',"
        " x'00', 'accepted', 0, '', x'4d5348', NULL);"
        "INSERT INTO outbox (message_id, destination, ordering_key, bundle)"
        " VALUES (1, 'phr', 'phr|k', x'7b7d'), (1, 'phr', 'phr|k', x'7b207d');"
        "PRAGMA user_version = 1;";
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(store_schema_version(s), current_version());
    struct tally t = {0};
    struct store_filter all = {0};
    ck_assert_int_eq(store_list(s, &all, count, &t), 0);
    ck_assert_uint_eq(t.rows, 1);
    ck_assert_uint_eq(t.outbox, 2); /* counted by the migration */
    struct store_claim *c;
    ck_assert_int_eq(store_claim(s, "phr", 100, 200, 10, &c, err, sizeof err), 1);
    ck_assert_int_eq(c[0].id, 1);
    leases[1] = c[0].lease;
    ck_assert_int_eq(c[0].created_at_ms, 1700000000000);
    ck_assert_uint_eq(c[0].entries, 0);
    ck_assert_uint_eq(c[0].bundle_len, 2);
    store_claims_free(c, 1);
    record(s, 1, STORE_DELIVERED, 0);
    ck_assert_int_eq(store_claim(s, "phr", 100, 200, 10, &c, err, sizeof err), 1);
    ck_assert_int_eq(c[0].id, 2);
    leases[2] = c[0].lease;
    ck_assert_uint_eq(c[0].bundle_len, 3);
    store_claims_free(c, 1);
    record(s, 2, STORE_DELIVERED, 0);
    ck_assert_int_eq(store_claim(s, "phr", 300, 400, 10, &c, err, sizeof err), 0);
    store_close(s);
    ck_assert_int_eq(count_of("SELECT count(*) FROM outbox_heads"), 0); /* emptied: no head */
}
END_TEST

/* A lease holds its row until it runs out, renewed under its own generation only; one that
 * ran out and was claimed again belongs to the new claim: the old claim's result is dropped
 * (counted stale), the new one's recorded. */
START_TEST(test_lease_fencing)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    queue(s, "phr", "phr|a", "1");
    struct store_claim *first, *second;
    ck_assert_int_eq(store_claim(s, "phr", 100, 200, 10, &first, err, sizeof err), 1);
    ck_assert_int_eq(store_claim(s, "phr", 150, 300, 10, &second, err, sizeof err), 0); /* held */
    store_claims_free(second, 0);
    size_t lost = 9;
    int64_t until = 240, wrong = first[0].lease + 99;
    ck_assert_int_eq(
        store_renew(s, &first[0].id, &first[0].lease, &until, 1, &lost, err, sizeof err), 0);
    ck_assert_uint_eq(lost, 0);
    ck_assert_int_eq(store_claim(s, "phr", 220, 300, 10, &second, err, sizeof err),
                     0); /* renewed */
    store_claims_free(second, 0);
    until = 999; /* under a lease it does not hold: left alone */
    ck_assert_int_eq(store_renew(s, &first[0].id, &wrong, &until, 1, &lost, err, sizeof err), 0);
    ck_assert_uint_eq(lost, 1);
    ck_assert_int_eq(store_claim(s, "phr", 250, 400, 10, &second, err, sizeof err),
                     1); /* ran out */
    ck_assert_int_ne(first[0].lease, second[0].lease);
    struct store_result late = {.id = first[0].id,
                                .lease = first[0].lease,
                                .kind = STORE_DELIVERED,
                                .http_status = 200,
                                .at_ms = 260};
    size_t stale = 9;
    ck_assert_int_eq(store_record(s, &late, 1, &stale, err, sizeof err), 0);
    ck_assert_uint_eq(stale, 1);
    struct counts c = {0};
    ck_assert_int_eq(store_delivery_status(s, 270, on_status, &c), 0);
    ck_assert_uint_eq(c.delivered, 0); /* the stale result did not complete the row */
    ck_assert_uint_eq(c.in_flight, 1);
    struct store_result now = late;
    now.lease = second[0].lease;
    ck_assert_int_eq(store_record(s, &now, 1, &stale, err, sizeof err), 0);
    ck_assert_uint_eq(stale, 0);
    ck_assert_int_eq(store_delivery_status(s, 270, on_status, &c), 0);
    ck_assert_uint_eq(c.delivered, 1);
    store_claims_free(first, 1);
    store_claims_free(second, 1);
    store_close(s);
}
END_TEST

/* Two engines on one PostgreSQL database: a message both receive is stored once (the second
 * answered with the first's ACK), a head one has leased is not claimed by the other, and a
 * row queued by one while the other delivers its queue's head is delivered next. */
START_TEST(test_engines_share_the_work)
{
    char err[256];
    struct store *a = open_store(NULL, err, sizeof err), *b = open_store(NULL, err, sizeof err);
    ck_assert_msg(a && b, "%s", err);
    ck_assert_int_eq(store_attach_engine(a, "engine-a", err, sizeof err), 0);
    ck_assert_int_eq(store_attach_engine(b, "engine-b", err, sizeof err), 0);
    struct store_message ma = message("X1", 'x', "ADT^A01"), mb = ma;
    mb.ack = "MSH|OTHER", mb.ack_len = 9;
    ck_assert_int_eq(store_commit(a, &ma, 1, err, sizeof err), 0);
    ck_assert_int_eq(store_commit(b, &mb, 1, err, sizeof err), 0); /* it did not look first */
    ck_assert_int_eq(mb.status, STORE_DUPLICATE);
    ck_assert_uint_eq(mb.ack_len, 7);
    ck_assert_int_eq(memcmp(mb.ack, "MSH|ACK", 7), 0); /* the first copy's ACK */
    struct tally t = {0};
    struct store_filter accepted = {.status = "accepted"};
    ck_assert_int_eq(store_list(a, &accepted, count, &t), 0);
    ck_assert_uint_eq(t.rows, 1);
    ck_assert_uint_eq(t.outbox, 1);
    queue(a, "phr", "phr|q", "2");
    struct store_claim *ca, *cb;
    ck_assert_int_eq(store_claim(a, "phr", 100, 10000, 10, &ca, err, sizeof err), 2);
    ck_assert_int_eq(store_claim(b, "phr", 100, 10000, 10, &cb, err, sizeof err), 0);
    store_claims_free(cb, 0);
    int64_t next = queue(b, "phr", "phr|q", "3"); /* behind a's leased head */
    (void)next;
    struct store_result done = {.id = ca[1].id,
                                .lease = ca[1].lease,
                                .kind = STORE_DELIVERED,
                                .http_status = 200,
                                .at_ms = 200};
    ck_assert_int_eq(store_record(a, &done, 1, NULL, err, sizeof err), 0);
    ck_assert_int_eq(store_claim(b, "phr", 300, 10000, 10, &cb, err, sizeof err), 1);
    ck_assert_str_eq(cb[0].ordering_key, "phr|q"); /* the queue's next row, for b */
    store_claims_free(ca, 2);
    store_claims_free(cb, 1);
    store_close(a);
    store_close(b);
}
END_TEST

/* ---- every store operation leaves the connection idle, in FULL, and writable after another
 * process wrote (a statement left mid-step broke that: replays stalled, 2026-12) ---- */

static void op_commit(struct store *s)
{
    queue(s, "phr", "phr|z", "Z");
}

static void op_duplicate_same(struct store *s)
{
    struct store_message m = message("1", '1', "ADT^A08");
    struct strbuf ack;
    strbuf_init(&ack, 4096);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "1", m.hash, &ack), 1);
    strbuf_cleanup(&ack);
}

static void op_duplicate_other(struct store *s)
{
    struct store_message m = message("1", 'x', "ADT^A08");
    struct strbuf ack;
    strbuf_init(&ack, 4096);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "1", m.hash, &ack), 2);
    ck_assert_int_eq(store_find_duplicate(s, "PAS", "RHM", "none", m.hash, &ack), 0);
    strbuf_cleanup(&ack);
}

static void op_list(struct store *s)
{
    struct tally t = {0};
    struct store_filter f = {.limit = 1};
    ck_assert_int_eq(store_list(s, &f, count, &t), 0);
}

static void op_claim_record(struct store *s)
{
    int64_t ids[8];
    ck_assert_int_eq(claim(s, "phr", 100, 1, ids), 1);
    record(s, ids[0], STORE_RETRY, 5000);
}

static void op_release(struct store *s)
{
    int64_t ids[8];
    char err[256];
    int n = claim(s, "phr", 100, 1, ids);
    ck_assert_int_eq(store_release(s, ids, (size_t)n, err, sizeof err), 0);
    size_t released;
    ck_assert_int_eq(store_retry_now(s, "phr", 200, &released, err, sizeof err), 0);
    ck_assert_int_eq(store_attach_engine(s, "test", err, sizeof err), 0);
}

static void op_reports(struct store *s)
{
    struct counts c = {0};
    struct store_queue_gauge g = {0};
    struct store_dead *d = NULL;
    size_t n;
    ck_assert_int_eq(store_delivery_status(s, 200, on_status, &c), 0);
    ck_assert_int_eq(store_queue_gauges(s, on_gauge, &g), 0);
    ck_assert_int_eq(store_dead_list(s, NULL, 0, &d, &n), 0);
    free(d);
    ck_assert_int_eq(store_schema_version(s), current_version());
}

static void op_message_and_replay(struct store *s)
{
    struct strbuf raw;
    char listener[64], err[256];
    int64_t at;
    strbuf_init(&raw, 1 << 20);
    ck_assert_int_eq(store_message_get(s, 1, &raw, listener, sizeof listener, &at), 1);
    strbuf_cleanup(&raw);
    struct store_outbox o = {"phr", "phr|r", "{}", 2, 1};
    ck_assert_int_eq(store_enqueue(s, 1, 1, &o, 1, 0, 1, err, sizeof err), 0);
}

static void op_purge(struct store *s)
{
    struct store_purge p = {.before_ms = 1};
    char err[256];
    while (store_purge(s, &p, 10, err, sizeof err) == 1)
        ;
    ck_assert_int_eq(p.phase, 2);
}

static void op_floor(struct store *s)
{
    char err[256];
    ck_assert_msg(store_floor(s, "raw", 3, "bundle", 6, 2, err, sizeof err) == 0, "%s", err);
}

static void (*const store_ops[])(struct store *) = {
    op_commit,  op_duplicate_same, op_duplicate_other,    op_list,  op_claim_record,
    op_release, op_reports,        op_message_and_replay, op_purge, op_floor,
};

/* Another connection (as `solent replay` is another process) writes at once. */
static void other_writes(void)
{
    if (pg) {
        PGconn *db = pg_connect();
        pg_exec(db, "CREATE TABLE IF NOT EXISTS probe (x int); INSERT INTO probe VALUES (1)");
        PQfinish(db);
        return;
    }
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 100);
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS probe (x);"
                          " INSERT INTO probe VALUES (1); COMMIT",
                          NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "another writer: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
}

struct seen_delivery {
    size_t n, attempts;
    char outcomes[64], status[16], bundle[64], response[64];
    int64_t delivered_at;
};

static void on_delivery(void *arg, const struct store_delivery *d)
{
    struct seen_delivery *x = arg;
    x->n++;
    x->attempts = d->nhistory;
    x->outcomes[0] = '\0';
    for (size_t i = 0; i < d->nhistory; i++) {
        strncat(x->outcomes, d->history[i].outcome, sizeof x->outcomes - strlen(x->outcomes) - 2);
        strcat(x->outcomes, ",");
    }
    snprintf(x->status, sizeof x->status, "%s", d->status);
    snprintf(x->bundle, sizeof x->bundle, "%.*s", (int)d->bundle_len, d->bundle ? d->bundle : "");
    snprintf(x->response, sizeof x->response, "%.*s", d->response ? (int)d->response_len : 1,
             d->response ? d->response : "-");
    x->delivered_at = d->delivered_at_ms;
}

struct seen_row {
    size_t n;
    int64_t ids[8];
    char route[32], ack[32];
};

static void on_row(void *arg, const struct store_row *r)
{
    struct seen_row *x = arg;
    if (x->n < 8)
        x->ids[x->n] = r->id;
    x->n++;
    snprintf(x->route, sizeof x->route, "%s", r->route);
    snprintf(x->ack, sizeof x->ack, "%.*s", (int)r->ack_len, r->ack ? r->ack : "");
}

static void on_audit(void *arg, const struct store_audit *a)
{
    char *out = arg;
    char line[128];
    snprintf(line, sizeof line, "%s/%s/%lld/%s;", a->who, a->via, (long long)a->message_id,
             a->what);
    strcat(out, line);
}

/* What the console reads: a message's route and ACK, filters and pages, each outbox row with
 * every attempt (and its content only when asked), the audit of content reads; retention takes
 * the attempts with their rows. */
START_TEST(test_console_reads)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(store_attach_engine(s, "e1", err, sizeof err), 0);
    struct store_outbox o = {"phr", "phr|k1", "{\"resourceType\":\"Bundle\"}", 26, 3};
    struct store_message m[3];
    const char *listeners[] = {"pas", "lab", "pas"}, *apps[] = {"PAS", "LAB", "PAS"};
    for (int i = 0; i < 3; i++) {
        char ctrl[8];
        snprintf(ctrl, sizeof ctrl, "C%d", i);
        m[i] = message(i == 0 ? "C0" : i == 1 ? "C1" : "C2", (char)('a' + i), "ADT^A01");
        m[i].listener = listeners[i], m[i].sending_app = apps[i];
        m[i].route = "adt", m[i].outbox = &o, m[i].noutbox = 1;
    }
    ck_assert_int_eq(store_commit(s, m, 3, err, sizeof err), 0);
    struct store_filter f = {.listener = "pas"};
    struct seen_row rows = {0};
    ck_assert_int_eq(store_list(s, &f, on_row, &rows), 0);
    ck_assert_uint_eq(rows.n, 2);
    ck_assert(rows.ids[0] == m[2].id && rows.ids[1] == m[0].id); /* newest first */
    ck_assert_str_eq(rows.route, "adt");
    ck_assert_str_eq(rows.ack, "MSH|ACK");
    f = (struct store_filter){.sending_app = "PAS", .before_id = m[2].id}; /* the next page */
    rows = (struct seen_row){0};
    ck_assert_int_eq(store_list(s, &f, on_row, &rows), 0);
    ck_assert(rows.n == 1 && rows.ids[0] == m[0].id);
    f = (struct store_filter){.id = m[1].id, .until_ms = 1700000000001};
    rows = (struct seen_row){0};
    ck_assert_int_eq(store_list(s, &f, on_row, &rows), 0);
    ck_assert(rows.n == 1 && rows.ids[0] == m[1].id);
    f.until_ms = 1700000000000; /* received before: not this one */
    rows = (struct seen_row){0};
    ck_assert_int_eq(store_list(s, &f, on_row, &rows), 0);
    ck_assert_uint_eq(rows.n, 0);

    /* m[0]'s row: a retry, then delivered */
    int64_t ids[4];
    ck_assert_int_eq(claim(s, "phr", 10, 1, ids), 1);
    record(s, ids[0], STORE_RETRY, 20);
    ck_assert_int_eq(claim(s, "phr", 30, 1, ids), 1);
    struct store_result done = {.id = ids[0],
                                .lease = leases[ids[0]],
                                .kind = STORE_DELIVERED,
                                .http_status = 200,
                                .at_ms = 31,
                                .locations = "Patient/1/_history/1"};
    ck_assert_int_eq(store_record(s, &done, 1, NULL, err, sizeof err), 0);
    struct seen_delivery d = {0};
    ck_assert_int_eq(store_deliveries(s, m[0].id, false, on_delivery, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.outcomes, "retry,delivered,");
    ck_assert_str_eq(d.status, "delivered");
    ck_assert_int_eq(d.delivered_at, 31);
    ck_assert_str_eq(d.bundle, ""); /* no content unless asked */
    ck_assert_str_eq(d.response, "-");
    d = (struct seen_delivery){0};
    ck_assert_int_eq(store_deliveries(s, m[0].id, true, on_delivery, &d), 0);
    ck_assert_str_eq(d.bundle, "{\"resourceType\":\"Bundle\"}");
    ck_assert_str_eq(d.response, "-");                /* delivered: no answer kept */
    ck_assert_int_eq(claim(s, "phr", 40, 1, ids), 1); /* m[1]'s row, refused: its answer kept */
    record(s, ids[0], STORE_DEAD, 0);
    d = (struct seen_delivery){0};
    ck_assert_int_eq(store_deliveries(s, m[1].id, true, on_delivery, &d), 0);
    ck_assert_str_eq(d.outcomes, "dead,");
    ck_assert_str_eq(d.response, "{\"resourceType\":\"OperationOutcome\"}");
    d = (struct seen_delivery){0};
    ck_assert_int_eq(store_deliveries(s, 999, true, on_delivery, &d), 0);
    ck_assert_uint_eq(d.n, 0);

    struct store_audit a = {
        .at_ms = 5, .who = "ops", .via = "api", .what = "raw,bundles", .message_id = m[0].id};
    ck_assert_int_eq(store_audit_add(s, &a, err, sizeof err), 0);
    a.at_ms = 6, a.who = "alice", a.via = "cli", a.what = "raw";
    ck_assert_int_eq(store_audit_add(s, &a, err, sizeof err), 0);
    char listed[512] = "", want[512];
    ck_assert_int_eq(store_audit_list(s, 0, 0, on_audit, listed), 0);
    snprintf(want, sizeof want, "alice/cli/%lld/raw;ops/api/%lld/raw,bundles;", (long long)m[0].id,
             (long long)m[0].id);
    ck_assert_str_eq(listed, want);
    listed[0] = '\0';
    ck_assert_int_eq(store_audit_list(s, 6, 0, on_audit, listed), 0);
    ck_assert_ptr_nonnull(strstr(listed, "alice") == listed ? listed : NULL);
    ck_assert_ptr_null(strstr(listed, "ops"));

    /* retention: the delivered row goes with its attempts; the audit stays */
    struct store_purge pp = {.before_ms = INT64_MAX};
    while (store_purge(s, &pp, 10, err, sizeof err) == 1)
        ;
    d = (struct seen_delivery){0};
    ck_assert_int_eq(store_deliveries(s, m[0].id, false, on_delivery, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    listed[0] = '\0';
    ck_assert_int_eq(store_audit_list(s, 0, 0, on_audit, listed), 0);
    ck_assert_str_eq(listed, want);
    store_close(s);
    /* no attempt left behind: only the dead letter's, which waits to be replayed */
    ck_assert_int_eq(count_of("SELECT count(*) FROM attempts"), 1);
}
END_TEST

/* The benchmark's floor: bare rows in tables of their own, made on first use and dropped
 * with n = 0, the store's messages untouched. */
START_TEST(test_floor)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    for (int round = 0; round < 2; round++) { /* made again after the drop */
        for (int i = 0; i < 3; i++)
            ck_assert_msg(store_floor(s, "raw", 3, "bundle", 6, 16, err, sizeof err) == 0, "%s",
                          err);
        ck_assert_msg(store_floor(s, NULL, 0, NULL, 0, 0, err, sizeof err) == 0, "%s", err);
    }
    struct tally t = {0};
    struct store_filter f = {0};
    ck_assert_int_eq(store_list(s, &f, count, &t), 0);
    ck_assert_uint_eq(t.rows, 0);
    ck_assert(store_is_idle(s));
    store_close(s);
    /* the tables went with the drop */
    ck_assert_int_eq(count_of(pg ? "SELECT count(*) FROM pg_tables"
                                   " WHERE tablename LIKE 'solent_floor%'"
                                 : "SELECT count(*) FROM sqlite_master"
                                   " WHERE name LIKE 'solent_floor%'"),
                     0);
}
END_TEST

START_TEST(test_each_operation_leaves_the_store_idle)
{
    char err[256];
    struct store *s = open_store(NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert(store_is_idle(s));
    ck_assert_int_eq(store_synchronous(s), 2); /* FULL, from the open */
    queue(s, "phr", "phr|a", "1");
    for (size_t i = 0; i < sizeof store_ops / sizeof store_ops[0]; i++) {
        store_ops[i](s);
        ck_assert_msg(store_is_idle(s), "operation %zu leaves a statement or transaction open", i);
        ck_assert_msg(store_synchronous(s) == 2, "operation %zu leaves synchronous at %d", i,
                      store_synchronous(s));
        other_writes();
        struct store_claim *c;
        int n =
            store_claim(s, "nowhere", 0, 1, 1, &c, err, sizeof err); /* a write: BEGIN IMMEDIATE */
        ck_assert_msg(n >= 0, "after operation %zu and another writer: %s", i, err);
        store_claims_free(c, (size_t)n);
    }
    store_close(s);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create(pg ? "postgres" : "sqlite");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_batch_is_one_transaction_and_survives_reopen);
    tcase_add_test(tc, test_ledger);
    tcase_add_test(tc, test_sealed_store);
    tcase_add_test(tc, test_duplicates);
    tcase_add_test(tc, test_many_messages_one_transaction);
    tcase_add_test(tc, test_queue_order_per_key);
    tcase_add_test(tc, test_lease_fencing);
    tcase_add_test(tc, test_status_dead_and_replay);
    tcase_add_test(tc, test_purge);
    tcase_add_test(tc, test_each_operation_leaves_the_store_idle);
    tcase_add_test(tc, test_floor);
    tcase_add_test(tc, test_console_reads);
    if (pg) {
        tcase_add_test(tc, test_engines_share_the_work);
    } else {
        tcase_add_test(tc, test_private_file_and_failures);
        tcase_add_test(tc, test_migrates_a_version_1_store);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *kind = getenv("SOLENT_TEST_STORE");
    pg = kind && strcmp(kind, "postgres") == 0;
    if (pg && (!getenv("SOLENT_TEST_PG_DSN") || !getenv("SOLENT_TEST_PG_PASSWORD_FILE"))) {
        fprintf(stderr, "SOLENT_TEST_STORE=postgres needs SOLENT_TEST_PG_DSN and "
                        "SOLENT_TEST_PG_PASSWORD_FILE (tests/pg/cluster.sh start prints them)\n");
        return 1;
    }
    return test_run(store_suite());
}
