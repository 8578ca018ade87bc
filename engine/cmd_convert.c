/*
 * cmd_convert — `solent convert FILE|DIR|- ...`: each message to a FHIR R4
 * transaction Bundle on stdout (one per line; --pretty for humans). Errors,
 * warnings and, with --explain, every populated field no mapper consumed go
 * to stderr by HL7 position, never with message content.
 */
#include "engine/cmd_convert.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli_files.h"
#include "engine/codemap.h"
#include "engine/conf.h"
#include "engine/cmd_parse.h"
#include "engine/zoneinfo.h"
#include "parsers/hl7_ack.h"
#include "parsers/hl7_batch.h"
#include "parsers/hl7_charset.h"
#include "transforms/transform.h"
#include "transforms/xf_json.h"

#define MAX_IDENTS 32

#define MAX_CODE_MAPS 16

struct convert_cmd {
    bool pretty, explain;
    struct hl7_opts opts;
    struct xf_ident_rule idents[MAX_IDENTS];
    struct xf_config cfg;
    const struct xf_config *use; /* cfg, or the configuration file's (-c) */
    const char *listener;        /* -c: the listener messages are routed as arriving on */
    struct conf *conf;           /* -c FILE */
    struct dt_zone zone;         /* --tz */
    struct codemap codes[MAX_CODE_MAPS];
    struct xf_code_map maps[MAX_CODE_MAPS];
    const char *file;
    size_t index, messages, converted, failed;
    uint64_t populated, unmapped; /* --explain: over the messages converted */
    struct hl7_msg msg;
};

static const char usage[] =
    "usage: solent convert [--pretty] [--explain] [-c FILE [--listener NAME] |\n"
    "                      [--ident AUTHORITY[:TYPE]=URI]... [--tz ZONE] [--patient-key SYSTEM]\n"
    "                      [--codes LOCAL_SYSTEM=FILE.csv]...] [--charset CS] FILE|DIR|- ...\n"
    "  Prints each message as a FHIR R4 transaction Bundle, one per line (--pretty: indented).\n"
    "  -c FILE converts as the engine would under that configuration: its [identifiers],\n"
    "  [codes], site_tz, max_repetitions and the patient_key of the route each message takes\n"
    "  (as arriving on --listener NAME); the options below are then not taken.\n"
    "  --patient-key SYSTEM keys the Patient by the identifier of that system (default: the\n"
    "  sender's own identifier, type MR first, before the NHS number).\n"
    "  --explain also reports on stderr every populated field the mapping did not use, and\n"
    "  at the end how many of the populated fields of the messages converted that is.\n"
    "  --ident maps an assigning authority (CX-4), and optionally a type (CX-5), to an\n"
    "  identifier system URI, e.g. --ident RHM:MR=https://fhir.example.nhs.uk/Id/mrn\n"
    "  --tz is the site time zone for times without an offset (default Europe/London).\n"
    "  --codes adds, to each code of a local coding system (CWE-3), the standard coding a CSV\n"
    "  map gives it (local_code,system,code,display), as [codes] does in the config file.\n";

static void report(struct convert_cmd *c, const char *kind, const struct xf_problem *p)
{
    char where[64];
    hl7_loc_format(&p->loc, where, sizeof where);
    if (p->code)
        fprintf(stderr, "%s: message %zu: %s %s: %s (HL7 %d %s)\n", c->file, c->index, kind, where,
                p->text, p->code, hl7_code_text((enum hl7_code)p->code));
    else
        fprintf(stderr, "%s: message %zu: %s %s: %s\n", c->file, c->index, kind, where, p->text);
}

/* The unmapped fields of the ledger (xf_ledger), each on its own line. */
static void explain(struct convert_cmd *c, const struct xf_ctx *x)
{
    struct strbuf ledger;
    uint32_t nwarn, nunmapped;
    strbuf_init(&ledger, (size_t)-1);
    xf_ledger(x, true, &ledger, &nwarn, &nunmapped);
    c->unmapped += nunmapped;
    c->populated += xf_populated(x);
    for (char *line = ledger.p, *end; line && *line; line = end + 1) {
        end = strchr(line, '\n');
        *end = '\0';
        if (strncmp(line, "unmapped ", 9) == 0)
            fprintf(stderr, "%s: message %zu: %s\n", c->file, c->index, line);
    }
    strbuf_cleanup(&ledger);
}

