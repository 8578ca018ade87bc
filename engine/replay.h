/*
 * replay — a stored message processed again under the configuration in force and its bundles
 * queued anew (or, dry, only shown), for `solent replay` and the admin API's replay.
 *
 * The raw bytes are re-processed under c (routes, identifier systems, code maps) with the
 * listener they came in on (its defaults when it is gone), at their first receive time; the
 * bundles go to the end of their patients' queues. only_dest limits them to one destination
 * (a dead letter's, which replaced_id names and which is marked replayed). A message that
 * had failed (AE) or was parked becomes accepted once it transforms.
 */
#ifndef SOLENT_ENGINE_REPLAY_H
#define SOLENT_ENGINE_REPLAY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/conf.h"
#include "engine/store.h"

/* What one replay did or would do: the bundles (queued, or shown when dry), each with its
 * destination; when dry and diff, each bundle's differences from the last one sent to that
 * destination for this message (msgview_diff), or null when none was. */
struct replay_out {
    size_t n;
    char destination[CONF_MAX_LIST][CONF_NAME];
    char *bundle[CONF_MAX_LIST]; /* dry only: the bundle's JSON (freed by replay_out_free) */
    cJSON *diff[CONF_MAX_LIST];  /* dry and diff only */
};
void replay_out_free(struct replay_out *o);

/* Replays message id; 0 with *out filled, -1 with why (no such message, it does not transform
 * now, no route sends it there now, the store failed). */
int replay_message(struct store *s, const struct conf *c, int64_t id, const char *only_dest,
                   int64_t replaced_id, bool dry, bool diff, int64_t now_ms, struct replay_out *out,
                   char *why, size_t whylen);

#endif
