/*
 * hl7_escape — decoding and encoding of HL7v2 escape sequences.
 *
 * Decoding: \F\ \S\ \T\ \R\ \E\ \P\ become the delimiters they stand for;
 * \Xhh..\ becomes the bytes it names, read in the message's character set
 * and turned into UTF-8; formatting escapes become plain text (\.br\ and
 * \.sp\ a line break, \.sk n\ n spaces, the rest nothing); \H\ and \N\
 * (highlighting) are dropped. An unknown, malformed or unterminated escape
 * is kept as it stands and counted as a problem, never guessed at.
 *
 * Encoding does the reverse for building messages: delimiters become their
 * escapes, line breaks \.br\, other control bytes \Xhh\.
 */
#ifndef SOLENT_PARSERS_HL7_ESCAPE_H
#define SOLENT_PARSERS_HL7_ESCAPE_H

#include <stddef.h>

#include "parsers/hl7.h"
#include "parsers/strbuf.h"

/*
 * Appends v decoded to out. Returns the number of problems found (0 when
 * clean) and, when there were any, sets *first_bad to the offset in v of the
 * first one; -1 when out's cap would be exceeded.
 */
int hl7_unescape(const struct hl7_enc *e, struct hl7_view v, struct strbuf *out, size_t *first_bad);
/* Appends s escaped for e's delimiters; -1 when out's cap would be exceeded. */
int hl7_escape(const struct hl7_enc *e, const char *s, size_t n, struct strbuf *out);

#endif
