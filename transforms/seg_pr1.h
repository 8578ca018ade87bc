/* seg_pr1 — PR1 (procedure) to Procedure, per the IG's PR1[Procedure] map. */
#ifndef SOLENT_TRANSFORMS_SEG_PR1_H
#define SOLENT_TRANSFORMS_SEG_PR1_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_pr1;

/* Adds the Procedure entry for s, for the Patient (and Encounter when there is one). */
void seg_pr1_add(struct xf_ctx *x, const struct hl7_seg *s);

#endif
