/*
 * Unit tests for engine/delivery_policy: the response classification table (transport
 * errors, HTTP statuses, transaction-responses good and bad), Retry-After in both forms,
 * the backoff schedule with a fixed seed (bounds, growth, cap, Retry-After as a floor,
 * reproducible), and counting a bundle's entries.
 */
#include <stdio.h>
#include <string.h>

#include "engine/delivery_policy.h"
#include "tests/unit/testutil.h"

#define OK2       "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\",\"entry\":["
#define E(s, loc) "{\"response\":{\"status\":\"" s "\",\"location\":\"" loc "\"}}"

static const struct {
    int transport;
    long status;
    const char *body, *retry_after;
    size_t entries;
    enum delivery_verdict want;
    const char *reason; /* a piece of the reason */
    long long retry_after_ms;
} cases[] = {
    {1, 0, NULL, NULL, 2, DELIVERY_RETRY, "no answer: refused", 0},
    {0, 200, OK2 E("201 Created", "Patient/1") "," E("200", "Encounter/2") "]}", NULL, 2,
     DELIVERY_OK, "HTTP 200, 2 entries", 0},
    {0, 200, OK2 E("201", "Patient/1") "]}", NULL, 2, DELIVERY_RETRY, "1 entries for 2 sent", 0},
    {0, 200, "this is not FHIR", NULL, 1, DELIVERY_RETRY, "not a transaction-response", 0},
    {0, 200, "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":[]}", NULL, 0,
     DELIVERY_RETRY, "not a transaction-response", 0},
    {0, 200, "{\"resourceType\":\"OperationOutcome\"}", NULL, 1, DELIVERY_RETRY,
     "not a transaction-response", 0},
    {0, 200, NULL, NULL, 1, DELIVERY_RETRY, "not a transaction-response", 0},
    {0, 200, OK2 E("201", "Patient/1") "," E("503 Busy", "") "]}", NULL, 2, DELIVERY_RETRY,
     "entry 2 has status 503", 0},
    {0, 200, OK2 E("422 Unprocessable", "") "," E("201", "x") "]}", NULL, 2, DELIVERY_DEAD,
     "entry 1 has status 422", 0},
    {0, 200, OK2 "{\"response\":{}}]}", NULL, 1, DELIVERY_RETRY, "entry 1 has status 0", 0},
    {0, 201, OK2 E("201", "Patient/1") "]}", NULL, 1, DELIVERY_OK, "HTTP 201", 0},
    {0, 408, NULL, NULL, 1, DELIVERY_RETRY, "HTTP 408", 0},
    {0, 429, NULL, "7", 1, DELIVERY_RETRY, "HTTP 429", 7000},
    {0, 429, NULL, " 2 ", 1, DELIVERY_RETRY, "HTTP 429", 2000},
    {0, 503, NULL, "Thu, 01 Jan 1970 00:01:40 GMT", 1, DELIVERY_RETRY, "HTTP 503", 40000},
    {0, 503, NULL, "soon", 1, DELIVERY_RETRY, "HTTP 503", 0},
    {0, 500, NULL, NULL, 1, DELIVERY_RETRY, "HTTP 500", 0},
    {0, 502, NULL, NULL, 1, DELIVERY_RETRY, "HTTP 502", 0},
    {0, 401, NULL, NULL, 1, DELIVERY_RETRY, "HTTP 401", 0},
    {0, 403, NULL, NULL, 1, DELIVERY_RETRY, "HTTP 403", 0},
    {0, 400, "{\"resourceType\":\"OperationOutcome\"}", NULL, 1, DELIVERY_DEAD, "HTTP 400", 0},
    {0, 404, NULL, NULL, 1, DELIVERY_DEAD, "HTTP 404", 0},
    {0, 409, NULL, NULL, 1, DELIVERY_DEAD, "HTTP 409", 0},
    {0, 412, NULL, NULL, 1, DELIVERY_DEAD, "HTTP 412", 0},
    {0, 422, NULL, NULL, 1, DELIVERY_DEAD, "HTTP 422", 0},
    {0, 301, NULL, NULL, 1, DELIVERY_DEAD, "HTTP 301", 0},
};

START_TEST(test_classify)
{
    struct strbuf loc;
    strbuf_init(&loc, 1 << 16);
    struct delivery_answer a = {
        .transport_error = cases[_i].transport,
        .error = "refused",
        .http_status = cases[_i].status,
        .body = cases[_i].body,
        .body_len = cases[_i].body ? strlen(cases[_i].body) : 0,
        .retry_after = cases[_i].retry_after,
        .request_entries = cases[_i].entries,
        .now_ms = 60000, /* 1970-01-01T00:01:00Z */
    };
    struct delivery_outcome o;
    delivery_classify(&a, &o, &loc);
    ck_assert_msg(o.verdict == cases[_i].want, "case %d: verdict %d, reason %s", _i, o.verdict,
                  o.reason);
    ck_assert_msg(strstr(o.reason, cases[_i].reason), "case %d: reason \"%s\"", _i, o.reason);
    ck_assert_int_eq(o.retry_after_ms, cases[_i].retry_after_ms);
    if (o.verdict == DELIVERY_OK && cases[_i].entries == 2)
        ck_assert_str_eq(loc.p, "Patient/1\nEncounter/2\n");
    else if (o.verdict != DELIVERY_OK)
        ck_assert_uint_eq(loc.len, 0);
    strbuf_cleanup(&loc);
}
END_TEST

