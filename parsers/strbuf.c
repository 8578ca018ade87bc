/* strbuf — growable byte buffer with a hard cap. */
#include "parsers/strbuf.h"

#include "parsers/grow.h"

#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void strbuf_cleanup(struct strbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void strbuf_reset(struct strbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

int strbuf_append(struct strbuf *b, const void *data, size_t n)
{
    if (n > b->max - b->len)
        return -1;
    if (b->len + n + 1 > b->cap)
        b->p = grow_array(b->p, &b->cap, b->len + n + 1, 1);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int strbuf_reserve(struct strbuf *b, size_t total)
{
    if (total > b->max)
        return -1;
    if (total + 1 > b->cap)
        b->p = grow_array(b->p, &b->cap, total + 1, 1);
    return 0;
}

int strbuf_puts(struct strbuf *b, const char *s)
{
    return strbuf_append(b, s, strlen(s));
}

int strbuf_putc(struct strbuf *b, char c)
{
    return strbuf_append(b, &c, 1);
}

char *strbuf_take(struct strbuf *b, size_t *len)
{
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *str_printable(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (; *s && k + 5 <= n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        } else {
            out[k++] = (char)c;
        }
    }
    if (n)
        out[k] = '\0';
    return out;
}
