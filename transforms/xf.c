/* xf — the transform context: configuration, problems, consumed fields, decoded text. */
#include "transforms/xf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/grow.h"
#include "parsers/hl7_escape.h"
#include "transforms/xf_arena.h"

static const struct xf_ident_rule default_idents[] = {
    {"NHS", NULL, XF_NHS_SYSTEM},
    {NULL, "NH", XF_NHS_SYSTEM},
};

static const struct xf_config default_config = {
    .idents = default_idents,
    .nidents = sizeof default_idents / sizeof default_idents[0],
    .site_tz = "Europe/London",
    .max_repetitions = XF_MAX_REPETITIONS,
};

int xf_key_rank(const struct xf_config *cfg, const char *system, const char *type)
{
    if (!system)
        return 0;
    if (cfg->patient_key)
        return strcmp(system, cfg->patient_key) == 0;
    if (strcmp(system, XF_NHS_SYSTEM) == 0)
        return 1;
    return type && strcmp(type, "MR") == 0 ? 3 : 2;
}

const struct xf_config *xf_config_default(void)
{
    return &default_config;
}

cJSON *xf_put(cJSON *obj, const char *key, cJSON *item)
{
    cJSON_AddItemToObjectCS(obj, key, item);
    return item;
}

cJSON *xf_put_str(cJSON *obj, const char *key, const char *value)
{
    return xf_put(obj, key, cJSON_CreateString(value));
}

cJSON *xf_put_array(cJSON *obj, const char *key)
{
    return xf_put(obj, key, cJSON_CreateArray());
}

cJSON *xf_put_object(cJSON *obj, const char *key)
{
    return xf_put(obj, key, cJSON_CreateObject());
}

size_t xf_copy(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    size_t k = len < n ? len : n - 1;
    if (k)
        memcpy(dst, src, k);
    dst[k] = '\0';
    return len;
}

void xf_add_extension(cJSON *obj, const char *url, const char *value_key, cJSON *value)
{
    if (!value)
        return;
    cJSON *e = cJSON_CreateObject();
    xf_put_str(e, "url", url);
    xf_put(e, value_key, value);
    xf_append(obj, "extension", e);
}

cJSON *xf_object(cJSON *obj, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(o) ? o : xf_put_object(obj, key);
}

cJSON *xf_put_bool(cJSON *obj, const char *key, int value)
{
    return xf_put(obj, key, cJSON_CreateBool(value));
}

cJSON *xf_put_number(cJSON *obj, const char *key, double value)
{
    return xf_put(obj, key, cJSON_CreateNumber(value));
}

cJSON *xf_put_raw(cJSON *obj, const char *key, const char *json)
{
    return xf_put(obj, key, cJSON_CreateRaw(json));
}

cJSON *xf_append(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return NULL;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, key);
    cJSON_AddItemToArray(list ? list : xf_put_array(obj, key), item);
    return item;
}

void xf_init(struct xf_ctx *x, const struct hl7_msg *m, const struct xf_config *cfg)
{
    /* Field by field: the warnings array is ~10 KB and only nwarnings of it is ever read. */
    xf_arena_begin();
    x->msg = m;
    x->cfg = cfg;
    x->entries = cJSON_CreateArray();
    x->patient_ref[0] = x->patient_key[0] = x->encounter_ref[0] = '\0';
    x->patient_ident = NULL;
    x->nwarnings = 0;
    memset(&x->error, 0, sizeof x->error);
    x->seed_len = 0;
    size_t cap = 0;
    x->used = grow_array(NULL, &cap, m->nsegs ? m->nsegs : 1, sizeof *x->used);
    memset(x->used, 0, (m->nsegs ? m->nsegs : 1) * sizeof *x->used);
    strbuf_init(&x->tmp, m->len + 64);
}

void xf_cleanup(struct xf_ctx *x)
{
    free(x->used); /* entries live in the arena: released with it */
    strbuf_cleanup(&x->tmp);
    x->entries = NULL;
    x->used = NULL;
    xf_arena_end();
}

static void set_problem(struct xf_ctx *x, struct xf_problem *p, const struct hl7_seg *s,
                        uint32_t field, int code, const char *text)
{
    memset(p, 0, sizeof *p);
    if (s) {
        memcpy(p->loc.seg, s->name, 4);
        p->loc.seq = hl7_seg_seq(x->msg, s);
        p->loc.field = field;
    }
    p->code = code;
    xf_copy(p->text, sizeof p->text, text);
}

