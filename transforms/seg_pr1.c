/* seg_pr1 — PR1 to Procedure. */
#include "transforms/seg_pr1.h"

#include <stdio.h>
#include <stdlib.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

static int pr1_code(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *cc = dt_codeable(x, xf_take(x, s, 3));
    (void)xf_take(x, s, 1);
    /* a reported procedure has happened: PR1 has no status of its own */
    xf_put_str(res, "status", "completed");
    /* PR1-4 description: the code's text where PR1-3 has none (IG) */
    const char *text = xf_text(x, xf_take(x, s, 4));
    if (text && !cc)
        cc = cJSON_CreateObject();
    if (text && !cJSON_GetObjectItemCaseSensitive(cc, "text"))
        xf_put_str(cc, "text", text);
    if (cc)
        xf_put(res, "code", cc);
    cJSON *category = dt_codeable(x, xf_take(x, s, 6)); /* functional type */
    if (category)
        xf_put(res, "category", category);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, xf_take(x, s, 15)); xf_reps_next(x, &it, &rep);) {
        cJSON *reason = dt_codeable(x, rep); /* associated diagnosis */
        if (reason)
            xf_append(res, "reasonCode", reason);
    }
    /* PR1-16 modifiers (CNE, e.g. CPT modifiers): further codings of the code, PR1-3.1 +
     * ":" + the modifier as the IG says */
    char base[128];
    const char *code_text = xf_text(x, xf_comp(x, hl7_field(x->msg, s, 3), 1));
    xf_copy(base, sizeof base, code_text ? code_text : "");
    for (xf_reps_init(x, &it, xf_take(x, s, 16)); base[0] && xf_reps_next(x, &it, &rep);) {
        const char *mod = xf_text(x, xf_comp(x, rep, 1));
        cJSON *code = res ? cJSON_GetObjectItemCaseSensitive(res, "code") : NULL;
        if (!mod || !code)
            continue;
        char both[256];
        snprintf(both, sizeof both, "%s:%s", base, mod);
        cJSON *coding = cJSON_CreateObject();
        const char *system = dt_code_system(x, xf_comp(x, rep, 3));
        if (system)
            xf_put_str(coding, "system", system);
        xf_put_str(coding, "code", both);
        xf_append(code, "coding", coding);
    }
    return 0;
}

/* PR1-5 when, and with PR1-7 (minutes) the period it lasted. */
static int pr1_when(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view when = xf_take(x, s, 5), minutes = xf_take(x, s, 7);
    const char *m = xf_text(x, minutes);
    char start[DT_MAX], end[DT_MAX];
    char *stop;
    long n = m ? strtol(m, &stop, 10) : -1;
    if (m && (*stop || n < 0 || n > 100000)) {
        xf_warn_at(x, minutes, "not a whole number of minutes: no end time");
        n = -1;
    }
    if (n >= 0 && dt_format(x, when, DT_DATETIME, start) == 0 &&
        dt_format_after(x, when, n, end) == 0) {
        cJSON *period = xf_put_object(res, "performedPeriod");
        xf_put_str(period, "start", start);
        xf_put_str(period, "end", end);
        return 0;
    }
    dt_add(x, res, "performedDateTime", when, DT_DATETIME);
    return 0;
}

/* PR1-8 anesthesiologist, PR1-11 surgeon, PR1-12 other practitioner: performers, the first
 * two with their SNOMED CT function (IG). */
static int pr1_surgeon(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    static const struct {
        uint32_t field;
        const char *code, *display;
    } roles[] = {
        {8, "88189002", "Anesthesiologist"}, {11, "304292004", "Surgeon"}, {12, NULL, NULL}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        cJSON *actor = dt_person_ref(x, xf_take(x, s, roles[i].field), "Practitioner");
        if (!actor)
            continue;
        cJSON *performer = cJSON_CreateObject();
        if (roles[i].code)
            xf_put(performer, "function",
                   dt_concept("http://snomed.info/sct", roles[i].code, roles[i].display));
        xf_put(performer, "actor", actor);
        xf_append(res, "performer", performer);
    }
    return 0;
}

/* PR1-19 the procedure's id; PR1-25 the procedure it is part of, by its id; PR1-23 where. */
static int pr1_identifier(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *id = dt_ei(x, xf_take(x, s, 19));
    if (id)
        xf_append(res, "identifier", id);
    cJSON *parent = dt_ei(x, xf_take(x, s, 25));
    if (parent) {
        cJSON *ref = cJSON_CreateObject();
        xf_put_str(ref, "type", "Procedure");
        xf_put(ref, "identifier", parent);
        xf_append(res, "partOf", ref);
    }
    const char *where = xf_text(x, xf_first_sub(x, xf_comp(x, xf_take(x, s, 23), 1)));
    if (where) {
        cJSON *loc = xf_put_object(res, "location");
        xf_put_str(loc, "display", where);
    }
    return 0;
}

static const xf_field_fn pr1_fns[] = {pr1_identifier, pr1_code, pr1_when, pr1_surgeon};

const struct xf_segmap seg_pr1 = {"PR1", "Procedure", pr1_fns, sizeof pr1_fns / sizeof pr1_fns[0]};

void seg_pr1_add(struct xf_ctx *x, const struct hl7_seg *s)
{
    cJSON *p = xf_resource("Procedure");
    char url[XF_URL_MAX], seed[400];
    xf_segmap_apply(x, &seg_pr1, s, p);
    xf_put(p, "subject", xf_ref(x->patient_ref));
    if (x->encounter_ref[0])
        xf_put(p, "encounter", xf_ref(x->encounter_ref));
    xf_full_url(x, s, "Procedure", url);
    /* One Procedure per patient, code and time: a re-sent PR1 updates it. */
    struct hl7_view code = xf_comp(x, hl7_field(x->msg, s, 3), 1), when = hl7_field(x->msg, s, 5);
    snprintf(seed, sizeof seed, "%s\x1f%.*s\x1f%.*s", x->patient_key, (int)code.len,
             code.p ? code.p : "", (int)when.len, when.p ? when.p : "");
    xf_bundle_add(x, url, p,
                  cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "identifier"), 0), seed);
}
