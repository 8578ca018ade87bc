/* seg_sch — SCH, TQ1, AIS, AIG, AIL and AIP to Appointment. */
#include "transforms/seg_sch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transforms/dt_code.h"
#include "transforms/dt_ident.h"
#include "transforms/dt_name.h"
#include "transforms/dt_time.h"
#include "transforms/dt_value.h"

#define SNOMED "http://snomed.info/sct"

/* HL7 table 0278 filler status -> appointmentstatus (IG FillerStatusCodes[Appointment]);
 * senders write the codes in any case. */
static const struct dt_code_row filler_status[] = {
    {"Pending", "pending", NULL},
    {"Waitlist", "waitlist", NULL},
    {"Booked", "booked", NULL},
    {"Started", "checked-in", NULL},
    {"Complete", "fulfilled", NULL},
    {"Cancelled", "cancelled", NULL},
    {"Deleted", "entered-in-error", NULL},
    {"Noshow", "noshow", NULL},
};

/* The same codes for one resource's part: participationstatus. */
static const struct dt_code_row participation[] = {
    {"Pending", "tentative", NULL}, {"Waitlist", "tentative", NULL},
    {"Booked", "accepted", NULL},   {"Started", "accepted", NULL},
    {"Complete", "accepted", NULL}, {"Cancelled", "declined", NULL},
    {"Deleted", "declined", NULL},  {"Noshow", "declined", NULL},
};

/* HL7 table 0276 appointment reason, with the IG's SNOMED CT translation
 * (AppointmentReasonCodes). */
static const struct dt_code_row reasons[] = {
    {"ROUTINE", "3780001", "Routine patient disposition, no follow-up planned"},
    {"WALKIN", NULL, "A previously unscheduled walk-in visit"},
    {"CHECKUP", "866149003", "Annual visit (procedure)"},
    {"FOLLOWUP", "185389009", "Follow-up visit (procedure)"},
    {"EMERGENCY", "373110003", "Emergency procedure (procedure)"},
};

/* HL7 table 0277 appointment type (AppointmentTypeCodes: the v2 codes themselves). */
static const struct dt_code_row types[] = {
    {"Normal", "Normal", "Routine schedule request type"},
    {"Tentative", "Tentative", "A request for a tentative appointment"},
    {"Complete", "Complete", "A request to add a completed appointment"},
};

/* The row whose v2 code is v's first component, in any case. */
static const struct dt_code_row *find(const struct dt_code_row *rows, size_t n, struct xf_ctx *x,
                                      struct hl7_view v)
{
    const char *code = xf_text(x, xf_comp(x, xf_rep(x, v, 1), 1));
    for (size_t i = 0; code && i < n; i++)
        if (strcasecmp(code, rows[i].v2) == 0)
            return &rows[i];
    return NULL;
}

/* A table's code as a CodeableConcept (with a translation when the map has one), else the
 * CWE as sent. */
static cJSON *coded(struct xf_ctx *x, struct hl7_view v, const struct dt_code_row *rows, size_t n,
                    const char *table, const char *translation)
{
    const struct dt_code_row *r = find(rows, n, x, v);
    if (!r)
        return dt_codeable(x, xf_rep(x, v, 1));
    cJSON *cc = dt_concept(table, r->v2, translation ? NULL : r->display);
    if (translation && r->code)
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cc, "coding"),
                             dt_coding(translation, r->code, r->display));
    return cc;
}

/* A duration in a unit (a CWE: min, h, d, s... in its first or second component) as whole
 * minutes; -1 when the unit is not one of time or the seconds are no whole minutes. */
static long minutes_of(struct xf_ctx *x, struct hl7_view amount, struct hl7_view unit)
{
    const char *a = xf_text(x, amount);
    char *end;
    long n = a ? strtol(a, &end, 10) : -1, seconds;
    if (!a || *end || n < 0)
        return -1;
    for (int c = 1; c <= 2; c++) {
        const char *u = xf_text(x, xf_comp(x, unit, c));
        const char *ucum = dt_time_unit(u, &seconds);
        if (ucum && seconds <= 86400) /* an appointment lasts seconds to days */
            return n * seconds % 60 ? -1 : n * seconds / 60;
    }
    return -1;
}

/* SCH-1 placer and SCH-2 filler appointment ids, typed; the key: filler, else placer. */
static int identifiers(struct xf_ctx *x, const struct hl7_seg *sch, cJSON *appt,
                       const cJSON **ident, char key[256])
{
    *ident = NULL;
    key[0] = '\0';
    for (uint32_t f = 1; f <= 2; f++) {
        cJSON *id = dt_ident_typed(dt_ei(x, xf_take(x, sch, f)), f == 1 ? "PLAC" : "FILL");
        if (!id)
            continue;
        xf_append(appt, "identifier", id);
        *ident = cJSON_GetObjectItemCaseSensitive(id, "system")
                     ? id
                     : *ident; /* the filler's if it has one */
        dt_ident_key(id, key);
    }
    return key[0] ? 0 : xf_fail(x, sch, 2, 101, "no appointment id in SCH-1 or SCH-2");
}

