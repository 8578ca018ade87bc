/*
 * cmd_bench — `solent bench parse|convert [--seconds S] FILE|DIR...`: loads
 * every message into memory, then works through them in a loop on one core
 * for S seconds. parse: messages/s, MB/s and the mean time per message.
 * convert (parse + transform + JSON): messages/s and the median and 99th
 * percentile of the time per message. `solent bench fsync DIR`: the disk's
 * fdatasync rate, the ceiling for sequential durable commits. `solent bench store DIR FILE`:
 * the store's own ceiling — FILE's message and bundle committed over and over into a new
 * store in DIR, in batches of 1 and of 16, on one thread with no network; then SQLite's own
 * floor for the same bytes (two bare tables, the same durability). Figures, not tests:
 * nothing here passes or fails on speed.
 */
#include "engine/cmd_bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/cli_files.h"
#include "engine/store.h"
#include "engine/zoneinfo.h"
#include "parsers/grow.h"
#include "parsers/hl7.h"
#include "parsers/hl7_batch.h"
#include "transforms/transform.h"
#include "transforms/xf_json.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_parse(const struct cli_corpus *c, double seconds)
{
    struct hl7_msg m;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    size_t ok = 0, rejected = 0, rounds = 0;
    hl7_msg_init(&m);
    for (size_t i = 0; i < c->n; i++) /* one untimed pass: warm caches, count outcomes */
        hl7_msg_parse(&m, c->data[i], c->len[i], &o, &err) == 0 ? ok++ : rejected++;
    double t0 = now(), t1 = t0;
    while (t1 - t0 < seconds) {
        for (size_t i = 0; i < c->n; i++)
            (void)hl7_msg_parse(&m, c->data[i], c->len[i], &o, &err);
        rounds++;
        t1 = now();
    }
    hl7_msg_cleanup(&m);
    double el = t1 - t0, msgs = (double)rounds * (double)c->n;
    printf("bench parse: %zu messages, %zu bytes (mean %.0f bytes): %zu parsed, %zu rejected\n",
           c->n, c->bytes, (double)c->bytes / (double)c->n, ok, rejected);
    printf("  %.0f messages/s, %.1f MB/s, %.2f us per message (%zu rounds, %.1f s, one core)\n",
           msgs / el, (double)rounds * (double)c->bytes / el / 1e6, el / msgs * 1e6, rounds, el);
}

static _Thread_local struct strbuf json = {NULL, 0, 0, (size_t)-1}; /* the last bundle */
static const struct xf_config *site; /* the built-in configuration, its zone read */

/* Reads the built-in configuration's zone into site; -1 after saying why. */
static int load_site(void)
{
    char why[256];
    if (!site && !(site = zoneinfo_default_config(why, sizeof why)))
        fprintf(stderr, "solent bench: %s\n", why);
    return site ? 0 : -1;
}

/* One parse + transform + serialisation (into json); 1 when a bundle was made. */
static int convert_one(struct hl7_msg *m, const struct hl7_opts *o, const char *p, size_t n)
{
    struct hl7_err err;
    struct xf_ctx x;
    cJSON *bundle = NULL;
    if (hl7_msg_parse(m, p, n, o, &err) != 0)
        return 0;
    xf_init(&x, m, site);
    int made = transform_run(&x, &bundle) == 0;
    if (made) {
        strbuf_reset(&json);
        xf_json_write(bundle, &json);
    }
    xf_cleanup(&x); /* the bundle goes with the context's arena */
    return made;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* "median M, p99 P, max X" of n values (seconds, scaled by 1/div) into buf; sorts v. */
static void spread(double *v, size_t n, double div, char *buf, size_t len)
{
    qsort(v, n, sizeof *v, by_value);
    snprintf(buf, len, "median %.1f, p99 %.1f, max %.1f", v[n / 2] / div * 1e6,
             v[(n * 99) / 100] / div * 1e6, v[n - 1] / div * 1e6);
}

/* One line: the spread of the mean time per message, and of the best of the rounds
 * (the code's own cost, without what the shared machine adds). */
static void print_spread(const char *label, const double *sum, const double *best, size_t n,
                         double rounds)
{
    char mean_text[96], best_text[96];
    size_t cap = 0;
    if (n == 0)
        return;
    double *v = grow_array(NULL, &cap, n, sizeof *v);
    memcpy(v, sum, n * sizeof *v);
    spread(v, n, rounds, mean_text, sizeof mean_text);
    memcpy(v, best, n * sizeof *v);
    spread(v, n, 1, best_text, sizeof best_text);
    free(v);
    printf("  %-13s (%4zu): mean %s us | best of %.0f: %s us\n", label, n, mean_text, rounds,
           best_text);
}

/* Moves the entries whose ok[] is set to the front of both arrays; returns how many. */
static size_t partition(double *a, double *b, const char *ok, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        double ta = a[k], tb = b[k];
        a[k] = a[i], b[k] = b[i];
        a[i] = ta, b[i] = tb;
        k++;
    }
    return k;
}

