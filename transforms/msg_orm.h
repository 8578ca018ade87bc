/*
 * msg_orm — orders: ORM^O01 (general order) and OML^O21 (laboratory order) to a
 * transaction Bundle: per order (ORC with its OBR) a ServiceRequest — intent order, status
 * from ORC-5, else ORC-1 (NW active, CA/DC revoked, HD on hold...), its notes, the
 * diagnoses (DG1) as reasonReference, the OBX sent with it as supportingInfo, and for OML
 * the specimens (SPM) — keyed by the placer order number, so the ORU that reports on it
 * later updates the same ServiceRequest its DiagnosticReport is basedOn.
 */
#ifndef SOLENT_TRANSFORMS_MSG_ORM_H
#define SOLENT_TRANSFORMS_MSG_ORM_H

#include "transforms/xf_struct.h"

extern const struct xf_structure msg_orm_o01;
extern const struct xf_structure msg_oml_o21;

#endif
