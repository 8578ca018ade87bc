/* seg_dg1 — DG1 (diagnosis) to Condition, per the IG's DG1[Condition] map. */
#ifndef SOLENT_TRANSFORMS_SEG_DG1_H
#define SOLENT_TRANSFORMS_SEG_DG1_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_dg1;

/* Adds the Condition entry for s, for the Patient (and Encounter when there is one). */
void seg_dg1_add(struct xf_ctx *x, const struct hl7_seg *s);

#endif
