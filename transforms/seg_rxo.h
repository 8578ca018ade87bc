/*
 * seg_rxo — a pharmacy order (ORC with RXO, its RXR routes and TQ1 timing) to a
 * MedicationRequest, as the IG's RXO[MedicationRequest], RXR[MedicationRequest] and
 * TQ1[MedicationRequest] maps say. The order's common part (numbers, status, who, when,
 * timing, facility) is the ServiceRequest seg_obr makes of the ORC, reshaped: one mapping
 * of ORC for every kind of order.
 */
#ifndef SOLENT_TRANSFORMS_SEG_RXO_H
#define SOLENT_TRANSFORMS_SEG_RXO_H

#include "transforms/xf_bundle.h"

/* A new MedicationRequest of orc and rxo; rxr and tq1 may be NULL. */
cJSON *seg_rxo_request(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *rxo,
                       const struct hl7_seg *rxr, const struct hl7_seg *tq1);

#endif
