/*
 * xf_bundle — assembling the transaction Bundle: deterministic fullUrls,
 * entries as conditional updates (PUT Type?identifier=system|value) where a
 * business identifier with a system exists, else PUT Type/id with an id
 * derived from a stable seed. Also the segment-mapper table mechanism.
 */
#ifndef SOLENT_TRANSFORMS_XF_BUNDLE_H
#define SOLENT_TRANSFORMS_XF_BUNDLE_H

#include "transforms/xf.h"

#define XF_URL_MAX 64 /* "urn:uuid:" + 36 + NUL */

/* A field mapper: reads its field(s) of s with xf_take, writes into res. */
typedef int (*xf_field_fn)(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res);

/* A segment mapper: its segment, the resource it builds, its field mappers. */
struct xf_segmap {
    const char *segment;
    const char *resource;
    const xf_field_fn *fns;
    size_t nfns;
};

/* Runs every field mapper of map on s into res; -1 when one failed (x->error set). */
int xf_segmap_apply(struct xf_ctx *x, const struct xf_segmap *map, const struct hl7_seg *s,
                    cJSON *res);
/* A new resource object of the given type. */
cJSON *xf_resource(const char *type);
/* The fullUrl for what segment s builds (tag tells apart several resources of one segment). */
void xf_full_url(struct xf_ctx *x, const struct hl7_seg *s, const char *tag, char out[XF_URL_MAX]);
/* A Reference {"reference": url}; NULL when url is empty (no Patient in the message, say),
 * which xf_put and xf_append then leave out rather than write "reference": "". */
cJSON *xf_ref(const char *url);
/* Appends res as an entry. ident (an Identifier, may be NULL) makes it a conditional update;
 * otherwise seed (stable across messages) makes a deterministic id. Takes res. */
void xf_bundle_add(struct xf_ctx *x, const char *full_url, cJSON *res, const cJSON *ident,
                   const char *seed);
/* Makes entries that are the same resource (the same request.url: two IN1 naming no insurer,
 * one allergy listed twice) one entry, as a server refuses a transaction naming a resource
 * twice: the first keeps its members, gains those only the others have and the array items
 * it lacks; references to the others' fullUrls point at it. */
void xf_bundle_merge(struct xf_ctx *x);
/* The resource of the first entry whose fullUrl is url (url NULL or "": of type type), or NULL. */
cJSON *xf_bundle_find(struct xf_ctx *x, const char *url, const char *type);
/* The resource of the entry added last, or NULL. */
cJSON *xf_bundle_last(struct xf_ctx *x);
/* The finished transaction Bundle; x's entries move into it. */
cJSON *xf_bundle_take(struct xf_ctx *x);

#endif
