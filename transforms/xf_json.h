/*
 * xf_json — compact JSON text of a cJSON tree, written straight into a
 * strbuf: the same bytes cJSON_PrintUnformatted gives for the trees Solent
 * builds (strings, literals, raw decimals, small integers), several times
 * faster, with no intermediate allocations.
 */
#ifndef SOLENT_TRANSFORMS_XF_JSON_H
#define SOLENT_TRANSFORMS_XF_JSON_H

#include <cjson/cJSON.h>

#include "parsers/strbuf.h"

/* Appends item as compact JSON to out; -1 when out's cap would be exceeded. */
int xf_json_write(const cJSON *item, struct strbuf *out);

#endif
