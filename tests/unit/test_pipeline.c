/*
 * Unit tests for engine/pipeline: ACK codes in original and enhanced mode, and what one
 * frame becomes — record to store, outbox rows and ACK — when it is accepted, fails its
 * transform (AE), cannot be parsed or routed (AR), is parked, or asks for no ACK.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/pipeline.h"
#include "tests/unit/testutil.h"
#include "transforms/dt_time.h"

static const struct {
    const char *msh15;
    enum pipeline_outcome o;
    const char *code; /* NULL: no ACK */
} codes[] = {
    {"", PIPELINE_ACCEPT, "AA"},   {"", PIPELINE_ERROR, "AE"},    {"", PIPELINE_REJECT, "AR"},
    {"AL", PIPELINE_ACCEPT, "CA"}, {"AL", PIPELINE_ERROR, "CE"},  {"AL", PIPELINE_REJECT, "CR"},
    {"NE", PIPELINE_ACCEPT, NULL}, {"NE", PIPELINE_REJECT, NULL}, {"ER", PIPELINE_ACCEPT, NULL},
    {"ER", PIPELINE_ERROR, "CE"},  {"SU", PIPELINE_ACCEPT, "CA"}, {"SU", PIPELINE_REJECT, NULL},
};

START_TEST(test_ack_codes)
{
    char text[160];
    struct hl7_msg m;
    snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|1||ADT^A01|9|P|2.5|||%s", codes[_i].msh15);
    hl7_msg_init(&m);
    test_parse_ok(&m, text);
    const char *got = pipeline_ack_code(&m, codes[_i].o);
    if (codes[_i].code)
        ck_assert_str_eq(got, codes[_i].code);
    else
        ck_assert_ptr_null(got);
    hl7_msg_cleanup(&m);
}
END_TEST

static struct conf *conf;

static void setup(void)
{
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/solent-pipe-%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("[engine]\nsite_tz = Europe/London\n[listener pas]\nroutes = adt, orm\n"
          "[route adt]\ntype = ADT^*\ndestinations = phr, copy\n"
          "[route orm]\ntype = ORM^O01\ndestinations = phr\npeers = lab\n"
          "[peer lab]\naddresses = 10.1.0.0/16\n"
          "[destination phr]\nkind = fhir\nurl = https://phr.example/fhir\n[destination copy]\n",
          f);
    fclose(f);
    conf = conf_load(path, err, sizeof err);
    unlink(path);
    ck_assert_msg(conf != NULL, "%s", err);
}

static void teardown(void)
{
    conf_free(conf);
}

static void run_from(const char *peer, const char *frame, struct pipeline_result *r)
{
    struct pipeline_ctx ctx = {
        conf, &conf->listeners[0],     1700000000000, "ACK1", "20261129120000+0000",
        peer, peer ? peer : "10.9.9.9"};
    pipeline_process(&ctx, frame, strlen(frame), r);
}

static void run(const char *frame, struct pipeline_result *r)
{
    run_from(NULL, frame, r);
}

#define ADT "MSH|^~\\&|PAS|RHM|PHR|TRUST|20261129083000||ADT^A01|C1|P|2.5.1\r"
#define PID "PID|1||9434765919^^^NHS^NH||Doe^Jane||19800101|F\r"

START_TEST(test_accepted)
{
    struct pipeline_result r;
    pipeline_result_init(&r);
    run(ADT PID "PV1|1|I\r", &r);
    ck_assert_int_eq(r.record.status, STORE_ACCEPTED);
    ck_assert_uint_eq(r.record.noutbox, 2);
    ck_assert_str_eq(r.record.outbox[0].destination, "phr");
    ck_assert_str_eq(r.record.outbox[0].ordering_key,
                     "phr|https://fhir.nhs.uk/Id/nhs-number|9434765919");
    ck_assert_str_eq(r.record.outbox[1].ordering_key,
                     "copy|https://fhir.nhs.uk/Id/nhs-number|9434765919");
    ck_assert_ptr_nonnull(strstr(r.record.outbox[0].bundle, "\"resourceType\":\"Bundle\""));
    ck_assert_str_eq(r.record.sending_app, "PAS");
    ck_assert_str_eq(r.record.control_id, "C1");
    ck_assert_str_eq(r.record.message_type, "ADT^A01");
    ck_assert(r.send_ack);
    ck_assert_ptr_nonnull(strstr(r.ack.p, "\rMSA|AA|C1\r"));
    pipeline_result_cleanup(&r);
}
END_TEST

/* A route with peers takes only their messages: another's is AR with ERR 207 at MSH-3,
 * stored as rejected with the sender recorded; the route's own peer is accepted. */
