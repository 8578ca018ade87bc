/*
 * hl7tree — a parsed message as a JSON tree, for `solent parse`.
 *
 * {"segments": [{"segment": "PID", "fields": {"3": [[...]]}}]}: fields are
 * keyed by number (empty ones left out); a field is an array of
 * repetitions, a repetition an array of components, a component a string,
 * null for the explicit null "", or an array of sub-components when it has
 * more than one. Values are decoded (escapes resolved) unless raw.
 */
#ifndef SOLENT_ENGINE_HL7TREE_H
#define SOLENT_ENGINE_HL7TREE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "parsers/hl7.h"
#include "parsers/strbuf.h"

/* Called for each value holding an escape sequence that could not be decoded. */
typedef void (*hl7tree_warn_cb)(void *arg, const struct hl7_loc *loc);

/* Builds the tree of m; the caller owns it (cJSON_Delete). */
cJSON *hl7tree_build(const struct hl7_msg *m, bool raw, hl7tree_warn_cb warn, void *arg);
/* Appends v decoded (or as it stands when raw) to out, NUL-terminated; problems counted. */
int hl7tree_text(const struct hl7_msg *m, struct hl7_view v, bool raw, struct strbuf *out);

#endif
