/*
 * hl7_ack — building the acknowledgement for an inbound message.
 *
 * The ACK uses the inbound message's delimiters, swaps sender and receiver
 * (MSH-3/4 <-> MSH-5/6), echoes MSH-11 and MSH-12, sets MSA-2 to the
 * inbound MSH-10 and, when given an error, adds an ERR segment with the
 * HL7 table 0357 code, severity and location (ERR-2/3/4 from v2.5 on,
 * ERR-1 before). Works without an inbound header too (an unparseable frame
 * still gets an AR). No I/O: the engine sends the bytes.
 */
#ifndef SOLENT_PARSERS_HL7_ACK_H
#define SOLENT_PARSERS_HL7_ACK_H

#include "parsers/hl7.h"
#include "parsers/strbuf.h"

struct hl7_ack {
    const char *code;          /* MSA-1: AA AE AR (original) or CA CE CR (enhanced) */
    const char *control_id;    /* MSH-10 of the ACK itself: unique per ACK */
    const char *timestamp;     /* MSH-7 of the ACK, e.g. 20261129083400+0000 */
    const char *text;          /* optional MSA-3 / ERR-8 text; never patient data */
    const struct hl7_err *err; /* optional: adds an ERR segment */
    char severity;             /* ERR-4: 'E', 'W' or 'I'; 0 means 'E' */
};

/* Appends the ACK for in (NULL or headerless: a generic header) to out; -1 on cap. */
int hl7_ack_build(const struct hl7_msg *in, const struct hl7_ack *a, struct strbuf *out);
/* The batch acknowledgement for a batch (in: the frame's bytes, FHS/BHS ... BTS/FTS): the
 * envelope the batch came in — FHS when it had one, BHS — answering its header (sender and
 * receiver swapped, FHS-12/BHS-12 its control id), then acks (the ACK messages of the
 * messages not accepted, nacks of them, in order; HL7 v2 2.10.3), BTS with that count and a
 * comment naming how many were sent, FTS. control_id and timestamp as for hl7_ack. */
int hl7_batch_ack_build(const char *in, size_t len, size_t messages, const char *acks,
                        size_t acks_len, size_t nacks, const char *control_id,
                        const char *timestamp, struct strbuf *out);
/* The table 0357 description of code ("Data type error"...). */
const char *hl7_code_text(enum hl7_code code);

#endif
