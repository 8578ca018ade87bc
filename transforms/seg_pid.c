/* seg_pid — PID and PD1 to Patient. */
#include "transforms/seg_pid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

/* HL7 table 0001 -> administrative-gender (IG AdministrativeSex concept map); and the NHS
 * Data Dictionary's Person Stated Gender codes English PAS systems send (1, 2, 9, X, and 0
 * from its older edition), as UK Core's ConceptMap-UKCore-AdministrativeGender maps them. */
static const struct dt_code_row genders[] = {
    {"F", "female", NULL}, {"M", "male", NULL},    {"O", "other", NULL},   {"U", "unknown", NULL},
    {"A", "other", NULL},  {"N", "other", NULL},   {"1", "male", NULL},    {"2", "female", NULL},
    {"9", "other", NULL},  {"X", "unknown", NULL}, {"0", "unknown", NULL},
};

#define UKCORE_SD "https://fhir.hl7.org.uk/StructureDefinition/"
#define UKCORE_CS "https://fhir.hl7.org.uk/CodeSystem/"

/* NHS number verification status (UK Core, England): what PID-32 may carry. */
static const struct dt_code_row nhs_status[] = {
    {"01", "01", "Number present and verified"},
    {"02", "02", "Number present but not traced"},
    {"03", "03", "Trace required"},
    {"04", "04", "Trace attempted - No match or multiple match found"},
    {"05", "05", "Trace needs to be resolved - (NHS number or patient detail conflict)"},
    {"06", "06", "Trace in progress"},
    {"07", "07", "Number not present and trace not required"},
    {"08", "08", "Trace postponed (baby under six weeks old)"},
};

/* NHS Data Dictionary ethnic category (England), UK Core's UKCore-EthnicCategoryEngland. */
static const struct dt_code_row ethnic[] = {
    {"A", "A", "White - British"},
    {"B", "B", "White - Irish"},
    {"C", "C", "White - Any other White background"},
    {"D", "D", "Mixed - White and Black Caribbean"},
    {"E", "E", "Mixed - White and Black African"},
    {"F", "F", "Mixed - White and Asian"},
    {"G", "G", "Mixed - Any other mixed background"},
    {"H", "H", "Asian or Asian British - Indian"},
    {"J", "J", "Asian or Asian British - Pakistani"},
    {"K", "K", "Asian or Asian British - Bangladeshi"},
    {"L", "L", "Asian or Asian British - Any other Asian background"},
    {"M", "M", "Black or Black British - Caribbean"},
    {"N", "N", "Black or Black British - African"},
    {"P", "P", "Black or Black British - Any other Black background"},
    {"R", "R", "Other Ethnic Groups - Chinese"},
    {"S", "S", "Other Ethnic Groups - Any other ethnic group"},
    {"Z", "Z", "Not stated"},
    {"99", "99", "Not known"},
};

/* HL7 table 0002 -> v3 MaritalStatus (IG MaritalStatus concept map). */
static const struct dt_code_row marital[] = {
    {"A", "L", "Legally Separated"}, {"D", "D", "Divorced"},
    {"M", "M", "Married"},           {"S", "S", "Never Married"},
    {"W", "W", "Widowed"},           {"C", "C", "Common Law"},
    {"G", "T", "Domestic partner"},  {"P", "T", "Domestic partner"},
    {"E", "L", "Legally Separated"}, {"N", "A", "Annulled"},
    {"I", "I", "Interlocutory"},     {"B", "U", "unmarried"},
    {"U", "UNK", "unknown"},         {"O", "OTH", "other"},
    {"T", "UNK", "unknown"},
};

static bool is_nhs(struct xf_ctx *x, struct hl7_view cx)
{
    return xf_eq(xf_sub(x, xf_comp(x, cx, 4), 1), "NHS") || xf_eq(xf_comp(x, cx, 5), "NH");
}

/* One PID-3 repetition; a failing NHS number loses its system. Returns the Identifier. */
static cJSON *pid_one_identifier(struct xf_ctx *x, const struct hl7_seg *s, struct hl7_view cx)
{
    const char *system;
    cJSON *id = dt_identifier(x, cx, &system);
    if (!id || !is_nhs(x, cx))
        return id;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(id, "value");
    if (cJSON_IsString(value) && dt_nhs_number_ok(value->valuestring))
        return id;
    xf_warn(x, s, 3, "NHS number fails the modulus 11 check: not used as the patient's key");
    cJSON_DeleteItemFromObjectCaseSensitive(id, "system");
    return id;
}

