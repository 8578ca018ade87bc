/* route — matching messages against the routing table. */
#include "routes/route.h"

#include <stdio.h>
#include <string.h>

#include "parsers/hl7_escape.h"

bool route_glob(const char *pattern, const char *text, size_t n)
{
    /* Iterative glob with one backtrack point: linear in practice, no recursion. */
    const char *star = NULL;
    size_t i = 0, mark = 0;
    while (i < n) {
        if (*pattern == '*') {
            star = pattern++;
            mark = i;
        } else if (*pattern && *pattern == text[i]) {
            pattern++;
            i++;
        } else if (star) {
            pattern = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

/* The first k components of field v, where k is the number of components in pattern. */
static struct hl7_view leading(const struct hl7_msg *m, struct hl7_view v, const char *pattern)
{
    uint32_t k = 1;
    for (const char *p = pattern; *p; p++)
        k += *p == '^';
    const char *end = v.p;
    for (uint32_t c = 0; v.p && c < k; c++) {
        const char *sep = memchr(end, m->enc.comp, (size_t)(v.p + v.len - end));
        if (!sep || c + 1 == k) {
            end = sep && c + 1 == k ? sep : v.p + v.len;
            break;
        }
        end = sep + 1;
    }
    struct hl7_view r = {v.p ? v.p : "", v.p ? (size_t)(end - v.p) : 0};
    return r;
}

/* True when the MSH field n matches pattern (NULL or "*": anything). The pattern is written
 * with ^ between components; the message may use another component separator. */
static bool field_matches(const struct hl7_msg *m, uint32_t n, const char *pattern)
{
    if (!pattern || strcmp(pattern, "*") == 0)
        return true;
    struct hl7_view v = leading(m, hl7_piece(hl7_field(m, &m->segs[0], n), m->enc.rep, 1), pattern);
    char text[256];
    size_t len = v.len < sizeof text ? v.len : sizeof text - 1;
    for (size_t i = 0; i < len; i++) /* normalise to ^ so the pattern reads the same */
        text[i] = v.p[i] == m->enc.comp ? '^' : v.p[i];
    return route_glob(pattern, text, len);
}

static bool pred_holds(const struct route_pred *p, const struct hl7_msg *m)
{
    struct hl7_view v = hl7_get(m, &p->path);
    char buf[256];
    struct strbuf out = {buf, 0, sizeof buf, sizeof buf - 1};
    size_t bad;
    buf[0] = '\0';
    if (v.p && hl7_unescape(&m->enc, v, &out, &bad) < 0)
        out.len = 0, buf[0] = '\0';
    bool equal = strcmp(buf, p->value) == 0;
    return p->negate ? !equal : equal;
}

bool route_matches(const struct route_rule *r, const char *listener, const struct hl7_msg *m)
{
    bool on_listener = r->nlisteners == 0;
    for (size_t i = 0; i < r->nlisteners && !on_listener; i++)
        on_listener = listener && strcmp(r->listeners[i], listener) == 0;
    if (!on_listener || !m->has_header || !field_matches(m, 3, r->sending_app) ||
        !field_matches(m, 4, r->sending_facility) || !field_matches(m, 5, r->receiving_app) ||
        !field_matches(m, 6, r->receiving_facility) || !field_matches(m, 9, r->type) ||
        !field_matches(m, 12, r->version))
        return false;
    for (size_t i = 0; i < r->npreds; i++)
        if (!pred_holds(&r->preds[i], m))
            return false;
    return true;
}

const struct route_rule *route_match(const struct route_rule *rules, size_t n, const char *listener,
                                     const struct hl7_msg *m)
{
    for (size_t i = 0; i < n; i++)
        if (route_matches(&rules[i], listener, m))
            return &rules[i];
    return NULL;
}

int route_pred_parse(const char *text, struct route_pred *p, char *err, size_t errlen)
{
    char path[64];
    const char *op = strstr(text, "!=");
    p->negate = op != NULL;
    if (!op)
        op = strchr(text, '=');
    if (!op) {
        snprintf(err, errlen, "a where predicate is PATH = VALUE or PATH != VALUE");
        return -1;
    }
    size_t plen = (size_t)(op - text);
    while (plen > 0 && (text[plen - 1] == ' ' || text[plen - 1] == '\t'))
        plen--;
    const char *value = op + (p->negate ? 2 : 1);
    while (*value == ' ' || *value == '\t')
        value++;
    if (plen == 0 || plen >= sizeof path || strlen(value) >= sizeof p->value) {
        snprintf(err, errlen, "a where predicate's path or value is empty or too long");
        return -1;
    }
    memcpy(path, text, plen);
    path[plen] = '\0';
    snprintf(p->value, sizeof p->value, "%s", value);
    return hl7_path_parse(path, &p->path, err, errlen);
}
