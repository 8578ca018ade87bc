/*
 * Unit tests for engine/conf: every kind of error, reported as file:line: problem;
 * defaults and values of a good file; and the shipped conf/solent.conf documents
 * every key the loader knows, with its default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/conf.h"
#include "transforms/transform.h"
#include "transforms/xf_json.h"
#include "tests/unit/testutil.h"

static char path[64];

static struct conf *load_text(const char *text, char *err, size_t errlen)
{
    snprintf(path, sizeof path, "/tmp/solent-conf-%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    struct conf *c = conf_load(path, err, errlen);
    unlink(path);
    return c;
}

struct bad_case {
    const char *text;
    int line;
    const char *problem;
};

static const struct bad_case bad_cases[] = {
    {"[engine]\nbogus = 1\n", 2, "unknown key bogus in [engine]"},
    {"[nonsense]\n", 1, "unknown section [nonsense]"},
    {"key = 1\n", 1, "outside any section"},
    {"[engine]\njust text\n", 2, "expected key = value"},
    {"[engine\n", 1, "a section header is"},
    {"[listener]\n", 1, "needs a name"},
    {"[engine x]\n", 1, "takes no name"},
    {"[engine]\nlog_level = loud\n", 2, "log_level must be one of error|warn|info|debug"},
    {"[engine]\nmax_message = lots\n", 2, "max_message must be a size"},
    {"[engine]\nmax_segments = -3\n", 2, "max_segments must be a whole number"},
    {"[listener a]\nidle_timeout_ms = 5\n", 2, "must be a duration"},
    {"[listener a]\nidle_timeout_ms = 50d\n", 2, "must be a duration"}, /* > 2^32 ms */
    {"[store]\nretain_ms = 90\n", 2, "retain_ms must be a duration"},
    {"[listener a]\nport = 0\n", 2, "port must be 1 to 65535"}, /* the key's line */
    {"[engine]\nsite_tz = Mars/Olympus_Mons\n", 2, "site_tz: Mars/Olympus_Mons is not a known"},
    {"[engine]\nsite_tz = ../../etc/passwd\n", 2, "is not a time zone name"},
    {"[engine]\nsite_tz = Europe\n", 2, "site_tz: Europe is not a known time zone"},
    {"[listener a]\nroutes = missing\n", 2, "feeds route missing, which is not defined"},
    {"[route r]\ntype = ADT^*\n", 1, "[route r] has no destinations"},
    {"[route r]\ndestinations = gone\n", 2, "sends to destination gone, which is not defined"},
    {"[destination d]\nkind = fhir\n", 1, "of kind fhir needs a url"},
    {"[destination d]\nkind = ftp\n", 2, "kind must be one of fhir|directory"},
    {"[destination d]\n[destination d]\n", 2, "[destination d] is defined twice"},
    {"[identifiers]\nRHM = not a uri\n", 2, "must be a URI"},
    {"[store]\nkind = oracle\n", 2, "kind must be one of sqlite"},
    {"[store]\nkind = postgres\n", 2, "kind = postgres needs dsn"},
    {"[store]\nkind = postgres\ndsn = x\npool = 4\n", 4, "pool must be 1, 2 or 3"},
    {"[store]\npool = 0\n", 2, "pool must be 1, 2 or 3"},
    {"[store]\nkind = postgres\ndsn = x\npassword = s3cret\n", 4, "never the password"},
    {"[engine]\n[admin]\nport = 9575\n", 2, "[admin] needs token = env:VARIABLE or file:PATH"},
    {"[admin]\nport = 9575\ntoken = hunter2\n", 1, "[admin] needs token = env:VARIABLE"},
    {"[admin]\nport = 70000\ntoken = env:T\n", 1, "[admin] port must be 1 to 65535 (0: off)"},
    {"[admin x]\n", 1, "[admin] takes no name"},
    {"[admin token]\n", 1, "[admin token] needs a name"},
    {"[admin token ops]\nsecret = hunter2\n", 2, "needs secret = env:VARIABLE or file:PATH"},
    {"[admin token ops]\nsecret = env:T\nscopes = read, write\n", 3,
     "scope write is not one of read, content, replay, reload"},
    {"[admin token ops]\nsecret = env:T\n[admin token ops]\n", 3, "is defined twice"},
    {"[admin]\nport = 9575\ntoken = hunter2\n[admin token ops]\nsecret = env:T\n", 1,
     "[admin] token must be env:VARIABLE or file:PATH"},
};

