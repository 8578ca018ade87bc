/* msg_adt — ADT structures and their event semantics. */
#include "transforms/msg_adt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/msg_common.h"
#include "transforms/msg_prt.h"
#include "transforms/seg_al1.h"
#include "transforms/seg_dg1.h"
#include "transforms/seg_gt1.h"
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
    /* MRG-1 prior identifiers; A39 (merge person) names the person by MRG-4 instead */
    struct hl7_view ids =
        xf_has(hl7_field(x->msg, mrg, 1)) ? xf_take(x, mrg, 1) : xf_take(x, mrg, 4);
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
                     cJSON_GetObjectItemCaseSensitive(id, "value")->valuestring);
    }
    xf_put_bool(p, "active", 0);
    dt_add_names(x, p, "name", xf_take(x, mrg, 7));
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

int msg_gt1_add(struct xf_walk *w, const struct hl7_seg *s)
{
    if (w->patient) /* a guarantor of a Patient the message has */
        seg_gt1_add(w->x, s);
    return 0;
}

int msg_al1_add(struct xf_walk *w, const struct hl7_seg *s)
{
    seg_al1_add(w->x, s);
    return 0;
}

/* DiagnosisType (HL7 table 0052) -> diagnosis-role, the IG's map (W, F: no role). */
static const struct dt_code_row diagnosis_roles[] = {{"A", "AD", "Admission diagnosis"}};

/* The message's Encounter, once added; NULL without one. */
static cJSON *the_encounter(struct xf_ctx *x)
{
    return x->encounter_ref[0] ? xf_bundle_find(x, x->encounter_ref, NULL) : NULL;
}

/* A role in the patient's care (ROL) as a PractitionerRole contained in res, with the person
 * a contained Practitioner beside it: ROL-1 its id, ROL-3 the role, ROL-4 the person (ROL-11
 * their address), ROL-5/6 when, ROL-9 the provider type, ROL-12 phone, ROL-13 where, ROL-14
 * the organization. Writes "#id" into ref; the role, or NULL when it names nobody. */
static const cJSON *care_role(struct xf_ctx *x, const struct hl7_seg *rol, cJSON *res, char ref[32])
{
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "contained"));
    char id[24], person[24], person_ref[32];
    snprintf(id, sizeof id, "role%d", n + 1);
    snprintf(person, sizeof person, "role%dp", n + 1);
    snprintf(person_ref, sizeof person_ref, "#%s", person);
    cJSON *who = dt_practitioner(x, xf_take(x, rol, 4), person);
    if (!who)
        return NULL;
    struct xf_reps it;
    struct hl7_view rep;
    cJSON *item;
    for (xf_reps_init(x, &it, xf_take(x, rol, 11)); xf_reps_next(x, &it, &rep);)
        if ((item = dt_address(x, rep)))
            xf_append(who, "address", item);
    cJSON *role = cJSON_CreateObject();
    xf_put_str(role, "resourceType", "PractitionerRole");
    xf_put_str(role, "id", id);
    cJSON *ident = dt_ei(x, xf_take(x, rol, 1));
    if (ident)
        xf_append(role, "identifier", ident);
    xf_put(role, "practitioner", xf_ref(person_ref));
    if ((item = dt_codeable(x, xf_take(x, rol, 3))))
        xf_append(role, "code", item);
    if ((item = dt_codeable(x, xf_take(x, rol, 9))))
        xf_append(role, "specialty", item);
    dt_add_period(x, role, "period", xf_take(x, rol, 5), xf_take(x, rol, 6), DT_DATETIME);
    for (xf_reps_init(x, &it, xf_take(x, rol, 12)); xf_reps_next(x, &it, &rep);)
        if ((item = dt_contact_point(x, rep, "work")))
            xf_append(role, "telecom", item);
    dt_add_place(x, role, "location", xf_take(x, rol, 13));
    /* ROL-14 the organisation, ROL-10 its kind (table 0406): a contained Organization */
    const char *org = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, rol, 14), 1), 1));
    cJSON *org_type = dt_codeable(x, xf_take(x, rol, 10));
    if (org || org_type) {
        char org_id[24], org_ref[32];
        snprintf(org_id, sizeof org_id, "role%do", n + 1);
        snprintf(org_ref, sizeof org_ref, "#%s", org_id);
        cJSON *o = cJSON_CreateObject();
        xf_put_str(o, "resourceType", "Organization");
        xf_put_str(o, "id", org_id);
        org = xf_text(x, xf_comp(x, xf_rep(x, hl7_field(x->msg, rol, 14), 1), 1));
        if (org)
            xf_put_str(o, "name", org);
        if (org_type)
            xf_append(o, "type", org_type);
        xf_append(res, "contained", o);
        xf_put(role, "organization", xf_ref(org_ref));
    }
    xf_append(res, "contained", who);
    xf_append(res, "contained", role);
    snprintf(ref, 32, "#%s", id);
    return role;
}

