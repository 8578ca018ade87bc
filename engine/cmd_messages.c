/*
 * cmd_messages — `solent messages [-c FILE] [--status S] [--type T] [--control-id ID]
 * [--since T] [--limit N]`: one line per stored message, newest first: id, time received
 * (UTC), listener, sender, type, control id, status, error code and position, size, outbox
 * rows, the transform's warnings and unmapped fields, the engine that received it (a store
 * several share); `--explain ID` prints that message's
 * ledger (what the transform warned about and left unused, by position). Never content: no field of
 * the message body is printed, and the header fields shown are made printable (a sender cannot put
 * escape sequences on the terminal).
 */
#include "engine/cmd_messages.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/store.h"

static const char usage_text[] =
    "usage: solent messages [-c FILE] [--status S] [--type T] [--control-id ID] [--since T]\n"
    "                       [--limit N]\n"
    "       solent messages [-c FILE] --explain ID\n"
    "Lists stored messages, newest first, metadata only (never message content); WARN and\n"
    "UNMAPPED count what the transform warned about and the populated fields it did not use;\n"
    "ENGINE is the engine that received it, where several share a PostgreSQL store.\n"
    "  --explain ID       that message's ledger: each warning and unmapped field by position\n"
    "  --status S         accepted | error | rejected | duplicate | parked\n"
    "  --type T           message type prefix, e.g. ADT or ADT^A08\n"
    "  --control-id ID    this MSH-10 only (every copy: first, duplicates, reuses)\n"
    "  --since T          YYYY-MM-DD[THH:MM[:SS]] (UTC), or an age: 30s, 15m, 2h, 7d\n"
    "  --limit N          at most N lines (default 1000)\n";

static void print_row(void *arg, const struct store_row *r)
{
    char when[32], err[48] = "-", sender[2 * 64 + 2], app[64], facility[64], type[64], id[128],
                   peer[300], engine[256];
    time_t t = (time_t)(r->received_at_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (r->error_code)
        snprintf(err, sizeof err, "%d@%s", r->error_code,
                 r->error_location && r->error_location[0] ? r->error_location : "-");
    snprintf(sender, sizeof sender, "%s|%s", str_printable(r->sending_app, app, sizeof app),
             str_printable(r->sending_facility, facility, sizeof facility));
    printf("%-7lld %s %-10s %-16s %-16s %-16s %-20s %-9s %-12s %7zu %6zu %4u %8u %s\n",
           (long long)r->id, when, r->listener,
           r->peer && r->peer[0] ? str_printable(r->peer, peer, sizeof peer) : "-", sender,
           r->message_type[0] ? str_printable(r->message_type, type, sizeof type) : "-",
           r->control_id[0] ? str_printable(r->control_id, id, sizeof id) : "-", r->status, err,
           r->raw_len, r->noutbox, r->warnings, r->unmapped,
           r->engine && r->engine[0] ? str_printable(r->engine, engine, sizeof engine) : "-");
    ++*(size_t *)arg;
}

/* --explain ID: the message's ledger, a line each; 1 when there is no such message. */
static int print_ledger(const struct conf *c, int64_t id)
{
    struct store *s = cli_store_open(c, "messages");
    struct strbuf ledger;
    int rc = 1;
    strbuf_init(&ledger, (size_t)1 << 26);
    int found = s ? store_ledger(s, id, &ledger) : -1;
    if (found == 1) {
        if (ledger.len)
            fwrite(ledger.p, 1, ledger.len, stdout);
        else
            printf("message %lld: nothing left unused\n", (long long)id);
        rc = 0;
    } else if (found == 0) {
        fprintf(stderr, "solent messages: no message %lld\n", (long long)id);
    } else if (s) {
        fprintf(stderr, "solent messages: cannot read the store at %s\n", c->store.path);
    }
    strbuf_cleanup(&ledger);
    store_close(s);
    return rc;
}

int cmd_messages_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"status", required_argument, NULL, 's'},
                                         {"type", required_argument, NULL, 't'},
                                         {"control-id", required_argument, NULL, 'i'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"explain", required_argument, NULL, 'x'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char *const statuses[] = {"accepted", "error", "rejected", "duplicate", "parked"};
    const char *path = conf_default_path();
    struct store_filter f = {0};
    long long explain = 0;
    char *end;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 's': f.status = optarg; break;
        case 't': f.type = optarg; break;
        case 'i': f.control_id = optarg; break;
        case 'S': f.since_ms = cli_parse_since(optarg); break;
        case 'l': f.limit = strtoul(optarg, NULL, 10); break;
        case 'x':
            explain = strtoll(optarg, &end, 10);
            if (*end || explain <= 0)
                explain = -1;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    bool known = !f.status;
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses && !known; i++)
        known = strcmp(f.status, statuses[i]) == 0;
    if (optind != argc || f.since_ms < 0 || !known || explain < 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent messages: %s\n", err);
        return 1;
    }
    int rc = 1;
    struct store *s = NULL;
    size_t n = 0;
    if (explain) {
        rc = print_ledger(c, (int64_t)explain);
        conf_free(c);
        return rc;
    }
    if (!(s = cli_store_open(c, "messages")))
        ;
    else if (printf("%-7s %-20s %-10s %-16s %-16s %-16s %-20s %-9s %-12s %7s %6s %4s %s %s\n", "ID",
                    "RECEIVED", "LISTENER", "PEER", "SENDER", "TYPE", "CONTROL-ID", "STATUS",
                    "ERROR", "BYTES", "OUTBOX", "WARN", "UNMAPPED", "ENGINE") < 0 ||
             store_list(s, &f, print_row, &n) != 0)
        fprintf(stderr, "solent messages: cannot read the store at %s\n", c->store.path);
    else
        rc = 0;
    store_close(s);
    conf_free(c);
    return rc;
}
