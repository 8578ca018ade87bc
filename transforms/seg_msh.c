/* seg_msh — MessageHeader and the Provenance of the transformation. */
#include "transforms/seg_msh.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"

/* An endpoint URI for an HD: its universal id when it is a URI, else urn:hl7v2:NAME. */
static void endpoint(struct xf_ctx *x, struct hl7_view hd, cJSON *obj)
{
    char uri[160] = "urn:hl7v2:unknown";
    const char *uid = xf_text(x, xf_comp(x, hd, 2));
    if (uid && (strncmp(uid, "http", 4) == 0 || strncmp(uid, "urn:", 4) == 0)) {
        xf_copy(uri, sizeof uri, uid);
    } else if ((uid = xf_text(x, xf_comp(x, hd, 1)))) {
        snprintf(uri, sizeof uri, "urn:hl7v2:");
        for (size_t i = strlen(uri), k = 0; uid[k] && i + 1 < sizeof uri; k++)
            uri[i++] = (uid[k] == ' ' || uid[k] == '|') ? '-' : uid[k], uri[i] = '\0';
    }
    xf_add_str(x, obj, "name", xf_comp(x, hd, 1));
    xf_put_str(obj, "endpoint", uri);
}

static int msh_event(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    struct hl7_view type = xf_take(x, s, 9);
    const char *trigger = xf_text(x, xf_comp(x, type, 2));
    for (uint32_t f = 1; f <= 2; f++)
        (void)xf_take(x, s, f);
    xf_put(res, "eventCoding",
           dt_coding("http://terminology.hl7.org/CodeSystem/v2-0003", trigger ? trigger : "ACK",
                     NULL));
    return 0;
}

static int msh_parties(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    cJSON *dest = cJSON_CreateObject();
    endpoint(x, xf_take(x, s, 5), dest);
    xf_append(res, "destination", dest);
    const char *receiver = xf_text(x, xf_comp(x, xf_take(x, s, 6), 1));
    if (receiver) {
        cJSON *r = xf_put_object(dest, "receiver");
        xf_put_str(r, "display", receiver);
    }
    const char *sender = xf_text(x, xf_comp(x, xf_take(x, s, 4), 1));
    if (sender) {
        cJSON *r = xf_put_object(res, "sender");
        xf_put_str(r, "display", sender);
    }
    endpoint(x, xf_take(x, s, 3), xf_put_object(res, "source"));
    return 0;
}

/* An organization by XON, as a Reference: XON-1 its name, XON-10 its identifier; NULL empty. */
static cJSON *organization(struct xf_ctx *x, struct hl7_view xon)
{
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", "Organization");
    xf_add_str(x, ref, "display", xf_comp(x, xon, 1));
    if (xf_has(xf_comp(x, xon, 10)))
        xf_add_str(x, xf_put_object(ref, "identifier"), "value", xf_comp(x, xon, 10));
    if (cJSON_GetArraySize(ref) > 1)
        return ref;
    cJSON_Delete(ref);
    return NULL;
}

/* The IG's MSH[MessageHeader] beyond the parties: MSH-22 the sending responsible
 * organization, MSH-23 the receiving one (when MSH-6 named none), MSH-24/25 the network
 * addresses as the endpoints, MSH-19 the message's language (a BCP-47 code). */
static int msh_more(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    const char *security = xf_text(x, xf_take(x, s, 8)); /* IG: meta.security, as sent */
    if (security) {
        cJSON *label = cJSON_CreateObject();
        xf_put_str(label, "code", security);
        xf_append(xf_object(res, "meta"), "security", label);
    }
    cJSON *responsible = organization(x, xf_take(x, s, 22));
    if (responsible)
        xf_put(res, "responsible", responsible);
    cJSON *dest = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "destination"), 0);
    cJSON *receiver = organization(x, xf_take(x, s, 23));
    if (receiver && dest && !cJSON_GetObjectItemCaseSensitive(dest, "receiver"))
        xf_put(dest, "receiver", receiver);
    else
        cJSON_Delete(receiver);
    struct hl7_view from = xf_take(x, s, 24), to = xf_take(x, s, 25);
    cJSON *source = cJSON_GetObjectItemCaseSensitive(res, "source");
    if (xf_has(from) && source) {
        cJSON_DeleteItemFromObjectCaseSensitive(source, "endpoint");
        cJSON *name = cJSON_DetachItemFromObjectCaseSensitive(source, "name");
        endpoint(x, from, source);
        if (name) { /* MSH-3's name stays the source's name */
            cJSON_DeleteItemFromObjectCaseSensitive(source, "name");
            xf_put(source, "name", name);
        }
    }
    if (xf_has(to) && dest) {
        cJSON_DeleteItemFromObjectCaseSensitive(dest, "endpoint");
        cJSON *name = cJSON_DetachItemFromObjectCaseSensitive(dest, "name");
        endpoint(x, to, dest);
        if (name) {
            cJSON_DeleteItemFromObjectCaseSensitive(dest, "name");
            xf_put(dest, "name", name);
        }
    }
    const char *lang = xf_text(x, xf_comp(x, xf_take(x, s, 19), 1));
    if (lang && strlen(lang) <= 35 &&
        strspn(lang, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
            strlen(lang))
        xf_put_str(res, "language", lang);
    return 0;
}

