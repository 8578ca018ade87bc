/* seg_rxa — RXA, RXR and ORC to Immunization. */
#include "transforms/seg_rxa.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"
#include "transforms/xf_fields.h"

/* HL7 table 0322 completion status -> event-status (IG CompletionStatus map). */
static const struct dt_code_row completion[] = {
    {"CP", "completed", NULL},
    {"RE", "not-done", NULL},
    {"NA", "not-done", NULL},
    {"PA", "completed", NULL},
};

/* What is "field N as datatype into element" (RXA[Immunization], RXR[Immunization]). */
static const struct xf_field rxa_fields[] = {
    {3, XF_DATETIME, "occurrenceDateTime"}, {5, XF_CODEABLE, "vaccineCode"},
    {15, XF_STRING, "lotNumber"},           {16, XF_DATE, "expirationDate"},
    {18, XF_CODEABLE, "statusReason"},      {19, XF_CODEABLE_EACH, "reasonCode"},
    {22, XF_DATETIME, "recorded"},
};

static const struct xf_field rxr_fields[] = {
    {1, XF_CODEABLE, "route"},
    {2, XF_CODEABLE, "site"},
};

/* RXA-21 D deletes (entered-in-error); else RXA-20 by the map, completed when empty. */
static const char *status_of(struct xf_ctx *x, const struct hl7_seg *rxa)
{
    if (xf_eq(xf_comp(x, xf_take(x, rxa, 21), 1), "D"))
        return "entered-in-error";
    struct hl7_view cs = xf_take(x, rxa, 20);
    const struct dt_code_row *r =
        dt_code_find(completion, sizeof completion / sizeof completion[0], cs, x);
    if (!r && xf_has(cs))
        xf_warn(x, rxa, 20, "completion status not in HL7 table 0322: taken as completed");
    return r ? r->code : "completed";
}

/* RXA-9 administration notes, which the CDC's immunization guide uses for the information
 * source (NIP001): 00 a new record, given by the sender — the primary source; 01-08 a
 * historical record, whose origin reportOrigin names (beyond the IG's RXA map, as
 * FHIR-Converter does). Another note is the record's note. */
static void source(struct xf_ctx *x, const struct hl7_seg *rxa, cJSON *imm)
{
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, rxa, 9)); xf_reps_next(x, &it, &rep);) {
        struct hl7_view code = xf_comp(x, rep, 1), system = xf_comp(x, rep, 3);
        if (xf_eq(system, "NIP001") && xf_eq(code, "00")) {
            xf_put_bool(imm, "primarySource", 1);
        } else if (xf_eq(system, "NIP001") && xf_has(code)) {
            cJSON_DeleteItemFromObjectCaseSensitive(imm, "primarySource");
            xf_put_bool(imm, "primarySource", 0);
            cJSON *origin = dt_codeable(x, rep);
            if (origin && !cJSON_GetObjectItemCaseSensitive(imm, "reportOrigin"))
                xf_put(imm, "reportOrigin", origin);
            else
                cJSON_Delete(origin);
        } else {
            dt_add_note(imm, dt_cwe_text(x, rep));
        }
    }
}

/* RXA-6 amount with RXA-7 units (a CWE: UCUM when it says so) as doseQuantity. */
static void dose(struct xf_ctx *x, const struct hl7_seg *rxa, cJSON *imm)
{
    char value[64];
    const char *amount = xf_text(x, xf_take(x, rxa, 6));
    struct hl7_view units = xf_rep(x, xf_take(x, rxa, 7), 1);
    if (!amount || dt_decimal(amount, value, sizeof value) != 0 || strcmp(amount, "999") == 0)
        return; /* 999: "amount unknown" (CDC implementation guide) */
    cJSON *q = xf_put_object(imm, "doseQuantity");
    xf_put_raw(q, "value", value);
    const char *unit = xf_text(x, xf_comp(x, units, 1));
    if (unit)
        xf_put_str(q, "unit", unit);
    const char *system = dt_code_system(x, xf_comp(x, units, 3));
    if (system && unit) {
        xf_put_str(q, "system", system);
        xf_put_str(q, "code", xf_text(x, xf_comp(x, units, 1)));
    }
}

/* RXA-10 administering provider (function AP, table 0443) and ORC-12 the ordering provider
 * (OP, IG ORC[Immunization]): contained Practitioners. */
static void performer(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *rxa,
                      cJSON *imm)
{
    static const struct {
        uint32_t field;
        const char *id, *ref, *code, *display;
    } roles[] = {{10, "administering", "#administering", "AP", "Administering Provider"},
                 {12, "ordering", "#ordering", "OP", "Ordering Provider"}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        const struct hl7_seg *s = roles[i].field == 10 ? rxa : orc;
        cJSON *who =
            s ? dt_practitioner(x, xf_rep(x, xf_take(x, s, roles[i].field), 1), roles[i].id) : NULL;
        if (!who)
            continue;
        xf_append(imm, "contained", who);
        cJSON *p = cJSON_CreateObject();
        xf_put(p, "function",
               dt_concept("http://terminology.hl7.org/CodeSystem/v2-0443", roles[i].code,
                          roles[i].display));
        xf_put(p, "actor", xf_ref(roles[i].ref));
        xf_append(imm, "performer", p);
    }
}

