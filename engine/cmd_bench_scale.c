/*
 * cmd_bench_scale — `solent bench scale [--max SIZE]`: does parsing and transforming
 * cost the same per kilobyte whatever a message's shape and size? Builds messages of
 * four pathological shapes (deep repetitions, many segments, many components, long
 * escape sequences) from 1 KB up to SIZE (default the parser's 16 MiB limit), times
 * the parse and the whole conversion of each (the best of a few runs), and prints the
 * microseconds per KB. Linear code prints a flat column; quadratic code a growing one.
 * The segment cap is lifted for the "many segments" shape (10,000 by default) so the
 * shape can reach the size limit. Figures, not a test.
 */
#include "engine/cmd_bench.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/zoneinfo.h"
#include "parsers/hl7.h"
#include "parsers/strbuf.h"
#include "transforms/transform.h"
#include "transforms/xf_json.h"

#define MSH(type) "MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129083000+0000||" type "|SCALE1|P|2.5.1\r"
#define PID       "PID|1||9434765919^^^NHS^NH~RHM1000001^^^RHM^MR||Testpatient^Alex||19850412|U\r"
#define ORU       MSH("ORU^R01^ORU_R01") PID "OBR|1|PL1|FL1|24331-1^Lipid^LN||||||||||||||||||||F\r"
#define ADT       MSH("ADT^A01^ADT_A01") "EVN|A01\r" PID "PV1|1|I|WARD7^BED3^^RHM\r"

/* One shape: a header, then what follows it repeated until the message reaches a size. */
struct shape {
    const char *name;
    const char *header;
    const char *prefix; /* once, after the header */
    const char *unit;   /* repeated */
    const char *suffix; /* once, at the end */
};

static const struct shape shapes[] = {
    {"deep repetitions (OBX-8 ~)", ORU, "OBX|1|NM|2093-3^Cholesterol^LN||5.2|mmol/L||H", "~H",
     "\r"},
    {"many segments (OBX)", ORU, "",
     "OBX|1|NM|2093-3^Cholesterol^LN||5.2|mmol/L|3.0-5.0|H|||F|||20261129083000+0000\r", ""},
    {"many segments (NK1)", ADT, "", "NK1|1|Contact^Pat|MTH^Mother^HL70063\r", ""},
    {"many segments (OBR, OBX)", ORU, "",
     "OBR|2|PL2|FL2|24331-1^Lipid^LN||||||||||||||||||||F\rOBX|1|NM|2093-3^Chol^LN||5.2\r", ""},
    {"many components (OBX-5 ^)", ORU, "OBX|1|ST|2093-3^Cholesterol^LN||5.2", "^x", "|||||F\r"},
    {"long escapes (OBX-5 \\F\\ \\X41\\)", ORU, "OBX|1|TX|2093-3^Cholesterol^LN||a",
     "\\F\\\\X41\\\\.br\\", "|||||F\r"},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void build(const struct shape *s, size_t size, struct strbuf *out)
{
    strbuf_reset(out);
    strbuf_puts(out, s->header);
    strbuf_puts(out, s->prefix);
    size_t unit = strlen(s->unit), tail = strlen(s->suffix);
    while (out->len + unit + tail <= size)
        strbuf_append(out, s->unit, unit);
    strbuf_puts(out, s->suffix);
}

/* The best of runs: seconds to parse, and to parse, transform and serialise. */
static void time_one(const struct xf_config *site, const struct strbuf *msg, double *parse,
                     double *convert, int *made)
{
    struct hl7_opts o = hl7_opts_default();
    o.limits.max_segments = UINT32_MAX;
    struct hl7_msg m;
    struct hl7_err err;
    struct strbuf json;
    hl7_msg_init(&m);
    strbuf_init(&json, (size_t)1 << 31);
    *parse = *convert = 1e9;
    int runs = msg->len > (4u << 20) ? 2 : msg->len > (256u << 10) ? 3 : 10;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        int parsed = hl7_msg_parse(&m, msg->p, msg->len, &o, &err) == 0;
        double t1 = now();
        struct xf_ctx x;
        cJSON *bundle = NULL;
        *made = 0;
        if (parsed) {
            xf_init(&x, &m, site);
            if (transform_run(&x, &bundle) == 0) {
                strbuf_reset(&json);
                xf_json_write(bundle, &json);
                *made = 1;
            }
            xf_cleanup(&x);
        }
        double t2 = now();
        *parse = t1 - t0 < *parse ? t1 - t0 : *parse;
        *convert = t2 - t0 < *convert ? t2 - t0 : *convert;
    }
    strbuf_cleanup(&json);
    hl7_msg_cleanup(&m);
}

/* "64K", "16M" or bytes, at least 1 KB and at most 1 GB. */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    if (*end == 'K' || *end == 'M')
        n <<= *end++ == 'K' ? 10 : 20;
    if (end == s || *end || n < 1024 || n > (1ull << 30))
        return false;
    *out = (size_t)n;
    return true;
}

int cmd_bench_scale_run(int argc, char **argv)
{
    size_t max = (size_t)16 << 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--max") == 0 && i + 1 < argc && parse_size(argv[i + 1], &max)) {
            i++;
            continue;
        }
        fputs("usage: solent bench scale [--max SIZE]\n", stderr);
        return 2;
    }
    char why[256];
    const struct xf_config *site = zoneinfo_default_config(why, sizeof why);
    if (!site)
        return fprintf(stderr, "solent bench: %s\n", why), 1;
    struct strbuf msg;
    strbuf_init(&msg, max + 4096);
    printf("bench scale: time per KB, best of several runs, one core (flat = linear)\n");
    printf("  %-34s %10s %14s %14s %s\n", "shape", "size", "parse us/KB", "convert us/KB",
           "bundle");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        for (size_t size = 1024; size <= max; size *= 4) {
            double parse, convert;
            int made;
            build(&shapes[k], size - 16, &msg);
            time_one(site, &msg, &parse, &convert, &made);
            double kb = (double)msg.len / 1024.0;
            printf("  %-34s %9.0fK %14.2f %14.2f %s\n", shapes[k].name, kb, parse * 1e6 / kb,
                   convert * 1e6 / kb, made ? "made" : "refused");
            fflush(stdout);
        }
    }
    strbuf_cleanup(&msg);
    return 0;
}
