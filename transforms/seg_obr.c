/* seg_obr — ORC/OBR to ServiceRequest and DiagnosticReport. */
#include "transforms/seg_obr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"

/* HL7 table 0123 result status -> diagnostic-report-status, exactly the IG's
 * ResultStatus[Non-Queries] map; codes it leaves unmapped (A, Y, Z...) give unknown. */
static const struct dt_code_row report_status[] = {
    {"O", "registered", NULL},  {"I", "registered", NULL}, {"S", "registered", NULL},
    {"P", "preliminary", NULL}, {"C", "corrected", NULL},  {"R", "partial", NULL},
    {"F", "final", NULL},       {"X", "cancelled", NULL},
};

/* HL7 table 0038 order status -> request-status (IG OrderStatus map). */
static const struct dt_code_row order_status[] = {
    {"A", "active", NULL},   {"CA", "revoked", NULL},          {"CM", "completed", NULL},
    {"DC", "revoked", NULL}, {"ER", "entered-in-error", NULL}, {"HD", "on-hold", NULL},
    {"IP", "active", NULL},  {"RP", "revoked", NULL},          {"SC", "active", NULL},
};

/* HL7 table 0119 order control -> request-status (IG OrderControlCode map; codes it leaves
 * unmapped are not listed). */
static const struct dt_code_row order_control[] = {
    {"AF", "active", NULL},    {"CA", "active", NULL},  {"CR", "revoked", NULL},
    {"DC", "revoked", NULL},   {"DF", "revoked", NULL}, {"DR", "revoked", NULL},
    {"FU", "completed", NULL}, {"HD", "active", NULL},  {"HR", "on-hold", NULL},
    {"NW", "active", NULL},    {"OC", "revoked", NULL}, {"OD", "revoked", NULL},
    {"OH", "on-hold", NULL},   {"OK", "active", NULL},  {"PR", "active", NULL},
    {"PY", "active", NULL},    {"RL", "active", NULL},  {"RO", "active", NULL},
    {"RQ", "active", NULL},
};

/* Placer from ORC-2 else OBR-2, filler from ORC-3 else OBR-3, into res.identifier, the
 * number in field `first` first: it is the resource's key (placer for the request, filler
 * for the report). */
static void order_ids(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr,
                      cJSON *res, uint32_t first)
{
    const uint32_t fields[2] = {first, first == 2 ? 3 : 2};
    for (int i = 0; i < 2; i++) {
        uint32_t f = fields[i];
        struct hl7_view v = orc ? xf_take(x, orc, f) : (struct hl7_view){0};
        struct hl7_view w = xf_take(x, obr, f);
        cJSON *id = dt_ident_typed(dt_ei(x, xf_has(v) ? v : w), f == 2 ? "PLAC" : "FILL");
        if (!id)
            continue;
        xf_append(res, "identifier", id);
    }
}

/* HL7 table 0482 order type -> v3 RoleCode (IG OrderType). */
static const struct dt_code_row order_type[] = {
    {"I", "HOSP", "Hospital"},
    {"O", "OF", "Outpatient facility"},
};