/* RXA-17 manufacturer: by name (and MVX code as its identifier), not a resource of its own. */
static void manufacturer(struct xf_ctx *x, const struct hl7_seg *rxa, cJSON *imm)
{
    struct hl7_view mvx = xf_rep(x, xf_take(x, rxa, 17), 1);
    const char *name = xf_text(x, xf_comp(x, mvx, 2));
    cJSON *ref = cJSON_CreateObject();
    if (name)
        xf_put_str(ref, "display", name);
    const char *code = xf_text(x, xf_comp(x, mvx, 1));
    if (code) {
        cJSON *id = xf_put_object(ref, "identifier");
        const char *system = dt_code_system(x, xf_comp(x, mvx, 3));
        if (system)
            xf_put_str(id, "system", system);
        xf_put_str(id, "value", xf_text(x, xf_comp(x, mvx, 1)));
    }
    if (cJSON_GetArraySize(ref))
        xf_put(imm, "manufacturer", ref);
    else
        cJSON_Delete(ref);
}

/* ORC-2 placer and ORC-3 filler as identifiers; the key: filler, else placer, else the
 * patient, the vaccine and when (the same dose given again keys alike). */
static void identifiers(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *rxa,
                        cJSON *imm, char key[256])
{
    key[0] = '\0';
    for (uint32_t f = 3; orc && f >= 2; f--) {
        cJSON *id = dt_ident_typed(dt_ei(x, xf_take(x, orc, f)), f == 2 ? "PLAC" : "FILL");
        if (!id)
            continue;
        xf_append(imm, "identifier", id);
        if (!key[0])
            snprintf(key, 256, "%s\x1f%s", x->patient_key,
                     cJSON_GetObjectItemCaseSensitive(id, "value")->valuestring);
    }
    if (!key[0]) {
        struct hl7_view when = hl7_field(x->msg, rxa, 3), code = hl7_field(x->msg, rxa, 5);
        snprintf(key, 256, "%s\x1f%.*s\x1f%.*s", x->patient_key, (int)when.len,
                 when.p ? when.p : "", (int)(code.len > 64 ? 64 : code.len), code.p ? code.p : "");
    }
}

/* RXA-27 administered-at location (PL) and RXA-28 its address: a contained Location (IG). */
static void where_given(struct xf_ctx *x, const struct hl7_seg *rxa, cJSON *imm)
{
    cJSON *loc = dt_location(x, xf_take(x, rxa, 27), "given-at");
    if (!loc) /* RXA-11 administered-at (LA2, before v2.6): its point of care first */
        loc = dt_location(x, xf_take(x, rxa, 11), "given-at");
    cJSON *address = dt_address(x, xf_rep(x, xf_take(x, rxa, 28), 1));
    if (!loc && address) {
        loc = cJSON_CreateObject();
        xf_put_str(loc, "resourceType", "Location");
        xf_put_str(loc, "id", "given-at");
    }
    if (!loc)
        return;
    if (address)
        xf_put(loc, "address", address);
    xf_append(imm, "contained", loc);
    xf_put(imm, "location", xf_ref("#given-at"));
}

int seg_rxa_map(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *rxa,
                const struct hl7_seg *rxr, cJSON **out, char key[256])
{
    if (!xf_has(hl7_field(x->msg, rxa, 5)))
        return xf_fail(x, rxa, 5, 101, "RXA-5 (administered code) is required");
    cJSON *imm = xf_resource("Immunization");
    identifiers(x, orc, rxa, imm, key);
    xf_put_str(imm, "status", status_of(x, rxa));
    xf_fields_apply(x, rxa, rxa_fields, sizeof rxa_fields / sizeof rxa_fields[0], imm);
    if (!cJSON_GetObjectItemCaseSensitive(imm, "occurrenceDateTime")) {
        cJSON_Delete(imm);
        return xf_fail(x, rxa, 3, 101, "RXA-3 (start of administration) is required");
    }
    dose(x, rxa, imm);
    performer(x, orc, rxa, imm);
    manufacturer(x, rxa, imm);
    where_given(x, rxa, imm);
    source(x, rxa, imm);
    xf_fields_apply(x, rxr, rxr_fields, sizeof rxr_fields / sizeof rxr_fields[0], imm);
    (void)xf_take(x, rxa, 1), (void)xf_take(x, rxa, 2); /* sub-id counters: structure */
    *out = imm;
    return 0;
}
