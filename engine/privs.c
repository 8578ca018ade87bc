/* privs — run as an unprivileged user once root's work (ports, files) is done. */
#include "engine/privs.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"

int privs_check(const char *user, char *err, size_t errlen)
{
    if (geteuid() != 0 || user[0])
        return 0;
    snprintf(err, errlen,
             "refusing to run as root: set [engine] user = NAME (or --user NAME): solent binds "
             "its ports and opens its files as root, then runs as that user");
    return -1;
}

static uid_t to_uid;
static gid_t to_gid;
static int chown_failed;

static int hand_over(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    if (lchown(path, to_uid, to_gid) != 0 && errno != ENOENT)
        chown_failed = errno;
    return 0;
}

/* path and everything under it to the user (a file alone, if path is one). */
static int hand_tree(const char *path, char *err, size_t errlen)
{
    if (!path[0])
        return 0;
    chown_failed = 0;
    if (nftw(path, hand_over, 16, FTW_PHYS) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot hand %s to the user: %s", path, strerror(errno));
        return -1;
    }
    if (chown_failed) {
        snprintf(err, errlen, "cannot hand %s to the user: %s", path, strerror(chown_failed));
        return -1;
    }
    return 0;
}

int privs_drop(const struct conf *c, const char *user, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        if (user[0])
            log_info("user_ignored", "user=%s detail=%s", user, "not started as root");
        return 0;
    }
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "user %s does not exist", user);
        return -1;
    }
    if (pw->pw_uid == 0 || pw->pw_gid == 0) {
        snprintf(err, errlen, "user %s is root, or in group root: not a user to drop to", user);
        return -1;
    }
    to_uid = pw->pw_uid, to_gid = pw->pw_gid;
    char wal[CONF_TEXT + 8], shm[CONF_TEXT + 8];
    snprintf(wal, sizeof wal, "%s-wal", c->store.path);
    snprintf(shm, sizeof shm, "%s-shm", c->store.path);
    const char *mine[] = {c->engine.data_dir, c->store.path, wal, shm, c->engine.log_file};
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
        if (hand_tree(mine[i], err, errlen) != 0)
            return -1;
    for (size_t i = 0; i < c->ndestinations; i++)
        if (strcmp(c->destinations[i].kind, "directory") == 0 &&
            hand_tree(c->destinations[i].path, err, errlen) != 0)
            return -1;
    if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot become %s: %s", user, strerror(errno));
        return -1;
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid ||
        getegid() != pw->pw_gid || setuid(0) == 0) {
        snprintf(err, errlen, "privileges not dropped to %s", user);
        return -1;
    }
    log_info("privileges_dropped", "user=%s uid=%u gid=%u", user, (unsigned)pw->pw_uid,
             (unsigned)pw->pw_gid);
    return 0;
}
