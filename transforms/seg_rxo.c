/* seg_rxo — ORC/RXO/RXR/TQ1 to MedicationRequest. */
#include "transforms/seg_rxo.h"

#include <stdlib.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_name.h"
#include "transforms/dt_value.h"
#include "transforms/seg_obr.h"

/* Moves member from of obj to to of dest (a new name), when present. */
static void move(cJSON *obj, const char *from, cJSON *dest, const char *to)
{
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(obj, from);
    if (item)
        xf_put(dest, to, item);
}

/* The request's common part, as a MedicationRequest: a ServiceRequest's status revoked is a
 * MedicationRequest's cancelled; the placer group (ORC-4) its groupIdentifier; ORC-29 order
 * type its category (inpatient, outpatient); the timing the dosage's. */
static cJSON *from_order(cJSON *sr, cJSON *dosage)
{
    cJSON_ReplaceItemInObjectCaseSensitive(sr, "resourceType",
                                           cJSON_CreateString("MedicationRequest"));
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(sr, "status");
    if (cJSON_IsString(status) && strcmp(status->valuestring, "revoked") == 0)
        cJSON_ReplaceItemInObjectCaseSensitive(sr, "status", cJSON_CreateString("cancelled"));
    move(sr, "requisition", sr, "groupIdentifier");
    cJSON *where = cJSON_DetachItemFromObjectCaseSensitive(sr, "locationCode");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(where, 0), "coding"),
                           0),
        "code");
    if (cJSON_IsString(code))
        xf_append(sr, "category",
                  dt_concept("http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                             strcmp(code->valuestring, "HOSP") == 0 ? "inpatient" : "outpatient",
                             NULL));
    cJSON_Delete(where);
    move(sr, "occurrenceTiming", dosage, "timing");
    cJSON_DeleteItemFromObjectCaseSensitive(sr, "occurrenceDateTime");
    cJSON *dose = cJSON_DetachItemFromObjectCaseSensitive(sr, "quantityQuantity");
    if (dose) { /* TQ1-2 / TQ-1: the quantity of each dose */
        cJSON *rate = cJSON_CreateObject();
        xf_put(rate, "doseQuantity", dose);
        xf_append(dosage, "doseAndRate", rate);
    }
    /* the callback number extension is ServiceRequest's, not MedicationRequest's */
    cJSON_DeleteItemFromObjectCaseSensitive(sr, "extension");
    return sr;
}

/* RXO-2/3 the dose range, in RXO-4's units (a UCUM code when it has one). */
static void dose_range(struct xf_ctx *x, const struct hl7_seg *rxo, cJSON *dosage)
{
    struct hl7_view units = xf_take(x, rxo, 4);
    cJSON *range = cJSON_CreateObject();
    for (uint32_t f = 2; f <= 3; f++) {
        const char *n = xf_text(x, xf_take(x, rxo, f));
        char dec[64];
        if (!n || dt_decimal(n, dec, sizeof dec) != 0)
            continue;
        cJSON *q = xf_put_object(range, f == 2 ? "low" : "high");
        xf_put_raw(q, "value", dec);
        xf_add_str(x, q, "unit",
                   xf_has(xf_comp(x, units, 2)) ? xf_comp(x, units, 2) : xf_comp(x, units, 1));
        const char *system = dt_code_system(x, xf_comp(x, units, 3));
        if (system && xf_has(xf_comp(x, units, 1))) {
            xf_put_str(q, "system", system);
            xf_add_str(x, q, "code", xf_comp(x, units, 1));
        }
    }
    if (!cJSON_GetArraySize(range)) {
        cJSON_Delete(range);
        return;
    }
    cJSON *rate = cJSON_CreateObject();
    xf_put(
        rate, "type",
        dt_concept("http://terminology.hl7.org/CodeSystem/dose-rate-type", "ordered", "Ordered"));
    xf_put(rate, "doseRange", range);
    xf_append(dosage, "doseAndRate", rate);
}

/* The drug: RXO-1 the code; with RXO-5 (dose form) or a strength (RXO-18/19 per RXO-25/26)
 * a contained Medication, else the code alone. */
static void medication(struct xf_ctx *x, const struct hl7_seg *rxo, cJSON *mr)
{
    cJSON *code = dt_codeable(x, xf_take(x, rxo, 1));
    cJSON *form = dt_codeable(x, xf_take(x, rxo, 5));
    cJSON *strength = cJSON_CreateObject();
    static const uint32_t parts[][2] = {{18, 19}, {25, 26}};
    for (int i = 0; i < 2; i++) {
        const char *n = xf_text(x, xf_take(x, rxo, parts[i][0]));
        char dec[64];
        if (!n || dt_decimal(n, dec, sizeof dec) != 0)
            continue;
        cJSON *q = xf_put_object(strength, i == 0 ? "numerator" : "denominator");
        xf_put_raw(q, "value", dec);
        struct hl7_view u = xf_comp(x, xf_take(x, rxo, parts[i][1]), 1);
        xf_add_str(x, q, "unit", u);
    }
    if (!form && !cJSON_GetObjectItemCaseSensitive(strength, "numerator")) {
        cJSON_Delete(strength);
        if (code)
            xf_put(mr, "medicationCodeableConcept", code);
        return;
    }
    cJSON *med = cJSON_CreateObject();
    xf_put_str(med, "resourceType", "Medication");
    xf_put_str(med, "id", "med");
    if (code)
        xf_put(med, "code", code);
    if (form)
        xf_put(med, "form", form);
    if (cJSON_GetObjectItemCaseSensitive(strength, "numerator")) {
        if (!cJSON_GetObjectItemCaseSensitive(strength, "denominator"))
            xf_put_number(xf_put_object(strength, "denominator"), "value", 1);
        cJSON *ingredient = cJSON_CreateObject();
        xf_put(ingredient, "itemCodeableConcept",
               cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(med, "code"), 1));
        xf_put(ingredient, "strength", strength);
        if (cJSON_GetObjectItemCaseSensitive(ingredient, "itemCodeableConcept"))
            xf_append(med, "ingredient", ingredient);
        else
            cJSON_Delete(ingredient);
    } else {
        cJSON_Delete(strength);
    }
    xf_append(mr, "contained", med);
    xf_put(mr, "medicationReference", xf_ref("#med"));
}

