/*
 * msg_siu — SIU^S12–S17 and S26 (scheduling: a new appointment, rescheduled, modified,
 * cancelled, discontinued, deleted, no-show) to a transaction Bundle: the Patient (and the
 * visit), and the Appointment (seg_sch) with the patient and every resource booked as its
 * participants, the notes on it (SCH's and the service's NTE) as its comment, the
 * diagnoses (DG1) as reasonReference and observations (OBX) as supportingInformation —
 * keyed by the filler's appointment id (SCH-2), so each later message of the appointment
 * updates the same Appointment, as the IG's SIU_S12 map says.
 */
#ifndef SOLENT_TRANSFORMS_MSG_SIU_H
#define SOLENT_TRANSFORMS_MSG_SIU_H

#include "transforms/xf_struct.h"

extern const struct xf_structure msg_siu_s12;

#endif
