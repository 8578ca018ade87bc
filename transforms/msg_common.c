/* msg_common — segment lookup, Patient, Encounter and Observation entries. */
#include "transforms/msg_common.h"

#include <stdio.h>
#include <string.h>

#include "transforms/dt_code.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/seg_msh.h"
#include "transforms/seg_obx.h"
#include "transforms/seg_pid.h"
#include "transforms/seg_pv1.h"

const struct hl7_seg *msg_find(struct xf_ctx *x, const char *name)
{
    return hl7_seg_find(x->msg, name, 1);
}

const struct hl7_seg *msg_next(struct xf_ctx *x, const struct hl7_seg *s, const char *name,
                               const char *stop)
{
    const struct hl7_seg *end = x->msg->segs + x->msg->nsegs;
    for (const struct hl7_seg *p = s + 1; p < end; p++) {
        if (strcmp(p->name, name) == 0)
            return p;
        if (strstr(stop, p->name))
            return NULL;
    }
    return NULL;
}

const struct hl7_seg *msg_order_common(struct xf_ctx *x, const struct hl7_seg *s)
{
    for (const struct hl7_seg *p = s - 1; p > x->msg->segs; p--) {
        if (strcmp(p->name, "ORC") == 0)
            return p;
        if (!strstr("TQ1,TQ2,PRT", p->name))
            return NULL;
    }
    return NULL;
}

int msg_add_patient(struct xf_ctx *x, const struct hl7_seg *pid, const struct hl7_seg *pd1,
                    cJSON **patient)
{
    if (seg_pid_patient(x, pid, pd1, patient) != 0)
        return -1;
    xf_bundle_add(x, x->patient_ref, *patient, x->patient_ident, x->patient_key);
    seg_pid_mother(x, pid, *patient);
    seg_pid_account(x, pid);
    seg_msh_patient_provenance(x, pid);
    return 0;
}

void msg_link(cJSON *patient, const char *url, const char *type)
{
    cJSON *links = cJSON_GetObjectItemCaseSensitive(patient, "link"), *l = cJSON_CreateObject();
    xf_put(l, "other", xf_ref(url));
    xf_put_str(l, "type", type);
    cJSON_AddItemToArray(links ? links : xf_put_array(patient, "link"), l);
}

void msg_add_notes(struct xf_ctx *x, const struct hl7_seg *s, cJSON *res, const char *name)
{
    const struct hl7_seg *end = x->msg->segs + x->msg->nsegs;
    for (const struct hl7_seg *n = s + 1; n < end && strcmp(n->name, "NTE") == 0; n++) {
        struct hl7_view text = xf_take(x, n, 3);
        struct strbuf all;
        (void)xf_take(x, n, 1);
        (void)xf_take(x, n, 2);
        strbuf_init(&all, x->msg->len + 1);
        struct xf_reps it;
        struct hl7_view rep;
        for (xf_reps_init(x, &it, text); xf_reps_next(x, &it, &rep);) {
            const char *t = xf_text(x, rep);
            if (t && ((all.len && strbuf_putc(&all, '\n')) || strbuf_puts(&all, t)))
                break;
        }
        if (all.len) {
            cJSON *note = cJSON_CreateObject();
            xf_put_str(note, "text", all.p);
            dt_add(x, note, "time", xf_take(x, n, 6), DT_DATETIME);             /* entered */
            cJSON *author = dt_person_ref(x, xf_take(x, n, 5), "Practitioner"); /* entered by */
            if (author)
                xf_put(note, "authorReference", author);
            cJSON *type = dt_codeable(x, xf_take(x, n, 4)); /* comment type (table 0364) */
            if (type) {
                xf_add_extension(note, "http://hl7.org/fhir/StructureDefinition/annotationType",
                                 "valueCodeableConcept", type);
            }
            xf_append(res, name, note);
        }
        strbuf_cleanup(&all);
    }
}
/* The ActCode the PV1 mapper gives a v2 patient class (E -> EMER...), for the status map. */
static const char *class_v2(const char *v2)
{
    static const char *const pairs[][2] = {{"E", "EMER"},  {"I", "IMP"}, {"O", "AMB"},
                                           {"P", "PRENC"}, {"R", "R"},   {"B", "B"},
                                           {"C", "C"},     {"N", "N"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (strcmp(pairs[i][0], v2) == 0)
            return pairs[i][1];
    return v2;
}

/* Encounter.status by trigger: the IG's Event[EncounterStatus] map (A01-A05, A08, A11, A13)
 * and, for the triggers it leaves out, what the event says happened to the visit; NULL: read
 * from the visit's own dates (updates, a change of doctor). */
static const struct {
    const char *trigger, *status;
} event_status[] = {
    /* the IG's map */
    {"A01", "in-progress"},
    {"A02", "in-progress"},
    {"A03", "finished"},
    {"A04", NULL}, /* the IG's ADT_A01 message map (A01, A04, A08, A13) takes the status
                      from PV1-2/PV1-45, not this map: a registered outpatient or emergency
                      attendance is in progress, a preadmit (P) planned */
    {"A05", "planned"},
    {"A06", "in-progress"},
    {"A07", "in-progress"},
    {"A08", NULL},
    {"A11", "cancelled"},
    {"A12", "in-progress"},
    {"A13", "in-progress"},
    /* the rest a PAS sends */
    {"A09", "in-progress"}, /* departing to a temporary location: still in the visit */
    {"A10", "in-progress"}, /* arriving */
    {"A14", "planned"},     /* pending admit */
    {"A17", "in-progress"}, /* beds swapped */
    {"A21", "onleave"},     /* leave of absence: out */
    {"A22", "in-progress"}, /* back from leave */
    {"A27", "cancelled"},   /* pending admit cancelled */
    {"A38", "cancelled"},   /* pre-admit cancelled */
    {"A45", NULL},          /* the visit moved to this patient: its state unchanged */
    {"A52", "in-progress"}, /* leave cancelled: never left */
    {"A53", "onleave"},     /* return from leave cancelled: still away */
    {"A54", NULL},          /* attending doctor changed: the state is the visit's */
    {"A55", NULL},          /* and undone */
};

/* HL7 table 0004 -> Encounter.status when the event does not decide (IG
 * PatientClass[EncounterStatus]). */
static const struct {
    const char *v2, *status;
} class_status[] = {
    {"E", "in-progress"}, {"I", "in-progress"}, {"O", "in-progress"}, {"P", "planned"},
    {"R", "in-progress"}, {"B", "in-progress"}, {"C", "in-progress"}, {"N", "in-progress"},
};

static const char *status_for(const char *trigger, cJSON *enc)
{
    for (size_t i = 0; i < sizeof event_status / sizeof event_status[0]; i++)
        if (strcmp(trigger, event_status[i].trigger) == 0 && event_status[i].status)
            return event_status[i].status;
    /* An update says nothing about state: a discharge time does (IG: PV1-45 valued means
     * finished), else the patient class does. */
    if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(enc, "period"), "end"))
        return "finished";
    const cJSON *cls =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(enc, "class"), "code");
    for (size_t i = 0; cJSON_IsString(cls) && i < sizeof class_status / sizeof class_status[0]; i++)
        if (strcmp(cls->valuestring, class_v2(class_status[i].v2)) == 0)
            return class_status[i].status;
    return "unknown";
}