void xf_warn(struct xf_ctx *x, const struct hl7_seg *s, uint32_t field, const char *text)
{
    if (x->nwarnings < XF_MAX_WARNINGS)
        set_problem(x, &x->warnings[x->nwarnings++], s, field, 0, text);
}

void xf_warn_at(struct xf_ctx *x, struct hl7_view v, const char *text)
{
    if (x->nwarnings == XF_MAX_WARNINGS)
        return;
    struct xf_problem *p = &x->warnings[x->nwarnings];
    memset(p, 0, sizeof *p);
    if (v.p && v.p >= x->msg->buf && v.p < x->msg->buf + x->msg->len)
        hl7_locate(x->msg, (size_t)(v.p - x->msg->buf), &p->loc);
    xf_copy(p->text, sizeof p->text, text);
    for (size_t i = 0; i < x->nwarnings; i++) /* a value read twice is warned about once */
        if (memcmp(&x->warnings[i].loc, &p->loc, sizeof p->loc) == 0 &&
            strcmp(x->warnings[i].text, p->text) == 0)
            return;
    x->nwarnings++;
}

int xf_fail(struct xf_ctx *x, const struct hl7_seg *s, uint32_t field, int code, const char *text)
{
    if (x->error.code == 0)
        set_problem(x, &x->error, s, field, code, text);
    return -1;
}

struct hl7_view xf_take(struct xf_ctx *x, const struct hl7_seg *s, uint32_t n)
{
    struct hl7_view v = hl7_field(x->msg, s, n);
    if (s && n > 0 && n < XF_MAX_FIELDS) {
        size_t i = (size_t)(s - x->msg->segs);
        x->used[i][n / 8] |= (unsigned char)(1u << (n % 8));
    }
    if (!xf_has(v))
        v.p = NULL, v.len = 0;
    return v;
}

bool xf_is_used(const struct xf_ctx *x, const struct hl7_seg *s, uint32_t n)
{
    size_t i = (size_t)(s - x->msg->segs);
    return n < XF_MAX_FIELDS && (x->used[i][n / 8] & (1u << (n % 8)));
}

