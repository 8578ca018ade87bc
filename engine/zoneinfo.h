/*
 * zoneinfo — the site time zone by its IANA name (Europe/London), read from the
 * system's zone files (/usr/share/zoneinfo, Debian's tzdata) when a configuration
 * or a command line names it. The transforms then use it without touching the
 * process's TZ (dt_zone.h).
 */
#ifndef SOLENT_ENGINE_ZONEINFO_H
#define SOLENT_ENGINE_ZONEINFO_H

#include <stddef.h>

#include "transforms/dt_zone.h"
#include "transforms/xf.h"

/* Reads zone name into z (z's owner frees it with dt_zone_cleanup); -1 with a reason. */
int zoneinfo_load(struct dt_zone *z, const char *name, char *err, size_t errlen);
/* The built-in transform configuration (xf_config_default) with its site zone read, for
 * commands run without a configuration file; NULL with a reason. Kept for the process. */
const struct xf_config *zoneinfo_default_config(char *err, size_t errlen);

#endif
