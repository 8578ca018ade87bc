/* hl7_escape — HL7v2 escape sequences, decoded and encoded. */
#include "parsers/hl7_escape.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parsers/hl7_charset.h"

#define MAX_SKIP 256 /* \.sk n\ and \.sp n\ larger than this are treated as malformed */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* \Xhh..\ : decodes the hex bytes and converts them from the message charset. */
static int decode_hex(const struct hl7_enc *e, const char *p, size_t n, struct strbuf *out)
{
    char bytes[256];
    if (n == 0 || n % 2 != 0 || n / 2 > sizeof bytes)
        return 1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(p[i]), lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0)
            return 1;
        bytes[i / 2] = (char)(hi << 4 | lo);
    }
    size_t bad, mark = out->len;
    if (hl7_charset_to_utf8(e->charset, bytes, n / 2, out, &bad) != 0) {
        out->len = mark;
        return 1;
    }
    return 0;
}

/* Reads an optional signed count after a formatting command; -1 if malformed. */
static long fmt_count(const char *p, size_t n, long dflt)
{
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    if (i == n)
        return dflt;
    if (p[i] == '+' || p[i] == '-')
        i++;
    long v = 0;
    if (i == n)
        return -1;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > MAX_SKIP)
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v > MAX_SKIP ? -1 : v;
}

static int repeat(struct strbuf *out, char c, long count)
{
    for (long i = 0; i < count; i++)
        if (strbuf_putc(out, c) != 0)
            return -1;
    return 0;
}

/* Formatting escapes (\.br\ etc.), rendered as plain text. 1: unknown. */
static int decode_format(const char *p, size_t n, struct strbuf *out)
{
    if (n < 3)
        return 1;
    long count = fmt_count(p + 3, n - 3, 1);
    if (count < 0)
        return 1;
    if (memcmp(p, ".br", 3) == 0 && n == 3)
        return strbuf_putc(out, '\n') == 0 ? 0 : -1;
    if (memcmp(p, ".sp", 3) == 0 || memcmp(p, ".ce", 3) == 0)
        return repeat(out, '\n', memcmp(p, ".ce", 3) == 0 ? 1 : count);
    if (memcmp(p, ".sk", 3) == 0)
        return repeat(out, ' ', count);
    if (memcmp(p, ".in", 3) == 0 || memcmp(p, ".ti", 3) == 0 || memcmp(p, ".fi", 3) == 0 ||
        memcmp(p, ".nf", 3) == 0)
        return 0;
    return 1;
}

/* Decodes the sequence between two escape characters: 0 ok, 1 problem, -1 cap. */
static int decode_one(const struct hl7_enc *e, const char *p, size_t n, struct strbuf *out)
{
    if (n == 1) {
        const char map[][2] = {{'F', e->field}, {'S', e->comp}, {'T', e->sub},
                               {'R', e->rep},   {'E', e->esc},  {'P', e->trunc}};
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (p[0] == map[i][0] && map[i][1])
                return strbuf_putc(out, map[i][1]);
        return (p[0] == 'H' || p[0] == 'N') ? 0 : 1;
    }
    if (n > 1 && p[0] == 'X')
        return decode_hex(e, p + 1, n - 1, out);
    if (n > 1 && p[0] == '.')
        return decode_format(p, n, out);
    return 1; /* \C..\ \M..\ \Z..\ and anything else: kept as it stands */
}

int hl7_unescape(const struct hl7_enc *e, struct hl7_view v, struct strbuf *out, size_t *first_bad)
{
    int problems = 0;
    size_t i = 0;
    while (v.p && i < v.len) {
        const char *esc = memchr(v.p + i, e->esc, v.len - i);
        size_t j = esc ? (size_t)(esc - v.p) : v.len;
        if (strbuf_append(out, v.p + i, j - i) != 0)
            return -1;
        if (!esc)
            break;
        const char *end = memchr(esc + 1, e->esc, v.len - j - 1);
        size_t k = end ? (size_t)(end - v.p) : v.len;
        int rc = end ? decode_one(e, esc + 1, k - j - 1, out) : 1;
        if (rc < 0)
            return -1;
        if (rc > 0) {
            if (problems++ == 0)
                *first_bad = j;
            if (strbuf_append(out, esc, (end ? k + 1 : k) - j) != 0)
                return -1;
        }
        i = end ? k + 1 : v.len;
    }
    return problems;
}

/* The escape for byte c, or NULL when c stands for itself. */
static const char *escape_for(const struct hl7_enc *e, char c, char hex[8])
{
    if (c == e->esc)
        return "E";
    if (c == e->field)
        return "F";
    if (c == e->comp)
        return "S";
    if (c == e->rep)
        return "R";
    if (c == e->sub)
        return "T";
    if (e->trunc && c == e->trunc)
        return "P";
    if (c == '\n')
        return ".br";
    if ((unsigned char)c < 0x20 && c != '\t') {
        snprintf(hex, 8, "X%02X", (unsigned)(unsigned char)c);
        return hex;
    }
    return NULL;
}

static int put_escape(const struct hl7_enc *e, const char *seq, struct strbuf *out)
{
    if (strbuf_putc(out, e->esc) != 0 || strbuf_puts(out, seq) != 0)
        return -1;
    return strbuf_putc(out, e->esc);
}

int hl7_escape(const struct hl7_enc *e, const char *s, size_t n, struct strbuf *out)
{
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n; i++) {
        char hex[8];
        bool crlf = s[i] == '\r' && i + 1 < n && s[i + 1] == '\n';
        const char *seq = crlf ? ".br" : escape_for(e, s[i], hex);
        if (!seq)
            continue;
        if (strbuf_append(out, s + run, i - run) != 0 || put_escape(e, seq, out) != 0)
            return -1;
        i += crlf;
        run = i + 1;
    }
    return strbuf_append(out, s + run, n - run);
}
