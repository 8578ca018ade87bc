/*
 * transform — the registry of message structures Solent transforms, and the
 * entry point: one parsed message in, one FHIR R4 transaction Bundle out
 * (with the MessageHeader and the Provenance of the transformation), or an
 * error with its HL7 position. Warnings and the fields no mapper consumed
 * stay in the context for the caller (`solent convert --explain`).
 */
#ifndef SOLENT_TRANSFORMS_TRANSFORM_H
#define SOLENT_TRANSFORMS_TRANSFORM_H

#include "transforms/xf.h"

/* Transforms x->msg; 0 with *bundle (in x's arena: valid until xf_cleanup(x), which
 * frees it), or -1 with x->error set. */
int transform_run(struct xf_ctx *x, cJSON **bundle);
/* True when the message type and trigger have a transform. */
bool transform_supports(const char *code, const char *trigger);

#endif
