/*
 * Unit tests for parsers/hl7: delimiters, terminators, BOM, empties and
 * explicit nulls, limits, character sets and error positions.
 */
#include <stdio.h>
#include <string.h>

#include "parsers/hl7.h"
#include "parsers/hl7_charset.h"
#include "tests/unit/testutil.h"

#define MSH25 "MSH|^~\\&|LAB|HOSP|PHR|TRUST|20240102030405||ORU^R01^ORU_R01|C1|P|2.5.1"

struct delim_case {
    const char *text;
    struct hl7_enc enc;
    const char *path, *expect; /* one value read with those delimiters */
};

static const struct delim_case delim_cases[] = {
    {"MSH|^~\\&|A|B\rPID|1||X^Y~Z", {'|', '^', '~', '\\', '&', 0, HL7_CS_UTF8}, "PID-3[2].1", "Z"},
    {"MSH|^~\\&#|A|B\rPID|1||X#^Y", {'|', '^', '~', '\\', '&', '#', HL7_CS_UTF8}, "PID-3.2", "Y"},
    {"MSH*%$!@*A*B\rPID*1**X%Y$Q%R", {'*', '%', '$', '!', '@', 0, HL7_CS_UTF8}, "PID-3[2].2", "R"},
    {"MSH|^~\\|A|B\rPID|1||X&Y", {'|', '^', '~', '\\', '&', 0, HL7_CS_UTF8}, "PID-3.1.2", "Y"},
};

START_TEST(test_delimiters)
{
    const struct delim_case *c = &delim_cases[_i];
    struct hl7_msg m;
    hl7_msg_init(&m);
    test_parse_ok(&m, c->text);
    ck_assert_int_eq(m.enc.field, c->enc.field);
    ck_assert_int_eq(m.enc.comp, c->enc.comp);
    ck_assert_int_eq(m.enc.rep, c->enc.rep);
    ck_assert_int_eq(m.enc.esc, c->enc.esc);
    ck_assert_int_eq(m.enc.sub, c->enc.sub);
    ck_assert_int_eq(m.enc.trunc, c->enc.trunc);
    ck_assert_str_eq(test_get(&m, c->path), c->expect);
    hl7_msg_cleanup(&m);
}
END_TEST

static const char *const bad_headers[] = {
    "PID|1||X",      /* no MSH */
    "MSH|^^\\&|A",   /* repeated delimiter */
    "MSH|^~\\&xy|A", /* six encoding characters */
    "MSH|^~|A",      /* two encoding characters */
    "MSH1^~\\&|A",   /* alphanumeric field separator */
    "MSH|^~\\\\&|A", /* escape doubled, as seen in extracted Java strings */
};

START_TEST(test_bad_headers_rejected_at_msh)
{
    struct hl7_msg m;
    struct hl7_err err;
    hl7_msg_init(&m);
    test_parse_err(&m, bad_headers[_i], &err);
    ck_assert_msg(err.code == HL7_E_SEGMENT_SEQUENCE || err.code == HL7_E_DATA_TYPE, "code %d",
                  err.code);
    if (err.code == HL7_E_DATA_TYPE)
        ck_assert_str_eq(err.loc.seg, "MSH");
    hl7_msg_cleanup(&m);
}
END_TEST

/* The same message with every kind of segment terminator gives the same index. */
static const char *const terminators[] = {"\r", "\n", "\r\n", "\n\r\n", "\r\r"};