static void run_convert(const struct cli_corpus *c, double seconds)
{
    struct hl7_msg m;
    struct hl7_opts o = hl7_opts_default();
    size_t made = 0, rounds = 0, cap = 0, cap2 = 0, cap3 = 0;
    double *sum = grow_array(NULL, &cap, c->n, sizeof *sum);    /* seconds per message */
    double *best = grow_array(NULL, &cap3, c->n, sizeof *best); /* fastest round */
    char *ok = grow_array(NULL, &cap2, c->n, 1);                /* 1: it converts */
    hl7_msg_init(&m);
    for (size_t i = 0; i < c->n; i++) { /* one untimed pass: warm caches, count outcomes */
        ok[i] = (char)convert_one(&m, &o, c->data[i], c->len[i]);
        made += (size_t)ok[i];
        sum[i] = 0, best[i] = 1e9;
    }
    double t0 = now(), t1 = t0;
    while (t1 - t0 < seconds) {
        for (size_t i = 0; i < c->n; i++) {
            double s = now();
            convert_one(&m, &o, c->data[i], c->len[i]);
            double d = now() - s;
            sum[i] += d;
            best[i] = d < best[i] ? d : best[i];
        }
        rounds++;
        t1 = now();
    }
    hl7_msg_cleanup(&m);
    double el = t1 - t0, msgs = (double)rounds * (double)c->n;
    printf("bench convert: %zu messages, %zu bytes: %zu converted, %zu not (unsupported or "
           "invalid)\n  %.0f messages/s over all of them (%zu rounds, %.1f s, one core)\n",
           c->n, c->bytes, made, c->n - made, msgs / el, rounds, el);
    print_spread("all", sum, best, c->n, (double)rounds);
    size_t k = partition(sum, best, ok, c->n); /* converted ones first */
    print_spread("converted", sum, best, k, (double)rounds);
    print_spread("not converted", sum + k, best + k, c->n - k, (double)rounds);
    free(sum);
    free(best);
    free(ok);
}

/* The disk's own durable-write rate: 4 KiB overwrites, each followed by fdatasync, for
 * `seconds` in dir — the physical limit on sequential commits there. */
static int run_fsync(const char *dir, double seconds)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.solent-fsync-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "solent bench: cannot write in %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char block[4096];
    memset(block, 'x', sizeof block);
    size_t n = 0;
    double t0 = now(), t1 = t0;
    while (t1 - t0 < seconds) {
        if (pwrite(fd, block, sizeof block, (off_t)(n % 16) * 4096) != (ssize_t)sizeof block ||
            fdatasync(fd) != 0) {
            fprintf(stderr, "solent bench: write or fdatasync failed in %s: %s\n", dir,
                    strerror(errno));
            close(fd);
            unlink(path);
            return 1;
        }
        n++;
        t1 = now();
    }
    close(fd);
    unlink(path);
    printf("bench fsync: %s: %.0f fdatasync/s (%.3f ms each, %zu in %.1f s)\n", dir,
           (double)n / (t1 - t0), (t1 - t0) / (double)n * 1e3, n, t1 - t0);
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Removes the database at path with its WAL and shared-memory files. */
static void remove_db(const char *path)
{
    static const char *const tails[] = {"", "-wal", "-shm"};
    char p[4096];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, tails[i]);
        unlink(p);
    }
}

