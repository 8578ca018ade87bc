/*
 * msg_oru — ORU^R01 to a transaction Bundle: the Patient and Encounter when
 * present, and per order group (ORC/OBR) a ServiceRequest, a DiagnosticReport
 * whose result lists the group's Observations (OBX, with their NTEs), its
 * Specimens (SPM), and ED/RP values as presentedForm.
 */
#ifndef SOLENT_TRANSFORMS_MSG_ORU_H
#define SOLENT_TRANSFORMS_MSG_ORU_H

#include "parsers/hl7_msgtype.h"
#include "transforms/xf.h"

/* Builds the entries of an ORU message into x; -1 with x->error on a required element. */
int msg_oru_build(struct xf_ctx *x, const struct hl7_msgtype *t);

#endif
