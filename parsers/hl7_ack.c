/* hl7_ack — ACK messages with MSA and ERR, built from an inbound message. */
#include "parsers/hl7_ack.h"

#include <stdio.h>
#include <string.h>

#include "parsers/hl7_charset.h"
#include "parsers/hl7_escape.h"
#include "parsers/hl7_msgtype.h"

#define DEFAULT_VERSION "2.5.1"

const char *hl7_code_text(enum hl7_code code)
{
    switch (code) {
    case HL7_OK: return "Message accepted";
    case HL7_E_SEGMENT_SEQUENCE: return "Segment sequence error";
    case HL7_E_REQUIRED_MISSING: return "Required field missing";
    case HL7_E_DATA_TYPE: return "Data type error";
    case HL7_E_TABLE_VALUE: return "Table value not found";
    case HL7_E_TOO_LONG: return "Value too long";
    case HL7_E_UNSUPPORTED_TYPE: return "Unsupported message type";
    case HL7_E_UNSUPPORTED_EVENT: return "Unsupported event code";
    case HL7_E_UNSUPPORTED_VERSION: return "Unsupported version id";
    case HL7_E_INTERNAL: return "Application internal error";
    }
    return "Application internal error";
}

/* What the ACK takes from the inbound header; views are absent without one. */
struct ack_in {
    struct hl7_enc enc;
    struct hl7_view msh2, f[13]; /* f[n] = inbound MSH-n */
    struct hl7_msgtype type;
};

static void read_in(const struct hl7_msg *in, struct ack_in *ai)
{
    memset(ai, 0, sizeof *ai);
    ai->enc = (struct hl7_enc){'|', '^', '~', '\\', '&', '\0', HL7_CS_UTF8};
    ai->msh2 = (struct hl7_view){"^~\\&", 4};
    if (!in || !in->has_header)
        return;
    const struct hl7_seg *msh = &in->segs[0];
    ai->enc = in->enc;
    ai->msh2 = hl7_field(in, msh, 2);
    for (uint32_t n = 3; n <= 12; n++)
        ai->f[n] = hl7_field(in, msh, n);
    struct hl7_err ignored;
    if (hl7_msgtype_read(in, &ai->type, &ignored) != 0)
        memset(&ai->type, 0, sizeof ai->type);
}

static int put_view(struct strbuf *o, struct hl7_view v)
{
    return v.p ? strbuf_append(o, v.p, v.len) : 0;
}

static int put_fields(struct strbuf *o, char fs, const struct hl7_view *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strbuf_putc(o, fs) != 0 || put_view(o, vals[i]) != 0)
            return -1;
    return 0;
}

static struct hl7_view cview(const char *s)
{
    return (struct hl7_view){s, s ? strlen(s) : 0};
}

static int put_msh(struct strbuf *o, const struct ack_in *ai, const struct hl7_ack *a)
{
    char type[32];
    const char *ver = ai->type.version[0] ? ai->type.version : DEFAULT_VERSION;
    char c = ai->enc.comp;
    if (!ai->type.trigger[0])
        snprintf(type, sizeof type, "ACK");
    else if (hl7_version_cmp(ver, 2, 3) <= 0 && strcmp(ver, "2.3.1") != 0)
        snprintf(type, sizeof type, "ACK%c%s", c, ai->type.trigger);
    else
        snprintf(type, sizeof type, "ACK%c%s%cACK", c, ai->type.trigger, c);
    struct hl7_view f[] = {
        ai->msh2,
        ai->f[5],
        ai->f[6],
        ai->f[3],
        ai->f[4],
        cview(a->timestamp),
        {NULL, 0},
        cview(type),
        cview(a->control_id),
        ai->f[11].p && ai->f[11].len ? ai->f[11] : cview("P"),
        ai->f[12].p && ai->f[12].len ? ai->f[12] : cview(DEFAULT_VERSION),
    };
    size_t n = sizeof f / sizeof f[0];
    if (strbuf_puts(o, "MSH") != 0 || put_fields(o, ai->enc.field, f, n) != 0)
        return -1;
    /* Header values copied from a non-ASCII message are UTF-8 now: say so in MSH-18. */
    bool high = false;
    for (size_t i = 0; i < n; i++)
        high = high || (f[i].p && hl7_has_high_bytes(f[i].p, f[i].len));
    if (!high)
        return 0;
    const struct hl7_view f13_18[] = {{0}, {0}, {0}, {0}, {0}, cview("UNICODE UTF-8")};
    return put_fields(o, ai->enc.field, f13_18, 6);
}

static int put_escaped(struct strbuf *o, const struct hl7_enc *e, const char *s)
{
    return s ? hl7_escape(e, s, strlen(s), o) : 0;
}

static int put_msa(struct strbuf *o, const struct ack_in *ai, const struct hl7_ack *a, bool v25)
{
    char fs = ai->enc.field;
    if (strbuf_puts(o, "\rMSA") != 0 || strbuf_putc(o, fs) != 0 || strbuf_puts(o, a->code) != 0 ||
        strbuf_putc(o, fs) != 0 || put_view(o, ai->f[10]) != 0)
        return -1;
    if (!v25 && a->text && (strbuf_putc(o, fs) != 0 || put_escaped(o, &ai->enc, a->text) != 0))
        return -1;
    return 0;
}

