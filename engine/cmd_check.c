/*
 * cmd_check — `solent check-config [-c FILE]`: loads the file as the engine would, then
 * resolves what loading leaves for later — every secret (env:VARIABLE set, file:PATH
 * readable and not too long) and every key or certificate file — so a file that passes
 * here does not fail at start or at a reload. Problems as "file:line: problem", exit 1;
 * warnings (a listener open beyond this host without TLS) on stderr, exit 0.
 */
#include "engine/cmd_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/auth.h"
#include "engine/conf.h"
#include "engine/crypt.h"
#include "engine/tls.h"

static const char usage[] =
    "usage: solent check-config [-c FILE]\n"
    "       solent check-config --keys\n"
    "Checks the configuration file (default conf/solent.conf, else /etc/solent/solent.conf):\n"
    "every key, reference, secret and file it names; prints a summary, or file:line: problem.\n"
    "  --keys   every key the loader knows, one per line: section, key, default (tab-separated)\n";

/* The line to blame for key of section (its own line, else the section's). */
static int line_of(const struct conf *c, const void *section, const char *key, int dflt)
{
    int line = conf_key_line(c, section, key);
    return line ? line : dflt;
}

/* A secret spec (env: or file:) that resolves; -1 after saying why. */
static int check_secret(const struct conf *c, const void *section, const char *key,
                        const char *spec, const char *where, int dflt)
{
    static char value[AUTH_SECRET_MAX];
    char why[CONF_TEXT + 64];
    if (!spec[0] || auth_read_secret(spec, value, sizeof value, why, sizeof why) == 0) {
        memset(value, 0, sizeof value);
        return 0;
    }
    fprintf(stderr, "%s:%d: %s %s: %s\n", c->file, line_of(c, section, key, dflt), where, key, why);
    return -1;
}

/* A file the engine will open (a key, a certificate) that can be read; -1 after saying why. */
static int check_file(const struct conf *c, const void *section, const char *key, const char *path,
                      const char *where, int dflt)
{
    if (!path[0])
        return 0;
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return 0;
    }
    fprintf(stderr, "%s:%d: %s %s: %s: %s\n", c->file, line_of(c, section, key, dflt), where, key,
            path, strerror(errno));
    return -1;
}

static int check_destination(const struct conf *c, const struct conf_destination *d)
{
    char where[CONF_NAME + 16];
    snprintf(where, sizeof where, "[destination %s]", d->id.name);
    int line = d->id.line, rc = 0;
    rc |= check_secret(c, d, "password", d->password, where, line);
    rc |= check_secret(c, d, "token", d->token, where, line);
    rc |= check_secret(c, d, "client_secret", d->client_secret, where, line);
    rc |= check_file(c, d, "private_key", d->private_key, where, line);
    rc |= check_file(c, d, "ca_file", d->ca_file, where, line);
    rc |= check_file(c, d, "client_cert", d->client_cert, where, line);
    rc |= check_file(c, d, "client_key", d->client_key, where, line);
    return rc;
}

/* TLS settings t of section (named where, at line): its files readable and the context they
 * make; -1 after saying why. */
static int check_tls(const struct conf *c, const void *section, const char *where,
                     const struct conf_tls *t, int line)
{
    char err[512];
    int rc = check_file(c, section, "cert", t->cert, where, line) |
             check_file(c, section, "key", t->key, where, line) |
             check_file(c, section, "client_ca", t->client_ca, where, line) |
             check_file(c, section, "crl", t->crl, where, line);
    if (rc == 0 && strcmp(t->mode, "on") == 0) {
        SSL_CTX *ctx = tls_server_ctx(t, err, sizeof err);
        if (!ctx) {
            fprintf(stderr, "%s:%d: %s tls: %s\n", c->file, line_of(c, section, "tls", line), where,
                    err);
            rc = -1;
        }
        SSL_CTX_free(ctx);
    }
    return rc;
}

/* The store's key file: it loads; readable by its owner only, else a warning. */
static int check_store_key(const struct conf *c)
{
    if (!c->store.encryption_key[0])
        return 0;
    struct keyring kr;
    char why[400];
    int line = line_of(c, &c->store, "encryption_key", 0);
    if (keyring_load(c->store.encryption_key, &kr, why, sizeof why) != 0) {
        fprintf(stderr, "%s:%d: [store] %s\n", c->file, line, why);
        return -1;
    }
    keyring_wipe(&kr);
    struct stat st;
    const char *path = c->store.encryption_key + 5;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr,
                "%s:%d: warning: [store] encryption_key %s is open to others (mode %o): "
                "chmod 400 it\n",
                c->file, line, path, (unsigned)(st.st_mode & 0777));
    return 0;
}

