/*
 * msg_vxu — VXU^V04 (unsolicited vaccination record update) to a transaction Bundle: the
 * Patient (and its visit, contacts, insurance), observations about the person, and per
 * ORDER group (ORC, RXA, RXR) an Immunization with the OBX that report on it (funding,
 * eligibility, the VIS given) as Observations partOf it, as the IG's VXU_V04 map says.
 */
#ifndef SOLENT_TRANSFORMS_MSG_VXU_H
#define SOLENT_TRANSFORMS_MSG_VXU_H

#include "transforms/xf_struct.h"

extern const struct xf_structure msg_vxu_v04;

#endif