/* How well identifier id, from repetition cx, would key the Patient (xf_key_rank). */
int seg_pid_key_rank(struct xf_ctx *x, const cJSON *id, struct hl7_view cx)
{
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(id, "system");
    const char *type = xf_text(x, xf_comp(x, cx, 5));
    char t[8];
    xf_copy(t, sizeof t, type ? type : "");
    return xf_key_rank(x->cfg, cJSON_IsString(sys) ? sys->valuestring : NULL, type ? t : NULL);
}

static int pid_identifiers(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *list = cJSON_CreateArray();
    int best = 0;
    (void)xf_take(x, s, 1);             /* set id: structure only */
    for (uint32_t f = 2; f <= 4; f++) { /* PID-2 and PID-4 are the pre-2.5 homes of ids */
        struct hl7_view field = xf_take(x, s, f);
        struct xf_reps it;
        struct hl7_view rep;
        for (xf_reps_init(x, &it, field); xf_reps_next(x, &it, &rep);) {
            cJSON *id = pid_one_identifier(x, s, rep);
            if (!id)
                continue;
            cJSON_AddItemToArray(list, id);
            int rank = seg_pid_key_rank(x, id, rep);
            if (rank > best)
                best = rank, x->patient_ident = id;
        }
    }
    if (cJSON_GetArraySize(list) == 0) {
        cJSON_Delete(list);
        return xf_fail(x, s, 3, 101, "PID-3 (patient identifier list) has no identifier");
    }
    xf_put(res, "identifier", list);
    return 0;
}

/* PID-19 (SSN) and PID-20 (driving licence, DLN) as identifiers, per the IG. */
static int pid_other_ids(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "identifier");
    const char *ssn = xf_text(x, xf_take(x, s, 19));
    if (ssn && list) {
        cJSON *id = cJSON_CreateObject();
        xf_put(id, "type", dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "SS", NULL));
        xf_put_str(id, "system", "http://hl7.org/fhir/sid/us-ssn");
        xf_put_str(id, "value", ssn);
        cJSON_AddItemToArray(list, id);
    }
    struct hl7_view dln = xf_take(x, s, 20);
    const char *licence = xf_text(x, xf_comp(x, dln, 1));
    if (licence && list) {
        cJSON *id = cJSON_CreateObject();
        xf_put(id, "type", dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "DL", NULL));
        xf_put_str(id, "value", xf_text(x, xf_comp(x, dln, 1)));
        dt_add_period(x, id, "period", (struct hl7_view){0}, xf_comp(x, dln, 3), DT_DATE);
        cJSON_AddItemToArray(list, id);
    }
    return 0;
}

static int pid_names(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_names(x, res, "name", xf_take(x, s, 5));
    dt_add_names(x, res, "name", xf_take(x, s, 9));
    return 0;
}

static cJSON *home_phone(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, "home");
}

static cJSON *work_phone(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, "work");
}

static cJSON *any_phone(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, NULL);
}

static int pid_telecom(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_each(x, res, "telecom", xf_take(x, s, 13), home_phone);
    dt_add_each(x, res, "telecom", xf_take(x, s, 14), work_phone);
    /* PID-40 (v2.7+) carries the same with its own use codes */
    dt_add_each(x, res, "telecom", xf_take(x, s, 40), any_phone);
    return 0;
}

static int pid_gender(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view v = xf_take(x, s, 8);
    const struct dt_code_row *g = dt_code_find(genders, sizeof genders / sizeof genders[0], v, x);
    if (g)
        xf_put_str(res, "gender", g->code);
    else if (xf_has(v))
        xf_warn(x, s, 8, "administrative sex not in HL7 table 0001, left out");
    return 0;
}

