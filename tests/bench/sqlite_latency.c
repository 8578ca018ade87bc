/*
 * solent-sqlite-latency — SQLite's own commit latency at a given arrival rate, for the
 * ingest benchmark's p99 goal: messages arrive at RATE a second (a pacing thread), one
 * committing thread takes whatever has arrived and commits it in one transaction (group
 * commit, as the store thread does), each message being its raw bytes and its bundle
 * inserted into two bare tables, WAL and synchronous = FULL as the store has them. The
 * latency of a message is from its arrival to its transaction's return. CHECKPOINT_FRAMES is
 * SQLite's wal_autocheckpoint (1000, SQLite's default and the store's, when left out).
 *
 *   solent-sqlite-latency DB RATE SECONDS [CHECKPOINT_FRAMES]
 *
 * Prints the messages, their mean batch and the latency p50, p99 and maximum. DB must not
 * exist; it is removed afterwards.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    double *arrived; /* arrival time of each message */
    long head, tail, total;
    double rate;
    int done;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0, 0};

static void *pace(void *arg)
{
    (void)arg;
    double t0 = now();
    for (long i = 0; i < q.total; i++) {
        double wait = t0 + (double)i / q.rate - now();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
        pthread_mutex_lock(&q.lock);
        q.arrived[q.tail++] = now();
        pthread_cond_signal(&q.wake);
        pthread_mutex_unlock(&q.lock);
    }
    pthread_mutex_lock(&q.lock);
    q.done = 1;
    pthread_cond_signal(&q.wake);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4 || access(argv[1], F_OK) == 0) {
        fprintf(stderr, "usage: solent-sqlite-latency DB RATE SECONDS [CHECKPOINT_FRAMES]"
                        " (DB must not exist)\n");
        return 2;
    }
    q.rate = atof(argv[2]);
    q.total = (long)(q.rate * atof(argv[3]));
    int frames = argc > 4 ? atoi(argv[4]) : 1000;
    if (q.rate <= 0 || q.total <= 0 || frames < 0) {
        fprintf(stderr, "solent-sqlite-latency: RATE and SECONDS must be positive\n");
        return 2;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *ins[2] = {NULL, NULL};
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA wal_autocheckpoint = %d", frames);
    if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "CREATE TABLE m (id INTEGER PRIMARY KEY, raw BLOB);"
                     "CREATE TABLE b (id INTEGER PRIMARY KEY, bundle BLOB);",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO m (raw) VALUES (?)", -1, &ins[0], NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO b (bundle) VALUES (?)", -1, &ins[1], NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "solent-sqlite-latency: %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    static char raw[1100], bundle[3600]; /* the sample A01 and its bundle, in size */
    memset(raw, 'r', sizeof raw);
    memset(bundle, 'b', sizeof bundle);
    q.arrived = malloc(sizeof *q.arrived * (size_t)q.total);
    double *latency = malloc(sizeof *latency * (size_t)q.total);
    if (!q.arrived || !latency)
        return 1;
    long n = 0, commits = 0;
    int failed = 0;
    pthread_t pacer;
    pthread_create(&pacer, NULL, pace, NULL);
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.head == q.tail && !q.done)
            pthread_cond_wait(&q.wake, &q.lock);
        long from = q.head, to = q.tail;
        q.head = q.tail;
        pthread_mutex_unlock(&q.lock);
        if (from == to)
            break; /* done, and nothing left */
        failed |= sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK;
        for (long i = from; i < to; i++) {
            sqlite3_bind_blob(ins[0], 1, raw, sizeof raw, SQLITE_STATIC);
            sqlite3_bind_blob(ins[1], 1, bundle, sizeof bundle, SQLITE_STATIC);
            for (int k = 0; k < 2; k++) {
                failed |= sqlite3_step(ins[k]) != SQLITE_DONE;
                sqlite3_reset(ins[k]);
            }
        }
        failed |= sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
        commits++;
        double t = now();
        for (long i = from; i < to; i++)
            latency[n++] = t - q.arrived[i];
    }
    pthread_join(pacer, NULL);
    qsort(latency, (size_t)n, sizeof *latency, by_value);
    printf("sqlite latency: %.0f messages/s offered, checkpoint every %d frames: %ld messages, "
           "%.1f a commit, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           q.rate, frames, n, (double)n / (double)(commits ? commits : 1), latency[n / 2] * 1e3,
           latency[n * 99 / 100] * 1e3, latency[n - 1] * 1e3);
    sqlite3_finalize(ins[0]);
    sqlite3_finalize(ins[1]);
    sqlite3_close(db);
    static const char *const tails[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", argv[1], tails[i]);
        unlink(path);
    }
    free(q.arrived);
    free(latency);
    if (failed)
        fprintf(stderr, "solent-sqlite-latency: a statement failed\n");
    return failed;
}