static void convert_message(struct convert_cmd *c)
{
    struct xf_ctx x;
    cJSON *bundle;
    struct xf_config routed;
    if (c->conf) { /* the route the engine would take decides the Patient's key */
        const struct router *rt = &c->conf->router;
        const struct route_rule *rule = route_match(rt->rules, rt->n, c->listener, &c->msg);
        routed = conf_xf_route(c->conf, rule ? router_route(rt, rule) : NULL);
    }
    xf_init(&x, &c->msg, c->conf ? &routed : c->use);
    int rc = transform_run(&x, &bundle);
    for (size_t i = 0; i < x.nwarnings; i++)
        report(c, "warning", &x.warnings[i]);
    if (c->explain && rc == 0) /* a message refused: its mapping stopped at the error */
        explain(c, &x);
    if (rc != 0) {
        report(c, "error", &x.error);
        c->failed++;
    } else {
        if (c->pretty) {
            char *s = cJSON_Print(bundle);
            if (!s)
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
            puts(s);
            cJSON_free(s);
        } else {
            struct strbuf out;
            strbuf_init(&out, (size_t)-1);
            xf_json_write(bundle, &out);
            puts(out.p);
            strbuf_cleanup(&out);
        }
        c->converted++;
    }
    xf_cleanup(&x);
}

static void convert_file(struct convert_cmd *c, const char *data, size_t len)
{
    struct hl7_batch b;
    struct hl7_err err;
    hl7_batch_init(&b);
    c->index = 1;
    if (cli_split(data, len, c->opts.limits.max_size, &b, &err) != 0) {
        fprintf(stderr, "%s: %s\n", c->file, err.text);
        c->messages++, c->failed++;
        b.n = 0;
    }
    for (size_t i = 0; i < b.n; i++) {
        c->index = i + 1;
        c->messages++;
        if (hl7_msg_parse(&c->msg, data + b.msgs[i].off, b.msgs[i].len, &c->opts, &err) != 0) {
            char where[64];
            hl7_loc_format(&err.loc, where, sizeof where);
            fprintf(stderr, "%s: message %zu: error %s: %s (HL7 %d %s)\n", c->file, c->index, where,
                    err.text, (int)err.code, hl7_code_text(err.code));
            c->failed++;
            continue;
        }
        convert_message(c);
    }
    hl7_batch_cleanup(&b);
}

/* AUTHORITY=URI or AUTHORITY:TYPE=URI (e.g. RHM:MR=https://...); rules added here are
 * tried before the built-in NHS ones. */
static int add_ident(struct convert_cmd *c, char *arg)
{
    char *eq = strchr(arg, '='), *colon = strchr(arg, ':');
    if (!eq || eq == arg || !eq[1] || c->cfg.nidents == MAX_IDENTS)
        return -1;
    *eq = '\0';
    if (colon && colon < eq)
        *colon = '\0';
    memmove(c->idents + 1, c->idents, c->cfg.nidents * sizeof *c->idents);
    c->idents[0] = (struct xf_ident_rule){arg, colon && colon < eq ? colon + 1 : NULL, eq + 1};
    c->cfg.nidents++;
    return 0;
}

/* LOCAL_SYSTEM=FILE.csv */
static int add_codes(struct convert_cmd *c, char *arg)
{
    char *eq = strchr(arg, '='), why[512];
    if (!eq || eq == arg || !eq[1] || c->cfg.nmaps == MAX_CODE_MAPS)
        return fprintf(stderr, "solent convert: --codes wants LOCAL_SYSTEM=FILE.csv\n"), -1;
    *eq = '\0';
    struct codemap *m = &c->codes[c->cfg.nmaps];
    if (codemap_load(m, eq + 1, why, sizeof why) != 0)
        return fprintf(stderr, "solent convert: %s\n", why), -1;
    c->maps[c->cfg.nmaps++] = (struct xf_code_map){arg, m->rows, m->n};
    return 0;
}