/* PID-7: birthDate, and the time of birth as an extension when there is one. */
static int pid_birth(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view v = xf_take(x, s, 7);
    char when[DT_MAX];
    if (!dt_add(x, res, "birthDate", v, DT_DATE) || xf_comp(x, v, 1).len <= 8)
        return 0;
    if (dt_format(x, v, DT_DATETIME, when) == 0) {
        cJSON *ext = xf_put_object(res, "_birthDate");
        cJSON *list = xf_put_array(ext, "extension"), *e = cJSON_CreateObject();
        xf_put_str(e, "url", "http://hl7.org/fhir/StructureDefinition/patient-birthTime");
        xf_put_str(e, "valueDateTime", when);
        cJSON_AddItemToArray(list, e);
    }
    return 0;
}

static int pid_death(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    bool dated = dt_add(x, res, "deceasedDateTime", xf_take(x, s, 29), DT_DATETIME);
    struct hl7_view flag = xf_take(x, s, 30);
    if (!dated && xf_has(flag))
        xf_put_bool(res, "deceasedBoolean", xf_eq(flag, "Y"));
    return 0;
}

static int pid_address(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_each(x, res, "address", xf_take(x, s, 11), dt_address);
    /* PID-12 (county) is the first address's district, per the IG */
    const char *county = xf_text(x, xf_take(x, s, 12));
    if (!county)
        return 0;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "address");
    cJSON *first = list ? cJSON_GetArrayItem(list, 0) : NULL;
    if (!first)
        xf_append(res, "address", first = cJSON_CreateObject());
    if (!cJSON_GetObjectItemCaseSensitive(first, "district"))
        xf_put_str(first, "district", xf_text(x, hl7_field(x->msg, s, 12)));
    return 0;
}

static int pid_marital(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    /* The sender's code (HL7 table 0002), and the IG's v3 equivalent beside it. */
    struct hl7_view v = xf_take(x, s, 16);
    const struct dt_code_row *m = dt_code_find(marital, sizeof marital / sizeof marital[0], v, x);
    cJSON *cc = dt_codeable_table(x, v, "0002");
    if (!cc)
        return 0;
    if (m)
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cc, "coding"),
                             dt_coding("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                                       m->code, m->display));
    xf_put(res, "maritalStatus", cc);
    return 0;
}

static int pid_multiple_birth(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view flag = xf_take(x, s, 24), order = xf_take(x, s, 25);
    const char *n = xf_text(x, order);
    if (n && strspn(n, "0123456789") == strlen(n) && strlen(n) < 4)
        xf_put_number(res, "multipleBirthInteger", (double)strtol(n, NULL, 10));
    else if (xf_has(flag))
        xf_put_bool(res, "multipleBirthBoolean", xf_eq(flag, "Y"));
    return 0;
}

static int pid_language(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *lang = dt_codeable(x, xf_rep(x, xf_take(x, s, 15), 1));
    if (!lang)
        return 0;
    cJSON *c = cJSON_CreateObject();
    xf_put(c, "language", lang);
    xf_append(res, "communication", c);
    return 0;
}

/* An extension {url, valueCodeableConcept} appended to obj. */
static void add_coded_extension(cJSON *obj, const char *url, cJSON *value)
{
    xf_add_extension(obj, url, "valueCodeableConcept", value);
}

/* The IG's standard Patient extensions: PID-6 mother's maiden name, PID-23 birth place,
 * PID-26 citizenship and PID-28 nationality (each a code in a "code" sub-extension). */
