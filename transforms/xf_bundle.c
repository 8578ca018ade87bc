/* xf_bundle — transaction Bundle entries, deterministic ids, segment-mapper tables. */
#include "transforms/xf_bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/grow.h"
#include "transforms/fhir_id.h"

int xf_segmap_apply(struct xf_ctx *x, const struct xf_segmap *map, const struct hl7_seg *s,
                    cJSON *res)
{
    for (size_t i = 0; i < map->nfns; i++)
        if (map->fns[i](x, s, res) != 0)
            return -1;
    return 0;
}

cJSON *xf_resource(const char *type)
{
    cJSON *r = cJSON_CreateObject();
    xf_put_str(r, "resourceType", type);
    return r;
}

/* The message's own identity: sending application, facility and control id, raw. */
static void message_seed(struct xf_ctx *x)
{
    const struct hl7_seg *msh = &x->msg->segs[0];
    size_t n = 0;
    for (uint32_t f = 3; f <= 10; f++) {
        struct hl7_view v = hl7_field(x->msg, msh, f);
        if ((f != 3 && f != 4 && f != 10) || n + v.len + 1 >= sizeof x->seed)
            continue;
        if (v.p)
            memcpy(x->seed + n, v.p, v.len), n += v.len;
        x->seed[n++] = '\x1f';
    }
    x->seed_len = n;
}

void xf_full_url(struct xf_ctx *x, const struct hl7_seg *s, const char *tag, char out[XF_URL_MAX])
{
    char seed[sizeof x->seed + 64], uuid[FHIR_UUID_LEN + 1];
    if (x->seed_len == 0)
        message_seed(x);
    memcpy(seed, x->seed, x->seed_len);
    size_t n = x->seed_len, pos = s ? (size_t)(s - x->msg->segs) : 0;
    /* segment position in decimal, then the tag: digits reversed into place */
    char digits[24];
    size_t nd = 0;
    do
        digits[nd++] = (char)('0' + pos % 10);
    while ((pos /= 10) && nd < sizeof digits);
    while (nd)
        seed[n++] = digits[--nd];
    seed[n++] = '\x1f';
    size_t tl = strlen(tag) < 32 ? strlen(tag) : 32;
    memcpy(seed + n, tag, tl);
    fhir_id_uuid(seed, n + tl, uuid);
    memcpy(out, "urn:uuid:", 9);
    memcpy(out + 9, uuid, FHIR_UUID_LEN + 1);
}

cJSON *xf_ref(const char *url)
{
    if (!url || !url[0])
        return NULL; /* nothing to point at: the caller's xf_put/xf_append add nothing */
    cJSON *r = cJSON_CreateObject();
    xf_put_str(r, "reference", url);
    return r;
}