/* Status: the trigger for a cancel (S15, S16), a delete (S17) and a no-show (S26); else
 * SCH-25 by the IG's map, booked when it says nothing. */
static const char *status_of(struct xf_ctx *x, const struct hl7_seg *sch, const char *trigger)
{
    static const char *const by_trigger[][2] = {
        {"S15", "cancelled"}, {"S16", "cancelled"}, {"S17", "entered-in-error"}, {"S26", "noshow"}};
    struct hl7_view st = xf_take(x, sch, 25);
    for (size_t i = 0; i < sizeof by_trigger / sizeof by_trigger[0]; i++)
        if (strcmp(trigger, by_trigger[i][0]) == 0)
            return by_trigger[i][1];
    const struct dt_code_row *r =
        find(filler_status, sizeof filler_status / sizeof filler_status[0], x, st);
    if (!r && xf_has(st))
        xf_warn(x, sch, 25, "filler status not in HL7 table 0278: the appointment taken as booked");
    return r ? r->code : "booked";
}

/* start, end from a time and an end or a duration in minutes (-1: none). */
static void put_times(struct xf_ctx *x, cJSON *obj, struct hl7_view start, struct hl7_view end,
                      long minutes)
{
    char out[DT_MAX];
    if (!dt_add(x, obj, "start", start, DT_INSTANT))
        return;
    if (!dt_add(x, obj, "end", end, DT_INSTANT) && minutes >= 0 &&
        dt_format_after(x, start, minutes, out) == 0)
        xf_put_str(obj, "end", out);
}

int seg_sch_map(struct xf_ctx *x, const struct hl7_seg *sch, const struct hl7_seg *tq1,
                const char *trigger, cJSON **out, const cJSON **ident, char key[256])
{
    cJSON *appt = xf_resource("Appointment");
    if (identifiers(x, sch, appt, ident, key) != 0) {
        cJSON_Delete(appt);
        return -1;
    }
    xf_put_str(appt, "status", status_of(x, sch, trigger));
    xf_put(appt, "appointmentType",
           coded(x, xf_take(x, sch, 8), types, sizeof types / sizeof types[0],
                 "http://terminology.hl7.org/CodeSystem/v2-0277", NULL));
    cJSON *reason = coded(x, xf_take(x, sch, 7), reasons, sizeof reasons / sizeof reasons[0],
                          "http://terminology.hl7.org/CodeSystem/v2-0276", SNOMED);
    if (reason)
        xf_append(appt, "reasonCode", reason);
    long minutes = minutes_of(x, xf_take(x, sch, 9), xf_take(x, sch, 10));
    if (minutes < 0 && xf_has(hl7_field(x->msg, sch, 9)))
        xf_warn(x, sch, 10, "duration units not a unit of time: the duration left out");
    if (minutes > 0)
        xf_put_number(appt, "minutesDuration", (double)minutes);
    /* TQ1-7/8 (v2.5 on), else SCH-11's TQ start (4) and end (5) */
    struct hl7_view tq = xf_rep(x, xf_take(x, sch, 11), 1);
    if (tq1 && xf_has(hl7_field(x->msg, tq1, 7)))
        put_times(x, appt, xf_take(x, tq1, 7), xf_take(x, tq1, 8), minutes);
    else
        put_times(x, appt, xf_comp(x, tq, 4), xf_comp(x, tq, 5), minutes);
    /* the placer's and the filler's contact people (SCH-12, SCH-16) and who entered it
     * (SCH-20): participants by name (IG SCH[Appointment]) */
    static const struct {
        uint32_t field;
        const char *code, *text;
    } people[] = {
        {12, NULL, "placer contact"}, {16, NULL, "filler contact"}, {20, "ENT", "enterer"}};
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        cJSON *who = dt_person_ref(x, xf_take(x, sch, people[i].field), "Practitioner");
        if (!who)
            continue;
        cJSON *p = cJSON_CreateObject();
        cJSON *type = people[i].code
                          ? dt_concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                       people[i].code, "data entry person")
                          : cJSON_CreateObject();
        xf_put_str(type, "text", people[i].text);
        xf_append(p, "type", type);
        xf_put(p, "actor", who);
        xf_put_str(p, "status", "accepted");
        xf_append(appt, "participant", p);
    }
    for (uint32_t f = 26; f <= 27; f++) { /* the orders it fulfils, by their numbers */
        cJSON *id = dt_ident_typed(dt_ei(x, xf_take(x, sch, f)), f == 26 ? "PLAC" : "FILL");
        if (id)
            xf_append(appt, "basedOn", dt_request_ref(id));
    }
    *out = appt;
    return 0;
}

/* Where each resource segment keeps its parts (HL7 v2.5 chapter 10). */
static const struct {
    const char *name;
    uint32_t what, role, start, duration, status;
} parts[] = {
    {"AIS", 3, 0, 4, 7, 10},
    {"AIG", 3, 4, 8, 11, 14},
    {"AIL", 3, 4, 6, 9, 12},
    {"AIP", 3, 4, 6, 9, 12},
};