static bool same_text(struct hl7_view a, struct hl7_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* The ordering facility (ORC-21 name, ORC-22 address, ORC-23 phone) and the orderer's address
 * (ORC-24): the IG's requester is then a PractitionerRole of the ordering provider at that
 * organization; here contained, with the provider a contained Practitioner when ORC-24 gives
 * an address. */
static void ordering_facility(struct xf_ctx *x, const struct hl7_seg *orc, struct hl7_view orderer,
                              cJSON *sr)
{
    bool any = false;
    for (uint32_t f = 21; f <= 24; f++)
        any = any || xf_has(hl7_field(x->msg, orc, f));
    if (!any)
        return;
    cJSON *org = cJSON_CreateObject(), *item;
    xf_put_str(org, "resourceType", "Organization");
    xf_put_str(org, "id", "facility");
    xf_add_str(x, org, "name", xf_comp(x, xf_rep(x, xf_take(x, orc, 21), 1), 1));
    if ((item = dt_org_address(x, xf_rep(x, xf_take(x, orc, 22), 1))))
        xf_append(org, "address", item);
    if ((item = dt_org_telecom(x, xf_rep(x, xf_take(x, orc, 23), 1))))
        xf_append(org, "telecom", item);
    cJSON *address = dt_address(x, xf_rep(x, xf_take(x, orc, 24), 1));
    if (cJSON_GetArraySize(org) == 2 && !address) {
        cJSON_Delete(org);
        return;
    }
    cJSON *role = cJSON_CreateObject();
    xf_put_str(role, "resourceType", "PractitionerRole");
    xf_put_str(role, "id", "requester");
    cJSON *who = address ? dt_practitioner(x, orderer, "orderer") : NULL;
    if (who) {
        xf_append(who, "address", address);
        xf_append(sr, "contained", who);
        xf_put(role, "practitioner", xf_ref("#orderer"));
    } else {
        cJSON_Delete(address);
        cJSON *by_display = cJSON_DetachItemFromObjectCaseSensitive(sr, "requester");
        if (by_display)
            xf_put(role, "practitioner", by_display);
    }
    if (cJSON_GetArraySize(org) > 2) {
        xf_append(sr, "contained", org);
        xf_put(role, "organization", xf_ref("#facility"));
    } else {
        cJSON_Delete(org);
    }
    xf_append(sr, "contained", role);
    cJSON_DeleteItemFromObjectCaseSensitive(sr, "requester");
    xf_put(sr, "requester", xf_ref("#requester"));
}

/* The requester (one) or a list entry (name) from the XCN of field. */
static void by_name(struct xf_ctx *x, cJSON *res, const char *name, struct hl7_view xcn)
{
    cJSON *ref = dt_person_ref(x, xcn, "Practitioner");
    if (ref && strcmp(name, "requester") == 0)
        xf_put(res, name, ref);
    else if (ref)
        xf_append(res, name, ref);
}

/* OBR-53 (alternate placer order number, a CX) is one more identifier of the request. */
static void alternate_placer(struct xf_ctx *x, const struct hl7_seg *obr, cJSON *sr)
{
    const char *system;
    cJSON *id = dt_identifier(x, xf_rep(x, xf_take(x, obr, 53), 1), &system);
    if (!id)
        return;
    xf_append(sr, "identifier", id);
}

/* The person of an NDL (OBR-32..35): its first component is a CNN, id&family&given...;
 * a Reference by name, or NULL. */
static cJSON *ndl_person(struct xf_ctx *x, struct hl7_view ndl)
{
    const char *family = xf_text(x, xf_sub(x, xf_comp(x, xf_rep(x, ndl, 1), 1), 2));
    if (!family)
        return NULL;
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", "Practitioner");
    xf_put_str(ref, "display", family);
    return ref;
}

static int report_fields(struct xf_ctx *x, const struct hl7_seg *obr, cJSON *res)
{
    const struct dt_code_row *st =
        dt_code_map(x, report_status, sizeof report_status / sizeof report_status[0],
                    xf_take(x, obr, 25), "0123");
    xf_put_str(res, "status", st ? st->code : "unknown");
    const char *section = xf_text(x, xf_comp(x, xf_take(x, obr, 24), 1));
    if (section)
        cJSON_AddItemToArray(
            xf_put_array(res, "category"),
            dt_concept("http://terminology.hl7.org/CodeSystem/v2-0074", section, NULL));
    cJSON *code = dt_codeable(x, xf_take(x, obr, 4));
    if (!code)
        return xf_fail(x, obr, 4, 101, "OBR-4 (universal service identifier) is empty");
    xf_put(res, "code", code);
    /* OBR-7 to OBR-8 (observation end) is a period; OBR-7 alone a time */
    struct hl7_view from = xf_take(x, obr, 7), to = xf_take(x, obr, 8);
    if (!xf_has(to) || !dt_add_period(x, res, "effectivePeriod", from, to, DT_DATETIME))
        dt_add(x, res, "effectiveDateTime", from, DT_DATETIME);
    dt_add(x, res, "issued", xf_take(x, obr, 22), DT_INSTANT);
    /* OBR-32 is an NDL whose first component is a CNN: id&family&given... */
    cJSON *ref = ndl_person(x, xf_take(x, obr, 32));
    if (ref)
        xf_append(res, "resultsInterpreter", ref);
    /* OBR-34 technician, OBR-35 transcriptionist: performers with their function (IG) */
    for (uint32_t f = 34; f <= 35; f++) {
        if (!(ref = ndl_person(x, xf_take(x, obr, f))))
            continue;
        xf_add_extension(ref, "http://hl7.org/fhir/StructureDefinition/event-performerFunction",
                         "valueCodeableConcept",
                         dt_concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                    f == 34 ? "SPRF" : "TRANS",
                                    f == 34 ? "secondary performer" : "Transcriber"));
        xf_append(res, "performer", ref);
    }
    (void)xf_take(x, obr, 1);
    return 0;
}

