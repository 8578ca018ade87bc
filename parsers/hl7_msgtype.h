/*
 * hl7_msgtype — message type, trigger event and message structure (MSH-9)
 * and version (MSH-12).
 *
 * When MSH-9.3 is empty, as versions before 2.3.1 leave it and many senders
 * still do, the structure comes from the standard trigger-to-structure table
 * (HL7 table 0354): ADT^A04, A08 and A13 use ADT_A01, A40 uses ADT_A39...
 */
#ifndef SOLENT_PARSERS_HL7_MSGTYPE_H
#define SOLENT_PARSERS_HL7_MSGTYPE_H

#include "parsers/hl7.h"

/* A message's type, as plain NUL-terminated text (escapes are not expected here). */
struct hl7_msgtype {
    char code[8];       /* MSH-9.1, e.g. ADT */
    char trigger[8];    /* MSH-9.2, e.g. A04 */
    char structure[12]; /* MSH-9.3, or from the table; "" when unknown */
    char version[12];   /* MSH-12.1, e.g. 2.5.1 */
};

/* Reads MSH-9 and MSH-12 into t; -1 with err when MSH-9.1 is missing or too long. */
int hl7_msgtype_read(const struct hl7_msg *m, struct hl7_msgtype *t, struct hl7_err *err);
/* The standard structure for code^trigger (ACK for any ACK), or NULL. */
const char *hl7_structure_for(const char *code, const char *trigger);
/* Compares version text such as "2.5.1" with major/minor: <0, 0, >0. */
int hl7_version_cmp(const char *version, int major, int minor);

#endif
