/* Unit tests for parsers/mllp: split reads, several frames, noise, oversize, stops. */
#include <string.h>

#include "parsers/mllp.h"
#include "tests/unit/testutil.h"

#define VT "\x0B"
#define FS "\x1C"
#define CR "\x0D"

struct sink {
    char frames[8][64];
    size_t n, oversize;
    int stop_after; /* stop feeding after this many frames; 0: never */
};

static int sink_cb(void *arg, enum mllp_event ev, const char *p, size_t n)
{
    struct sink *s = arg;
    if (ev == MLLP_OVERSIZE) {
        s->oversize++;
        return 0;
    }
    ck_assert_uint_lt(s->n, 8);
    ck_assert_uint_lt(n, 64);
    memcpy(s->frames[s->n], p, n);
    s->frames[s->n][n] = '\0';
    s->n++;
    return s->stop_after && s->n == (size_t)s->stop_after;
}

/* Noise before, between and after frames, a bare FS, and a frame missing its CR. */
static const char stream[] =
    "scan" VT "MSH|one" FS CR "\r\n" FS VT "MSH|two" FS VT "MSH|three" FS CR "junk";
static const char *const want[] = {"MSH|one", "MSH|two", "MSH|three"};

static void check_frames(const struct sink *s)
{
    ck_assert_uint_eq(s->n, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(s->frames[i], want[i]);
}

START_TEST(test_every_split_point)
{
    size_t len = sizeof stream - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        struct mllp_framer f;
        struct sink s = {0};
        mllp_init(&f, 1024);
        ck_assert_uint_eq(mllp_feed(&f, stream, cut, sink_cb, &s), cut);
        ck_assert_uint_eq(mllp_feed(&f, stream + cut, len - cut, sink_cb, &s), len - cut);
        check_frames(&s);
        ck_assert_uint_eq(f.frames, 3);
        ck_assert_uint_eq(f.skipped, 4 + 3 + 4); /* "scan", "\r\n"+FS, "junk" */
        ck_assert(!mllp_in_frame(&f));
        mllp_cleanup(&f);
    }
}
END_TEST

START_TEST(test_byte_at_a_time)
{
    struct mllp_framer f;
    struct sink s = {0};
    mllp_init(&f, 1024);
    for (size_t i = 0; i < sizeof stream - 1; i++)
        mllp_feed(&f, stream + i, 1, sink_cb, &s);
    check_frames(&s);
    mllp_cleanup(&f);
}
END_TEST

START_TEST(test_oversize_is_not_buffered)
{
    struct mllp_framer f;
    struct sink s = {0};
    char big[100];
    memset(big, 'x', sizeof big);
    mllp_init(&f, 16);
    mllp_feed(&f, VT, 1, sink_cb, &s);
    for (int i = 0; i < 50; i++) /* 5,000 bytes of one frame, in pieces */
        mllp_feed(&f, big, sizeof big, sink_cb, &s);
    ck_assert_uint_eq(s.oversize, 1);
    ck_assert_uint_le(f.buf.cap, 64); /* never grew towards the frame's size */
    ck_assert(mllp_in_frame(&f));
    const char next[] = FS CR VT "MSH|ok" FS CR;
    mllp_feed(&f, next, sizeof next - 1, sink_cb, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.frames[0], "MSH|ok");
    ck_assert_uint_eq(f.oversize, 1);
    mllp_cleanup(&f);
}
END_TEST

START_TEST(test_vt_inside_frame_restarts)
{
    struct mllp_framer f;
    struct sink s = {0};
    const char t[] = VT "MSH|lost" VT "MSH|kept" FS CR;
    mllp_init(&f, 1024);
    mllp_feed(&f, t, sizeof t - 1, sink_cb, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.frames[0], "MSH|kept");
    ck_assert_uint_eq(f.truncated, 1);
    mllp_cleanup(&f);
}
END_TEST

START_TEST(test_stop_leaves_rest_unconsumed)
{
    struct mllp_framer f;
    struct sink s = {.stop_after = 1};
    size_t len = sizeof stream - 1;
    mllp_init(&f, 1024);
    size_t used = mllp_feed(&f, stream, len, sink_cb, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(used, (size_t)(strstr(stream, FS) - stream) + 1);
    s.stop_after = 0;
    ck_assert_uint_eq(mllp_feed(&f, stream + used, len - used, sink_cb, &s), len - used);
    check_frames(&s);
    mllp_cleanup(&f);
}
END_TEST

START_TEST(test_wrap)
{
    struct strbuf out;
    struct mllp_framer f;
    struct sink s = {0};
    strbuf_init(&out, 64);
    ck_assert_int_eq(mllp_wrap("MSH|w", 5, &out), 0);
    ck_assert_uint_eq(out.len, 8);
    ck_assert_int_eq(memcmp(out.p, VT "MSH|w" FS CR, 8), 0);
    mllp_init(&f, 64);
    mllp_feed(&f, out.p, out.len, sink_cb, &s);
    ck_assert_str_eq(s.frames[0], "MSH|w");
    ck_assert_uint_eq(f.skipped, 0);
    mllp_cleanup(&f);
    strbuf_cleanup(&out);
}
END_TEST

static Suite *mllp_suite(void)
{
    Suite *s = suite_create("mllp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_split_point);
    tcase_add_test(tc, test_byte_at_a_time);
    tcase_add_test(tc, test_oversize_is_not_buffered);
    tcase_add_test(tc, test_vt_inside_frame_restarts);
    tcase_add_test(tc, test_stop_leaves_rest_unconsumed);
    tcase_add_test(tc, test_wrap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(mllp_suite());
}
