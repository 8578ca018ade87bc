/*
 * seg_obx — OBX to Observation, per the IG's OBX[Observation] map: code,
 * value by type, units, reference range, interpretation, status (OBX-11:
 * C corrected, D/W entered-in-error, X cancelled...), effective time,
 * performer.
 */
#ifndef SOLENT_TRANSFORMS_SEG_OBX_H
#define SOLENT_TRANSFORMS_SEG_OBX_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_obx;

/* Maps OBX into a new Observation (*obs), or only an Attachment for ED/RP values
 * (*obs NULL). -1 with x->error when OBX-3 is empty. */
int seg_obx_map(struct xf_ctx *x, const struct hl7_seg *obx, cJSON **obs, cJSON **attachment);

#endif
