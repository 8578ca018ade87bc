/* cli_files — command-line inputs: path expansion, reading, splitting into messages. */
#include "engine/cli_files.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/conf.h"
#include "engine/crypt.h"
#include "engine/store.h"
#include "parsers/grow.h"
#include "parsers/mllp.h"

void cli_paths_init(struct cli_paths *p)
{
    memset(p, 0, sizeof *p);
}

void cli_paths_cleanup(struct cli_paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    cli_paths_init(p);
}

static void push(struct cli_paths *p, const char *path)
{
    p->v = grow_array(p->v, &p->cap, p->n + 1, sizeof *p->v);
    p->v[p->n] = strdup(path);
    if (!p->v[p->n])
        abort();
    p->n++;
}

static int is_message_file(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".hl7") == 0) ||
           (n > 6 && strcasecmp(name + n - 6, ".hl7v2") == 0);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int add_dir(struct cli_paths *p, const char *dir, char *err, size_t errlen)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        char path[4096];
        struct stat st;
        if (rc == 0 && name[0] != '.' &&
            snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path &&
            stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = add_dir(p, path, err, errlen);
            else if (S_ISREG(st.st_mode) && is_message_file(name))
                push(p, path);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

int cli_paths_add(struct cli_paths *p, const char *arg, char *err, size_t errlen)
{
    struct stat st;
    if (strcmp(arg, "-") == 0) {
        push(p, arg);
        return 0;
    }
    if (stat(arg, &st) != 0) {
        snprintf(err, errlen, "%s: %s", arg, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return add_dir(p, arg, err, errlen);
    push(p, arg);
    return 0;
}

char *cli_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct strbuf b;
    strbuf_init(&b, max);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = strbuf_append(&b, chunk, n);
    if (rc != 0)
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
    else if (ferror(f))
        snprintf(err, errlen, "%s: %s", path, strerror(errno)), rc = -1;
    if (f != stdin)
        fclose(f);
    if (rc != 0) {
        strbuf_cleanup(&b);
        return NULL;
    }
    if (!b.p)
        strbuf_append(&b, "", 0);
    return strbuf_take(&b, len);
}

struct frame_collect {
    const char *base;
    struct hl7_batch *b;
    int oversize;
};

static int collect_frame(void *arg, enum mllp_event ev, const char *p, size_t n)
{
    struct frame_collect *fc = arg;
    if (ev == MLLP_OVERSIZE) {
        fc->oversize = 1;
        return 1;
    }
    hl7_batch_push(fc->b, (size_t)(p - fc->base), n);
    return 0;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\r' && p[i] != '\n' && p[i] != '\t')
            return 0;
    return 1;
}

int cli_split(const char *data, size_t len, size_t max_frame, struct hl7_batch *b,
              struct hl7_err *err)
{
    size_t i = 0;
    while (i < len && is_blank(data + i, 1))
        i++;
    if (i == len || data[i] != MLLP_VT)
        return hl7_batch_split(b, data, len, err);
    /* One feed of the whole file: every frame is a view into data. */
    struct mllp_framer f;
    struct frame_collect fc = {data, b, 0};
    b->n = 0;
    mllp_init(&f, max_frame);
    mllp_feed(&f, data, len, collect_frame, &fc);
    /* A file may end inside its last frame (no <FS><CR>): take it as it is. */
    const char *last = memrchr(data, MLLP_VT, len);
    size_t tail = last ? (size_t)(last + 1 - data) : len;
    if (!fc.oversize && mllp_in_frame(&f) && !is_blank(data + tail, len - tail))
        hl7_batch_push(b, tail, len - tail);
    int truncated = f.truncated > 0;
    mllp_cleanup(&f);
    if (!fc.oversize && !truncated)
        return 0;
    memset(err, 0, sizeof *err);
    err->code = HL7_E_TOO_LONG;
    snprintf(err->text, sizeof err->text, "%s",
             fc.oversize ? "MLLP frame exceeds the maximum message size"
                         : "MLLP frame not terminated by <FS><CR>");
    if (!fc.oversize)
        err->code = HL7_E_SEGMENT_SEQUENCE;
    return -1;
}

static void corpus_add(struct cli_corpus *c, const char *p, size_t n)
{
    size_t cap = c->cap;
    c->data = grow_array(c->data, &c->cap, c->n + 1, sizeof *c->data);
    c->len = grow_array(c->len, &cap, c->n + 1, sizeof *c->len);
    size_t mcap = 0;
    c->data[c->n] = grow_array(NULL, &mcap, n + 1, 1);
    memcpy(c->data[c->n], p, n);
    c->len[c->n++] = n;
    c->bytes += n;
}

void cli_corpus_free(struct cli_corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->data[i]);
    free(c->data);
    free(c->len);
}

int cli_corpus_load(struct cli_corpus *c, const struct cli_paths *paths, const char *prog)
{
    struct hl7_batch b;
    hl7_batch_init(&b);
    for (size_t i = 0; i < paths->n; i++) {
        char why[512];
        size_t len;
        struct hl7_err err;
        char *data = cli_read_file(paths->v[i], 64u << 20, &len, why, sizeof why);
        if (!data) {
            fprintf(stderr, "%s: %s\n", prog, why);
            continue;
        }
        if (cli_split(data, len, 64u << 20, &b, &err) == 0)
            for (size_t k = 0; k < b.n; k++)
                corpus_add(c, data + b.msgs[k].off, b.msgs[k].len);
        free(data);
    }
    hl7_batch_cleanup(&b);
    return c->n ? 0 : -1;
}

int64_t cli_parse_since(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end != s && end[0] && !end[1] && strchr("smhd", end[0]) && v >= 0) {
        double unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
        return ((int64_t)time(NULL) - (int64_t)(v * unit)) * 1000;
    }
    struct tm tm = {0};
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (rest && *rest == 'T')
        rest = strptime(rest + 1, "%H:%M", &tm);
    if (rest && *rest == ':')
        rest = strptime(rest + 1, "%S", &tm);
    if (!rest || *rest)
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

struct store *cli_store_open(const struct conf *c, const char *cmd)
{
    char err[512];
    struct store *s = NULL;
    if (!(s = store_open_existing(&c->store, err, sizeof err)))
        fprintf(stderr, "solent %s: %s\n", cmd, err);
    return s;
}

const char *cli_user(char *out, size_t n)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        snprintf(out, n, "%s", found->pw_name);
    else
        snprintf(out, n, "uid:%u", (unsigned)getuid());
    return out;
}
