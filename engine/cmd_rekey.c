/*
 * cmd_rekey — `solent rekey [-c FILE] [--batch N]`: after a new key is added to the key file
 * ([store] encryption_key), seals every stored value that another key (or none: a store from
 * before encryption) sealed, N rows a transaction, while the engine runs on. Then the older
 * keys may leave the key file.
 */
#include "engine/cmd_rekey.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "engine/store.h"

static const char usage_text[] =
    "usage: solent rekey [-c FILE] [--batch N]\n"
    "Seals every stored message, bundle and server answer with the newest key of [store]\n"
    "encryption_key (those in clear too), N rows a transaction (default 100), while the engine\n"
    "runs; then the store needs no older key.\n";

int cmd_rekey_run(int argc, char **argv)
{
    static const struct option opts[] = {{"batch", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = conf_default_path();
    long batch = 100;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'b': batch = strtol(optarg, NULL, 10); break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (optind != argc || batch < 1 || batch > 100000) {
        fputs(usage_text, stderr);
        return 2;
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent rekey: %s\n", err);
        return 1;
    }
    int rc = 1;
    struct store *s = cli_store_open(c, "rekey");
    uint64_t done = 0;
    if (s && store_rekey(s, (size_t)batch, &done, err, sizeof err) != 0)
        fprintf(stderr, "solent rekey: %s (%" PRIu64 " sealed anew before it)\n", err, done);
    else if (s) {
        printf("solent rekey: %" PRIu64 " values sealed with the newest key; the store needs no "
               "other\n",
               done);
        rc = 0;
    }
    store_close(s);
    conf_free(c);
    return rc;
}
