/*
 * seg_pv1 — PV1 (and PV2) to Encounter, per the IG's PV1[Encounter] map:
 * class, visit number, period, hospital service, admit source, discharge
 * disposition; the location (PV1-3, and PV1-6 the prior one) and the
 * attending/referring/consulting/admitting doctors as contained resources.
 * The status comes from the event (the message builder sets it).
 */
#ifndef SOLENT_TRANSFORMS_SEG_PV1_H
#define SOLENT_TRANSFORMS_SEG_PV1_H

#include <stdbool.h>

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_pv1;
extern const struct xf_segmap seg_pv2;

/* False for a PV1 that describes no visit (PV1|1|N or PV1|1: class N or empty and nothing
 * else), as A28/A31 carry: it makes no Encounter. */
bool seg_pv1_says_something(struct xf_ctx *x, const struct hl7_seg *pv1);
/* The visit number PV1-19 as an Identifier inside enc, or NULL. */
cJSON *seg_pv1_visit_ident(cJSON *enc);

#endif
