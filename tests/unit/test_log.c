/*
 * Unit tests for engine/log: the one quoting function (text and JSON), and whole lines
 * written to a file — timestamp, level, event, fields, numbers, level filtering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/log.h"
#include "tests/unit/testutil.h"

static const struct {
    const char *in, *text, *json;
} quote_cases[] = {
    {"pas", "pas", "\"pas\""},
    {"", "\"\"", "\"\""},
    {"two words", "\"two words\"", "\"two words\""},
    {"a=b", "\"a=b\"", "\"a=b\""},
    {"say \"hi\"", "\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\""},
    {"back\\slash", "\"back\\\\slash\"", "\"back\\\\slash\""},
    {"line\nevent=forged", "\"line\\nevent=forged\"", "\"line\\nevent=forged\""},
    {"bell\x07", "\"bell\\x07\"", "\"bell\\u0007\""},
    {"caf\xc3\xa9", "\"caf\xc3\xa9\"", "\"caf\xc3\xa9\""}, /* valid UTF-8 stays */
    {"bad\xff", "\"bad\\xFF\"", "\"bad\\u00ff\""},         /* a byte that is not */
};

START_TEST(test_quote)
{
    char out[128];
    log_quote(quote_cases[_i].in, false, out, 0, sizeof out);
    ck_assert_str_eq(out, quote_cases[_i].text);
    log_quote(quote_cases[_i].in, true, out, 0, sizeof out);
    ck_assert_str_eq(out, quote_cases[_i].json);
}
END_TEST

static char *lines_of(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(test_lines)
{
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/solent-log-%d", (int)getpid());
    unlink(path);
    ck_assert_int_eq(log_configure("info", "text", path, err, sizeof err), 0);
    log_info("conn_open", "listener=%s conn=%llu peer=%s", "pas", 7ULL, "127.0.0.1:5");
    log_debug("conn_state", "conn=%d", 7); /* below the level: not written */
    log_warn("retry", "reason=%s next_in_ms=%lld action=paused", "HTTP 503", 250LL);
    char *text = lines_of(path);
    ck_assert_msg(strncmp(text, "ts=", 3) == 0 && text[26] == 'Z', "%s", text);
    ck_assert_ptr_nonnull(strstr(text, " level=info event=conn_open listener=pas conn=7 "
                                       "peer=127.0.0.1:5\n"));
    ck_assert_ptr_null(strstr(text, "conn_state"));
    ck_assert_ptr_nonnull(
        strstr(text, " level=warn event=retry reason=\"HTTP 503\" next_in_ms=250 action=paused\n"));
    unlink(path);
    ck_assert_int_eq(log_configure("debug", "json", path, err, sizeof err), 0);
    log_debug("conn_state", "conn=%d from=%s ratio=%.1f id=%.*s", 7, "reading", 0.5, 3, "abcdef");
    text = lines_of(path);
    ck_assert_msg(strstr(text, "\",\"level\":\"debug\",\"event\":\"conn_state\",\"conn\":7,"
                               "\"from\":\"reading\",\"ratio\":0.5,\"id\":\"abc\"}\n"),
                  "%s", text);
    ck_assert_int_eq(log_configure("loud", "text", NULL, err, sizeof err), -1);
    ck_assert_int_eq(log_configure("info", "text", "/nonexistent/dir/log", err, sizeof err), -1);
    ck_assert_int_eq(log_configure("info", "text", NULL, err, sizeof err), 0);
    unlink(path);
}
END_TEST

START_TEST(test_long_values_cut_whole)
{
    char path[64], err[256];
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    snprintf(path, sizeof path, "/tmp/solent-log-%d", (int)getpid());
    unlink(path);
    ck_assert_int_eq(log_configure("info", "json", path, err, sizeof err), 0);
    for (int i = 0; i < 10; i++) /* ten fields of 2 KB: more than a line holds */
        log_info("big", "a=%s b=%s c=%s d=%s e=%s f=%s g=%s h=%s i=%s j=%s", big, big, big, big,
                 big, big, big, big, big, big);
    FILE *f = fopen(path, "r");
    char line[20000];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        size_t len = strlen(line);
        ck_assert_msg(len > 2 && strcmp(line + len - 2, "}\n") == 0, "a whole JSON object");
        ck_assert_ptr_nonnull(strstr(line, "\"truncated\":true"));
    }
    fclose(f);
    ck_assert_int_eq(n, 10);
    ck_assert_int_eq(log_configure("info", "text", NULL, err, sizeof err), 0);
    unlink(path);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_quote, 0, sizeof quote_cases / sizeof quote_cases[0]);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_long_values_cut_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(log_suite());
}
