/*
 * Unit tests for the transforms' datatype modules: dates and times with the
 * site time zone (dt_time), time zones from TZif files across the clock changes
 * (dt_zone: read from Debian's tzdata here, as the engine does), NHS numbers and
 * identifier systems (dt_ident), FHIR decimals (dt_value) and deterministic ids
 * (fhir_id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"
#include "transforms/dt_zone.h"
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

/* A zone file read the way the engine reads it (zoneinfo.c), into z. */
static void load_zone(struct dt_zone *z, const char *name)
{
    char path[256], err[160];
    static unsigned char buf[1 << 16];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s (tzdata installed?)", path);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_msg(dt_zone_parse(z, buf, n, err, sizeof err) == 0, "%s: %s", name, err);
}

static struct dt_zone london;
static struct xf_config site; /* the built-in configuration, with Europe/London read */

static void site_setup(void)
{
    load_zone(&london, "Europe/London");
    site = *xf_config_default();
    site.zone = &london;
}

static void site_teardown(void)
{
    dt_zone_cleanup(&london);
}

START_TEST(test_times)
{
    const struct time_case *c = &time_cases[_i];
    struct hl7_msg m;
    struct xf_ctx x;
    char out[DT_MAX] = "", text[200];
    hl7_msg_init(&m);
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||||||%s",
             c->in);
    test_parse_ok(&m, text);
    xf_init(&x, &m, &site);
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

/* A year outside 1850-2200 is kept but warned about, by position. */
START_TEST(test_implausible_year)
{
    static const char *const years[][2] = {{"10130412", "1013-04-12"}, {"22500101", "2250-01-01"}};
    struct hl7_msg m;
    struct xf_ctx x;
    char out[DT_MAX], text[200];
    hl7_msg_init(&m);
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||||||%s",
             years[_i][0]);
    test_parse_ok(&m, text);
    xf_init(&x, &m, &site);
    ck_assert_int_eq(dt_format(&x, hl7_field(&m, &m.segs[1], 7), DT_DATE, out), 0);
    ck_assert_str_eq(out, years[_i][1]);
    ck_assert_uint_eq(x.nwarnings, 1);
    ck_assert_uint_eq(x.warnings[0].loc.field, 7);
    xf_cleanup(&x);
    hl7_msg_cleanup(&m);
}
END_TEST

/* An appointment's end: its start plus a duration, across midnight, month and year ends, leap
 * days and the clock changes (a site time keeps the instant: 00:30 GMT + 2 h is 03:30 BST). */
static const struct {
    const char *start;
    long minutes;
    const char *end;
} after_cases[] = {
    {"202410011130+0215", 70, "2024-10-01T12:40:00+02:15"},
    {"202412312330+0000", 45, "2025-01-01T00:15:00+00:00"},
    {"202402282300-0500", 120, "2024-02-29T01:00:00-05:00"},
    {"20240331003000", 120, "2024-03-31T03:30:00+01:00"},
    {"20241027003000", 120, "2024-10-27T01:30:00+00:00"},
    {"20240715103000", 15, "2024-07-15T10:45:00+01:00"},
    {"20240715", 15, NULL}, /* a date alone has no time to add to */
    {"", 15, NULL},
};

START_TEST(test_time_after)
{
    struct hl7_msg m;
    struct xf_ctx x;
    char out[DT_MAX] = "", text[200];
    hl7_msg_init(&m);
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|20240101||SIU^S12|1|P|2.5\rTQ1|||||||%s",
             after_cases[_i].start);
    test_parse_ok(&m, text);
    xf_init(&x, &m, &site);
    int rc = dt_format_after(&x, hl7_field(&m, &m.segs[1], 7), after_cases[_i].minutes, out);
    if (after_cases[_i].end) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, after_cases[_i].end);
    } else {
        ck_assert_int_eq(rc, -1);
    }
    xf_cleanup(&x);
    hl7_msg_cleanup(&m);
}
END_TEST

/* Local times without an offset around the clock changes, in zones with transitions in the
 * file and after it (the footer's POSIX rule), north and south of the equator. */
