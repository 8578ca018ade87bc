/*
 * dt_code — coded values: CWE/CE/CNE/CF to CodeableConcept and Coding, the
 * coding-system names of CWE-3 to FHIR system URIs (HL7 tables to
 * terminology.hl7.org), and lookups in the small code tables the segment
 * mappers keep beside them.
 */
#ifndef SOLENT_TRANSFORMS_DT_CODE_H
#define SOLENT_TRANSFORMS_DT_CODE_H

#include "transforms/xf.h"

/* One row of a v2 -> FHIR code table (a concept map of the IG). */
struct dt_code_row {
    const char *v2;
    const char *code;
    const char *display;
};

/* The row whose v2 code equals v (first component), or NULL. */
const struct dt_code_row *dt_code_find(const struct dt_code_row *rows, size_t n, struct hl7_view v,
                                       const struct xf_ctx *x);
/* dt_code_find, and a warning at v when it holds a code the map does not (table: "0128"),
 * so a value read and not used never vanishes without a word. */
const struct dt_code_row *dt_code_map(struct xf_ctx *x, const struct dt_code_row *rows, size_t n,
                                      struct hl7_view v, const char *table);
/* HL7 table 0001 administrative sex (F, M, O, U, A, N) -> FHIR administrative-gender; NULL
 * for an empty or unknown code (warned). */
const char *dt_admin_gender(struct xf_ctx *x, struct hl7_view sex);
/* The FHIR system URI for a CWE-3 coding system name, or NULL when local/unknown. */
const char *dt_code_system(struct xf_ctx *x, struct hl7_view name);
/* CWE (also CE, CNE, CF) -> CodeableConcept; NULL when it holds nothing. */
cJSON *dt_codeable(struct xf_ctx *x, struct hl7_view cwe);
/* A CWE from an HL7-table field: as dt_codeable, but a primary coding without CWE-3 gets
 * the table's system (http://terminology.hl7.org/CodeSystem/v2-NNNN). */
cJSON *dt_codeable_table(struct xf_ctx *x, struct hl7_view cwe, const char *table);
/* The system for code from HL7 table (0203...): the table's, when the code is in it; else a
 * warning at `at` and the configured local system (xf_config.local_code_system + "/" +
 * table), or NULL when none is configured. out holds what is returned. */
const char *dt_table_system(struct xf_ctx *x, struct hl7_view at, const char *table,
                            const char *code, char out[160]);
/* The same for a CWE nested in a component (its parts are sub-components, as in SPS). */
cJSON *dt_codeable_sub(struct xf_ctx *x, struct hl7_view cwe);
/* A Coding with system, code and display (display may be NULL). */
cJSON *dt_coding(const char *system, const char *code, const char *display);
/* A CodeableConcept of one Coding. */
cJSON *dt_concept(const char *system, const char *code, const char *display);

#endif
