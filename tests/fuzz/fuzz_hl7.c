/*
 * libFuzzer target for the HL7v2 parser: batch splitting, parsing with a
 * fallback charset chosen by the input, a walk of every leaf through
 * unescape and escape, message type, ACK building, locating offsets and
 * the path syntax. Crashes, leaks and UB are the failures (ASan/UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/hl7.h"
#include "parsers/hl7_ack.h"
#include "parsers/hl7_batch.h"
#include "parsers/hl7_escape.h"
#include "parsers/hl7_msgtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_leaves(const struct hl7_msg *m, struct strbuf *a, struct strbuf *b)
{
    const struct hl7_enc *e = &m->enc;
    size_t bad;
    for (uint32_t i = 0; i < m->nsegs; i++) {
        for (uint32_t n = 1; n <= hl7_seg_nfields(m, &m->segs[i]); n++) {
            struct hl7_view f = hl7_field(m, &m->segs[i], n);
            for (uint32_t r = 1; r <= hl7_npieces(f, e->rep) && r < 64; r++) {
                struct hl7_view rv = hl7_piece(f, e->rep, r);
                for (uint32_t c = 1; c <= hl7_npieces(rv, e->comp) && c < 64; c++) {
                    struct hl7_view cv = hl7_piece(rv, e->comp, c);
                    strbuf_reset(a);
                    strbuf_reset(b);
                    if (hl7_unescape(e, cv, a, &bad) >= 0)
                        hl7_escape(e, a->p ? a->p : "", a->len, b);
                }
            }
        }
    }
}

static void paths(const struct hl7_msg *m, const uint8_t *data, size_t size)
{
    char text[64], why[160];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    struct hl7_path p;
    if (hl7_path_parse(text, &p, why, sizeof why) == 0) {
        struct hl7_view v = hl7_get(m, &p);
        (void)hl7_path_is_leaf(m, &p, v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hl7_msg m;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    struct hl7_batch batch;
    struct strbuf a, b;
    const char *text = (const char *)data;

    o.limits.max_size = 1u << 20;
    o.fallback = size ? (enum hl7_charset)(data[size - 1] % HL7_CS_COUNT) : HL7_CS_UTF8;
    hl7_batch_init(&batch);
    (void)hl7_batch_split(&batch, text, size, &err);
    hl7_batch_cleanup(&batch);

    strbuf_init(&a, 1u << 20);
    strbuf_init(&b, 1u << 22);
    int rc = hl7_msg_parse(&m, text, size, &o, &err);
    if (rc == 0) {
        struct hl7_msgtype t;
        struct hl7_loc loc;
        walk_leaves(&m, &a, &b);
        (void)hl7_msgtype_read(&m, &t, &err);
        for (size_t off = 0; off < m.len; off += 1 + m.len / 7)
            hl7_locate(&m, off, &loc);
        paths(&m, data, size);
    }
    struct hl7_ack ack = {"AE", "1", "20260101", "fuzz", rc ? &err : NULL, 0};
    strbuf_reset(&b);
    (void)hl7_ack_build(&m, &ack, &b);
    strbuf_cleanup(&a);
    strbuf_cleanup(&b);
    return 0;
}