/* What one benchmark commits: the sample's bytes and bundle, and where they go. */
struct batch_target {
    const char *raw, *bundle;
    size_t raw_len, bundle_len;
    struct store *store; /* Solent's store, or the database alone (store_floor) */
    size_t seq;          /* messages so far: distinct control ids and hashes */
};

/* One batch of n messages in one transaction into Solent's store, as the store thread does
 * it (a duplicate check per message, then the commit); 0 when committed. */
static int commit_store(struct batch_target *t, size_t n)
{
    static const char ack[] = "MSH|^~\\&|SOLENT|TRUST|PAS|RHM|20261129120000||ACK^A01^ACK|"
                              "A1|P|2.5.1\rMSA|AA|B000000001\r";
    struct store_outbox ob = {"local", "local|NHS|9449305552", t->bundle, t->bundle_len, 4};
    struct store_message batch[16];
    char ids[16][32], err[256];
    for (size_t i = 0; i < n; i++, t->seq++) {
        snprintf(ids[i], sizeof ids[i], "B%09zu", t->seq);
        batch[i] = (struct store_message){.received_at_ms = store_now_ms(),
                                          .listener = "bench",
                                          .sending_app = "PAS",
                                          .sending_facility = "RHM",
                                          .control_id = ids[i],
                                          .message_type = "ADT^A01",
                                          .status = STORE_ACCEPTED,
                                          .error_location = "",
                                          .raw = t->raw,
                                          .raw_len = t->raw_len,
                                          .ack = ack,
                                          .ack_len = sizeof ack - 1,
                                          .outbox = &ob,
                                          .noutbox = 1};
        memcpy(batch[i].hash, &t->seq, sizeof t->seq); /* distinct, as different messages */
        struct strbuf first;
        strbuf_init(&first, 1 << 16);
        (void)store_find_duplicate(t->store, "PAS", "RHM", ids[i], batch[i].hash, &first);
        strbuf_cleanup(&first);
    }
    if (store_commit(t->store, batch, n, err, sizeof err) != 0) {
        fprintf(stderr, "solent bench: commit failed: %s\n", err);
        return -1;
    }
    return 0;
}

/* The same bytes into two bare tables, nothing else: the database's floor. */
static int commit_floor(struct batch_target *t, size_t n)
{
    char err[256];
    if (store_floor(t->store, t->raw, t->raw_len, t->bundle, t->bundle_len, n, err, sizeof err)) {
        fprintf(stderr, "solent bench: %s\n", err);
        return -1;
    }
    return 0;
}

/* Batches of 1, then of 16, each for `seconds`: a line of figures each; 0 when all went. */
static int time_batches(const char *label, int (*commit)(struct batch_target *, size_t),
                        struct batch_target *t, double seconds)
{
    for (size_t size = 1; size <= 16; size += 15) {
        size_t msgs = 0, commits = 0;
        double t0 = now(), c0 = cpu_now(), t1 = t0;
        while (t1 - t0 < seconds) {
            if (commit(t, size) != 0)
                return -1;
            msgs += size;
            commits++;
            t1 = now();
        }
        double el = t1 - t0, cpu = cpu_now() - c0;
        printf("bench store: %sbatches of %zu: %.0f messages/s, %.0f commits/s, %.2f ms per "
               "commit, CPU %.0f us per message (%zu messages, %.1f s)\n",
               label, size, (double)msgs / el, (double)commits / el, el / (double)commits * 1e3,
               cpu / (double)msgs * 1e6, msgs, el);
    }
    return 0;
}

/* The store alone: what intake's store thread does per batch (a duplicate check per
 * message, one transaction), then SQLite's floor on this disk for the same bytes (two bare
 * tables in a new store, WAL and synchronous = FULL as intake commits: store_floor); each
 * into a new database in dir, removed afterwards. */
