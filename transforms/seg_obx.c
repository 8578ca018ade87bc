/* seg_obx — OBX to Observation. */
#include "transforms/seg_obx.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_name.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"

/* HL7 table 0085 -> observation-status, exactly the IG's ObservationResultStatusCodes
 * map; codes it leaves unmapped (I, N, O, R, S, U, V, B) give "unknown". */
static const struct dt_code_row statuses[] = {
    {"A", "amended", NULL},          {"C", "corrected", NULL},
    {"D", "entered-in-error", NULL}, {"F", "final", NULL},
    {"P", "preliminary", NULL},      {"X", "cancelled", NULL},
    {"W", "entered-in-error", NULL},
};

static int obx_status(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const struct dt_code_row *st =
        dt_code_map(x, statuses, sizeof statuses / sizeof statuses[0], xf_take(x, s, 11), "0085");
    (void)xf_take(x, s, 1);
    (void)xf_take(x, s, 4);
    xf_put_str(res, "status", st ? st->code : "unknown");
    return 0;
}

static int obx_code(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 3));
    if (!cc)
        return xf_fail(x, s, 3, 101, "OBX-3 (observation identifier) is empty");
    xf_put(res, "code", cc);
    return 0;
}

static int obx_effective(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add(x, res, "effectiveDateTime", xf_take(x, s, 14), DT_DATETIME);
    return 0;
}

static int obx_range(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *text = xf_text(x, xf_take(x, s, 7));
    if (!text)
        return 0;
    cJSON *r = cJSON_CreateObject();
    xf_put_str(r, "text", text);
    xf_append(res, "referenceRange", r);
    return 0;
}

static int obx_interpretation(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    /* OBX-8 abnormal flags: a CWE; a bare code (as before v2.7) is a v3
     * ObservationInterpretation code, which HL7 table 0078 shares. */
    struct hl7_view v = xf_take(x, s, 8);
    cJSON *list = cJSON_CreateArray();
    struct xf_reps it;
    struct hl7_view flag;
    for (xf_reps_init(x, &it, v); xf_reps_next(x, &it, &flag);) {
        cJSON *cc = NULL;
        if (xf_has(xf_comp(x, flag, 2)) || xf_has(xf_comp(x, flag, 3)))
            cc = dt_codeable(x, flag);
        else if (xf_text(x, xf_comp(x, flag, 1)))
            cc = dt_concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            xf_text(x, xf_comp(x, flag, 1)), NULL);
        if (cc)
            cJSON_AddItemToArray(list, cc);
    }
    if (cJSON_GetArraySize(list))
        xf_put(res, "interpretation", list);
    else
        cJSON_Delete(list);
    return 0;
}

/* OBX-16 responsible observer; OBX-25 the medical director who answers for the result
 * (IG: a PractitionerRole with code MDIR; here the person, by name). */
static int obx_performer(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    for (uint32_t f = 16; f <= 25; f += 9) {
        cJSON *ref = dt_person_ref(x, xf_take(x, s, f), "Practitioner");
        if (ref)
            xf_append(res, "performer", ref);
    }
    return 0;
}

/* OBX-18 equipment instance identifier: the device, by identifier (IG device(Device.
 * identifier)); OBX-10 nature of abnormal test (table 0080) as R4's extension. */
static int obx_device(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *id = dt_ei(x, xf_rep(x, xf_take(x, s, 18), 1));
    if (id)
        xf_put(xf_put_object(res, "device"), "identifier", id);
    const char *nature = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, s, 10), 1), 1));
    if (nature)
        xf_add_extension(
            res, "http://hl7.org/fhir/StructureDefinition/observation-nature-of-abnormal-test",
            "valueCodeableConcept",
            dt_concept("http://terminology.hl7.org/CodeSystem/v2-0080", nature, NULL));
    return 0;
}

