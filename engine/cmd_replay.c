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
 * --dry-run prints the bundles instead of queueing them (a read of patient data: written to
 * the audit first), --diff how each differs from the last bundle sent to its destination.
 * A running engine picks the new rows up within a second.
 */
#include "engine/cmd_replay.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/msgview.h"
#include "engine/replay.h"
#include "engine/store.h"

static const char usage_text[] =
    "usage: solent replay [-c FILE] [--dry-run [--diff]] --dead [--destination D] [--since T]\n"
    "       solent replay [-c FILE] [--dry-run [--diff]] MESSAGE_ID...\n"
    "Re-transforms stored messages under the current configuration and queues their bundles.\n"
    "  --dead           the dead letters (each to the destination it died at), marked replayed\n"
    "  --destination D  only dead letters of destination D\n"
    "  --since T        only dead letters queued since T: YYYY-MM-DD[THH:MM[:SS]] or 30m, 2h, 7d\n"
    "  --dry-run        print the bundles that would be queued, queue nothing (audited)\n"
    "  --diff           with --dry-run: how each differs from the last bundle sent instead\n";

struct replay {
    const struct conf *c;
    struct store *s;
    bool dry_run, diff;
    int64_t now;
    size_t queued, failed;
};

/* One change of a diff, on a line: what, where, before → after (compact JSON). */
static void print_change(const cJSON *c)
{
    char *before = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "before")),
         *after = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "after"));
    printf("  %s %s%s%s%s%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "change")),
           cJSON_GetStringValue(cJSON_GetObjectItem(c, "path")), before ? " " : "",
           before ? before : "", after ? (before ? " -> " : " ") : "", after ? after : "");
    free(before);
    free(after);
}

/* Re-processes message id; only_dest: just that destination (a dead letter's, replaced). */
static void replay_one(struct replay *rp, int64_t id, const char *only_dest, int64_t replaced)
{
    struct replay_out out;
    char why[512];
    if (replay_message(rp->s, rp->c, id, only_dest, replaced, rp->dry_run, rp->diff, rp->now, &out,
                       why, sizeof why) != 0) {
        fprintf(stderr, "message %lld: not replayed: %s\n", (long long)id, why);
        rp->failed++;
        return;
    }
    if (rp->dry_run) { /* the bundles are patient data: who saw them is written down first */
        char user[64];
        if (msgview_audit(rp->s, cli_user(user, sizeof user), "cli", id,
                          rp->diff ? "dry-run,diff" : "dry-run", why, sizeof why) != 0) {
            fprintf(stderr, "message %lld: not shown: the audit cannot be written: %s\n",
                    (long long)id, why);
            rp->failed++;
            replay_out_free(&out);
            return;
        }
    }
    for (size_t i = 0; i < out.n; i++) {
        if (!rp->dry_run) {
            printf("message %lld: queued for %s\n", (long long)id, out.destination[i]);
        } else if (!rp->diff) {
            printf("%s\n", out.bundle[i]);
        } else if (cJSON_IsNull(out.diff[i])) {
            printf("message %lld: %s: nothing sent before\n", (long long)id, out.destination[i]);
        } else {
            int k = cJSON_GetArraySize(out.diff[i]);
            printf("message %lld: %s: %d change%s from the last bundle sent\n", (long long)id,
                   out.destination[i], k, k == 1 ? "" : "s");
            for (const cJSON *c = out.diff[i]->child; c; c = c->next)
                print_change(c);
        }
    }
    rp->queued += out.n;
    replay_out_free(&out);
}

int cmd_replay_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"dead", no_argument, NULL, 'd'},
                                         {"destination", required_argument, NULL, 'D'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"diff", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = conf_default_path(), *dest = NULL;
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
        case 'f': rp.diff = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    bool ids_ok = optind < argc;
    for (int i = optind; i < argc; i++)
        ids_ok = ids_ok && strspn(argv[i], "0123456789") == strlen(argv[i]) && argv[i][0] != '0';
    if (since < 0 || (rp.diff && !rp.dry_run) ||
        (dead ? optind != argc : (!ids_ok || dest || since))) {
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