START_TEST(test_backoff_schedule)
{
    struct delivery_backoff b = {1000, 60000};
    struct delivery_rng r1 = {42}, r2 = {42};
    int64_t first[12], max_seen = 0;
    for (int attempt = 1; attempt <= 12; attempt++) {
        int64_t ceiling = 1000LL << (attempt - 1);
        if (ceiling > 60000)
            ceiling = 60000;
        int64_t d = delivery_backoff_ms(&b, attempt, 0, &r1);
        ck_assert_msg(d >= 0 && d <= ceiling, "attempt %d: %lld over %lld", attempt, (long long)d,
                      (long long)ceiling);
        first[attempt - 1] = d;
        if (d > max_seen)
            max_seen = d;
    }
    ck_assert_int_gt(max_seen, 1000);               /* it grows past the base */
    for (int attempt = 1; attempt <= 12; attempt++) /* the same seed, the same schedule */
        ck_assert_int_eq(delivery_backoff_ms(&b, attempt, 0, &r2), first[attempt - 1]);
    /* full jitter: over many draws at the cap, the delays spread across [0, cap] */
    struct delivery_rng r3 = {7};
    int64_t lo = 60000, hi = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t d = delivery_backoff_ms(&b, 30, 0, &r3);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    ck_assert_int_lt(lo, 6000);
    ck_assert_int_gt(hi, 54000);
    ck_assert_int_le(hi, 60000);
    /* Retry-After is a floor */
    for (int i = 0; i < 100; i++)
        ck_assert_int_ge(delivery_backoff_ms(&b, 1, 5000, &r3), 5000);
}
END_TEST

START_TEST(test_bundle_entries)
{
    const char *b = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{},{},{}]}";
    ck_assert_int_eq(delivery_bundle_entries(b, strlen(b)), 3);
    ck_assert_int_eq(delivery_bundle_entries("{\"resourceType\":\"Bundle\"}", 25), 0);
    ck_assert_int_eq(delivery_bundle_entries("{\"resourceType\":\"Patient\"}", 26), -1);
    ck_assert_int_eq(delivery_bundle_entries("{", 1), -1);
}
END_TEST

/* A destination's health, step by step: (whole failure?, at ms) -> the change, whether an
 * attempt may start then (with in_flight attempts), and when the next probe is due. */
static const struct {
    bool whole;
    int64_t at;
    enum delivery_health_change change;
    size_t in_flight;
    bool may_start;
    int64_t probe_at; /* -1: not down */
} health_steps[] = {
    {true, 0, DELIVERY_HEALTH_SAME, 5, true, -1},       /* one failure: still up */
    {false, 10, DELIVERY_HEALTH_SAME, 5, true, -1},     /* an answer: the count starts again */
    {true, 20, DELIVERY_HEALTH_SAME, 5, true, -1},      /* 1 */
    {true, 30, DELIVERY_HEALTH_SAME, 5, true, -1},      /* 2 */
    {true, 40, DELIVERY_HEALTH_DOWN, 4, false, 1040},   /* 3 in a row: down, a probe in 1 s */
    {true, 50, DELIVERY_HEALTH_SAME, 0, false, 1040},   /* an attempt already out ends: no change */
    {true, 1100, DELIVERY_HEALTH_SAME, 0, false, 3100}, /* the probe failed: 2 s */
    {true, 3200, DELIVERY_HEALTH_SAME, 0, false, 7200}, /* 4 s */
    {true, 7300, DELIVERY_HEALTH_SAME, 0, false, 12300},  /* capped at 5 s */
    {true, 12400, DELIVERY_HEALTH_SAME, 1, false, 17400}, /* a probe in flight: no other */
    {false, 17500, DELIVERY_HEALTH_UP, 0, true, -1},      /* a probe answered: up */
    {true, 17600, DELIVERY_HEALTH_SAME, 8, true, -1},     /* up again counts from zero */
};

START_TEST(test_health)
{
    struct delivery_health h = {0};
    struct delivery_backoff b = {1000, 5000};
    for (size_t i = 0; i < sizeof health_steps / sizeof health_steps[0]; i++) {
        enum delivery_health_change c =
            delivery_health_note(&h, health_steps[i].whole, health_steps[i].at, &b);
        ck_assert_msg(c == health_steps[i].change, "step %zu: change %d", i, (int)c);
        ck_assert_msg(h.down == (health_steps[i].probe_at >= 0), "step %zu: down %d", i, h.down);
        if (h.down)
            ck_assert_int_eq(h.probe_at_ms, health_steps[i].probe_at);
        ck_assert_msg(delivery_health_may_start(&h, health_steps[i].in_flight,
                                                health_steps[i].at) == health_steps[i].may_start,
                      "step %zu: may start", i);
    }
    /* down: a probe may start once it is due and nothing is in flight */
    h = (struct delivery_health){.down = true, .probe_at_ms = 100};
    ck_assert(!delivery_health_may_start(&h, 0, 99));
    ck_assert(delivery_health_may_start(&h, 0, 100));
    ck_assert(!delivery_health_may_start(&h, 1, 100));
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("delivery_policy");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_classify, 0, sizeof cases / sizeof cases[0]);
    tcase_add_test(tc, test_backoff_schedule);
    tcase_add_test(tc, test_bundle_entries);
    tcase_add_test(tc, test_health);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(policy_suite());
}
