/*
 * dt_value — OBX-5 by its type (OBX-2) to Observation.value[x]: NM (with
 * OBX-6 units) to Quantity, SN to Quantity with comparator, Ratio or Range,
 * ST/TX/FT to string, CWE/CE/CNE to CodeableConcept, DT/TS/DTM to dateTime,
 * TM to time. ED and RP become an Attachment, which R4 Observation cannot
 * hold: the caller puts it on the DiagnosticReport (presentedForm).
 */
#ifndef SOLENT_TRANSFORMS_DT_VALUE_H
#define SOLENT_TRANSFORMS_DT_VALUE_H

#include "transforms/xf.h"

/* Writes s as a FHIR decimal (JSON number text) into out; -1 when s is not a number. */
int dt_decimal(const char *s, char *out, size_t n);
/* CQ (quantity^units) -> SimpleQuantity {value, unit}; NULL when it holds no number. */
cJSON *dt_quantity_cq(struct xf_ctx *x, struct hl7_view cq);
/* The UCUM code of a unit of time as senders write it (s, sec, min, h, hr, d, day, wk, week,
 * mo, month, a, ann, yr, year, any case, plural or not), and its length in seconds (months
 * and years: 30 and 365 days); NULL when name is no unit of time. */
const char *dt_time_unit(const char *name, long *seconds);
/* Sets obs.value[x] from the OBX segment. 0: set; 1: *attachment set instead; 2: no value;
 * -1: not mappable (warned at OBX-5). */
int dt_obs_value(struct xf_ctx *x, const struct hl7_seg *obx, cJSON *obs, cJSON **attachment);
/* OBX-5 as a document's Attachment: ED (its MIME type; Base64 data checked, a warning and
 * NULL when it is not base64), RP (its address as url), TX/FT/ST (the text, every
 * repetition a line, as text/plain). NULL for other types or no value. */
cJSON *dt_attachment(struct xf_ctx *x, const struct hl7_seg *obx);

#endif