/* MSH-7, MSH-10..12, MSH-15..18: read for the transform as a whole. */
static int msh_control(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res)
{
    static const uint32_t fields[] = {7, 10, 11, 12, 15, 16, 17, 18};
    (void)res;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        (void)xf_take(x, s, fields[i]);
    return 0;
}

static const xf_field_fn msh_fns[] = {msh_event, msh_parties, msh_more, msh_control};

const struct xf_segmap seg_msh = {"MSH", "MessageHeader", msh_fns,
                                  sizeof msh_fns / sizeof msh_fns[0]};

void seg_msh_header(struct xf_ctx *x)
{
    const struct hl7_seg *msh = &x->msg->segs[0];
    cJSON *h = xf_resource("MessageHeader");
    char url[XF_URL_MAX];
    xf_segmap_apply(x, &seg_msh, msh, h);
    /* the sending software (IG SFT[MessageHeader]): the first SFT's product and version */
    for (uint32_t i = 1; i < x->msg->nsegs; i++) {
        const struct hl7_seg *sft = &x->msg->segs[i];
        cJSON *source = cJSON_GetObjectItemCaseSensitive(h, "source");
        if (strcmp(sft->name, "SFT") != 0 || !source)
            continue;
        xf_add_str(x, source, "software", xf_take(x, sft, 3));
        xf_add_str(x, source, "version", xf_take(x, sft, 2));
        break;
    }
    xf_full_url(x, msh, "MessageHeader", url);
    xf_bundle_add(x, url, h, NULL, NULL);
}

/* Every entry but the Provenances (of an order, of the patient's record) is the
 * transformation's target. */
static void provenance_targets(struct xf_ctx *x, cJSON *prov)
{
    cJSON *targets = xf_put_array(prov, "target"), *e;
    cJSON_ArrayForEach(e, x->entries)
    {
        const char *url = cJSON_GetObjectItemCaseSensitive(e, "fullUrl")->valuestring;
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(e, "resource"), "resourceType");
        if (strcmp(rt->valuestring, "Provenance") != 0)
            cJSON_AddItemToArray(targets, xf_ref(url));
    }
}

/* A Provenance agent: who (taken), of the participant type code (NULL: untyped). */
static void add_agent(cJSON *prov, const char *type, cJSON *who)
{
    cJSON *agent = cJSON_CreateObject();
    if (type)
        xf_put(agent, "type",
               dt_concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", type,
                          NULL));
    xf_put(agent, "who", who);
    xf_append(prov, "agent", agent);
}

/* A Reference by display to what a CWE names (its text, else its code); NULL when empty. */
static cJSON *named(struct xf_ctx *x, struct hl7_view cwe, const char *type)
{
    const char *name = xf_text(x, xf_comp(x, cwe, 2));
    if (!name)
        name = xf_text(x, xf_comp(x, cwe, 1));
    if (!name)
        return NULL;
    cJSON *ref = cJSON_CreateObject();
    xf_put_str(ref, "type", type);
    xf_put_str(ref, "display", name);
    return ref;
}

/* A new Provenance targeting url, recorded at when (else the message's time); NULL when
 * neither is a valid instant. */
static cJSON *provenance_of(struct xf_ctx *x, struct hl7_view when, const char *url)
{
    char recorded[DT_MAX];
    if (dt_format(x, when, DT_INSTANT, recorded) != 0 &&
        dt_format(x, hl7_field(x->msg, &x->msg->segs[0], 7), DT_INSTANT, recorded) != 0)
        return NULL;
    cJSON *p = xf_resource("Provenance");
    xf_append(p, "target", xf_ref(url));
    xf_put_str(p, "recorded", recorded);
    return p;
}

