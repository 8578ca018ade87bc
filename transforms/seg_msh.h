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

/* The IG's ORC[Provenance]: who entered (ORC-10, for ORC-17's organisation), verified
 * (ORC-11) and acted on (ORC-19) the order, on which device (ORC-18), recorded at ORC-9 —
 * a Provenance targeting the order's resource at url; none when ORC names nobody. */
void seg_msh_order_provenance(struct xf_ctx *x, const struct hl7_seg *orc, const char *url);
/* The IG's PID[Provenance-Patient]: when the patient's record was last updated (PID-33) and by
 * which facility (PID-34, else the sending facility, MSH-4); none when PID-33/34 are empty. */
void seg_msh_patient_provenance(struct xf_ctx *x, const struct hl7_seg *pid);

#endif