static int pid_extensions(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *maiden = xf_text(x, xf_first_sub(x, xf_comp(x, xf_rep(x, xf_take(x, s, 6), 1), 1)));
    if (maiden) {
        xf_add_extension(res, "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
                         "valueString", cJSON_CreateString(maiden));
    }
    const char *place = xf_text(x, xf_take(x, s, 23));
    if (place) {
        cJSON *e = cJSON_CreateObject();
        xf_put_str(e, "url", "http://hl7.org/fhir/StructureDefinition/patient-birthPlace");
        xf_put_str(xf_put_object(e, "valueAddress"), "text", place);
        xf_append(res, "extension", e);
    }
    static const struct {
        uint32_t field;
        const char *url;
    } coded[] = {{26, "http://hl7.org/fhir/StructureDefinition/patient-citizenship"},
                 {28, "http://hl7.org/fhir/StructureDefinition/patient-nationality"},
                 {39, "http://hl7.org/fhir/StructureDefinition/patient-citizenship"}}; /* tribal */
    for (size_t i = 0; i < sizeof coded / sizeof coded[0]; i++) {
        cJSON *code = dt_codeable(x, xf_rep(x, xf_take(x, s, coded[i].field), 1));
        if (!code)
            continue;
        cJSON *e = cJSON_CreateObject(), *sub = cJSON_CreateObject();
        xf_put_str(e, "url", coded[i].url);
        xf_put_str(sub, "url", "code");
        xf_put(sub, "valueCodeableConcept", code);
        xf_append(e, "extension", sub);
        xf_append(res, "extension", e);
    }
    /* PID-35 species and PID-36 breed: the patient is an animal (IG patient-animal) */
    if (!xf_has(hl7_field(x->msg, s, 35)) && !xf_has(hl7_field(x->msg, s, 36)))
        return 0;
    cJSON *animal = cJSON_CreateObject();
    static const char *const parts[] = {"species", "breed"};
    for (uint32_t f = 35; f <= 36; f++) {
        cJSON *code = dt_codeable(x, xf_take(x, s, f));
        if (!code)
            continue;
        cJSON *sub = cJSON_CreateObject();
        xf_put_str(sub, "url", parts[f - 35]);
        xf_put(sub, "valueCodeableConcept", code);
        xf_append(animal, "extension", sub);
    }
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(animal, "extension"), 0);
    if (first &&
        strcmp(cJSON_GetObjectItemCaseSensitive(first, "url")->valuestring, "species") == 0) {
        xf_put_str(animal, "url", "http://hl7.org/fhir/StructureDefinition/patient-animal");
        xf_append(res, "extension", animal);
    } else { /* species is required: a breed alone says nothing FHIR takes */
        if (first)
            xf_warn(x, s, 36, "a breed without a species (PID-35): not mapped");
        cJSON_Delete(animal);
    }
    return 0;
}

/* UK Core: the NHS number's verification status (PID-32, else [engine] nhs_number_status),
 * the ethnic category (PID-22) and religious affiliation (PID-17) as UK Core's extensions;
 * the Patient claims UKCore-Patient when it holds at most one NHS number (its one
 * constraint Solent's output could break). */
static int pid_uk_core(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const struct dt_code_row *status = NULL;
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, s, 32)); !status && xf_reps_next(x, &it, &rep);)
        status = dt_code_find(nhs_status, sizeof nhs_status / sizeof nhs_status[0], rep, x);
    for (size_t i = 0;
         !status && x->cfg->nhs_number_status && i < sizeof nhs_status / sizeof nhs_status[0]; i++)
        if (strcmp(x->cfg->nhs_number_status, nhs_status[i].v2) == 0)
            status = &nhs_status[i];
    int nhs_numbers = 0;
    cJSON *id;
    cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(res, "identifier"))
    {
        const cJSON *sys = cJSON_GetObjectItemCaseSensitive(id, "system");
        if (!cJSON_IsString(sys) || strcmp(sys->valuestring, XF_NHS_SYSTEM) != 0)
            continue;
        nhs_numbers++;
        if (status)
            add_coded_extension(id, UKCORE_SD "Extension-UKCore-NHSNumberVerificationStatus",
                                dt_concept(UKCORE_CS "UKCore-NHSNumberVerificationStatusEngland",
                                           status->code, status->display));
    }
    struct hl7_view group = xf_rep(x, xf_take(x, s, 22), 1);
    const struct dt_code_row *e = dt_code_find(ethnic, sizeof ethnic / sizeof ethnic[0], group, x);
    cJSON *category = e ? dt_concept(UKCORE_CS "UKCore-EthnicCategoryEngland", e->code, e->display)
                        : dt_codeable(x, group); /* extensible: the sender's own code */
    if (category)
        add_coded_extension(res, UKCORE_SD "Extension-UKCore-EthnicCategory", category);
    if (!e && category)
        xf_warn(x, s, 22, "not an NHS ethnic category code: kept as the sender's code");
    cJSON *religion = dt_codeable(x, xf_rep(x, xf_take(x, s, 17), 1));
    if (religion)
        add_coded_extension(res, UKCORE_SD "Extension-UKCore-ReligiousAffiliation", religion);
    if (nhs_numbers <= 1) {
        cJSON *meta = xf_object(res, "meta");
        cJSON_AddItemToArray(xf_put_array(meta, "profile"),
                             cJSON_CreateString(UKCORE_SD "UKCore-Patient"));
    }
    return 0;
}

