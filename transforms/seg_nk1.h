/* seg_nk1 — NK1 (next of kin) to RelatedPerson, per the IG's NK1[RelatedPerson] map. */
#ifndef SOLENT_TRANSFORMS_SEG_NK1_H
#define SOLENT_TRANSFORMS_SEG_NK1_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_nk1;

/* Adds the RelatedPerson entry for s, linked to the Patient. */
void seg_nk1_add(struct xf_ctx *x, const struct hl7_seg *s);

/* Adds s as a Patient.contact of patient, as the IG's NK1[Patient] map does. */
void seg_nk1_contact(struct xf_ctx *x, const struct hl7_seg *s, cJSON *patient);

#endif
