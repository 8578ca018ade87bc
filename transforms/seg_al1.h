/* seg_al1 — AL1 (allergy) to AllergyIntolerance, per the IG's AL1 map. */
#ifndef SOLENT_TRANSFORMS_SEG_AL1_H
#define SOLENT_TRANSFORMS_SEG_AL1_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_al1;

/* Adds the AllergyIntolerance entry for s, for the Patient. */
void seg_al1_add(struct xf_ctx *x, const struct hl7_seg *s);

#endif
