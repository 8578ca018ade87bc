/* log — one line per event, timestamped, levelled, every value quoted by one function. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"

#include "parsers/hl7_charset.h"

#define LINE_MAX_BYTES 16384 /* a longer line is cut, and says so (truncated=true) */
#define VALUE_MAX      2048

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* The settings, changed by log_configure and log_reopen; read by every thread. */
static struct {
    pthread_mutex_t lock; /* guards fd while a line is written or the file reopened */
    int level;            /* atomic: the highest level written */
    int json;             /* atomic */
    int fd;               /* 2 (stderr) or the file */
    char path[4096];      /* "" for stderr */
} log_state = {PTHREAD_MUTEX_INITIALIZER, LOG_INFO, 0, 2, ""};

static int open_log(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        snprintf(err, errlen, "cannot open the log file %s: %s", path, strerror(errno));
    return fd;
}

int log_configure(const char *level, const char *format, const char *path, char *err, size_t errlen)
{
    int lv = -1;
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (level && strcmp(level, level_names[i]) == 0)
            lv = i;
    if (lv < 0 || !format || (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)) {
        snprintf(err, errlen, "log level or format not known");
        return -1;
    }
    int fd = 2;
    if (path && path[0] && (fd = open_log(path, err, errlen)) < 0)
        return -1;
    pthread_mutex_lock(&log_state.lock);
    if (log_state.fd != 2)
        close(log_state.fd);
    log_state.fd = fd;
    snprintf(log_state.path, sizeof log_state.path, "%s", path && path[0] ? path : "");
    __atomic_store_n(&log_state.level, lv, __ATOMIC_RELAXED);
    __atomic_store_n(&log_state.json, strcmp(format, "json") == 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&log_state.lock);
    return 0;
}

int log_reopen(char *err, size_t errlen)
{
    pthread_mutex_lock(&log_state.lock);
    int rc = 0;
    if (log_state.path[0]) {
        int fd = open_log(log_state.path, err, errlen);
        if (fd >= 0) {
            close(log_state.fd);
            log_state.fd = fd;
        }
        rc = fd >= 0 ? 0 : -1; /* the old file stays in use */
    }
    pthread_mutex_unlock(&log_state.lock);
    return rc;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= __atomic_load_n(&log_state.level, __ATOMIC_RELAXED);
}

/* Appends the n bytes of p to out, within cap (one byte kept for the NUL). */
static size_t put(char *out, size_t len, size_t cap, const char *p, size_t n)
{
    if (len + 1 >= cap)
        return len;
    if (n > cap - 1 - len)
        n = cap - 1 - len;
    memcpy(out + len, p, n);
    out[len + n] = '\0';
    return len + n;
}

static bool is_bare(const char *v)
{
    if (!*v)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
            return false;
    return true;
}

