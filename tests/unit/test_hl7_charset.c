/* Unit tests for parsers/hl7_charset: names, UTF-8 validation, conversion. */
#include <string.h>

#include "parsers/hl7_charset.h"
#include "tests/unit/testutil.h"

struct name_case {
    const char *name;
    int ok;
    enum hl7_charset cs;
};

static const struct name_case name_cases[] = {
    {"ASCII", 1, HL7_CS_UTF8},         {"UNICODE UTF-8", 1, HL7_CS_UTF8},
    {"unicode utf-8", 1, HL7_CS_UTF8}, {"8859/1", 1, HL7_CS_8859_1},
    {"8859/15", 1, HL7_CS_8859_15},    {"8859/13", 1, HL7_CS_8859_13},
    {"8859/12", 0, HL7_CS_UTF8},       {"8859/9 ", 1, HL7_CS_8859_9},
    {"CP1252", 1, HL7_CS_CP1252},      {"windows-1252", 1, HL7_CS_CP1252},
    {"ISO IR87", 0, HL7_CS_UTF8},      {"UNICODE UTF-16", 0, HL7_CS_UTF8},
    {"8859", 0, HL7_CS_UTF8},          {"", 0, HL7_CS_UTF8},
};

START_TEST(test_names)
{
    const struct name_case *c = &name_cases[_i];
    enum hl7_charset cs = HL7_CS_COUNT;
    int rc = hl7_charset_from_name(c->name, strlen(c->name), &cs);
    ck_assert_msg((rc == 0) == c->ok, "%s", c->name);
    if (c->ok)
        ck_assert_int_eq(cs, c->cs);
}
END_TEST

struct utf8_case {
    const char *bytes;
    size_t len, bad; /* bad == len: valid */
};

static const struct utf8_case utf8_cases[] = {
    {"plain ascii text, long enough for words", 39, 39},
    {"caf\xC3\xA9", 5, 5},
    {"\xE2\x82\xAC euro", 8, 8},
    {"\xF0\x9F\x98\x80", 4, 4},
    {"abc\xC0\xAF", 5, 3},       /* overlong slash */
    {"abc\xED\xA0\x80", 6, 3},   /* surrogate */
    {"abcdefgh\xE2\x82", 10, 8}, /* truncated at the end */
    {"ab\xFF", 3, 2},
    {"ab\xF4\x90\x80\x80", 6, 2},   /* above U+10FFFF */
    {"12345678901234\x80", 15, 14}, /* a continuation byte alone, after the fast path */
};

START_TEST(test_utf8_check)
{
    const struct utf8_case *c = &utf8_cases[_i];
    ck_assert_uint_eq(hl7_utf8_check(c->bytes, c->len), c->bad);
}
END_TEST

START_TEST(test_conversion_reports_position)
{
    struct strbuf out;
    size_t bad = 0;
    strbuf_init(&out, 1024);
    ck_assert_int_eq(hl7_charset_to_utf8(HL7_CS_8859_1, "a\xE9z", 3, &out, &bad), 0);
    ck_assert_str_eq(out.p, "a\xC3\xA9z");
    strbuf_reset(&out);
    ck_assert_int_eq(hl7_charset_to_utf8(HL7_CS_CP1252, "ok\x81", 3, &out, &bad), -1);
    ck_assert_uint_eq(bad, 2);
    strbuf_reset(&out);
    ck_assert_int_eq(hl7_charset_to_utf8(HL7_CS_UTF8, "ok\xC3", 3, &out, &bad), -1);
    ck_assert_uint_eq(bad, 2);
    ck_assert_str_eq(hl7_charset_name(HL7_CS_8859_15), "8859/15");
    strbuf_cleanup(&out);
}
END_TEST

static Suite *charset_suite(void)
{
    Suite *s = suite_create("hl7_charset");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_names, 0, sizeof name_cases / sizeof name_cases[0]);
    tcase_add_loop_test(tc, test_utf8_check, 0, sizeof utf8_cases / sizeof utf8_cases[0]);
    tcase_add_test(tc, test_conversion_reports_position);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(charset_suite());
}
