/*
 * hl7_path — positions in a message: the path syntax (PID-3[2].4.1,
 * OBX[2]-5), lookup by path, and turning a byte offset into a position.
 */
#include "parsers/hl7.h"

#include <stdio.h>
#include <string.h>

/* Reads a decimal number >= 1 at *s; 0 on failure. */
static uint32_t read_num(const char **s)
{
    uint32_t v = 0;
    const char *p = *s;
    while (*p >= '0' && *p <= '9') {
        if (v > 100000000u)
            return 0;
        v = v * 10 + (uint32_t)(*p++ - '0');
    }
    *s = p;
    return v;
}

/* Reads "[n]" when present; 0 on a malformed or zero index, else 1. */
static int read_index(const char **s, uint32_t *out)
{
    if (**s != '[')
        return 1;
    (*s)++;
    *out = read_num(s);
    if (*out == 0 || **s != ']')
        return 0;
    (*s)++;
    return 1;
}

static int path_fail(char *errbuf, size_t errlen, const char *what)
{
    snprintf(errbuf, errlen, "bad path: %s (expected e.g. PID-3[2].4.1)", what);
    return -1;
}

int hl7_path_parse(const char *s, struct hl7_path *p, char *errbuf, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->seq = 1;
    for (int i = 0; i < 3; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return path_fail(errbuf, errlen, "segment id must be 3 capitals or digits");
        p->seg[i] = c;
    }
    s += 3;
    if (!read_index(&s, &p->seq))
        return path_fail(errbuf, errlen, "segment index must be [1] or more");
    if (*s == '\0')
        return 0;
    if (*s++ != '-' || (p->field = read_num(&s)) == 0)
        return path_fail(errbuf, errlen, "field number must follow '-' and be 1 or more");
    if (!read_index(&s, &p->rep))
        return path_fail(errbuf, errlen, "repetition index must be [1] or more");
    if (*s == '.' && (s++, (p->comp = read_num(&s)) == 0))
        return path_fail(errbuf, errlen, "component number must be 1 or more");
    if (*s == '.' && (s++, (p->sub = read_num(&s)) == 0))
        return path_fail(errbuf, errlen, "sub-component number must be 1 or more");
    if (*s != '\0')
        return path_fail(errbuf, errlen, "unexpected text after the path");
    return 0;
}

static bool is_msh_header_field(const struct hl7_path *p)
{
    return memcmp(p->seg, "MSH", 4) == 0 && p->field <= 2;
}

struct hl7_view hl7_get(const struct hl7_msg *m, const struct hl7_path *p)
{
    const struct hl7_seg *s = hl7_seg_find(m, p->seg, p->seq);
    struct hl7_view v = {NULL, 0};
    if (!s)
        return v;
    if (p->field == 0) {
        v.p = m->buf + m->tok[s->first];
        v.len = m->tok[s->first + s->ntok] - 1 - m->tok[s->first];
        return v;
    }
    v = hl7_field(m, s, p->field);
    if (is_msh_header_field(p) || (p->rep == 0 && p->comp == 0))
        return v;
    v = hl7_piece(v, m->enc.rep, p->rep ? p->rep : 1);
    if (p->comp == 0)
        return v;
    v = hl7_piece(v, m->enc.comp, p->comp);
    return p->sub == 0 ? v : hl7_piece(v, m->enc.sub, p->sub);
}

bool hl7_path_is_leaf(const struct hl7_msg *m, const struct hl7_path *p, struct hl7_view v)
{
    if (!v.p || p->sub || is_msh_header_field(p))
        return true;
    if (p->field == 0)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == m->enc.sub || (!p->comp && c == m->enc.comp) ||
            (!p->comp && !p->rep && c == m->enc.rep))
            return false;
    }
    return true;
}

/* Index of the segment holding offset (segments are in offset order). */
static uint32_t seg_at(const struct hl7_msg *m, size_t offset)
{
    uint32_t lo = 0, hi = m->nsegs;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->tok[m->segs[mid].first] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void hl7_locate(const struct hl7_msg *m, size_t offset, struct hl7_loc *loc)
{
    memset(loc, 0, sizeof *loc);
    if (m->nsegs == 0)
        return;
    const struct hl7_seg *s = &m->segs[seg_at(m, offset)];
    memcpy(loc->seg, s->name, 4);
    loc->seq = hl7_seg_seq(m, s);
    uint32_t k = 0;
    while (k + 1 < s->ntok && m->tok[s->first + k + 1] <= offset)
        k++;
    if (k == 0)
        return;
    bool msh = memcmp(s->name, "MSH", 4) == 0;
    loc->field = msh ? k + 1 : k;
    loc->rep = loc->comp = loc->sub = 1;
    if (msh && k == 1) /* MSH-2 holds the delimiters themselves */
        return;
    for (size_t i = m->tok[s->first + k]; i < offset && i < m->len; i++) {
        char c = m->buf[i];
        if (c == m->enc.rep)
            loc->rep++, loc->comp = loc->sub = 1;
        else if (c == m->enc.comp)
            loc->comp++, loc->sub = 1;
        else if (c == m->enc.sub)
            loc->sub++;
    }
}

void hl7_loc_format(const struct hl7_loc *loc, char *buf, size_t len)
{
    if (loc->seg[0] == '\0') {
        snprintf(buf, len, "message");
        return;
    }
    int n = snprintf(buf, len, "%s", loc->seg);
    if (loc->seq > 1 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "[%u]", (unsigned)loc->seq);
    if (loc->field && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "-%u", (unsigned)loc->field);
    if (loc->rep > 1 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "[%u]", (unsigned)loc->rep);
    /* PID-7 rather than PID-7.1.1: component 1 is only named when it matters */
    if ((loc->comp > 1 || loc->sub > 1) && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ".%u", (unsigned)loc->comp);
    if (loc->sub > 1 && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ".%u", (unsigned)loc->sub);
}
