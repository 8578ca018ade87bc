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

#endif
