/* seg_pv1 — PV1 and PV2 to Encounter. */
#include "transforms/seg_pv1.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"

#define ACT_CODE  "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define PART_TYPE "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

/* HL7 table 0004 -> v3 ActCode (IG PatientClass[EncounterClass]). */
static const struct dt_code_row classes[] = {
    {"E", "EMER", "emergency"},
    {"I", "IMP", "inpatient encounter"},
    {"O", "AMB", "ambulatory"},
    {"P", "PRENC", "pre-admission"},
    {"R", "R", "Recurring patient"},
    {"B", "B", "Obstetrics"},
    {"C", "C", "Commercial Account"},
    {"N", "N", "Not Applicable"},
    {"U", "U", "Unknown"},
};

/* The doctors of PV1 and their participation types. */
static const struct {
    uint32_t field;
    const char *type, *display, *id;
} doctors[] = {
    {7, "ATND", "attender", "atnd"},       {8, "REF", "referrer", "ref"},
    {9, "CON", "consultant", "con"},       {17, "ADM", "admitter", "adm"},
    {52, "PART", "Participation", "part"}, /* other healthcare provider */
};

static void contain(cJSON *res, cJSON *r)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(res, "contained");
    if (!c)
        c = xf_put_array(res, "contained");
    cJSON_AddItemToArray(c, r);
}

static int pv1_class(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view v = xf_take(x, s, 2);
    const struct dt_code_row *c = dt_code_find(classes, sizeof classes / sizeof classes[0], v, x);
    (void)xf_take(x, s, 1);
    if (!c) {
        if (xf_has(v))
            xf_warn(x, s, 2, "patient class not in HL7 table 0004: class unknown");
        xf_put(res, "class", dt_coding(ACT_CODE, "U", "Unknown"));
        return 0;
    }
    xf_put(res, "class", dt_coding(ACT_CODE, c->code, c->display));
    return 0;
}

static int pv1_visit(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *system;
    cJSON *id = dt_identifier(x, xf_take(x, s, 19), &system);
    if (id) { /* first: the visit number is the Encounter's key; the IG types it VN */
        cJSON_DeleteItemFromObjectCaseSensitive(id, "type");
        xf_put(id, "type", dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "VN", NULL));
        xf_put_str(id, "use", "official");
        xf_append(res, "identifier", id);
    }
    struct hl7_view alts = xf_take(x, s, 50); /* alternate visit ids */
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, alts); xf_reps_next(x, &it, &rep);) {
        cJSON *alt = dt_identifier(x, rep, &system);
        if (alt)
            xf_append(res, "identifier", alt);
    }
    return 0;
}

static int pv1_period(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_period(x, res, "period", xf_take(x, s, 44), xf_take(x, s, 45), DT_DATETIME);
    return 0;
}

static int pv1_doctors(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    for (size_t i = 0; i < sizeof doctors / sizeof doctors[0]; i++) {
        cJSON *pr = dt_practitioner(x, xf_take(x, s, doctors[i].field), doctors[i].id);
        if (!pr)
            continue;
        char ref[16];
        snprintf(ref, sizeof ref, "#%s", doctors[i].id);
        contain(res, pr);
        cJSON *part = cJSON_CreateObject(), *types = xf_put_array(part, "type");
        cJSON_AddItemToArray(types, dt_concept(PART_TYPE, doctors[i].type, doctors[i].display));
        xf_put(part, "individual", xf_ref(ref));
        xf_append(res, "participant", part);
    }
    return 0;
}

/* PV1-3 (current), PV1-6 (prior, completed), PV1-11 (temporary: active, the patient is there
 * now, as A09/A10 track), PV1-42 (pending: reserved) and PV1-43 (prior temporary,
 * completed) locations, as the IG's PV1[Encounter] map lists them. */
/* HL7 table 0116 bed status -> v2-0116 (the IG's BedStatus map keeps the v2 codes). */
static void bed_status(struct xf_ctx *x, const struct hl7_seg *s, cJSON *loc)
{
    static const struct dt_code_row beds[] = {{"C", "C", "Closed"},   {"H", "H", "Housekeeping"},
                                              {"I", "I", "Isolated"}, {"K", "K", "Contaminated"},
                                              {"O", "O", "Occupied"}, {"U", "U", "Unoccupied"}};
    const struct dt_code_row *b =
        dt_code_map(x, beds, sizeof beds / sizeof beds[0], xf_take(x, s, 40), "0116");
    if (b)
        xf_put(loc, "operationalStatus",
               dt_coding("http://terminology.hl7.org/CodeSystem/v2-0116", b->code, b->display));
}