const char *xf_text(struct xf_ctx *x, struct hl7_view v)
{
    size_t bad;
    if (!xf_has(v))
        return NULL;
    strbuf_reset(&x->tmp);
    if (hl7_unescape(&x->msg->enc, v, &x->tmp, &bad) < 0 || strbuf_append(&x->tmp, "", 0) != 0)
        return NULL;
    /* FHIR strings allow no control character but tab, CR and LF (a server refuses the
     * bundle: "Invalid string format"); raw or escaped (\X01\), each becomes a space. */
    bool replaced = false;
    for (char *c = x->tmp.p; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r') || *c == 0x7f)
            *c = ' ', replaced = true;
    if (replaced)
        xf_warn_at(x, v, "control characters, which FHIR strings cannot hold, replaced by spaces");
    /* FHIR strings may not be blank or carry leading/trailing whitespace. */
    char *p = x->tmp.p;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n'))
        p[--n] = '\0';
    return n ? p : NULL;
}

int xf_add_str(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view v)
{
    const char *s = xf_text(x, v);
    if (!s)
        return 0;
    xf_put_str(obj, name, s);
    return 1;
}

struct hl7_view xf_rep(const struct xf_ctx *x, struct hl7_view v, uint32_t r)
{
    return hl7_piece(v, x->msg->enc.rep, r);
}

void xf_reps_init(const struct xf_ctx *x, struct xf_reps *r, struct hl7_view v)
{
    r->field = v;
    r->n = 0;
    hl7_pieces_init(&r->it, xf_has(v) ? v : (struct hl7_view){NULL, 0}, x->msg->enc.rep);
}

bool xf_reps_next(struct xf_ctx *x, struct xf_reps *r, struct hl7_view *rep)
{
    uint32_t max = x->cfg->max_repetitions ? x->cfg->max_repetitions : XF_MAX_REPETITIONS;
    if (r->n == max && r->it.p) {
        char text[96];
        snprintf(text, sizeof text, "more than %u repetitions: only the first %u are mapped",
                 (unsigned)max, (unsigned)max);
        xf_warn_at(x, r->field, text);
        r->it.p = NULL;
    }
    if (!hl7_pieces_next(&r->it, rep))
        return false;
    r->n++;
    return true;
}

struct hl7_view xf_comp(const struct xf_ctx *x, struct hl7_view v, uint32_t k)
{
    return hl7_piece(v, x->msg->enc.comp, k);
}

struct hl7_view xf_sub(const struct xf_ctx *x, struct hl7_view v, uint32_t k)
{
    return hl7_piece(v, x->msg->enc.sub, k);
}

struct hl7_view xf_first_sub(const struct xf_ctx *x, struct hl7_view v)
{
    for (uint32_t k = 1; k <= 3; k++) {
        struct hl7_view s = xf_sub(x, v, k);
        if (xf_has(s))
            return s;
    }
    return (struct hl7_view){NULL, 0};
}

bool xf_has(struct hl7_view v)
{
    if (!v.p || hl7_view_is_null(v))
        return false;
    for (size_t i = 0; i < v.len; i++) /* a field of spaces (" ") holds nothing either */
        if (v.p[i] != ' ')
            return true;
    return false;
}

bool xf_eq(struct hl7_view v, const char *s)
{
    /* codes are compared without the spaces senders pad them with ("F "): not data */
    while (v.p && v.len && v.p[0] == ' ')
        v.p++, v.len--;
    while (v.p && v.len && v.p[v.len - 1] == ' ')
        v.len--;
    size_t n = strlen(s);
    return v.p && v.len == n && memcmp(v.p, s, n) == 0;
}

/* Field n of s holds something a mapping could use (MSH-1/2, the delimiters, aside). */
/* Segments whose first field is a Set ID (SI): a sequence number of the segment in its
 * group, which numbers the segment and says nothing else — what it tells (the order) the
 * bundle keeps, so it is not a field of content the ledger counts. */
static const char set_id_segments[] =
    ",AIG,AIL,AIP,AIS,AL1,ARV,CON,DB1,DG1,FT1,GT1,IAM,IN1,IN3,NK1,NTE,"
    "OBR,OBX,PID,PR1,PV1,RGS,SPM,TQ1,TQ2,TXA,";

static bool populated(const struct hl7_msg *m, const struct hl7_seg *s, uint32_t n)
{
    struct hl7_view v = hl7_field(m, s, n);
    if (n == 1) {
        char key[6] = {',', s->name[0], s->name[1], s->name[2], ',', '\0'};
        if (strstr(set_id_segments, key))
            return false;
    }
    return v.p && v.len && !(strcmp(s->name, "MSH") == 0 && n <= 2);
}

/* One ledger line: kind, position, and the text when there is one. */
static void ledger_line(struct strbuf *out, const char *kind, const struct hl7_loc *loc,
                        const char *text)
{
    char where[64];
    hl7_loc_format(loc, where, sizeof where);
    strbuf_puts(out, kind);
    strbuf_putc(out, ' ');
    strbuf_puts(out, where);
    if (text && text[0]) {
        strbuf_puts(out, ": ");
        strbuf_puts(out, text);
    }
    strbuf_putc(out, '\n');
}

void xf_ledger(const struct xf_ctx *x, bool with_unmapped, struct strbuf *out, uint32_t *nwarnings,
               uint32_t *nunmapped)
{
    const struct hl7_msg *m = x->msg;
    *nwarnings = (uint32_t)x->nwarnings;
    *nunmapped = 0;
    for (size_t i = 0; i < x->nwarnings; i++)
        ledger_line(out, "warning", &x->warnings[i].loc, x->warnings[i].text);
    for (uint32_t i = 0; with_unmapped && i < m->nsegs; i++) {
        const struct hl7_seg *s = &m->segs[i];
        for (uint32_t n = 1; n <= hl7_seg_nfields(m, s); n++) {
            if (!populated(m, s, n) || xf_is_used(x, s, n))
                continue;
            struct hl7_loc loc = {.seq = hl7_seg_seq(m, s), .field = n};
            memcpy(loc.seg, s->name, 4);
            ledger_line(out, "unmapped", &loc, NULL);
            (*nunmapped)++;
        }
    }
}

uint32_t xf_populated(const struct xf_ctx *x)
{
    const struct hl7_msg *m = x->msg;
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->nsegs; i++)
        for (uint32_t f = 1; f <= hl7_seg_nfields(m, &m->segs[i]); f++)
            n += populated(m, &m->segs[i], f);
    return n;
}