cJSON *seg_rxo_request(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *rxo,
                       const struct hl7_seg *rxr, const struct hl7_seg *tq1)
{
    cJSON *sr = seg_obr_order_request(x, orc, NULL);
    if (tq1)
        seg_obr_timing(x, tq1, sr);
    cJSON *dosage = cJSON_CreateObject();
    cJSON *mr = from_order(sr, dosage);
    /* the IG: a pharmacy order is the original order */
    cJSON_ReplaceItemInObjectCaseSensitive(mr, "intent", cJSON_CreateString("original-order"));
    medication(x, rxo, mr);
    if (!cJSON_GetObjectItemCaseSensitive(
            mr, "requester")) { /* RXO-14, the prescriber, when ORC-12 is not */
        cJSON *who = dt_person_ref(x, xf_take(x, rxo, 14), "Practitioner");
        if (who)
            xf_put(mr, "requester", who);
    }
    /* RXO-7 the provider's administration instructions, which the IG leaves out: the
     * instruction the patient reads (patientInstruction, as FHIR-Converter has it); RXO-6
     * the instructions to the pharmacy a note */
    struct hl7_view how = xf_rep(x, xf_take(x, rxo, 7), 1);
    xf_add_str(x, dosage, "patientInstruction",
               xf_has(xf_comp(x, how, 2)) ? xf_comp(x, how, 2) : xf_comp(x, how, 1));
    dt_add_note(mr, dt_cwe_text(x, xf_rep(x, xf_take(x, rxo, 6), 1)));
    dose_range(x, rxo, dosage);
    if (rxr) {
        static const struct {
            uint32_t field;
            const char *element;
        } route[] = {{1, "route"}, {2, "site"}, {4, "method"}, {5, "additionalInstruction"}};
        for (size_t i = 0; i < sizeof route / sizeof route[0]; i++) {
            cJSON *cc = dt_codeable(x, xf_take(x, rxr, route[i].field));
            if (cc && route[i].field == 5)
                xf_append(dosage, route[i].element, cc);
            else if (cc)
                xf_put(dosage, route[i].element, cc);
        }
    }
    if (cJSON_GetArraySize(dosage))
        xf_append(mr, "dosageInstruction", dosage);
    else
        cJSON_Delete(dosage);
    /* RXO-9 substitution allowed, by the IG's AllowSubstitution map (table 0161) */
    static const struct dt_code_row substitutions[] = {
        {"N", "N", "Substitutions are NOT authorized."},
        {"G", "G", "Allow generic substitutions."},
        {"T", "T", "Allow therapeutic substitutions"}};
    const struct dt_code_row *s =
        dt_code_map(x, substitutions, sizeof substitutions / sizeof substitutions[0],
                    xf_take(x, rxo, 9), "0161");
    if (s)
        xf_put(xf_put_object(mr, "substitution"), "allowedCodeableConcept",
               dt_concept("http://terminology.hl7.org/CodeSystem/v2-0161", s->code, s->display));
    /* RXO-11/12 the amount to dispense, RXO-13 the refills */
    cJSON *dispense = cJSON_CreateObject();
    const char *amount = xf_text(x, xf_take(x, rxo, 11));
    char dec[64];
    if (amount && dt_decimal(amount, dec, sizeof dec) == 0) {
        cJSON *q = xf_put_object(dispense, "quantity");
        xf_put_raw(q, "value", dec);
        struct hl7_view u = xf_take(x, rxo, 12);
        xf_add_str(x, q, "unit", xf_has(xf_comp(x, u, 2)) ? xf_comp(x, u, 2) : xf_comp(x, u, 1));
    }
    const char *refills = xf_text(x, xf_take(x, rxo, 13));
    if (refills && strspn(refills, "0123456789") == strlen(refills) && strlen(refills) < 7)
        xf_put_number(dispense, "numberOfRepeatsAllowed", (double)atoi(refills));
    else if (refills)
        xf_warn(x, rxo, 13, "not a whole number of refills: not used");
    if (cJSON_GetArraySize(dispense))
        xf_put(mr, "dispenseRequest", dispense);
    else
        cJSON_Delete(dispense);
    return mr;
}
