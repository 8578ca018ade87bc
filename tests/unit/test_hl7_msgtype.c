/* Unit tests for parsers/hl7_msgtype: MSH-9 and the trigger-to-structure table. */
#include <stdio.h>
#include <string.h>

#include "parsers/hl7_msgtype.h"
#include "tests/unit/testutil.h"

struct type_case {
    const char *msh9, *version;
    const char *code, *trigger, *structure;
};

static const struct type_case type_cases[] = {
    {"ADT^A01", "2.3", "ADT", "A01", "ADT_A01"},
    {"ADT^A04", "2.3", "ADT", "A04", "ADT_A01"},
    {"ADT^A08", "2.4", "ADT", "A08", "ADT_A01"},
    {"ADT^A13", "2.4", "ADT", "A13", "ADT_A01"},
    {"ADT^A40", "2.4", "ADT", "A40", "ADT_A39"},
    {"ADT^A11", "2.4", "ADT", "A11", "ADT_A09"},
    {"ADT^A28", "2.5", "ADT", "A28", "ADT_A05"},
    {"ADT^A31", "2.5", "ADT", "A31", "ADT_A05"},
    {"ADT^A07", "2.5", "ADT", "A07", "ADT_A06"},
    {"ORU^R01", "2.5.1", "ORU", "R01", "ORU_R01"},
    {"ORU^R01^ORU_R01", "2.5.1", "ORU", "R01", "ORU_R01"},
    {"ADT^A04^ADT_A04", "2.8", "ADT", "A04", "ADT_A04"}, /* MSH-9.3 given: kept */
    {"ACK^A01^ACK", "2.5", "ACK", "A01", "ACK"},
    {"ACK", "2.2", "ACK", "", "ACK"},
    {"ZZZ^Z01", "2.5", "ZZZ", "Z01", ""}, /* unknown: no structure */
    {"MDM^T03", "2.5", "MDM", "T03", "MDM_T01"},
    {"SIU^S14", "2.5", "SIU", "S14", "SIU_S12"},
};

START_TEST(test_types)
{
    const struct type_case *c = &type_cases[_i];
    char text[256];
    struct hl7_msg m;
    struct hl7_msgtype t;
    struct hl7_err err;
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|20240101||%s|1|P|%s", c->msh9, c->version);
    hl7_msg_init(&m);
    test_parse_ok(&m, text);
    ck_assert_int_eq(hl7_msgtype_read(&m, &t, &err), 0);
    ck_assert_str_eq(t.code, c->code);
    ck_assert_str_eq(t.trigger, c->trigger);
    ck_assert_str_eq(t.structure, c->structure);
    ck_assert_str_eq(t.version, c->version);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_missing_and_too_long)
{
    struct hl7_msg m;
    struct hl7_msgtype t;
    struct hl7_err err;
    hl7_msg_init(&m);
    test_parse_ok(&m, "MSH|^~\\&|A|B|C|D|20240101|||1|P|2.5");
    ck_assert_int_eq(hl7_msgtype_read(&m, &t, &err), -1);
    ck_assert_int_eq(err.code, HL7_E_REQUIRED_MISSING);
    ck_assert_str_eq(err.loc.seg, "MSH");
    ck_assert_uint_eq(err.loc.field, 9);
    test_parse_ok(&m, "MSH|^~\\&|A|B|C|D|20240101||ADT^A01^ADT_A01_TOO_LONG_NAME|1|P|2.5");
    ck_assert_int_eq(hl7_msgtype_read(&m, &t, &err), -1);
    ck_assert_int_eq(err.code, HL7_E_TOO_LONG);
    ck_assert_uint_eq(err.loc.comp, 3);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_version_cmp)
{
    ck_assert_int_lt(hl7_version_cmp("2.3.1", 2, 5), 0);
    ck_assert_int_eq(hl7_version_cmp("2.5.1", 2, 5), 0);
    ck_assert_int_gt(hl7_version_cmp("2.10", 2, 9), 0);
    ck_assert_int_gt(hl7_version_cmp("3", 2, 9), 0);
    ck_assert_int_lt(hl7_version_cmp("", 2, 1), 0);
}
END_TEST

static Suite *msgtype_suite(void)
{
    Suite *s = suite_create("hl7_msgtype");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_types, 0, sizeof type_cases / sizeof type_cases[0]);
    tcase_add_test(tc, test_missing_and_too_long);
    tcase_add_test(tc, test_version_cmp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(msgtype_suite());
}