static int pv1_locations(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const struct {
        uint32_t field;
        const char *id, *status;
    } places[] = {{3, "loc", "active"},
                  {6, "prior-loc", "completed"},
                  {11, "temp-loc", "active"},
                  {42, "reserved-loc", "reserved"},
                  {43, "prior-temp-loc", "completed"}};
    /* IG: a pre-admit's assigned location is planned, not yet active */
    bool planned = xf_eq(xf_comp(x, hl7_field(x->msg, s, 2), 1), "P");
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        cJSON *loc = dt_location(x, xf_take(x, s, places[i].field), places[i].id);
        if (!loc)
            continue;
        char ref[20];
        snprintf(ref, sizeof ref, "#%s", places[i].id);
        contain(res, loc);
        cJSON *el = cJSON_CreateObject();
        xf_put(el, "location", xf_ref(ref));
        xf_put_str(el, "status", planned && i == 0 ? "planned" : places[i].status);
        xf_append(res, "location", el);
        if (i == 0) /* PV1-40 bed status: the bed's operational status (IG BedStatus) */
            bed_status(x, s, loc);
    }
    return 0;
}

static int pv1_service(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *type = dt_codeable(x, xf_take(x, s, 4)); /* admission type */
    if (type)
        xf_append(res, "type", type);
    /* beyond the IG's PV1 map: PV1-18 patient type (user-defined table 0018) is another type
     * of the visit; PV1-39 servicing facility the organisation providing it */
    if ((type = dt_codeable(x, xf_take(x, s, 18))))
        xf_append(res, "type", type);
    const char *facility = xf_text(x, xf_comp(x, xf_take(x, s, 39), 1));
    if (facility) {
        cJSON *ref = xf_put_object(res, "serviceProvider");
        xf_put_str(ref, "type", "Organization");
        xf_put_str(ref, "display", facility);
    }
    cJSON *service = dt_codeable_table(x, xf_take(x, s, 10), "0069");
    if (service)
        xf_put(res, "serviceType", service);
    return 0;
}

/* A CWE field as a CodeableConcept member of obj, when it has one. */
static void put_codeable(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view v)
{
    cJSON *cc = dt_codeable(x, xf_rep(x, v, 1));
    if (cc)
        xf_put(obj, name, cc);
}

static int pv1_hospitalization(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *h = cJSON_CreateObject();
    const char *system;
    cJSON *pre = dt_identifier(x, xf_take(x, s, 5), &system);
    if (pre)
        xf_put(h, "preAdmissionIdentifier", pre);
    put_codeable(x, h, "reAdmission", xf_take(x, s, 13));
    struct hl7_view vips = xf_take(x, s, 16);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, vips); xf_reps_next(x, &it, &rep);) {
        cJSON *vip = dt_codeable(x, rep);
        if (vip)
            xf_append(h, "specialCourtesy", vip);
    }
    cJSON *src = dt_codeable_table(x, xf_take(x, s, 14), "0023");
    if (src)
        xf_put(h, "admitSource", src);
    cJSON *disp = dt_codeable_table(x, xf_take(x, s, 36), "0112");
    if (disp)
        xf_put(h, "dischargeDisposition", disp);
    cJSON *diet = dt_codeable(x, xf_rep(x, xf_take(x, s, 38), 1));
    if (diet)
        xf_append(h, "dietPreference", diet);
    for (xf_reps_init(x, &it, xf_take(x, s, 15)); xf_reps_next(x, &it, &rep);) {
        cJSON *ambulatory = dt_codeable_table(x, rep, "0009"); /* ambulatory status */
        if (ambulatory)
            xf_append(h, "specialArrangement", ambulatory);
    }
    /* PV1-37 discharged to location (DLD: a CWE of the place, then the date): by name */
    struct hl7_view place = xf_comp(x, xf_take(x, s, 37), 1);
    const char *where = xf_text(x, xf_sub(x, place, 2));
    if (!where)
        where = xf_text(x, xf_sub(x, place, 1));
    if (where) {
        cJSON *dest = xf_put_object(h, "destination");
        xf_put_str(dest, "type", "Location");
        xf_put_str(dest, "display", where);
    }
    if (cJSON_GetArraySize(h))
        xf_put(res, "hospitalization", h);
    else
        cJSON_Delete(h);
    return 0;
}

/* PV1-54 service episode identifier: the episode of care, by its identifier (IG). */
static int pv1_episode(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *system;
    cJSON *id = dt_identifier(x, xf_take(x, s, 54), &system);
    if (id) {
        cJSON *ref = cJSON_CreateObject();
        xf_put_str(ref, "type", "EpisodeOfCare");
        xf_put(ref, "identifier", id);
        xf_append(res, "episodeOfCare", ref);
    }
    return 0;
}

static const xf_field_fn pv1_fns[] = {
    pv1_class,   pv1_visit,     pv1_period,          pv1_service,
    pv1_doctors, pv1_locations, pv1_hospitalization, pv1_episode,
};

const struct xf_segmap seg_pv1 = {"PV1", "Encounter", pv1_fns, sizeof pv1_fns / sizeof pv1_fns[0]};