static const struct {
    const char *zone;
    int y, mo, d, h, mi;
    int offset_min;
} zone_cases[] = {
    {"Europe/London", 2024, 3, 31, 0, 59, 0},       /* the last minute of GMT */
    {"Europe/London", 2024, 3, 31, 1, 30, 0},       /* skipped: the offset before the gap */
    {"Europe/London", 2024, 3, 31, 2, 0, 60},       /* BST */
    {"Europe/London", 2024, 10, 27, 0, 30, 60},     /* BST */
    {"Europe/London", 2024, 10, 27, 1, 30, 60},     /* repeated: the earlier (BST) */
    {"Europe/London", 2024, 10, 27, 2, 0, 0},       /* GMT again */
    {"Europe/London", 2024, 7, 1, 12, 0, 60},       /* summer */
    {"Europe/London", 2024, 12, 25, 12, 0, 0},      /* winter */
    {"Europe/London", 1970, 1, 1, 12, 0, 60},       /* British Standard Time, 1968-71 */
    {"Europe/London", 2087, 3, 30, 1, 30, 0},       /* from the footer rule: skipped hour */
    {"Europe/London", 2087, 7, 1, 12, 0, 60},       /* footer rule: summer */
    {"Europe/London", 2087, 10, 26, 1, 30, 60},     /* footer rule: repeated hour */
    {"Europe/London", 2087, 10, 26, 2, 0, 0},       /* footer rule: winter */
    {"America/New_York", 2024, 3, 10, 2, 30, -300}, /* skipped: EST */
    {"America/New_York", 2024, 11, 3, 1, 30, -240}, /* repeated: EDT */
    {"America/New_York", 2024, 7, 4, 9, 0, -240},
    {"Australia/Sydney", 2090, 1, 15, 12, 0, 660}, /* southern summer, by the rule */
    {"Australia/Sydney", 2090, 7, 15, 12, 0, 600},
    {"UTC", 2024, 7, 1, 12, 0, 0},
};

START_TEST(test_zone_offsets)
{
    struct dt_zone z;
    load_zone(&z, zone_cases[_i].zone);
    int64_t local = dt_zone_days(zone_cases[_i].y, zone_cases[_i].mo, zone_cases[_i].d) * 86400 +
                    zone_cases[_i].h * 3600 + zone_cases[_i].mi * 60;
    ck_assert_int_eq(dt_zone_local(&z, local) / 60, zone_cases[_i].offset_min);
    dt_zone_cleanup(&z);
}
END_TEST

/* A transform walks at most max_repetitions of a field, and says so at the field. */
START_TEST(test_repetition_cap)
{
    struct hl7_msg m;
    struct xf_ctx x;
    struct xf_config cfg = site;
    cfg.max_repetitions = 3;
    hl7_msg_init(&m);
    test_parse_ok(&m, "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||a~b~c~d~e");
    xf_init(&x, &m, &cfg);
    struct xf_reps it;
    struct hl7_view rep;
    char got[32] = "";
    for (xf_reps_init(&x, &it, hl7_field(&m, &m.segs[1], 3)); xf_reps_next(&x, &it, &rep);)
        strncat(got, rep.p, rep.len);
    ck_assert_str_eq(got, "abc");
    ck_assert_uint_eq(x.nwarnings, 1);
    ck_assert_str_eq(x.warnings[0].loc.seg, "PID");
    ck_assert_uint_eq(x.warnings[0].loc.field, 3);
    xf_cleanup(&x);
    cfg.max_repetitions = 5; /* exactly as many as there are: no warning */
    xf_init(&x, &m, &cfg);
    int n = 0;
    for (xf_reps_init(&x, &it, hl7_field(&m, &m.segs[1], 3)); xf_reps_next(&x, &it, &rep);)
        n++;
    ck_assert_int_eq(n, 5);
    ck_assert_uint_eq(x.nwarnings, 0);
    xf_cleanup(&x);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_zone_bad_files)
{
    struct dt_zone z;
    char err[160];
    static const unsigned char junk[] = "TZif2 not really a zone file";
    ck_assert_int_eq(dt_zone_parse(&z, junk, sizeof junk, err, sizeof err), -1);
    ck_assert_int_eq(dt_zone_parse(&z, (const unsigned char *)"", 0, err, sizeof err), -1);
    ck_assert_ptr_null(z.at);
    ck_assert_int_eq(dt_zone_local(NULL, 1000), 0); /* no zone: UTC */
    ck_assert_int_eq(dt_zone_days(1970, 1, 1), 0);
    ck_assert_int_eq(dt_zone_days(2000, 3, 1), 11017);
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
    tcase_add_unchecked_fixture(tc, site_setup, site_teardown);
    tcase_add_loop_test(tc, test_zone_offsets, 0, sizeof zone_cases / sizeof zone_cases[0]);
    tcase_add_test(tc, test_zone_bad_files);
    tcase_add_test(tc, test_repetition_cap);
    tcase_add_loop_test(tc, test_implausible_year, 0, 2);
    tcase_add_loop_test(tc, test_time_after, 0, sizeof after_cases / sizeof after_cases[0]);
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
