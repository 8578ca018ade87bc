/*
 * Conformance over the external corpus (../shared/corpus, or $SOLENT_CORPUS):
 * every .hl7/.hl7v2 file, and every file under a BadInputs folder (inputs
 * found by fuzzing other parsers), either parses or is rejected with a code
 * and a reason; every parsed message survives parse -> encode -> parse with
 * the same segments and the same decoded values. Counts of each outcome are
 * printed. Exits 77 (skipped) when the corpus is absent: a user's fresh
 * clone does not have it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/cli_files.h"
#include "parsers/hl7_ack.h"
#include "parsers/hl7_batch.h"
#include "parsers/hl7_charset.h"
#include "parsers/hl7_escape.h"
#include "tests/unit/testutil.h"

#define SKIP 77

struct tally {
    size_t files, messages, parsed, rejected, round_trips;
    size_t clean_rejected; /* rejections in folders of valid samples: must stay 0 */
    size_t by_code[1000];  /* rejections by HL7 table 0357 code */
    char first_failure[4200];
};

static const char *corpus_dir(void)
{
    const char *env = getenv("SOLENT_CORPUS");
    return env && *env ? env : SOLENT_CORPUS_DEFAULT;
}

/* Folders holding real-world samples that must all parse. */
static int is_clean_source(const char *path)
{
    return strstr(path, "/fhir-converter/") || strstr(path, "/hl7-v2-to-fhir/") ||
           strstr(path, "/reportstream/");
}

static void append_leaf(struct strbuf *out, const struct hl7_msg *m, struct hl7_view v)
{
    size_t bad;
    struct strbuf dec;
    strbuf_init(&dec, 1u << 26);
    ck_assert_int_ge(hl7_unescape(&m->enc, v, &dec, &bad), 0);
    ck_assert_int_eq(hl7_escape(&m->enc, dec.p ? dec.p : "", dec.len, out), 0);
    strbuf_cleanup(&dec);
}

/* Rebuilds field f from its decoded leaves, re-escaped. */
static void encode_field(struct strbuf *out, const struct hl7_msg *m, struct hl7_view f)
{
    const struct hl7_enc *e = &m->enc;
    for (uint32_t r = 1; r <= hl7_npieces(f, e->rep); r++) {
        struct hl7_view rv = hl7_piece(f, e->rep, r);
        if (r > 1)
            strbuf_putc(out, e->rep);
        for (uint32_t c = 1; c <= hl7_npieces(rv, e->comp); c++) {
            struct hl7_view cv = hl7_piece(rv, e->comp, c);
            if (c > 1)
                strbuf_putc(out, e->comp);
            for (uint32_t s = 1; s <= hl7_npieces(cv, e->sub); s++) {
                if (s > 1)
                    strbuf_putc(out, e->sub);
                append_leaf(out, m, hl7_piece(cv, e->sub, s));
            }
        }
    }
}

static void encode_message(struct strbuf *out, const struct hl7_msg *m)
{
    for (uint32_t i = 0; i < m->nsegs; i++) {
        const struct hl7_seg *s = &m->segs[i];
        int msh = strcmp(s->name, "MSH") == 0;
        strbuf_puts(out, s->name);
        for (uint32_t n = msh ? 2 : 1; n <= hl7_seg_nfields(m, s); n++) {
            struct hl7_view f = hl7_field(m, s, n);
            strbuf_putc(out, m->enc.field);
            if (msh && n == 2)
                strbuf_append(out, f.p, f.len);
            else
                encode_field(out, m, f);
        }
        strbuf_putc(out, '\r');
    }
}

/* 1 when a field without escapes or control bytes re-encodes to its own bytes. */
static int same_as_raw(const struct hl7_msg *m, struct hl7_view f, const struct strbuf *enc)
{
    for (size_t i = 0; i < f.len; i++)
        if (f.p[i] == m->enc.esc || (m->enc.trunc && f.p[i] == m->enc.trunc) ||
            (unsigned char)f.p[i] < 0x20)
            return 1; /* escapes may legitimately be spelled differently */
    return enc->len == f.len && (f.len == 0 || memcmp(enc->p, f.p, f.len) == 0);
}

/* 1 when every field of a and b decodes to the same text. */
static int same_decoded(const struct hl7_msg *a, const struct hl7_msg *b)
{
    if (a->nsegs != b->nsegs)
        return 0;
    struct strbuf x, y;
    strbuf_init(&x, 1u << 26);
    strbuf_init(&y, 1u << 26);
    int same = 1;
    for (uint32_t i = 0; i < a->nsegs && same; i++) {
        const struct hl7_seg *sa = &a->segs[i], *sb = &b->segs[i];
        same = strcmp(sa->name, sb->name) == 0 && hl7_seg_nfields(a, sa) == hl7_seg_nfields(b, sb);
        for (uint32_t n = 1; same && n <= hl7_seg_nfields(a, sa); n++) {
            strbuf_reset(&x);
            strbuf_reset(&y);
            encode_field(&x, a, hl7_field(a, sa, n));
            encode_field(&y, b, hl7_field(b, sb, n));
            same =
                x.len == y.len && (x.len == 0 || memcmp(x.p, y.p, x.len) == 0) &&
                (strcmp(sa->name, "MSH") == 0 && n <= 2 ? 1
                                                        : same_as_raw(a, hl7_field(a, sa, n), &x));
        }
    }
    strbuf_cleanup(&x);
    strbuf_cleanup(&y);
    return same;
}

