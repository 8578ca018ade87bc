/* msg_oru — ORU_R01: reports, requests, observations, specimens. */
#include "transforms/msg_oru.h"

#include <stdbool.h>
#include <string.h>

#include "transforms/msg_common.h"
#include "transforms/seg_nk1.h"
#include "transforms/seg_obr.h"
#include "transforms/seg_spm.h"

static void add_ref(cJSON *res, const char *name, const char *url)
{
    xf_append(res, name, xf_ref(url));
}

/* The OBX and SPM segments of the group that starts at obr, until the next OBR/ORC. */
static int group_members(struct xf_ctx *x, const struct hl7_seg *obr, const char *key,
                         cJSON *report)
{
    const struct hl7_seg *end = x->msg->segs + x->msg->nsegs;
    char url[XF_URL_MAX];
    bool specimen = false;
    for (const struct hl7_seg *s = obr + 1; s < end; s++) {
        if (strcmp(s->name, "OBR") == 0 || strcmp(s->name, "ORC") == 0 ||
            strcmp(s->name, "PID") == 0)
            break;
        cJSON *attachment = NULL;
        if (strcmp(s->name, "OBX") == 0) {
            if (msg_add_observation(x, s, key, url, &attachment) != 0)
                return -1;
            if (url[0])
                add_ref(report, "result", url);
            if (attachment)
                cJSON_AddItemToArray(cJSON_GetObjectItem(report, "presentedForm")
                                         ? cJSON_GetObjectItem(report, "presentedForm")
                                         : xf_put_array(report, "presentedForm"),
                                     attachment);
        } else if (strcmp(s->name, "SPM") == 0) {
            seg_spm_add(x, s, key, url);
            add_ref(report, "specimen", url);
            specimen = true;
        }
    }
    /* No SPM: the OBR itself says what was collected and when (IG OBR[Specimen]). */
    if (!specimen && (xf_has(hl7_field(x->msg, obr, 7)) || xf_has(hl7_field(x->msg, obr, 15)))) {
        seg_spm_from_obr(x, obr, key, url);
        add_ref(report, "specimen", url);
    }
    return 0;
}

static int add_order(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr)
{
    cJSON *sr, *dr;
    char key[256], sr_url[XF_URL_MAX], dr_url[XF_URL_MAX];
    if (seg_obr_map(x, orc, obr, &sr, &dr, key) != 0)
        return -1;
    msg_add_notes(x, obr, sr, "note");
    xf_full_url(x, obr, "ServiceRequest", sr_url);
    xf_full_url(x, obr, "DiagnosticReport", dr_url);
    if (x->patient_ref[0]) {
        xf_put(sr, "subject", xf_ref(x->patient_ref));
        xf_put(dr, "subject", xf_ref(x->patient_ref));
    }
    if (x->encounter_ref[0])
        xf_put(dr, "encounter", xf_ref(x->encounter_ref));
    /* A ServiceRequest must have a subject: without a PID the report stands alone. */
    bool with_request = x->patient_ref[0] != '\0';
    if (with_request)
        add_ref(dr, "basedOn", sr_url);
    if (group_members(x, obr, key, dr) != 0) {
        cJSON_Delete(sr), cJSON_Delete(dr);
        return -1;
    }
    cJSON *srid = cJSON_GetArrayItem(cJSON_GetObjectItem(sr, "identifier"), 0);
    cJSON *drid = cJSON_GetArrayItem(cJSON_GetObjectItem(dr, "identifier"), 0);
    if (with_request)
        xf_bundle_add(x, sr_url, sr, srid, key);
    else
        cJSON_Delete(sr);
    xf_bundle_add(x, dr_url, dr, drid, key);
    return 0;
}

int msg_oru_build(struct xf_ctx *x, const struct hl7_msgtype *t)
{
    const struct hl7_seg *pid = msg_find(x, "PID"), *pv1 = msg_find(x, "PV1");
    cJSON *patient = NULL;
    int orders = 0;
    if (!pid)
        xf_warn(x, NULL, 0, "no PID segment: reports have no subject");
    else if (msg_add_patient(x, pid, msg_next(x, pid, "PD1", "ORC,OBR"), &patient) != 0)
        return -1;
    if (pv1 && msg_add_encounter(x, t->trigger, pv1) != 0)
        return -1;
    for (const struct hl7_seg *nk1 = pid ? msg_next(x, pid, "NK1", "ORC,OBR,PV1") : NULL; nk1;
         nk1 = msg_next(x, nk1, "NK1", "ORC,OBR,PV1"))
        seg_nk1_contact(x, nk1, patient), seg_nk1_add(x, nk1);
    for (uint32_t i = 0; i < x->msg->nsegs; i++) {
        const struct hl7_seg *s = &x->msg->segs[i];
        if (strcmp(s->name, "OBR") != 0)
            continue;
        const struct hl7_seg *orc = i > 0 && strcmp(s[-1].name, "ORC") == 0 ? s - 1 : NULL;
        if (add_order(x, orc, s) != 0)
            return -1;
        orders++;
    }
    return orders ? 0 : xf_fail(x, NULL, 0, 100, "ORU message without an OBR segment");
}
