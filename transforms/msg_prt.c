/* msg_prt — PRT to a participant of what the segment before it made. */
#include "transforms/msg_prt.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

/* The next free contained id of res (prt1, prt2...) into id, and "#id" into ref. */
static void next_id(const cJSON *res, char id[24], char ref[32])
{
    snprintf(id, 24, "prt%d",
             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "contained")) + 1);
    snprintf(ref, 32, "#%s", id);
}

/* A contained resource of res with the given type and a fresh id; "#id" into ref. */
static cJSON *contained(cJSON *res, const char *type, char ref[32])
{
    char id[24];
    next_id(res, id, ref);
    cJSON *r = cJSON_CreateObject();
    xf_put_str(r, "resourceType", type);
    xf_put_str(r, "id", id);
    xf_append(res, "contained", r);
    return r;
}

/* PRT-8 the organisation (XON-1) and PRT-7 its kind, as a contained Organization of res with
 * PRT-14/15 when no person takes them; NULL when PRT-8 and PRT-7 are empty. */
static cJSON *organization(struct xf_ctx *x, const struct hl7_seg *prt, cJSON *res, bool contact,
                           char ref[32])
{
    struct hl7_view name = xf_comp(x, xf_rep(x, xf_take(x, prt, 8), 1), 1);
    cJSON *kind = dt_codeable(x, xf_take(x, prt, 7));
    if (!xf_has(name) && !kind)
        return NULL;
    cJSON *o = contained(res, "Organization", ref);
    xf_add_str(x, o, "name", name);
    if (kind)
        xf_append(o, "type", kind);
    if (contact) {
        cJSON *a = dt_org_address(x, xf_rep(x, xf_take(x, prt, 14), 1));
        if (a)
            xf_append(o, "address", a);
        cJSON *t = dt_org_telecom(x, xf_rep(x, xf_take(x, prt, 15), 1));
        if (t)
            xf_append(o, "telecom", t);
    }
    return o;
}

/* PRT-10 (EI) and PRT-16..21 (UDI, dates, lot, serial, distinct id): a contained Device. */
static cJSON *device(struct xf_ctx *x, const struct hl7_seg *prt, cJSON *res, char ref[32])
{
    cJSON *id = dt_ei(x, xf_rep(x, xf_take(x, prt, 10), 1));
    struct hl7_view udi = xf_rep(x, xf_take(x, prt, 16), 1);
    if (!id && !xf_has(udi))
        return NULL;
    cJSON *d = contained(res, "Device", ref);
    if (id)
        xf_append(d, "identifier", id);
    if (xf_has(udi)) {
        cJSON *carrier = cJSON_CreateObject();
        xf_add_str(x, carrier, "deviceIdentifier", xf_comp(x, udi, 1));
        xf_append(d, "udiCarrier", carrier);
    }
    dt_add(x, d, "manufactureDate", xf_take(x, prt, 17), DT_DATETIME);
    dt_add(x, d, "expirationDate", xf_take(x, prt, 18), DT_DATETIME);
    xf_add_str(x, d, "lotNumber", xf_take(x, prt, 19));
    xf_add_str(x, d, "serialNumber", xf_take(x, prt, 20));
    xf_add_str(x, d, "distinctIdentifier", xf_comp(x, xf_take(x, prt, 21), 1));
    return d;
}

/* The participant as a contained resource of res (devices only when devices may take part
 * there); its reference in ref, NULL when PRT names no one it may. */
static cJSON *participant(struct xf_ctx *x, const struct hl7_seg *prt, cJSON *res, bool devices,
                          char ref[32])
{
    char id[24], who_ref[32], org_ref[32];
    next_id(res, id, who_ref);
    cJSON *p = dt_practitioner(x, xf_take(x, prt, 5), id);
    if (!p) {
        cJSON *d = devices ? device(x, prt, res, ref) : NULL;
        return d ? d : organization(x, prt, res, true, ref);
    }
    xf_append(res, "contained", p);
    cJSON *a = dt_address(x, xf_rep(x, xf_take(x, prt, 14), 1));
    if (a)
        xf_append(p, "address", a);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, prt, 15)); xf_reps_next(x, &it, &rep);)
        if ((a = dt_contact_point(x, rep, "work")))
            xf_append(p, "telecom", a);
    cJSON *org = organization(x, prt, res, false, org_ref);
    cJSON *role = contained(res, "PractitionerRole", ref);
    cJSON *ident = dt_ei(x, xf_take(x, prt, 1));
    if (ident)
        xf_append(role, "identifier", ident);
    xf_put(role, "practitioner", xf_ref(who_ref));
    if (org)
        xf_put(role, "organization", xf_ref(org_ref));
    cJSON *cc = dt_codeable(x, xf_take(x, prt, 4));
    if (cc)
        xf_append(role, "code", cc);
    if ((cc = dt_codeable(x, xf_take(x, prt, 6))))
        xf_append(role, "specialty", cc);
    dt_add_place(x, role, "location", xf_take(x, prt, 9));
    dt_add_period(x, role, "period", xf_take(x, prt, 11), xf_take(x, prt, 12), DT_DATETIME);
    return role;
}

