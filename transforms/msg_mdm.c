/* msg_mdm — MDM_T01/T02: documents, with or without their content. */
#include "transforms/msg_mdm.h"

#include <string.h>

#include "transforms/dt_time.h"
#include "transforms/dt_value.h"
#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/seg_msh.h"
#include "transforms/seg_obr.h"
#include "transforms/seg_txa.h"

/* The ORC of a COMMON_ORDER group: before its OBR, timing segments between. */
static const struct hl7_seg *orc_of(struct xf_ctx *x, const struct hl7_seg *obr)
{
    for (const struct hl7_seg *p = obr - 1; p > x->msg->segs; p--) {
        if (strcmp(p->name, "ORC") == 0)
            return p;
        if (strcmp(p->name, "TQ1") != 0 && strcmp(p->name, "TQ2") != 0)
            return NULL;
    }
    return NULL;
}

/* COMMON_ORDER: the order the document answers, as a ServiceRequest the document names. */
static int mdm_obr(struct xf_walk *w, const struct hl7_seg *obr)
{
    struct xf_ctx *x = w->x;
    cJSON *sr, *dr;
    char url[XF_URL_MAX], key[256];
    if (!w->patient) /* a request needs a subject */
        return 0;
    if (seg_obr_map(x, orc_of(x, obr), obr, &sr, &dr, key) != 0)
        return -1;
    cJSON_Delete(dr); /* the document is the result here, not a DiagnosticReport */
    const struct hl7_seg *tq1 = msg_next(x, orc_of(x, obr) ? orc_of(x, obr) : obr, "TQ1", "OBR");
    if (tq1) /* COMMON_ORDER's timing (IG TQ1[ServiceRequest]) */
        seg_obr_timing(x, tq1, sr);
    msg_add_notes(x, obr, sr, "note");
    xf_put(sr, "subject", xf_ref(x->patient_ref));
    xf_full_url(x, obr, "ServiceRequest", url);
    seg_obr_request_key(sr, key);
    xf_bundle_add(x, url, sr,
                  cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sr, "identifier"), 0), key);
    if (orc_of(x, obr))
        seg_msh_order_provenance(x, orc_of(x, obr), url);
    return 0;
}

/* context.related: every order of the message (its ServiceRequests). */
static void related(struct xf_ctx *x, cJSON *ctx)
{
    for (cJSON *e = x->entries->child; e; e = e->next) {
        cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "resource");
        if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "resourceType")->valuestring,
                   "ServiceRequest") == 0)
            xf_append(ctx, "related",
                      xf_ref(cJSON_GetObjectItemCaseSensitive(e, "fullUrl")->valuestring));
    }
}

/* The document: TXA, then every OBX's value as content, the NTEs as... nothing the IG maps
 * to DocumentReference itself but its description: left to --explain. */
static int mdm_txa(struct xf_walk *w, const struct hl7_seg *txa)
{
    struct xf_ctx *x = w->x;
    cJSON *doc;
    const cJSON *key;
    char url[XF_URL_MAX], seed[256];
    if (seg_txa_map(x, txa, w->type->trigger, &doc, &key, seed) != 0)
        return -1;
    xf_put(doc, "subject", xf_ref(x->patient_ref));
    cJSON *ctx = cJSON_CreateObject();
    xf_append(ctx, "encounter", xf_ref(x->encounter_ref));
    related(x, ctx);
    if (cJSON_GetArraySize(ctx))
        xf_put(doc, "context", ctx);
    else
        cJSON_Delete(ctx);
    for (const struct hl7_seg *obx = msg_next(x, txa, "OBX", ""); obx;
         obx = msg_next(x, obx, "OBX", "")) {
        cJSON *a = dt_attachment(x, obx), *content = a ? cJSON_CreateObject() : NULL;
        if (!a) {
            struct hl7_view t = xf_comp(x, hl7_field(x->msg, obx, 2), 1);
            bool document = xf_eq(t, "ED") || xf_eq(t, "RP") || xf_eq(t, "TX") || xf_eq(t, "FT") ||
                            xf_eq(t, "ST");
            if (xf_has(hl7_field(x->msg, obx, 5)) && !document)
                xf_warn(x, obx, 2, "a value of this type is not a document's content");
            continue;
        }
        dt_add(x, a, "creation", hl7_field(x->msg, txa, 6), DT_DATETIME);
        msg_place_document(x, obx, a, seed[0] ? seed : NULL);
        xf_put(content, "attachment", a);
        xf_append(doc, "content", content);
    }
    if (!cJSON_GetObjectItemCaseSensitive(
            doc, "content")) { /* required: a notification without content */
        cJSON *content = cJSON_CreateObject(), *a = xf_put_object(content, "attachment");
        dt_add(x, a, "creation", hl7_field(x->msg, txa, 6), DT_DATETIME);
        xf_put_str(a, "title", "document not included in this notification");
        xf_append(doc, "content", content);
    }
    xf_full_url(x, txa, "DocumentReference", url);
    xf_bundle_add(x, url, doc, key, seed[0] ? seed : NULL);
    w->count++;
    return 0;
}

static int mdm_finish(struct xf_walk *w)
{
    if (!w->patient) /* DocumentReference.subject: the document is the patient's */
        return xf_fail(w->x, NULL, 0, 100, "MDM message without a PID segment");
    return w->count ? 0 : xf_fail(w->x, NULL, 0, 100, "MDM message without a TXA segment");
}

static const struct xf_rule mdm_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL},
    {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"OBR", 3, false, false, mdm_obr, NULL}, /* before the TXA, which names it */
    {"TXA", 3, false, false, mdm_txa, NULL},
};

static const char *const mdm_events[] = {"T01", "T02", "T03", "T04", "T05", "T06",
                                         "T07", "T08", "T09", "T10", "T11", NULL};

const struct xf_structure msg_mdm_t02 = {
    "MDM_T02",  "MDM", mdm_events, mdm_rules, sizeof mdm_rules / sizeof mdm_rules[0],
    mdm_finish, NULL};
