/* Unit tests for parsers/strbuf: the cap is hard, take hands over ownership. */
#include <stdlib.h>
#include <string.h>

#include "parsers/strbuf.h"
#include "tests/unit/testutil.h"

START_TEST(test_cap_refuses_and_keeps_content)
{
    struct strbuf b;
    strbuf_init(&b, 8);
    ck_assert_int_eq(strbuf_puts(&b, "12345"), 0);
    ck_assert_int_eq(strbuf_puts(&b, "6789"), -1); /* 9 > 8: refused whole */
    ck_assert_uint_eq(b.len, 5);
    ck_assert_str_eq(b.p, "12345");
    ck_assert_int_eq(strbuf_puts(&b, "678"), 0); /* exactly at the cap */
    ck_assert_int_eq(strbuf_putc(&b, 'x'), -1);
    ck_assert_str_eq(b.p, "12345678");
    strbuf_cleanup(&b);
}
END_TEST

START_TEST(test_grows_past_initial_allocation)
{
    struct strbuf b;
    strbuf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(strbuf_putc(&b, (char)('a' + i % 26)), 0);
    ck_assert_uint_eq(b.len, 10000);
    ck_assert_int_eq(b.p[9999], 'a' + 9999 % 26);
    ck_assert_int_eq(b.p[10000], '\0');
    strbuf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.p, "");
    strbuf_cleanup(&b);
}
END_TEST

START_TEST(test_take_hands_over)
{
    struct strbuf b;
    size_t len = 0;
    strbuf_init(&b, 100);
    strbuf_append(&b, "a\0b", 3);
    char *p = strbuf_take(&b, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(p, "a\0b", 3), 0);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    free(p);
    strbuf_cleanup(&b);
}
END_TEST

/* Received text made safe for a log value or a terminal: quotes, backslashes, control
 * bytes (newline, ESC, DEL) as \xHH; UTF-8 kept; cut to fit, always terminated. */
START_TEST(test_printable)
{
    char out[64];
    ck_assert_str_eq(str_printable("T0001", out, sizeof out), "T0001");
    ck_assert_str_eq(str_printable("a\"b\\c\nd\x1b[2J\x7f", out, sizeof out),
                     "a\\x22b\\x5cc\\x0ad\\x1b[2J\\x7f");
    ck_assert_str_eq(str_printable("M\xc3\xbcller", out, sizeof out), "M\xc3\xbcller");
    char small[8];
    ck_assert_str_eq(str_printable("abcdefghij", small, sizeof small),
                     "abcd"); /* room for \\xHH kept */
    ck_assert_str_eq(str_printable("\n\n", small, sizeof small), "\\x0a");
    ck_assert_str_eq(str_printable("", small, sizeof small), "");
}
END_TEST

static Suite *strbuf_suite(void)
{
    Suite *s = suite_create("strbuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cap_refuses_and_keeps_content);
    tcase_add_test(tc, test_grows_past_initial_allocation);
    tcase_add_test(tc, test_take_hands_over);
    tcase_add_test(tc, test_printable);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(strbuf_suite());
}
