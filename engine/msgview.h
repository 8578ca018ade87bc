/*
 * msgview — one stored message as the console shows it, in JSON: what the admin API answers
 * (GET /api/messages, /api/messages/{id}) and `solent show` prints, built once for both.
 *
 * Metadata only unless content is asked for: the message's header fields (sender, type,
 * control id: made printable), its status and error position, the route it took, the ACK it
 * was answered with, the transform's ledger (positions, no values), and each outbox row
 * with every delivery attempt (time, outcome, HTTP status, Solent's reason, the server's
 * ids). Content — the raw message, each bundle, each server's last answer — is added only by
 * msgview_message(..., content = true), and the caller writes the audit first
 * (msgview_audit).
 */
#ifndef SOLENT_ENGINE_MSGVIEW_H
#define SOLENT_ENGINE_MSGVIEW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/store.h"

/* A listing's row as a JSON object (the caller's). */
cJSON *msgview_row(const struct store_row *r);

/* Message id in full into *out (the caller's): 1, 0 when there is no such message, -1 when
 * the store cannot be read. */
int msgview_message(struct store *s, int64_t id, bool content, cJSON **out);

/* Writes to the audit that who (via api or cli) read what of message id, before it is
 * handed out; -1 with a reason. */
int msgview_audit(struct store *s, const char *who, const char *via, int64_t id, const char *what,
                  char *err, size_t errlen);

/* An audit entry as a JSON object (the caller's). */
cJSON *msgview_audit_entry(const struct store_audit *a);

/* The differences between two JSON documents (a bundle sent before and the one a replay
 * would send): an array of {"path", "change": added|removed|changed, "before", "after"},
 * empty when they are the same. Arrays are compared element by element. */
cJSON *msgview_diff(const cJSON *before, const cJSON *after);

/* ms since the epoch as 2026-12-05T10:00:00.000Z into buf (32 bytes); "" for 0. */
const char *msgview_time(int64_t ms, char *buf);

#endif
