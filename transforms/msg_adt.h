/*
 * msg_adt — ADT messages to a transaction Bundle, events as state changes:
 * A01/A02/A06/A07 in progress, A03 finished with period.end, A04/A05 planned,
 * A11 cancelled, A12 back to the location before the transfer, A13 no
 * longer finished, A08/A31 state read from the visit's own dates, A28/A31
 * person only, A40 merges (Patient.link replaces / replaced-by, the retired
 * record inactive) for each PID/MRG pair.
 */
#ifndef SOLENT_TRANSFORMS_MSG_ADT_H
#define SOLENT_TRANSFORMS_MSG_ADT_H

#include "transforms/xf_struct.h"

/* ADT_A01 and the structures that share it (A01-A08, A11-A13, A28, A31): a visit. */
extern const struct xf_structure msg_adt_a01;
/* ADT_A39 (A34, A39, A40): PID/MRG pairs, merged: links replaces / replaced-by. */
extern const struct xf_structure msg_adt_a39;
/* ADT_A17 (A17): two PID/PV1 pairs, beds swapped. */
extern const struct xf_structure msg_adt_a17;
/* ADT_A30 (A47): the patient identifier changed from MRG-1's to PID-3's. */
extern const struct xf_structure msg_adt_a47;
/* ADT_A45 (A45): a visit moved from MRG-1's patient to PID's. */
extern const struct xf_structure msg_adt_a45;
/* ADT_A43 (A35, A44): an account merged or moved: the Patient only, with a warning. */
extern const struct xf_structure msg_adt_account;

/* Handlers other structures share: the Patient (PID, and the PD1 after it), and a next of
 * kin (NK1) of that Patient. */
int msg_pid_add(struct xf_walk *w, const struct hl7_seg *pid);
int msg_nk1_add(struct xf_walk *w, const struct hl7_seg *nk1);
/* The visit (PV1, and the PV2 after it): the Encounter, its status the event's; a PV1 that
 * describes no visit (PV1|1|N) makes none. */
int msg_pv1_add(struct xf_walk *w, const struct hl7_seg *pv1);
/* An allergy (AL1): an AllergyIntolerance of the Patient. */
int msg_al1_add(struct xf_walk *w, const struct hl7_seg *al1);
/* A diagnosis (DG1): a Condition of the Patient, and in a group (an order, an appointment)
 * the reasonReference of the resource that opened it. */
int msg_dg1_add(struct xf_walk *w, const struct hl7_seg *dg1);
/* An observation (OBX) outside a report: the Observation (keyed by the group's key in a
 * group), its fullUrl in url ("" when it made none); a document value (ED/RP), which only
 * a DiagnosticReport could present, is warned about by position, not dropped silently. */
int msg_obx_add(struct xf_walk *w, const struct hl7_seg *obx, char url[XF_URL_MAX]);
/* A role in the patient's care (ROL): their GP after PID/PD1, a visit's participant after
 * PV1/PV2. */
int msg_rol_add(struct xf_walk *w, const struct hl7_seg *rol);
/* A guarantor (GT1): the person who pays, and the Account's guarantor. */
int msg_gt1_add(struct xf_walk *w, const struct hl7_seg *s);
/* Insurance (IN1): a Coverage and its payor. */
int msg_in1_add(struct xf_walk *w, const struct hl7_seg *in1);

#endif
