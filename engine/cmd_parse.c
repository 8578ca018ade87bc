/*
 * cmd_parse — `solent parse FILE|DIR|- ...`: prints each message as a JSON
 * tree, or with --get PATH just the values at those paths, one per line.
 * Errors and warnings go to stderr as one line each, by HL7 position.
 */
#include "engine/cmd_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"
#include "engine/hl7tree.h"
#include "parsers/hl7_batch.h"
#include "parsers/hl7_ack.h"
#include "parsers/hl7_charset.h"
#include "parsers/strbuf.h"

#define MAX_PATHS 64

struct parse_cmd {
    bool raw, compact;
    struct hl7_opts opts;
    struct hl7_path paths[MAX_PATHS];
    size_t npaths;
    const char *file; /* current input, for messages */
    size_t index;     /* current message number in the file, from 1 */
    size_t messages, parsed, rejected, warnings;
    struct hl7_msg msg;
    struct strbuf out;
};

static const char usage[] =
    "usage: solent parse [--raw] [--compact] [--get PATH]... [--charset CS] [--max-size N]\n"
    "                    FILE|DIR|- ...\n"
    "  Prints each message as a JSON tree (segments, fields, repetitions, components),\n"
    "  escapes decoded. --get PID-5[1].1 prints just that value, one line per path\n"
    "  (an empty line where absent). --raw keeps escape sequences as they stand.\n"
    "  --charset sets the character set assumed when MSH-18 is empty (default UTF-8).\n";

int cmd_parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mult = 1;
    if (end == s)
        return -1;
    if (*end == 'K' || *end == 'k')
        mult = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024 * 1024, end++;
    if (*end != '\0' || v == 0 || v > (1ull << 32) / mult)
        return -1;
    *out = (size_t)(v * mult);
    return 0;
}

static void warn_escape(void *arg, const struct hl7_loc *loc)
{
    struct parse_cmd *c = arg;
    char where[64];
    hl7_loc_format(loc, where, sizeof where);
    fprintf(stderr, "%s: message %zu: %s: escape sequence not decoded, kept as text\n", c->file,
            c->index, where);
    c->warnings++;
}

static void report_error(struct parse_cmd *c, const struct hl7_err *err, size_t base)
{
    char where[64];
    hl7_loc_format(&err->loc, where, sizeof where);
    fprintf(stderr, "%s: message %zu: %s: %s (HL7 %d %s, byte %zu)\n", c->file, c->index, where,
            err->text, (int)err->code, hl7_code_text(err->code), base + err->offset);
}

static void print_value(struct parse_cmd *c, const struct hl7_path *p)
{
    struct hl7_view v = hl7_get(&c->msg, p);
    strbuf_reset(&c->out);
    bool leaf = hl7_path_is_leaf(&c->msg, p, v);
    if (hl7tree_text(&c->msg, v, c->raw || !leaf, &c->out) > 0)
        c->warnings++;
    for (size_t i = 0; i < c->out.len; i++) {
        char ch = c->out.p[i];
        if (ch == '\n' || ch == '\r')
            fputs(ch == '\n' ? "\\n" : "\\r", stdout);
        else
            putchar(ch);
    }
    putchar('\n');
}

static void print_message(struct parse_cmd *c)
{
    for (unsigned bit = 1; bit && bit <= c->msg.warnings; bit <<= 1) {
        if (!(c->msg.warnings & bit))
            continue;
        fprintf(stderr, "%s: message %zu: %s\n", c->file, c->index,
                hl7_warning_text((enum hl7_warn)bit));
        c->warnings++;
    }
    if (c->npaths) {
        for (size_t i = 0; i < c->npaths; i++)
            print_value(c, &c->paths[i]);
        return;
    }
    cJSON *tree = hl7tree_build(&c->msg, c->raw, warn_escape, c);
    char *s = c->compact ? cJSON_PrintUnformatted(tree) : cJSON_Print(tree);
    if (!s)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    puts(s);
    cJSON_free(s);
    cJSON_Delete(tree);
}