/* PV2-1: the location the patient is expected to move to, planned (IG PV2[Encounter]). */
static int pv2_pending(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *loc = dt_location(x, xf_take(x, s, 1), "pending-loc");
    if (!loc)
        return 0;
    contain(res, loc);
    cJSON *el = cJSON_CreateObject();
    xf_put(el, "location", xf_ref("#pending-loc"));
    xf_put_str(el, "status", "planned");
    xf_append(res, "location", el);
    return 0;
}

/* PV2-3: the admit reason. */
static int pv2_reason(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 3));
    if (cc)
        xf_append(res, "reasonCode", cc);
    return 0;
}

/* PV2-11 actual length of stay (days), PV2-25 visit priority. */
static int pv2_length_priority(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *days = xf_text(x, xf_take(x, s, 11));
    char dec[32];
    if (days && dt_decimal(days, dec, sizeof dec) == 0) {
        cJSON *q = xf_put_object(res, "length");
        xf_put_raw(q, "value", dec);
        xf_put_str(q, "unit", "days");
        xf_put_str(q, "system", "http://unitsofmeasure.org");
        xf_put_str(q, "code", "d");
    }
    cJSON *prio = dt_codeable(x, xf_take(x, s, 25));
    if (prio)
        xf_put(res, "priority", prio);
    return 0;
}

/* PV2-8/9 the expected admit and discharge times (the IG: planned start and end, extensions
 * from R5 — plans, not the period), PV2-13 the referrer, PV2-38 the mode of arrival. */
static int pv2_plans(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    static const struct {
        uint32_t field;
        const char *url;
    } planned[] = {
        {8, "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedStartDate"},
        {9, "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate"}};
    for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++) {
        char when[DT_MAX];
        if (dt_format(x, xf_take(x, s, planned[i].field), DT_DATETIME, when) != 0)
            continue;
        xf_add_extension(res, planned[i].url, "valueDateTime", cJSON_CreateString(when));
    }
    struct hl7_view referrer = xf_rep(x, xf_take(x, s, 13), 1);
    const char *family = xf_text(x, xf_first_sub(x, xf_comp(x, referrer, 2)));
    if (family) {
        cJSON *part = cJSON_CreateObject(), *who = xf_put_object(part, "individual");
        xf_append(part, "type", dt_concept(PART_TYPE, "REF", "referrer"));
        xf_put_str(who, "type", "Practitioner");
        xf_put_str(who, "display", family);
        xf_append(res, "participant", part);
    }
    struct hl7_view arrival = xf_rep(x, xf_take(x, s, 38), 1);
    cJSON *cc = dt_codeable(x, arrival);
    cJSON *coding =
        cc ? cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(cc, "coding"), 0) : NULL;
    cJSON_Delete(cc);
    if (coding) {
        xf_add_extension(res, "http://hl7.org/fhir/StructureDefinition/encounter-modeOfArrival",
                         "valueCoding", coding);
    }
    return 0;
}

/* PV2-12 visit description as the Encounter's narrative (IG text.div), escaped; PV2-22 visit
 * protection indicator Y: the visit is restricted (a v3 Confidentiality R security label —
 * the IG's Yes/No coding would say "true" and nothing a reader of meta.security acts on). */
static int pv2_text(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *text = xf_text(x, xf_take(x, s, 12));
    if (text) {
        struct strbuf div;
        strbuf_init(&div, 256);
        strbuf_puts(&div, "<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        for (const char *c = text; *c; c++) {
            const char *e = *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : *c == '&' ? "&amp;" : NULL;
            if (e)
                strbuf_puts(&div, e);
            else
                strbuf_putc(&div, *c);
        }
        strbuf_puts(&div, "</div>");
        cJSON *t = xf_put_object(res, "text");
        xf_put_str(t, "status", "additional");
        xf_put_str(t, "div", div.p);
        strbuf_cleanup(&div);
    }
    struct hl7_view protect = xf_take(x, s, 22);
    if (xf_eq(protect, "Y"))
        xf_append(xf_object(res, "meta"), "security",
                  dt_coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R",
                            "restricted"));
    else if (xf_has(protect) && !xf_eq(protect, "N"))
        xf_warn_at(x, protect, "not Y or N (HL7 table 0136): no security label");
    return 0;
}

static const xf_field_fn pv2_fns[] = {pv2_text, pv2_pending, pv2_reason, pv2_length_priority,
                                      pv2_plans};

const struct xf_segmap seg_pv2 = {"PV2", "Encounter", pv2_fns, sizeof pv2_fns / sizeof pv2_fns[0]};

bool seg_pv1_says_something(struct xf_ctx *x, const struct hl7_seg *pv1)
{
    struct hl7_view cls = xf_comp(x, hl7_field(x->msg, pv1, 2), 1);
    if (xf_has(cls) && !xf_eq(cls, "N"))
        return true;
    for (uint32_t f = 3; f <= hl7_seg_nfields(x->msg, pv1); f++)
        if (xf_has(hl7_field(x->msg, pv1, f)))
            return true;
    return false;
}

cJSON *seg_pv1_visit_ident(cJSON *enc)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(enc, "identifier"), 0);
}
