/* cmd_check — `solent check-config [-c FILE]`: "file:line: problem" or a summary. */
#include "engine/cmd_check.h"

#include <stdio.h>
#include <string.h>

#include "engine/conf.h"
#include "transforms/dt_time.h"

#define DEFAULT_CONF "conf/solent.conf"

int cmd_check_run(int argc, char **argv)
{
    const char *path = DEFAULT_CONF;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else {
            fputs("usage: solent check-config [-c FILE]\n", stderr);
            return 2;
        }
    }
    char err[512];
    struct conf *c = conf_load(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: ok: %zu listeners, %zu routes, %zu destinations, %zu identifier rules\n", path,
           c->nlisteners, c->nroutes, c->ndestinations, c->nidents);
    conf_free(c);
    return 0;
}
