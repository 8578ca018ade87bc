/*
 * pipeline — what happens to one MLLP frame before it is committed: parse,
 * route, transform, and the record to store plus the ACK to send once it is
 * durable. No I/O: the daemon commits the record (intake) and sends the ACK.
 *
 * ACK codes follow DESIGN section 3: original mode (MSH-15/16 empty) AA, AE
 * (parsed but not processable: transform error, stored as error) or AR
 * (structurally unacceptable or unroutable: stored as rejected); enhanced mode
 * (MSH-15 AL/ER/SU/NE) the commit ACK CA/CE/CR, or none for NE (and for ER/SU
 * when the outcome is not an error/success respectively).
 */
#ifndef SOLENT_ENGINE_PIPELINE_H
#define SOLENT_ENGINE_PIPELINE_H

#include <stdbool.h>

#include "engine/conf.h"
#include "engine/router.h"
#include "engine/store.h"
#include "parsers/strbuf.h"

enum pipeline_outcome { PIPELINE_ACCEPT, PIPELINE_ERROR, PIPELINE_REJECT };

/* The ACK code for an outcome under the message's MSH-15 (NULL: send no ACK). */
const char *pipeline_ack_code(const struct hl7_msg *m, enum pipeline_outcome o);

/* Everything one frame produced. Owns its buffers; reuse with pipeline_reset. */
struct pipeline_result {
    struct store_message record; /* points into this result and the frame */
    struct store_outbox outbox[CONF_MAX_LIST];
    struct strbuf bundle, ack, keys; /* bundle JSON, ACK bytes, ordering keys */
    struct strbuf ledger;            /* what the transform did not use (xf_ledger) */
    char route[CONF_NAME];           /* the route taken, "" when none */
    char sending_app[CONF_NAME], sending_facility[CONF_NAME], control_id[CONF_NAME];
    char message_type[32], error_location[64];
    bool send_ack;
    struct hl7_msg msg;
};

void pipeline_result_init(struct pipeline_result *r);
void pipeline_result_cleanup(struct pipeline_result *r);

/* The context a frame is processed in: the config, its router, the listener. */
struct pipeline_ctx {
    const struct conf *conf; /* its router routes the frame */
    const struct conf_listener *listener;
    int64_t now_ms;       /* received time */
    const char *ack_id;   /* MSH-10 of the ACK: unique per ACK */
    const char *ack_time; /* MSH-7 of the ACK */
    const char *peer;     /* the sender's [peer] name, NULL when no [peer] names it */
    const char *who;      /* what the store records as the sender: peer, identity or address */
};

/* Processes one frame into r: always yields a record to store (rejected frames too). */
void pipeline_process(const struct pipeline_ctx *ctx, const char *frame, size_t len,
                      struct pipeline_result *r);

#endif
