/*
 * seg_txa — TXA (document notification) to DocumentReference, as the IG's TXA[DocumentReference]
 * map says: the document's type, when it was written, author and authenticator, its unique
 * number (TXA-12) as the masterIdentifier and key, its completion status (docStatus: final
 * only once legally authenticated, LA, as FHIR-Converter reads table 0271), confidentiality,
 * title; its status and its relation to a parent document from the trigger (MDM T01-T11).
 */
#ifndef SOLENT_TRANSFORMS_SEG_TXA_H
#define SOLENT_TRANSFORMS_SEG_TXA_H

#include "transforms/xf_bundle.h"

/* Maps txa for trigger (T01..T11) into a new DocumentReference in *out; its identifier (the
 * conditional key, or NULL) in *key_ident and the id seed in seed. 0, or -1 with x->error. */
int seg_txa_map(struct xf_ctx *x, const struct hl7_seg *txa, const char *trigger, cJSON **out,
                const cJSON **key_ident, char seed[256]);

#endif
