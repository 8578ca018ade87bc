/* seg_txa — TXA to DocumentReference, with the trigger's meaning. */
#include "transforms/seg_txa.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/xf_fields.h"

/* Table 0271 completion status -> docStatus: FHIR-Converter's DocumentCompletionStatus map
 * (the IG gives none): final only when legally authenticated. */
static const struct dt_code_row completion[] = {
    {"AU", "preliminary", NULL}, {"DI", "preliminary", NULL}, {"DO", "preliminary", NULL},
    {"IN", "preliminary", NULL}, {"IP", "preliminary", NULL}, {"LA", "final", NULL},
    {"PA", "preliminary", NULL},
};

/* Table 0272 confidentiality -> securityLabel (IG DocumentConfidentialityStatus). */
static const struct dt_code_row confidentiality[] = {
    {"V", "V", "Very restricted"},
    {"R", "R", "Restricted"},
    {"U", "U", "Usual control"},
};

static const struct xf_field txa_fields[] = {
    {2, XF_CODEABLE, "type"},
    {25, XF_STRING, "description"},
};

static bool trigger_is(const char *trigger, const char *list)
{
    return strstr(list, trigger) != NULL;
}

/* The document's status: cancelled by T11 or TXA-19 CA, superseded when TXA-19 says obsolete. */
static void statuses(struct xf_ctx *x, const struct hl7_seg *txa, const char *trigger, cJSON *d)
{
    struct hl7_view avail = xf_comp(x, xf_take(x, txa, 19), 1);
    bool cancelled = strcmp(trigger, "T11") == 0 || xf_eq(avail, "CA");
    xf_put_str(d, "status",
               cancelled            ? "entered-in-error"
               : xf_eq(avail, "OB") ? "superseded"
                                    : "current");
    const struct dt_code_row *r = dt_code_map(
        x, completion, sizeof completion / sizeof completion[0], xf_take(x, txa, 17), "0271");
    const char *doc = cancelled ? "entered-in-error" : r ? r->code : NULL;
    if (doc && !cancelled && strcmp(doc, "final") == 0 && trigger_is(trigger, "T07,T08"))
        doc = "amended"; /* an edit of a final document */
    if (doc)
        xf_put_str(d, "docStatus", doc);
}

/* T05/T06 add to the parent document (TXA-13), T09/T10 replace it: relatesTo, by its number. */
static void relation(struct xf_ctx *x, const struct hl7_seg *txa, const char *trigger, cJSON *d)
{
    cJSON *parent = dt_ei(x, xf_rep(x, xf_take(x, txa, 13), 1));
    bool appends = trigger_is(trigger, "T05,T06"), replaces = trigger_is(trigger, "T09,T10");
    if (!parent || (!appends && !replaces)) {
        cJSON_Delete(parent);
        return;
    }
    cJSON *rel = cJSON_CreateObject(), *target = xf_put_object(rel, "target");
    xf_put_str(rel, "code", appends ? "appends" : "replaces");
    xf_put(target, "identifier", parent);
    xf_append(d, "relatesTo", rel);
}

/* TXA-9 originator and TXA-10 authenticator: contained Practitioners. */
static void people(struct xf_ctx *x, const struct hl7_seg *txa, cJSON *d)
{
    static const struct {
        uint32_t field;
        const char *id, *element;
    } who[] = {{9, "author", "author"}, {10, "authenticator", "authenticator"}};
    for (size_t i = 0; i < 2; i++) {
        cJSON *p = dt_practitioner(x, xf_rep(x, xf_take(x, txa, who[i].field), 1), who[i].id);
        if (!p)
            continue;
        char ref[32];
        snprintf(ref, sizeof ref, "#%s", who[i].id);
        xf_append(d, "contained", p);
        if (i == 0)
            xf_append(d, who[i].element, xf_ref(ref));
        else
            xf_put(d, who[i].element, xf_ref(ref));
    }
}

int seg_txa_map(struct xf_ctx *x, const struct hl7_seg *txa, const char *trigger, cJSON **out,
                const cJSON **key_ident, char seed[256])
{
    cJSON *d = xf_resource("DocumentReference");
    cJSON *number = dt_ei(x, xf_take(x, txa, 12));
    *key_ident = NULL;
    if (number) { /* the unique document number: masterIdentifier, and searchable as identifier */
        xf_put(d, "masterIdentifier", cJSON_Duplicate(number, 1));
        *key_ident = xf_append(d, "identifier", number);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(number, "value");
        snprintf(seed, 256, "%s\x1f%s", x->patient_key, cJSON_IsString(v) ? v->valuestring : "");
    } else {
        xf_warn(x, txa, 12, "no unique document number: the document is this message's own");
        seed[0] = '\0';
    }
    statuses(x, txa, trigger, d);
    xf_fields_apply(x, txa, txa_fields, sizeof txa_fields / sizeof txa_fields[0], d);
    dt_add(x, d, "date", xf_take(x, txa, 6), DT_INSTANT);
    people(x, txa, d);
    relation(x, txa, trigger, d);
    const struct dt_code_row *c =
        dt_code_map(x, confidentiality, sizeof confidentiality / sizeof confidentiality[0],
                    xf_take(x, txa, 18), "0272");
    if (c)
        xf_append(d, "securityLabel",
                  dt_concept("http://terminology.hl7.org/CodeSystem/v2-0272", c->code, c->display));
    (void)xf_take(x, txa, 1), (void)xf_take(x, txa, 3); /* set id; presentation: from OBX-2 */
    *out = d;
    return 0;
}
