/* seg_pr1 — PR1 to Procedure. */
#include "transforms/seg_pr1.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"

static int pr1_code(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 3));
    (void)xf_take(x, s, 1);
    /* a reported procedure has happened: PR1 has no status of its own */
    xf_put_str(res, "status", "completed");
    if (cc)
        xf_put(res, "code", cc);
    return 0;
}

static int pr1_when(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add(x, res, "performedDateTime", xf_take(x, s, 5), DT_DATETIME);
    return 0;
}

static int pr1_surgeon(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view who = xf_rep(x, xf_take(x, s, 12), 1);
    const char *family = xf_text(x, xf_sub(x, xf_comp(x, who, 2), 1));
    if (!family)
        return 0;
    cJSON *performer = cJSON_CreateObject(), *actor = xf_put_object(performer, "actor");
    xf_put_str(actor, "type", "Practitioner");
    xf_put_str(actor, "display", xf_text(x, xf_sub(x, xf_comp(x, who, 2), 1)));
    xf_append(res, "performer", performer);
    return 0;
}

static int pr1_identifier(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *id = dt_ei(x, xf_take(x, s, 19));
    if (id)
        xf_append(res, "identifier", id);
    return 0;
}

static const xf_field_fn pr1_fns[] = {pr1_identifier, pr1_code, pr1_when, pr1_surgeon};

const struct xf_segmap seg_pr1 = {"PR1", "Procedure", pr1_fns, sizeof pr1_fns / sizeof pr1_fns[0]};

void seg_pr1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *p = xf_resource("Procedure");
    char url[XF_URL_MAX], seed[400];
    xf_segmap_apply(x, &seg_pr1, s, p);
    xf_put(p, "subject", xf_ref(x->patient_ref));
    if (x->encounter_ref[0])
        xf_put(p, "encounter", xf_ref(x->encounter_ref));
    xf_full_url(x, s, "Procedure", url);
    /* One Procedure per patient, code and time: a re-sent PR1 updates it. */
    struct hl7_view code = xf_comp(x, hl7_field(x->msg, s, 3), 1), when = hl7_field(x->msg, s, 5);
    snprintf(seed, sizeof seed, "%s\x1f%.*s\x1f%.*s", x->patient_key, (int)code.len,
             code.p ? code.p : "", (int)when.len, when.p ? when.p : "");
    xf_bundle_add(x, url, p, cJSON_GetArrayItem(cJSON_GetObjectItem(p, "identifier"), 0), seed);
}