/* One character of a quoted value: its escape, or itself. */
static size_t put_escaped(unsigned char c, bool json, char *out, size_t len, size_t cap)
{
    char e[8];
    if (c == '"' || c == '\\')
        return put(out, len, cap, (char[]){'\\', (char)c}, 2);
    if (c == '\n' || c == '\r' || c == '\t')
        return put(out, len, cap, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", 2);
    if (c < 0x20 || c == 0x7f || c >= 0x80) {
        snprintf(e, sizeof e, json ? "\\u%04x" : "\\x%02X", c);
        return put(out, len, cap, e, strlen(e));
    }
    return put(out, len, cap, (const char *)&c, 1);
}

size_t log_quote(const char *v, bool json, char *out, size_t len, size_t cap)
{
    if (!json && is_bare(v))
        return put(out, len, cap, v, strlen(v));
    len = put(out, len, cap, "\"", 1);
    size_t n = strlen(v);
    for (size_t i = 0; i < n;) {
        /* valid UTF-8 goes as it is; a byte that is not (a peer's raw bytes) is escaped */
        size_t seq = (unsigned char)v[i] < 0x80    ? 1
                     : (unsigned char)v[i] >= 0xf0 ? 4
                     : (unsigned char)v[i] >= 0xe0 ? 3
                                                   : 2;
        if ((unsigned char)v[i] >= 0x80 && i + seq <= n && hl7_utf8_check(v + i, seq) == seq) {
            len = put(out, len, cap, v + i, seq);
            i += seq;
            continue;
        }
        len = put_escaped((unsigned char)v[i], json, out, len, cap);
        i++;
    }
    return put(out, len, cap, "\"", 1);
}

/* An argument of one of the types printf conversions take. */
struct arg {
    enum {
        A_STR,
        A_INT,
        A_LONG,
        A_LLONG,
        A_SSIZE,
        A_UINT,
        A_ULONG,
        A_ULLONG,
        A_SIZE,
        A_DOUBLE,
        A_PTR
    } type;
    union {
        const char *s;
        int i;
        long l;
        long long ll;
        ssize_t z;
        unsigned u;
        unsigned long ul;
        unsigned long long ull;
        size_t zu;
        double d;
        void *p;
    } v;
};

/* The type a conversion takes, from its length modifier and conversion character. */
static int arg_type(const char *spec, char conv)
{
    bool ll = strstr(spec, "ll") != NULL, l = !ll && strchr(spec, 'l'), z = strchr(spec, 'z');
    if (conv == 's')
        return A_STR;
    if (conv == 'p')
        return A_PTR;
    if (strchr("fgeEG", conv))
        return A_DOUBLE;
    if (strchr("dic", conv))
        return ll ? A_LLONG : l ? A_LONG : z ? A_SSIZE : A_INT;
    return ll ? A_ULLONG : l ? A_ULONG : z ? A_SIZE : A_UINT;
}

static struct arg take_arg(int type, va_list *ap)
{
    struct arg a = {.type = type};
    switch (type) {
    case A_STR: a.v.s = va_arg(*ap, const char *); break;
    case A_INT: a.v.i = va_arg(*ap, int); break;
    case A_LONG: a.v.l = va_arg(*ap, long); break;
    case A_LLONG: a.v.ll = va_arg(*ap, long long); break;
    case A_SSIZE: a.v.z = va_arg(*ap, ssize_t); break;
    case A_UINT: a.v.u = va_arg(*ap, unsigned); break;
    case A_ULONG: a.v.ul = va_arg(*ap, unsigned long); break;
    case A_ULLONG: a.v.ull = va_arg(*ap, unsigned long long); break;
    case A_SIZE: a.v.zu = va_arg(*ap, size_t); break;
    case A_DOUBLE: a.v.d = va_arg(*ap, double); break;
    default: a.v.p = va_arg(*ap, void *); break;
    }
    return a;
}

/* snprintf of one conversion spec ("%.*s" and the like: its * arguments in star) and a. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void format_arg(char *buf, size_t n, const char *spec, const int *star, int nstar,
                       struct arg a)
{
#define ONE(x)                                                                                     \
    (nstar == 2   ? snprintf(buf, n, spec, star[0], star[1], x)                                    \
     : nstar == 1 ? snprintf(buf, n, spec, star[0], x)                                             \
                  : snprintf(buf, n, spec, x))
    switch (a.type) {
    case A_STR: ONE(a.v.s ? a.v.s : "(null)"); break;
    case A_INT: ONE(a.v.i); break;
    case A_LONG: ONE(a.v.l); break;
    case A_LLONG: ONE(a.v.ll); break;
    case A_SSIZE: ONE(a.v.z); break;
    case A_UINT: ONE(a.v.u); break;
    case A_ULONG: ONE(a.v.ul); break;
    case A_ULLONG: ONE(a.v.ull); break;
    case A_SIZE: ONE(a.v.zu); break;
    case A_DOUBLE: ONE(a.v.d); break;
    default: ONE(a.v.p); break;
    }
#undef ONE
}
#pragma GCC diagnostic pop

/* One printf conversion of fields at *f (just past the '%'), formatted from ap into buf;
 * *number tells whether it was numeric. Advances *f past it. */
static void convert(const char **f, va_list *ap, char *buf, size_t n, bool *number)
{
    char spec[32] = "%";
    size_t k = 1;
    int star[2] = {0, 0}, nstar = 0;
    const char *p = *f;
    while (*p && strchr("-+ #0123456789.*hlzjtL", *p) && k + 2 < sizeof spec) {
        if (*p == '*' && nstar < 2)
            star[nstar++] = va_arg(*ap, int);
        spec[k++] = *p++;
    }
    char conv = *p ? *p++ : 's';
    spec[k++] = conv;
    spec[k] = '\0';
    *f = p;
    *number = strchr("diuxXofgeEG", conv) != NULL;
    if (!strchr("sdicuxXofgeEGp", conv)) {
        snprintf(buf, n, "%%%c", conv);
        return;
    }
    format_arg(buf, n, spec, star, nstar, take_arg(arg_type(spec, conv), ap));
}

/* One field's value: literal text and conversions up to the next space, formatted. */
static const char *value_of(const char *f, va_list *ap, char *val, size_t n, bool *number)
{
    size_t len = 0;
    int parts = 0;
    *number = false;
    val[0] = '\0';
    while (*f && *f != ' ') {
        if (*f == '%' && f[1] == '%') {
            len = put(val, len, n, "%", 1), f += 2, parts++;
        } else if (*f == '%') {
            char piece[VALUE_MAX];
            bool num;
            f++;
            convert(&f, ap, piece, sizeof piece, &num);
            len = put(val, len, n, piece, strlen(piece));
            *number = num && parts++ == 0;
        } else {
            len = put(val, len, n, f++, 1), parts = 2;
        }
    }
    if (parts != 1)
        *number = false;
    return f;
}

/* "ts=... level=... event=..." or the JSON object's first members. */
static size_t head(char *line, size_t cap, bool json, enum log_level level, const char *event)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%03ldZ", ts.tv_nsec / 1000000);
    size_t len = put(line, 0, cap, json ? "{\"ts\":\"" : "ts=", json ? 7 : 3);
    len = put(line, len, cap, when, strlen(when));
    len = put(line, len, cap, json ? "\",\"level\":\"" : " level=", json ? 11 : 7);
    len = put(line, len, cap, level_names[level], strlen(level_names[level]));
    len = put(line, len, cap, json ? "\",\"event\":" : " event=", json ? 10 : 7);
    return log_quote(event, json, line, len, cap);
}

