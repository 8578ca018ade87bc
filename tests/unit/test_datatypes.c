/*
 * Unit tests for the transforms' datatype modules: dates and times with the
 * site time zone (dt_time), NHS numbers and identifier systems (dt_ident),
 * FHIR decimals (dt_value) and deterministic ids (fhir_id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"
#include "transforms/fhir_id.h"

struct time_case {
    const char *in;
    enum dt_kind kind;
    const char *out; /* NULL: invalid */
};

static const struct time_case time_cases[] = {
    {"20240115103000", DT_DATETIME, "2024-01-15T10:30:00+00:00"}, /* GMT */
    {"20240715103000", DT_DATETIME, "2024-07-15T10:30:00+01:00"}, /* BST */
    {"202407151030", DT_DATETIME, "2024-07-15T10:30:00+01:00"},
    {"2024071510", DT_DATETIME, "2024-07-15T10:00:00+01:00"},
    {"20240715103000-0500", DT_DATETIME, "2024-07-15T10:30:00-05:00"},
    {"20240715103000.1234+0200", DT_DATETIME, "2024-07-15T10:30:00.1234+02:00"},
    {"2024", DT_DATETIME, "2024"},
    {"202407", DT_DATETIME, "2024-07"},
    {"20240229", DT_DATETIME, "2024-02-29"},
    {"19850412103000", DT_DATE, "1985-04-12"},
    {"20240715", DT_INSTANT, "2024-07-15T00:00:00+01:00"},
    {"1030", DT_TIME, "10:30:00"},
    {"20230229", DT_DATETIME, NULL},
    {"20241301", DT_DATETIME, NULL},
    {"20240715103000+2500", DT_DATETIME, NULL},
    {"2024071", DT_DATETIME, NULL},
    {"20240715T1030", DT_DATETIME, NULL},
    {"20240715246000", DT_DATETIME, NULL},
    {"2561", DT_TIME, NULL},
};

START_TEST(test_times)
{
    const struct time_case *c = &time_cases[_i];
    struct hl7_msg m;
    struct xf_ctx x;
    char out[DT_MAX] = "", text[200];
    ck_assert_int_eq(xf_tz_apply("Europe/London"), 0);
    hl7_msg_init(&m);
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||||||%s",
             c->in);
    test_parse_ok(&m, text);
    xf_init(&x, &m, xf_config_default());
    struct hl7_view v = hl7_field(&m, &m.segs[1], 7); /* the value in place: warnings locate it */
    int rc = dt_format(&x, v, c->kind, out);
    if (c->out) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, c->out);
        ck_assert_uint_eq(x.nwarnings, 0);
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert_uint_eq(x.nwarnings, 1); /* reported by position, not guessed */
        ck_assert_str_eq(x.warnings[0].loc.seg, "PID");
        ck_assert_uint_eq(x.warnings[0].loc.field, 7);
    }
    xf_cleanup(&x);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_unknown_time_zone)
{
    ck_assert_int_eq(xf_tz_apply("Mars/Olympus_Mons"), -1);
    ck_assert_int_eq(xf_tz_apply("../../etc/passwd"), -1);
}
END_TEST

static const struct {
    const char *number;
    bool ok;
} nhs_cases[] = {
    {"9434765919", true},   {"9434765918", false}, {"4010232137", true}, {"943476591", false},
    {"94347659190", false}, {"943476591X", false}, {"9990000018", true},
};

START_TEST(test_nhs_numbers)
{
    ck_assert_int_eq(dt_nhs_number_ok(nhs_cases[_i].number), nhs_cases[_i].ok);
}
END_TEST

static const struct {
    const char *in, *out; /* out NULL: not a number */
} decimal_cases[] = {
    {"5.40", "5.40"}, {"+3", "3"},     {"007", "7"},  {"-0.5", "-0.5"}, {".5", "0.5"},
    {"10", "10"},     {"0", "0"},      {"1e5", NULL}, {"abc", NULL},    {"", NULL},
    {"-", NULL},      {"5.4.1", NULL}, {"<5", NULL},
};

START_TEST(test_decimals)
{
    char out[64];
    int rc = dt_decimal(decimal_cases[_i].in, out, sizeof out);
    if (decimal_cases[_i].out) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, decimal_cases[_i].out);
    } else {
        ck_assert_int_eq(rc, -1);
    }
}
END_TEST

START_TEST(test_uuid_is_deterministic)
{
    char a[FHIR_UUID_LEN + 1], b[FHIR_UUID_LEN + 1], c[FHIR_UUID_LEN + 1];
    fhir_id_uuid("seed", 4, a);
    fhir_id_uuid("seed", 4, b);
    fhir_id_uuid("seed2", 5, c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_uint_eq(strlen(a), 36);
    ck_assert_int_eq(a[14], '5');             /* version */
    ck_assert(strchr("89ab", a[19]) != NULL); /* variant */
}
END_TEST

START_TEST(test_query_escape)
{
    char out[64];
    ck_assert_int_eq(fhir_id_query_escape("https://x.nhs.uk/Id/a b&c#d", out, sizeof out), 0);
    ck_assert_str_eq(out, "https://x.nhs.uk/Id/a%20b%26c%23d");
    ck_assert_int_eq(fhir_id_query_escape("0123456789", out, 8), -1);
}
END_TEST

static const struct {
    const char *cx, *system; /* system NULL: none known */
} system_cases[] = {
    {"1^^^NHS^NH", XF_NHS_SYSTEM},
    {"1^^^RHM^NH", XF_NHS_SYSTEM},
    {"1^^^RHM^MR", NULL},
    {"1^^^&2.16.840.1.113883.3.1&ISO^MR", "urn:oid:2.16.840.1.113883.3.1"},
    {"1^^^&https://id.example.org/mrn&URI^MR", "https://id.example.org/mrn"},
};

START_TEST(test_identifier_systems)
{
    char text[256];
    struct hl7_msg m;
    struct xf_ctx x;
    const char *system;
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||%s",
             system_cases[_i].cx);
    hl7_msg_init(&m);
    test_parse_ok(&m, text);
    xf_init(&x, &m, xf_config_default());
    cJSON *id = dt_identifier(&x, hl7_field(&m, &m.segs[1], 3), &system);
    ck_assert_ptr_nonnull(id);
    if (system_cases[_i].system)
        ck_assert_str_eq(system, system_cases[_i].system);
    else
        ck_assert_ptr_null(system);
    ck_assert_str_eq(cJSON_GetObjectItem(id, "value")->valuestring, "1");
    cJSON_Delete(id);
    xf_cleanup(&x);
    hl7_msg_cleanup(&m);
}
END_TEST

static Suite *datatypes_suite(void)
{
    Suite *s = suite_create("datatypes");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_times, 0, sizeof time_cases / sizeof time_cases[0]);
    tcase_add_test(tc, test_unknown_time_zone);
    tcase_add_loop_test(tc, test_nhs_numbers, 0, sizeof nhs_cases / sizeof nhs_cases[0]);
    tcase_add_loop_test(tc, test_decimals, 0, sizeof decimal_cases / sizeof decimal_cases[0]);
    tcase_add_test(tc, test_uuid_is_deterministic);
    tcase_add_test(tc, test_query_escape);
    tcase_add_loop_test(tc, test_identifier_systems, 0,
                        sizeof system_cases / sizeof system_cases[0]);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(datatypes_suite());
}
