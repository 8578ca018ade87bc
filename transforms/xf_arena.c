/* xf_arena — bump allocation for cJSON, per thread, released at once. */
#include "transforms/xf_arena.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHUNK_SIZE  (64u << 10)
#define KEEP_CHUNKS 4 /* kept between transformations, for reuse */

struct chunk {
    struct chunk *next;
    size_t size, used;
    max_align_t data[]; /* aligned storage */
};

struct arena {
    int depth;
    struct chunk *chunks; /* newest first */
};

static _Thread_local struct arena arena;

static struct chunk *chunk_new(size_t need)
{
    size_t size = need > CHUNK_SIZE ? need : CHUNK_SIZE;
    struct chunk *c = malloc(sizeof *c + size);
    if (!c)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    c->size = size;
    c->used = 0;
    c->next = NULL;
    return c;
}

static void *arena_malloc(size_t n)
{
    if (arena.depth == 0)
        return malloc(n);
    size_t need = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct chunk *c = arena.chunks;
    if (!c || c->size - c->used < need) {
        struct chunk *fresh = chunk_new(need);
        fresh->next = c;
        arena.chunks = c = fresh;
    }
    void *p = (char *)c->data + c->used;
    c->used += need;
    return p;
}

static int in_arena(const void *p)
{
    for (const struct chunk *c = arena.chunks; c; c = c->next)
        if ((const char *)p >= (const char *)c->data &&
            (const char *)p < (const char *)c->data + c->size)
            return 1;
    return 0;
}

static void arena_free(void *p)
{
    if (p && !in_arena(p))
        free(p);
}

static void install_hooks(void)
{
    cJSON_Hooks hooks = {arena_malloc, arena_free};
    cJSON_InitHooks(&hooks);
}

void xf_arena_begin(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_hooks);
    arena.depth++;
}

void xf_arena_end(void)
{
    if (--arena.depth > 0)
        return;
    int kept = 0;
    struct chunk **link = &arena.chunks;
    while (*link) {
        struct chunk *c = *link;
        if (kept < KEEP_CHUNKS && c->size == CHUNK_SIZE) {
            c->used = 0;
            kept++;
            link = &c->next;
        } else {
            *link = c->next;
            free(c);
        }
    }
}
