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
static int build_merges(struct xf_walk *w)
{
    struct xf_ctx *x = w->x;
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

/* ---- one visit-level ADT: the Patient, its Encounter and what hangs off them ---- */

int msg_pid_add(struct xf_walk *w, const struct hl7_seg *pid)
{
    return msg_add_patient(w->x, pid, msg_next(w->x, pid, "PD1", "PID,PV1,ORC,OBR"), &w->patient);
}

int msg_nk1_add(struct xf_walk *w, const struct hl7_seg *nk1)
{
    if (w->patient) /* a contact of a Patient the message has */
        seg_nk1_contact(w->x, nk1, w->patient), seg_nk1_add(w->x, nk1);
    return 0;
}

int msg_pv1_add(struct xf_walk *w, const struct hl7_seg *pv1)
{
    if (!seg_pv1_says_something(w->x, pv1))
        return 0;
    return msg_add_encounter(w->x, w->type->trigger, pv1);
}

int msg_al1_add(struct xf_walk *w, const struct hl7_seg *s)
{
    seg_al1_add(w->x, s);
    return 0;
}

int msg_dg1_add(struct xf_walk *w, const struct hl7_seg *dg1)
{
    char url[XF_URL_MAX];
    seg_dg1_add(w->x, dg1);
    xf_full_url(w->x, dg1, "Condition", url); /* the url seg_dg1_add gave it */
    xf_walk_link(w, NULL, "reasonReference", url);
    return 0;
}

static int adt_pr1(struct xf_walk *w, const struct hl7_seg *s)
{
    seg_pr1_add(w->x, s);
    return 0;
}

int msg_in1_add(struct xf_walk *w, const struct hl7_seg *s)
{
    seg_in1_add(w->x, s);
    return 0;
}

static int adt_obx(struct xf_walk *w, const struct hl7_seg *s)
{
    char url[XF_URL_MAX];
    cJSON *attachment;
    if (msg_add_observation(w->x, s, NULL, url, &attachment) != 0)
        return -1;
    cJSON_Delete(attachment); /* a document in an ADT has no report to go to */
    return 0;
}

static int adt_finish(struct xf_walk *w)
{
    return w->patient ? 0 : xf_fail(w->x, NULL, 0, 100, "ADT message without a PID segment");
}

/* Patient first, then its Encounter, then what hangs off them in message order. */
static const struct xf_rule adt_a01_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL}, {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"NK1", 3, false, false, msg_nk1_add, NULL}, {"AL1", 3, false, false, msg_al1_add, NULL},
    {"DG1", 3, false, false, msg_dg1_add, NULL}, {"PR1", 3, false, false, adt_pr1, NULL},
    {"IN1", 3, false, false, msg_in1_add, NULL}, {"OBX", 3, false, false, adt_obx, NULL},
};

static const char *const adt_a01_events[] = {"A01", "A02", "A03", "A04", "A05", "A06", "A07",
                                             "A08", "A11", "A12", "A13", "A28", "A31", NULL};

const struct xf_structure msg_adt_a01 = {"ADT_A01",
                                         "ADT",
                                         adt_a01_events,
                                         adt_a01_rules,
                                         sizeof adt_a01_rules / sizeof adt_a01_rules[0],
                                         adt_finish,
                                         NULL};

static const char *const adt_a39_events[] = {"A40", NULL};

const struct xf_structure msg_adt_a39 = {"ADT_A39", "ADT", adt_a39_events, NULL,
                                         0,         NULL,  build_merges};