START_TEST(test_bad_files)
{
    const struct bad_case *c = &bad_cases[_i];
    char err[512], want[96];
    struct conf *conf = load_text(c->text, err, sizeof err);
    ck_assert_ptr_null(conf);
    snprintf(want, sizeof want, "%s:%d: ", path, c->line);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: wanted line prefix %s", err, want);
    ck_assert_msg(strstr(err, c->problem) != NULL, "%s: wanted %s", err, c->problem);
}
END_TEST

START_TEST(test_good_file)
{
    char err[512];
    struct conf *c =
        load_text("; comment\n[engine]\nsite_tz = UTC  # inline comment\n"
                  "max_message = 2M\n[store]\nretain_ms = 400d\n[listener lab]\nport = 2600\n"
                  "idle_timeout_ms = 5m\nroutes = r1, r2\n"
                  "[route r1]\ntype = ORU^R01\nwhere = PV1-2 = I\nwhere = MSH-11 = P\n"
                  "destinations = phr\n[route r2]\ndestinations = phr\n"
                  "[destination phr]\nkind = fhir\nurl = https://phr.example/fhir\n"
                  "[identifiers]\nRHM:MR = https://fhir.example.nhs.uk/Id/mrn\n",
                  err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->engine.site_tz, "UTC");
    ck_assert_uint_eq(c->engine.max_message, 2u << 20);
    ck_assert_uint_eq(c->engine.max_segments, 10000);         /* default */
    ck_assert_uint_eq(c->store.retain_ms, 400ull * 86400000); /* a 64-bit duration */
    ck_assert_uint_eq(c->nlisteners, 1);
    ck_assert_uint_eq(c->listeners[0].port, 2600);
    ck_assert_uint_eq(c->listeners[0].idle_timeout_ms, 300000);
    ck_assert_str_eq(c->listeners[0].bind, "127.0.0.1");
    ck_assert_uint_eq(c->listeners[0].routes.n, 2);
    ck_assert_str_eq(c->listeners[0].routes.v[1], "r2");
    ck_assert_uint_eq(c->routes[0].nwhere, 2);
    ck_assert_str_eq(c->routes[0].where[1], "MSH-11 = P");
    ck_assert_str_eq(c->routes[1].type, "*");
    ck_assert_str_eq(c->destinations[0].url, "https://phr.example/fhir");
    ck_assert_uint_eq(c->nidents, 1);
    ck_assert_str_eq(c->idents[0].authority, "RHM");
    ck_assert_str_eq(c->idents[0].type, "MR");
    const struct xf_config *x = conf_xf(c);
    ck_assert_uint_eq(x->nidents, 3); /* the file's rule, then the two built-in NHS rules */
    ck_assert_str_eq(x->idents[0].authority, "RHM");
    ck_assert_str_eq(x->idents[1].system, XF_NHS_SYSTEM);
    ck_assert_str_eq(x->site_tz, "UTC");
    ck_assert_ptr_eq(x->zone, &c->zone); /* resolved when the file loaded */
    ck_assert_uint_eq(c->router.n, c->nroutes);
    conf_free(c);
}
END_TEST