static int run_store(const char *dir, const char *file, double seconds)
{
    struct cli_paths paths;
    struct cli_corpus c = {0};
    char why[512], path[4096], floor_path[4096], err[256];
    cli_paths_init(&paths);
    int rc = 1;
    if (cli_paths_add(&paths, file, why, sizeof why) != 0)
        fprintf(stderr, "solent bench: %s\n", why);
    else if (cli_corpus_load(&c, &paths, "solent bench") == 0)
        rc = 0;
    else
        fprintf(stderr, "solent bench: no message in %s\n", file);
    struct hl7_msg m;
    struct hl7_opts o = hl7_opts_default();
    hl7_msg_init(&m);
    if (rc == 0 && load_site() != 0)
        rc = 1;
    if (rc == 0 && !convert_one(&m, &o, c.data[0], c.len[0])) {
        fprintf(stderr, "solent bench: %s does not convert\n", file);
        rc = 1;
    }
    snprintf(path, sizeof path, "%s/bench-store.db", dir);
    snprintf(floor_path, sizeof floor_path, "%s/bench-floor.db", dir);
    const char *exists = access(path, F_OK) == 0         ? path
                         : access(floor_path, F_OK) == 0 ? floor_path
                                                         : NULL;
    if (rc == 0 && exists) {
        fprintf(stderr, "solent bench: %s exists: a new store is measured\n", exists);
        rc = 1;
    }
    struct batch_target t = {.raw = c.n ? c.data[0] : NULL,
                             .bundle = json.p,
                             .raw_len = c.n ? c.len[0] : 0,
                             .bundle_len = json.len};
    if (rc == 0 && !(t.store = store_open(path, err, sizeof err))) {
        fprintf(stderr, "solent bench: %s\n", err);
        rc = 1;
    }
    if (rc == 0)
        rc = time_batches("", commit_store, &t, seconds);
    store_close(t.store);
    if (t.store)
        remove_db(path);
    t.store = NULL;
    if (rc == 0 && !(t.store = store_open(floor_path, err, sizeof err))) {
        fprintf(stderr, "solent bench: %s\n", err);
        rc = 1;
    }
    if (rc == 0)
        rc = time_batches("SQLite alone, ", commit_floor, &t, seconds);
    store_close(t.store);
    if (t.store)
        remove_db(floor_path);
    hl7_msg_cleanup(&m);
    cli_corpus_free(&c);
    cli_paths_cleanup(&paths);
    return rc ? 1 : 0;
}

int cmd_bench_run(int argc, char **argv)
{
    double seconds = 3;
    int i = 1;
    bool convert = argc >= 2 && strcmp(argv[1], "convert") == 0;
    if (argc >= 3 && strcmp(argv[1], "fsync") == 0)
        return run_fsync(
            argv[2], argc >= 5 && strcmp(argv[3], "--seconds") == 0 ? strtod(argv[4], NULL) : 2);
    if (argc >= 2 && strcmp(argv[1], "scale") == 0)
        return cmd_bench_scale_run(argc - 1, argv + 1);
    if (argc >= 4 && strcmp(argv[1], "store") == 0)
        return run_store(argv[2], argv[3],
                         argc >= 6 && strcmp(argv[4], "--seconds") == 0 ? strtod(argv[5], NULL)
                                                                        : 3);
    if (argc < 2 || (!convert && strcmp(argv[1], "parse") != 0)) {
        bool help = argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
        fputs("usage: solent bench parse|convert [--seconds S] FILE|DIR...\n"
              "       solent bench fsync DIR [--seconds S]\n"
              "       solent bench store DIR FILE [--seconds S]\n"
              "       solent bench scale [--max SIZE]\n"
              "Figures, not tests: parser and converter throughput on one core, the disk's\n"
              "fdatasync rate, the store's and SQLite's commit ceilings, time per KB by shape.\n",
              help ? stdout : stderr);
        return help ? 0 : 2;
    }
    struct cli_paths paths;
    struct cli_corpus c = {0};
    cli_paths_init(&paths);
    for (i = 2; i < argc; i++) {
        char why[512];
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else if (cli_paths_add(&paths, argv[i], why, sizeof why) != 0)
            fprintf(stderr, "solent bench: %s\n", why);
    }
    int rc = cli_corpus_load(&c, &paths, "solent bench") == 0 ? 0 : 1;
    if (rc == 0 && convert && load_site() != 0)
        rc = 1;
    if (rc == 0 && convert)
        run_convert(&c, seconds > 0 ? seconds : 3);
    else if (rc == 0)
        run_parse(&c, seconds > 0 ? seconds : 3);
    else
        fputs("solent bench: no messages to parse\n", stderr);
    cli_corpus_free(&c);
    cli_paths_cleanup(&paths);
    return rc;
}
