/*
 * libFuzzer target for the configuration loader: the bytes are a solent.conf
 * (given to conf_load through a memfd). Checks the loader's contract — a file
 * either loads into a configuration whose references hold (every route's
 * destinations and every listener's routes exist, ports in range, an admin
 * endpoint only with a token from env: or file:), or fails with
 * "file:line: problem" — and, under ASan/UBSan, that no input reads or writes
 * out of bounds. Code map paths in [codes] may name any file: the loader refuses
 * what is not a regular file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int named(const char *name, const void *array, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(
                ((const struct conf_named *)(const void *)((const char *)array + i * stride))->name,
                name) == 0)
            return 1;
    return 0;
}

static void holds(const struct conf *c)
{
    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct conf_listener *l = &c->listeners[i];
        if (l->port == 0 || l->port > 65535)
            abort();
        for (size_t k = 0; k < l->routes.n; k++)
            if (!named(l->routes.v[k], c->routes, c->nroutes, sizeof c->routes[0]))
                abort();
    }
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct conf_route *r = &c->routes[i];
        if (r->destinations.n == 0)
            abort();
        for (size_t k = 0; k < r->destinations.n; k++)
            if (!named(r->destinations.v[k], c->destinations, c->ndestinations,
                       sizeof c->destinations[0]))
                abort();
    }
    if (c->admin.port && strncmp(c->admin.token, "env:", 4) != 0 &&
        strncmp(c->admin.token, "file:", 5) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("solent-fuzz-conf", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    char err[512] = "";
    struct conf *c = conf_load(path, err, sizeof err);
    if (c)
        holds(c);
    else if (strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':')
        abort(); /* every failure names the file (and a line, when it has one) */
    conf_free(c);
    return 0;
}