/* Removes the contained resource id and every location pointing at it. */
static void drop_location(cJSON *enc, const char *id)
{
    char ref[32];
    snprintf(ref, sizeof ref, "#%s", id);
    cJSON *locs = cJSON_GetObjectItemCaseSensitive(enc, "location"),
          *contained = cJSON_GetObjectItemCaseSensitive(enc, "contained");
    for (int i = cJSON_GetArraySize(locs) - 1; i >= 0; i--) {
        cJSON *r = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(locs, i), "location"), "reference");
        if (cJSON_IsString(r) && strcmp(r->valuestring, ref) == 0)
            cJSON_DeleteItemFromArray(locs, i);
    }
    for (int i = cJSON_GetArraySize(contained) - 1; i >= 0; i--) {
        cJSON *cid = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(contained, i), "id");
        if (cJSON_IsString(cid) && strcmp(cid->valuestring, id) == 0)
            cJSON_DeleteItemFromArray(contained, i);
    }
}

/* The event's effect beyond the status: A03 ends, A12 undoes the move, A13 reopens. */
static void apply_event(struct xf_ctx *x, const char *trigger, cJSON *enc,
                        const struct hl7_seg *evn)
{
    cJSON *period = cJSON_GetObjectItemCaseSensitive(enc, "period");
    if (strcmp(trigger, "A03") == 0 && !cJSON_GetObjectItemCaseSensitive(period, "end") && evn) {
        char when[DT_MAX]; /* no PV1-45: the discharge happened when the event did */
        struct hl7_view occurred = hl7_field(x->msg, evn, 6);
        if (dt_format(x, xf_has(occurred) ? occurred : hl7_field(x->msg, evn, 2), DT_DATETIME,
                      when) == 0) {
            if (!period)
                period = xf_put_object(enc, "period");
            xf_put_str(period, "end", when);
        }
    }
    if (strcmp(trigger, "A13") == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(period, "end");
    if (strcmp(trigger, "A12") == 0)
        drop_location(enc, "prior-loc");
    if (period && cJSON_GetArraySize(period) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(enc, "period");
}

int msg_add_encounter(struct xf_ctx *x, const char *trigger, const struct hl7_seg *pv1)
{
    cJSON *enc = xf_resource("Encounter");
    char url[XF_URL_MAX], seed[400];
    const struct hl7_seg *pv2 = msg_next(x, pv1, "PV2", "PV1");
    xf_put_str(enc, "status", "unknown");
    if (xf_segmap_apply(x, &seg_pv1, pv1, enc) != 0 ||
        (pv2 && xf_segmap_apply(x, &seg_pv2, pv2, enc) != 0)) {
        cJSON_Delete(enc);
        return -1;
    }
    apply_event(x, trigger, enc, msg_find(x, "EVN"));
    cJSON_ReplaceItemInObject(enc, "status", cJSON_CreateString(status_for(trigger, enc)));
    xf_put(enc, "subject", xf_ref(x->patient_ref));
    xf_full_url(x, pv1, "Encounter", url);
    xf_copy(x->encounter_ref, sizeof x->encounter_ref, url);
    cJSON *visit = seg_pv1_visit_ident(enc);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(visit, "value"),
                *start = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(enc, "period"), "start");
    snprintf(seed, sizeof seed, "%s\x1f%s\x1f%s", x->patient_key,
             cJSON_IsString(value) ? value->valuestring : "",
             cJSON_IsString(start) ? start->valuestring : "");
    if (!value && !start)
        xf_warn(x, pv1, 19, "no visit number or admit time: the Encounter is this message's own");
    xf_bundle_add(x, url, enc, visit, value || start ? seed : NULL);
    return 0;
}

void msg_place_document(struct xf_ctx *x, const struct hl7_seg *obx, cJSON *a, const char *key)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(a, "data");
    if (!cJSON_IsString(data))
        return;
    size_t len = strlen(data->valuestring), pad = 0;
    while (pad < 2 && pad < len && data->valuestring[len - 1 - pad] == '=')
        pad++;
    size_t bytes = len / 4 * 3 - pad;
    xf_put_number(a, "size", (double)bytes);
    if (x->cfg->max_document && bytes > x->cfg->max_document) {
        char text[120];
        snprintf(text, sizeof text,
                 "a document of %zu bytes, over max_document: its content not sent", bytes);
        xf_warn(x, obx, 5, text);
        cJSON_DeleteItemFromObjectCaseSensitive(a, "data");
        xf_put_str(a, "title", "document over the size limit: not included");
        return;
    }
    if (!x->cfg->documents_binary)
        return;
    char url[XF_URL_MAX], seed[400];
    cJSON *bin = xf_resource("Binary");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(a, "contentType");
    xf_put_str(bin, "contentType",
               cJSON_IsString(type) ? type->valuestring : "application/octet-stream");
    xf_put(bin, "data", cJSON_DetachItemFromObjectCaseSensitive(a, "data"));
    xf_full_url(x, obx, "Binary", url);
    snprintf(seed, sizeof seed,
             "%s\x1f"
             "document\x1f%u",
             key ? key : x->patient_key, (unsigned)(obx - x->msg->segs));
    xf_bundle_add(x, url, bin, NULL, seed);
    xf_put_str(a, "url", url);
}