/* The section text of [kind ...] sections in the shipped file, concatenated. */
static void sections_of(const char *text, const char *kind, char *out, size_t n)
{
    char head[2][64];
    out[0] = '\0';
    snprintf(head[0], sizeof head[0], "\n[%s", kind);
    snprintf(head[1], sizeof head[1], "\n# [%s", kind); /* a section shown commented out */
    for (int h = 0; h < 2; h++)
        for (const char *p = strstr(text, head[h]); p; p = strstr(p + 1, head[h])) {
            const char *end = strstr(p + 1, "\n[");
            const char *shown = strstr(p + 1, "\n# [");
            if (shown && (!end || shown < end))
                end = shown;
            size_t len = end ? (size_t)(end - p) : strlen(p), used = strlen(out);
            if (used + len + 1 < n)
                strncat(out, p, len);
        }
}

/* Writes a CSV map to /tmp and returns its path. */
static const char *csv(int k, const char *text)
{
    static char paths[4][64];
    snprintf(paths[k], sizeof paths[k], "/tmp/solent-codes-%d-%d.csv", (int)getpid(), k);
    FILE *f = fopen(paths[k], "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return paths[k];
}

struct csv_case {
    const char *csv, *problem;
};

static const struct csv_case csv_cases[] = {
    {"local_code,system,code\nK,http://loinc.org,2823-3\n", ".csv:1: expected 4 columns"},
    {"code,system,target,display\n",
     ".csv:1: the first line must be local_code,system,code,display"},
    {"local_code,system,code,display\n\nK,loinc,2823-3,Potassium\n",
     ".csv:3: system must be a URI"},
    {"local_code,system,code,display\nK,http://loinc.org,,Potassium\n",
     ".csv:2: local_code and code must not be empty"},
    {"local_code,system,code,display\n\"K,http://loinc.org,2823-3,x\n",
     ".csv:2: a quoted field does not end"},
    {"local_code,system,code,display\nK,http://loinc.org,1,a\nK,http://loinc.org,2,b\n",
     "local code K is mapped twice"},
    {"", "empty: the first line must be"},
};

START_TEST(test_bad_code_maps)
{
    char text[256], err[512];
    snprintf(text, sizeof text, "[engine]\n[codes]\nRHMLAB = %s\n", csv(0, csv_cases[_i].csv));
    struct conf *c = load_text(text, err, sizeof err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, ":3: [codes] RHMLAB: ") && strstr(err, csv_cases[_i].problem),
                  "%s: wanted line 3 and %s", err, csv_cases[_i].problem);
    snprintf(text, sizeof text, "[codes]\nRHMLAB = /nonexistent/map.csv\n");
    ck_assert_ptr_null(load_text(text, err, sizeof err));
    ck_assert_msg(strstr(err, ":2: [codes] RHMLAB: /nonexistent/map.csv: No such file"), "%s", err);
    snprintf(text, sizeof text, "[codes]\nRHMLAB = /dev/zero\n"); /* would never end */
    ck_assert_ptr_null(load_text(text, err, sizeof err));
    ck_assert_msg(strstr(err, ":2: [codes] RHMLAB: /dev/zero: not a regular file"), "%s", err);
}
END_TEST

