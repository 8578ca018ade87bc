/*
 * xf_fields — segment mappers as tables where a field is only "field N, read as datatype D,
 * into element E": the table says it, one applier does it. What needs logic (a status from
 * two fields, a quantity from a value and its unit) stays in the mapper's C.
 */
#ifndef SOLENT_TRANSFORMS_XF_FIELDS_H
#define SOLENT_TRANSFORMS_XF_FIELDS_H

#include "transforms/xf.h"

enum xf_field_kind {
    XF_STRING,        /* decoded text of the first repetition */
    XF_DATE,          /* DT/DTM as a FHIR date */
    XF_DATETIME,      /* DTM as a FHIR dateTime (the site zone for a time without one) */
    XF_CODEABLE,      /* the first repetition's CWE as a CodeableConcept */
    XF_CODEABLE_EACH, /* every repetition's CWE, into an array */
    XF_ANNOTATION,    /* text as an Annotation, into an array */
};

/* One table row. */
struct xf_field {
    uint32_t field;
    enum xf_field_kind kind;
    const char *element; /* a key of the resource (a string literal) */
};

/* Maps every row of the table from s into res; fields consumed for --explain. */
void xf_fields_apply(struct xf_ctx *x, const struct hl7_seg *s, const struct xf_field *table,
                     size_t n, cJSON *res);

#endif
