/*
 * hl7 — HL7v2 parsing into one owned copy plus a segment/field index.
 *
 * The index is two arrays: segments, and token start offsets. Token 0 of a
 * segment is its id; token k (k >= 1) is the text after the k-th field
 * separator. Each segment's tokens are followed by a sentinel (segment end
 * + 1), so token k spans [tok[k], tok[k + 1] - 1). In MSH the separator is
 * MSH-1, so MSH-n (n >= 2) is token n - 1.
 */
#include "parsers/hl7.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/grow.h"
#include "parsers/hl7_charset.h"
#include "parsers/strbuf.h"

#define UTF8_BOM "\xEF\xBB\xBF"

struct hl7_opts hl7_opts_default(void)
{
    struct hl7_opts o = {
        .limits = {.max_size = 16u << 20, .max_segments = 10000, .max_fields = 1000},
        .fallback = HL7_CS_UTF8,
    };
    return o;
}

void hl7_msg_init(struct hl7_msg *m)
{
    memset(m, 0, sizeof *m);
}

void hl7_msg_cleanup(struct hl7_msg *m)
{
    free(m->buf);
    free(m->segs);
    free(m->tok);
    free(m->seqtab);
    hl7_msg_init(m);
}

static void fail(struct hl7_err *err, enum hl7_code code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct hl7_err *err, enum hl7_code code, size_t offset, const char *fmt, ...)
{
    va_list ap;
    memset(err, 0, sizeof *err);
    err->code = code;
    err->offset = offset;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
}

static void set_loc(struct hl7_err *err, const char *seg, uint32_t seq, uint32_t field)
{
    snprintf(err->loc.seg, sizeof err->loc.seg, "%s", seg);
    err->loc.seq = seq;
    err->loc.field = field;
}

