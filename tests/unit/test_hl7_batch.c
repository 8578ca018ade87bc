/* Unit tests for parsers/hl7_batch: envelopes, counts, concatenated messages. */
#include <string.h>

#include "parsers/hl7_batch.h"
#include "tests/unit/testutil.h"

#define M1 "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||X\r"
#define M2 "MSH|^~\\&|A|B|C|D|1||ADT^A01|2|P|2.5\rPID|1||Y\r"

struct batch_case {
    const char *text;
    int ok;
    size_t messages;
    const char *err_seg; /* where the error is, when not ok */
};

static const struct batch_case batch_cases[] = {
    {M1, 1, 1, NULL},
    {M1 M2, 1, 2, NULL},
    {M1 "\n\n" M2 "\n", 1, 2, NULL},
    {"\xEF\xBB\xBF" M1, 1, 1, NULL},
    {"FHS|^~\\&\rBHS|^~\\&\r" M1 M2 "BTS|2\rFTS|1\r", 1, 2, NULL},
    {"BHS|^~\\&\r" M1 "BTS|1\rBHS|^~\\&\r" M2 "BTS|1\r", 1, 2, NULL},
    {"FHS|^~\\&\r" M1 M2 "FTS|1\r", 1, 2, NULL}, /* no BHS: one implicit batch */
    {"BHS|^~\\&\r" M1 M2 "BTS\r", 1, 2, NULL},   /* no count: nothing to check */
    {"BHS|^~\\&\r" M1 M2 "BTS|3\r", 0, 0, "BTS"},
    {"FHS|^~\\&\rBHS|^~\\&\r" M1 "BTS|1\rFTS|2\r", 0, 0, "FTS"},
    {"BHS|^~\\&\r" M1 "BTS|one\r", 0, 0, "BTS"},
    {"PID|1||X\r" M1, 0, 0, ""},         /* segment before any MSH */
    {"FHS|^~\\&\rFTS|0\r", 1, 0, NULL},  /* an empty file: "no data today" */
    {"BHS|^~\\&\rBTS|0\r", 1, 0, NULL},  /* an empty batch */
    {"BHS|^~\\&\rBTS|1\r", 0, 0, "BTS"}, /* an empty batch claiming one */
    {"\r\n\r\n", 0, 0, ""},              /* no message, no envelope */
    {"   " M1 "   " M2, 1, 2, NULL},     /* leading blanks */
};

START_TEST(test_split)
{
    const struct batch_case *c = &batch_cases[_i];
    struct hl7_batch b;
    struct hl7_err err;
    hl7_batch_init(&b);
    int rc = hl7_batch_split(&b, c->text, strlen(c->text), &err);
    ck_assert_msg((rc == 0) == c->ok, "case %d: rc %d %s", _i, rc, err.text);
    if (c->ok) {
        ck_assert_uint_eq(b.n, c->messages);
        for (size_t i = 0; i < b.n; i++) {
            ck_assert_int_eq(memcmp(c->text + b.msgs[i].off, "MSH|", 4), 0);
            /* each message parses on its own and is the one expected */
            struct hl7_msg m;
            hl7_msg_init(&m);
            char text[256];
            memcpy(text, c->text + b.msgs[i].off, b.msgs[i].len);
            text[b.msgs[i].len] = '\0';
            test_parse_ok(&m, text);
            ck_assert_str_eq(test_get(&m, "PID-3"), i == 0 ? "X" : "Y");
            ck_assert_uint_eq(m.nsegs, 2);
            hl7_msg_cleanup(&m);
        }
    } else {
        ck_assert_str_eq(err.loc.seg, c->err_seg);
        ck_assert(err.text[0] != '\0');
    }
    hl7_batch_cleanup(&b);
}
END_TEST

START_TEST(test_counts_header_kinds)
{
    struct hl7_batch b;
    struct hl7_err err;
    const char *t = "FHS|^~\\&\rBHS|^~\\&\r" M1 "BTS|1\rBHS|^~\\&\r" M2 "BTS|1\rFTS|2\r";
    hl7_batch_init(&b);
    ck_assert_int_eq(hl7_batch_split(&b, t, strlen(t), &err), 0);
    ck_assert(b.file);
    ck_assert_uint_eq(b.batches, 2);
    ck_assert_uint_eq(b.n, 2);
    hl7_batch_cleanup(&b);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("hl7_batch");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_split, 0, sizeof batch_cases / sizeof batch_cases[0]);
    tcase_add_test(tc, test_counts_header_kinds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(batch_suite());
}
