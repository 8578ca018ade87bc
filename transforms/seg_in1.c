/* seg_in1 — IN1 to Coverage and payor Organization. */
#include "transforms/seg_in1.h"

#include <stdio.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

/* IN1-2 health plan id: an identifier (IG CWE[Identifier]: the code as value, its coding
 * system as system when Solent knows its URI); IN1-15 plan type: the Coverage's type. */
static int in1_plan(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view plan = xf_rep(x, xf_take(x, s, 2), 1);
    (void)xf_take(x, s, 1);
    xf_put_str(res, "status", "active");
    const char *value = xf_text(x, xf_comp(x, plan, 1));
    if (value) {
        cJSON *id = cJSON_CreateObject();
        const char *system = dt_code_system(x, xf_comp(x, plan, 3));
        if (system)
            xf_put_str(id, "system", system);
        xf_put_str(id, "value", xf_text(x, xf_comp(x, plan, 1)));
        xf_append(res, "identifier", id);
    }
    cJSON *type = dt_codeable(x, xf_rep(x, xf_take(x, s, 15), 1));
    if (type)
        xf_put(res, "type", type);
    /* beyond the IG's IN1 map: IN1-8 group number and IN1-9 group name, the plan's group */
    const char *group = xf_text(x, xf_take(x, s, 8));
    if (group) {
        cJSON *c = cJSON_CreateObject();
        xf_put(
            c, "type",
            dt_concept("http://terminology.hl7.org/CodeSystem/coverage-class", "group", "Group"));
        xf_put_str(c, "value", group);
        xf_add_str(x, c, "name", xf_comp(x, xf_rep(x, xf_take(x, s, 9), 1), 1));
        xf_append(res, "class", c);
    }
    return 0;
}

static int in1_policy(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *number = xf_text(x, xf_take(x, s, 36));
    if (!number)
        return 0;
    cJSON *id = cJSON_CreateObject();
    xf_put_str(id, "value", number);
    xf_append(res, "identifier", id);
    return 0;
}

static int in1_period(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    dt_add_period(x, res, "period", xf_take(x, s, 12), xf_take(x, s, 13), DT_DATE);
    return 0;
}

static int in1_relationship(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *rel = dt_codeable(x, xf_take(x, s, 17));
    if (rel)
        xf_put(res, "relationship", rel);
    return 0;
}

/* The subscriber: the patient when IN1-17 says self, else the person IN1-16 names; IN1-49
 * the subscriber's id (R4 subscriberId); the policy holder: the group employer (IN1-11,
 * with IN1-10 its id). */
static int in1_subscriber(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view relation = xf_comp(x, hl7_field(x->msg, s, 17), 1);
    struct hl7_view insured = xf_rep(x, xf_take(x, s, 16), 1);
    if (xf_eq(relation, "SEL") && xf_has(insured)) {
        xf_put(res, "subscriber", xf_ref(x->patient_ref));
    } else if (xf_has(insured)) {
        /* the insured: a contained RelatedPerson (beyond the IG's IN1 map, IN1-18 birth date,
         * IN1-19 address and IN1-43 sex are theirs) */
        cJSON *who = cJSON_CreateObject();
        xf_put_str(who, "resourceType", "RelatedPerson");
        xf_put_str(who, "id", "subscriber");
        xf_put(who, "patient", xf_ref(x->patient_ref));
        dt_add_names(x, who, "name", insured);
        cJSON *rel = dt_codeable(x, hl7_field(x->msg, s, 17));
        if (rel)
            xf_append(who, "relationship", rel);
        const char *gender = dt_admin_gender(x, xf_comp(x, xf_take(x, s, 43), 1));
        if (gender)
            xf_put_str(who, "gender", gender);
        dt_add(x, who, "birthDate", xf_take(x, s, 18), DT_DATE);
        dt_add_each(x, who, "address", xf_take(x, s, 19), dt_address);
        xf_append(res, "contained", who);
        xf_put(res, "subscriber", xf_ref("#subscriber"));
    }
    xf_add_str(x, res, "subscriberId", xf_comp(x, xf_rep(x, xf_take(x, s, 49), 1), 1));
    const char *system;
    cJSON *id = dt_identifier(x, xf_rep(x, xf_take(x, s, 10), 1), &system);
    const char *employer = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, s, 11), 1), 1));
    if (employer || id) {
        cJSON *ref = xf_put_object(res, "policyHolder");
        xf_put_str(ref, "type", "Organization");
        if (employer)
            xf_put_str(ref, "display", employer);
        if (id)
            xf_put(ref, "identifier", id);
    }
    return 0;
}

static const xf_field_fn in1_fns[] = {in1_plan, in1_policy, in1_period, in1_relationship,
                                      in1_subscriber};

const struct xf_segmap seg_in1 = {"IN1", "Coverage", in1_fns, sizeof in1_fns / sizeof in1_fns[0]};

/* The insurer: IN1-3 identifier(s), IN1-4 name. Adds the entry; url gets its fullUrl. */
static void add_payor(struct xf_ctx *x, const struct hl7_seg *s, char url[XF_URL_MAX])
{
    cJSON *org = xf_resource("Organization"), *key = NULL;
    const char *system;
    char seed[400];
    cJSON *id = dt_identifier(x, xf_rep(x, xf_take(x, s, 3), 1), &system);
    if (id) {
        xf_append(org, "identifier", id);
        key = system ? id : NULL;
    }
    const char *name = xf_text(x, xf_comp(x, xf_rep(x, xf_take(x, s, 4), 1), 1));
    if (name)
        xf_put_str(org, "name", name);
    cJSON *address = dt_org_address(x, xf_rep(x, xf_take(x, s, 5), 1));
    if (address)
        xf_append(org, "address", address);
    cJSON *phone = dt_org_telecom(x, xf_rep(x, xf_take(x, s, 7), 1));
    if (phone) /* IN1-7 the insurer's phone (beyond the IG's map) */
        xf_append(org, "telecom", phone);
    xf_full_url(x, s, "Organization", url);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(id, "value");
    snprintf(seed, sizeof seed, "payor\x1f%s\x1f%s", cJSON_IsString(v) ? v->valuestring : "",
             name ? xf_text(x, xf_comp(x, xf_rep(x, hl7_field(x->msg, s, 4), 1), 1)) : "");
    xf_bundle_add(x, url, org, key, seed);
}

void seg_in1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *c = xf_resource("Coverage");
    char url[XF_URL_MAX], payor[XF_URL_MAX], seed[400];
    add_payor(x, s, payor);
    xf_segmap_apply(x, &seg_in1, s, c);
    xf_put(c, "beneficiary", xf_ref(x->patient_ref));
    xf_append(c, "payor", xf_ref(payor));
    xf_full_url(x, s, "Coverage", url);
    struct hl7_view policy = hl7_field(x->msg, s, 36), set_id = hl7_field(x->msg, s, 1);
    snprintf(seed, sizeof seed, "%s\x1f%.*s\x1f%.*s", x->patient_key, (int)policy.len,
             policy.p ? policy.p : "", (int)set_id.len, set_id.p ? set_id.p : "");
    xf_bundle_add(x, url, c, NULL, seed);
}
