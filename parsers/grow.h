/*
 * grow — the one place arrays grow, and the one place the out-of-memory
 * policy lives: allocation failure aborts (docs/DESIGN.md explains why that
 * loses nothing acknowledged). Callers keep their own caps on how far.
 */
#ifndef SOLENT_PARSERS_GROW_H
#define SOLENT_PARSERS_GROW_H

#include <stddef.h>

/* Returns p resized to hold at least need elements of size bytes; *cap updated. */
void *grow_array(void *p, size_t *cap, size_t need, size_t size);

#endif
