/*
 * msg_prt — PRT, the participation segment (v2.7 on): who or what took part, attached to what
 * the segment before it made, as the IG's PRT maps and message maps say. After PID/PD1 the
 * patient's general practitioner; after PV1/PV2 a participant in the visit; after an order's
 * ORC/OBR/TQ1/RXO/RXR its requester (ordering provider, OP) or a performer; after an OBX a
 * performer of that observation, or its device. The participant is contained in that
 * resource: a PractitionerRole of a Practitioner (PRT-5 with PRT-14/15), a Device (PRT-10,
 * PRT-16..21) or an Organization (PRT-8, PRT-7).
 */
#ifndef SOLENT_TRANSFORMS_MSG_PRT_H
#define SOLENT_TRANSFORMS_MSG_PRT_H

#include "transforms/xf_struct.h"

/* The rule handler for PRT in any structure. */
int msg_prt_add(struct xf_walk *w, const struct hl7_seg *prt);
/* The PRTs strictly between from (an ORC) and to (its OBR), as participants of the order res
 * made at to: the order opens at its OBR, after them. */
void msg_prt_order(struct xf_walk *w, const struct hl7_seg *from, const struct hl7_seg *to,
                   cJSON *res);

#endif