static bool is_delim_ok(char c)
{
    unsigned char u = (unsigned char)c;
    return u > ' ' && u < 0x7F &&
           !((u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z'));
}

/* Index of the first delimiter that is not punctuation or repeats an earlier one, or n. */
static size_t first_bad_delim(const char *d, size_t n)
{
    for (size_t a = 0; a < n; a++) {
        if (!is_delim_ok(d[a]))
            return a;
        for (size_t c = a + 1; c < n; c++)
            if (d[a] == d[c])
                return a;
    }
    return n;
}

/* Reads MSH-1 and MSH-2 from the start of buf into m->enc. */
static int read_delims(struct hl7_msg *m, size_t start, struct hl7_err *err)
{
    const char *b = m->buf + start;
    size_t n = m->len - start;
    if (n < 4 || memcmp(b, "MSH", 3) != 0) {
        fail(err, HL7_E_SEGMENT_SEQUENCE, start, "message does not start with an MSH segment");
        return -1;
    }
    char d[6] = {b[3], '^', '~', '\\', '&', '\0'};
    size_t i = 4;
    for (; i < n && b[i] != d[0] && b[i] != '\r' && b[i] != '\n'; i++) {
        if (i - 4 >= 5) {
            fail(err, HL7_E_DATA_TYPE, start + i, "MSH-2 has more than 5 encoding characters");
            set_loc(err, "MSH", 1, 2);
            return -1;
        }
        d[i - 3] = b[i];
    }
    if (i < 7) { /* fewer than 3 encoding characters cannot be trusted */
        fail(err, HL7_E_DATA_TYPE, start + 4, "MSH-2 has %zu encoding characters, expected 4",
             i - 4);
        set_loc(err, "MSH", 1, 2);
        return -1;
    }
    size_t nd = i - 4 < 4 ? 5 : i - 3; /* defaults fill a missing sub-component char */
    size_t bad = first_bad_delim(d, nd);
    if (bad < nd) {
        fail(err, HL7_E_DATA_TYPE, start + 3 + bad,
             "MSH-1/MSH-2 delimiters are not distinct printable punctuation");
        set_loc(err, "MSH", 1, bad == 0 ? 1 : 2);
        return -1;
    }
    m->enc = (struct hl7_enc){.field = d[0],
                              .comp = d[1],
                              .rep = d[2],
                              .esc = d[3],
                              .sub = d[4],
                              .trunc = d[5],
                              .charset = HL7_CS_UTF8};
    return 0;
}

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* True for a segment that holds only blanks or NULs: skipped like an empty line. */
static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\0')
            return false;
    return true;
}

static void push_tok(struct hl7_msg *m, size_t off)
{
    if (m->ntok == m->tokcap)
        m->tok = grow_array(m->tok, &m->tokcap, (size_t)m->ntok + 1, sizeof *m->tok);
    m->tok[m->ntok++] = (uint32_t)off;
}

/* Offset of the next c at or after i, or n: memchr is vectorised. */
static size_t next_of(const char *b, size_t i, size_t n, char c)
{
    const char *p = memchr(b + i, c, n - i);
    return p ? (size_t)(p - b) : n;
}

/* Indexes the fields of the segment [i, end). -1 when it has too many. */
static int index_segment(struct hl7_msg *m, size_t i, size_t end, const struct hl7_limits *lim,
                         struct hl7_err *err)
{
    uint32_t first = m->ntok, nt = 1;
    push_tok(m, i);
    for (size_t at = next_of(m->buf, i, end, m->enc.field); at < end;
         at = next_of(m->buf, at + 1, end, m->enc.field)) {
        if (nt > lim->max_fields) {
            fail(err, HL7_E_TOO_LONG, at, "segment has more than %u fields",
                 (unsigned)lim->max_fields);
            return -1;
        }
        push_tok(m, at + 1);
        nt++;
    }
    push_tok(m, end + 1);
    m->segs[m->nsegs] = (struct hl7_seg){.first = first, .ntok = nt};
    return 0;
}

/* The slot of name in the counting table: found, or the empty one where it goes. */
static struct hl7_seq_slot *seq_slot(struct hl7_msg *m, uint32_t name)
{
    size_t mask = m->seqcap - 1, i = (name * 2654435761u) & mask;
    while (m->seqtab[i].gen == m->seqgen && m->seqtab[i].name != name)
        i = (i + 1) & mask;
    return &m->seqtab[i];
}

/* Doubles the counting table, moving this pass's names over. */
static void seq_grow(struct hl7_msg *m)
{
    struct hl7_seq_slot *old = m->seqtab;
    size_t n = m->seqcap, cap = 0;
    m->seqcap = n ? 2 * n : 64;
    m->seqtab = grow_array(NULL, &cap, m->seqcap, sizeof *m->seqtab);
    memset(m->seqtab, 0, m->seqcap * sizeof *m->seqtab);
    uint32_t gen = m->seqgen;
    m->seqgen = 1; /* a new table: every slot of gen 0 is empty */
    for (size_t i = 0; i < n; i++)
        if (old[i].gen == gen)
            *seq_slot(m, old[i].name) = (struct hl7_seq_slot){old[i].name, old[i].count, 1};
    free(old);
}

/* The occurrence number of a segment named name: one look-up per segment, so positions
 * such as OBX[2000] cost nothing to report however many segments a message has. */
static uint32_t count_name(struct hl7_msg *m, const char *name)
{
    uint32_t key = (uint32_t)(unsigned char)name[0] << 16 | (uint32_t)(unsigned char)name[1] << 8 |
                   (unsigned char)name[2];
    if (2 * ((size_t)m->nnames + 1) > m->seqcap)
        seq_grow(m);
    struct hl7_seq_slot *slot = seq_slot(m, key);
    if (slot->gen != m->seqgen) {
        *slot = (struct hl7_seq_slot){key, 0, m->seqgen};
        m->nnames++;
    }
    return ++slot->count;
}

/* Validates the id of the segment just indexed and stores it. */
static int name_segment(struct hl7_msg *m, struct hl7_err *err)
{
    struct hl7_seg *s = &m->segs[m->nsegs];
    size_t start = m->tok[s->first], end = m->tok[s->first + 1] - 1;
    if (end - start != 3 || !is_name_char(m->buf[start]) || !is_name_char(m->buf[start + 1]) ||
        !is_name_char(m->buf[start + 2])) {
        fail(err, HL7_E_SEGMENT_SEQUENCE, start, "segment %u has no valid 3-character id",
             (unsigned)m->nsegs + 1);
        return -1;
    }
    memcpy(s->name, m->buf + start, 3);
    s->name[3] = '\0';
    s->seq = count_name(m, s->name);
    m->nsegs++;
    return 0;
}

static int index_message(struct hl7_msg *m, size_t i, const struct hl7_limits *lim,
                         struct hl7_err *err)
{
    const char *b = m->buf;
    size_t n = m->len, cr = next_of(b, i, n, '\r'), lf = next_of(b, i, n, '\n');
    m->nsegs = 0;
    m->ntok = 0;
    m->nnames = 0;
    if (++m->seqgen == 0 && m->seqtab) { /* wrapped: an old pass's slots could look current */
        memset(m->seqtab, 0, m->seqcap * sizeof *m->seqtab);
        m->seqgen = 1;
    }
    while (i < n) {
        if (cr < i) /* each terminator search resumes where it stopped: linear overall */
            cr = next_of(b, i, n, '\r');
        if (lf < i)
            lf = next_of(b, i, n, '\n');
        size_t end = cr < lf ? cr : lf;
        if (end == i ||
            ((b[i] == ' ' || b[i] == '\t' || b[i] == '\0') && is_blank(b + i, end - i))) {
            i = end + 1; /* an empty line or blanks only: no segment */
            continue;
        }
        if (m->nsegs == lim->max_segments) {
            fail(err, HL7_E_TOO_LONG, i, "message has more than %u segments",
                 (unsigned)lim->max_segments);
            return -1;
        }
        m->segs = grow_array(m->segs, &m->segcap, (size_t)m->nsegs + 1, sizeof *m->segs);
        if (index_segment(m, i, end, lim, err) != 0 || name_segment(m, err) != 0)
            return -1;
        m->has_header = true;
        i = end + 1;
    }
    return 0;
}

static void copy_in(struct hl7_msg *m, const char *data, size_t len)
{
    if (len + 1 > m->bufcap) {
        free(m->buf);
        m->buf = NULL;
        m->bufcap = 0;
        m->buf = grow_array(NULL, &m->bufcap, len + 1, 1);
    }
    memcpy(m->buf, data, len);
    m->buf[len] = '\0';
    m->len = len;
}

/* Resolves MSH-18 (or the fallback) into m->enc.charset. */
static int read_charset(struct hl7_msg *m, const struct hl7_opts *o, bool bom, struct hl7_err *err)
{
    const struct hl7_seg *msh = &m->segs[0];
    struct hl7_view v = hl7_piece(hl7_field(m, msh, 18), m->enc.rep, 1);
    v = hl7_piece(v, m->enc.comp, 1);
    m->enc.charset = o->fallback;
    if (bom || !v.p || v.len == 0 || hl7_view_is_null(v)) {
        if (bom)
            m->enc.charset = HL7_CS_UTF8;
        return 0;
    }
    if (hl7_charset_from_name(v.p, v.len, &m->enc.charset) != 0) {
        /* Any ASCII-compatible set reads pure ASCII alike: only bytes >= 0x80 need it. */
        if (!hl7_has_high_bytes(m->buf, m->len)) {
            m->enc.charset = HL7_CS_UTF8;
            m->warnings |= HL7_W_CHARSET_UNKNOWN;
            return 0;
        }
        fail(err, HL7_E_TABLE_VALUE, (size_t)(v.p - m->buf),
             "MSH-18 names a character set Solent does not support");
        set_loc(err, "MSH", 1, 18);
        return -1;
    }
    return 0;
}

static int bad_bytes(struct hl7_msg *m, size_t at, struct hl7_err *err)
{
    fail(err, HL7_E_DATA_TYPE, at, "byte 0x%02X is not valid %s",
         (unsigned)(unsigned char)m->buf[at], hl7_charset_name(m->enc.charset));
    hl7_locate(m, at, &err->loc);
    return -1;
}

/* Turns the indexed buffer into UTF-8, re-indexing when bytes changed. */
static int to_utf8(struct hl7_msg *m, const struct hl7_opts *o, struct hl7_err *err)
{
    if (!hl7_has_high_bytes(m->buf, m->len))
        return 0;
    size_t bad = hl7_utf8_check(m->buf, m->len);
    if (bad == m->len) {
        if (m->enc.charset != HL7_CS_UTF8)
            m->warnings |= HL7_W_CHARSET_MISMATCH;
        m->enc.charset = HL7_CS_UTF8;
        return 0;
    }
    if (m->enc.charset == HL7_CS_UTF8)
        return bad_bytes(m, bad, err);
    struct strbuf out;
    strbuf_init(&out, (size_t)UINT32_MAX - 1);
    if (hl7_charset_to_utf8(m->enc.charset, m->buf, m->len, &out, &bad) != 0) {
        strbuf_cleanup(&out);
        return bad_bytes(m, bad, err);
    }
    free(m->buf);
    m->bufcap = out.cap;
    m->buf = strbuf_take(&out, &m->len);
    return index_message(m, 0, &o->limits, err);
}

int hl7_msg_parse(struct hl7_msg *m, const char *data, size_t len, const struct hl7_opts *o,
                  struct hl7_err *err)
{
    memset(err, 0, sizeof *err);
    m->nsegs = m->ntok = 0;
    m->warnings = 0;
    m->has_header = false;
    if (len > o->limits.max_size || len >= UINT32_MAX - 1) {
        fail(err, HL7_E_TOO_LONG, o->limits.max_size, "message of %zu bytes exceeds %zu", len,
             o->limits.max_size);
        return -1;
    }
    bool bom = len >= 3 && memcmp(data, UTF8_BOM, 3) == 0;
    size_t skip = bom ? 3 : 0;
    copy_in(m, data + skip, len - skip);
    size_t start = 0;
    while (start < m->len && (m->buf[start] == '\r' || m->buf[start] == '\n' ||
                              m->buf[start] == ' ' || m->buf[start] == '\t'))
        start++;
    int rc = -1;
    if (read_delims(m, start, err) == 0 && index_message(m, start, &o->limits, err) == 0 &&
        read_charset(m, o, bom, err) == 0 && to_utf8(m, o, err) == 0)
        rc = 0;
    if (rc != 0)
        err->offset += skip;
    return rc;
}

const char *hl7_warning_text(enum hl7_warn w)
{
    switch (w) {
    case HL7_W_CHARSET_MISMATCH:
        return "MSH-18: the bytes are UTF-8, not the declared character set; read as UTF-8";
    case HL7_W_CHARSET_UNKNOWN:
        return "MSH-18: unknown character set, but every byte is ASCII; read as ASCII";
    }
    return "unknown warning";
}

const struct hl7_seg *hl7_seg_find(const struct hl7_msg *m, const char *name, uint32_t occ)
{
    for (uint32_t i = 0; i < m->nsegs; i++)
        if (memcmp(m->segs[i].name, name, 4) == 0 && --occ == 0)
            return &m->segs[i];
    return NULL;
}

uint32_t hl7_seg_seq(const struct hl7_msg *m, const struct hl7_seg *s)
{
    (void)m;
    return s->seq;
}

static bool is_msh(const struct hl7_seg *s)
{
    return memcmp(s->name, "MSH", 4) == 0;
}

uint32_t hl7_seg_nfields(const struct hl7_msg *m, const struct hl7_seg *s)
{
    (void)m;
    return is_msh(s) ? s->ntok : s->ntok - 1;
}

struct hl7_view hl7_field(const struct hl7_msg *m, const struct hl7_seg *s, uint32_t n)
{
    struct hl7_view v = {NULL, 0};
    if (!s || n == 0)
        return v;
    if (is_msh(s) && n == 1) {
        v.p = m->buf + m->tok[s->first] + 3;
        v.len = 1;
        return v;
    }
    uint32_t k = is_msh(s) ? n - 1 : n;
    if (k >= s->ntok)
        return v;
    v.p = m->buf + m->tok[s->first + k];
    v.len = m->tok[s->first + k + 1] - 1 - m->tok[s->first + k];
    return v;
}

struct hl7_view hl7_piece(struct hl7_view v, char sep, uint32_t n)
{
    struct hl7_view r = {NULL, 0};
    if (!v.p || n == 0)
        return r;
    const char *p = v.p, *end = v.p + v.len;
    while (--n > 0) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (!q)
            return r;
        p = q + 1;
    }
    const char *q = memchr(p, sep, (size_t)(end - p));
    r.p = p;
    r.len = (size_t)((q ? q : end) - p);
    return r;
}

void hl7_pieces_init(struct hl7_pieces *it, struct hl7_view v, char sep)
{
    it->p = v.p;
    it->end = v.p ? v.p + v.len : NULL;
    it->sep = sep;
}

bool hl7_pieces_next(struct hl7_pieces *it, struct hl7_view *out)
{
    if (!it->p)
        return false;
    const char *q = memchr(it->p, it->sep, (size_t)(it->end - it->p));
    out->p = it->p;
    out->len = (size_t)((q ? q : it->end) - it->p);
    it->p = q ? q + 1 : NULL;
    return true;
}

uint32_t hl7_npieces(struct hl7_view v, char sep)
{
    if (!v.p)
        return 0;
    uint32_t n = 1;
    for (size_t i = 0; i < v.len; i++)
        n += v.p[i] == sep;
    return n;
}

bool hl7_view_is_null(struct hl7_view v)
{
    return v.p && v.len == 2 && v.p[0] == '"' && v.p[1] == '"';
}