static int obx_method(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_rep(x, xf_take(x, s, 17), 1));
    if (cc)
        xf_put(res, "method", cc);
    cJSON *site = dt_codeable(x, xf_rep(x, xf_take(x, s, 20), 1)); /* observation site */
    if (site)
        xf_put(res, "bodySite", site);
    cJSON *id = dt_ei(x, xf_take(x, s, 21)); /* observation instance identifier */
    if (id) {
        xf_put(id, "type",
               dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "FILL", NULL));
        xf_append(res, "identifier", id);
    }
    return 0;
}

/* The laboratory that performed it (IG: OBX-23 the performing organization with OBX-24 its
 * address, OBX-15 the producer's id), a contained Organization the performer points at;
 * when the analysis was done (OBX-19); the observation type (OBX-29) as a category. */
static int obx_lab(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view org = xf_take(x, s, 23), producer = xf_rep(x, xf_take(x, s, 15), 1);
    cJSON *lab = cJSON_CreateObject();
    xf_put_str(lab, "resourceType", "Organization");
    xf_put_str(lab, "id", "lab");
    /* XON-10 (organization identifier), else the producer's id (CWE-1) */
    struct hl7_view code =
        xf_has(xf_comp(x, org, 10)) ? xf_comp(x, org, 10) : xf_comp(x, producer, 1);
    if (xf_has(code)) {
        cJSON *id = cJSON_CreateObject();
        xf_add_str(x, id, "value", code);
        xf_append(lab, "identifier", id);
    }
    xf_add_str(x, lab, "name", xf_comp(x, org, 1));
    cJSON *address = dt_org_address(x, xf_take(x, s, 24));
    if (address)
        xf_append(lab, "address", address);
    if (cJSON_GetArraySize(lab) > 2) {
        xf_append(res, "contained", lab);
        xf_append(res, "performer", xf_ref("#lab"));
    } else {
        cJSON_Delete(lab);
    }
    char when[DT_MAX];
    if (dt_format(x, xf_take(x, s, 19), DT_DATETIME, when) == 0) {
        xf_add_extension(res,
                         "http://hl7.org/fhir/StructureDefinition/observation-analysis-date-time",
                         "valueDateTime", cJSON_CreateString(when));
    }
    const char *type = xf_text(x, xf_take(x, s, 29));
    if (type) {
        cJSON *cc = dt_concept("http://terminology.hl7.org/CodeSystem/v2-0936", type, NULL);
        xf_append(res, "category", cc);
    }
    return 0;
}

static const xf_field_fn obx_fns[] = {obx_status,         obx_code,      obx_effective, obx_range,
                                      obx_interpretation, obx_performer, obx_method,    obx_lab,
                                      obx_device};

const struct xf_segmap seg_obx = {"OBX", "Observation", obx_fns,
                                  sizeof obx_fns / sizeof obx_fns[0]};

int seg_obx_map(struct xf_ctx *x, const struct hl7_seg *obx, cJSON **obs, cJSON **attachment)
{
    cJSON *o = xf_resource("Observation");
    *obs = NULL;
    *attachment = NULL;
    if (xf_segmap_apply(x, &seg_obx, obx, o) != 0) {
        cJSON_Delete(o);
        return -1;
    }
    int rc = dt_obs_value(x, obx, o, attachment);
    if (rc == 1) { /* the value is a document: it belongs to the report, not here */
        cJSON_Delete(o);
        return 0;
    }
    if (rc == 2) { /* no value: say why, from OBX-11 (X cannot be obtained, N not asked) */
        struct hl7_view st = xf_comp(x, hl7_field(x->msg, obx, 11), 1);
        const char *why = xf_eq(st, "X")   ? "cannot-be-obtained"
                          : xf_eq(st, "N") ? "not-asked"
                                           : "unknown";
        xf_put(o, "dataAbsentReason",
               dt_concept("http://terminology.hl7.org/CodeSystem/data-absent-reason", why, NULL));
    }
    *obs = o;
    return 0;
}
