/*
 * dt_name — people and places: XPN to HumanName, XAD to Address, XTN to
 * ContactPoint, XCN to a (contained) Practitioner, PL to a Location.
 */
#ifndef SOLENT_TRANSFORMS_DT_NAME_H
#define SOLENT_TRANSFORMS_DT_NAME_H

#include "transforms/xf.h"

/* XPN -> HumanName; NULL when it holds no name. */
cJSON *dt_human_name(struct xf_ctx *x, struct hl7_view xpn);
/* XAD -> Address; NULL when empty. */
cJSON *dt_address(struct xf_ctx *x, struct hl7_view xad);
/* XAD -> an Organization's Address: as dt_address, without use home (FHIR org-2). */
cJSON *dt_org_address(struct xf_ctx *x, struct hl7_view xad);
/* XTN -> an Organization's ContactPoint: as dt_contact_point (work), never use home (org-3). */
cJSON *dt_org_telecom(struct xf_ctx *x, struct hl7_view xtn);
/* XTN -> ContactPoint; use_hint ("home", "work" or NULL) applies when XTN-2 says nothing. */
cJSON *dt_contact_point(struct xf_ctx *x, struct hl7_view xtn, const char *use_hint);
/* Adds every repetition of a field through fn to array name of obj (created when needed). */
void dt_add_each(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view field,
                 cJSON *(*fn)(struct xf_ctx *, struct hl7_view));
/* Every XPN repetition of field as a HumanName into array name of obj, and for one with
 * XPN-15 ("called by") a second, use usual, with that given name. */
void dt_add_names(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view field);
/* XCN -> Practitioner resource with the given id (for contained use); NULL when empty. */
cJSON *dt_practitioner(struct xf_ctx *x, struct hl7_view xcn, const char *id);
/* A Reference of the given type to the person the first XCN names, by display (the surname,
 * XCN-2.1); NULL when it names nobody. */
cJSON *dt_person_ref(struct xf_ctx *x, struct hl7_view xcn, const char *type);
/* Appends {text} to res.note when text is not NULL. */
void dt_add_note(cJSON *res, const char *text);
/* The text a CWE shows a reader: its text (CWE-2), else its code; NULL when empty. */
const char *dt_cwe_text(struct xf_ctx *x, struct hl7_view cwe);
/* A language (CWE) as an entry of res.communication. */
void dt_add_language(struct xf_ctx *x, cJSON *res, struct hl7_view cwe);
/* Appends {display: the PL's point of care} to array name of res (a place by name). */
void dt_add_place(struct xf_ctx *x, cJSON *res, const char *name, struct hl7_view pl);
/* PL -> Location resource with the given id (for contained use); NULL when empty. */
cJSON *dt_location(struct xf_ctx *x, struct hl7_view pl, const char *id);

#endif
