/* zoneinfo — a zone file by IANA name into a dt_zone. */
#include "engine/zoneinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo/"

int zoneinfo_load(struct dt_zone *z, const char *name, char *err, size_t errlen)
{
    char path[512], why[256];
    size_t len;
    memset(z, 0, sizeof *z);
    if (!name[0] || name[0] == '/' || strstr(name, "..") ||
        snprintf(path, sizeof path, ZONEINFO_DIR "%s", name) >= (int)sizeof path) {
        snprintf(err, errlen, "%s is not a time zone name such as Europe/London", name);
        return -1;
    }
    char *data = cli_read_file(path, 1 << 20, &len, why, sizeof why);
    if (!data) {
        snprintf(err, errlen, "%s is not a known time zone (no file " ZONEINFO_DIR "%s)", name,
                 name);
        return -1;
    }
    int rc = dt_zone_parse(z, (const unsigned char *)data, len, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "time zone %s: %s", name, why);
    free(data);
    return rc;
}

const struct xf_config *zoneinfo_default_config(char *err, size_t errlen)
{
    static struct dt_zone zone;
    static struct xf_config cfg;
    if (!cfg.zone) {
        cfg = *xf_config_default();
        if (zoneinfo_load(&zone, cfg.site_tz, err, errlen) != 0)
            return NULL;
        cfg.zone = &zone;
    }
    return &cfg;
}
