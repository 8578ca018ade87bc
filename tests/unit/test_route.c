/* Unit tests for routes/route: globs, MSH field patterns, predicates, listeners, order. */
#include <string.h>

#include "routes/route.h"
#include "tests/unit/testutil.h"

static const struct {
    const char *pattern, *text;
    bool match;
} globs[] = {
    {"*", "", true},
    {"*", "anything", true},
    {"ADT^*", "ADT^A01", true},
    {"ADT^*", "ORU^R01", false},
    {"ADT^A0*", "ADT^A04", true},
    {"ADT^A0*", "ADT^A11", false},
    {"*LAB", "MAINLAB", true},
    {"L*B", "LB", true},
    {"L*B", "LAB", true},
    {"L*B", "LABX", false},
    {"2.5*", "2.5.1", true},
    {"2.5*", "2.4", false},
    {"", "", true},
    {"", "x", false},
    {"a*b*c", "aXbYc", true},
    {"a*b*c", "aXbY", false},
};

START_TEST(test_glob)
{
    ck_assert_msg(route_glob(globs[_i].pattern, globs[_i].text, strlen(globs[_i].text)) ==
                      globs[_i].match,
                  "%s vs %s", globs[_i].pattern, globs[_i].text);
}
END_TEST

#define MSG_ADT                                                                                    \
    "MSH|^~\\&|PAS^1.2.3^ISO|RHM|SOLENT|TRUST|20240101||ADT^A04^ADT_A01|1|P|2.5.1\r"               \
    "PID|1||9434765919^^^NHS^NH||Doe^Jane||19800101|F\rPV1|1|I"
#define MSG_ODD "MSH*%$!@*LAB*RHM*SOLENT*TRUST*20240101**ORU%R01*2*P*2.4\rPV1*1*O"

struct rule_case {
    const char *msg, *listener;
    struct route_rule rule;
    const char *where; /* one predicate, or NULL */
    bool match;
};

static const struct rule_case rule_cases[] = {
    {MSG_ADT, "pas", {.name = "any"}, NULL, true},
    {MSG_ADT, "pas", {.name = "t", .type = "ADT^*"}, NULL, true},
    {MSG_ADT, "pas", {.name = "t", .type = "ADT"}, NULL, true},
    {MSG_ADT, "pas", {.name = "t", .type = "ORU^R01"}, NULL, false},
    {MSG_ADT, "pas", {.name = "t", .type = "ADT^A04^ADT_A01"}, NULL, true},
    {MSG_ADT, "pas", {.name = "app", .sending_app = "PAS"}, NULL, true},
    {MSG_ADT, "pas", {.name = "app", .sending_app = "PAS^1.2.3*"}, NULL, true},
    {MSG_ADT, "pas", {.name = "app", .sending_app = "LAB"}, NULL, false},
    {MSG_ADT, "pas", {.name = "fac", .receiving_facility = "TRUST"}, NULL, true},
    {MSG_ADT, "pas", {.name = "ver", .version = "2.5*"}, NULL, true},
    {MSG_ADT, "pas", {.name = "ver", .version = "2.3*"}, NULL, false},
    {MSG_ADT, "pas", {.name = "l", .listeners = {"lab", "pas"}, .nlisteners = 2}, NULL, true},
    {MSG_ADT, "pas", {.name = "l", .listeners = {"lab"}, .nlisteners = 1}, NULL, false},
    {MSG_ADT, "pas", {.name = "w"}, "PV1-2 = I", true},
    {MSG_ADT, "pas", {.name = "w"}, "PV1-2 = O", false},
    {MSG_ADT, "pas", {.name = "w"}, "PV1-2 != O", true},
    {MSG_ADT, "pas", {.name = "w"}, "PID-3.4 = NHS", true},
    {MSG_ADT, "pas", {.name = "w"}, "PID-30 = ", true}, /* absent reads as empty */
    {MSG_ODD, "lab", {.name = "odd", .type = "ORU^R01"}, "PV1-2 = O", true},
    {MSG_ODD, "lab", {.name = "odd", .sending_app = "LAB", .version = "2.4"}, NULL, true},
};

START_TEST(test_rules)
{
    const struct rule_case *c = &rule_cases[_i];
    struct hl7_msg m;
    struct route_rule r = c->rule;
    char err[160];
    hl7_msg_init(&m);
    test_parse_ok(&m, c->msg);
    if (c->where) {
        ck_assert_int_eq(route_pred_parse(c->where, &r.preds[0], err, sizeof err), 0);
        r.npreds = 1;
    }
    ck_assert_msg(route_matches(&r, c->listener, &m) == c->match, "case %d (%s)", _i, r.name);
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_first_match_wins)
{
    struct hl7_msg m;
    struct route_rule rules[3] = {
        {.name = "oru", .type = "ORU^*"}, {.name = "adt", .type = "ADT^*"}, {.name = "all"}};
    hl7_msg_init(&m);
    test_parse_ok(&m, MSG_ADT);
    ck_assert_str_eq(route_match(rules, 3, "pas", &m)->name, "adt");
    ck_assert_ptr_null(route_match(rules, 1, "pas", &m));
    hl7_msg_cleanup(&m);
}
END_TEST

START_TEST(test_bad_predicates)
{
    struct route_pred p;
    char err[160];
    const char *bad[] = {"PV1-2", "= I", "pv1-2 = I", "PV1-0 = I"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(route_pred_parse(bad[i], &p, err, sizeof err) == -1, "%s", bad[i]);
        ck_assert(err[0] != '\0');
    }
}
END_TEST

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_glob, 0, sizeof globs / sizeof globs[0]);
    tcase_add_loop_test(tc, test_rules, 0, sizeof rule_cases / sizeof rule_cases[0]);
    tcase_add_test(tc, test_first_match_wins);
    tcase_add_test(tc, test_bad_predicates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(route_suite());
}
