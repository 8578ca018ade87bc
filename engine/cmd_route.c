/*
 * cmd_route — `solent route [-c FILE] [--listener NAME] FILE|DIR|- ...`: for each
 * message, the route the configuration's table gives it and where it would go, or
 * what the no-match policy does with it. For checking a route table before reload.
 */
#include "engine/cmd_route.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"
#include "engine/conf.h"
#include "parsers/hl7_batch.h"

struct route_cmd {
    const struct router *router;
    const char *listener, *file;
    size_t unrouted;
    struct hl7_msg msg;
};

static void route_one(struct route_cmd *c, size_t index)
{
    const struct route_rule *rule =
        route_match(c->router->rules, c->router->n, c->listener, &c->msg);
    if (rule) {
        const struct conf_route *cr = router_route(c->router, rule);
        printf("%s: message %zu: route %s -> %s", c->file, index, rule->name, cr->transform);
        for (size_t i = 0; i < cr->destinations.n; i++)
            printf("%s%s", i ? ", " : " -> ", cr->destinations.v[i]);
        putchar('\n');
        return;
    }
    c->unrouted++;
    if (strcmp(c->router->conf->engine.on_no_match, "park") == 0)
        printf("%s: message %zu: no route: parked (accepted, stored, not delivered)\n", c->file,
               index);
    else
        printf("%s: message %zu: no route: AR %d\n", c->file, index,
               router_no_match_code(c->router, c->listener, &c->msg));
}

static void route_file(struct route_cmd *c, const char *data, size_t len)
{
    struct hl7_batch b;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    hl7_batch_init(&b);
    if (cli_split(data, len, o.limits.max_size, &b, &err) != 0)
        b.n = 0, fprintf(stderr, "%s: %s\n", c->file, err.text), c->unrouted++;
    for (size_t i = 0; i < b.n; i++) {
        if (hl7_msg_parse(&c->msg, data + b.msgs[i].off, b.msgs[i].len, &o, &err) != 0) {
            fprintf(stderr, "%s: message %zu: %s\n", c->file, i + 1, err.text);
            c->unrouted++;
            continue;
        }
        route_one(c, i + 1);
    }
    hl7_batch_cleanup(&b);
}

static const char usage[] =
    "usage: solent route [-c FILE] [--listener NAME] FILE|DIR|- ...\n"
    "Shows the route each message would take under the configuration (default\n"
    "conf/solent.conf), as arriving on --listener NAME, and what happens to those none takes.\n";

int cmd_route_run(int argc, char **argv)
{
    struct route_cmd c = {.listener = NULL};
    const char *conf_path = conf_default_path();
    struct cli_paths paths;
    char why[512];
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i += 2) {
        bool help = strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
        if (help)
            return fputs(usage, stdout), 0;
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf_path = argv[i + 1];
        else if (strcmp(argv[i], "--listener") == 0 && i + 1 < argc)
            c.listener = argv[i + 1];
        else
            return fputs(usage, stderr), 2;
    }
    if (i >= argc)
        return fputs(usage, stderr), 2;
    struct conf *conf = conf_load(conf_path, why, sizeof why);
    if (!conf)
        return fprintf(stderr, "%s\n", why), 1;
    c.router = &conf->router;
    hl7_msg_init(&c.msg);
    cli_paths_init(&paths);
    for (; i < argc; i++)
        if (cli_paths_add(&paths, argv[i], why, sizeof why) != 0)
            fprintf(stderr, "solent route: %s\n", why), c.unrouted++;
    for (size_t k = 0; k < paths.n; k++) {
        size_t len;
        char *data = cli_read_file(paths.v[k], 64u << 20, &len, why, sizeof why);
        c.file = paths.v[k];
        if (!data) {
            fprintf(stderr, "solent route: %s\n", why), c.unrouted++;
            continue;
        }
        route_file(&c, data, len);
        free(data);
    }
    cli_paths_cleanup(&paths);
    hl7_msg_cleanup(&c.msg);
    conf_free(conf);
    return c.unrouted ? 1 : 0;
}
