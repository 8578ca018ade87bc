/* msg_siu — SIU_S12 and the structures like it: appointments. */
#include "transforms/msg_siu.h"

#include <string.h>

#include "parsers/strbuf.h"
#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/seg_sch.h"

/* Appends the text of the NTEs after s to appt.comment, a line each. */
static void add_comment(struct xf_ctx *x, const struct hl7_seg *s, cJSON *appt)
{
    cJSON *notes = cJSON_CreateObject(), *note;
    struct strbuf all;
    msg_add_notes(x, s, notes, "note");
    const cJSON *before = cJSON_GetObjectItemCaseSensitive(appt, "comment");
    strbuf_init(&all, x->msg->len + 1 + (cJSON_IsString(before) ? strlen(before->valuestring) : 0));
    if (cJSON_IsString(before))
        strbuf_puts(&all, before->valuestring);
    cJSON_ArrayForEach(note, cJSON_GetObjectItemCaseSensitive(notes, "note"))
    {
        if ((all.len && strbuf_putc(&all, '\n')) ||
            strbuf_puts(&all, cJSON_GetObjectItemCaseSensitive(note, "text")->valuestring))
            break;
    }
    if (all.len && strbuf_append(&all, "", 0) == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(appt, "comment");
        cJSON_AddStringToObject(appt, "comment", all.p);
    }
    strbuf_cleanup(&all);
    cJSON_Delete(notes);
}

/* The appointment opens at SCH: held while the resources booked and what else the message
 * says about it are added. */
static int sch_open(struct xf_walk *w, const struct hl7_seg *sch)
{
    struct xf_ctx *x = w->x;
    const struct hl7_seg *tq1 = msg_next(x, sch, "TQ1", "NTE,PID,RGS,SCH");
    cJSON *appt;
    const cJSON *ident;
    char url[XF_URL_MAX];
    if (seg_sch_map(x, sch, tq1, w->type->trigger, &appt, &ident, w->group_key) != 0)
        return -1;
    add_comment(x, tq1 ? tq1 : sch, appt);
    if (x->patient_ref[0]) {
        cJSON *p = cJSON_CreateObject();
        xf_put(p, "actor", xf_ref(x->patient_ref));
        xf_put_str(p, "status", "accepted");
        xf_append(appt, "participant", p);
    }
    xf_full_url(x, sch, "Appointment", url);
    xf_walk_hold(w, appt, url, ident, w->group_key);
    w->count++;
    return 0;
}

static int sch_close(struct xf_walk *w, const struct hl7_seg *sch)
{
    struct xf_held *appt = xf_walk_held(w, "Appointment");
    return appt ? seg_sch_finish(w->x, sch, appt->res) : 0;
}

/* AIS, AIG, AIL, AIP: a resource booked, a participant; the service's notes join the
 * comment (IG SIU_S12 RESOURCES.SERVICE.NTE). */
static int siu_resource(struct xf_walk *w, const struct hl7_seg *s)
{
    struct xf_held *appt = xf_walk_held(w, "Appointment");
    if (!appt)
        return 0;
    seg_sch_resource(w->x, s, appt->res);
    if (strcmp(s->name, "AIS") == 0)
        add_comment(w->x, s, appt->res);
    return 0;
}

static int siu_obx(struct xf_walk *w, const struct hl7_seg *obx)
{
    char url[XF_URL_MAX];
    if (msg_obx_add(w, obx, url) != 0)
        return -1;
    xf_walk_link(w, "Appointment", "supportingInformation", url);
    return 0;
}

static int siu_finish(struct xf_walk *w)
{
    if (!w->patient) /* the PHR shows a patient's appointments: one of no patient is not */
        return xf_fail(w->x, NULL, 0, 100, "SIU message without a PID segment");
    return w->count ? 0 : xf_fail(w->x, NULL, 0, 100, "SIU message without an SCH segment");
}

/* The patient and visit first; then the appointment (SCH) and, in message order, what the
 * message says about it: observations, diagnoses, the resources booked. */
static const struct xf_rule siu_rules[] = {
    {"PID", 1, false, false, msg_pid_add, NULL},  {"PV1", 2, false, false, msg_pv1_add, NULL},
    {"SCH", 3, true, false, sch_open, sch_close}, {"OBX", 3, false, false, siu_obx, NULL},
    {"DG1", 3, false, false, msg_dg1_add, NULL},  {"AIS", 3, false, false, siu_resource, NULL},
    {"AIG", 3, false, false, siu_resource, NULL}, {"AIL", 3, false, false, siu_resource, NULL},
    {"AIP", 3, false, false, siu_resource, NULL},
};

static const char *const siu_events[] = {"S12", "S13", "S14", "S15", "S16", "S17", "S26", NULL};

const struct xf_structure msg_siu_s12 = {
    "SIU_S12",  "SIU", siu_events, siu_rules, sizeof siu_rules / sizeof siu_rules[0],
    siu_finish, NULL};
