/* seg_obr — ORC/OBR to ServiceRequest and DiagnosticReport. */
#include "transforms/seg_obr.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"

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

/* A reference by display name; family is the view holding the surname. */
static void by_name(struct xf_ctx *x, cJSON *res, const char *name, struct hl7_view family_view)
{
    const char *family = xf_text(x, family_view);
    if (!family)
        return;
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", "Practitioner");
    xf_put_str(ref, "display", family);
    if (strcmp(name, "requester") == 0)
        xf_put(res, name, ref);
    else
        xf_append(res, name, ref);
}

/* The surname of the first XCN of a field (XCN-2, first sub-component). */
static struct hl7_view xcn_family(struct xf_ctx *x, struct hl7_view field)
{
    return xf_sub(x, xf_comp(x, xf_rep(x, field, 1), 2), 1);
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
    by_name(x, res, "resultsInterpreter", xf_sub(x, xf_comp(x, xf_take(x, obr, 32), 1), 2));
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
    if (!st && orc)
        st = dt_code_find(order_control, sizeof order_control / sizeof order_control[0],
                          xf_take(x, orc, 1), x);
    return st ? st->code : "unknown";
}

/* The request's fields from ORC and OBR; either may be missing (an ORC alone is an order
 * too, an OBR without ORC one in ORU). */
static void request_fields(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr,
                           cJSON *res)
{
    xf_put_str(res, "status", seg_obr_request_status(x, orc));
    xf_put_str(res, "intent", "order");
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
        by_name(x, res, "requester", xcn_family(x, xf_take(x, orc, 12)));
    }
    if (obr && !cJSON_GetObjectItem(res, "requester"))
        by_name(x, res, "requester", xcn_family(x, xf_take(x, obr, 16)));
}

cJSON *seg_obr_order_request(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr)
{
    cJSON *sr = xf_resource("ServiceRequest");
    if (orc)
        order_ids(x, orc, obr ? obr : orc, sr, 2);
    request_fields(x, orc, obr, sr);
    return sr;
}

/* HL7 table 0485 priority -> request-priority (IG ExtendedPriorityCodes; P, C, T... unmapped). */
static const struct dt_code_row priorities[] = {
    {"S", "stat", NULL}, {"A", "asap", NULL}, {"R", "routine", NULL}};

void seg_obr_timing(struct xf_ctx *x, const struct hl7_seg *tq1, cJSON *sr)
{
    cJSON *bounds = cJSON_CreateObject();
    if (dt_add_period(x, bounds, "boundsPeriod", xf_take(x, tq1, 7), xf_take(x, tq1, 8),
                      DT_DATETIME)) {
        cJSON *timing = xf_put_object(sr, "occurrenceTiming");
        xf_put(timing, "repeat", bounds);
    } else {
        cJSON_Delete(bounds);
    }
    const struct dt_code_row *p =
        dt_code_map(x, priorities, sizeof priorities / sizeof priorities[0],
                    xf_rep(x, xf_take(x, tq1, 9), 1), "0485");
    if (p)
        xf_put_str(sr, "priority", p->code);
    const char *text = xf_text(x, xf_take(x, tq1, 11));
    if (text) {
        cJSON *note = cJSON_CreateObject();
        xf_put_str(note, "text", text);
        xf_append(sr, "note", note);
    }
    (void)xf_take(x, tq1, 1); /* set id */
}

void seg_obr_request_key(const cJSON *request, char key[256])
{
    dt_ident_key(cJSON_GetArrayItem(cJSON_GetObjectItem(request, "identifier"), 0), key);
}

int seg_obr_map(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr,
                cJSON **request, cJSON **report, char key[256])
{
    cJSON *sr = xf_resource("ServiceRequest"), *dr = xf_resource("DiagnosticReport");
    *request = *report = NULL;
    order_ids(x, orc, obr, sr, 2);
    order_ids(x, orc, obr, dr, 3);
    alternate_placer(x, obr, sr);
    if (!cJSON_GetObjectItem(sr, "identifier")) {
        cJSON_Delete(sr), cJSON_Delete(dr);
        return xf_fail(x, obr, 3, 101, "no order number in OBR-2/3 or ORC-2/3");
    }
    if (report_fields(x, obr, dr) != 0) {
        cJSON_Delete(sr), cJSON_Delete(dr);
        return -1;
    }
    request_fields(x, orc, obr, sr);
    /* The report's key: its filler number, else the placer number the request has. */
    cJSON *ids = cJSON_GetObjectItem(dr, "identifier");
    const cJSON *kid = ids ? cJSON_GetArrayItem(ids, 0)
                           : cJSON_GetArrayItem(cJSON_GetObjectItem(sr, "identifier"), 0);
    dt_ident_key(kid, key);
    *request = sr;
    *report = dr;
    return 0;
}
