/*
 * mllp — the Minimal Lower Layer Protocol framer: <VT> payload <FS><CR>.
 *
 * Incremental: feed it whatever a read returned. Frames may be split
 * across any number of reads, several may arrive in one read. Bytes
 * outside a frame (noise, a port scanner, a bare <FS>) are skipped and
 * counted. A frame longer than the cap is reported once and discarded
 * as it streams in, never buffered whole. A <VT> inside a frame abandons
 * the partial frame (the sender restarted) and is counted as truncated.
 * No I/O: the caller reads and writes the socket.
 */
#ifndef SOLENT_PARSERS_MLLP_H
#define SOLENT_PARSERS_MLLP_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/strbuf.h"

#define MLLP_VT 0x0B
#define MLLP_FS 0x1C
#define MLLP_CR 0x0D

enum mllp_event {
    MLLP_FRAME,    /* a complete payload (p, n) */
    MLLP_OVERSIZE, /* a frame passed the cap; its bytes are being discarded */
};

/* Called for each event; a non-zero return stops mllp_feed() after this event. */
typedef int (*mllp_cb)(void *arg, enum mllp_event ev, const char *p, size_t n);

struct mllp_framer {
    int state;
    struct strbuf buf; /* partial frame, capped at max_frame */
    size_t max_frame;
    uint64_t frames, skipped, oversize, truncated; /* counters for metrics */
};

/* Prepares a framer that accepts payloads of at most max_frame bytes. */
void mllp_init(struct mllp_framer *f, size_t max_frame);
/* Frees the partial frame. */
void mllp_cleanup(struct mllp_framer *f);
/* Feeds n bytes; returns how many were consumed (less than n only when cb stopped it). */
size_t mllp_feed(struct mllp_framer *f, const char *data, size_t n, mllp_cb cb, void *arg);
/* True while a frame has started but not ended (a peer closing now truncates it). */
int mllp_in_frame(const struct mllp_framer *f);
/* Appends payload wrapped as one MLLP frame; -1 on out's cap. */
int mllp_wrap(const char *p, size_t n, struct strbuf *out);

#endif
