/* seg_al1 — AL1 to AllergyIntolerance. */
#include "transforms/seg_al1.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_time.h"

/* HL7 table 0127 -> AllergyIntolerance.category (IG AllergenType map). */
static const struct dt_code_row categories[] = {
    {"DA", "medication", NULL}, {"FA", "food", NULL},        {"EA", "environment", NULL},
    {"MC", "medication", NULL}, {"LA", "environment", NULL}, {"PA", "environment", NULL},
};

/* HL7 table 0128 -> AllergyIntolerance.criticality (IG AllergySeverity map). */
static const struct dt_code_row criticality[] = {
    {"SV", "high", NULL},
    {"MO", "low", NULL},
    {"MI", "low", NULL},
    {"U", "unable-to-assess", NULL},
};

#define CLINICAL "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"

static int al1_code(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 3));
    (void)xf_take(x, s, 1);
    xf_put(res, "clinicalStatus", dt_concept(CLINICAL, "active", "Active"));
    if (cc)
        xf_put(res, "code", cc);
    return 0;
}

static int al1_kind(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const struct dt_code_row *c = dt_code_map(
        x, categories, sizeof categories / sizeof categories[0], xf_take(x, s, 2), "0127");
    const struct dt_code_row *k = dt_code_map(
        x, criticality, sizeof criticality / sizeof criticality[0], xf_take(x, s, 4), "0128");
    if (c)
        xf_append(res, "category", cJSON_CreateString(c->code));
    if (k)
        xf_put_str(res, "criticality", k->code);
    return 0;
}

static int al1_reaction(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view field = xf_take(x, s, 5);
    cJSON *manif = cJSON_CreateArray();
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, field); xf_reps_next(x, &it, &rep);) {
        const char *text = xf_text(x, rep);
        if (!text)
            continue;
        cJSON *cc = cJSON_CreateObject();
        xf_put_str(cc, "text", text);
        cJSON_AddItemToArray(manif, cc);
    }
    if (cJSON_GetArraySize(manif) == 0) {
        cJSON_Delete(manif);
        return 0;
    }
    cJSON *reaction = cJSON_CreateObject();
    xf_put(reaction, "manifestation", manif);
    xf_append(res, "reaction", reaction);
    return 0;
}

static int al1_onset(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add(x, res, "onsetDateTime", xf_take(x, s, 6), DT_DATETIME);
    return 0;
}

static const xf_field_fn al1_fns[] = {al1_code, al1_kind, al1_reaction, al1_onset};

const struct xf_segmap seg_al1 = {"AL1", "AllergyIntolerance", al1_fns,
                                  sizeof al1_fns / sizeof al1_fns[0]};

void seg_al1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *a = xf_resource("AllergyIntolerance");
    char url[XF_URL_MAX], seed[400];
    xf_segmap_apply(x, &seg_al1, s, a);
    xf_put(a, "patient", xf_ref(x->patient_ref));
    xf_full_url(x, s, "AllergyIntolerance", url);
    /* One AllergyIntolerance per patient and allergen (AL1-3 code). */
    struct hl7_view code = xf_comp(x, hl7_field(x->msg, s, 3), 1);
    snprintf(seed, sizeof seed, "%s\x1f%.*s", x->patient_key, (int)code.len, code.p ? code.p : "");
    xf_bundle_add(x, url, a, NULL, seed);
}
