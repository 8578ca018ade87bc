/* dt_name — XPN, XAD, XTN, XCN and PL to FHIR. */
#include "transforms/dt_name.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_time.h"

/* HL7 table 0200 name type -> HumanName.use (IG NameType concept map). */
static const struct dt_code_row name_use[] = {
    {"L", "official", NULL}, {"D", "usual", NULL},     {"M", "maiden", NULL},
    {"N", "nickname", NULL}, {"A", "usual", NULL},     {"B", "official", NULL},
    {"C", "official", NULL}, {"S", "anonymous", NULL}, {"T", "temp", NULL},
    {"U", "old", NULL},      {"R", "official", NULL},
};

/* HL7 table 0190 address type -> Address.use and .type. */
static const struct dt_code_row address_use[] = {
    {"H", "home", NULL},    {"B", "work", NULL},        {"C", "temp", NULL},  {"O", "work", NULL},
    {"BA", "old", NULL},    {"BI", "billing", NULL},    {"BDL", NULL, NULL},  {"M", NULL, "postal"},
    {"SH", NULL, "postal"}, {"BR", "home", "physical"}, {"RH", "home", NULL}, {"P", "home", NULL},
};

static void add_str_to_array(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view v)
{
    const char *s = xf_text(x, v);
    if (s)
        xf_append(obj, name, cJSON_CreateString(s));
}

cJSON *dt_human_name(struct xf_ctx *x, struct hl7_view xpn)
{
    cJSON *n = cJSON_CreateObject();
    const struct dt_code_row *use =
        dt_code_map(x, name_use, sizeof name_use / sizeof name_use[0], xf_comp(x, xpn, 7), "0200");
    if (use)
        xf_put_str(n, "use", use->code);
    xf_add_str(x, n, "family", xf_sub(x, xf_comp(x, xpn, 1), 1));
    add_str_to_array(x, n, "given", xf_comp(x, xpn, 2));
    add_str_to_array(x, n, "given", xf_comp(x, xpn, 3));
    add_str_to_array(x, n, "prefix", xf_comp(x, xpn, 5));
    add_str_to_array(x, n, "suffix", xf_comp(x, xpn, 4));
    add_str_to_array(x, n, "suffix", xf_comp(x, xpn, 6));
    add_str_to_array(x, n, "suffix", xf_comp(x, xpn, 14)); /* professional suffix: "MRCP" */
    /* XPN-10 (validity range) or XPN-12/13 (effective, expiration) -> period */
    struct hl7_view range = xf_comp(x, xpn, 10);
    dt_add_period(x, n, "period", xf_has(range) ? xf_sub(x, range, 1) : xf_comp(x, xpn, 12),
                  xf_has(range) ? xf_sub(x, range, 2) : xf_comp(x, xpn, 13), DT_DATETIME);
    if (!cJSON_GetObjectItemCaseSensitive(n, "family") &&
        !cJSON_GetObjectItemCaseSensitive(n, "given")) {
        cJSON_Delete(n);
        return NULL;
    }
    return n;
}

/* XAD-12 (validity range, DR) or XAD-13/14 (effective, expiration) -> Address.period. */
static void address_period(struct xf_ctx *x, struct hl7_view xad, cJSON *a)
{
    struct hl7_view range = xf_comp(x, xad, 12);
    dt_add_period(x, a, "period", xf_has(range) ? xf_sub(x, range, 1) : xf_comp(x, xad, 13),
                  xf_has(range) ? xf_sub(x, range, 2) : xf_comp(x, xad, 14), DT_DATETIME);
}