/* IG: ORC-5 (order status) decides; else ORC-1 (order control); else unknown. */
const char *seg_obr_request_status(struct xf_ctx *x, const struct hl7_seg *orc)
{
    const struct dt_code_row *st =
        orc ? dt_code_find(order_status, sizeof order_status / sizeof order_status[0],
                           xf_take(x, orc, 5), x)
            : NULL;
    struct hl7_view control = orc ? xf_take(x, orc, 1) : (struct hl7_view){0};
    if (!st && orc) /* ORC-1 is read either way: the event's meaning (a cancel...) */
        st =
            dt_code_find(order_control, sizeof order_control / sizeof order_control[0], control, x);
    return st ? st->code : "unknown";
}

static void priority(struct xf_ctx *x, struct hl7_view v, cJSON *sr);
static void legacy_timing(struct xf_ctx *x, struct hl7_view tq, cJSON *sr);

/* The request's fields from ORC and OBR; either may be missing (an ORC alone is an order
 * too, an OBR without ORC one in ORU). */
static void request_fields(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr,
                           cJSON *res)
{
    xf_put_str(res, "status", seg_obr_request_status(x, orc));
    /* OBR-11 specimen action code G: a reflex order (IG OBR[ServiceRequest]) */
    xf_put_str(res, "intent", obr && xf_eq(xf_take(x, obr, 11), "G") ? "reflex-order" : "order");
    if (obr) {
        struct xf_reps it;
        struct hl7_view rep;
        for (xf_reps_init(x, &it, xf_take(x, obr, 31)); xf_reps_next(x, &it, &rep);) {
            cJSON *cc = dt_codeable(x, rep); /* reason for study */
            if (cc)
                xf_append(res, "reasonCode", cc);
        }
        xf_put(res, "code", dt_codeable(x, hl7_field(x->msg, obr, 4)));
    }
    if (orc) {
        /* ORC-4 placer group number (EI, or EIP from v2.7): the requisition, typed PGN */
        const char *group = xf_text(x, xf_sub(x, xf_comp(x, xf_take(x, orc, 4), 1), 1));
        if (group) {
            cJSON *req = xf_put_object(res, "requisition");
            xf_put(req, "type",
                   dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "PGN", NULL));
            xf_put_str(req, "value", group);
        }
        /* ORC-8 parent order (EIP: placer&...^filler&...): basedOn it, by its number */
        struct hl7_view parent = xf_take(x, orc, 8);
        for (uint32_t k = 1; k <= 2; k++) {
            cJSON *id =
                dt_ident_typed(dt_ei_sub(x, xf_comp(x, parent, k)), k == 1 ? "PLAC" : "FILL");
            if (id) { /* one reference: the placer's number, else the filler's */
                xf_append(res, "basedOn", dt_request_ref(id));
                break;
            }
        }
        (void)xf_take(x, orc, 1);
        dt_add(x, res, "authoredOn", xf_take(x, orc, 9), DT_DATETIME);
        by_name(x, res, "requester", xf_take(x, orc, 12));
        const struct dt_code_row *where = dt_code_map(
            x, order_type, sizeof order_type / sizeof order_type[0], xf_take(x, orc, 29), "0482");
        if (where) /* ORC-29 order type: inpatient or outpatient (IG OrderType) */
            xf_append(res, "locationCode",
                      dt_concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", where->code,
                                 where->display));
    }
    if (obr && !cJSON_GetObjectItemCaseSensitive(res, "basedOn")) {
        /* OBR-29 parent (EIP), as ORC-8: basedOn it, by its number (IG, without OBR-50) */
        struct hl7_view parent = xf_take(x, obr, 29);
        for (uint32_t k = 1; k <= 2; k++) {
            cJSON *id =
                dt_ident_typed(dt_ei_sub(x, xf_comp(x, parent, k)), k == 1 ? "PLAC" : "FILL");
            if (id) {
                xf_append(res, "basedOn", dt_request_ref(id));
                break;
            }
        }
    }
    if (obr) {
        /* OBR-16 ordering provider: the requester when ORC-12 is empty; the same person
         * again otherwise, or a second one the request has no room for */
        struct hl7_view ordering = hl7_field(x->msg, obr, 16);
        if (!cJSON_GetObjectItemCaseSensitive(res, "requester"))
            by_name(x, res, "requester", xf_take(x, obr, 16));
        else if (orc && same_text(ordering, hl7_field(x->msg, orc, 12)))
            (void)xf_take(x, obr, 16);
        dt_add(x, res, "occurrenceDateTime", xf_take(x, obr, 6), DT_DATETIME); /* requested */
        priority(x, xf_take(x, obr, 5), res); /* deprecated: TQ-6 and TQ1-9 say it later */
    }
    struct hl7_view tq = orc ? xf_take(x, orc, 7) : (struct hl7_view){0};
    if (!xf_has(tq) && obr)
        tq = xf_take(x, obr, 27);
    legacy_timing(x, tq, res);
    if (orc)
        ordering_facility(x, orc,
                          xf_has(hl7_field(x->msg, orc, 12)) || !obr ? hl7_field(x->msg, orc, 12)
                                                                     : hl7_field(x->msg, obr, 16),
                          res);
    /* OBR-17, else ORC-14: the number to call back about the order */
    struct hl7_view phone = obr ? xf_take(x, obr, 17) : (struct hl7_view){0};
    if (!xf_has(phone) && orc)
        phone = xf_take(x, orc, 14);
    xf_add_extension(
        res, "http://hl7.org/fhir/StructureDefinition/servicerequest-order-callback-phone-number",
        "valueContactPoint", dt_contact_point(x, xf_rep(x, phone, 1), "work"));
}