void seg_msh_order_provenance(struct xf_ctx *x, const struct hl7_seg *orc, const char *url)
{
    cJSON *enterer = dt_person_ref(x, xf_take(x, orc, 10), "Practitioner");
    cJSON *verifier = dt_person_ref(x, xf_take(x, orc, 11), "Practitioner");
    cJSON *actor = dt_person_ref(x, xf_take(x, orc, 19), "Practitioner");
    cJSON *org = named(x, xf_rep(x, xf_take(x, orc, 17), 1), "Organization");
    cJSON *device = named(x, xf_rep(x, xf_take(x, orc, 18), 1), "Device");
    cJSON *p = enterer || verifier || actor || org || device
                   ? provenance_of(x, hl7_field(x->msg, orc, 9), url)
                   : NULL;
    if (!p) {
        cJSON_Delete(enterer), cJSON_Delete(verifier), cJSON_Delete(actor);
        cJSON_Delete(org), cJSON_Delete(device);
        return;
    }
    if (enterer || org) { /* the enterer, on behalf of the entering organisation */
        add_agent(p, "enterer", enterer ? enterer : org);
        if (enterer && org)
            xf_put(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "agent"), 0),
                   "onBehalfOf", org);
    }
    if (verifier)
        add_agent(p, "verifier", verifier);
    if (actor)
        add_agent(p, "performer", actor);
    if (device)
        add_agent(p, NULL, device);
    char full[XF_URL_MAX];
    xf_full_url(x, orc, "Provenance", full);
    xf_bundle_add(x, full, p, NULL, NULL);
}

void seg_msh_patient_provenance(struct xf_ctx *x, const struct hl7_seg *pid)
{
    struct hl7_view updated = xf_take(x, pid, 33), facility = xf_take(x, pid, 34);
    if ((!xf_has(updated) && !xf_has(facility)) || !x->patient_ref[0])
        return;
    cJSON *p = provenance_of(x, (struct hl7_view){0}, x->patient_ref);
    if (!p)
        return;
    dt_add(x, p, "occurredDateTime", updated, DT_DATETIME);
    if (!xf_has(facility)) /* the facility that sent the update */
        facility = hl7_field(x->msg, &x->msg->segs[0], 4);
    struct hl7_view name =
        xf_has(xf_comp(x, facility, 1)) ? xf_comp(x, facility, 1) : xf_comp(x, facility, 2);
    const char *text = xf_text(x, name);
    cJSON *who = cJSON_CreateObject();
    xf_put_str(who, "type", "Organization");
    xf_put_str(who, "display", text ? text : "unknown");
    add_agent(p, "performer", who);
    char full[XF_URL_MAX];
    xf_full_url(x, pid, "Provenance", full);
    xf_bundle_add(x, full, p, NULL, NULL);
}

/* What the IG's EVN[Provenance] adds: the event's reason (EVN-4), who entered it (EVN-5, an
 * agent of type enterer, by identifier and name) and where (EVN-7, the facility). */
static void event_details(struct xf_ctx *x, const struct hl7_seg *evn, cJSON *p)
{
    cJSON *reason = dt_codeable(x, xf_rep(x, xf_take(x, evn, 4), 1));
    if (reason)
        xf_append(p, "reason", reason);
    struct hl7_view op = xf_rep(x, xf_take(x, evn, 5), 1);
    const char *code = xf_text(x, xf_comp(x, op, 1));
    cJSON *who = cJSON_CreateObject();
    if (code)
        xf_put_str(xf_put_object(who, "identifier"), "value", code);
    const char *family = xf_text(x, xf_first_sub(x, xf_comp(x, op, 2)));
    if (family)
        xf_put_str(who, "display", family);
    if (cJSON_GetArraySize(who)) {
        xf_put_str(who, "type", "Practitioner");
        cJSON *agent = cJSON_CreateObject();
        xf_put(agent, "type",
               dt_concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                          "enterer", "Enterer"));
        xf_put(agent, "who", who);
        xf_append(p, "agent", agent);
    } else {
        cJSON_Delete(who);
    }
    struct hl7_view hd = xf_take(x, evn, 7); /* HD: namespace, else universal id */
    const char *facility =
        xf_text(x, xf_has(xf_comp(x, hd, 1)) ? xf_comp(x, hd, 1) : xf_comp(x, hd, 2));
    if (facility)
        xf_put_str(xf_put_object(p, "location"), "display", facility);
}