/*
 * For a message with no escapes, no truncation character and no conversion,
 * 1 when enc equals the input with blank lines dropped and CR as terminator:
 * nothing was lost or reordered. Other messages: 1 (nothing to compare).
 */
static int same_as_input(const struct hl7_msg *m, const char *p, size_t n, const struct strbuf *enc)
{
    if (m->warnings || hl7_has_high_bytes(p, n))
        return 1;
    struct strbuf norm;
    strbuf_init(&norm, 1u << 28);
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && p[end] != '\r' && p[end] != '\n')
            end++;
        size_t k = i;
        while (k < end && (p[k] == ' ' || p[k] == '\t'))
            k++;
        for (size_t j = k; j < end; j++)
            if (p[j] == m->enc.esc || (m->enc.trunc && p[j] == m->enc.trunc) ||
                (unsigned char)p[j] < 0x20) {
                strbuf_cleanup(&norm);
                return 1;
            }
        if (k < end) {
            strbuf_append(&norm, p + i, end - i);
            strbuf_putc(&norm, '\r');
        }
        i = end + 1;
    }
    int same = norm.len == enc->len && memcmp(norm.p, enc->p, enc->len) == 0;
    strbuf_cleanup(&norm);
    return same;
}

static void check_message(struct tally *t, const char *path, const char *p, size_t n)
{
    struct hl7_msg m, again;
    struct hl7_err err;
    struct hl7_opts o = hl7_opts_default();
    hl7_msg_init(&m);
    t->messages++;
    if (hl7_msg_parse(&m, p, n, &o, &err) != 0) {
        t->rejected++;
        t->by_code[err.code % 1000]++;
        t->clean_rejected += is_clean_source(path) != 0;
        ck_assert_msg(err.code != HL7_OK && err.text[0], "%s: rejected without a reason", path);
        ck_assert_msg(err.offset <= n, "%s: error offset %zu past the end", path, err.offset);
        hl7_msg_cleanup(&m);
        return;
    }
    t->parsed++;
    struct strbuf enc;
    strbuf_init(&enc, 1u << 28);
    encode_message(&enc, &m);
    hl7_msg_init(&again);
    int ok = hl7_msg_parse(&again, enc.p, enc.len, &o, &err) == 0 && same_decoded(&m, &again) &&
             same_as_input(&m, p, n, &enc);
    t->round_trips += ok;
    if (!ok && !t->first_failure[0])
        snprintf(t->first_failure, sizeof t->first_failure, "%s: round trip differs", path);
    hl7_msg_cleanup(&again);
    strbuf_cleanup(&enc);
    hl7_msg_cleanup(&m);
}

static void check_file(struct tally *t, const char *path)
{
    char why[512];
    size_t len;
    char *data = cli_read_file(path, 64u << 20, &len, why, sizeof why);
    ck_assert_msg(data != NULL, "%s", why);
    struct hl7_batch b;
    struct hl7_err err;
    hl7_batch_init(&b);
    t->files++;
    if (cli_split(data, len, 64u << 20, &b, &err) != 0) {
        t->messages++;
        t->rejected++;
        t->by_code[err.code % 1000]++;
        t->clean_rejected += is_clean_source(path) != 0;
        ck_assert_msg(err.text[0], "%s: split failed without a reason", path);
    }
    for (size_t i = 0; i < b.n; i++)
        check_message(t, path, data + b.msgs[i].off, b.msgs[i].len);
    hl7_batch_cleanup(&b);
    free(data);
}

static int wanted(const char *path, const char *name)
{
    size_t n = strlen(name);
    return strstr(path, "/BadInputs/") || (n > 4 && strcmp(name + n - 4, ".hl7") == 0) ||
           (n > 6 && strcmp(name + n - 6, ".hl7v2") == 0);
}

static void walk(struct tally *t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(t, path);
        else if (S_ISREG(st.st_mode) && wanted(path, e->d_name))
            check_file(t, path);
    }
    closedir(d);
}

START_TEST(test_corpus)
{
    struct tally t = {0};
    walk(&t, corpus_dir());
    printf("corpus: %zu files, %zu messages: %zu parsed (%zu round trips identical), "
           "%zu rejected with a reason\n",
           t.files, t.messages, t.parsed, t.round_trips, t.rejected);
    for (int code = 0; code < 1000; code++)
        if (t.by_code[code])
            printf("  rejected with %d %s: %zu\n", code, hl7_code_text((enum hl7_code)code),
                   t.by_code[code]);
    ck_assert_uint_gt(t.files, 0);
    ck_assert_msg(t.round_trips == t.parsed, "%s", t.first_failure);
    ck_assert_msg(t.clean_rejected == 0, "%zu real-world samples rejected", t.clean_rejected);
}
END_TEST

int main(void)
{
    struct stat st;
    if (stat(corpus_dir(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("corpus: %s absent, skipped\n", corpus_dir());
        return SKIP;
    }
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("conformance");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_corpus);
    suite_add_tcase(s, tc);
    return test_run(s);
}
