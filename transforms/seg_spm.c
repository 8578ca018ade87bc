/* seg_spm — SPM to Specimen. */
#include "transforms/seg_spm.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"

/* SPM-2 is an EIP: placer^filler, each an EI in sub-components, typed PGN/FGN as the IG's
 * EIP maps say; SPM-30 is the accession number. */
static int spm_identifier(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view eip = xf_take(x, s, 2);
    static const char *const types[] = {"PGN", "FGN"};
    (void)xf_take(x, s, 1);
    for (uint32_t k = 1; k <= 2; k++) {
        struct hl7_view ei = xf_comp(x, eip, k);
        const char *value = xf_text(x, xf_sub(x, ei, 1));
        if (!value)
            continue;
        cJSON *id = cJSON_CreateObject();
        xf_put(id, "type",
               dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", types[k - 1], NULL));
        xf_put_str(id, "value", xf_text(x, xf_sub(x, ei, 1)));
        xf_append(res, "identifier", id);
    }
    const char *system;
    cJSON *accession = dt_identifier(x, xf_rep(x, xf_take(x, s, 30), 1), &system);
    if (accession)
        xf_put(res, "accessionIdentifier", accession);
    return 0;
}

/* SPM-6 additive and SPM-27 container type -> container; SPM-24 condition. */
static int spm_container(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *container = cJSON_CreateObject(), *cc;
    if ((cc = dt_codeable(x, xf_rep(x, xf_take(x, s, 27), 1))))
        xf_put(container, "type", cc);
    if ((cc = dt_codeable(x, xf_rep(x, xf_take(x, s, 6), 1))))
        xf_put(container, "additiveCodeableConcept", cc);
    if (cJSON_GetArraySize(container))
        xf_append(res, "container", container);
    else
        cJSON_Delete(container);
    struct hl7_view cond = xf_take(x, s, 24);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, cond); xf_reps_next(x, &it, &rep);)
        if ((cc = dt_codeable(x, rep))) {
            xf_append(res, "condition", cc);
        }
    return 0;
}

static int spm_type(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view available = xf_take(x, s, 20); /* Y/N -> available/unavailable */
    if (xf_eq(xf_comp(x, available, 1), "Y") || xf_eq(xf_comp(x, available, 1), "N"))
        xf_put_str(res, "status",
                   xf_eq(xf_comp(x, available, 1), "Y") ? "available" : "unavailable");
    cJSON *cc = dt_codeable(x, xf_take(x, s, 4));
    if (cc)
        xf_put(res, "type", cc);
    return 0;
}

static int spm_collection(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *c = cJSON_CreateObject();
    struct hl7_view when = xf_take(x, s, 17); /* DR: start^end; a period when it has an end */
    if (xf_has(xf_comp(x, when, 2)))          /* IG: SPM-17.2 valued means a period */
        dt_add_period(x, c, "collectedPeriod", xf_comp(x, when, 1), xf_comp(x, when, 2),
                      DT_DATETIME);
    else
        dt_add(x, c, "collectedDateTime", xf_comp(x, when, 1), DT_DATETIME);
    cJSON *quantity = dt_quantity_cq(x, xf_take(x, s, 12)); /* collected amount */
    if (quantity)
        xf_put(c, "quantity", quantity);
    cJSON *method = dt_codeable(x, xf_take(x, s, 7));
    if (method)
        xf_put(c, "method", method);
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

/* SPM-31 other specimen identifier (CX), SPM-32 the shipment's (EI, typed SHIP); SPM-14 the
 * description as a note (IG SPM[Specimen]). */
static int spm_more(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *system;
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, s, 31)); xf_reps_next(x, &it, &rep);) {
        cJSON *id = dt_identifier(x, rep, &system);
        if (id)
            xf_append(res, "identifier", id);
    }
    cJSON *ship = dt_ident_typed(dt_ei(x, xf_rep(x, xf_take(x, s, 32), 1)), "SHIP");
    if (ship)
        xf_append(res, "identifier", ship);
    for (xf_reps_init(x, &it, xf_take(x, s, 14)); xf_reps_next(x, &it, &rep);)
        dt_add_note(res, xf_text(x, rep));
    return 0;
}

static const xf_field_fn spm_fns[] = {spm_identifier, spm_type, spm_collection, spm_container,
                                      spm_more};

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

void seg_spm_from_obr(struct xf_ctx *x, const struct hl7_seg *obr, const char *report_key,
                      char url[XF_URL_MAX])
{
    cJSON *sp = xf_resource("Specimen"), *c = cJSON_CreateObject();
    char seed[400];
    struct hl7_view source = xf_take(x, obr, 15); /* SPS: specimen^additive^text^body site */
    cJSON *type = dt_codeable_sub(x, xf_comp(x, source, 1));
    if (type)
        xf_put(sp, "type", type);
    struct hl7_view from = hl7_field(x->msg, obr, 7), to = xf_take(x, obr, 8);
    if (!xf_has(to) || !dt_add_period(x, c, "collectedPeriod", from, to, DT_DATETIME))
        dt_add(x, c, "collectedDateTime", from, DT_DATETIME);
    cJSON *site = dt_codeable_sub(x, xf_comp(x, source, 4));
    if (site)
        xf_put(c, "bodySite", site);
    cJSON *quantity = dt_quantity_cq(x, xf_take(x, obr, 9)); /* collected amount */
    if (quantity)
        xf_put(c, "quantity", quantity);
    cJSON *collector = dt_person_ref(x, xf_take(x, obr, 10), "Practitioner");
    if (collector)
        xf_put(c, "collector", collector);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, obr, 39)); xf_reps_next(x, &it, &rep);) {
        dt_add_note(sp, dt_cwe_text(x, rep)); /* collector's comment (CWE) */
    }
    if (cJSON_GetArraySize(c))
        xf_put(sp, "collection", c);
    else
        cJSON_Delete(c);
    dt_add(x, sp, "receivedTime", xf_take(x, obr, 14), DT_DATETIME);
    if (x->patient_ref[0])
        xf_put(sp, "subject", xf_ref(x->patient_ref));
    xf_full_url(x, obr, "Specimen", url);
    snprintf(seed, sizeof seed, "%s\x1fobr-specimen", report_key);
    xf_bundle_add(x, url, sp, NULL, seed);
}