cJSON *seg_obr_order_request(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr)
{
    cJSON *sr = xf_resource("ServiceRequest");
    if (orc)
        order_ids(x, orc, obr ? obr : orc, sr, 2);
    request_fields(x, orc, obr, sr);
    return sr;
}

/* Puts item as key of obj, replacing what was there: a later, more specific source of a
 * field (TQ1 over the legacy TQ, a period over OBR-6) wins. */
static void put_over(cJSON *obj, const char *key, cJSON *item)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    xf_put(obj, key, item);
}

/* The request's occurrenceTiming (replacing an occurrenceDateTime), made when absent. */
static cJSON *timing_of(cJSON *sr)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(sr, "occurrenceTiming");
    if (t)
        return t;
    cJSON_DeleteItemFromObjectCaseSensitive(sr, "occurrenceDateTime");
    return xf_put_object(sr, "occurrenceTiming");
}

static cJSON *repeat_of(cJSON *sr)
{
    cJSON *t = timing_of(sr), *r = cJSON_GetObjectItemCaseSensitive(t, "repeat");
    return r ? r : xf_put_object(t, "repeat");
}

/* A repeat pattern (RI-1, RPT-1) as Timing.code: the IG's RepeatPattern map sends BID, TID,
 * QID, QOD, QD, Q1H-Q8H, WK, MO and AM to the GTS abbreviations, the rest stay in table 0335;
 * free text ("3 times daily") is the code's text. */
