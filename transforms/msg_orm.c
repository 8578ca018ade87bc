/* msg_orm — ORM_O01 and OML_O21: ServiceRequests and what comes with them. */
#include "transforms/msg_orm.h"

#include <string.h>

#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/msg_prt.h"
#include "transforms/msg_oru.h"
#include "transforms/seg_msh.h"
#include "transforms/seg_obr.h"
#include "transforms/seg_rxo.h"

static bool has_number(struct xf_ctx *x, const struct hl7_seg *s)
{
    return s && (xf_has(hl7_field(x->msg, s, 2)) || xf_has(hl7_field(x->msg, s, 3)));
}

/* The request of an order: from ORC and OBR; one without any order number (a group number
 * at most) is this message's own, with a warning, rather than failing the other orders. */
static cJSON *request_of(struct xf_walk *w, const struct hl7_seg *orc, const struct hl7_seg *obr,
                         const struct hl7_seg *at)
{
    struct xf_ctx *x = w->x;
    cJSON *sr, *dr;
    if (obr && (has_number(x, orc) || has_number(x, obr))) {
        if (seg_obr_map(x, orc, obr, &sr, &dr, w->group_key) != 0)
            return NULL;
        cJSON_Delete(dr); /* an order: no report yet */
    } else {
        sr = seg_obr_order_request(x, orc, obr);
        if (!has_number(x, orc))
            xf_warn(x, at, 2, "no order number: the request is this message's own");
    }
    seg_obr_request_key(sr, w->group_key);
    return sr;
}

/* The order's TQ1: between its ORC and its OBR, or right after an ORC that is the order. */
static const struct hl7_seg *order_tq1(struct xf_ctx *x, const struct hl7_seg *seg)
{
    for (const struct hl7_seg *p = seg - 1; p > x->msg->segs; p--) {
        if (strcmp(p->name, "TQ1") == 0)
            return p;
        if (!strstr("TQ2,PRT,NTE", p->name))
            break;
    }
    for (const struct hl7_seg *p = seg + 1; p < x->msg->segs + x->msg->nsegs; p++) {
        if (strcmp(p->name, "TQ1") == 0)
            return p;
        if (!strstr("TQ2,PRT,NTE", p->name))
            break;
    }
    return NULL;
}

/* Holds an order's request, made from seg, while what comes with it is added. */
static int hold_request(struct xf_walk *w, cJSON *sr, const struct hl7_seg *seg)
{
    struct xf_ctx *x = w->x;
    char url[XF_URL_MAX];
    if (!sr)
        return -1;
    const struct hl7_seg *tq1 = order_tq1(x, seg);
    if (tq1)
        seg_obr_timing(x, tq1, sr);
    msg_add_notes(x, seg, sr, "note");
    xf_put(sr, "subject", xf_ref(x->patient_ref));
    xf_put(sr, "encounter", xf_ref(x->encounter_ref));
    xf_full_url(x, seg, "ServiceRequest", url);
    const cJSON *ident = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sr, "identifier"), 0);
    xf_walk_hold(w, sr, url, ident, ident ? w->group_key : NULL);
    const struct hl7_seg *orc = strcmp(seg->name, "ORC") == 0 ? seg : msg_order_common(x, seg);
    if (orc)
        seg_msh_order_provenance(x, orc, url);
    if (orc && orc != seg) /* the order's PRTs before its OBR */
        msg_prt_order(w, orc, seg, sr);
    w->count++;
    return 0;
}

/* An order opens at its OBR. */
static int order_open(struct xf_walk *w, const struct hl7_seg *obr)
{
    return hold_request(w, request_of(w, msg_order_common(w->x, obr), obr, obr), obr);
}

/* A pharmacy order (ORC, TQ1, RXO, RXR, NTE): a MedicationRequest (IG RXO[MedicationRequest]),
 * keyed by its placer number as a ServiceRequest would be. */
static int pharmacy_order(struct xf_walk *w, const struct hl7_seg *orc, const struct hl7_seg *rxo)
{
    struct xf_ctx *x = w->x;
    char url[XF_URL_MAX];
    const struct hl7_seg *tq1 = msg_next(x, orc, "TQ1", "RXO,ORC");
    const struct hl7_seg *rxr = msg_next(x, rxo, "RXR", "ORC,RXO,OBX,DG1");
    cJSON *mr = seg_rxo_request(x, orc, rxo, rxr, tq1);
    msg_add_notes(x, rxo, mr, "note"); /* the order's notes, after RXO or after its routes */
    if (rxr)
        msg_add_notes(x, rxr, mr, "note");
    xf_put(mr, "subject", xf_ref(x->patient_ref));
    xf_put(mr, "encounter", xf_ref(x->encounter_ref));
    xf_full_url(x, rxo, "MedicationRequest", url);
    w->group_seg = orc;
    seg_obr_request_key(mr, w->group_key);
    const cJSON *ident = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(mr, "identifier"), 0);
    if (!ident)
        xf_warn(x, orc, 2, "no order number: the request is this message's own");
    xf_walk_hold(w, mr, url, ident, ident ? w->group_key : NULL);
    seg_msh_order_provenance(x, orc, url);
    w->count++;
    return 0;
}