START_TEST(test_route_peers)
{
    struct pipeline_result r;
    const char *oru = "MSH|^~\\&|EPR|RHM|PHR|TRUST|20261129083000||ORM^O01|C9|P|2.5.1\r" PID
                      "ORC|NW|P1\rOBR|1|P1||2823-3^Potassium^LN\r";
    pipeline_result_init(&r);
    run(oru, &r);
    ck_assert_int_eq(r.record.status, STORE_REJECTED);
    ck_assert_int_eq(r.record.error_code, 207);
    ck_assert_str_eq(r.record.error_location, "MSH-3");
    ck_assert_str_eq(r.record.peer, "10.9.9.9");
    ck_assert_uint_eq(r.record.noutbox, 0);
    ck_assert_ptr_nonnull(strstr(r.ack.p, "\rMSA|AR|C9\r"));
    ck_assert_ptr_nonnull(strstr(r.ack.p, "ERR||MSH^1^3|207^Application internal error"));
    run_from("lab", oru, &r);
    ck_assert_int_eq(r.record.status, STORE_ACCEPTED);
    ck_assert_str_eq(r.record.peer, "lab");
    run(ADT PID "PV1|1|I\r", &r); /* a route without peers: anyone */
    ck_assert_int_eq(r.record.status, STORE_ACCEPTED);
    pipeline_result_cleanup(&r);
}
END_TEST

START_TEST(test_transform_error_is_ae)
{
    struct pipeline_result r;
    pipeline_result_init(&r);
    run(ADT "PID|1||||Doe^Jane\rPV1|1|I\r", &r);
    ck_assert_int_eq(r.record.status, STORE_ERROR);
    ck_assert_int_eq(r.record.error_code, 101);
    ck_assert_str_eq(r.record.error_location, "PID-3");
    ck_assert_uint_eq(r.record.noutbox, 0);
    ck_assert_ptr_nonnull(strstr(r.ack.p, "\rMSA|AE|C1\rERR||PID^1^3|101^Required field missing"));
    pipeline_result_cleanup(&r);
}
END_TEST

START_TEST(test_unparseable_and_unroutable_are_ar)
{
    struct pipeline_result r;
    pipeline_result_init(&r);
    run("not an hl7 message at all", &r);
    ck_assert_int_eq(r.record.status, STORE_REJECTED);
    ck_assert_uint_eq(r.record.raw_len, 25); /* the bytes are kept either way */
    ck_assert_ptr_nonnull(strstr(r.ack.p, "\rMSA|AR|\r"));
    run("MSH|^~\\&|LAB|RHM|PHR|TRUST|1||ORU^R01|C2|P|2.5.1\rPID|1||1\r", &r);
    ck_assert_int_eq(r.record.status, STORE_REJECTED);
    ck_assert_int_eq(r.record.error_code, 200);
    ck_assert_ptr_nonnull(
        strstr(r.ack.p, "\rMSA|AR|C2\rERR||MSH^1^9|200^Unsupported message type"));
    run(ADT PID "pv1|1|I\r", &r); /* the header was read: the AR is addressed to the sender */
    ck_assert_int_eq(r.record.status, STORE_REJECTED);
    ck_assert_ptr_nonnull(strstr(r.ack.p, "MSH|^~\\&|PHR|TRUST|PAS|RHM|"));
    pipeline_result_cleanup(&r);
}
END_TEST

START_TEST(test_parked_and_no_ack)
{
    struct pipeline_result r;
    pipeline_result_init(&r);
    snprintf(conf->engine.on_no_match, sizeof conf->engine.on_no_match, "park");
    run("MSH|^~\\&|LAB|RHM|PHR|TRUST|1||ORU^R01|C3|P|2.5.1\rPID|1||1\r", &r);
    ck_assert_int_eq(r.record.status, STORE_PARKED);
    ck_assert_uint_eq(r.record.noutbox, 0);
    ck_assert_ptr_nonnull(strstr(r.ack.p, "\rMSA|AA|C3\r"));
    run("MSH|^~\\&|PAS|RHM|PHR|TRUST|20261129083000||ADT^A01|C4|P|2.5.1|||NE|NE\r" PID, &r);
    ck_assert(!r.send_ack);
    ck_assert_int_eq(r.record.status, STORE_ACCEPTED);
    pipeline_result_cleanup(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_ack_codes, 0, sizeof codes / sizeof codes[0]);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_accepted);
    tcase_add_test(tc, test_transform_error_is_ae);
    tcase_add_test(tc, test_route_peers);
    tcase_add_test(tc, test_unparseable_and_unroutable_are_ar);
    tcase_add_test(tc, test_parked_and_no_ack);
    suite_add_tcase(s, tc);
    return test_run(s);
}
