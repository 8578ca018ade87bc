/*
 * msg_oru — ORU^R01 to a transaction Bundle: the Patient and Encounter when
 * present, and per order group (ORC/OBR) a ServiceRequest, a DiagnosticReport
 * whose result lists the group's Observations (OBX, with their NTEs), its
 * Specimens (SPM), and ED/RP values as presentedForm.
 */
#ifndef SOLENT_TRANSFORMS_MSG_ORU_H
#define SOLENT_TRANSFORMS_MSG_ORU_H

#include "transforms/xf_struct.h"

/* ORU_R01 (R01). */
extern const struct xf_structure msg_oru_r01;

/* Handlers order structures share, linking into the group's DiagnosticReport when it
 * holds one, else its ServiceRequest: a specimen (SPM); and the close step of an OBR whose
 * group had no SPM, the Specimen the OBR describes (IG OBR[Specimen]: OBR-7, OBR-15). */
int msg_spm_add(struct xf_walk *w, const struct hl7_seg *spm);
int msg_obr_specimen(struct xf_walk *w, const struct hl7_seg *obr);

#endif
