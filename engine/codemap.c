/* codemap — CSV code maps for [codes]: parsed in place, sorted for bsearch. */
#include "engine/codemap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/cli_files.h"
#include "parsers/grow.h"

#define COLUMNS   4
#define MAX_BYTES (64 << 20) /* a code map larger than this is a mistake, not a map */

/* Splits one line (NUL-terminated, no newline) into fields in place; the field count, or
 * -1 for an unterminated quote. */
static int split(char *line, char *fields[COLUMNS + 1])
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *out = p, *start = p;
        if (*p == '"') { /* quoted: "" is a quote, the field ends at the closing quote */
            start = out = ++p;
            for (;; p++) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"')
                    *out++ = '"', p++;
                else if (*p == '"')
                    break;
                else
                    *out++ = *p;
            }
            p++;
        } else {
            while (*p && *p != ',')
                p++;
            out = p;
        }
        char end = *p;
        *out = '\0';
        if (n <= COLUMNS)
            fields[n] = start;
        n++;
        if (end != ',')
            return n;
        p++;
    }
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const struct xf_code_entry *)a)->code, ((const struct xf_code_entry *)b)->code);
}

/* A device or a FIFO never ends: a code map must be a regular file. */
static int is_regular(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        snprintf(err, errlen, "%s: not a regular file", path);
    return S_ISREG(st.st_mode);
}

int codemap_load(struct codemap *m, const char *path, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    size_t len, rcap = 0;
    if (!is_regular(path, err, errlen) ||
        !(m->buf = cli_read_file(path, MAX_BYTES, &len, err, errlen)))
        return -1;
    int line = 0;
    bool header = true;
    for (char *p = m->buf, *next; p < m->buf + len; p = next) {
        line++;
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : m->buf + len;
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[--l] = '\0';
        if (!l)
            continue;
        char *fld[COLUMNS + 1];
        int n = split(p, fld);
        if (n != COLUMNS) {
            snprintf(err, errlen, "%s:%d: %s", path, line,
                     n < 0 ? "a quoted field does not end"
                           : "expected 4 columns: local_code,system,code,display");
            codemap_free(m);
            return -1;
        }
        if (header) {
            header = false;
            if (strcmp(fld[0], "local_code") || strcmp(fld[1], "system") ||
                strcmp(fld[2], "code") || strcmp(fld[3], "display")) {
                snprintf(err, errlen,
                         "%s:%d: the first line must be local_code,system,code,display", path,
                         line);
                codemap_free(m);
                return -1;
            }
            continue;
        }
        if (!fld[0][0] || !fld[2][0] || !strchr(fld[1], ':')) {
            snprintf(err, errlen, "%s:%d: %s", path, line,
                     strchr(fld[1], ':') ? "local_code and code must not be empty"
                                         : "system must be a URI (http://loinc.org, urn:oid:...)");
            codemap_free(m);
            return -1;
        }
        m->rows = grow_array(m->rows, &rcap, m->n + 1, sizeof *m->rows);
        m->rows[m->n++] = (struct xf_code_entry){fld[0], fld[1], fld[2], fld[3][0] ? fld[3] : NULL};
    }
    if (header) {
        snprintf(err, errlen, "%s: empty: the first line must be local_code,system,code,display",
                 path);
        codemap_free(m);
        return -1;
    }
    if (m->n) /* an empty map (header only) has no rows to sort */
        qsort(m->rows, m->n, sizeof *m->rows, by_code);
    for (size_t i = 1; i < m->n; i++)
        if (strcmp(m->rows[i].code, m->rows[i - 1].code) == 0) {
            snprintf(err, errlen, "%s: local code %s is mapped twice", path, m->rows[i].code);
            codemap_free(m);
            return -1;
        }
    return 0;
}

void codemap_free(struct codemap *m)
{
    free(m->buf);
    free(m->rows);
    memset(m, 0, sizeof *m);
}
