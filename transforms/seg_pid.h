/*
 * seg_pid — PID (and PD1) to Patient, per the IG's PID[Patient] map.
 *
 * The Patient's key identifier is a valid NHS number when PID-3 has one,
 * else the first identifier whose system is known. An NHS number that fails
 * the modulus-11 check is a warning, keeps no NHS system and is never a key.
 */
#ifndef SOLENT_TRANSFORMS_SEG_PID_H
#define SOLENT_TRANSFORMS_SEG_PID_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_pid;
extern const struct xf_segmap seg_pd1;

/* Maps PID (and the PD1 after it, if any) to a Patient entry; sets x->patient_ref.
 * -1 when PID-3 yields no identifier (an error at PID-3). */
int seg_pid_patient(struct xf_ctx *x, const struct hl7_seg *pid, const struct hl7_seg *pd1,
                    cJSON **patient);

/* Adds PID-21 (mother's identifier) as a RelatedPerson of the Patient with the v3 role MTH,
 * and a Patient.link seealso to it, per the IG's CX[RelatedPerson-Mother] map. */
void seg_pid_mother(struct xf_ctx *x, const struct hl7_seg *pid, cJSON *patient);
/* PID-18 (patient account number): an Account of the Patient (IG PID[Account]). */
void seg_pid_account(struct xf_ctx *x, const struct hl7_seg *pid);

/* How well identifier id, made from CX repetition cx, would key the Patient (xf_key_rank). */
int seg_pid_key_rank(struct xf_ctx *x, const cJSON *id, struct hl7_view cx);

#endif