/* When the person a ROL names (by XCN-1) is one of the visit's PV1 doctors already (an A54's
 * new attending doctor, say), the ROL adds no second participant: its id, role and person
 * are that participant's, its period (ROL-5/6) goes to it. Returns whether it was so. */
static bool already_participant(struct xf_ctx *x, const struct hl7_seg *rol, cJSON *enc)
{
    const char *id = xf_text(x, xf_comp(x, xf_rep(x, hl7_field(x->msg, rol, 4), 1), 1));
    const cJSON *c, *p;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(enc, "contained"))
    {
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(c, "resourceType");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "identifier"), 0), "value");
        if (!id || !cJSON_IsString(rt) || strcmp(rt->valuestring, "Practitioner") != 0 ||
            !cJSON_IsString(v) || strcmp(v->valuestring, id) != 0)
            continue;
        char ref[80];
        snprintf(ref, sizeof ref, "#%s", cJSON_GetObjectItemCaseSensitive(c, "id")->valuestring);
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(enc, "participant"))
        {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(p, "individual"), "reference");
            if (!cJSON_IsString(r) || strcmp(r->valuestring, ref) != 0)
                continue;
            for (uint32_t f = 1; f <= 4; f++)
                (void)xf_take(x, rol, f);
            if (!cJSON_GetObjectItemCaseSensitive(p, "period"))
                dt_add_period(x, (cJSON *)p, "period", xf_take(x, rol, 5), xf_take(x, rol, 6),
                              DT_DATETIME);
            return true;
        }
    }
    return false;
}

/* ROL after PID/PD1: the patient's general practitioner (IG ROL[Patient-GeneralPractitioner]);
 * after PV1/PV2: a participant in the visit (IG ROL[Encounter-PractitionerRole]). The IG's
 * message maps give ROL elsewhere (a procedure's, an insurance's) no target. ROL-2 DE (the
 * role removed) adds nothing. */
int msg_rol_add(struct xf_walk *w, const struct hl7_seg *rol)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *a = rol - 1;
    while (a > x->msg->segs && strstr("ROL,NTE,PRT,ARV", a->name))
        a--;
    bool visit = strcmp(a->name, "PV1") == 0 || strcmp(a->name, "PV2") == 0;
    bool person = strcmp(a->name, "PID") == 0 || strcmp(a->name, "PD1") == 0;
    cJSON *target = visit ? the_encounter(x) : person ? w->patient : NULL;
    char ref[32];
    const cJSON *role = NULL;
    if (visit && target && already_participant(x, rol, target))
        return 0;
    if (target && !xf_eq(xf_comp(x, xf_take(x, rol, 2), 1), "DE"))
        role = care_role(x, rol, target, ref);
    if (!role)
        return 0;
    if (person) {
        xf_append(target, "generalPractitioner", xf_ref(ref));
        return 0;
    }
    cJSON *part = cJSON_CreateObject();
    const cJSON *type = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(role, "code"), 0);
    if (type)
        xf_append(part, "type", cJSON_Duplicate(type, 1));
    xf_put(part, "individual", xf_ref(ref));
    xf_append(target, "participant", part);
    return 0;
}

/* The visit's diagnosis (IG DG1[Encounter]): the Condition, its use (DG1-6) and rank (DG1-15). */
static void encounter_diagnosis(struct xf_ctx *x, const struct hl7_seg *dg1, const char *url)
{
    cJSON *enc = the_encounter(x);
    if (!enc)
        return;
    cJSON *d = cJSON_CreateObject();
    xf_put(d, "condition", xf_ref(url));
    struct hl7_view type = xf_take(x, dg1, 6);
    const struct dt_code_row *role = dt_code_map(
        x, diagnosis_roles, sizeof diagnosis_roles / sizeof diagnosis_roles[0], type, "0052");
    if (role)
        xf_put(d, "use",
               dt_concept("http://terminology.hl7.org/CodeSystem/diagnosis-role", role->code,
                          role->display));
    const char *rank = xf_text(x, xf_take(x, dg1, 15));
    if (rank && strspn(rank, "0123456789") == strlen(rank) && strlen(rank) < 6 && atoi(rank) > 0)
        xf_put_number(d, "rank", (double)atoi(rank));
    xf_append(enc, "diagnosis", d);
}

