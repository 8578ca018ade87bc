/* dt_code — CWE to CodeableConcept, coding systems, code tables. */
#include "transforms/dt_code.h"

#include <stdio.h>
#include <string.h>

struct system_row {
    const char *name, *uri;
};

/* CWE-3 names (HL7 table 0396) seen in UK and US traffic. HL7nnnn is handled below. */
static const struct system_row systems[] = {
    {"LN", "http://loinc.org"},
    {"SCT", "http://snomed.info/sct"},
    {"SNM", "http://snomed.info/sct"},
    {"SNOMED", "http://snomed.info/sct"},
    {"I10", "http://hl7.org/fhir/sid/icd-10"},
    {"ICD10", "http://hl7.org/fhir/sid/icd-10"},
    {"I10C", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"I9C", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"UCUM", "http://unitsofmeasure.org"},
    {"CVX", "http://hl7.org/fhir/sid/cvx"},
    {"RXNORM", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {"NDC", "http://hl7.org/fhir/sid/ndc"},
    {"DCM", "http://dicom.nema.org/resources/ontology/DCM"},
    {"READ", "http://read.info/readv2"},
    {"OPCS4", "http://www.datadictionary.nhs.uk/data_dictionary/attributes/o/opcs_classification"},
    {"dm+d", "https://dmd.nhs.uk"},
};

const struct dt_code_row *dt_code_find(const struct dt_code_row *rows, size_t n, struct hl7_view v,
                                       const struct xf_ctx *x)
{
    struct hl7_view c = xf_comp(x, v, 1);
    for (size_t i = 0; i < n; i++)
        if (xf_eq(c, rows[i].v2))
            return &rows[i];
    return NULL;
}

const char *dt_code_system(struct xf_ctx *x, struct hl7_view name)
{
    static _Thread_local char table_uri[64];
    const char *s = xf_text(x, name);
    if (!s)
        return NULL;
    for (size_t i = 0; i < sizeof systems / sizeof systems[0]; i++)
        if (strcmp(s, systems[i].name) == 0)
            return systems[i].uri;
    if (strncmp(s, "HL7", 3) == 0 && strlen(s) == 7 && strspn(s + 3, "0123456789") == 4) {
        snprintf(table_uri, sizeof table_uri, "http://terminology.hl7.org/CodeSystem/v2-%s", s + 3);
        return table_uri;
    }
    if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
        strncmp(s, "urn:", 4) == 0) {
        snprintf(table_uri, sizeof table_uri, "%s", s);
        return table_uri;
    }
    return NULL; /* local (L, 99zzz) or unknown: code and display, no system */
}

cJSON *dt_coding(const char *system, const char *code, const char *display)
{
    cJSON *c = cJSON_CreateObject();
    if (system)
        xf_put_str(c, "system", system);
    if (code)
        xf_put_str(c, "code", code);
    if (display)
        xf_put_str(c, "display", display);
    return c;
}

cJSON *dt_concept(const char *system, const char *code, const char *display)
{
    cJSON *cc = cJSON_CreateObject(), *codings = xf_put_array(cc, "coding");
    cJSON_AddItemToArray(codings, dt_coding(system, code, display));
    return cc;
}

/* Coding from components first (code), first+1 (display), first+2 (system); NULL if empty. */
static cJSON *coding_at(struct xf_ctx *x, struct hl7_view cwe, uint32_t first)
{
    struct hl7_view code = xf_comp(x, cwe, first), disp = xf_comp(x, cwe, first + 1);
    if (!xf_has(code) && !xf_has(disp))
        return NULL;
    cJSON *c = cJSON_CreateObject();
    const char *system = dt_code_system(x, xf_comp(x, cwe, first + 2));
    if (system)
        xf_put_str(c, "system", system);
    xf_add_str(x, c, "code", code);
    xf_add_str(x, c, "display", disp);
    return c;
}

cJSON *dt_codeable(struct xf_ctx *x, struct hl7_view cwe)
{
    cJSON *primary = coding_at(x, cwe, 1), *alternate = coding_at(x, cwe, 4);
    const char *text = xf_text(x, xf_comp(x, cwe, 9));
    if (!primary && !alternate && !text)
        return NULL;
    cJSON *cc = cJSON_CreateObject();
    if (primary || alternate) {
        cJSON *codings = xf_put_array(cc, "coding");
        if (primary)
            cJSON_AddItemToArray(codings, primary);
        if (alternate)
            cJSON_AddItemToArray(codings, alternate);
    }
    text = xf_text(x, xf_comp(x, cwe, 9));
    if (text)
        xf_put_str(cc, "text", text);
    return cc;
}
