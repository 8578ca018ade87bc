/*
 * cmd_show — `solent show [-c FILE] [--content] ID`: one stored message in JSON, as
 * GET /api/messages/ID answers (msgview): its metadata, the ACK sent, the route, the
 * transform's ledger and every delivery attempt per destination. --content adds the raw
 * message, each bundle and each server's last answer, after writing the read to the audit
 * under the OS user (via cli); no audit written, no content shown.
 *
 * `solent audit [-c FILE] [--since T] [--limit N]`: the audit, newest first — when, who, via
 * what (api: an admin token's name; cli: the OS user), which message, what was read.
 */
#include "engine/cmd_show.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/msgview.h"
#include "engine/store.h"

static const char show_usage[] =
    "usage: solent show [-c FILE] [--content] ID\n"
    "Prints stored message ID in JSON: metadata, the ACK sent, the route, the transform's\n"
    "ledger, every delivery attempt per destination.\n"
    "  --content   also the raw message, the bundles and the servers' answers (patient data:\n"
    "              the read is written to the audit, under your user name, first)\n";

static const char audit_usage[] =
    "usage: solent audit [-c FILE] [--since T] [--limit N]\n"
    "Lists the reads of message content (API and command line), newest first.\n"
    "  --since T   YYYY-MM-DD[THH:MM[:SS]] (UTC), or an age: 30s, 15m, 2h, 7d\n"
    "  --limit N   at most N lines (default 1000)\n";

int cmd_show_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"content", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = conf_default_path();
    bool content = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'C': content = true; break;
        case 'h': fputs(show_usage, stdout); return 0;
        default: fputs(show_usage, stderr); return 2;
        }
    }
    char *end = NULL;
    long long id = optind + 1 == argc ? strtoll(argv[optind], &end, 10) : 0;
    if (id <= 0 || *end) {
        fputs(show_usage, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent show: %s\n", err);
        return 1;
    }
    struct store *s = cli_store_open(c, "show");
    cJSON *o = NULL;
    int rc = 1, found = s ? msgview_message(s, id, false, &o) : -1;
    if (found == 1 && content) { /* it exists: the read is written down, then made */
        char user[64];
        cJSON_Delete(o);
        o = NULL;
        if (msgview_audit(s, cli_user(user, sizeof user), "cli", id, "raw,bundles,responses", err,
                          sizeof err) != 0) {
            fprintf(stderr, "solent show: the audit cannot be written, so no content: %s\n", err);
            found = -2;
        } else {
            found = msgview_message(s, id, true, &o);
        }
    }
    if (found == 1) {
        char *text = cJSON_Print(o);
        printf("%s\n", text);
        free(text);
        rc = 0;
    } else if (found == 0) {
        fprintf(stderr, "solent show: no message %lld\n", id);
    } else if (found == -1 && s) {
        fprintf(stderr, "solent show: cannot read the store\n");
    }
    cJSON_Delete(o);
    store_close(s);
    conf_free(c);
    return rc;
}

static void print_audit(void *arg, const struct store_audit *a)
{
    char when[32], who[256];
    printf("%-24s %-16s %-4s %-8lld %s\n", msgview_time(a->at_ms, when),
           str_printable(a->who, who, sizeof who), a->via, (long long)a->message_id, a->what);
    ++*(size_t *)arg;
}

int cmd_audit_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = conf_default_path();
    int64_t since = 0;
    size_t limit = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'S': since = cli_parse_since(optarg); break;
        case 'l': limit = strtoul(optarg, NULL, 10); break;
        case 'h': fputs(audit_usage, stdout); return 0;
        default: fputs(audit_usage, stderr); return 2;
        }
    }
    if (optind != argc || since < 0) {
        fputs(audit_usage, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent audit: %s\n", err);
        return 1;
    }
    struct store *s = cli_store_open(c, "audit");
    size_t n = 0;
    int rc = 1;
    if (s) {
        printf("%-24s %-16s %-4s %-8s %s\n", "AT", "WHO", "VIA", "MESSAGE", "WHAT");
        if (store_audit_list(s, since, limit, print_audit, &n) == 0)
            rc = 0;
        else
            fprintf(stderr, "solent audit: cannot read the store\n");
    }
    store_close(s);
    conf_free(c);
    return rc;
}
