/* xf_json — a compact cJSON serialiser into a strbuf. */
#include "transforms/xf_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 1 for the bytes a JSON string must escape (quote, backslash, controls) and for NUL,
 * which ends the scan. */
static const unsigned char stop[256] = {
    [0] = 1,  [1] = 1,  [2] = 1,  [3] = 1,  [4] = 1,  [5] = 1,   [6] = 1,    [7] = 1,  [8] = 1,
    [9] = 1,  [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1,  [15] = 1,   [16] = 1, [17] = 1,
    [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1,  [24] = 1,   [25] = 1, [26] = 1,
    [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, ['"'] = 1, ['\\'] = 1,
};

/* One byte, with the common case (room left) inline: the serialiser writes many. */
static inline int put(struct strbuf *out, char c)
{
    if (out->len + 1 < out->cap) {
        out->p[out->len++] = c;
        out->p[out->len] = '\0';
        return 0;
    }
    return strbuf_putc(out, c);
}

static int write_string(const char *s, struct strbuf *out)
{
    static const char hex[] = "0123456789abcdef";
    if (put(out, '"') != 0)
        return -1;
    for (;;) {
        size_t run = 0;
        while (!stop[(unsigned char)s[run]])
            run++;
        if (strbuf_append(out, s, run) != 0)
            return -1;
        s += run;
        if (!*s)
            break;
        unsigned char c = (unsigned char)*s++;
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                             : NULL;
        char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
        if (strbuf_puts(out, short_form ? short_form : u) != 0)
            return -1;
    }
    return put(out, '"');
}

static int write_number(double d, struct strbuf *out)
{
    char buf[32];
    if (isnan(d) || isinf(d))
        return strbuf_puts(out, "null");
    if (d == (double)(long long)d && fabs(d) < 1e15)
        snprintf(buf, sizeof buf, "%lld", (long long)d);
    else
        snprintf(buf, sizeof buf, "%1.17g", d);
    return strbuf_puts(out, buf);
}

static int write_members(const cJSON *item, struct strbuf *out, int object)
{
    if (put(out, object ? '{' : '[') != 0)
        return -1;
    for (const cJSON *c = item->child; c; c = c->next) {
        if (c != item->child && put(out, ',') != 0)
            return -1;
        if (object && (write_string(c->string, out) != 0 || put(out, ':') != 0))
            return -1; /* keys are short literals: the general path is fine */
        if (xf_json_write(c, out) != 0)
            return -1;
    }
    return put(out, object ? '}' : ']');
}

int xf_json_write(const cJSON *item, struct strbuf *out)
{
    switch (item->type & 0xFF) {
    case cJSON_Object: return write_members(item, out, 1);
    case cJSON_Array: return write_members(item, out, 0);
    case cJSON_String: return write_string(item->valuestring, out);
    case cJSON_Raw: return strbuf_puts(out, item->valuestring);
    case cJSON_Number: return write_number(item->valuedouble, out);
    case cJSON_True: return strbuf_puts(out, "true");
    case cJSON_False: return strbuf_puts(out, "false");
    default: return strbuf_puts(out, "null");
    }
}