/* "Type?identifier=system|value", or NULL when the identifier has no system or value. */
static int conditional_url(const char *type, const cJSON *ident, char *out, size_t n)
{
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(ident, "system"),
                *val = cJSON_GetObjectItemCaseSensitive(ident, "value");
    char esys[512], eval[512];
    if (!cJSON_IsString(sys) || !cJSON_IsString(val) ||
        fhir_id_query_escape(sys->valuestring, esys, sizeof esys) != 0 ||
        fhir_id_query_escape(val->valuestring, eval, sizeof eval) != 0)
        return -1;
    int w = snprintf(out, n, "%s?identifier=%s|%s", type, esys, eval);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* Puts "id" right after "resourceType", where a reader expects it. */
static void set_id(cJSON *res, const char *id)
{
    cJSON *rest = cJSON_CreateArray();
    while (cJSON_GetArraySize(res) > 1) /* members keep their names while parked */
        cJSON_AddItemToArray(rest, cJSON_DetachItemViaPointer(res, cJSON_GetArrayItem(res, 1)));
    xf_put_str(res, "id", id);
    while (cJSON_GetArraySize(rest) > 0)
        cJSON_AddItemToArray(res, cJSON_DetachItemViaPointer(rest, rest->child));
    cJSON_Delete(rest);
}

void xf_bundle_add(struct xf_ctx *x, const char *full_url, cJSON *res, const cJSON *ident,
                   const char *seed)
{
    const char *type = cJSON_GetObjectItemCaseSensitive(res, "resourceType")->valuestring;
    char url[1200];
    if (!ident || conditional_url(type, ident, url, sizeof url) != 0) {
        char id[FHIR_UUID_LEN + 1], full[600];
        snprintf(full, sizeof full, "%s\x1f%s", type, seed ? seed : full_url);
        fhir_id_uuid(full, strlen(full), id);
        snprintf(url, sizeof url, "%s/%s", type, id);
        set_id(res, id);
    }
    cJSON *e = cJSON_CreateObject();
    xf_put_str(e, "fullUrl", full_url);
    xf_put(e, "resource", res);
    cJSON *req = xf_put_object(e, "request");
    xf_put_str(req, "method", "PUT");
    xf_put_str(req, "url", url);
    cJSON_AddItemToArray(x->entries, e);
}

/* An entry, for sorting by request.url (then by position, so the first stays first). */
struct entry_key {
    const char *url;
    cJSON *entry;
    size_t pos;
};

/* A fullUrl merged away, and the one standing for it now. */
struct alias {
    const char *from, *to;
};

static int by_url(const void *a, const void *b)
{
    const struct entry_key *p = a, *q = b;
    int c = strcmp(p->url, q->url);
    return c ? c : (p->pos > q->pos) - (p->pos < q->pos);
}

static int by_from(const void *a, const void *b)
{
    return strcmp(((const struct alias *)a)->from, ((const struct alias *)b)->from);
}

static const char *member_string(const cJSON *obj, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);
    v = b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* True when obj has another choice of the element name is one of (valueQuantity for
 * valueString: the part before the first capital is the same). */
static bool has_other_choice(const cJSON *obj, const char *name)
{
    size_t base = strcspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (base == 0 || !name[base])
        return false;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (strncmp(c->string, name, base) == 0 && c->string[base] >= 'A' &&
            c->string[base] <= 'Z' && strcmp(c->string, name) != 0)
            return true;
    return false;
}

/* What dup has that keep lacks moves into keep: members (not a second choice of a value[x]
 * keep has), and the items of an array keep has that it does not hold already. Returns
 * true when a value both have differs (the first's stands). */
static bool merge_into(cJSON *keep, cJSON *dup)
{
    bool differs = false;
    for (cJSON *m = dup->child, *next; m; m = next) {
        next = m->next;
        cJSON *k = cJSON_GetObjectItemCaseSensitive(keep, m->string);
        if (!k && has_other_choice(keep, m->string)) {
            differs = true;
            continue;
        }
        if (!k) {
            cJSON_AddItemToObjectCS(keep, m->string, cJSON_DetachItemViaPointer(dup, m));
            continue;
        }
        if (!cJSON_IsArray(k) || !cJSON_IsArray(m)) {
            differs |= !cJSON_Compare(k, m, true);
            continue;
        }
        for (cJSON *item = m->child, *inext; item; item = inext) {
            inext = item->next;
            bool held = false;
            for (const cJSON *have = k->child; have && !held; have = have->next)
                held = cJSON_Compare(have, item, true);
            if (!held)
                cJSON_AddItemToArray(k, cJSON_DetachItemViaPointer(m, item));
        }
    }
    return differs;
}

/* Every Reference in node naming a merged-away fullUrl names the one that stands for it. */
static void rewrite_references(cJSON *node, const struct alias *a, size_t n)
{
    for (cJSON *c = node->child; c; c = c->next) {
        if (cJSON_IsString(c) && c->string && strcmp(c->string, "reference") == 0) {
            struct alias key = {c->valuestring, NULL};
            const struct alias *hit = bsearch(&key, a, n, sizeof *a, by_from);
            if (hit)
                c->valuestring = (char *)hit->to; /* arena strings: nothing to free */
        } else if (c->child) {
            rewrite_references(c, a, n);
        }
    }
}

static void remap(char *ref, const struct alias *a, size_t n)
{
    struct alias key = {ref, NULL};
    const struct alias *hit = ref[0] ? bsearch(&key, a, n, sizeof *a, by_from) : NULL;
    if (hit)
        snprintf(ref, XF_URL_MAX, "%s", hit->to);
}

void xf_bundle_merge(struct xf_ctx *x)
{
    size_t n = 0, cap = 0, acap = 0, na = 0;
    struct entry_key *keys = NULL;
    for (cJSON *e = x->entries->child; e; e = e->next, n++) {
        keys = grow_array(keys, &cap, n + 1, sizeof *keys);
        keys[n] = (struct entry_key){member_string(e, "request", "url"), e, n};
    }
    qsort(keys, n, sizeof *keys, by_url);
    struct alias *aliases = NULL;
    for (size_t i = 0; i < n;) {
        size_t first = i++;
        while (i < n && strcmp(keys[i].url, keys[first].url) == 0) {
            if (merge_into(cJSON_GetObjectItemCaseSensitive(keys[first].entry, "resource"),
                           cJSON_GetObjectItemCaseSensitive(keys[i].entry, "resource"))) {
                char text[120];
                snprintf(text, sizeof text,
                         "two segments describe one %s differently: the first one's values kept",
                         member_string(keys[first].entry, "resource", "resourceType"));
                xf_warn(x, NULL, 0, text);
            }
            aliases = grow_array(aliases, &acap, na + 1, sizeof *aliases);
            aliases[na++] = (struct alias){member_string(keys[i].entry, "fullUrl", NULL),
                                           member_string(keys[first].entry, "fullUrl", NULL)};
            cJSON_DetachItemViaPointer(x->entries, keys[i].entry); /* the arena frees it */
            i++;
        }
    }
    if (na) {
        qsort(aliases, na, sizeof *aliases, by_from);
        rewrite_references(x->entries, aliases, na);
        remap(x->patient_ref, aliases, na);
        remap(x->encounter_ref, aliases, na);
    }
    free(aliases);
    free(keys);
}

cJSON *xf_bundle_find(struct xf_ctx *x, const char *url, const char *type)
{
    cJSON *e;
    cJSON_ArrayForEach(e, x->entries)
    {
        const cJSON *full = cJSON_GetObjectItemCaseSensitive(e, "fullUrl");
        cJSON *res = cJSON_GetObjectItemCaseSensitive(e, "resource");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(res, "resourceType");
        if (url && url[0] ? cJSON_IsString(full) && strcmp(full->valuestring, url) == 0
                          : type && cJSON_IsString(rt) && strcmp(rt->valuestring, type) == 0)
            return res;
    }
    return NULL;
}

cJSON *xf_bundle_last(struct xf_ctx *x)
{
    cJSON *last = x->entries->child ? x->entries->child->prev : NULL; /* cJSON: head->prev */
    return last ? cJSON_GetObjectItemCaseSensitive(last, "resource") : NULL;
}

cJSON *xf_bundle_take(struct xf_ctx *x)
{
    cJSON *b = xf_resource("Bundle");
    xf_put_str(b, "type", "transaction");
    xf_put(b, "entry", x->entries);
    x->entries = cJSON_CreateArray();
    return b;
}
