/*
 * seg_in1 — IN1 (insurance) to Coverage and its payor Organization, per the
 * IG's IN1[Coverage] map: the insurer (IN1-3 id, IN1-4 name), the plan
 * (IN1-2), the policy number (IN1-36), the period (IN1-12/13) and the
 * insured's relationship to the patient (IN1-17).
 */
#ifndef SOLENT_TRANSFORMS_SEG_IN1_H
#define SOLENT_TRANSFORMS_SEG_IN1_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_in1;

/* Adds the payor Organization and the Coverage entries for s. */
void seg_in1_add(struct xf_ctx *x, const struct hl7_seg *s);

#endif