cJSON *dt_address(struct xf_ctx *x, struct hl7_view xad)
{
    cJSON *a = cJSON_CreateObject();
    const struct dt_code_row *use = dt_code_map(
        x, address_use, sizeof address_use / sizeof address_use[0], xf_comp(x, xad, 7), "0190");
    if (use && use->code)
        xf_put_str(a, "use", use->code);
    if (use && use->display)
        xf_put_str(a, "type", use->display);
    for (uint32_t k = 1; k <= 3; k++) /* XAD-1 SAD: street, street name, dwelling */
        add_str_to_array(x, a, "line", xf_sub(x, xf_comp(x, xad, 1), k));
    add_str_to_array(x, a, "line", xf_comp(x, xad, 2));
    add_str_to_array(x, a, "line", xf_comp(x, xad, 19)); /* addressee */
    xf_add_str(x, a, "city", xf_comp(x, xad, 3));
    xf_add_str(x, a, "district", xf_first_sub(x, xf_comp(x, xad, 9))); /* a CWE from v2.6 */
    xf_add_str(x, a, "state", xf_comp(x, xad, 4));
    xf_add_str(x, a, "postalCode", xf_comp(x, xad, 5));
    xf_add_str(x, a, "country", xf_comp(x, xad, 6));
    address_period(x, xad, a);
    if (!cJSON_GetObjectItemCaseSensitive(a, "line") &&
        !cJSON_GetObjectItemCaseSensitive(a, "city") &&
        !cJSON_GetObjectItemCaseSensitive(a, "postalCode") &&
        !cJSON_GetObjectItemCaseSensitive(a, "country") &&
        !cJSON_GetObjectItemCaseSensitive(a, "state") &&
        !cJSON_GetObjectItemCaseSensitive(a, "district")) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* XTN-2 (use) and XTN-3 (equipment) -> ContactPoint.use and .system. */
static void contact_kind(struct xf_ctx *x, struct hl7_view xtn, const char *hint, cJSON *c)
{
    struct hl7_view use = xf_comp(x, xtn, 2), equip = xf_comp(x, xtn, 3);
    const char *system = xf_eq(equip, "Internet") || xf_eq(equip, "X.400") || xf_eq(use, "NET")
                             ? "email"
                         : xf_eq(equip, "FX")  ? "fax"
                         : xf_eq(equip, "BP")  ? "pager"
                         : xf_eq(equip, "URL") ? "url"
                                               : "phone";
    const char *u = xf_eq(equip, "CP")  ? "mobile"
                    : xf_eq(use, "PRN") ? "home"
                    : xf_eq(use, "WPN") ? "work"
                    : xf_eq(use, "ORN") ? "temp"
                    : xf_eq(use, "VHN") ? "home"
                    : xf_eq(use, "EMR") ? "temp"
                                        : hint;
    xf_put_str(c, "system", system);
    if (u)
        xf_put_str(c, "use", u);
}

/* XTN-5 country, XTN-6 area, XTN-7 local number, XTN-8 extension: "+44 23 80000000 ext 12". */
static int add_phone_parts(struct xf_ctx *x, struct hl7_view xtn, cJSON *c)
{
    char number[128] = "";
    static const char *const prefix[] = {"+", "", "", " ext "};
    if (!xf_has(xf_comp(x, xtn, 7)))
        return 0;
    for (uint32_t k = 5; k <= 8; k++) {
        const char *part = xf_text(x, xf_comp(x, xtn, k));
        size_t len = strlen(number);
        if (part)
            snprintf(number + len, sizeof number - len, "%s%s%s", len && k < 8 ? " " : "",
                     prefix[k - 5], part);
    }
    xf_put_str(c, "value", number);
    return 1;
}

cJSON *dt_contact_point(struct xf_ctx *x, struct hl7_view xtn, const char *use_hint)
{
    cJSON *c = cJSON_CreateObject();
    contact_kind(x, xtn, use_hint, c);
    bool email = strcmp(cJSON_GetObjectItemCaseSensitive(c, "system")->valuestring, "email") == 0;
    /* The value: the email address, else the unformatted number, else the free text
     * number, else the number from its parts (+country area local). */
    if ((email && xf_add_str(x, c, "value", xf_comp(x, xtn, 4))) ||
        xf_add_str(x, c, "value", xf_comp(x, xtn, 12)) ||
        xf_add_str(x, c, "value", xf_comp(x, xtn, 1)) || add_phone_parts(x, xtn, c))
        return c;
    cJSON_Delete(c);
    return NULL;
}

void dt_add_each(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view field,
                 cJSON *(*fn)(struct xf_ctx *, struct hl7_view))
{
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, field); xf_reps_next(x, &it, &rep);) {
        cJSON *item = fn(x, rep);
        if (item)
            xf_append(obj, name, item);
    }
}

void dt_add_names(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view field)
{
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, field); xf_reps_next(x, &it, &rep);) {
        cJSON *n = dt_human_name(x, rep);
        if (!n)
            continue;
        xf_append(obj, name, n);
        const char *called = xf_text(x, xf_comp(x, rep, 15));
        if (!called)
            continue;
        cJSON *usual = cJSON_CreateObject(); /* XPN-15 "called by": the name in use */
        xf_put_str(usual, "use", "usual");
        const cJSON *family = cJSON_GetObjectItemCaseSensitive(n, "family");
        if (cJSON_IsString(family))
            xf_put_str(usual, "family", family->valuestring);
        cJSON_AddItemToArray(xf_put_array(usual, "given"), cJSON_CreateString(called));
        xf_append(obj, name, usual);
    }
}

void dt_add_note(cJSON *res, const char *text)
{
    if (!text)
        return;
    cJSON *note = cJSON_CreateObject();
    xf_put_str(note, "text", text);
    xf_append(res, "note", note);
}

const char *dt_cwe_text(struct xf_ctx *x, struct hl7_view cwe)
{
    const char *text = xf_text(x, xf_comp(x, cwe, 2));
    return text ? text : xf_text(x, xf_comp(x, cwe, 1));
}

