/*
 * cmd_status — `solent status [-c FILE]`: per destination, what the outbound queue
 * holds: pending (waiting for their first or next attempt), in flight (leased),
 * retrying (failed at least once, waiting), delivered, dead (not replayed), and the
 * age of the oldest bundle not yet delivered. Counts only, never content.
 */
#include "engine/cmd_status.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/store.h"

static const char usage_text[] =
    "usage: solent status [-c FILE]\n"
    "Per destination: bundles pending, in flight, retrying, delivered, dead, and the age of\n"
    "the oldest one not yet delivered. With a store several engines share (PostgreSQL), then\n"
    "each engine: when it started and how many bundles it holds leased now.\n";

struct status_ctx {
    const struct conf *c;
    int64_t now;
    bool seen[CONF_MAX_SECTIONS];
    size_t engines; /* listed so far */
};

static void age(int64_t ms, char *out, size_t n)
{
    long long s = ms / 1000;
    if (ms <= 0)
        snprintf(out, n, "-");
    else if (s < 120)
        snprintf(out, n, "%llds", s);
    else if (s < 7200)
        snprintf(out, n, "%lldm", s / 60);
    else if (s < 172800)
        snprintf(out, n, "%lldh", s / 3600);
    else
        snprintf(out, n, "%lldd", s / 86400);
}

static void print_line(const char *name, const char *kind, const struct store_dest_status *d,
                       int64_t now)
{
    char oldest[16];
    age(d && d->oldest_pending_ms ? now - d->oldest_pending_ms : 0, oldest, sizeof oldest);
    printf("%-16s %-10s %8llu %9llu %8llu %10llu %6llu %s\n", name, kind,
           d ? (unsigned long long)d->pending : 0ULL, d ? (unsigned long long)d->in_flight : 0ULL,
           d ? (unsigned long long)d->retrying : 0ULL, d ? (unsigned long long)d->delivered : 0ULL,
           d ? (unsigned long long)d->dead : 0ULL, oldest);
}

static void on_dest(void *arg, const struct store_dest_status *d)
{
    struct status_ctx *x = arg;
    const char *kind = "(removed)";
    for (size_t i = 0; i < x->c->ndestinations; i++)
        if (strcmp(x->c->destinations[i].id.name, d->destination) == 0) {
            kind = x->c->destinations[i].kind;
            x->seen[i] = true;
        }
    print_line(d->destination, kind, d, x->now);
}

/* Engines sharing the store (PostgreSQL): a table after the destinations'. */
static void on_engine(void *arg, const struct store_engine *e)
{
    struct status_ctx *x = arg;
    if (!x->engines++)
        printf("\n%-16s %-20s %s\n", "ENGINE", "STARTED", "HOLDING");
    char when[32];
    time_t t = (time_t)(e->started_at_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-16s %-20s %7llu\n", e->name, when, (unsigned long long)e->holding);
}

int cmd_status_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = conf_default_path();
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent status: %s\n", err);
        return 1;
    }
    struct status_ctx x = {.c = c, .now = store_now_ms()};
    struct store *s = cli_store_open(c, "status");
    int rc = 1;
    if (s) {
        printf("%-16s %-10s %8s %9s %8s %10s %6s %s\n", "DESTINATION", "KIND", "PENDING",
               "IN-FLIGHT", "RETRYING", "DELIVERED", "DEAD", "OLDEST-PENDING");
        if (store_delivery_status(s, x.now, on_dest, &x) != 0) {
            fprintf(stderr, "solent status: cannot read the store at %s\n", c->store.path);
        } else {
            for (size_t i = 0; i < c->ndestinations; i++)
                if (!x.seen[i])
                    print_line(c->destinations[i].id.name, c->destinations[i].kind, NULL, x.now);
            rc = store_engines(s, x.now, on_engine, &x) == 0 ? 0 : 1;
        }
    }
    store_close(s);
    conf_free(c);
    return rc;
}