static int parse_args(struct convert_cmd *c, int argc, char **argv)
{
    static const struct option longopts[] = {{"pretty", no_argument, NULL, 'p'},
                                             {"explain", no_argument, NULL, 'e'},
                                             {"ident", required_argument, NULL, 'i'},
                                             {"tz", required_argument, NULL, 'z'},
                                             {"codes", required_argument, NULL, 'm'},
                                             {"charset", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"listener", required_argument, NULL, 'l'},
                                             {"patient-key", required_argument, NULL, 'k'},
                                             {NULL, 0, NULL, 0}};
    const char *conf_path = NULL;
    char why[512];
    int opt;
    while ((opt = getopt_long(argc, argv, "pei:z:s:hm:c:l:k:", longopts, NULL)) != -1) {
        if (opt == 'p')
            c->pretty = true;
        else if (opt == 'e')
            c->explain = true;
        else if (opt == 'i' && add_ident(c, optarg) != 0)
            return fprintf(stderr, "solent convert: --ident wants AUTHORITY=URI\n"), -1;
        else if (opt == 'm' && add_codes(c, optarg) != 0)
            return -1;
        else if (opt == 'z')
            c->cfg.site_tz = optarg;
        else if (opt == 'c')
            conf_path = optarg;
        else if (opt == 'l')
            c->listener = optarg;
        else if (opt == 'k')
            c->cfg.patient_key = optarg;
        else if (opt == 's' && hl7_charset_from_name(optarg, strlen(optarg), &c->opts.fallback))
            return fprintf(stderr, "solent convert: unsupported charset %s\n", optarg), -1;
        else if (opt == 'h')
            fputs(usage, stdout), exit(0);
        else if (opt == '?')
            return fputs(usage, stderr), -1;
    }
    if (optind >= argc)
        return fputs(usage, stderr), -1;
    if (conf_path && (c->cfg.nidents != xf_config_default()->nidents || c->cfg.nmaps ||
                      c->cfg.site_tz != xf_config_default()->site_tz || c->cfg.patient_key))
        return fputs("solent convert: -c FILE, or --ident, --tz, --codes and --patient-key: "
                     "not both\n",
                     stderr),
               -1;
    if (conf_path && !(c->conf = conf_load(conf_path, why, sizeof why)))
        return fprintf(stderr, "solent convert: %s\n", why), -1;
    if (c->conf) {
        c->use = conf_xf(c->conf);
        return 0;
    }
    if (zoneinfo_load(&c->zone, c->cfg.site_tz, why, sizeof why) != 0)
        return fprintf(stderr, "solent convert: %s\n", why), -1;
    c->cfg.zone = &c->zone;
    c->use = &c->cfg;
    return 0;
}

int cmd_convert_run(int argc, char **argv)
{
    struct convert_cmd c = {.opts = hl7_opts_default()};
    const struct xf_config *def = xf_config_default();
    memcpy(c.idents, def->idents, def->nidents * sizeof *def->idents);
    c.cfg = (struct xf_config){.idents = c.idents,
                               .nidents = def->nidents,
                               .site_tz = def->site_tz,
                               .maps = c.maps,
                               .max_repetitions = XF_MAX_REPETITIONS};
    int status = 0;
    if (parse_args(&c, argc, argv) != 0) {
        status = 2;
        goto out;
    }
    struct cli_paths paths;
    char why[512];
    hl7_msg_init(&c.msg);
    cli_paths_init(&paths);
    for (int i = optind; i < argc; i++)
        if (cli_paths_add(&paths, argv[i], why, sizeof why) != 0)
            fprintf(stderr, "solent convert: %s\n", why), status = 1;
    for (size_t i = 0; i < paths.n; i++) {
        size_t len;
        char *data = cli_read_file(paths.v[i], c.opts.limits.max_size * 4, &len, why, sizeof why);
        c.file = paths.v[i];
        if (!data) {
            fprintf(stderr, "solent convert: %s\n", why), status = 1;
            continue;
        }
        convert_file(&c, data, len);
        free(data);
    }
    if (paths.n > 1 || c.messages > 1)
        fprintf(stderr, "summary: %zu files, %zu messages: %zu converted, %zu failed\n", paths.n,
                c.messages, c.converted, c.failed);
    if (c.explain && c.populated)
        fprintf(stderr, "explain: %llu of %llu populated fields unmapped (%.1f%%)\n",
                (unsigned long long)c.unmapped, (unsigned long long)c.populated,
                100.0 * (double)c.unmapped / (double)c.populated);
    cli_paths_cleanup(&paths);
    hl7_msg_cleanup(&c.msg);
    status = status || c.failed ? 1 : 0;
out:
    for (size_t i = 0; i < c.cfg.nmaps; i++)
        codemap_free(&c.codes[i]);
    dt_zone_cleanup(&c.zone);
    conf_free(c.conf);
    return status;
}