/* The configuration file itself, readable by every user while it names key files (TLS keys,
 * the store's key, secrets in files): said, since it shows where they are. */
static void warn_readable(const struct conf *c)
{
    struct stat st;
    bool names_keys = c->store.encryption_key[0] != 0 || strncmp(c->admin.token, "file:", 5) == 0;
    for (size_t i = 0; i < c->ntokens; i++)
        names_keys = names_keys || strncmp(c->tokens[i].secret, "file:", 5) == 0;
    names_keys = names_keys || c->admin.tls.key[0];
    for (size_t i = 0; i < c->nlisteners; i++)
        names_keys = names_keys || c->listeners[i].tls.key[0];
    for (size_t i = 0; i < c->ndestinations; i++) {
        const struct conf_destination *d = &c->destinations[i];
        names_keys = names_keys || d->private_key[0] || d->client_key[0] ||
                     strncmp(d->password, "file:", 5) == 0 || strncmp(d->token, "file:", 5) == 0 ||
                     strncmp(d->client_secret, "file:", 5) == 0;
    }
    if (names_keys && stat(c->file, &st) == 0 && (st.st_mode & 004))
        fprintf(stderr,
                "%s: warning: readable by every user (mode %o) and it names key files: chmod 640 "
                "it (or 600)\n",
                c->file, (unsigned)(st.st_mode & 0777));
}

static bool loopback(const char *bind)
{
    return strncmp(bind, "127.", 4) == 0 || strcmp(bind, "::1") == 0 ||
           strcmp(bind, "localhost") == 0;
}

/* Plain MLLP, or the admin endpoint in plain HTTP, on an address beyond this host: allowed,
 * but said. */
static void warn_exposed(const struct conf *c)
{
    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct conf_listener *l = &c->listeners[i];
        if (strcmp(l->tls.mode, "on") != 0 && !loopback(l->bind))
            fprintf(stderr,
                    "%s:%d: warning: [listener %s] bind = %s: MLLP without TLS, open to every "
                    "host that can reach this one\n",
                    c->file, line_of(c, l, "bind", l->id.line), l->id.name, l->bind);
    }
    if (c->admin.port && strcmp(c->admin.tls.mode, "on") != 0 && !loopback(c->admin.bind))
        fprintf(stderr,
                "%s:%d: warning: [admin] bind = %s: its token crosses the network in plain HTTP: "
                "set tls = on\n",
                c->file, line_of(c, &c->admin, "bind", c->admin.line), c->admin.bind);
}

int cmd_check_run(int argc, char **argv)
{
    const char *path = conf_default_path();
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--keys") == 0 && argc == 2) { /* solent.conf(5) is made of it */
            for (const struct conf_key_info *k = conf_keys(); k->section; k++)
                printf("%s\t%s\t%s\n", k->section, k->key, k->dflt);
            return 0;
        } else {
            bool help = strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
            fputs(usage, help ? stdout : stderr);
            return help ? 0 : 2;
        }
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = 0;
    if (c->admin.port && c->admin.token[0])
        rc |= check_secret(c, &c->admin, "token", c->admin.token, "[admin]", c->admin.line);
    for (size_t i = 0; c->admin.port && i < c->ntokens; i++) {
        char where[CONF_NAME + 24];
        snprintf(where, sizeof where, "[admin token %s]", c->tokens[i].id.name);
        rc |= check_secret(c, &c->tokens[i], "secret", c->tokens[i].secret, where,
                           c->tokens[i].id.line);
    }
    for (size_t i = 0; i < c->ndestinations; i++)
        rc |= check_destination(c, &c->destinations[i]);
    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct conf_listener *l = &c->listeners[i];
        char where[CONF_NAME + 16];
        snprintf(where, sizeof where, "[listener %s]", l->id.name);
        rc |= check_tls(c, l, where, &l->tls, l->id.line);
    }
    if (c->admin.port)
        rc |= check_tls(c, &c->admin, "[admin]", &c->admin.tls, c->admin.line);
    rc |= check_store_key(c);
    if (rc == 0) {
        warn_exposed(c);
        warn_readable(c);
        printf("%s: ok: %zu listeners, %zu routes, %zu destinations, %zu identifier rules\n", path,
               c->nlisteners, c->nroutes, c->ndestinations, c->nidents);
    }
    conf_free(c);
    return rc ? 1 : 0;
}
