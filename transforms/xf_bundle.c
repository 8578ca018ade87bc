/* xf_bundle — transaction Bundle entries, deterministic ids, segment-mapper tables. */
#include "transforms/xf_bundle.h"

#include <stdio.h>
#include <string.h>

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
    cJSON *r = cJSON_CreateObject();
    xf_put_str(r, "reference", url);
    return r;
}

/* "Type?identifier=system|value", or NULL when the identifier has no system or value. */
static int conditional_url(const char *type, const cJSON *ident, char *out, size_t n)
{
    const cJSON *sys = cJSON_GetObjectItem(ident, "system"),
                *val = cJSON_GetObjectItem(ident, "value");
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
    const char *type = cJSON_GetObjectItem(res, "resourceType")->valuestring;
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

cJSON *xf_bundle_take(struct xf_ctx *x)
{
    cJSON *b = xf_resource("Bundle");
    xf_put_str(b, "type", "transaction");
    xf_put(b, "entry", x->entries);
    x->entries = cJSON_CreateArray();
    return b;
}
