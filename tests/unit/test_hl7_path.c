/* Unit tests for the path syntax (PID-3[2].4.1, OBX[2]-5) and lookup by path. */
#include <string.h>

#include "parsers/hl7.h"
#include "tests/unit/testutil.h"

struct parse_case {
    const char *text;
    int ok;
    struct hl7_path want;
};

static const struct parse_case parse_cases[] = {
    {"PID", 1, {"PID", 1, 0, 0, 0, 0}},        {"OBX[2]", 1, {"OBX", 2, 0, 0, 0, 0}},
    {"PID-3", 1, {"PID", 1, 3, 0, 0, 0}},      {"PID-3[2].4.1", 1, {"PID", 1, 3, 2, 4, 1}},
    {"OBX[2]-5", 1, {"OBX", 2, 5, 0, 0, 0}},   {"PID-5.1", 1, {"PID", 1, 5, 0, 1, 0}},
    {"ZP1-12[3]", 1, {"ZP1", 1, 12, 3, 0, 0}}, {"pid-3", 0, {{0}, 0, 0, 0, 0, 0}},
    {"PID-0", 0, {{0}, 0, 0, 0, 0, 0}},        {"PID-3[0]", 0, {{0}, 0, 0, 0, 0, 0}},
    {"PID-3.", 0, {{0}, 0, 0, 0, 0, 0}},       {"PID-3.1.1.1", 0, {{0}, 0, 0, 0, 0, 0}},
    {"PID[2", 0, {{0}, 0, 0, 0, 0, 0}},        {"PID-", 0, {{0}, 0, 0, 0, 0, 0}},
    {"PI", 0, {{0}, 0, 0, 0, 0, 0}},           {"PID-99999999999", 0, {{0}, 0, 0, 0, 0, 0}},
};

START_TEST(test_path_parse)
{
    const struct parse_case *c = &parse_cases[_i];
    struct hl7_path p;
    char why[160] = "";
    int rc = hl7_path_parse(c->text, &p, why, sizeof why);
    ck_assert_msg((rc == 0) == c->ok, "%s: rc %d", c->text, rc);
    if (!c->ok) {
        ck_assert_ptr_nonnull(strstr(why, "bad path"));
        return;
    }
    ck_assert_str_eq(p.seg, c->want.seg);
    ck_assert_uint_eq(p.seq, c->want.seq);
    ck_assert_uint_eq(p.field, c->want.field);
    ck_assert_uint_eq(p.rep, c->want.rep);
    ck_assert_uint_eq(p.comp, c->want.comp);
    ck_assert_uint_eq(p.sub, c->want.sub);
}
END_TEST

static const char msg_text[] = "MSH|^~\\&|LAB|HOSP|PHR|TRUST|20240102||ORU^R01|C1|P|2.5.1\r"
                               "PID|1||111^^^NHS^NH~222^^^RX1&1.2.3&ISO^MR||Doe^Jane\r"
                               "OBX|1|NM|GLU^Glucose||5.4|mmol/L\r"
                               "OBX|2|ST|NOTE||a\\F\\b\r"
                               "OBX|3|CWE|X||C1^Coded^LN";

struct get_case {
    const char *path, *want;
    int leaf;
};

static const struct get_case get_cases[] = {
    {"PID-3[2].4.1", "RX1", 1},
    {"PID-3[2].4.2", "1.2.3", 1},
    {"PID-3[2].4", "RX1&1.2.3&ISO", 0},
    {"PID-3.1", "111", 1},
    {"PID-3[1].5", "NH", 1},
    {"PID-3[3].1", "<absent>", 1},
    {"PID-5.2", "Jane", 1},
    {"OBX[2]-5", "a|b", 1},
    {"OBX[3]-5.2", "Coded", 1},
    {"OBX[3]-5", "C1^Coded^LN", 0},
    {"OBX[4]-5", "<absent>", 1},
    {"OBX-3.1", "GLU", 1},
    {"PID-3", "111^^^NHS^NH~222^^^RX1&1.2.3&ISO^MR", 0},
    {"MSH-9.2", "R01", 1},
    {"MSH-9.3", "<absent>", 1},
    {"ZZZ-1", "<absent>", 1},
    {"PID-3[2]", "222^^^RX1&1.2.3&ISO^MR", 0},
};

START_TEST(test_get_by_path)
{
    const struct get_case *c = &get_cases[_i];
    struct hl7_msg m;
    struct hl7_path p;
    char why[160];
    hl7_msg_init(&m);
    test_parse_ok(&m, msg_text);
    ck_assert_str_eq(test_get(&m, c->path), c->want);
    hl7_path_parse(c->path, &p, why, sizeof why);
    ck_assert_msg(hl7_path_is_leaf(&m, &p, hl7_get(&m, &p)) == c->leaf, "%s leaf", c->path);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_whole_segment_and_seq)
{
    struct hl7_msg m;
    hl7_msg_init(&m);
    test_parse_ok(&m, msg_text);
    ck_assert_str_eq(test_get(&m, "OBX[3]"), "OBX|3|CWE|X||C1^Coded^LN");
    const struct hl7_seg *s = hl7_seg_find(&m, "OBX", 2);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(hl7_seg_seq(&m, s), 2);
    ck_assert_ptr_null(hl7_seg_find(&m, "OBX", 4));
    ck_assert_uint_eq(hl7_npieces(hl7_field(&m, hl7_seg_find(&m, "PID", 1), 3), '~'), 2);
    hl7_msg_cleanup(&m);
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("hl7_path");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_path_parse, 0, sizeof parse_cases / sizeof parse_cases[0]);
    tcase_add_loop_test(tc, test_get_by_path, 0, sizeof get_cases / sizeof get_cases[0]);
    tcase_add_test(tc, test_whole_segment_and_seq);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(path_suite());
}