static void repeat_code(struct xf_ctx *x, struct hl7_view v, cJSON *sr)
{
    static const char *const gts[] = {"BID", "TID", "QID", "QOD", "QD", "Q1H", "Q2H",
                                      "Q3H", "Q4H", "Q6H", "Q8H", "WK", "MO",  "AM"};
    const char *code = xf_text(x, v);
    if (!code)
        return;
    bool coded = strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<>") == strlen(code);
    const char *system = "http://terminology.hl7.org/CodeSystem/v2-0335";
    for (size_t i = 0; i < sizeof gts / sizeof gts[0]; i++)
        if (strcmp(code, gts[i]) == 0)
            system = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";
    cJSON *cc = coded ? dt_concept(system, code, NULL) : cJSON_CreateObject();
    if (!coded)
        xf_put_str(cc, "text", code);
    put_over(timing_of(sr), "code", cc);
}

/* HL7 table 0485 priority -> request-priority (IG ExtendedPriorityCodes; P, C, T... unmapped). */
static const struct dt_code_row priorities[] = {
    {"S", "stat", NULL}, {"A", "asap", NULL}, {"R", "routine", NULL}};

static void priority(struct xf_ctx *x, struct hl7_view v, cJSON *sr)
{
    const struct dt_code_row *p =
        dt_code_map(x, priorities, sizeof priorities / sizeof priorities[0], v, "0485");
    if (p)
        put_over(sr, "priority", cJSON_CreateString(p->code));
}

static void note(struct xf_ctx *x, struct hl7_view v, cJSON *sr)
{
    dt_add_note(sr, xf_text(x, v));
}

/* A count (NM) into the request's repeat. */
static void count(struct xf_ctx *x, struct hl7_view v, cJSON *sr, const char *key)
{
    const char *n = xf_text(x, v);
    char *end;
    long c = n ? strtol(n, &end, 10) : 0;
    if (n && (*end || c < 1 || c > 1000000))
        xf_warn_at(x, v, "not a positive whole number: no count");
    else if (n)
        xf_put_number(repeat_of(sr), key, (double)c);
}

/* The legacy quantity/timing (TQ, ORC-7 else OBR-27; IG TQ[ServiceRequest]): TQ-1 quantity,
 * TQ-2 interval (repeat pattern and explicit times), TQ-4/5 start and end, TQ-6 priority,
 * TQ-8 text, TQ-12 total occurrences. */
static void legacy_timing(struct xf_ctx *x, struct hl7_view tq, cJSON *sr)
{
    tq = xf_rep(x, tq, 1);
    struct hl7_view q = xf_comp(x, tq, 1);
    const char *n = xf_text(x, xf_sub(x, q, 1));
    char dec[64];
    if (n && dt_decimal(n, dec, sizeof dec) == 0) {
        cJSON *quantity = xf_put_object(sr, "quantityQuantity");
        xf_put_raw(quantity, "value", dec);
        const char *unit = xf_text(x, xf_sub(x, q, 2));
        if (unit)
            xf_put_str(quantity, "unit", unit);
    }
    repeat_code(x, xf_sub(x, xf_comp(x, tq, 2), 1), sr);
    struct hl7_view from = xf_comp(x, tq, 4), to = xf_comp(x, tq, 5);
    if (xf_has(from) || xf_has(to)) {
        cJSON *bounds = cJSON_CreateObject();
        if (dt_add_period(x, bounds, "boundsPeriod", from, to, DT_DATETIME))
            put_over(repeat_of(sr), "boundsPeriod",
                     cJSON_DetachItemFromObjectCaseSensitive(bounds, "boundsPeriod"));
        cJSON_Delete(bounds);
    }
    priority(x, xf_comp(x, tq, 6), sr);
    note(x, xf_comp(x, tq, 8), sr);
    count(x, xf_comp(x, tq, 12), sr, "count");
}

