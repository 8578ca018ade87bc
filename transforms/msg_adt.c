/* msg_adt — ADT structures and their event semantics. */
#include "transforms/msg_adt.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/msg_common.h"
#include "transforms/seg_al1.h"
#include "transforms/seg_dg1.h"
#include "transforms/seg_in1.h"
#include "transforms/seg_nk1.h"
#include "transforms/seg_pid.h"
#include "transforms/seg_pr1.h"
#include "transforms/seg_pv1.h"

/* The retired record of a merge: MRG-1 identifiers, MRG-7 name, inactive. */
static void add_retired(struct xf_ctx *x, const struct hl7_seg *mrg, cJSON *survivor)
{
    cJSON *p = xf_resource("Patient"), *key = NULL;
    char url[XF_URL_MAX], seed[400] = "";
    int best = 0;
    struct hl7_view ids = xf_take(x, mrg, 1);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, ids); xf_reps_next(x, &it, &rep);) {
        const char *system;
        cJSON *id = dt_identifier(x, rep, &system);
        if (!id)
            continue;
        xf_append(p, "identifier", id);
        int rank = seg_pid_key_rank(x, id, rep); /* keyed as the survivor is */
        if (rank > best)
            best = rank, key = id;
        if (!seed[0])
            snprintf(seed, sizeof seed, "merge\x1f%s",
                     cJSON_GetObjectItem(id, "value")->valuestring);
    }
    xf_put_bool(p, "active", 0);
    dt_add_each(x, p, "name", xf_take(x, mrg, 7), dt_human_name);
    xf_full_url(x, mrg, "Patient", url);
    msg_link(p, x->patient_ref, "replaced-by");
    msg_link(survivor, url, "replaces");
    xf_bundle_add(x, url, p, key, seed[0] ? seed : NULL);
}

/* ADT_A39 (A40...): each PID with the MRG after it. */
static int build_merges(struct xf_ctx *x)
{
    int pairs = 0;
    for (uint32_t i = 0; i < x->msg->nsegs; i++) {
        const struct hl7_seg *pid = &x->msg->segs[i];
        if (strcmp(pid->name, "PID") != 0)
            continue;
        const struct hl7_seg *mrg = msg_next(x, pid, "MRG", "PID");
        cJSON *survivor;
        if (!mrg)
            return xf_fail(x, pid, 0, 100, "merge without an MRG segment after its PID");
        if (msg_add_patient(x, pid, NULL, &survivor) != 0)
            return -1;
        add_retired(x, mrg, survivor);
        pairs++;
    }
    return pairs ? 0 : xf_fail(x, NULL, 0, 100, "merge message without PID/MRG pairs");
}

/* One visit-level ADT: the Patient, its Encounter and what hangs off them. */
static int build_visit(struct xf_ctx *x, const char *trigger)
{
    const struct hl7_seg *pid = msg_find(x, "PID"), *pv1 = msg_find(x, "PV1");
    cJSON *patient, *attachment;
    char url[XF_URL_MAX];
    if (!pid)
        return xf_fail(x, NULL, 0, 100, "ADT message without a PID segment");
    if (msg_add_patient(x, pid, msg_next(x, pid, "PD1", "PID"), &patient) != 0)
        return -1;
    if (pv1 && seg_pv1_says_something(x, pv1) && msg_add_encounter(x, trigger, pv1) != 0)
        return -1;
    for (uint32_t i = 0; i < x->msg->nsegs; i++) {
        const struct hl7_seg *s = &x->msg->segs[i];
        if (strcmp(s->name, "NK1") == 0) {
            seg_nk1_contact(x, s, patient);
            seg_nk1_add(x, s);
        } else if (strcmp(s->name, "AL1") == 0)
            seg_al1_add(x, s);
        else if (strcmp(s->name, "DG1") == 0)
            seg_dg1_add(x, s);
        else if (strcmp(s->name, "PR1") == 0)
            seg_pr1_add(x, s);
        else if (strcmp(s->name, "IN1") == 0)
            seg_in1_add(x, s);
        else if (strcmp(s->name, "OBX") == 0) {
            if (msg_add_observation(x, s, NULL, url, &attachment) != 0)
                return -1;
            cJSON_Delete(attachment); /* a document in an ADT has no report to go to */
        }
    }
    return 0;
}

int msg_adt_build(struct xf_ctx *x, const struct hl7_msgtype *t)
{
    if (strcmp(t->structure, "ADT_A39") == 0 || strcmp(t->trigger, "A40") == 0)
        return build_merges(x);
    return build_visit(x, t->trigger);
}
