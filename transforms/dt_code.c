/* dt_code — CWE to CodeableConcept, coding systems, code tables. */
#include "transforms/dt_code.h"

#include <stdio.h>
#include <stdlib.h>
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

const struct dt_code_row *dt_code_map(struct xf_ctx *x, const struct dt_code_row *rows, size_t n,
                                      struct hl7_view v, const char *table)
{
    const struct dt_code_row *r = dt_code_find(rows, n, v, x);
    if (!r && xf_has(xf_comp(x, v, 1))) {
        char text[64];
        snprintf(text, sizeof text, "no map for this code (HL7 table %s): not used", table);
        xf_warn_at(x, xf_comp(x, v, 1), text);
    }
    return r;
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
        xf_copy(table_uri, sizeof table_uri, s);
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

/* Component k of a CWE that is a field or component (sep: the component separator) or
 * that sits inside a component (sep: the sub-component separator). */
static struct hl7_view part(struct hl7_view cwe, char sep, uint32_t k)
{
    return hl7_piece(cwe, sep, k);
}

/* One Coding: code, display, system at first, first+1, first+2; version at ver. */
static cJSON *coding_at(struct xf_ctx *x, struct hl7_view cwe, char sep, uint32_t first,
                        uint32_t ver)
{
    struct hl7_view code = part(cwe, sep, first), disp = part(cwe, sep, first + 1);
    if (!xf_has(code) && !xf_has(disp))
        return NULL;
    cJSON *c = cJSON_CreateObject();
    const char *system = dt_code_system(x, part(cwe, sep, first + 2));
    if (system)
        xf_put_str(c, "system", system);
    xf_add_str(x, c, "version", part(cwe, sep, ver));
    xf_add_str(x, c, "code", code);
    xf_add_str(x, c, "display", disp);
    return c;
}

static int by_code(const void *key, const void *entry)
{
    return strcmp(key, ((const struct xf_code_entry *)entry)->code);
}

/* The site's mapping of the primary code (CWE-1 under the local system CWE-3), or NULL. */
static const struct xf_code_entry *code_map_find(struct xf_ctx *x, struct hl7_view cwe, char sep)
{
    if (!x->cfg->nmaps)
        return NULL;
    char local[64];
    const char *text = xf_text(x, part(cwe, sep, 3)); /* x->tmp: the next call reuses it */
    if (!text || xf_copy(local, sizeof local, text) >= sizeof local)
        return NULL;
    const char *code = xf_text(x, part(cwe, sep, 1));
    if (!code)
        return NULL;
    for (size_t i = 0; i < x->cfg->nmaps; i++)
        if (strcmp(x->cfg->maps[i].local, local) == 0 && x->cfg->maps[i].n)
            return bsearch(code, x->cfg->maps[i].v, x->cfg->maps[i].n, sizeof *x->cfg->maps[i].v,
                           by_code);
    return NULL;
}

/* The IG's CWE[CodeableConcept]: the primary coding (1-3, version 7), the alternate
 * (4-6, version 8), the second alternate (10-12, version 13), and the original text (9). */
static cJSON *codeable(struct xf_ctx *x, struct hl7_view cwe, char sep)
{
    static const uint32_t layout[][2] = {{1, 7}, {4, 8}, {10, 13}};
    cJSON *cc = cJSON_CreateObject(), *codings = NULL;
    for (size_t i = 0; i < sizeof layout / sizeof layout[0]; i++) {
        cJSON *c = coding_at(x, cwe, sep, layout[i][0], layout[i][1]);
        if (!c)
            continue;
        if (!codings)
            codings = xf_put_array(cc, "coding");
        cJSON_AddItemToArray(codings, c);
    }
    const struct xf_code_entry *m = code_map_find(x, cwe, sep);
    if (m) { /* the site's map: the standard coding next to the local one */
        if (!codings)
            codings = xf_put_array(cc, "coding");
        cJSON_AddItemToArray(codings, dt_coding(m->system, m->target, m->display));
    }
    xf_add_str(x, cc, "text", part(cwe, sep, 9));
    if (cJSON_GetArraySize(cc) == 0) {
        cJSON_Delete(cc);
        return NULL;
    }
    return cc;
}

cJSON *dt_codeable(struct xf_ctx *x, struct hl7_view cwe)
{
    return codeable(x, cwe, x->msg->enc.comp);
}

cJSON *dt_codeable_sub(struct xf_ctx *x, struct hl7_view cwe)
{
    return codeable(x, cwe, x->msg->enc.sub);
}

/* The codes of the HL7 tables Solent labels codes with (v2.9; user-defined tables: the
 * values HL7 suggests), comma-separated with a comma at each end. */
static const struct {
    const char *table, *codes;
} hl7_tables[] = {
    {"0002", ",A,B,C,D,E,G,I,M,N,O,P,R,S,T,U,W,"},
    {"0009", ",A0,A1,A2,A3,A4,A5,A6,A7,A8,A9,B1,B2,B3,B4,B5,B6,"},
    {"0023", ",1,2,3,4,5,6,7,8,9,"},
    {"0069", ",CAR,MED,PUL,SUR,URO,"},
    {"0112", ",01,02,03,04,05,06,07,08,09,20,21,22,23,24,25,26,27,28,29,30,40,41,42,"},
    {"0203", ",ACSN,AM,AMA,AN,ANC,AND,ANON,ANT,APRN,ASID,BA,BC,BCFN,BCT,BR,BRN,BSNR,CAII,CC,"
             "CONM,CY,CZ,DC,DCFN,DDS,DEA,DFN,DI,DL,DN,DO,DP,DPM,DR,DS,DSG,EI,EN,ESN,FDR,FDRFN,FGN,"
             "FI,FILL,GI,GIN,GL,GN,HC,IND,IRISTEM,JHN,LACSN,LANR,LI,LN,LR,MA,MB,MC,MCD,MCN,MCR,MCT,"
             "MD,MI,MR,MRT,MS,NBSNR,NCT,NE,NH,NI,NII,NIIP,NP,NPI,OBI,OD,PA,PC,PCN,PE,PEN,PGN,PHC,"
             "PHE,PHO,PI,PIN,PLAC,PN,PNT,PPIN,PPN,PRC,PRN,PT,QA,RI,RN,RPH,RR,RRI,RRP,SAMN,SB,SID,"
             "SL,SN,SNBSN,SNO,SP,SR,SRX,SS,STN,TAX,TN,TPR,TRL,U,UDI,UPIN,USID,VN,VP,VS,WC,WCN,WP,"
             "XV,XX,"},
};

const char *dt_table_system(struct xf_ctx *x, struct hl7_view at, const char *table,
                            const char *code, char out[160])
{
    char key[40];
    size_t len = strlen(code);
    if (len < sizeof key - 2) { /* ",code," */
        key[0] = ',';
        memcpy(key + 1, code, len);
        key[len + 1] = ',', key[len + 2] = '\0';
    } else {
        key[0] = '\0';
    }
    for (size_t i = 0; i < sizeof hl7_tables / sizeof hl7_tables[0]; i++) {
        if (strcmp(hl7_tables[i].table, table) != 0)
            continue;
        if (strlen(code) < sizeof key - 2 && strstr(hl7_tables[i].codes, key)) {
            size_t k = xf_copy(out, 160, "http://terminology.hl7.org/CodeSystem/v2-");
            xf_copy(out + k, 160 - k, table);
            return out;
        }
        break;
    }
    char text[96];
    snprintf(text, sizeof text, "code not in HL7 table %s: kept as the sender's local code", table);
    xf_warn_at(x, at, text);
    if (!x->cfg->local_code_system || !x->cfg->local_code_system[0])
        return NULL;
    snprintf(out, 160, "%s/%s", x->cfg->local_code_system, table);
    return out;
}

cJSON *dt_codeable_table(struct xf_ctx *x, struct hl7_view cwe, const char *table)
{
    cJSON *cc = dt_codeable(x, cwe);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cc, "coding"), 0);
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(first, "system"),
                *code = cJSON_GetObjectItemCaseSensitive(first, "code");
    static const char v2[] = "http://terminology.hl7.org/CodeSystem/v2-";
    char out[160];
    /* the table's system only for the table's codes, whether the sender named the table
     * (CWE-3 HL70069) or named nothing */
    bool unnamed = !sys && !xf_has(xf_comp(x, cwe, 3));
    bool named = cJSON_IsString(sys) && strncmp(sys->valuestring, v2, sizeof v2 - 1) == 0 &&
                 strcmp(sys->valuestring + sizeof v2 - 1, table) == 0;
    if (cJSON_IsString(code) && (unnamed || named)) {
        const char *system = dt_table_system(x, xf_comp(x, cwe, 1), table, code->valuestring, out);
        cJSON_DeleteItemFromObjectCaseSensitive(first, "system");
        if (system)
            xf_put_str(first, "system", system);
    }
    return cc;
}

const char *dt_admin_gender(struct xf_ctx *x, struct hl7_view sex)
{
    static const struct dt_code_row sexes[] = {{"F", "female", NULL}, {"M", "male", NULL},
                                               {"O", "other", NULL},  {"U", "unknown", NULL},
                                               {"A", "other", NULL},  {"N", "other", NULL}};
    const struct dt_code_row *r =
        dt_code_map(x, sexes, sizeof sexes / sizeof sexes[0], sex, "0001");
    return r ? r->code : NULL;
}
