/*
 * libFuzzer target for the MLLP framer: the input is cut into reads of
 * sizes taken from its first bytes, fed to a framer with a small cap, and
 * every frame is parsed. Checks that the framer never buffers past its cap
 * and never reports more frames than there were <VT> bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/hl7.h"
#include "parsers/mllp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    struct hl7_msg msg;
    struct hl7_opts opts;
};

static int on_frame(void *arg, enum mllp_event ev, const char *p, size_t n)
{
    struct ctx *c = arg;
    struct hl7_err err;
    if (ev == MLLP_FRAME)
        (void)hl7_msg_parse(&c->msg, p, n, &c->opts, &err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ctx c;
    struct mllp_framer f;
    if (size < 2)
        return 0;
    size_t max = 16 + data[0] * 16u, step = 1 + data[1] % 97, vts = 0;
    c.opts = hl7_opts_default();
    mllp_init(&f, max);
    for (size_t i = 2; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        size_t used = 0;
        while (used < n)
            used += mllp_feed(&f, (const char *)data + i + used, n - used, on_frame, &c);
    }
    for (size_t i = 2; i < size; i++)
        vts += data[i] == MLLP_VT;
    if (f.frames > vts || f.buf.len > max)
        abort();
    mllp_cleanup(&f);
    return 0;
}
