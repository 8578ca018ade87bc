/* hl7_charset — MSH-18 character sets, UTF-8 validation and conversion. */
#include "parsers/hl7_charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

struct charset_name {
    const char *name; /* as it may appear in MSH-18 */
    enum hl7_charset cs;
};

/* HL7 table 0211 names first, then names senders use that are not in it. */
static const struct charset_name charset_names[] = {
    {"ASCII", HL7_CS_UTF8},          {"ISO IR6", HL7_CS_UTF8},
    {"UNICODE UTF-8", HL7_CS_UTF8},  {"8859/1", HL7_CS_8859_1},
    {"8859/2", HL7_CS_8859_2},       {"8859/3", HL7_CS_8859_3},
    {"8859/4", HL7_CS_8859_4},       {"8859/5", HL7_CS_8859_5},
    {"8859/6", HL7_CS_8859_6},       {"8859/7", HL7_CS_8859_7},
    {"8859/8", HL7_CS_8859_8},       {"8859/9", HL7_CS_8859_9},
    {"8859/10", HL7_CS_8859_10},     {"8859/11", HL7_CS_8859_11},
    {"8859/13", HL7_CS_8859_13},     {"8859/14", HL7_CS_8859_14},
    {"8859/15", HL7_CS_8859_15},     {"ISO IR100", HL7_CS_8859_1},
    {"UTF-8", HL7_CS_UTF8},          {"UTF8", HL7_CS_UTF8},
    {"UNICODE", HL7_CS_UTF8},        {"ISO-8859-1", HL7_CS_8859_1},
    {"ISO-8859-15", HL7_CS_8859_15}, {"CP1252", HL7_CS_CP1252},
    {"WINDOWS-1252", HL7_CS_CP1252}, {"WIN1252", HL7_CS_CP1252},
};

/* Canonical names and iconv names, indexed by enum hl7_charset. */
static const char *const canonical[HL7_CS_COUNT][2] = {
    [HL7_CS_UTF8] = {"UNICODE UTF-8", "UTF-8"},    [HL7_CS_8859_1] = {"8859/1", "ISO-8859-1"},
    [HL7_CS_8859_2] = {"8859/2", "ISO-8859-2"},    [HL7_CS_8859_3] = {"8859/3", "ISO-8859-3"},
    [HL7_CS_8859_4] = {"8859/4", "ISO-8859-4"},    [HL7_CS_8859_5] = {"8859/5", "ISO-8859-5"},
    [HL7_CS_8859_6] = {"8859/6", "ISO-8859-6"},    [HL7_CS_8859_7] = {"8859/7", "ISO-8859-7"},
    [HL7_CS_8859_8] = {"8859/8", "ISO-8859-8"},    [HL7_CS_8859_9] = {"8859/9", "ISO-8859-9"},
    [HL7_CS_8859_10] = {"8859/10", "ISO-8859-10"}, [HL7_CS_8859_11] = {"8859/11", "ISO-8859-11"},
    [HL7_CS_8859_13] = {"8859/13", "ISO-8859-13"}, [HL7_CS_8859_14] = {"8859/14", "ISO-8859-14"},
    [HL7_CS_8859_15] = {"8859/15", "ISO-8859-15"}, [HL7_CS_CP1252] = {"CP1252", "CP1252"},
};

static int ascii_upper(int c)
{
    return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

static int name_equal(const char *p, size_t n, const char *name)
{
    size_t i = 0;
    for (; i < n && name[i]; i++)
        if (ascii_upper((unsigned char)p[i]) != name[i])
            return 0;
    return i == n && name[i] == '\0';
}

int hl7_charset_from_name(const char *p, size_t n, enum hl7_charset *cs)
{
    while (n > 0 && p[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < sizeof charset_names / sizeof charset_names[0]; i++) {
        if (name_equal(p, n, charset_names[i].name)) {
            *cs = charset_names[i].cs;
            return 0;
        }
    }
    return -1;
}

const char *hl7_charset_name(enum hl7_charset cs)
{
    return cs < HL7_CS_COUNT ? canonical[cs][0] : "?";
}

int hl7_has_high_bytes(const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull)
            return 1;
    }
    for (; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return 1;
    return 0;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t hl7_utf8_check(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        size_t len = utf8_seq(u + i, n - i);
        if (len == 0)
            return i;
        i += len;
    }
    return n;
}

int hl7_charset_to_utf8(enum hl7_charset cs, const char *p, size_t n, struct strbuf *out,
                        size_t *bad)
{
    if (cs == HL7_CS_UTF8 || cs >= HL7_CS_COUNT) {
        size_t at = hl7_utf8_check(p, n);
        if (at < n) {
            *bad = at;
            return -1;
        }
        return strbuf_append(out, p, n) == 0 ? 0 : (*bad = n, -1);
    }
    iconv_t cd = iconv_open("UTF-8", canonical[cs][1]);
    if (cd == (iconv_t)-1) {
        *bad = 0;
        return -1;
    }
    char *in = (char *)p;
    size_t inleft = n;
    int rc = 0;
    while (inleft > 0) {
        char chunk[1024];
        char *o = chunk;
        size_t oleft = sizeof chunk;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        if (strbuf_append(out, chunk, (size_t)(o - chunk)) != 0 ||
            (r == (size_t)-1 && errno != E2BIG)) {
            *bad = (size_t)(in - p);
            rc = -1;
            break;
        }
    }
    iconv_close(cd);
    return rc;
}