/* The actor of a resource segment: a contained Practitioner (AIP) or Location (AIL), or a
 * device or other resource by its id and name (AIG); NULL when the segment names none. */
static cJSON *actor(struct xf_ctx *x, const struct hl7_seg *s, struct hl7_view what, cJSON *appt)
{
    char id[16];
    cJSON *contained = NULL;
    snprintf(id, sizeof id, "%s%u", s->name, (unsigned)s->seq);
    for (char *c = id; *c; c++)
        *c = (char)(*c | 0x20); /* ail1: ids are lower case by habit, not by rule */
    if (strcmp(s->name, "AIP") == 0)
        contained = dt_practitioner(x, xf_rep(x, what, 1), id);
    else if (strcmp(s->name, "AIL") == 0)
        contained = dt_location(x, xf_rep(x, what, 1), id);
    if (contained) {
        char ref[20];
        xf_append(appt, "contained", contained);
        snprintf(ref, sizeof ref, "#%s", id);
        return xf_ref(ref);
    }
    struct hl7_view cwe = xf_rep(x, what, 1);
    const char *code = xf_text(x, xf_comp(x, cwe, 1));
    cJSON *ref = cJSON_CreateObject();
    if (code)
        xf_put_str(xf_put_object(ref, "identifier"), "value", code);
    const char *name = xf_text(x, xf_comp(x, cwe, 2));
    if (name)
        xf_put_str(ref, "display", name);
    if (cJSON_GetArraySize(ref) == 0) {
        cJSON_Delete(ref);
        return NULL;
    }
    return ref;
}

void seg_sch_resource(struct xf_ctx *x, const struct hl7_seg *s, cJSON *appt)
{
    size_t k = 0;
    while (k < sizeof parts / sizeof parts[0] - 1 && strcmp(parts[k].name, s->name) != 0)
        k++;
    struct hl7_view what = xf_take(x, s, parts[k].what);
    (void)xf_take(x, s, 1), (void)xf_take(x, s, 2); /* set id, segment action code */
    cJSON *p = cJSON_CreateObject();
    if (parts[k].role == 0) { /* AIS: the service booked */
        cJSON *service = dt_codeable(x, xf_rep(x, what, 1));
        if (service)
            xf_append(appt, "serviceType", service);
    } else {
        xf_put(p, "actor", actor(x, s, what, appt));
        cJSON *role = dt_codeable(x, xf_rep(x, xf_take(x, s, parts[k].role), 1));
        if (role)
            xf_append(p, "type", role);
    }
    const struct dt_code_row *st =
        find(participation, sizeof participation / sizeof participation[0], x,
             xf_take(x, s, parts[k].status));
    xf_put_str(p, "status", st ? st->code : "accepted");
    long minutes =
        minutes_of(x, xf_take(x, s, parts[k].duration), xf_take(x, s, parts[k].duration + 1));
    cJSON *period = cJSON_CreateObject();
    put_times(x, period, xf_take(x, s, parts[k].start), (struct hl7_view){0}, minutes);
    if (cJSON_GetArraySize(period))
        xf_put(p, "period", period);
    else
        cJSON_Delete(period);
    if (!cJSON_GetObjectItemCaseSensitive(p, "actor") &&
        cJSON_GetObjectItemCaseSensitive(p, "period"))
        xf_append(p, "type", dt_codeable(x, xf_rep(x, what, 1))); /* the service's own time */
    if (cJSON_GetObjectItemCaseSensitive(p, "actor") ||
        cJSON_GetObjectItemCaseSensitive(p, "type")) /* FHIR app-1 */
        xf_append(appt, "participant", p);
    else
        cJSON_Delete(p);
}

int seg_sch_finish(struct xf_ctx *x, const struct hl7_seg *sch, cJSON *appt)
{
    if (!cJSON_GetObjectItemCaseSensitive(appt,
                                          "start")) { /* the first resource booked with a time */
        cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(appt, "participant"))
        {
            cJSON *period = cJSON_GetObjectItemCaseSensitive(p, "period");
            cJSON *start = cJSON_GetObjectItemCaseSensitive(period, "start"),
                  *end = cJSON_GetObjectItemCaseSensitive(period, "end");
            if (start && end) {
                xf_put_str(appt, "start", start->valuestring);
                xf_put_str(appt, "end", end->valuestring);
                break;
            }
        }
    }
    const char *status = cJSON_GetObjectItemCaseSensitive(appt, "status")->valuestring;
    bool timed = cJSON_GetObjectItemCaseSensitive(appt, "start") &&
                 cJSON_GetObjectItemCaseSensitive(appt, "end");
    if (!timed && cJSON_GetObjectItemCaseSensitive(appt, "start")) /* FHIR app-2: both or neither */
        cJSON_DeleteItemFromObjectCaseSensitive(appt, "start");
    if (!timed && !strstr("proposed,cancelled,waitlist", status))
        return xf_fail(x, sch, 11, 101,
                       "no start and end (TQ1-7/8, SCH-11, or a resource's start and duration): "
                       "a booked appointment needs both");
    return 0;
}
