/*
 * cmd_replay — `solent replay`: send stored messages again, transformed anew.
 *
 *   solent replay [-c FILE] [--dry-run] --dead [--destination D] [--since T]
 *   solent replay [-c FILE] [--dry-run] MESSAGE_ID...
 *
 * Each message is re-processed from its stored raw bytes under the current
 * configuration (routes, identifier systems, code maps), and the bundles are
 * queued as new outbox rows — at the end of their patient's queue. --dead takes
 * the dead letters (only towards the destination each died at) and marks them
 * replayed; a MESSAGE_ID goes to every destination its routes name now, and a
 * message that had failed (AE) or was parked becomes accepted once it transforms.
 * --dry-run prints the bundles instead of queueing them. A running engine picks
 * the new rows up within a second.
 */
#include "engine/cmd_replay.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/pipeline.h"
#include "engine/conf.h"
#include "engine/store.h"

static const char usage_text[] =
    "usage: solent replay [-c FILE] [--dry-run] --dead [--destination D] [--since T]\n"
    "       solent replay [-c FILE] [--dry-run] MESSAGE_ID...\n"
    "Re-transforms stored messages under the current configuration and queues their bundles.\n"
    "  --dead           the dead letters (each to the destination it died at), marked replayed\n"
    "  --destination D  only dead letters of destination D\n"
    "  --since T        only dead letters queued since T: YYYY-MM-DD[THH:MM[:SS]] or 30m, 2h, 7d\n"
    "  --dry-run        print the bundles that would be queued, queue nothing\n";

struct replay {
    const struct conf *c;
    struct store *s;
    bool dry_run;
    int64_t now;
    size_t queued, failed;
};

/* Re-processes message id; only_dest: just that destination (a dead letter's, replaced). */
static void replay_one(struct replay *rp, int64_t id, const char *only_dest, int64_t replaced)
{
    struct strbuf raw;
    char listener[CONF_NAME], err[256];
    int64_t received;
    strbuf_init(&raw, 64 << 20);
    int got = store_message_get(rp->s, id, &raw, listener, sizeof listener, &received);
    if (got != 1) {
        fprintf(stderr, "message %lld: %s\n", (long long)id,
                got == 0 ? "no such message" : "cannot be read");
        rp->failed++;
        strbuf_cleanup(&raw);
        return;
    }
    /* its listener's settings when it still exists, else the defaults under its name */
    struct conf_listener fallback = {.charset = "UNICODE UTF-8", .max_message = 64 << 20};
    const struct conf_listener *l = &fallback;
    snprintf(fallback.id.name, sizeof fallback.id.name, "%s", listener);
    for (size_t i = 0; i < rp->c->nlisteners; i++)
        if (strcmp(rp->c->listeners[i].id.name, listener) == 0)
            l = &rp->c->listeners[i];
    struct pipeline_ctx ctx = {.conf = rp->c,
                               .listener = l,
                               .now_ms = received,
                               .ack_id = "REPLAY",
                               .ack_time = "19700101000000+0000"};
    struct pipeline_result r;
    pipeline_result_init(&r);
    pipeline_process(&ctx, raw.p, raw.len, &r);
    struct store_outbox out[CONF_MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < r.record.noutbox; i++)
        if (!only_dest || strcmp(r.record.outbox[i].destination, only_dest) == 0)
            out[n++] = r.record.outbox[i];
    if (r.record.status != STORE_ACCEPTED) {
        fprintf(stderr, "message %lld: not replayed: it does not transform (HL7 error %d at %s)\n",
                (long long)id, r.record.error_code,
                r.record.error_location && r.record.error_location[0] ? r.record.error_location
                                                                      : "-");
        rp->failed++;
    } else if (n == 0) {
        fprintf(stderr, "message %lld: not replayed: no route sends it to %s now\n", (long long)id,
                only_dest ? only_dest : "any destination");
        rp->failed++;
    } else if (rp->dry_run) {
        for (size_t i = 0; i < n; i++)
            printf("%.*s\n", (int)out[i].bundle_len, out[i].bundle);
        rp->queued += n;
    } else if (store_enqueue(rp->s, id, rp->now, out, n, replaced, rp->now, err, sizeof err) != 0) {
        fprintf(stderr, "message %lld: not replayed: %s\n", (long long)id, err);
        rp->failed++;
    } else {
        for (size_t i = 0; i < n; i++)
            printf("message %lld: queued for %s\n", (long long)id, out[i].destination);
        rp->queued += n;
    }
    pipeline_result_cleanup(&r);
    strbuf_cleanup(&raw);
}

int cmd_replay_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"dead", no_argument, NULL, 'd'},
                                         {"destination", required_argument, NULL, 'D'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = "conf/solent.conf", *dest = NULL;
    bool dead = false;
    int64_t since = 0;
    struct replay rp = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'd': dead = true; break;
        case 'D': dest = optarg; break;
        case 'S': since = cli_parse_since(optarg); break;
        case 'n': rp.dry_run = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    bool ids_ok = optind < argc;
    for (int i = optind; i < argc; i++)
        ids_ok = ids_ok && strspn(argv[i], "0123456789") == strlen(argv[i]) && argv[i][0] != '0';
    if (since < 0 || (dead ? optind != argc : (!ids_ok || dest || since))) {
        fputs(usage_text, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent replay: %s\n", err);
        return 1;
    }
    rp.c = c;
    rp.now = store_now_ms();
    int rc = 1;
    if (!(rp.s = cli_store_open(c, "replay")))
        goto out;
    if (dead) {
        struct store_dead *d;
        size_t n;
        if (store_dead_list(rp.s, dest, since, &d, &n) != 0) {
            fprintf(stderr, "solent replay: cannot read the store at %s\n", c->store.path);
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            replay_one(&rp, d[i].message_id, d[i].destination, d[i].outbox_id);
        free(d);
    } else {
        for (int i = optind; i < argc; i++)
            replay_one(&rp, strtoll(argv[i], NULL, 10), NULL, 0);
    }
    fprintf(stderr, "solent replay: %zu bundles %s, %zu messages not replayed\n", rp.queued,
            rp.dry_run ? "would be queued" : "queued", rp.failed);
    rc = rp.failed ? 1 : 0;
out:
    store_close(rp.s);
    conf_free(c);
    return rc;
}
