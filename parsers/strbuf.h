/*
 * strbuf — a growable byte buffer with a hard cap, used by the parsers to
 * build decoded text and outbound messages.
 *
 * It never exceeds the cap given at init: an append that would is refused
 * (returns -1) and leaves the buffer unchanged. Out of memory aborts the
 * process (grow.h holds that policy). The content is NUL-terminated once anything
 * was appended; len does not count the NUL.
 */
#ifndef SOLENT_PARSERS_STRBUF_H
#define SOLENT_PARSERS_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *p;    /* owned; NULL until the first append */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
};

/* Prepares an empty buffer that will hold at most max bytes. */
void strbuf_init(struct strbuf *b, size_t max);
/* Frees the storage; the buffer may be initialised again. */
void strbuf_cleanup(struct strbuf *b);
/* Empties the buffer, keeping its storage. */
void strbuf_reset(struct strbuf *b);
/* Appends n bytes; -1 (and no change) if the cap would be exceeded. */
int strbuf_append(struct strbuf *b, const void *data, size_t n);
/* Makes room for total bytes (and the NUL) without changing the content, for a writer that
 * fills p + len itself; -1 if total is over the cap. */
int strbuf_reserve(struct strbuf *b, size_t total);
/* Appends a NUL-terminated string; -1 if the cap would be exceeded. */
int strbuf_puts(struct strbuf *b, const char *s);
/* Appends one byte; -1 if the cap would be exceeded. */
int strbuf_putc(struct strbuf *b, char c);
/* Hands the storage to the caller (who frees it) and empties the buffer. */
char *strbuf_take(struct strbuf *b, size_t *len);

/* s copied into out (n bytes, NUL included) with quotes, backslashes and control bytes
 * written \xHH, cut to fit: received text made safe inside a quoted log value or on a
 * terminal (it cannot end the value, start a line or send an escape sequence). Returns out. */
const char *str_printable(const char *s, char *out, size_t n);

#endif
