/*
 * seg_msh — MSH to MessageHeader, and MSH/EVN to the Provenance of the
 * transformation (which names every resource of the bundle as its target).
 */
#ifndef SOLENT_TRANSFORMS_SEG_MSH_H
#define SOLENT_TRANSFORMS_SEG_MSH_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_msh;

/* Adds the MessageHeader entry for the message. */
void seg_msh_header(struct xf_ctx *x);
/* Adds the Provenance entry, targeting every entry so far (EVN may be NULL). */
void seg_msh_provenance(struct xf_ctx *x, const struct hl7_seg *evn);

#endif