START_TEST(test_terminators)
{
    char text[512];
    const char *t = terminators[_i];
    snprintf(text, sizeof text, "%s%sPID|1||123%sOBX|1|NM|x||5%s%s", MSH25, t, t, t, t);
    struct hl7_msg m;
    hl7_msg_init(&m);
    test_parse_ok(&m, text);
    ck_assert_uint_eq(m.nsegs, 3);
    ck_assert_str_eq(m.segs[2].name, "OBX");
    ck_assert_str_eq(test_get(&m, "OBX-5"), "5");
    ck_assert_str_eq(test_get(&m, "PID-3"), "123");
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_mixed_terminators_bom_and_trailing_empties)
{
    struct hl7_msg m;
    hl7_msg_init(&m);
    test_parse_ok(&m, "\xEF\xBB\xBF" MSH25 "\rPID|1||A|||\nPV1|1|I\r\n\r\n  \r");
    ck_assert_uint_eq(m.nsegs, 3);
    ck_assert_str_eq(m.segs[0].name, "MSH");
    ck_assert_str_eq(test_get(&m, "PV1-2"), "I");
    /* trailing empty fields exist and are empty; past them the field is absent */
    ck_assert_str_eq(test_get(&m, "PID-6"), "");
    ck_assert_str_eq(test_get(&m, "PID-7"), "<absent>");
    ck_assert_uint_eq(hl7_seg_nfields(&m, &m.segs[1]), 6);
    ck_assert_int_eq(m.enc.charset, HL7_CS_UTF8);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_null_empty_absent)
{
    struct hl7_msg m;
    struct hl7_path p;
    char why[160];
    hl7_msg_init(&m);
    test_parse_ok(&m, MSH25 "\rPID|1||\"\"||Smith^\"\"^^");
    const char *paths[] = {"PID-3", "PID-4", "PID-5.2", "PID-5.4", "PID-5.5", "PID-9"};
    const int is_null[] = {1, 0, 1, 0, 0, 0};
    const int absent[] = {0, 0, 0, 0, 1, 1};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(hl7_path_parse(paths[i], &p, why, sizeof why), 0);
        struct hl7_view v = hl7_get(&m, &p);
        ck_assert_msg(hl7_view_is_null(v) == is_null[i], "%s null", paths[i]);
        ck_assert_msg((v.p == NULL) == absent[i], "%s absent", paths[i]);
        if (!is_null[i] && !absent[i])
            ck_assert_uint_eq(v.len, 0);
    }
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_msh_numbering)
{
    struct hl7_msg m;
    hl7_msg_init(&m);
    test_parse_ok(&m, MSH25);
    ck_assert_str_eq(test_get(&m, "MSH-1"), "|");
    /* MSH-2 is never split or decoded: it holds the delimiters */
    struct hl7_path p;
    char why[160];
    hl7_path_parse("MSH-2", &p, why, sizeof why);
    struct hl7_view v = hl7_get(&m, &p);
    ck_assert_int_eq((int)v.len, 4);
    ck_assert_int_eq(memcmp(v.p, "^~\\&", 4), 0);
    ck_assert_str_eq(test_get(&m, "MSH-3"), "LAB");
    ck_assert_str_eq(test_get(&m, "MSH-9.2"), "R01");
    ck_assert_str_eq(test_get(&m, "MSH-12"), "2.5.1");
    ck_assert_uint_eq(hl7_seg_nfields(&m, &m.segs[0]), 12);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_limits)
{
    struct hl7_msg m;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    const char *text = MSH25 "\rPID|1|2|3|4\rPV1|1\rOBX|1";
    hl7_msg_init(&m);
    o.limits.max_size = 20;
    ck_assert_int_eq(hl7_msg_parse(&m, text, strlen(text), &o, &err), -1);
    ck_assert_int_eq(err.code, HL7_E_TOO_LONG);
    o = hl7_opts_default();
    o.limits.max_segments = 3;
    ck_assert_int_eq(hl7_msg_parse(&m, text, strlen(text), &o, &err), -1);
    ck_assert_int_eq(err.code, HL7_E_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(err.text, "segments"));
    o = hl7_opts_default();
    o.limits.max_fields = 3;
    ck_assert_int_eq(hl7_msg_parse(&m, "MSH|^~\\&|A\rPID|1|2|3|4", 22, &o, &err), -1);
    ck_assert_int_eq(err.code, HL7_E_TOO_LONG);
    ck_assert_uint_eq(err.offset, 20); /* the fourth separator of PID */
    o.limits.max_fields = 4;
    ck_assert_int_eq(hl7_msg_parse(&m, "MSH|^~\\&|A\rPID|1|2|3|4", 22, &o, &err), 0);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_bad_segment_id_position)
{
    struct hl7_msg m;
    struct hl7_err err;
    hl7_msg_init(&m);
    test_parse_err(&m, MSH25 "\rPID|1\rpv1|1", &err);
    ck_assert_int_eq(err.code, HL7_E_SEGMENT_SEQUENCE);
    ck_assert_uint_eq(err.offset, strlen(MSH25) + 7);
    ck_assert_ptr_nonnull(strstr(err.text, "segment 3"));
    ck_assert(m.has_header); /* an AR can still be addressed to the sender */
    hl7_msg_cleanup(&m);
}
END_TEST