void dt_add_language(struct xf_ctx *x, cJSON *res, struct hl7_view cwe)
{
    cJSON *lang = dt_codeable(x, cwe);
    if (lang) {
        cJSON *c = cJSON_CreateObject();
        xf_put(c, "language", lang);
        xf_append(res, "communication", c);
    }
}

void dt_add_place(struct xf_ctx *x, cJSON *res, const char *name, struct hl7_view pl)
{
    const char *where = xf_text(x, xf_first_sub(x, xf_comp(x, pl, 1)));
    if (where) {
        cJSON *loc = cJSON_CreateObject();
        xf_put_str(loc, "display", where);
        xf_append(res, name, loc);
    }
}

cJSON *dt_org_address(struct xf_ctx *x, struct hl7_view xad)
{
    cJSON *a = dt_address(x, xad);
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(a, "use");
    if (cJSON_IsString(use) && strcmp(use->valuestring, "home") == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(a, "use");
    return a;
}

cJSON *dt_org_telecom(struct xf_ctx *x, struct hl7_view xtn)
{
    cJSON *c = dt_contact_point(x, xtn, "work");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(c, "use");
    if (cJSON_IsString(use) && strcmp(use->valuestring, "home") == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(c, "use");
    return c;
}

cJSON *dt_person_ref(struct xf_ctx *x, struct hl7_view xcn, const char *type)
{
    const char *family = xf_text(x, xf_sub(x, xf_comp(x, xf_rep(x, xcn, 1), 2), 1));
    if (!family)
        return NULL;
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", type);
    xf_put_str(ref, "display", family);
    return ref;
}

cJSON *dt_practitioner(struct xf_ctx *x, struct hl7_view xcn, const char *id)
{
    struct hl7_view first = xf_rep(x, xcn, 1);
    cJSON *p = cJSON_CreateObject();
    xf_put_str(p, "resourceType", "Practitioner");
    xf_put_str(p, "id", id);
    const char *system;
    /* XCN-1 is the id, XCN-9 its authority, XCN-13 its type: a CX laid out differently. */
    cJSON *ident = NULL;
    if (xf_has(xf_comp(x, first, 1))) {
        ident = cJSON_CreateObject();
        system = dt_ident_system(x, xf_comp(x, first, 9), xf_comp(x, first, 13));
        if (system)
            xf_put_str(ident, "system", system);
        xf_add_str(x, ident, "value", xf_comp(x, first, 1));
        xf_append(p, "identifier", ident);
    }
    cJSON *name = cJSON_CreateObject();
    xf_add_str(x, name, "family", xf_sub(x, xf_comp(x, first, 2), 1));
    add_str_to_array(x, name, "given", xf_comp(x, first, 3));
    add_str_to_array(x, name, "given", xf_comp(x, first, 4));
    add_str_to_array(x, name, "prefix", xf_comp(x, first, 6));
    add_str_to_array(x, name, "suffix", xf_comp(x, first, 5));
    if (cJSON_GetArraySize(name) > 0)
        xf_append(p, "name", name);
    else
        cJSON_Delete(name);
    if (!ident && !cJSON_GetObjectItemCaseSensitive(p, "name")) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

cJSON *dt_location(struct xf_ctx *x, struct hl7_view pl, const char *id)
{
    /* PL-1 point of care, PL-2 room, PL-3 bed, PL-4 facility: "WARD7 BED3 RHM". The
     * physical type is the most specific part present. */
    char name[256] = "";
    const char *kind = NULL;
    for (uint32_t k = 1; k <= 4; k++) {
        /* each part may be an HD (point of care, room, bed from v2.7; the facility always) */
        const char *part = xf_text(x, xf_first_sub(x, xf_comp(x, pl, k)));
        if (!part)
            continue;
        if (k <= 3)
            kind = k == 3 ? "bd" : k == 2 ? "ro" : "wa";
        size_t len = strlen(name);
        if (len && len + 1 < sizeof name)
            name[len++] = ' ';
        xf_copy(name + len, sizeof name - len, part);
    }
    if (!name[0])
        return NULL;
    cJSON *l = cJSON_CreateObject();
    xf_put_str(l, "resourceType", "Location");
    xf_put_str(l, "id", id);
    xf_put_str(l, "name", name);
    const char *description = xf_text(x, xf_comp(x, pl, 9)); /* PL-9: "Radiology" */
    if (description)
        xf_put_str(l, "description", description);
    xf_put_str(l, "mode", "instance");
    if (kind)
        xf_put(
            l, "physicalType",
            dt_concept("http://terminology.hl7.org/CodeSystem/location-physical-type", kind, NULL));
    return l;
}