/* An ORC with no OBR of its own is an order all in the ORC (IG ORC[ServiceRequest]) and
 * opens it itself — or, with an RXO, a pharmacy order; dietary and supply orders (ODS, RQD:
 * NutritionOrder and SupplyRequest, which the IG does not map) are not mapped. */
static int orc_alone(struct xf_walk *w, const struct hl7_seg *orc)
{
    for (const struct hl7_seg *p = orc + 1; p < w->x->msg->segs + w->x->msg->nsegs; p++) {
        if (strcmp(p->name, "OBR") == 0)
            return 0; /* the OBR opens it */
        if (strcmp(p->name, "RXO") == 0)
            return pharmacy_order(w, orc, p);
        if (strstr("RXE,RXD,RXG,RXA,ODS,ODT,RQD,RQ1", p->name)) {
            xf_warn(w->x, p, 0, "a dietary or supply order is not mapped");
            return 0;
        }
        if (strcmp(p->name, "ORC") == 0)
            break;
    }
    w->group_seg = orc;
    return hold_request(w, request_of(w, orc, NULL, orc), orc);
}

static int order_obx(struct xf_walk *w, const struct hl7_seg *obx)
{
    char url[XF_URL_MAX];
    if (msg_obx_add(w, obx, url) != 0)
        return -1;
    if (w->group_seg)
        xf_walk_link(w, "ServiceRequest", "supportingInfo", url);
    return 0;
}

static int orm_finish(struct xf_walk *w)
{
    if (!w->patient) /* ServiceRequest.subject is required */
        return xf_fail(w->x, NULL, 0, 100, "order message without a PID segment");
    return w->count ? 0
                    : xf_fail(w->x, NULL, 0, 100,
                              "no order to map: ServiceRequest (ORC, OBR) and pharmacy (ORC, "
                              "RXO) orders are; dietary and supply orders are not");
}

/* The patient, visit, contacts, insurance, allergies; then each order: ORC and OBR, the
 * diagnoses, observations and specimens (SPM, which ORM has from v2.6) that come with it. */
static const struct xf_rule orm_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL}, {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"NK1", 3, false, false, msg_nk1_add, NULL}, {"IN1", 3, false, false, msg_in1_add, NULL},
    {"AL1", 3, false, false, msg_al1_add, NULL}, {"OBR", 4, true, false, order_open, NULL},
    {"ORC", 4, false, true, orc_alone, NULL},    {"DG1", 4, false, false, msg_dg1_add, NULL},
    {"OBX", 4, false, false, order_obx, NULL},   {"SPM", 4, false, false, msg_spm_add, NULL},
    {"PRT", 4, false, false, msg_prt_add, NULL},
};

/* The same, and when an order has no SPM, what its OBR says was collected (IG OBR[Specimen],
 * which ORM_O01's map has not: there OBR-7 is when to take it). */
static const struct xf_rule oml_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL},
    {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"NK1", 3, false, false, msg_nk1_add, NULL},
    {"IN1", 3, false, false, msg_in1_add, NULL},
    {"AL1", 3, false, false, msg_al1_add, NULL},
    {"OBR", 4, true, false, order_open, msg_obr_specimen},
    {"ORC", 4, false, true, orc_alone, NULL},
    {"DG1", 4, false, false, msg_dg1_add, NULL},
    {"OBX", 4, false, false, order_obx, NULL},
    {"SPM", 4, false, false, msg_spm_add, NULL},
    {"PRT", 4, false, false, msg_prt_add, NULL},
};

static const char *const orm_events[] = {"O01", NULL};
static const char *const oml_events[] = {"O21", NULL};

const struct xf_structure msg_orm_o01 = {
    "ORM_O01",  "ORM", orm_events, orm_rules, sizeof orm_rules / sizeof orm_rules[0],
    orm_finish, NULL};

const struct xf_structure msg_oml_o21 = {
    "OML_O21",  "OML", oml_events, oml_rules, sizeof oml_rules / sizeof oml_rules[0],
    orm_finish, NULL};