/* A map in the file reaches the transform: a local OBX-3 code gains its LOINC coding. */
START_TEST(test_code_map_reaches_transform)
{
    char text[512], err[512];
    snprintf(text, sizeof text, "[codes]\nRHMLAB = %s\nOTHER = %s\n",
             csv(1, "local_code,system,code,display\r\n"
                    "NA,http://loinc.org,2951-2,\"Sodium, \"\"serum\"\"\"\r\n"
                    "K,http://loinc.org,2823-3,Potassium\r\n"),
             csv(2, "local_code,system,code,display\n"));
    struct conf *c = load_text(text, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->ncodes, 2);
    ck_assert_uint_eq(c->codes[0].n, 2);
    ck_assert_str_eq(c->codes[0].rows[0].code, "K"); /* sorted */
    ck_assert_str_eq(c->codes[0].rows[1].display, "Sodium, \"serum\"");
    snprintf(text, sizeof text, "[codes]\nRHMLAB = %s\nRHMLAB = %s\n",
             csv(3, "local_code,system,code,display\n"),
             csv(3, "local_code,system,code,display\n"));
    ck_assert_ptr_null(load_text(text, err, sizeof err));
    ck_assert_msg(strstr(err, ":3: the local system RHMLAB has a map already"), "%s", err);

    static const char msg[] =
        "MSH|^~\\&|LAB|RHM|SOLENT|TRUST|20261129091500+0000||ORU^R01^ORU_R01|L1|P|2.5.1\r"
        "PID|1||9434765919^^^NHS^NH||Testpatient^Alex\r"
        "OBR|1|ORD1|LAB1|26958-3^Panel^LN|||20261129080000+0000\r"
        "OBX|1|NM|K^Potassium^RHMLAB||4.1|mmol/L|||||F\r"
        "OBX|2|NM|ZZ^Unmapped^RHMLAB||7|mmol/L|||||F\r"
        "OBX|3|NM|Q^Empty map^OTHER||1|mmol/L|||||F\r";
    struct hl7_msg m;
    struct hl7_err e;
    struct hl7_opts o = hl7_opts_default();
    hl7_msg_init(&m);
    ck_assert_int_eq(hl7_msg_parse(&m, msg, sizeof msg - 1, &o, &e), 0);
    struct xf_ctx x;
    cJSON *bundle = NULL;
    xf_init(&x, &m, conf_xf(c));
    ck_assert_int_eq(transform_run(&x, &bundle), 0);
    struct strbuf out;
    strbuf_init(&out, 1 << 20);
    xf_json_write(bundle, &out);
    strbuf_append(&out, "", 1);
    const char *json = out.p;
    ck_assert_msg(
        strstr(json, "{\"code\":\"K\",\"display\":\"Potassium\"},{\"system\":\"http://loinc.org\","
                     "\"code\":\"2823-3\",\"display\":\"Potassium\"}"),
        "the mapped coding follows the local one: %s", json);
    ck_assert_msg(strstr(json, "{\"code\":\"ZZ\",\"display\":\"Unmapped\"}]"),
                  "unmapped stays alone: %s", json);
    ck_assert_msg(strstr(json, "{\"code\":\"Q\",\"display\":\"Empty map\"}]"), "empty map: %s",
                  json);
    strbuf_cleanup(&out);
    xf_cleanup(&x);
    hl7_msg_cleanup(&m);
    conf_free(c);
    for (int k = 0; k < 4; k++)
        unlink(csv(k, ""));
}
END_TEST

START_TEST(test_shipped_file_documents_every_key)
{
    char err[512], *text = malloc(1 << 16), *section = malloc(1 << 16);
    FILE *f = fopen(SOLENT_CONF, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    for (const struct conf_key_info *k = conf_keys(); k->section; k++) {
        char line[128], commented[128];
        sections_of(text, k->section, section, 1 << 16);
        snprintf(line, sizeof line, "\n%s =", k->key);           /* set */
        snprintf(commented, sizeof commented, "# %s =", k->key); /* shown, commented out */
        const char *at = strstr(section, line);
        if (!at)
            at = strstr(section, commented);
        ck_assert_msg(at != NULL, "[%s] %s is not documented in %s", k->section, k->key,
                      SOLENT_CONF);
        const char *eol = strchr(at + 1, '\n');
        ck_assert_msg(!k->dflt[0] || (strstr(at, k->dflt) && strstr(at, k->dflt) < eol),
                      "[%s] %s is documented without its default %s", k->section, k->key, k->dflt);
    }
    struct conf *c = conf_load(SOLENT_CONF, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    conf_free(c);
    free(text);
    free(section);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_bad_files, 0, sizeof bad_cases / sizeof bad_cases[0]);
    tcase_add_test(tc, test_good_file);
    tcase_add_loop_test(tc, test_bad_code_maps, 0, sizeof csv_cases / sizeof csv_cases[0]);
    tcase_add_test(tc, test_code_map_reaches_transform);
    tcase_add_test(tc, test_shipped_file_documents_every_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(conf_suite());
}
