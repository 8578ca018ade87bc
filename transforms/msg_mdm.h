/*
 * msg_mdm — MDM^T01-T11 (document management: letters, discharge summaries, reports) to a
 * transaction Bundle: the Patient and its visit, the order the document answers (ORC/OBR:
 * a ServiceRequest, the document's context.related), and a DocumentReference from TXA whose
 * content is each OBX's value — a PDF (ED), text (TX/FT) or a pointer (RP) — as the IG's
 * MDM_T02 map says; T01, T03, T05, T07, T09 and T11 notify without content.
 */
#ifndef SOLENT_TRANSFORMS_MSG_MDM_H
#define SOLENT_TRANSFORMS_MSG_MDM_H

#include "transforms/xf_struct.h"

extern const struct xf_structure msg_mdm_t02;

#endif
