/* Unit tests for parsers/hl7_escape: every escape decoded, problems reported, encoding. */
#include <stdlib.h>
#include <string.h>

#include "parsers/hl7_escape.h"
#include "tests/unit/testutil.h"

static const struct hl7_enc std_enc = {'|', '^', '~', '\\', '&', '#', HL7_CS_UTF8};
static const struct hl7_enc odd_enc = {'*', '%', '$', '!', '@', 0, HL7_CS_UTF8};
static const struct hl7_enc latin1 = {'|', '^', '~', '\\', '&', 0, HL7_CS_8859_1};

struct dec_case {
    const struct hl7_enc *enc;
    const char *in, *out;
    int problems;
    size_t first_bad;
};

static const struct dec_case dec_cases[] = {
    {&std_enc, "plain", "plain", 0, 0},
    {&std_enc, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", "a|b^c&d~e\\f", 0, 0},
    {&std_enc, "x\\P\\y", "x#y", 0, 0},
    {&odd_enc, "a!F!b!S!c!E!", "a*b%c!", 0, 0},
    {&std_enc, "line1\\.br\\line2", "line1\nline2", 0, 0},
    {&std_enc, "a\\.sp\\b\\.sp 2\\c", "a\nb\n\nc", 0, 0},
    {&std_enc, "a\\.sk 3\\b", "a   b", 0, 0},
    {&std_enc, "\\.in +4\\\\.ti -2\\\\.fi\\\\.nf\\x", "x", 0, 0},
    {&std_enc, "\\.ce\\centred", "\ncentred", 0, 0},
    {&std_enc, "\\H\\bold\\N\\ text", "bold text", 0, 0},
    {&std_enc, "caf\\XC3A9\\", "caf\xC3\xA9", 0, 0},
    {&latin1, "caf\\XE9\\", "caf\xC3\xA9", 0, 0},
    {&std_enc, "\\X0D0A\\", "\r\n", 0, 0},
    {&std_enc, "bad\\XE9\\hex", "bad\\XE9\\hex", 1, 3}, /* not UTF-8 */
    {&std_enc, "odd\\X0\\", "odd\\X0\\", 1, 3},         /* odd digit count */
    {&std_enc, "nonhex\\XZZ\\", "nonhex\\XZZ\\", 1, 6},
    {&std_enc, "a\\Q\\b", "a\\Q\\b", 1, 1},             /* unknown */
    {&std_enc, "a\\Zlocal\\b", "a\\Zlocal\\b", 1, 1},   /* locally defined: kept */
    {&std_enc, "a\\C2842\\b", "a\\C2842\\b", 1, 1},     /* charset switch: kept */
    {&std_enc, "path C:\\temp", "path C:\\temp", 1, 7}, /* unterminated */
    {&std_enc, "a\\\\b", "a\\\\b", 1, 1},               /* empty escape */
    {&std_enc, "\\.zz\\", "\\.zz\\", 1, 0},             /* unknown format command */
    {&std_enc, "\\.sk 9999\\", "\\.sk 9999\\", 1, 0},   /* absurd count */
    {&std_enc, "two \\Q\\ and \\F", "two \\Q\\ and \\F", 2, 4},
    {&odd_enc, "x\\F\\y", "x\\F\\y", 0, 0}, /* backslash is plain here */
};

START_TEST(test_unescape)
{
    const struct dec_case *c = &dec_cases[_i];
    struct strbuf out;
    size_t bad = 999;
    strbuf_init(&out, 4096);
    struct hl7_view v = {c->in, strlen(c->in)};
    int problems = hl7_unescape(c->enc, v, &out, &bad);
    ck_assert_int_eq(problems, c->problems);
    ck_assert_str_eq(out.p ? out.p : "", c->out);
    if (c->problems)
        ck_assert_uint_eq(bad, c->first_bad);
    strbuf_cleanup(&out);
}
END_TEST

START_TEST(test_unescape_respects_cap)
{
    struct strbuf out;
    size_t bad;
    strbuf_init(&out, 4);
    struct hl7_view v = {"ab\\.sk 10\\", 10};
    ck_assert_int_eq(hl7_unescape(&std_enc, v, &out, &bad), -1);
    strbuf_cleanup(&out);
}
END_TEST

struct enc_case {
    const char *in, *out;
};

static const struct enc_case enc_cases[] = {
    {"plain", "plain"},
    {"a|b^c&d~e\\f#g", "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\P\\g"},
    {"line1\nline2\r\nline3", "line1\\.br\\line2\\.br\\line3"},
    {"bell\x07tab\t", "bell\\X07\\tab\t"},
    {"caf\xC3\xA9", "caf\xC3\xA9"},
};

START_TEST(test_escape)
{
    const struct enc_case *c = &enc_cases[_i];
    struct strbuf out;
    strbuf_init(&out, 4096);
    ck_assert_int_eq(hl7_escape(&std_enc, c->in, strlen(c->in), &out), 0);
    ck_assert_str_eq(out.p ? out.p : "", c->out);
    strbuf_cleanup(&out);
}
END_TEST

/* Any bytes (but CR, which is written as \.br\ with LF) survive escape then unescape. */
START_TEST(test_round_trip_random)
{
    struct strbuf enc, dec;
    size_t bad;
    srandom(42);
    strbuf_init(&enc, 1 << 16);
    strbuf_init(&dec, 1 << 16);
    for (int round = 0; round < 2000; round++) {
        char in[64];
        size_t n = (size_t)(random() % (long)sizeof in);
        for (size_t i = 0; i < n; i++) {
            in[i] = (char)(random() % 127 + 1);
            if (in[i] == '\r')
                in[i] = 'r';
        }
        strbuf_reset(&enc);
        strbuf_reset(&dec);
        ck_assert_int_eq(hl7_escape(&std_enc, in, n, &enc), 0);
        struct hl7_view v = {enc.p ? enc.p : "", enc.len};
        ck_assert_int_eq(hl7_unescape(&std_enc, v, &dec, &bad), 0);
        ck_assert_uint_eq(dec.len, n);
        ck_assert_int_eq(memcmp(dec.p ? dec.p : "", in, n), 0);
        for (size_t i = 0; i < enc.len; i++)
            ck_assert_msg(enc.p[i] != '|' && enc.p[i] != '^' && enc.p[i] != '~' &&
                              enc.p[i] != '&' && enc.p[i] != '#' && enc.p[i] != '\n',
                          "delimiter left in encoded text");
    }
    strbuf_cleanup(&enc);
    strbuf_cleanup(&dec);
}
END_TEST

static Suite *escape_suite(void)
{
    Suite *s = suite_create("hl7_escape");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_unescape, 0, sizeof dec_cases / sizeof dec_cases[0]);
    tcase_add_test(tc, test_unescape_respects_cap);
    tcase_add_loop_test(tc, test_escape, 0, sizeof enc_cases / sizeof enc_cases[0]);
    tcase_add_test(tc, test_round_trip_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(escape_suite());
}
