/* dt_ident — CX/EI to Identifier, identifier systems, NHS number check. */
#include "transforms/dt_ident.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_time.h"

static bool rule_matches(const struct xf_ident_rule *r, const char *auth, const char *type)
{
    return (!r->authority || (auth && strcmp(r->authority, auth) == 0)) &&
           (!r->type || (type && strcmp(r->type, type) == 0));
}

const char *dt_ident_system(struct xf_ctx *x, struct hl7_view hd, struct hl7_view type)
{
    static _Thread_local char uri[200];
    char auth[64] = "", typ[16] = "";
    const char *s = xf_text(x, xf_sub(x, hd, 1));
    xf_copy(auth, sizeof auth, s ? s : "");
    s = xf_text(x, xf_comp(x, type, 1));
    xf_copy(typ, sizeof typ, s ? s : "");
    for (size_t i = 0; i < x->cfg->nidents; i++)
        if (rule_matches(&x->cfg->idents[i], auth[0] ? auth : NULL, typ[0] ? typ : NULL))
            return x->cfg->idents[i].system;
    /* HD universal id: an OID or a URI names the system itself. */
    const char *uid = xf_text(x, xf_sub(x, hd, 2));
    if (!uid)
        return NULL;
    char kind[8];
    s = xf_text(x, xf_sub(x, hd, 3));
    xf_copy(kind, sizeof kind, s ? s : "");
    uid = xf_text(x, xf_sub(x, hd, 2));
    if (strcmp(kind, "ISO") == 0 && strspn(uid, "0123456789.") == strlen(uid))
        snprintf(uri, sizeof uri, "urn:oid:%s", uid);
    else if (strcmp(kind, "URI") == 0 || strncmp(uid, "http", 4) == 0)
        xf_copy(uri, sizeof uri, uid);
    else
        return NULL;
    return uri;
}

bool dt_nhs_number_ok(const char *s)
{
    if (strlen(s) != 10 || strspn(s, "0123456789") != 10)
        return false;
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (s[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    return check != 10 && check == s[9] - '0';
}

/* The identifier type (CX-5) as a CodeableConcept: v2-0203 for the table's codes, the
 * sender's local code (warned) for others ("MRN"). */
static void add_type(struct xf_ctx *x, cJSON *id, struct hl7_view type)
{
    char out[160];
    const char *code = xf_text(x, xf_comp(x, type, 1));
    if (!code)
        return;
    char copy[64];
    xf_copy(copy, sizeof copy, code); /* xf_text's buffer is reused by the warning */
    const char *system = dt_table_system(x, xf_comp(x, type, 1), "0203", copy, out);
    xf_put(id, "type", dt_concept(system, copy, NULL));
}

cJSON *dt_identifier(struct xf_ctx *x, struct hl7_view cx, const char **system)
{
    struct hl7_view value = xf_comp(x, cx, 1), hd = xf_comp(x, cx, 4), type = xf_comp(x, cx, 5);
    *system = NULL;
    if (!xf_has(value))
        return NULL;
    cJSON *id = cJSON_CreateObject();
    add_type(x, id, type);
    *system = dt_ident_system(x, hd, type);
    if (*system)
        xf_put_str(id, "system", *system);
    if (!xf_add_str(x, id, "value", value)) { /* blanks only */
        cJSON_Delete(id);
        *system = NULL;
        return NULL;
    }
    /* CX-7 effective, CX-8 expiration */
    dt_add_period(x, id, "period", xf_comp(x, cx, 7), xf_comp(x, cx, 8), DT_DATETIME);
    const char *auth = xf_text(x, xf_sub(x, hd, 1));
    if (!*system && auth) { /* no system known: say who assigned it */
        cJSON *assigner = xf_put_object(id, "assigner");
        xf_put_str(assigner, "display", auth);
    }
    return id;
}

/* An EI whose parts are separated by sep: components for a field's EI, sub-components for
 * one inside a component (EIP). */
static cJSON *ei_by(struct xf_ctx *x, struct hl7_view ei, char sep)
{
    struct hl7_view value = hl7_piece(ei, sep, 1);
    if (!xf_has(value))
        return NULL;
    /* EI-2..4 form an HD: namespace^universal id^type. Rebuild it with sub-component reads. */
    cJSON *id = cJSON_CreateObject();
    const char *ns = xf_text(x, hl7_piece(ei, sep, 2));
    const char *system = NULL;
    for (size_t i = 0; ns && i < x->cfg->nidents; i++)
        if (rule_matches(&x->cfg->idents[i], ns, NULL))
            system = x->cfg->idents[i].system;
    const char *uid = system ? NULL : xf_text(x, hl7_piece(ei, sep, 3));
    if (uid && xf_eq(hl7_piece(ei, sep, 4), "ISO")) {
        char oid[200];
        snprintf(oid, sizeof oid, "urn:oid:%s", uid);
        xf_put_str(id, "system", oid);
    } else if (system) {
        xf_put_str(id, "system", system);
    }
    if (!xf_add_str(x, id, "value", value)) { /* blanks only */
        cJSON_Delete(id);
        return NULL;
    }
    ns = xf_text(x, hl7_piece(ei, sep, 2));
    if (!cJSON_GetObjectItemCaseSensitive(id, "system") && ns) {
        cJSON *assigner = xf_put_object(id, "assigner");
        xf_put_str(assigner, "display", ns);
    }
    return id;
}

cJSON *dt_ei(struct xf_ctx *x, struct hl7_view ei)
{
    return ei_by(x, ei, x->msg->enc.comp);
}

cJSON *dt_ei_sub(struct xf_ctx *x, struct hl7_view ei)
{
    return ei_by(x, ei, x->msg->enc.sub);
}

cJSON *dt_ident_typed(cJSON *id, const char *type)
{
    if (id)
        xf_put(id, "type", dt_concept("http://terminology.hl7.org/CodeSystem/v2-0203", type, NULL));
    return id;
}

cJSON *dt_request_ref(cJSON *id)
{
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", "ServiceRequest");
    xf_put(ref, "identifier", id);
    return ref;
}

void dt_ident_key(const cJSON *id, char key[256])
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(id, "system"),
                *v = cJSON_GetObjectItemCaseSensitive(id, "value");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(id, "assigner"), "display");
    if (!cJSON_IsString(v)) {
        key[0] = '\0';
        return;
    }
    snprintf(key, 256, "%s|%s",
             cJSON_IsString(s)    ? s->valuestring
             : cJSON_IsString(by) ? by->valuestring
                                  : "local",
             v->valuestring);
}
