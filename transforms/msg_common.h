/*
 * msg_common — what the message builders share: finding segments within a
 * group, adding the Patient and Encounter entries, observations (OBX with
 * its NTEs), and Patient.link for merges.
 */
#ifndef SOLENT_TRANSFORMS_MSG_COMMON_H
#define SOLENT_TRANSFORMS_MSG_COMMON_H

#include "transforms/xf_bundle.h"

/* The first segment named name, or NULL. */
const struct hl7_seg *msg_find(struct xf_ctx *x, const char *name);
/* The next segment named name after s, stopping at one named any of stop ("PID,MRG"). */
const struct hl7_seg *msg_next(struct xf_ctx *x, const struct hl7_seg *s, const char *name,
                               const char *stop);
/* The ORC of an order's detail segment s (OBR, RXA): right before it, with only timing and
 * participants (TQ1, TQ2, PRT) between; NULL when there is none. */
const struct hl7_seg *msg_order_common(struct xf_ctx *x, const struct hl7_seg *s);
/* Maps PID (+PD1) and adds the Patient entry; *patient stays valid inside the bundle. */
int msg_add_patient(struct xf_ctx *x, const struct hl7_seg *pid, const struct hl7_seg *pd1,
                    cJSON **patient);
/* Adds Patient.link {other: url, type}. */
void msg_link(cJSON *patient, const char *url, const char *type);
/* Maps PV1 (+PV2) to the Encounter entry with the status the trigger implies. */
int msg_add_encounter(struct xf_ctx *x, const char *trigger, const struct hl7_seg *pv1);
/* Maps OBX (and the NTEs after it) to an Observation entry. report_key (may be NULL) is the
 * key of the report it belongs to. Returns the entry's fullUrl in url, or "" when none was
 * made; *attachment gets an ED/RP value for the report's presentedForm. */
int msg_add_observation(struct xf_ctx *x, const struct hl7_seg *obx, const char *report_key,
                        char url[XF_URL_MAX], cJSON **attachment);
/* Notes from the NTE segments right after s, as Annotations in array name of res. */
void msg_add_notes(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res, const char *name);
/* A document's Attachment a (from OBX obx) as the route wants it: its size; over
 * max_document, its content left out with a warning; with documents_binary, its content in a
 * Binary entry of the bundle (id from key and the OBX) that a.url points at. */
void msg_place_document(struct xf_ctx *x, const struct hl7_seg *obx, cJSON *a, const char *key);

#endif
