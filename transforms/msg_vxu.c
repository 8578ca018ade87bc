/* msg_vxu — VXU_V04: immunizations, and the observations about them. */
#include "transforms/msg_vxu.h"

#include <string.h>

#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/msg_prt.h"
#include "transforms/seg_msh.h"
#include "transforms/seg_rxa.h"

/* An ORDER group opens at its RXA: the Immunization, with the ORC before it and the RXR
 * after it, held while the group's observations are added. */
static int rxa_open(struct xf_walk *w, const struct hl7_seg *rxa)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *rxr = msg_next(x, rxa, "RXR", "RXA,ORC,OBX,NTE,PID");
    cJSON *imm;
    char url[XF_URL_MAX];
    if (seg_rxa_map(x, msg_order_common(x, rxa), rxa, rxr, &imm, w->group_key) != 0)
        return -1;
    xf_put(imm, "patient", xf_ref(x->patient_ref));
    xf_put(imm, "encounter", xf_ref(x->encounter_ref));
    msg_add_notes(x, rxr ? rxr : rxa, imm, "note");
    xf_full_url(x, rxa, "Immunization", url);
    xf_walk_hold(w, imm, url,
                 cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(imm, "identifier"), 0),
                 w->group_key); /* conditional on the filler's number when it has a system */
    const struct hl7_seg *orc = msg_order_common(x, rxa);
    if (orc) /* who entered and verified the record of it (ORC[Provenance]) */
        seg_msh_order_provenance(x, orc, url);
    w->count++;
    return 0;
}

/* An OBX: about the person before any RXA, else about that immunization (partOf it). */
static int vxu_obx(struct xf_walk *w, const struct hl7_seg *obx)
{
    char url[XF_URL_MAX];
    if (msg_obx_add(w, obx, url) != 0)
        return -1;
    struct xf_held *imm = xf_walk_held(w, "Immunization");
    cJSON *obs = url[0] ? xf_bundle_last(w->x) : NULL;
    if (imm && obs)
        xf_append(obs, "partOf", xf_ref(imm->url));
    return 0;
}

static int vxu_finish(struct xf_walk *w)
{
    if (!w->patient) /* Immunization.patient is required */
        return xf_fail(w->x, NULL, 0, 100, "VXU message without a PID segment");
    return w->count ? 0 : xf_fail(w->x, NULL, 0, 100, "VXU message without an RXA segment");
}

static const struct xf_rule vxu_v04_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL},
    {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"NK1", 3, false, false, msg_nk1_add, NULL},
    {"IN1", 3, false, false, msg_in1_add, NULL},
    {"RXA", 4, true, false, rxa_open, NULL},
    {"OBX", 4, false, false, vxu_obx, NULL},
    {"PRT", 4, false, false, msg_prt_add, NULL},
    {"ORC", 4, false, true, NULL, NULL}, /* the next order: the previous one ends */
};

static const char *const vxu_v04_events[] = {"V04", NULL};

const struct xf_structure msg_vxu_v04 = {"VXU_V04",
                                         "VXU",
                                         vxu_v04_events,
                                         vxu_v04_rules,
                                         sizeof vxu_v04_rules / sizeof vxu_v04_rules[0],
                                         vxu_finish,
                                         NULL};
