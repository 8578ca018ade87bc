/* testutil — helpers shared by the unit tests. */
#include "tests/unit/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/hl7_escape.h"
#include "parsers/strbuf.h"

int test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void test_parse_ok(struct hl7_msg *m, const char *text)
{
    struct hl7_opts o = hl7_opts_default();
    struct hl7_err err;
    int rc = hl7_msg_parse(m, text, strlen(text), &o, &err);
    ck_assert_msg(rc == 0, "parse failed: %s (code %d, offset %zu)", err.text, (int)err.code,
                  err.offset);
}

void test_parse_err(struct hl7_msg *m, const char *text, struct hl7_err *err)
{
    struct hl7_opts o = hl7_opts_default();
    ck_assert_msg(hl7_msg_parse(m, text, strlen(text), &o, err) != 0, "parsed but should not");
    ck_assert_int_ne(err->code, HL7_OK);
    ck_assert(err->text[0] != '\0');
}

const char *test_get(const struct hl7_msg *m, const char *path)
{
    static char out[1024];
    struct hl7_path p;
    char why[160];
    ck_assert_msg(hl7_path_parse(path, &p, why, sizeof why) == 0, "%s: %s", path, why);
    struct hl7_view v = hl7_get(m, &p);
    if (!v.p)
        return "<absent>";
    struct strbuf b;
    size_t bad;
    strbuf_init(&b, sizeof out - 1);
    ck_assert_int_ge(hl7_unescape(&m->enc, v, &b, &bad), 0);
    memcpy(out, b.p ? b.p : "", b.len + 1);
    strbuf_cleanup(&b);
    return out;
}