static const xf_field_fn pid_fns[] = {
    pid_identifiers, pid_other_ids,  pid_names,   pid_telecom, pid_gender,
    pid_birth,       pid_death,      pid_address, pid_marital, pid_multiple_birth,
    pid_language,    pid_extensions, pid_uk_core,
};

const struct xf_segmap seg_pid = {"PID", "Patient", pid_fns, sizeof pid_fns / sizeof pid_fns[0]};

/* PD1-3: the GP practice (XON), by its ODS code (XON-10, or XON-3 before v2.5) and name. */
static int pd1_practice(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view xon = xf_rep(x, xf_take(x, s, 3), 1);
    struct hl7_view code = xf_has(xf_comp(x, xon, 10)) ? xf_comp(x, xon, 10) : xf_comp(x, xon, 3);
    const char *name = xf_text(x, xf_comp(x, xon, 1));
    if (!name && !xf_has(code))
        return 0;
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", "Organization");
    if (xf_has(code)) {
        cJSON *id = xf_put_object(ref, "identifier");
        xf_put_str(id, "system", "https://fhir.nhs.uk/Id/ods-organization-code");
        xf_add_str(x, id, "value", code);
    }
    if (name)
        xf_put_str(ref, "display", xf_text(x, xf_comp(x, xon, 1)));
    xf_append(res, "generalPractitioner", ref);
    return 0;
}

/* The system of a GP's code: a GMP (G and seven digits: the GP's national code) or a GMC
 * number (C and seven digits, as PAS systems write it; or the seven digits alone). */
static const char *gp_system(const char *code)
{
    size_t n = strlen(code);
    bool digits7 = n >= 7 && strspn(code + n - 7, "0123456789") == 7;
    if (n == 8 && code[0] == 'G' && digits7)
        return "https://fhir.hl7.org.uk/Id/gmp-number";
    if ((n == 8 && code[0] == 'C' && digits7) || (n == 7 && digits7))
        return "https://fhir.hl7.org.uk/Id/gmc-number";
    return NULL;
}

/* PD1-4: the GP, by identifier (GMP or GMC number) and name. */
static int pd1_gp(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view gp = xf_rep(x, xf_take(x, s, 4), 1);
    const char *family = xf_text(x, xf_sub(x, xf_comp(x, gp, 2), 1));
    if (!family && !xf_has(xf_comp(x, gp, 1)))
        return 0;
    cJSON *ref = cJSON_CreateObject();
    if (family)
        xf_put_str(ref, "display", family);
    const char *code = xf_text(x, xf_comp(x, gp, 1));
    if (code) {
        cJSON *id = xf_put_object(ref, "identifier");
        const char *system = gp_system(code);
        if (system)
            xf_put_str(id, "system", system);
        xf_put_str(id, "value", code);
    }
    xf_put_str(ref, "type", "Practitioner");
    xf_append(res, "generalPractitioner", ref);
    return 0;
}

/* PD1-6 handicap (patient-disability) and PD1-14 place of worship (patient-congregation),
 * the IG's PD1[Patient] extensions. */
static int pd1_more(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *handicap = dt_codeable(x, xf_take(x, s, 6));
    if (handicap) {
        xf_add_extension(res, "http://hl7.org/fhir/StructureDefinition/patient-disability",
                         "valueCodeableConcept", handicap);
    }
    const char *worship = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, s, 14), 1), 1));
    if (worship) {
        xf_add_extension(res, "http://hl7.org/fhir/StructureDefinition/patient-congregation",
                         "valueString", cJSON_CreateString(worship));
    }
    return 0;
}

/* PD1-12 protection indicator Y: the patient's record is restricted — a v3 Confidentiality
 * R label, as PV2-22 for a visit (beyond the IG's PD1 map: a PHR that shares records must
 * not lose it). PD1-13 the date it took effect is the label's, not kept apart. */
