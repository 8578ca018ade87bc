/*
 * seg_obr — an order group (ORC + OBR) to ServiceRequest and DiagnosticReport,
 * per the IG's ORC/OBR maps: placer and filler order numbers as identifiers,
 * the service (OBR-4) as code, statuses from ORC-5 and OBR-25, times, and the
 * requester and results interpreter by name.
 */
#ifndef SOLENT_TRANSFORMS_SEG_OBR_H
#define SOLENT_TRANSFORMS_SEG_OBR_H

#include "transforms/xf_bundle.h"

/* Builds the ServiceRequest and DiagnosticReport of OBR (ORC may be NULL). *key gets
 * the report's key (system|value of its identifier). -1 with x->error when OBR-4 is
 * empty or neither OBR nor ORC carries an order number. */
int seg_obr_map(struct xf_ctx *x, const struct hl7_seg *orc, const struct hl7_seg *obr,
                cJSON **request, cJSON **report, char key[256]);

/* The key of a request (its id seed when its number has no system): its first number, the
 * placer's when it has one — the same in the order (ORM/OML, often before a filler number
 * exists) and in the results (ORU), so both update one ServiceRequest. */
void seg_obr_request_key(const cJSON *request, char key[256]);
/* An order's timing (IG TQ1[ServiceRequest]): TQ1-7/8 the occurrence's bounds, TQ1-9 its
 * priority (ExtendedPriorityCodes), TQ1-11 a note. */
void seg_obr_timing(struct xf_ctx *x, const struct hl7_seg *tq1, cJSON *sr);
/* The request's status: ORC-5 by the OrderStatus map, else ORC-1 by OrderControlCode. */
const char *seg_obr_request_status(struct xf_ctx *x, const struct hl7_seg *orc);
/* A ServiceRequest from an order that has no OBR (ORC alone) or no order number: the
 * numbers ORC-2/3 has, status, intent, OBR-4's code when there is an OBR. */
cJSON *seg_obr_order_request(struct xf_ctx *x, const struct hl7_seg *orc,
                             const struct hl7_seg *obr);

#endif
