/* xf_struct — walking a message by its structure's table. */
#include "transforms/xf_struct.h"

#include <stdio.h>
#include <string.h>

cJSON *xf_walk_hold(struct xf_walk *w, cJSON *res, const char *url, const cJSON *ident,
                    const char *seed)
{
    if (w->nheld == XF_GROUP_MAX) { /* a structure table holds at most that many: a bug */
        xf_bundle_add(w->x, url, res, ident, seed);
        return res;
    }
    struct xf_held *h = &w->held[w->nheld++];
    h->res = res;
    h->ident = ident;
    xf_copy(h->url, sizeof h->url, url);
    xf_copy(h->seed, sizeof h->seed, seed ? seed : "");
    return res;
}

struct xf_held *xf_walk_held(struct xf_walk *w, const char *type)
{
    if (!type)
        return w->nheld ? &w->held[0] : NULL;
    for (size_t i = 0; i < w->nheld; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(w->held[i].res, "resourceType");
        if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
            return &w->held[i];
    }
    return NULL;
}

void xf_walk_link(struct xf_walk *w, const char *type, const char *name, const char *url)
{
    struct xf_held *h = xf_walk_held(w, type);
    if (h && url && url[0])
        xf_append(h->res, name, xf_ref(url));
}

static const struct xf_rule *rule_for(const struct xf_structure *st, const char *seg, int phase)
{
    for (size_t i = 0; i < st->nrules; i++)
        if (st->rules[i].phase == phase && strcmp(st->rules[i].segment, seg) == 0)
            return &st->rules[i];
    return NULL;
}

/* Ends the current group: its opener's close step, then what it held, into the bundle. */
static int close_group(const struct xf_structure *st, struct xf_walk *w, int phase)
{
    const struct xf_rule *opener = w->group_seg ? rule_for(st, w->group_seg->name, phase) : NULL;
    int rc = opener && opener->close ? opener->close(w, w->group_seg) : 0;
    for (size_t i = 0; i < w->nheld; i++) {
        struct xf_held *h = &w->held[i];
        if (rc == 0)
            xf_bundle_add(w->x, h->url, h->res, h->ident, h->seed[0] ? h->seed : NULL);
    }
    w->nheld = 0;
    w->group_seg = NULL;
    w->group_key[0] = '\0';
    w->specimen[0] = '\0';
    return rc;
}

static int walk_phase(const struct xf_structure *st, struct xf_walk *w, int phase)
{
    const struct hl7_msg *m = w->x->msg;
    for (uint32_t i = 1; i < m->nsegs; i++) { /* MSH: the header's own mapper */
        const struct hl7_seg *s = &m->segs[i];
        const struct xf_rule *r = rule_for(st, s->name, phase);
        if (!r)
            continue;
        if ((r->opens || r->closes) && close_group(st, w, phase) != 0)
            return -1;
        if (r->opens)
            w->group_seg = s;
        if (r->add && r->add(w, s) != 0)
            return -1;
    }
    return close_group(st, w, phase);
}

int xf_struct_run(const struct xf_structure *st, struct xf_ctx *x, const struct hl7_msgtype *t)
{
    struct xf_walk w = {.x = x, .type = t};
    if (st->build)
        return st->build(&w);
    int last = 0;
    for (size_t i = 0; i < st->nrules; i++)
        last = st->rules[i].phase > last ? st->rules[i].phase : last;
    for (int phase = 1; phase <= last; phase++)
        if (walk_phase(st, &w, phase) != 0)
            return -1;
    return st->finish ? st->finish(&w) : 0;
}