static int pd1_protection(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view protect = xf_take(x, s, 12);
    if (xf_eq(protect, "Y")) {
        xf_append(xf_object(res, "meta"), "security",
                  dt_coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R",
                            "restricted"));
        (void)xf_take(x, s, 13);
    } else if (xf_has(protect) && !xf_eq(protect, "N")) {
        xf_warn_at(x, protect, "not Y or N (HL7 table 0136): no security label");
    }
    return 0;
}

static const xf_field_fn pd1_fns[] = {pd1_practice, pd1_gp, pd1_more, pd1_protection};

const struct xf_segmap seg_pd1 = {"PD1", "Patient", pd1_fns, sizeof pd1_fns / sizeof pd1_fns[0]};

int seg_pid_patient(struct xf_ctx *x, const struct hl7_seg *pid, const struct hl7_seg *pd1,
                    cJSON **patient)
{
    cJSON *p = xf_resource("Patient");
    x->patient_ident = NULL;
    if (xf_segmap_apply(x, &seg_pid, pid, p) != 0 ||
        (pd1 && xf_segmap_apply(x, &seg_pd1, pd1, p) != 0)) {
        cJSON_Delete(p);
        return -1;
    }
    if (!x->patient_ident && x->cfg->patient_key) {
        cJSON_Delete(p);
        return xf_fail(x, pid, 3, 101, "PID-3 has no identifier of the patient key's system");
    }
    if (x->patient_ident) {
        snprintf(x->patient_key, sizeof x->patient_key, "%s|%s",
                 cJSON_GetObjectItemCaseSensitive(x->patient_ident, "system")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(x->patient_ident, "value")->valuestring);
    } else { /* no identifier with a known system: key on what the sender gave */
        const cJSON *first =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "identifier"), 0);
        snprintf(x->patient_key, sizeof x->patient_key, "local|%s",
                 cJSON_GetObjectItemCaseSensitive(first, "value")->valuestring);
        xf_warn(x, pid, 3, "no identifier with a known system: Patient keyed by a derived id");
    }
    xf_full_url(x, pid, "Patient", x->patient_ref);
    *patient = p;
    return 0;
}

void seg_pid_mother(struct xf_ctx *x, const struct hl7_seg *pid, cJSON *patient)
{
    struct hl7_view ids = xf_take(x, pid, 21);
    cJSON *mother = xf_resource("RelatedPerson"), *list = NULL;
    char url[XF_URL_MAX], seed[400];
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, ids); xf_reps_next(x, &it, &rep);) {
        const char *system;
        cJSON *id = dt_identifier(x, rep, &system);
        if (id && !list)
            list = xf_put_array(mother, "identifier");
        if (id)
            cJSON_AddItemToArray(list, id);
    }
    if (!list) {
        cJSON_Delete(mother);
        return;
    }
    xf_put(mother, "patient", xf_ref(x->patient_ref));
    cJSON_AddItemToArray(
        xf_put_array(mother, "relationship"),
        dt_concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "MTH", "mother"));
    xf_full_url(x, pid, "RelatedPerson-mother", url);
    cJSON *link = cJSON_CreateObject(), *links = cJSON_GetObjectItemCaseSensitive(patient, "link");
    xf_put(link, "other", xf_ref(url));
    xf_put_str(link, "type", "seealso");
    cJSON_AddItemToArray(links ? links : xf_put_array(patient, "link"), link);
    snprintf(seed, sizeof seed, "%s\x1fmother", x->patient_key);
    xf_bundle_add(x, url, mother, NULL, seed);
}

void seg_pid_account(struct xf_ctx *x, const struct hl7_seg *pid)
{
    const char *system;
    cJSON *id = dt_identifier(x, xf_rep(x, xf_take(x, pid, 18), 1), &system);
    if (!id)
        return;
    cJSON *account = xf_resource("Account");
    char url[XF_URL_MAX], seed[400];
    xf_put_str(account, "status", "active");
    xf_append(account, "identifier", id);
    xf_append(account, "subject", xf_ref(x->patient_ref));
    xf_full_url(x, pid, "Account", url);
    snprintf(seed, sizeof seed,
             "%s\x1f"
             "account\x1f%s",
             x->patient_key, cJSON_GetObjectItemCaseSensitive(id, "value")->valuestring);
    xf_bundle_add(x, url, account, system ? id : NULL, seed);
}
