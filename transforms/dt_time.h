/*
 * dt_time — HL7 DTM/TS/DT/TM to FHIR date, dateTime, instant and time.
 *
 * Precision is kept as far as FHIR allows (a dateTime with a time needs
 * seconds: HHMM becomes HH:MM:00). The message's own offset is kept; a time
 * without one takes the site time zone's offset for that date (daylight
 * saving applied) — from the zone the configuration resolved (xf_config.zone, dt_zone.h),
 * never from the process's TZ.
 * An invalid date is a warning at the field's position, never a guess.
 */
#ifndef SOLENT_TRANSFORMS_DT_TIME_H
#define SOLENT_TRANSFORMS_DT_TIME_H

#include "transforms/xf.h"

enum dt_kind {
    DT_DATE,     /* YYYY[-MM[-DD]] */
    DT_DATETIME, /* a date, or a date and time with offset */
    DT_INSTANT,  /* always a full time with offset */
    DT_TIME,     /* hh:mm:ss (from TM) */
};

#define DT_MAX 40

/* Writes v (first component: TS = DTM^precision) as kind into out.
 * 0: written; 1: v empty; -1: invalid (a warning was recorded). */
int dt_format(struct xf_ctx *x, struct hl7_view v, enum dt_kind kind, char out[DT_MAX]);
/* Writes the dateTime minutes after v (a DTM with at least the hour) into out, in v's offset
 * or the site's offset at that instant; 0, or -1 when v is no such time (not warned). */
int dt_format_after(struct xf_ctx *x, struct hl7_view v, long minutes, char out[DT_MAX]);
/* Adds v as member name of obj when valid; returns 1 when added. */
int dt_add(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view v, enum dt_kind kind);
/* Adds {start, end} as member name of obj when either end is valid; returns 1 if added. */
int dt_add_period(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view start,
                  struct hl7_view end, enum dt_kind kind);

#endif
