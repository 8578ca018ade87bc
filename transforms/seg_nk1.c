/* seg_nk1 — NK1 to RelatedPerson. */
#include "transforms/seg_nk1.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

/* NK1-2 (name) and NK1-30 (contact person's name, when the next of kin is an organisation). */
static int nk1_name(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    (void)xf_take(x, s, 1);
    dt_add_names(x, res, "name", xf_take(x, s, 2));
    dt_add_names(x, res, "name", xf_take(x, s, 30)); /* contact person's */
    return 0;
}

static int nk1_relationship(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view rel = xf_take(x, s, 3), role = xf_take(x, s, 7);
    cJSON *list = cJSON_CreateArray(), *cc;
    if ((cc = dt_codeable(x, rel)))
        cJSON_AddItemToArray(list, cc);
    if ((cc = dt_codeable(x, role)))
        cJSON_AddItemToArray(list, cc);
    if (cJSON_GetArraySize(list))
        xf_put(res, "relationship", list);
    else
        cJSON_Delete(list);
    return 0;
}

static cJSON *home(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, "home");
}

static cJSON *work(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, "work");
}

static int nk1_contact(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_each(x, res, "telecom", xf_take(x, s, 5), home);
    dt_add_each(x, res, "telecom", xf_take(x, s, 6), work);
    dt_add_each(x, res, "telecom", xf_take(x, s, 31), home); /* contact person's */
    dt_add_each(x, res, "telecom", xf_take(x, s, 40), home); /* v2.7+ next of kin telecom */
    dt_add_each(x, res, "telecom", xf_take(x, s, 41), work);
    dt_add_each(x, res, "address", xf_take(x, s, 4), dt_address);
    dt_add_each(x, res, "address", xf_take(x, s, 32), dt_address); /* contact person's */
    return 0;
}

static int nk1_period(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_period(x, res, "period", xf_take(x, s, 8), xf_take(x, s, 9), DT_DATETIME);
    return 0;
}

/* NK1-12 and NK1-33 identifiers, NK1-37 SSN, NK1-15 sex, NK1-16 birth date, NK1-20 language. */
static int nk1_person(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    for (uint32_t f = 12; f <= 33; f += 21) { /* NK1-12 associated party's ids, NK1-33 */
        struct hl7_view ids = xf_take(x, s, f);
        struct xf_reps it;
        struct hl7_view rep;
        for (xf_reps_init(x, &it, ids); xf_reps_next(x, &it, &rep);) {
            const char *system;
            cJSON *id = dt_identifier(x, rep, &system);
            if (id)
                xf_append(res, "identifier", id);
        }
    }
    const char *ssn = xf_text(x, xf_take(x, s, 37)); /* contact person's SSN, as PID-19 */
    if (ssn) {
        cJSON *id = cJSON_CreateObject();
        xf_put(id, "type", dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "SS", NULL));
        xf_put_str(id, "system", "http://hl7.org/fhir/sid/us-ssn");
        xf_put_str(id, "value", xf_text(x, hl7_field(x->msg, s, 37)));
        xf_append(res, "identifier", id);
    }
    const char *gender = dt_admin_gender(x, xf_comp(x, xf_take(x, s, 15), 1));
    if (gender)
        xf_put_str(res, "gender", gender);
    dt_add(x, res, "birthDate", xf_take(x, s, 16), DT_DATE);
    dt_add_language(x, res, xf_take(x, s, 20));
    return 0;
}

static const xf_field_fn nk1_fns[] = {nk1_name, nk1_relationship, nk1_contact, nk1_period,
                                      nk1_person};

const struct xf_segmap seg_nk1 = {"NK1", "RelatedPerson", nk1_fns,
                                  sizeof nk1_fns / sizeof nk1_fns[0]};

void seg_nk1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *r = xf_resource("RelatedPerson");
    char url[XF_URL_MAX], seed[400];
    xf_put(r, "patient", xf_ref(x->patient_ref));
    xf_segmap_apply(x, &seg_nk1, s, r);
    xf_full_url(x, s, "RelatedPerson", url);
    /* One RelatedPerson per patient and NK1 set id: a re-sent NK1 updates it. */
    struct hl7_view set_id = hl7_field(x->msg, s, 1);
    snprintf(seed, sizeof seed, "%s\x1f%.*s\x1f%u", x->patient_key, (int)set_id.len,
             set_id.p ? set_id.p : "", (unsigned)hl7_seg_seq(x->msg, s));
    xf_bundle_add(x, url, r, NULL, seed);
}

void seg_nk1_contact(struct xf_ctx *x, const struct hl7_seg *s, cJSON *patient)
{
    /* Patient.contact holds one name, one address: the first of each (IG NK1[Patient]). */
    cJSON *person = cJSON_CreateObject(), *c = cJSON_CreateObject(), *item;
    xf_segmap_apply(x, &seg_nk1, s, person);
    static const char *const members[] = {"relationship", "telecom", "period", "gender"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if ((item = cJSON_DetachItemFromObjectCaseSensitive(person, members[i])))
            xf_put(c, members[i], item);
    if ((item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(person, "name"), 0)))
        xf_put(c, "name", cJSON_Duplicate(item, 1));
    if ((item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(person, "address"), 0)))
        xf_put(c, "address", cJSON_Duplicate(item, 1));
    cJSON_Delete(person);
    const char *org = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, s, 13), 1), 1));
    if (org) /* NK1-13: the next of kin is an organisation (IG NK1[Patient]) */
        xf_put_str(xf_put_object(c, "organization"), "display", org);
    /* pat-1: a contact needs details (name, telecom, address) or an organisation */
    if (!cJSON_GetObjectItemCaseSensitive(c, "name") &&
        !cJSON_GetObjectItemCaseSensitive(c, "telecom") &&
        !cJSON_GetObjectItemCaseSensitive(c, "address") &&
        !cJSON_GetObjectItemCaseSensitive(c, "organization")) {
        cJSON_Delete(c);
        return;
    }
    xf_append(patient, "contact", c);
}