struct charset_case {
    const char *msh18, *bytes, *utf8; /* bytes in PID-5, expected UTF-8 */
    int ok;
};

static const struct charset_case charset_cases[] = {
    {"8859/1", "M\xFCller", "M\xC3\xBCller", 1},
    {"8859/15", "\xA4", "\xE2\x82\xAC", 1}, /* euro sign */
    {"CP1252", "\x80", "\xE2\x82\xAC", 1},  /* euro sign */
    {"8859/5", "\xB0", "\xD0\x90", 1},      /* Cyrillic A */
    {"8859/14", "\xA1", "\xE1\xB8\x82", 1}, /* Welsh: B with dot above */
    {"UNICODE UTF-8", "M\xC3\xBCller", "M\xC3\xBCller", 1},
    {"ASCII", "M\xC3\xBCller", "M\xC3\xBCller", 1},  /* UTF-8 is read as such */
    {"8859/1", "M\xC3\xBCller", "M\xC3\xBCller", 1}, /* declared wrong: UTF-8 kept, warned */
    {"UNICODE UTF-8", "M\xFCller", NULL, 0},         /* invalid UTF-8 */
    {"8859/3", "\xA5", NULL, 0},                     /* undefined in 8859-3 */
    {"ISO IR87", "\xA4\xA2", NULL, 0},               /* unsupported with high bytes */
    {"ISO IR87", "plain", "plain", 1},               /* unsupported, but all ASCII */
};

START_TEST(test_charsets)
{
    const struct charset_case *c = &charset_cases[_i];
    char text[256];
    struct hl7_msg m;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    snprintf(text, sizeof text,
             "MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5|||||GBR|%s\r"
             "PID|1||9||%s",
             c->msh18, c->bytes);
    hl7_msg_init(&m);
    int rc = hl7_msg_parse(&m, text, strlen(text), &o, &err);
    ck_assert_msg((rc == 0) == c->ok, "%s: rc %d (%s)", c->msh18, rc, err.text);
    if (c->ok) {
        ck_assert_str_eq(test_get(&m, "PID-5"), c->utf8);
        ck_assert_int_eq(hl7_utf8_check(m.buf, m.len), (int)m.len);
    } else {
        ck_assert_str_eq(err.loc.seg, err.code == HL7_E_TABLE_VALUE ? "MSH" : "PID");
        ck_assert_uint_eq(err.loc.field, err.code == HL7_E_TABLE_VALUE ? 18 : 5);
        ck_assert_uint_eq(err.offset,
                          err.code == HL7_E_TABLE_VALUE
                              ? (size_t)(strstr(text, c->msh18) - text)
                              : (size_t)(strstr(text, c->bytes) - text) + (c->bytes[0] == 'M'));
    }
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_fallback_charset)
{
    const char *text = "MSH|^~\\&|A|B\rPID|1||9||M\xFCller";
    struct hl7_msg m;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    hl7_msg_init(&m);
    ck_assert_int_eq(hl7_msg_parse(&m, text, strlen(text), &o, &err), -1); /* UTF-8 default */
    ck_assert_str_eq(err.loc.seg, "PID");
    o.fallback = HL7_CS_8859_1;
    ck_assert_int_eq(hl7_msg_parse(&m, text, strlen(text), &o, &err), 0);
    ck_assert_str_eq(test_get(&m, "PID-5"), "M\xC3\xBCller");
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_locate)
{
    struct hl7_msg m;
    struct hl7_loc loc;
    char buf[64];
    const char *text = MSH25 "\rPID|1||A~B^C&D\rPID|2";
    hl7_msg_init(&m);
    test_parse_ok(&m, text);
    hl7_locate(&m, (size_t)(strstr(text, "&D") + 1 - text), &loc);
    ck_assert_str_eq(loc.seg, "PID");
    ck_assert_uint_eq(loc.field, 3);
    ck_assert_uint_eq(loc.rep, 2);
    ck_assert_uint_eq(loc.comp, 2);
    ck_assert_uint_eq(loc.sub, 2);
    hl7_loc_format(&loc, buf, sizeof buf);
    ck_assert_str_eq(buf, "PID-3[2].2.2");
    hl7_locate(&m, strlen(text) - 1, &loc);
    ck_assert_uint_eq(loc.seq, 2);
    hl7_loc_format(&loc, buf, sizeof buf);
    ck_assert_str_eq(buf, "PID[2]-1");
    hl7_locate(&m, (size_t)(strstr(text, "0304") - text), &loc); /* inside MSH-7 */
    ck_assert_uint_eq(loc.field, 7);
    hl7_msg_cleanup(&m);
}
END_TEST