int msg_dg1_add(struct xf_walk *w, const struct hl7_seg *dg1)
{
    char url[XF_URL_MAX];
    seg_dg1_add(w->x, dg1);
    xf_full_url(w->x, dg1, "Condition", url); /* the url seg_dg1_add gave it */
    xf_walk_link(w, NULL, "reasonReference", url);
    encounter_diagnosis(w->x, dg1, url);
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

int msg_obx_add(struct xf_walk *w, const struct hl7_seg *obx, char url[XF_URL_MAX])
{
    cJSON *attachment = NULL;
    if (msg_add_observation(w->x, obx, w->group_seg ? w->group_key : NULL, url, &attachment))
        return -1;
    if (attachment) /* R4 Observation holds no Attachment; only a report presents one */
        xf_warn(w->x, obx, 5,
                "a document (ED/RP) outside a report: not mapped (no DiagnosticReport here)");
    cJSON_Delete(attachment);
    return 0;
}

static int adt_obx(struct xf_walk *w, const struct hl7_seg *s)
{
    char url[XF_URL_MAX];
    return msg_obx_add(w, s, url);
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
    {"ROL", 3, false, false, msg_rol_add, NULL}, {"GT1", 3, false, false, msg_gt1_add, NULL},
    {"PRT", 3, false, false, msg_prt_add, NULL},
};

static const char *const adt_a01_events[] = {
    "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A11", "A12", "A13",
    "A14", "A21", "A22", "A27", "A28", "A31", "A38", "A52", "A53", "A54", "A55", NULL};

const struct xf_structure msg_adt_a01 = {"ADT_A01",
                                         "ADT",
                                         adt_a01_events,
                                         adt_a01_rules,
                                         sizeof adt_a01_rules / sizeof adt_a01_rules[0],
                                         adt_finish,
                                         NULL};

/* ADT_A17 (A17): two patients swap beds; each PID with its PV1, each visit where the other
 * was. */
static int build_swap(struct xf_walk *w)
{
    struct xf_ctx *x = w->x;
    int pairs = 0;
    for (uint32_t i = 0; i < x->msg->nsegs; i++) {
        const struct hl7_seg *pid = &x->msg->segs[i];
        if (strcmp(pid->name, "PID") != 0)
            continue;
        const struct hl7_seg *pv1 = msg_next(x, pid, "PV1", "PID");
        if (!pv1)
            return xf_fail(x, pid, 0, 100, "bed swap without a PV1 segment after its PID");
        if (msg_add_patient(x, pid, msg_next(x, pid, "PD1", "PV1,PID"), &w->patient) != 0 ||
            msg_add_encounter(x, "A17", pv1) != 0)
            return -1;
        pairs++;
    }
    return pairs == 2 ? 0 : xf_fail(x, NULL, 0, 100, "bed swap without two PID/PV1 pairs");
}

/* ADT_A30 (A47): the patient's identifier changes. The Patient named by the old identifier
 * (MRG-1's of the key's system) is updated with PID-3's: the identifier moves, the record
 * and what refers to it stay. */
static int build_identifier_change(struct xf_walk *w)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *pid = msg_find(x, "PID");
    const struct hl7_seg *mrg = pid ? msg_next(x, pid, "MRG", "PID") : NULL;
    if (!mrg)
        return xf_fail(x, pid, 0, 100, "identifier change without a PID and the MRG after it");
    if (seg_pid_patient(x, pid, msg_next(x, pid, "PD1", "MRG,PID"), &w->patient) != 0)
        return -1;
    const cJSON *ksys = cJSON_GetObjectItemCaseSensitive(x->patient_ident, "system");
    cJSON *old = NULL;
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, mrg, 1)); !old && xf_reps_next(x, &it, &rep);) {
        const char *system;
        cJSON *id = dt_identifier(x, rep, &system);
        if (id && system && cJSON_IsString(ksys) && strcmp(system, ksys->valuestring) == 0)
            old = id;
        else
            cJSON_Delete(id);
    }
    if (!old) {
        cJSON_Delete(w->patient);
        w->patient = NULL;
        return ksys ? xf_fail(x, mrg, 1, 101,
                              "no prior identifier of the key's system in MRG-1: the record to "
                              "change cannot be named")
                    : xf_fail(x, pid, 3, 101,
                              "no identifier with a known system (see [identifiers]): a record "
                              "keyed by a derived id cannot change its identifier");
    }
    xf_bundle_add(x, x->patient_ref, w->patient, old, x->patient_key);
    seg_pid_mother(x, pid, w->patient);
    cJSON_Delete(old);
    return 0;
}

