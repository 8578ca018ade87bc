/* Unit tests for parsers/hl7_ack: headers swapped, MSA, ERR by version, odd inputs. */
#include <string.h>

#include "parsers/hl7_ack.h"
#include "tests/unit/testutil.h"

#define IN251 "MSH|^~\\&|LAB|HOSP|PHR|TRUST|20240102||ORU^R01^ORU_R01|C1|P|2.5.1\rPID|1"
#define IN23  "MSH|^~\\&|PAS|RXH|EPR|TRUST|20240102||ADT^A01|C2|T|2.3\rPID|1"
#define TS    "20261129083400+0000"

static const struct hl7_err err_pid3 = {HL7_E_REQUIRED_MISSING, {"PID", 1, 3, 0, 0, 0}, 0, "x"};
static const struct hl7_err err_pid7 = {HL7_E_DATA_TYPE, {"PID", 1, 7, 1, 1, 0}, 0, "bad date"};

struct ack_case {
    const char *in; /* NULL: no inbound header */
    struct hl7_ack ack;
    const char *want;
};

static const struct ack_case ack_cases[] = {
    {IN251,
     {"AA", "A1", TS, NULL, NULL, 0},
     "MSH|^~\\&|PHR|TRUST|LAB|HOSP|" TS "||ACK^R01^ACK|A1|P|2.5.1\rMSA|AA|C1\r"},
    {IN251,
     {"AE", "A2", TS, "PID-3 is required", &err_pid3, 0},
     "MSH|^~\\&|PHR|TRUST|LAB|HOSP|" TS "||ACK^R01^ACK|A2|P|2.5.1\rMSA|AE|C1\r"
     "ERR||PID^1^3|101^Required field missing^HL70357|E||||PID-3 is required\r"},
    {IN251,
     {"CE", "A3", TS, NULL, &err_pid7, 'W'},
     "MSH|^~\\&|PHR|TRUST|LAB|HOSP|" TS "||ACK^R01^ACK|A3|P|2.5.1\rMSA|CE|C1\r"
     "ERR||PID^1^7^1^1|102^Data type error^HL70357|W||||bad date\r"},
    {IN23,
     {"AR", "A4", TS, "bad a|b", &err_pid7, 0},
     "MSH|^~\\&|EPR|TRUST|PAS|RXH|" TS "||ACK^A01|A4|T|2.3\rMSA|AR|C2|bad a\\F\\b\r"
     "ERR|PID^1^7^102&Data type error&HL70357\r"},
    {NULL, {"AR", "A5", TS, NULL, NULL, 0}, "MSH|^~\\&|||||" TS "||ACK|A5|P|2.5.1\rMSA|AR|\r"},
    {"MSH*%$!@*S*F*R*G*1**ADT%A08*C9*P*2.6",
     {"CA", "A6", TS, NULL, NULL, 0},
     "MSH*%$!@*R*G*S*F*" TS "**ACK%A08%ACK*A6*P*2.6\rMSA*CA*C9\r"},
    {"MSH|^~\\&|S|Caf\xC3\xA9|R|G|1||ADT^A08|C|P|2.5",
     {"AA", "A7", TS, NULL, NULL, 0},
     "MSH|^~\\&|R|G|S|Caf\xC3\xA9|" TS "||ACK^A08^ACK|A7|P|2.5||||||UNICODE UTF-8\rMSA|AA|C\r"},
};

START_TEST(test_ack_bytes)
{
    const struct ack_case *c = &ack_cases[_i];
    struct hl7_msg m;
    struct strbuf out;
    hl7_msg_init(&m);
    strbuf_init(&out, 4096);
    if (c->in)
        test_parse_ok(&m, c->in);
    ck_assert_int_eq(hl7_ack_build(c->in ? &m : NULL, &c->ack, &out), 0);
    ck_assert_str_eq(out.p, c->want);
    /* the ACK is itself a valid message whose MSA-1 is the code */
    struct hl7_msg ack;
    hl7_msg_init(&ack);
    test_parse_ok(&ack, out.p);
    ck_assert_str_eq(test_get(&ack, "MSA-1"), c->ack.code);
    ck_assert_str_eq(test_get(&ack, "MSH-10"), c->ack.control_id);
    hl7_msg_cleanup(&ack);
    hl7_msg_cleanup(&m);
    strbuf_cleanup(&out);
}
END_TEST

