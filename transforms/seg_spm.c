/* seg_spm — SPM to Specimen. */
#include "transforms/seg_spm.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"

/* SPM-2 is an EIP: placer^filler, each an EI in sub-components. */
static int spm_identifier(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view eip = xf_take(x, s, 2);
    (void)xf_take(x, s, 1);
    for (uint32_t k = 1; k <= 2; k++) {
        struct hl7_view ei = xf_comp(x, eip, k);
        const char *value = xf_text(x, xf_sub(x, ei, 1));
        if (!value)
            continue;
        cJSON *id = cJSON_CreateObject();
        xf_put_str(id, "value", value);
        cJSON *list = cJSON_GetObjectItem(res, "identifier");
        cJSON_AddItemToArray(list ? list : xf_put_array(res, "identifier"), id);
    }
    return 0;
}

static int spm_type(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 4));
    if (cc)
        xf_put(res, "type", cc);
    return 0;
}

static int spm_collection(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *c = cJSON_CreateObject();
    struct hl7_view when = xf_comp(x, xf_take(x, s, 17), 1); /* DR: start^end */
    dt_add(x, c, "collectedDateTime", when, DT_DATETIME);
    cJSON *site = dt_codeable(x, xf_take(x, s, 8));
    if (site)
        xf_put(c, "bodySite", site);
    if (cJSON_GetArraySize(c))
        xf_put(res, "collection", c);
    else
        cJSON_Delete(c);
    dt_add(x, res, "receivedTime", xf_take(x, s, 18), DT_DATETIME);
    return 0;
}

static const xf_field_fn spm_fns[] = {spm_identifier, spm_type, spm_collection};

const struct xf_segmap seg_spm = {"SPM", "Specimen", spm_fns, sizeof spm_fns / sizeof spm_fns[0]};

void seg_spm_add(struct xf_ctx *x, const struct hl7_seg *s, const char *report_key,
                 char url[XF_URL_MAX])
{
    cJSON *sp = xf_resource("Specimen");
    char seed[400];
    xf_segmap_apply(x, &seg_spm, s, sp);
    if (x->patient_ref[0])
        xf_put(sp, "subject", xf_ref(x->patient_ref));
    xf_full_url(x, s, "Specimen", url);
    struct hl7_view set_id = hl7_field(x->msg, s, 1);
    snprintf(seed, sizeof seed, "%s\x1f%.*s", report_key, (int)set_id.len,
             set_id.p ? set_id.p : "");
    xf_bundle_add(x, url, sp, NULL, seed);
}
