/*
 * seg_rxa — RXA (with the ORC before it and the RXR after it) to Immunization, as the
 * IG's RXA[Immunization], RXR[Immunization] and ORC[Immunization] maps say: the vaccine
 * (CVX, SNOMED CT, NDC... by RXA-5's coding system), when, the dose, who gave it, lot,
 * expiry, manufacturer, route and site; the status from RXA-20 (completed, not-done for a
 * refusal or a dose not given) unless RXA-21 deletes it (entered-in-error).
 */
#ifndef SOLENT_TRANSFORMS_SEG_RXA_H
#define SOLENT_TRANSFORMS_SEG_RXA_H

#include "transforms/xf_bundle.h"

/* Maps orc (may be NULL), rxa and rxr (may be NULL) into a new Immunization in *out, with
 * identifiers from ORC-2/3; its key (a seed) in key. 0, or -1 with x->error (RXA-3, RXA-5
 * are required). */
int seg_rxa_map(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *rxa,
                const struct hl7_seg *rxr, cJSON **out, char key[256]);

#endif
