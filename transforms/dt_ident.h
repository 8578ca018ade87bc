/*
 * dt_ident — identifiers: CX and EI to Identifier, the identifier-system
 * table (assigning authority / type -> URI), and the NHS number check
 * (10 digits, modulus 11).
 */
#ifndef SOLENT_TRANSFORMS_DT_IDENT_H
#define SOLENT_TRANSFORMS_DT_IDENT_H

#include <stdbool.h>

#include "transforms/xf.h"

/* The system URI for an authority (CX-4 / EI-2..4) and type (CX-5), or NULL. */
const char *dt_ident_system(struct xf_ctx *x, struct hl7_view hd, struct hl7_view type);
/* True for a 10-digit NHS number whose modulus-11 check digit is right. */
bool dt_nhs_number_ok(const char *s);
/* CX -> Identifier; NULL when CX-1 is empty. *system gets the system (or NULL). */
cJSON *dt_identifier(struct xf_ctx *x, struct hl7_view cx, const char **system);
/* EI (value^namespace^universal id^type) -> Identifier; NULL when empty. */
cJSON *dt_ei(struct xf_ctx *x, struct hl7_view ei);
/* The same for an EI inside a component (EIP, SPM-2): its parts are sub-components. */
cJSON *dt_ei_sub(struct xf_ctx *x, struct hl7_view ei);
/* id, typed with its HL7 table 0203 code (PLAC, FILL...); NULL stays NULL. Returns id. */
cJSON *dt_ident_typed(cJSON *id, const char *type);
/* A Reference to the ServiceRequest an order number names (basedOn by identifier). */
cJSON *dt_request_ref(cJSON *id);
/* The key of an Identifier (an id seed): system|value, or, without a system, the assigner's
 * name|value (two senders' order 123 are two orders), else local|value. "" for NULL. */
void dt_ident_key(const cJSON *id, char key[256]);

#endif
