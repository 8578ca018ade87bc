/* seg_dg1 — DG1 to Condition. */
#include "transforms/seg_dg1.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"

static int dg1_code(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 3));
    (void)xf_take(x, s, 1);
    xf_append(res, "category",
              dt_concept("http://terminology.hl7.org/CodeSystem/condition-category",
                         "encounter-diagnosis", "Encounter Diagnosis"));
    if (cc)
        xf_put(res, "code", cc);
    return 0;
}

static int dg1_dates(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add(x, res, "onsetDateTime", xf_take(x, s, 5), DT_DATETIME);
    return 0;
}

static int dg1_identifier(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *id = dt_ei(x, xf_take(x, s, 20));
    if (id)
        xf_append(res, "identifier", id);
    return 0;
}

/* DG1-4 description (the code's text), DG1-16 who made it, DG1-19 when it was attested,
 * DG1-21 D deletes it (entered-in-error), as the IG's DG1[Condition] says. */
static int dg1_more(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *code = cJSON_GetObjectItemCaseSensitive(res, "code");
    const char *text = xf_text(x, xf_take(x, s, 4));
    if (text && code && !cJSON_GetObjectItemCaseSensitive(code, "text"))
        xf_put_str(code, "text", text);
    struct hl7_view who = xf_rep(x, xf_take(x, s, 16), 1);
    const char *family = xf_text(x, xf_first_sub(x, xf_comp(x, who, 2)));
    if (family) {
        cJSON *ref = xf_put_object(res, "asserter");
        xf_put_str(ref, "type", "Practitioner");
        xf_put_str(ref, "display", family);
    }
    dt_add(x, res, "recordedDate", xf_take(x, s, 19), DT_DATETIME);
    if (xf_eq(xf_take(x, s, 21), "D"))
        xf_put(res, "verificationStatus",
               dt_concept("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                          "entered-in-error", "Entered in Error"));
    return 0;
}

/* DG1-22 parent diagnosis: the condition this one is due to, by its identifier (IG). */
static int dg1_parent(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *id = dt_ei(x, xf_take(x, s, 22));
    if (!id)
        return 0;
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", "Condition");
    xf_put(ref, "identifier", id);
    xf_add_extension(res, "http://hl7.org/fhir/StructureDefinition/condition-dueTo",
                     "valueReference", ref);
    return 0;
}

static const xf_field_fn dg1_fns[] = {dg1_identifier, dg1_code, dg1_dates, dg1_more, dg1_parent};

const struct xf_segmap seg_dg1 = {"DG1", "Condition", dg1_fns, sizeof dg1_fns / sizeof dg1_fns[0]};

void seg_dg1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *c = xf_resource("Condition");
    char url[XF_URL_MAX], seed[400];
    xf_segmap_apply(x, &seg_dg1, s, c);
    xf_put(c, "subject", xf_ref(x->patient_ref));
    if (x->encounter_ref[0])
        xf_put(c, "encounter", xf_ref(x->encounter_ref));
    xf_full_url(x, s, "Condition", url);
    struct hl7_view code = xf_comp(x, hl7_field(x->msg, s, 3), 1);
    snprintf(seed, sizeof seed, "%s\x1f%.*s", x->patient_key, (int)code.len, code.p ? code.p : "");
    xf_bundle_add(x, url, c,
                  cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "identifier"), 0), seed);
}