int msg_add_observation(struct xf_ctx *x, const struct hl7_seg *obx, const char *report_key,
                        char url[XF_URL_MAX], cJSON **attachment)
{
    cJSON *obs;
    char seed[600];
    url[0] = '\0';
    if (seg_obx_map(x, obx, &obs, attachment) != 0)
        return -1;
    if (!obs)
        return 0;
    msg_add_notes(x, obx, obs, "note");
    if (x->patient_ref[0])
        xf_put(obs, "subject", xf_ref(x->patient_ref));
    if (x->encounter_ref[0])
        xf_put(obs, "encounter", xf_ref(x->encounter_ref));
    /* Stable across messages: the report (or patient) + observation id + sub-id, or the set
     * id when there is no sub-id (several OBX may share a code: lines of a text report).
     * A sub-id is marked as one, so OBX|1|NM|WBC|| and OBX|1|TX|WBC|1| stay two. */
    struct hl7_view code = xf_comp(x, hl7_field(x->msg, obx, 3), 1),
                    sub = hl7_field(x->msg, obx, 4);
    bool by_sub = xf_has(sub);
    if (!by_sub)
        sub = hl7_field(x->msg, obx, 1);
    struct strbuf sb = {seed, 0, sizeof seed, sizeof seed - 1}; /* on the stack, capped */
    strbuf_puts(&sb, report_key ? report_key : x->patient_key);
    strbuf_putc(&sb, '\x1f');
    strbuf_append(&sb, code.p ? code.p : "", code.p ? code.len : 0);
    strbuf_putc(&sb, '\x1f');
    strbuf_append(&sb, sub.p ? sub.p : "", sub.p ? sub.len : 0);
    if (by_sub)
        strbuf_puts(&sb, "\x1fsub");
    xf_full_url(x, obx, "Observation", url);
    xf_bundle_add(x, url, obs, NULL, seed);
    return 0;
}
