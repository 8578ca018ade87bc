/*
 * cmd_bench — `solent bench parse [--seconds S] FILE|DIR...`: loads every
 * message into memory, then parses them in a loop on one core for S
 * seconds and prints messages/s, MB/s and the mean time per message.
 * A figure, not a test: nothing here passes or fails on speed.
 */
#include "engine/cmd_bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cli_files.h"
#include "parsers/grow.h"
#include "parsers/hl7.h"
#include "parsers/hl7_batch.h"

struct corpus {
    char **data; /* one owned buffer per message */
    size_t *len;
    size_t n, cap, bytes;
};

static void corpus_add(struct corpus *c, const char *p, size_t n)
{
    size_t cap = c->cap;
    c->data = grow_array(c->data, &c->cap, c->n + 1, sizeof *c->data);
    c->len = grow_array(c->len, &cap, c->n + 1, sizeof *c->len);
    size_t mcap = 0;
    c->data[c->n] = grow_array(NULL, &mcap, n + 1, 1);
    memcpy(c->data[c->n], p, n);
    c->len[c->n++] = n;
    c->bytes += n;
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->data[i]);
    free(c->data);
    free(c->len);
}

static int load(struct corpus *c, const struct cli_paths *paths)
{
    struct hl7_batch b;
    hl7_batch_init(&b);
    for (size_t i = 0; i < paths->n; i++) {
        char why[512];
        size_t len;
        struct hl7_err err;
        char *data = cli_read_file(paths->v[i], 64u << 20, &len, why, sizeof why);
        if (!data) {
            fprintf(stderr, "solent bench: %s\n", why);
            continue;
        }
        if (cli_split(data, len, 64u << 20, &b, &err) == 0)
            for (size_t k = 0; k < b.n; k++)
                corpus_add(c, data + b.msgs[k].off, b.msgs[k].len);
        free(data);
    }
    hl7_batch_cleanup(&b);
    return c->n ? 0 : -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const struct corpus *c, double seconds)
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

int cmd_bench_run(int argc, char **argv)
{
    double seconds = 3;
    int i = 1;
    if (argc < 2 || strcmp(argv[1], "parse") != 0) {
        fputs("usage: solent bench parse [--seconds S] FILE|DIR...\n", stderr);
        return 2;
    }
    struct cli_paths paths;
    struct corpus c = {0};
    cli_paths_init(&paths);
    for (i = 2; i < argc; i++) {
        char why[512];
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else if (cli_paths_add(&paths, argv[i], why, sizeof why) != 0)
            fprintf(stderr, "solent bench: %s\n", why);
    }
    int rc = load(&c, &paths) == 0 ? 0 : 1;
    if (rc == 0)
        run(&c, seconds > 0 ? seconds : 3);
    else
        fputs("solent bench: no messages to parse\n", stderr);
    corpus_free(&c);
    cli_paths_cleanup(&paths);
    return rc;
}
