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
    cJSON_AddStringToObject(r, "resourceType", type);
    return r;
}

/* The message's own identity: sending application, facility and control id, raw. */
static size_t message_seed(struct xf_ctx *x, char *out, size_t n)
{
    const struct hl7_seg *msh = &x->msg->segs[0];
    struct hl7_view f[] = {hl7_field(x->msg, msh, 3), hl7_field(x->msg, msh, 4),
                           hl7_field(x->msg, msh, 10)};
    int w = snprintf(out, n, "%.*s\x1f%.*s\x1f%.*s", (int)f[0].len, f[0].p ? f[0].p : "",
                     (int)f[1].len, f[1].p ? f[1].p : "", (int)f[2].len, f[2].p ? f[2].p : "");
    return w > 0 && (size_t)w < n ? (size_t)w : n - 1;
}

void xf_full_url(struct xf_ctx *x, const struct hl7_seg *s, const char *tag, char out[XF_URL_MAX])
{
    char seed[1024], uuid[FHIR_UUID_LEN + 1];
    size_t n = message_seed(x, seed, sizeof seed);
    snprintf(seed + n, sizeof seed - n, "\x1f%u\x1f%s", s ? (unsigned)(s - x->msg->segs) : 0u, tag);
    fhir_id_uuid(seed, strlen(seed), uuid);
    snprintf(out, XF_URL_MAX, "urn:uuid:%s", uuid);
}

cJSON *xf_ref(const char *url)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "reference", url);
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
    cJSON_AddStringToObject(res, "id", id);
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
    cJSON_AddStringToObject(e, "fullUrl", full_url);
    cJSON_AddItemToObject(e, "resource", res);
    cJSON *req = cJSON_AddObjectToObject(e, "request");
    cJSON_AddStringToObject(req, "method", "PUT");
    cJSON_AddStringToObject(req, "url", url);
    cJSON_AddItemToArray(x->entries, e);
}

cJSON *xf_bundle_take(struct xf_ctx *x)
{
    cJSON *b = xf_resource("Bundle");
    cJSON_AddStringToObject(b, "type", "transaction");
    cJSON_AddItemToObject(b, "entry", x->entries);
    x->entries = cJSON_CreateArray();
    return b;
}