static void parse_file(struct parse_cmd *c, const char *data, size_t len)
{
    struct hl7_batch b;
    struct hl7_err err;
    hl7_batch_init(&b);
    c->index = 1;
    if (cli_split(data, len, c->opts.limits.max_size, &b, &err) != 0) {
        /* A batch whose counts disagree may have lost messages: none of it is trusted. */
        c->messages++;
        c->rejected++;
        report_error(c, &err, 0);
        b.n = 0;
    }
    for (size_t i = 0; i < b.n; i++) {
        c->index = i + 1;
        c->messages++;
        const struct hl7_batch_msg *bm = &b.msgs[i];
        if (hl7_msg_parse(&c->msg, data + bm->off, bm->len, &c->opts, &err) != 0) {
            c->rejected++;
            report_error(c, &err, bm->off);
            continue;
        }
        c->parsed++;
        print_message(c);
    }
    hl7_batch_cleanup(&b);
}

static int parse_args(struct parse_cmd *c, int argc, char **argv)
{
    static const struct option longopts[] = {{"raw", no_argument, NULL, 'r'},
                                             {"compact", no_argument, NULL, 'c'},
                                             {"get", required_argument, NULL, 'g'},
                                             {"charset", required_argument, NULL, 's'},
                                             {"max-size", required_argument, NULL, 'm'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    char why[160];
    while ((opt = getopt_long(argc, argv, "rcg:s:m:h", longopts, NULL)) != -1) {
        if (opt == 'r') {
            c->raw = true;
        } else if (opt == 'c') {
            c->compact = true;
        } else if (opt == 'g') {
            if (c->npaths == MAX_PATHS)
                return fprintf(stderr, "solent parse: at most %d --get\n", MAX_PATHS), -1;
            if (hl7_path_parse(optarg, &c->paths[c->npaths++], why, sizeof why) != 0)
                return fprintf(stderr, "solent parse: %s: %s\n", optarg, why), -1;
        } else if (opt == 's') {
            if (hl7_charset_from_name(optarg, strlen(optarg), &c->opts.fallback) != 0)
                return fprintf(stderr, "solent parse: unsupported charset %s\n", optarg), -1;
        } else if (opt == 'm') {
            if (cmd_parse_size(optarg, &c->opts.limits.max_size) != 0)
                return fprintf(stderr, "solent parse: bad --max-size %s\n", optarg), -1;
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else {
            return fputs(usage, stderr), -1;
        }
    }
    if (optind >= argc)
        return fputs(usage, stderr), -1;
    return 0;
}

static int run_inputs(struct parse_cmd *c, int argc, char **argv)
{
    struct cli_paths paths;
    char why[512];
    int status = 0;
    cli_paths_init(&paths);
    for (int i = optind; i < argc; i++) {
        if (cli_paths_add(&paths, argv[i], why, sizeof why) != 0)
            fprintf(stderr, "solent parse: %s\n", why), status = 1;
    }
    for (size_t i = 0; i < paths.n; i++) {
        size_t len;
        char *data = cli_read_file(paths.v[i], c->opts.limits.max_size * 4, &len, why, sizeof why);
        c->file = paths.v[i];
        if (!data) {
            fprintf(stderr, "solent parse: %s\n", why);
            status = 1;
            continue;
        }
        parse_file(c, data, len);
        free(data);
    }
    if (paths.n > 1 || c->messages > 1)
        fprintf(stderr,
                "summary: %zu files, %zu messages: %zu parsed, %zu rejected, %zu warnings\n",
                paths.n, c->messages, c->parsed, c->rejected, c->warnings);
    cli_paths_cleanup(&paths);
    return status || c->rejected ? 1 : 0;
}

int cmd_parse_run(int argc, char **argv)
{
    struct parse_cmd c = {.opts = hl7_opts_default()};
    if (parse_args(&c, argc, argv) != 0)
        return 2;
    hl7_msg_init(&c.msg);
    strbuf_init(&c.out, (size_t)-1);
    int status = run_inputs(&c, argc, argv);
    strbuf_cleanup(&c.out);
    hl7_msg_cleanup(&c.msg);
    return status;
}
