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

static const xf_field_fn dg1_fns[] = {dg1_identifier, dg1_code, dg1_dates};

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
    xf_bundle_add(x, url, c, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "identifier"), 0), seed);
}
