/*
 * xf_arena — a per-thread arena for the cJSON trees of one transformation.
 *
 * A bundle is hundreds of small cJSON nodes and strings that all die
 * together; with the arena active, cJSON allocations are pointer bumps and
 * frees are no-ops, and xf_arena_end() releases everything at once. cJSON's
 * hooks are process-wide, so outside an arena (or for memory that is not the
 * arena's) they fall through to malloc and free. xf_init()/xf_cleanup() open
 * and close it: a bundle must be serialised before its context is cleaned up.
 */
#ifndef SOLENT_TRANSFORMS_XF_ARENA_H
#define SOLENT_TRANSFORMS_XF_ARENA_H

/* Starts (or nests into) this thread's arena. */
void xf_arena_begin(void);
/* Leaves it; the outermost end releases every allocation made inside. */
void xf_arena_end(void);

#endif