/* Walking pieces: each byte once; absent is no piece, empty is one empty piece. */
static const struct {
    const char *text; /* NULL: an absent view */
    const char *want; /* the pieces joined by '|' */
    int n;
} piece_cases[] = {
    {"a~b~~c", "a|b||c", 4}, {"", "", 1}, {"~", "|", 2}, {"abc", "abc", 1}, {NULL, "", 0},
};

START_TEST(test_pieces)
{
    struct hl7_view v = {piece_cases[_i].text,
                         piece_cases[_i].text ? strlen(piece_cases[_i].text) : 0};
    struct hl7_pieces it;
    struct hl7_view p;
    char got[64] = "";
    int n = 0;
    for (hl7_pieces_init(&it, v, '~'); hl7_pieces_next(&it, &p); n++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%.*s", n ? "|" : "", (int)p.len,
                 p.p);
    ck_assert_int_eq(n, piece_cases[_i].n);
    ck_assert_int_eq((int)hl7_npieces(v, '~'), piece_cases[_i].n);
    ck_assert_str_eq(got, piece_cases[_i].want);
}
END_TEST

/* Segment occurrences are counted while indexing, across many names and a rehash. */
START_TEST(test_segment_occurrences)
{
    static char text[1 << 16];
    struct hl7_msg m;
    int n = snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\r");
    for (int i = 0; i < 300; i++) /* Z00..Z99 three times over: 100 names, 3 of each */
        n += snprintf(text + n, sizeof text - (size_t)n, "Z%02d|%d\r", i % 100, i);
    hl7_msg_init(&m);
    test_parse_ok(&m, text);
    ck_assert_uint_eq(m.nsegs, 301);
    for (uint32_t i = 1; i < m.nsegs; i++)
        ck_assert_uint_eq(hl7_seg_seq(&m, &m.segs[i]), (i - 1) / 100 + 1);
    ck_assert_ptr_eq(hl7_seg_find(&m, "Z42", 3), &m.segs[243]);
    test_parse_ok(&m, "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rZ42|x\r"); /* reused: counts anew */
    ck_assert_uint_eq(hl7_seg_seq(&m, &m.segs[1]), 1);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_reuse_after_error)
{
    struct hl7_msg m;
    struct hl7_err err;
    hl7_msg_init(&m);
    test_parse_err(&m, "garbage", &err);
    ck_assert(!m.has_header);
    test_parse_ok(&m, MSH25 "\rPID|1||X");
    ck_assert_str_eq(test_get(&m, "PID-3"), "X");
    hl7_msg_cleanup(&m);
    hl7_msg_cleanup(&m); /* cleanup twice is harmless */
}
END_TEST

static Suite *hl7_suite(void)
{
    Suite *s = suite_create("hl7");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_delimiters, 0, sizeof delim_cases / sizeof delim_cases[0]);
    tcase_add_loop_test(tc, test_bad_headers_rejected_at_msh, 0,
                        sizeof bad_headers / sizeof bad_headers[0]);
    tcase_add_loop_test(tc, test_terminators, 0, sizeof terminators / sizeof terminators[0]);
    tcase_add_test(tc, test_mixed_terminators_bom_and_trailing_empties);
    tcase_add_test(tc, test_null_empty_absent);
    tcase_add_test(tc, test_msh_numbering);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_bad_segment_id_position);
    tcase_add_loop_test(tc, test_charsets, 0, sizeof charset_cases / sizeof charset_cases[0]);
    tcase_add_test(tc, test_fallback_charset);
    tcase_add_test(tc, test_locate);
    tcase_add_test(tc, test_reuse_after_error);
    tcase_add_loop_test(tc, test_pieces, 0, sizeof piece_cases / sizeof piece_cases[0]);
    tcase_add_test(tc, test_segment_occurrences);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(hl7_suite());
}
