/* cmd_run — `solent run`: load and check the configuration, prepare the data directory, serve. */
#include "engine/cmd_run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/conf.h"
#include "engine/daemon.h"
#include "engine/fault.h"
#include "engine/log.h"
#include "engine/privs.h"

/* The directory itself (not its parents) readable by its owner only: one made before, or by
 * hand, with 0755 would let every local user read the store's patient data. */
static int tighten(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 || !(st.st_mode & 077))
        return 0;
    if (chmod(path, 0700) != 0) {
        snprintf(err, errlen,
                 "directory %s is open to others (mode %o) and cannot be made 0700: %s", path,
                 (unsigned)(st.st_mode & 0777), strerror(errno));
        return -1;
    }
    log_warn("directory_tightened", "path=%s mode_was=%o mode=700", path,
             (unsigned)(st.st_mode & 0777));
    return 0;
}

/* mkdir -p with mode 0700, the last one made 0700 if it was open: the store holds patient
 * data. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char p[CONF_TEXT];
    snprintf(p, sizeof p, "%s", path);
    if (!p[0])
        return 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", p, strerror(errno));
            return -1;
        }
        *s = saved;
        if (saved == '\0')
            return tighten(p, err, errlen);
    }
}

int cmd_run_run(int argc, char **argv)
{
    const char *path = conf_default_path(), *user = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
            user = argv[++i];
        } else {
            fputs("usage: solent run [-c FILE] [--user NAME]\n"
                  "Runs the engine on the configuration (default conf/solent.conf, "
                  "else\n" CONF_INSTALLED
                  ") until SIGTERM or SIGINT;\nlogs go to stderr, one event per line. Started "
                  "as root it runs as --user\n(else [engine] user) once its ports and files "
                  "are open, and refuses without one.\n",
                  strcmp(argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "solent run: %s\n", err);
        return 1;
    }
    if (user) /* --user wins over the file's */
        snprintf(c->engine.user, sizeof c->engine.user, "%s", user);
    if (privs_check(c->engine.user, err, sizeof err) != 0) {
        fprintf(stderr, "solent run: %s\n", err);
        conf_free(c);
        return 1;
    }
    int rc = 1;
    char dir[CONF_TEXT];
    snprintf(dir, sizeof dir, "%s", c->store.path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (log_configure(c->engine.log_level, c->engine.log_format, c->engine.log_file, err,
                      sizeof err) != 0) {
        fprintf(stderr, "solent run: %s\n", err); /* no log to say it in */
        conf_free(c);
        return 1;
    }
    fault_init();
    if (make_dirs(c->engine.data_dir, err, sizeof err) != 0 ||
        (slash && make_dirs(dir, err, sizeof err) != 0)) {
        log_error("start_failed", "error=%s", err);
        conf_free(c);
    } else if (daemon_run(c, err, sizeof err) != 0) { /* takes c */
        log_error("start_failed", "error=%s", err);
    } else {
        rc = 0;
    }
    return rc;
}
