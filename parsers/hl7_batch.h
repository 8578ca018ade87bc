/*
 * hl7_batch — splitting a file or a stream of bytes into messages.
 *
 * Handles plain concatenated messages and the batch envelopes FHS/BHS ...
 * BTS/FTS. BTS-1 (messages in the batch) and FTS-1 (batches in the file)
 * are checked when present. The messages themselves are not parsed: each
 * one is handed out as an offset and length into the caller's bytes.
 */
#ifndef SOLENT_PARSERS_HL7_BATCH_H
#define SOLENT_PARSERS_HL7_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/hl7.h"

struct hl7_batch_msg {
    size_t off, len; /* into the bytes given to hl7_batch_split() */
};

struct hl7_batch {
    struct hl7_batch_msg *msgs; /* owned */
    size_t n, cap;
    uint32_t batches; /* BHS segments seen */
    bool file;        /* an FHS was seen */
};

/* Prepares an empty split. */
void hl7_batch_init(struct hl7_batch *b);
/* Frees what the split owns. */
void hl7_batch_cleanup(struct hl7_batch *b);
/* Appends one message (offset and length) to the split. */
void hl7_batch_push(struct hl7_batch *b, size_t off, size_t len);
/* Splits data into messages; 0, or -1 with err (counts wrong, stray segments, no MSH). */
int hl7_batch_split(struct hl7_batch *b, const char *data, size_t len, struct hl7_err *err);

#endif