/* ADT_A45 (A45): a visit moved from the patient MRG-1 names to the one PID names. The
 * Encounter keeps its identity — by its visit number's system, else by the prior patient's
 * key as its id was made — and gets the new subject. */
static int build_visit_move(struct xf_walk *w)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *pid = msg_find(x, "PID");
    const struct hl7_seg *mrg = pid ? msg_next(x, pid, "MRG", "PID") : NULL;
    const struct hl7_seg *pv1 = pid ? msg_next(x, pid, "PV1", "PID") : NULL;
    if (!pv1)
        return xf_fail(x, pid, 0, 100, "visit move without PID and PV1");
    if (!mrg) /* the prior patient unnamed: all that can be said is whose the visit is now */
        xf_warn(x, pid, 0, "visit move without MRG: the visit updated as this patient's");
    if (msg_add_patient(x, pid, msg_next(x, pid, "PD1", "MRG,PID"), &w->patient) != 0)
        return -1;
    char now[sizeof x->patient_key], prior[sizeof x->patient_key] = "";
    int best = 0;
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, mrg ? xf_take(x, mrg, 1) : (struct hl7_view){0});
         xf_reps_next(x, &it, &rep);) {
        const char *system;
        cJSON *id = dt_identifier(x, rep, &system);
        int rank = id && system ? seg_pid_key_rank(x, id, rep) : 0;
        if (rank > best)
            best = rank, snprintf(prior, sizeof prior, "%s|%s", system,
                                  cJSON_GetObjectItemCaseSensitive(id, "value")->valuestring);
        cJSON_Delete(id);
    }
    if (mrg)
        (void)xf_take(x, mrg, 5); /* the prior visit number: PV1-19 names the same visit */
    xf_copy(now, sizeof now, x->patient_key);
    if (prior[0])
        xf_copy(x->patient_key, sizeof x->patient_key, prior);
    int rc = msg_add_encounter(x, "A45", pv1);
    xf_copy(x->patient_key, sizeof x->patient_key, now);
    return rc;
}

/* ADT_A30/A43 (A35, A44): an account merged or moved. Solent writes no Account: the
 * Patient is updated, and the account move said in a warning. */
static int build_account_move(struct xf_walk *w)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *pid = msg_find(x, "PID");
    if (!pid)
        return xf_fail(x, NULL, 0, 100, "account move without a PID segment");
    if (msg_add_patient(x, pid, msg_next(x, pid, "PD1", "MRG,PID"), &w->patient) != 0)
        return -1;
    xf_warn(x, msg_next(x, pid, "MRG", "PID"), 3,
            "accounts are not mapped (no Account resource): the account move is not sent");
    return 0;
}

static const char *const adt_a39_events[] = {"A34", "A39", "A40", NULL};

const struct xf_structure msg_adt_a39 = {"ADT_A39", "ADT", adt_a39_events, NULL,
                                         0,         NULL,  build_merges};

static const char *const adt_a17_events[] = {"A17", NULL};

const struct xf_structure msg_adt_a17 = {"ADT_A17", "ADT", adt_a17_events, NULL,
                                         0,         NULL,  build_swap};

static const char *const adt_a47_events[] = {"A47", NULL};

const struct xf_structure msg_adt_a47 = {"ADT_A30", "ADT", adt_a47_events,         NULL,
                                         0,         NULL,  build_identifier_change};

static const char *const adt_a45_events[] = {"A45", NULL};

const struct xf_structure msg_adt_a45 = {"ADT_A45", "ADT", adt_a45_events,  NULL,
                                         0,         NULL,  build_visit_move};

static const char *const adt_account_events[] = {"A35", "A44", NULL};

const struct xf_structure msg_adt_account = {"ADT_A43", "ADT", adt_account_events, NULL,
                                             0,         NULL,  build_account_move};