/* Each SFT (the software that made or passed on the message) as a contained Device the
 * Provenance names as a source entity (IG SFT[Device]): vendor (SFT-1), version (SFT-2),
 * product (SFT-3), binary id (SFT-4), description (SFT-5), install date (SFT-6). */
static void software(struct xf_ctx *x, cJSON *prov)
{
    uint32_t n = 0;
    for (uint32_t i = 1; i < x->msg->nsegs && n < 9; i++) {
        const struct hl7_seg *sft = &x->msg->segs[i];
        if (strcmp(sft->name, "SFT") != 0)
            continue;
        char id[8], ref[9];
        snprintf(id, sizeof id, "sft%u", ++n);
        snprintf(ref, sizeof ref, "#%s", id);
        cJSON *d = cJSON_CreateObject();
        xf_put_str(d, "resourceType", "Device");
        xf_put_str(d, "id", id);
        xf_add_str(x, d, "manufacturer", xf_first_sub(x, xf_comp(x, xf_take(x, sft, 1), 1)));
        const char *product = xf_text(x, xf_take(x, sft, 3));
        if (product) {
            cJSON *name = cJSON_CreateObject();
            xf_put_str(name, "name", product);
            xf_put_str(name, "type", "manufacturer-name");
            xf_append(d, "deviceName", name);
        }
        xf_add_str(x, d, "modelNumber", xf_take(x, sft, 4));
        cJSON *version = cJSON_CreateObject();
        xf_add_str(x, version, "value", xf_take(x, sft, 2));
        char installed[DT_MAX];
        if (dt_format(x, xf_take(x, sft, 6), DT_DATETIME, installed) == 0) {
            xf_add_extension(version,
                             "https://hl7.org/fhir/5.0/StructureDefinition/"
                             "extension-Device.version.installDate",
                             "valueDateTime", cJSON_CreateString(installed));
        }
        if (cJSON_GetObjectItemCaseSensitive(version, "value"))
            xf_append(d, "version", version);
        else
            cJSON_Delete(version); /* Device.version needs its value */
        dt_add_note(d, xf_text(x, xf_take(x, sft, 5)));
        if (cJSON_GetArraySize(d) <= 2) {
            cJSON_Delete(d);
            n--;
            continue;
        }
        xf_append(prov, "contained", d);
        cJSON *entity = cJSON_CreateObject();
        xf_put_str(entity, "role", "source");
        xf_put(entity, "what", xf_ref(ref));
        xf_append(prov, "entity", entity);
    }
}

void seg_msh_provenance(struct xf_ctx *x, const struct hl7_seg *evn)
{
    const struct hl7_seg *msh = &x->msg->segs[0];
    char recorded[DT_MAX], url[XF_URL_MAX];
    /* recorded: the message's time, else the event's recording time (EVN-2) */
    if (dt_format(x, hl7_field(x->msg, msh, 7), DT_INSTANT, recorded) != 0 &&
        (!evn || dt_format(x, xf_take(x, evn, 2), DT_INSTANT, recorded) != 0)) {
        xf_warn(x, msh, 7, "no valid message time: no Provenance for this message");
        return;
    }
    cJSON *p = xf_resource("Provenance");
    provenance_targets(x, p);
    if (evn)
        dt_add(x, p, "occurredDateTime", xf_take(x, evn, 6), DT_DATETIME);
    xf_put_str(p, "recorded", recorded);
    xf_put(
        p, "activity",
        dt_concept("http://terminology.hl7.org/CodeSystem/v3-DataOperation", "UPDATE", "revise"));
    cJSON *agent = cJSON_CreateObject(), *who = xf_put_object(agent, "who");
    xf_put(agent, "type",
           dt_concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                      "assembler", "Assembler"));
    xf_put_str(who, "display", "Solent HL7v2-to-FHIR interface engine");
    xf_append(p, "agent", agent);
    software(x, p);
    if (evn) { /* EVN-1 (type) and EVN-2 (recorded) repeat MSH-9 and MSH-7 */
        (void)xf_take(x, evn, 1);
        (void)xf_take(x, evn, 2);
        event_details(x, evn, p);
    }
    xf_full_url(x, msh, "Provenance", url);
    xf_bundle_add(x, url, p, NULL, NULL);
}