START_TEST(test_ack_after_failed_parse)
{
    /* The header was read before the parse failed: the AR still reaches the sender. */
    struct hl7_msg m;
    struct hl7_err err;
    struct strbuf out;
    hl7_msg_init(&m);
    strbuf_init(&out, 4096);
    test_parse_err(&m, IN251 "\rbad|segment", &err);
    struct hl7_ack a = {"AR", "A8", TS, NULL, &err, 0};
    ck_assert_int_eq(hl7_ack_build(&m, &a, &out), 0);
    ck_assert_ptr_nonnull(strstr(out.p, "MSA|AR|C1\r"));
    ck_assert_ptr_nonnull(strstr(out.p, "|100^Segment sequence error^HL70357|E|"));
    const char *head = "MSH|^~\\&|PHR|TRUST|LAB|HOSP|";
    ck_assert_int_eq(strncmp(out.p, head, strlen(head)), 0);
    hl7_msg_cleanup(&m);
    strbuf_cleanup(&out);
}
END_TEST

/* The batch ACK: the envelope answering the batch's, the ACKs given, the count. */
START_TEST(test_batch_ack)
{
    static const char in[] = "FHS|^~\\&|LAB|SITE|SOLENT|TRUST|20261201||||F77\r"
                             "BHS|^~\\&|LAB|SITE|SOLENT|TRUST|20261201||||B77\r"
                             "MSH|^~\\&|LAB|SITE|SOLENT|TRUST|1||ADT^A01|1|P|2.5\rBTS|1\rFTS|1\r";
    static const char acks[] = "MSH|^~\\&|||||1||ACK|A1|P|2.5\rMSA|AE|1\r";
    struct strbuf out;
    strbuf_init(&out, 4096);
    ck_assert_int_eq(hl7_batch_ack_build(in, sizeof in - 1, 1, acks, sizeof acks - 1, 1, "K1",
                                         "20261201120000+0000", &out),
                     0);
    ck_assert_int_eq(strbuf_append(&out, "", 0), 0);
    ck_assert_str_eq(out.p, "FHS|^~\\&|SOLENT|SOLENT|LAB|SITE|20261201120000+0000||||K1|F77\r"
                            "BHS|^~\\&|SOLENT|SOLENT|LAB|SITE|20261201120000+0000||||K1|B77\r"
                            "MSH|^~\\&|||||1||ACK|A1|P|2.5\rMSA|AE|1\r"
                            "BTS|1|1 messages received, 1 not accepted\rFTS|1\r");
    strbuf_reset(&out);
    /* a batch without FHS: BHS and BTS only, nothing listed */
    ck_assert_int_eq(hl7_batch_ack_build(in + 46, sizeof in - 47, 3, "", 0, 0, "K2", "T", &out), 0);
    ck_assert_int_eq(strbuf_append(&out, "", 0), 0);
    ck_assert_str_eq(out.p, "BHS|^~\\&|SOLENT|SOLENT|LAB|SITE|T||||K2|B77\r"
                            "BTS|0|3 messages received, 0 not accepted\r");
    strbuf_cleanup(&out);
}
END_TEST

START_TEST(test_ack_cap)
{
    struct hl7_msg m;
    struct strbuf out;
    struct hl7_ack a = {"AA", "A9", TS, NULL, NULL, 0};
    hl7_msg_init(&m);
    strbuf_init(&out, 10);
    test_parse_ok(&m, IN251);
    ck_assert_int_eq(hl7_ack_build(&m, &a, &out), -1);
    hl7_msg_cleanup(&m);
    strbuf_cleanup(&out);
}
END_TEST

static Suite *ack_suite(void)
{
    Suite *s = suite_create("hl7_ack");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_ack_bytes, 0, sizeof ack_cases / sizeof ack_cases[0]);
    tcase_add_test(tc, test_ack_after_failed_parse);
    tcase_add_test(tc, test_ack_cap);
    tcase_add_test(tc, test_batch_ack);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(ack_suite());
}