/* The ERL (v2.5+) or the location part of ERR-1 (before): SEG^seq^field... */
static int put_location(struct strbuf *o, const struct ack_in *ai, const struct hl7_loc *l,
                        int parts)
{
    if (!l->seg[0])
        return 0;
    const uint32_t nums[] = {l->seq, l->field, l->rep, l->comp, l->sub};
    if (strbuf_puts(o, l->seg) != 0)
        return -1;
    for (int i = 0; i < parts && nums[i]; i++) {
        char n[16];
        snprintf(n, sizeof n, "%c%u", ai->enc.comp, (unsigned)nums[i]);
        if (strbuf_puts(o, n) != 0)
            return -1;
    }
    return 0;
}

static int put_err(struct strbuf *o, const struct ack_in *ai, const struct hl7_ack *a, bool v25)
{
    const struct hl7_err *e = a->err;
    char code[8], fs = ai->enc.field;
    char sep = v25 ? ai->enc.comp : ai->enc.sub;
    snprintf(code, sizeof code, "%d", (int)e->code);
    if (strbuf_puts(o, "\rERR") != 0 || strbuf_putc(o, fs) != 0 ||
        (v25 && strbuf_putc(o, fs) != 0) || put_location(o, ai, &e->loc, v25 ? 5 : 2) != 0 ||
        strbuf_putc(o, v25 ? fs : ai->enc.comp) != 0 || strbuf_puts(o, code) != 0 ||
        strbuf_putc(o, sep) != 0 || put_escaped(o, &ai->enc, hl7_code_text(e->code)) != 0 ||
        strbuf_putc(o, sep) != 0 || strbuf_puts(o, "HL70357") != 0)
        return -1;
    if (!v25)
        return 0;
    char sev[2] = {a->severity ? a->severity : 'E', '\0'};
    const char *text = a->text ? a->text : e->text;
    char gap[5] = {fs, fs, fs, fs, '\0'}; /* ERR-5..7 empty, then ERR-8 */
    if (strbuf_putc(o, fs) != 0 || strbuf_puts(o, sev) != 0 || strbuf_puts(o, gap) != 0)
        return -1;
    return put_escaped(o, &ai->enc, text);
}

int hl7_ack_build(const struct hl7_msg *in, const struct hl7_ack *a, struct strbuf *out)
{
    struct ack_in ai;
    read_in(in, &ai);
    const char *ver = ai.type.version[0] ? ai.type.version : DEFAULT_VERSION;
    bool v25 = hl7_version_cmp(ver, 2, 5) >= 0;
    if (put_msh(out, &ai, a) != 0 || put_msa(out, &ai, a, v25) != 0 ||
        (a->err && put_err(out, &ai, a, v25) != 0) || strbuf_putc(out, '\r') != 0)
        return -1;
    return 0;
}

/* Field n (from 3: the first after the encoding characters) of the header segment named
 * name at the start of a line of in, or an empty view. */
static struct hl7_view header_field(const char *in, size_t len, const char *name, uint32_t n)
{
    for (size_t at = 0; at + 4 <= len;) {
        size_t end = at;
        while (end < len && in[end] != '\r' && in[end] != '\n')
            end++;
        if (memcmp(in + at, name, 3) == 0 && end > at + 3) {
            char fs = in[at + 3];
            size_t f = at + 4;
            for (uint32_t k = 2; k < n && f <= end; k++) { /* field 2 starts after the sep */
                while (f < end && in[f] != fs)
                    f++;
                f++;
            }
            size_t e = f;
            while (e < end && in[e] != fs)
                e++;
            return f <= end ? (struct hl7_view){in + f, e - f} : (struct hl7_view){NULL, 0};
        }
        at = end + 1;
    }
    return (struct hl7_view){NULL, 0};
}

/* One envelope header (FHS or BHS) answering the batch's own. */
static int put_header(struct strbuf *out, const char *in, size_t len, const char *name,
                      const char *control_id, const char *timestamp)
{
    struct hl7_view app = header_field(in, len, name, 3), fac = header_field(in, len, name, 4),
                    ctl = header_field(in, len, name, 11);
    int rc = strbuf_puts(out, name) || strbuf_puts(out, "|^~\\&|SOLENT|SOLENT|") ||
             strbuf_append(out, app.p ? app.p : "", app.len) || strbuf_putc(out, '|') ||
             strbuf_append(out, fac.p ? fac.p : "", fac.len) || strbuf_putc(out, '|') ||
             strbuf_puts(out, timestamp) || strbuf_puts(out, "||||") ||
             strbuf_puts(out, control_id) || strbuf_putc(out, '|') ||
             strbuf_append(out, ctl.p ? ctl.p : "", ctl.len) || strbuf_putc(out, '\r');
    return rc ? -1 : 0;
}

int hl7_batch_ack_build(const char *in, size_t len, size_t messages, const char *acks,
                        size_t acks_len, size_t nacks, const char *control_id,
                        const char *timestamp, struct strbuf *out)
{
    bool file = len >= 3 && memcmp(in, "FHS", 3) == 0;
    char trailer[160];
    snprintf(trailer, sizeof trailer, "BTS|%zu|%zu messages received, %zu not accepted\r", nacks,
             messages, nacks);
    if ((file && put_header(out, in, len, "FHS", control_id, timestamp) != 0) ||
        put_header(out, in, len, "BHS", control_id, timestamp) != 0 ||
        strbuf_append(out, acks, acks_len) != 0 || strbuf_puts(out, trailer) != 0 ||
        (file && strbuf_puts(out, "FTS|1\r") != 0))
        return -1;
    return 0;
}
