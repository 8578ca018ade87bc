/* seg_gt1 — GT1 to RelatedPerson and Account.guarantor. */
#include "transforms/seg_gt1.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

static cJSON *home(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, "home");
}

static cJSON *work(struct xf_ctx *x, struct hl7_view v)
{
    return dt_contact_point(x, v, "work");
}

/* GT1-2 guarantor number and GT1-12 social security number as identifiers. */
static int gt1_identifiers(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct xf_reps it;
    struct hl7_view rep;
    const char *system;
    for (xf_reps_init(x, &it, xf_take(x, s, 2)); xf_reps_next(x, &it, &rep);) {
        cJSON *id = dt_identifier(x, rep, &system);
        if (id)
            xf_append(res, "identifier", id);
    }
    const char *ssn = xf_text(x, xf_take(x, s, 12));
    if (ssn) {
        cJSON *id = cJSON_CreateObject();
        xf_put(id, "type", dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "SS", NULL));
        xf_put_str(id, "value", ssn);
        xf_append(res, "identifier", id);
    }
    return 0;
}

/* GT1-3 name, GT1-5 address, GT1-6 home and GT1-7 business phone, GT1-8 birth date, GT1-9 sex,
 * GT1-11 relationship to the patient, GT1-36 language. */
static int gt1_person(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_names(x, res, "name", xf_take(x, s, 3));
    dt_add_each(x, res, "address", xf_take(x, s, 5), dt_address);
    dt_add_each(x, res, "telecom", xf_take(x, s, 6), home);
    dt_add_each(x, res, "telecom", xf_take(x, s, 7), work);
    dt_add(x, res, "birthDate", xf_take(x, s, 8), DT_DATE);
    const char *gender = dt_admin_gender(x, xf_comp(x, xf_take(x, s, 9), 1));
    if (gender)
        xf_put_str(res, "gender", gender);
    cJSON *rel = dt_codeable(x, xf_take(x, s, 11));
    if (rel)
        xf_append(res, "relationship", rel);
    dt_add_language(x, res, xf_take(x, s, 36));
    return 0;
}

static const xf_field_fn gt1_fns[] = {gt1_identifiers, gt1_person};

const struct xf_segmap seg_gt1 = {"GT1", "RelatedPerson", gt1_fns,
                                  sizeof gt1_fns / sizeof gt1_fns[0]};

/* The party: the patient (GT1-11 SEL), an organisation (GT1-21, with no person named), or
 * the RelatedPerson entry made here. */
static cJSON *guarantor_party(struct xf_ctx *x, const struct hl7_seg *s)
{
    char url[XF_URL_MAX], seed[400];
    if (xf_eq(xf_comp(x, hl7_field(x->msg, s, 11), 1), "SEL")) {
        (void)xf_take(x, s, 11);
        (void)xf_take(x, s, 3); /* the patient's own name again */
        return xf_ref(x->patient_ref);
    }
    const char *org = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, s, 21), 1), 1));
    if (org && !xf_has(hl7_field(x->msg, s, 3))) {
        cJSON *ref = cJSON_CreateObject();
        xf_put_str(ref, "type", "Organization");
        xf_put_str(ref, "display", org);
        return ref;
    }
    cJSON *r = xf_resource("RelatedPerson");
    xf_put(r, "patient", xf_ref(x->patient_ref));
    xf_segmap_apply(x, &seg_gt1, s, r);
    if (!cJSON_GetObjectItemCaseSensitive(r, "name") &&
        !cJSON_GetObjectItemCaseSensitive(r, "identifier")) {
        cJSON_Delete(r);
        return NULL;
    }
    xf_full_url(x, s, "RelatedPerson", url);
    /* one RelatedPerson per patient and guarantor: a re-sent GT1 updates it */
    struct hl7_view who = hl7_field(x->msg, s, 2), name = hl7_field(x->msg, s, 3);
    snprintf(seed, sizeof seed, "%s\x1fguarantor\x1f%.*s\x1f%.*s", x->patient_key,
             (int)(who.len < 120 ? who.len : 120), who.p ? who.p : "",
             (int)(name.len < 120 ? name.len : 120), name.p ? name.p : "");
    xf_bundle_add(x, url, r, NULL, seed);
    return xf_ref(url);
}

void seg_gt1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *party = guarantor_party(x, s);
    if (!party)
        return;
    cJSON *account = xf_bundle_find(x, NULL, "Account");
    if (!account) { /* nothing to be guarantor of: the person stands as the patient's */
        cJSON_Delete(party);
        if (xf_has(hl7_field(x->msg, s, 13)))
            xf_warn(x, s, 13, "no account (PID-18) for the guarantor's period");
        return;
    }
    cJSON *g = cJSON_CreateObject();
    xf_put(g, "party", party);
    struct hl7_view hold = xf_take(x, s, 22); /* billing hold flag */
    if (xf_eq(hold, "Y") || xf_eq(hold, "N"))
        xf_put_bool(g, "onHold", xf_eq(hold, "Y"));
    dt_add_period(x, g, "period", xf_take(x, s, 13), xf_take(x, s, 14), DT_DATE);
    xf_append(account, "guarantor", g);
}
