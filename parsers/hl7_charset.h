/*
 * hl7_charset — the character sets of MSH-18 and their conversion to UTF-8.
 *
 * Supported: ASCII / ISO IR6 / UNICODE UTF-8 (validated, not converted),
 * 8859/1 to 8859/15 (no 8859/12 exists), and Windows-1252 (converted with
 * iconv).
 * Multi-byte sets whose bytes can collide with the delimiters (ISO IR87,
 * GB 18030, BIG-5, UTF-16...) are refused: they cannot be split safely.
 */
#ifndef SOLENT_PARSERS_HL7_CHARSET_H
#define SOLENT_PARSERS_HL7_CHARSET_H

#include <stddef.h>

#include "parsers/hl7.h"
#include "parsers/strbuf.h"

/* Maps an MSH-18 value (or a config name) to a charset; -1 if unsupported. */
int hl7_charset_from_name(const char *p, size_t n, enum hl7_charset *cs);
/* The canonical MSH-18 name of cs ("UNICODE UTF-8", "8859/1", ...). */
const char *hl7_charset_name(enum hl7_charset cs);
/* Offset of the first byte that is not valid UTF-8, or n when all are. */
size_t hl7_utf8_check(const char *p, size_t n);
/* True when p holds a byte >= 0x80. */
int hl7_has_high_bytes(const char *p, size_t n);
/* Appends p converted from cs to UTF-8; -1 with *bad = first bad offset. */
int hl7_charset_to_utf8(enum hl7_charset cs, const char *p, size_t n, struct strbuf *out,
                        size_t *bad);

#endif
