/* mllp — incremental MLLP framer with a frame-size cap. */
#include "parsers/mllp.h"

#include <string.h>

enum mllp_state {
    MLLP_OUTSIDE,  /* between frames: skip until <VT> */
    MLLP_INSIDE,   /* collecting a payload until <FS> */
    MLLP_DISCARD,  /* an oversize payload: drop until <FS> */
    MLLP_AFTER_FS, /* the frame ended: swallow its <CR> */
};

void mllp_init(struct mllp_framer *f, size_t max_frame)
{
    memset(f, 0, sizeof *f);
    f->max_frame = max_frame;
    strbuf_init(&f->buf, max_frame);
}

void mllp_cleanup(struct mllp_framer *f)
{
    strbuf_cleanup(&f->buf);
}

int mllp_in_frame(const struct mllp_framer *f)
{
    return f->state == MLLP_INSIDE || f->state == MLLP_DISCARD;
}

/* Offset of the first <FS> or <VT> at or after i, or n. */
static size_t find_mark(const char *data, size_t i, size_t n)
{
    const char *fs = memchr(data + i, MLLP_FS, n - i);
    size_t end = fs ? (size_t)(fs - data) : n;
    const char *vt = memchr(data + i, MLLP_VT, end - i);
    return vt ? (size_t)(vt - data) : end;
}

/* Between frames: skips to the next <VT>. Returns the new offset. */
static size_t feed_outside(struct mllp_framer *f, const char *data, size_t i, size_t n)
{
    if (f->state == MLLP_AFTER_FS) {
        f->state = MLLP_OUTSIDE;
        if (data[i] == MLLP_CR)
            return i + 1;
    }
    const char *vt = memchr(data + i, MLLP_VT, n - i);
    size_t at = vt ? (size_t)(vt - data) : n;
    f->skipped += at - i;
    if (!vt)
        return n;
    strbuf_reset(&f->buf);
    f->state = MLLP_INSIDE;
    return at + 1;
}

/* Inside a frame: collects up to the mark j and acts on it. *stop set by cb. */
static size_t feed_inside(struct mllp_framer *f, const char *data, size_t i, size_t n, mllp_cb cb,
                          void *arg, int *stop)
{
    size_t j = find_mark(data, i, n);
    if (f->state == MLLP_INSIDE && f->buf.len + (j - i) > f->max_frame) {
        f->oversize++;
        f->state = MLLP_DISCARD;
        strbuf_reset(&f->buf);
        *stop = cb(arg, MLLP_OVERSIZE, NULL, 0);
        return j;
    }
    if (j == n) {
        if (f->state == MLLP_INSIDE)
            strbuf_append(&f->buf, data + i, j - i); /* fits: checked above */
        return n;
    }
    if (data[j] == MLLP_VT) { /* a new frame starts before this one ended */
        f->truncated += f->state == MLLP_INSIDE;
        f->state = MLLP_INSIDE;
        strbuf_reset(&f->buf);
        return j + 1;
    }
    if (f->state == MLLP_DISCARD) {
        f->state = MLLP_AFTER_FS;
        return j + 1;
    }
    f->state = MLLP_AFTER_FS;
    f->frames++;
    if (f->buf.len == 0) { /* whole frame in this read: no copy */
        *stop = cb(arg, MLLP_FRAME, data + i, j - i);
    } else {
        strbuf_append(&f->buf, data + i, j - i);
        *stop = cb(arg, MLLP_FRAME, f->buf.p, f->buf.len);
        strbuf_reset(&f->buf);
    }
    return j + 1;
}

size_t mllp_feed(struct mllp_framer *f, const char *data, size_t n, mllp_cb cb, void *arg)
{
    size_t i = 0;
    int stop = 0;
    while (i < n && !stop) {
        if (f->state == MLLP_OUTSIDE || f->state == MLLP_AFTER_FS)
            i = feed_outside(f, data, i, n);
        else
            i = feed_inside(f, data, i, n, cb, arg, &stop);
    }
    return i;
}

int mllp_wrap(const char *p, size_t n, struct strbuf *out)
{
    const char head = MLLP_VT, tail[2] = {MLLP_FS, MLLP_CR};
    if (strbuf_append(out, &head, 1) != 0 || strbuf_append(out, p, n) != 0)
        return -1;
    return strbuf_append(out, tail, 2);
}
