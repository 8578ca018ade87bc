/*
 * seg_sch — SCH (with its TQ1) and the resources it books (AIS, AIG, AIL, AIP) to an
 * Appointment, as the IG's SCH[Appointment], TQ[Appointment], AIS/AIG/AIL/AIP[Appointment]
 * maps say: placer and filler appointment ids (SCH-1/2), reason and type (SCH-7/8), the
 * duration (SCH-9/10), start and end (TQ1-7/8, else SCH-11; an end from the start and the
 * duration when only the start is given), the orders it fulfils (SCH-26/27) as basedOn,
 * its status from the trigger and SCH-25; each resource segment a participant with its
 * period and status, the service (AIS-3) a serviceType.
 */
#ifndef SOLENT_TRANSFORMS_SEG_SCH_H
#define SOLENT_TRANSFORMS_SEG_SCH_H

#include "transforms/xf_bundle.h"

/* Maps sch and tq1 (may be NULL) into a new Appointment in *out for trigger (S12...); its
 * key (a seed: the filler's id, else the placer's) in key, its conditional identifier in
 * *ident. 0, or -1 with x->error (SCH-1 and SCH-2 both empty). */
int seg_sch_map(struct xf_ctx *x, const struct hl7_seg *sch, const struct hl7_seg *tq1,
                const char *trigger, cJSON **out, const cJSON **ident, char key[256]);

/* Adds the participant an AIS, AIG, AIL or AIP segment books (AIS: the service, as
 * serviceType) to appt. */
void seg_sch_resource(struct xf_ctx *x, const struct hl7_seg *s, cJSON *appt);

/* After every resource: the start and end from the first resource with a time when SCH and
 * TQ1 gave none. 0, or -1 with x->error when an appointment that must have them has not
 * (FHIR app-3: only proposed, cancelled and waitlisted ones may lack them). */
int seg_sch_finish(struct xf_ctx *x, const struct hl7_seg *sch, cJSON *appt);

#endif