/* A CQ of time (3^d&day) as a UCUM Duration; NULL, warned, when its unit is no unit of time. */
static cJSON *time_quantity(struct xf_ctx *x, struct hl7_view cq)
{
    cJSON *q = dt_quantity_cq(x, cq);
    if (!q)
        return NULL;
    struct hl7_view unit = xf_comp(x, cq, 2);
    const char *ucum = dt_time_unit(xf_text(x, xf_sub(x, unit, 1)), NULL);
    if (!ucum)
        ucum = dt_time_unit(xf_text(x, xf_sub(x, unit, 2)), NULL);
    if (!ucum) {
        xf_warn_at(x, unit, "not a unit of time: the duration left out");
        cJSON_Delete(q);
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(q, "unit");
    xf_put_str(q, "unit", ucum);
    xf_put_str(q, "system", "http://unitsofmeasure.org");
    xf_put_str(q, "code", ucum);
    return q;
}

void seg_obr_timing(struct xf_ctx *x, const struct hl7_seg *tq1, cJSON *sr)
{
    cJSON *quantity = dt_quantity_cq(x, xf_take(x, tq1, 2));
    if (quantity)
        put_over(sr, "quantityQuantity", quantity);
    repeat_code(x, xf_comp(x, xf_rep(x, xf_take(x, tq1, 3), 1), 1), sr);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, tq1, 4)); xf_reps_next(x, &it, &rep);) {
        const char *t = xf_text(x, rep); /* TM: HHMM[SS] -> hh:mm:ss */
        if (!t || strspn(t, "0123456789") < 4 || (strlen(t) != 4 && strlen(t) != 6)) {
            if (t)
                xf_warn_at(x, rep, "not a time of day (HHMM[SS])");
            continue;
        }
        char tod[9];
        snprintf(tod, sizeof tod, "%.2s:%.2s:%.2s", t, t + 2, t[4] ? t + 4 : "00");
        xf_append(repeat_of(sr), "timeOfDay", cJSON_CreateString(tod));
    }
    cJSON *bounds = cJSON_CreateObject();
    if (dt_add_period(x, bounds, "boundsPeriod", xf_take(x, tq1, 7), xf_take(x, tq1, 8),
                      DT_DATETIME))
        put_over(repeat_of(sr), "boundsPeriod",
                 cJSON_DetachItemFromObjectCaseSensitive(bounds, "boundsPeriod"));
    cJSON_Delete(bounds);
    /* TQ1-6 service duration: the bounds when TQ1-7/8 give none (IG) */
    struct hl7_view service = xf_take(x, tq1, 6);
    if (xf_has(service) && !xf_has(hl7_field(x->msg, tq1, 7)) &&
        !xf_has(hl7_field(x->msg, tq1, 8))) {
        cJSON *d = time_quantity(x, service);
        if (d)
            put_over(repeat_of(sr), "boundsDuration", d);
    }
    /* TQ1-13 occurrence duration: how long each occurrence lasts */
    cJSON *each = time_quantity(x, xf_take(x, tq1, 13));
    if (each) {
        cJSON *r = repeat_of(sr);
        put_over(r, "duration",
                 cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(each, "value"), 1));
        put_over(r, "durationUnit",
                 cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(each, "code")->valuestring));
        cJSON_Delete(each);
    }
    priority(x, xf_rep(x, xf_take(x, tq1, 9), 1), sr);
    note(x, xf_take(x, tq1, 11), sr);
    count(x, xf_take(x, tq1, 14), sr, "count");
    (void)xf_take(x, tq1, 1); /* set id */
}

void seg_obr_request_key(const cJSON *request, char key[256])
{
    dt_ident_key(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(request, "identifier"), 0),
                 key);
}

int seg_obr_map(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr,
                cJSON **request, cJSON **report, char key[256])
{
    cJSON *sr = xf_resource("ServiceRequest"), *dr = xf_resource("DiagnosticReport");
    *request = *report = NULL;
    order_ids(x, orc, obr, sr, 2);
    order_ids(x, orc, obr, dr, 3);
    alternate_placer(x, obr, sr);
    if (!cJSON_GetObjectItemCaseSensitive(sr, "identifier")) {
        cJSON_Delete(sr), cJSON_Delete(dr);
        return xf_fail(x, obr, 3, 101, "no order number in OBR-2/3 or ORC-2/3");
    }
    if (report_fields(x, obr, dr) != 0) {
        cJSON_Delete(sr), cJSON_Delete(dr);
        return -1;
    }
    request_fields(x, orc, obr, sr);
    /* The report's key: its filler number, else the placer number the request has. */
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(dr, "identifier");
    const cJSON *kid =
        ids ? cJSON_GetArrayItem(ids, 0)
            : cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sr, "identifier"), 0);
    dt_ident_key(kid, key);
    *request = sr;
    *report = dr;
    return 0;
}
