/*
 * msg_adt — ADT messages to a transaction Bundle, events as state changes:
 * A01/A02/A06/A07 in progress, A03 finished with period.end, A04/A05 planned,
 * A11 cancelled, A12 back to the location before the transfer, A13 no
 * longer finished, A08/A31 state read from the visit's own dates, A28/A31
 * person only, A40 merges (Patient.link replaces / replaced-by, the retired
 * record inactive) for each PID/MRG pair.
 */
#ifndef SOLENT_TRANSFORMS_MSG_ADT_H
#define SOLENT_TRANSFORMS_MSG_ADT_H

#include "parsers/hl7_msgtype.h"
#include "transforms/xf.h"

/* Builds the entries of an ADT message into x; -1 with x->error on a required element. */
int msg_adt_build(struct xf_ctx *x, const struct hl7_msgtype *t);

#endif
