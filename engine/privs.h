/*
 * privs — least privilege: `solent run` started as root binds its ports and opens its files,
 * then runs as [engine] user (or --user): its data handed to that user, then setgroups,
 * setgid, setuid, each checked, and root shown to be out of reach. Started as root with no
 * user, it refuses to run.
 */
#ifndef SOLENT_ENGINE_PRIVS_H
#define SOLENT_ENGINE_PRIVS_H

#include <stddef.h>

#include "engine/conf.h"

/* Before anything is opened: -1 (with the reason) when started as root and user is "". */
int privs_check(const char *user, char *err, size_t errlen);
/* Once the ports are bound and the files open: when root, hands c's data directory, store
 * files, directory destinations and log file to user, then becomes user. 0, or -1 with the
 * reason (the process must then stop). */
int privs_drop(const struct conf *c, const char *user, char *err, size_t errlen);

#endif
