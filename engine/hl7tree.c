/* hl7tree — HL7v2 message to a JSON tree of segments, fields, repetitions, components. */
#include "engine/hl7tree.h"

#include <stdio.h>
#include <string.h>

#include "parsers/hl7_escape.h"
#include "parsers/strbuf.h"

struct tree_ctx {
    const struct hl7_msg *m;
    bool raw;
    hl7tree_warn_cb warn;
    void *arg;
    struct hl7_loc loc; /* where the walk is, for warnings */
    struct strbuf text; /* scratch for one decoded value */
};

int hl7tree_text(const struct hl7_msg *m, struct hl7_view v, bool raw, struct strbuf *out)
{
    size_t bad;
    int problems = 0;
    if (raw || !v.p)
        strbuf_append(out, v.p ? v.p : "", v.p ? v.len : 0);
    else
        problems = hl7_unescape(&m->enc, v, out, &bad);
    strbuf_append(out, "", 0); /* NUL-terminated even when empty */
    return problems;
}

static cJSON *leaf(struct tree_ctx *c, struct hl7_view v)
{
    if (hl7_view_is_null(v))
        return cJSON_CreateNull();
    strbuf_reset(&c->text);
    if (hl7tree_text(c->m, v, c->raw, &c->text) != 0 && c->warn)
        c->warn(c->arg, &c->loc);
    return cJSON_CreateString(c->text.p);
}

static cJSON *component(struct tree_ctx *c, struct hl7_view v)
{
    uint32_t nsub = hl7_npieces(v, c->m->enc.sub);
    c->loc.sub = 0;
    if (nsub <= 1)
        return leaf(c, v);
    cJSON *a = cJSON_CreateArray();
    struct hl7_pieces subs;
    struct hl7_view sv;
    for (hl7_pieces_init(&subs, v, c->m->enc.sub); hl7_pieces_next(&subs, &sv);) {
        c->loc.sub++;
        cJSON_AddItemToArray(a, leaf(c, sv));
    }
    return a;
}

static cJSON *field(struct tree_ctx *c, struct hl7_view f)
{
    const struct hl7_enc *e = &c->m->enc;
    cJSON *reps = cJSON_CreateArray();
    struct hl7_pieces r, k; /* each walked once: linear however many pieces */
    struct hl7_view rv, kv;
    c->loc.rep = 0;
    for (hl7_pieces_init(&r, f, e->rep); hl7_pieces_next(&r, &rv);) {
        cJSON *comps = cJSON_CreateArray();
        c->loc.rep++;
        c->loc.comp = 0;
        for (hl7_pieces_init(&k, rv, e->comp); hl7_pieces_next(&k, &kv);) {
            c->loc.comp++;
            cJSON_AddItemToArray(comps, component(c, kv));
        }
        cJSON_AddItemToArray(reps, comps);
    }
    return reps;
}

static cJSON *segment(struct tree_ctx *c, const struct hl7_seg *s)
{
    cJSON *obj = cJSON_CreateObject(), *fields = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "segment", s->name);
    memcpy(c->loc.seg, s->name, 4);
    c->loc.seq = hl7_seg_seq(c->m, s);
    bool msh = strcmp(s->name, "MSH") == 0;
    uint32_t nf = hl7_seg_nfields(c->m, s);
    for (uint32_t n = 1; n <= nf; n++) {
        struct hl7_view f = hl7_field(c->m, s, n);
        char key[12];
        if (!f.p || f.len == 0)
            continue;
        snprintf(key, sizeof key, "%u", (unsigned)n);
        c->loc.field = n;
        if (msh && n <= 2) { /* the delimiters themselves: never split or decoded */
            cJSON *one = cJSON_CreateArray(), *rep = cJSON_CreateArray();
            strbuf_reset(&c->text);
            hl7tree_text(c->m, f, true, &c->text);
            cJSON_AddItemToArray(rep, cJSON_CreateString(c->text.p));
            cJSON_AddItemToArray(one, rep);
            cJSON_AddItemToObject(fields, key, one);
            continue;
        }
        cJSON_AddItemToObject(fields, key, field(c, f));
    }
    cJSON_AddItemToObject(obj, "fields", fields);
    return obj;
}

cJSON *hl7tree_build(const struct hl7_msg *m, bool raw, hl7tree_warn_cb warn, void *arg)
{
    struct tree_ctx c = {.m = m, .raw = raw, .warn = warn, .arg = arg};
    strbuf_init(&c.text, (size_t)-1);
    cJSON *root = cJSON_CreateObject(), *segs = cJSON_CreateArray();
    for (uint32_t i = 0; i < m->nsegs; i++)
        cJSON_AddItemToArray(segs, segment(&c, &m->segs[i]));
    cJSON_AddItemToObject(root, "segments", segs);
    strbuf_cleanup(&c.text);
    return root;
}