void log_event(enum log_level level, const char *event, const char *fields, ...)
{
    if (!log_enabled(level))
        return;
    static _Thread_local char line[LINE_MAX_BYTES + 32];
    bool json = __atomic_load_n(&log_state.json, __ATOMIC_RELAXED);
    size_t cap = LINE_MAX_BYTES, len = head(line, cap, json, level, event);
    va_list ap;
    va_start(ap, fields);
    for (const char *f = fields; *f;) {
        if (*f == ' ') {
            f++;
            continue;
        }
        const char *eq = strchr(f, '=');
        size_t klen = eq ? (size_t)(eq - f) : strcspn(f, " ");
        static _Thread_local char val[VALUE_MAX], quoted[VALUE_MAX * 6 + 8];
        bool number = false;
        const char *key = f;
        f = eq ? value_of(eq + 1, &ap, val, sizeof val, &number) : f + klen;
        if (!eq)
            snprintf(val, sizeof val, "true");
        size_t q = number && json ? put(quoted, 0, sizeof quoted, val, strlen(val))
                                  : log_quote(val, json, quoted, 0, sizeof quoted);
        if (len + klen + q + 40 >= cap) { /* it does not fit: the line says it was cut */
            len = put(line, len, cap, json ? ",\"truncated\":true" : " truncated=true",
                      json ? 17 : 15);
            break;
        }
        len = put(line, len, cap, json ? ",\"" : " ", json ? 2 : 1);
        len = put(line, len, cap, key, klen);
        len = put(line, len, cap, json ? "\":" : "=", json ? 2 : 1);
        len = put(line, len, cap, quoted, q);
    }
    va_end(ap);
    len = put(line, len, sizeof line, json ? "}\n" : "\n", json ? 2 : 1);
    pthread_mutex_lock(&log_state.lock);
    for (size_t off = 0; off < len;) { /* one write for the whole line, unless interrupted */
        ssize_t w = write(log_state.fd, line + off, len - off);
        if (w <= 0 && errno != EINTR)
            break;
        off += w > 0 ? (size_t)w : 0;
    }
    pthread_mutex_unlock(&log_state.lock);
}
