/* msg_oru — ORU_R01: reports, requests, observations, specimens. */
#include "transforms/msg_oru.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/msg_prt.h"
#include "transforms/seg_msh.h"
#include "transforms/seg_obr.h"
#include "transforms/seg_spm.h"

/* An order group opens at its OBR (with the ORC before it): the request and the report,
 * held until the group's observations and specimens have been added. */
static int obr_open(struct xf_walk *w, const struct hl7_seg *obr)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *orc = msg_order_common(x, obr); /* past its TQ1, TQ2 and PRT */
    cJSON *sr, *dr;
    char sr_url[XF_URL_MAX], dr_url[XF_URL_MAX];
    if (seg_obr_map(x, orc, obr, &sr, &dr, w->group_key) != 0)
        return -1;
    msg_add_notes(x, obr, sr, "note");
    xf_full_url(x, obr, "ServiceRequest", sr_url);
    xf_full_url(x, obr, "DiagnosticReport", dr_url);
    xf_put(sr, "subject", xf_ref(x->patient_ref));
    xf_put(dr, "subject", xf_ref(x->patient_ref));
    xf_put(dr, "encounter", xf_ref(x->encounter_ref));
    /* A ServiceRequest must have a subject: without a PID the report stands alone. */
    if (x->patient_ref[0]) {
        char sr_key[256];
        seg_obr_request_key(sr, sr_key);
        xf_append(dr, "basedOn", xf_ref(sr_url));
        xf_walk_hold(w, sr, sr_url,
                     cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sr, "identifier"), 0),
                     sr_key);
    } else {
        cJSON_Delete(sr);
    }
    xf_walk_hold(w, dr, dr_url,
                 cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(dr, "identifier"), 0),
                 w->group_key);
    if (orc) { /* the order's Provenance and PRTs: its request's, else (no PID) the report's */
        seg_msh_order_provenance(x, orc, x->patient_ref[0] ? sr_url : dr_url);
        msg_prt_order(w, orc, obr, x->patient_ref[0] ? sr : dr);
    }
    w->count++;
    return 0;
}

/* What a group's specimens belong to: its report when it has one (results), else its
 * request (an order). */
static void link_specimen(struct xf_walk *w, const char *url)
{
    xf_walk_link(w, xf_walk_held(w, "DiagnosticReport") ? "DiagnosticReport" : "ServiceRequest",
                 "specimen", url);
}

int msg_obr_specimen(struct xf_walk *w, const struct hl7_seg *obr)
{
    char url[XF_URL_MAX];
    if (w->specimen[0] || /* an SPM came in the group */
        (!xf_has(hl7_field(w->x->msg, obr, 7)) && !xf_has(hl7_field(w->x->msg, obr, 15))))
        return 0;
    seg_spm_from_obr(w->x, obr, w->group_key, url);
    link_specimen(w, url);
    return 0;
}

/* An OBX of an order: an Observation the report lists, or a document it presents. */
static int obx_in_order(struct xf_walk *w, const struct hl7_seg *obx)
{
    char url[XF_URL_MAX];
    cJSON *attachment = NULL;
    if (!w->group_seg) /* before any OBR: no report to belong to */
        return 0;
    if (msg_add_observation(w->x, obx, w->group_key, url, &attachment) != 0)
        return -1;
    if (url[0] && w->specimen[0]) /* after an SPM: an observation of that specimen (IG) */
        xf_put(xf_bundle_last(w->x), "specimen", xf_ref(w->specimen));
    xf_walk_link(w, "DiagnosticReport", "result", url);
    struct xf_held *dr = xf_walk_held(w, "DiagnosticReport");
    if (attachment && dr) {
        msg_place_document(w->x, obx, attachment, w->group_key);
        xf_append(dr->res, "presentedForm", attachment);
    } else {
        cJSON_Delete(attachment);
    }
    return 0;
}

int msg_spm_add(struct xf_walk *w, const struct hl7_seg *spm)
{
    char url[XF_URL_MAX];
    if (!w->group_seg)
        return 0;
    seg_spm_add(w->x, spm, w->group_key, url);
    link_specimen(w, url);
    xf_copy(w->specimen, sizeof w->specimen, url);
    return 0;
}

static int oru_finish(struct xf_walk *w)
{
    if (!w->patient)
        xf_warn(w->x, NULL, 0, "no PID segment: reports have no subject");
    return w->count ? 0 : xf_fail(w->x, NULL, 0, 100, "ORU message without an OBR segment");
}

/* The patient, the visit, contacts; then each order group (OBR, its OBX, SPM). */
static const struct xf_rule oru_r01_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL},
    {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"NK1", 3, false, false, msg_nk1_add, NULL},
    {"OBR", 4, true, false, obr_open, msg_obr_specimen},
    {"OBX", 4, false, false, obx_in_order, NULL},
    {"SPM", 4, false, false, msg_spm_add, NULL},
    {"PRT", 4, false, false, msg_prt_add, NULL},
    {"PID", 4, false, true, NULL, NULL}, /* a next patient's results: the order ends */
};

static const char *const oru_r01_events[] = {"R01", NULL};

const struct xf_structure msg_oru_r01 = {"ORU_R01",
                                         "ORU",
                                         oru_r01_events,
                                         oru_r01_rules,
                                         sizeof oru_r01_rules / sizeof oru_r01_rules[0],
                                         oru_finish,
                                         NULL};
