/*
 * cmd_backup — `solent backup [-c FILE] DEST`: a consistent copy of the store taken while
 * the engine runs and commits on (store_backup). Restoring is a copy back into place with
 * the engine stopped (README, Backups).
 */
#include "engine/cmd_backup.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/store.h"

static const char usage_text[] =
    "usage: solent backup [-c FILE] DEST\n"
    "Copies the store to DEST (a new file, mode 0600) while the engine runs: one consistent\n"
    "snapshot, synced to disk before it takes its name. A sealed store's copy is sealed too:\n"
    "keep the key file apart. PostgreSQL stores: pg_dump or base backups (README).\n";

int cmd_backup_run(int argc, char **argv)
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
    if (optind != argc - 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent backup: %s\n", err);
        return 1;
    }
    int rc = 1;
    uint64_t pages = 0;
    struct store *s = cli_store_open(c, "backup");
    if (s && store_backup(s, argv[optind], &pages, err, sizeof err) != 0)
        fprintf(stderr, "solent backup: %s\n", err);
    else if (s) {
        printf("solent backup: %s: %" PRIu64 " pages, one consistent snapshot\n", argv[optind],
               pages);
        rc = 0;
    }
    store_close(s);
    conf_free(c);
    return rc;
}
