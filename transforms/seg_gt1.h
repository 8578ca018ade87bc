/* seg_gt1 — GT1 (guarantor) to the person who pays: a RelatedPerson of the patient (or the
 * patient), and the guarantor of the patient's Account (PID-18) with its period. */
#ifndef SOLENT_TRANSFORMS_SEG_GT1_H
#define SOLENT_TRANSFORMS_SEG_GT1_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_gt1;

/* Adds the guarantor of s: a RelatedPerson entry unless GT1-11 says the patient is their own
 * guarantor, and Account.guarantor on the message's Account when it has one. */
void seg_gt1_add(struct xf_ctx *x, const struct hl7_seg *s);

#endif