/* What the PRT is about: the resource the segment before it (past other PRT and NTE) made. */
static cJSON *subject_of(struct xf_walk *w, const struct hl7_seg *prt, const char **kind)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *a = prt - 1;
    while (a > x->msg->segs && strstr("PRT,NTE,ROL", a->name))
        a--;
    *kind = a->name;
    if (strstr("PID,PD1", a->name))
        return w->patient;
    if (strstr("PV1,PV2", a->name))
        return x->encounter_ref[0] ? xf_bundle_find(x, x->encounter_ref, NULL) : NULL;
    if (strstr("ORC,TQ1,TQ2", a->name))
        for (const struct hl7_seg *n = prt + 1; n < x->msg->segs + x->msg->nsegs; n++) {
            if (strcmp(n->name, "OBR") == 0)
                return NULL; /* the order opens at that OBR, which takes it (msg_prt_order) */
            if (!strstr("PRT,NTE,TQ1,TQ2", n->name))
                break;
        }
    struct xf_held *report = xf_walk_held(w, "DiagnosticReport");
    if (strcmp(a->name, "OBR") == 0 && report) { /* a result's: who took part in the report */
        *kind = "DiagnosticReport";
        return report->res;
    }
    if (strstr("RXA,RXR", a->name) && xf_walk_held(w, "Immunization")) {
        *kind = "Immunization";
        return xf_walk_held(w, "Immunization")->res;
    }
    if (strstr("ORC,OBR,TQ1,TQ2,RXO,RXR", a->name)) {
        struct xf_held *h = xf_walk_held(w, "ServiceRequest");
        if (!h)
            h = xf_walk_held(w, "MedicationRequest");
        return h ? h->res : NULL;
    }
    if (strcmp(a->name, "OBX") == 0) {
        cJSON *last = xf_bundle_last(x);
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(last, "resourceType");
        return cJSON_IsString(rt) && strcmp(rt->valuestring, "Observation") == 0 ? last : NULL;
    }
    return NULL;
}

/* Attaches prt's participant to res, made by a segment of kind (PID, PV1, ORC, OBX...). */
static void attach(struct xf_ctx *x, const struct hl7_seg *prt, cJSON *res, const char *kind)
{
    char ref[32];
    /* PRT-2 DE: the participation ended, nothing to add (as ROL-2) */
    if (!res || xf_eq(xf_comp(x, xf_take(x, prt, 2), 1), "DE"))
        return;
    bool obx = strcmp(kind, "OBX") == 0;
    cJSON *p = participant(x, prt, res, obx, ref);
    if (!p)
        return;
    const char *type = cJSON_GetObjectItemCaseSensitive(p, "resourceType")->valuestring;
    struct hl7_view role = xf_comp(x, hl7_field(x->msg, prt, 4), 1);
    if (strstr("PID,PD1", kind)) {
        xf_append(res, "generalPractitioner", xf_ref(ref));
    } else if (strstr("PV1,PV2", kind) && strcmp(type, "Organization") == 0) {
        /* a visit's participants are people: an organisation provides the visit */
        cJSON_DeleteItemFromObjectCaseSensitive(res, "serviceProvider");
        xf_put(res, "serviceProvider", xf_ref(ref));
    } else if (strstr("PV1,PV2", kind)) {
        cJSON *part = cJSON_CreateObject();
        const cJSON *code = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "code"), 0);
        if (code)
            xf_append(part, "type", cJSON_Duplicate(code, 1));
        xf_put(part, "individual", xf_ref(ref));
        xf_append(res, "participant", part);
    } else if (strcmp(kind, "Immunization") == 0) { /* PRT-4 the function (table 0443) */
        cJSON *perf = cJSON_CreateObject();
        cJSON *function = dt_codeable(x, hl7_field(x->msg, prt, 4));
        if (function)
            xf_put(perf, "function", function);
        xf_put(perf, "actor", xf_ref(ref));
        xf_append(res, "performer", perf);
    } else if (strcmp(kind, "DiagnosticReport") == 0) {
        xf_append(res, "performer", xf_ref(ref));
    } else if (obx && strcmp(type, "Device") == 0) {
        if (!cJSON_GetObjectItemCaseSensitive(res, "device"))
            xf_put(res, "device", xf_ref(ref));
    } else if (obx) {
        xf_append(res, "performer", xf_ref(ref));
    } else if (xf_eq(role, "OP") &&
               !cJSON_GetObjectItemCaseSensitive(res, "requester")) { /* an order's */
        xf_put(res, "requester", xf_ref(ref));
    } else {
        xf_append(res, "performer", xf_ref(ref));
    }
}

int msg_prt_add(struct xf_walk *w, const struct hl7_seg *prt)
{
    const char *kind;
    cJSON *res = subject_of(w, prt, &kind);
    attach(w->x, prt, res, kind);
    return 0;
}

void msg_prt_order(struct xf_walk *w, const struct hl7_seg *from, const struct hl7_seg *to,
                   cJSON *res)
{
    for (const struct hl7_seg *p = from + 1; p < to; p++)
        if (strcmp(p->name, "PRT") == 0)
            attach(w->x, p, res, "ORC");
}
