/* pipeline — one frame to a record to store and the ACK to send once it is durable. */
#include "engine/pipeline.h"

#include <stdio.h>
#include <string.h>

#include "engine/peers.h"
#include "parsers/hl7_ack.h"
#include "parsers/hl7_charset.h"
#include "parsers/hl7_msgtype.h"
#include "transforms/fhir_id.h"
#include "transforms/transform.h"
#include "transforms/xf_json.h"

const char *pipeline_ack_code(const struct hl7_msg *m, enum pipeline_outcome o)
{
    static const char *const original[] = {"AA", "AE", "AR"}, *const enhanced[] = {"CA", "CE",
                                                                                   "CR"};
    struct hl7_view mode = {NULL, 0};
    if (m && m->has_header)
        mode = hl7_piece(hl7_field(m, &m->segs[0], 15), m->enc.comp, 1);
    if (!mode.p || mode.len == 0)
        return original[o];
    if (mode.len == 2 && memcmp(mode.p, "NE", 2) == 0)
        return NULL;
    if (mode.len == 2 && memcmp(mode.p, "ER", 2) == 0 && o == PIPELINE_ACCEPT)
        return NULL; /* error/reject conditions only */
    if (mode.len == 2 && memcmp(mode.p, "SU", 2) == 0 && o != PIPELINE_ACCEPT)
        return NULL; /* successful completion only */
    return enhanced[o];
}

void pipeline_result_init(struct pipeline_result *r)
{
    memset(r, 0, sizeof *r);
    hl7_msg_init(&r->msg);
    strbuf_init(&r->bundle, (size_t)1 << 30);
    strbuf_init(&r->ack, 1 << 16);
    strbuf_init(&r->keys, 1 << 16);
    strbuf_init(&r->ledger, (size_t)1 << 24);
}

void pipeline_result_cleanup(struct pipeline_result *r)
{
    hl7_msg_cleanup(&r->msg);
    strbuf_cleanup(&r->bundle);
    strbuf_cleanup(&r->ack);
    strbuf_cleanup(&r->keys);
    strbuf_cleanup(&r->ledger);
}

/* Copies component 1 (or the whole field when comp is 0) of MSH-n into dst. */
static void msh_text(const struct hl7_msg *m, uint32_t n, uint32_t comp, char *dst, size_t len)
{
    struct hl7_view v = hl7_piece(hl7_field(m, &m->segs[0], n), m->enc.rep, 1);
    if (comp)
        v = hl7_piece(v, m->enc.comp, comp);
    snprintf(dst, len, "%.*s", v.p ? (int)v.len : 0, v.p ? v.p : "");
}

static void read_header(struct pipeline_result *r)
{
    const struct hl7_msg *m = &r->msg;
    if (!m->has_header)
        return;
    struct hl7_msgtype t;
    struct hl7_err ignored;
    msh_text(m, 3, 1, r->sending_app, sizeof r->sending_app);
    msh_text(m, 4, 1, r->sending_facility, sizeof r->sending_facility);
    msh_text(m, 10, 0, r->control_id, sizeof r->control_id);
    if (hl7_msgtype_read(m, &t, &ignored) == 0)
        snprintf(r->message_type, sizeof r->message_type, "%s^%s", t.code, t.trigger);
}

static void set_error(struct pipeline_result *r, int code, const struct hl7_loc *loc)
{
    r->record.error_code = code;
    hl7_loc_format(loc, r->error_location, sizeof r->error_location);
}

/* The transform and the outbox rows: one bundle text shared by every destination. */
static enum pipeline_outcome transform(const struct pipeline_ctx *ctx, const struct conf_route *cr,
                                       struct pipeline_result *r, struct hl7_err *err)
{
    struct xf_config cfg = conf_xf_route(ctx->conf, cr);
    struct xf_ctx x;
    cJSON *bundle;
    xf_init(&x, &r->msg, &cfg);
    snprintf(r->route, sizeof r->route, "%s", cr->id.name);
    int rc = transform_run(&x, &bundle);
    xf_ledger(&x, rc == 0, &r->ledger, &r->record.warnings, &r->record.unmapped);
    r->record.ledger = r->ledger.p, r->record.ledger_len = r->ledger.len;
    if (rc != 0) {
        memset(err, 0, sizeof *err);
        err->code = (enum hl7_code)x.error.code;
        err->loc = x.error.loc;
        snprintf(err->text, sizeof err->text, "%s", x.error.text);
        xf_cleanup(&x);
        return PIPELINE_ERROR;
    }
    xf_json_write(bundle, &r->bundle);
    size_t entries = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(bundle, "entry"));
    size_t offsets[CONF_MAX_LIST];
    for (size_t i = 0; i < cr->destinations.n; i++) { /* ordering key: destination + patient */
        offsets[i] = r->keys.len;
        strbuf_puts(&r->keys, cr->destinations.v[i]);
        strbuf_putc(&r->keys, '|');
        strbuf_puts(&r->keys, x.patient_key);
        strbuf_append(&r->keys, "", 1); /* keep the NUL between keys */
    }
    xf_cleanup(&x);
    for (size_t i = 0; i < cr->destinations.n; i++)
        r->outbox[i] = (struct store_outbox){cr->destinations.v[i], r->keys.p + offsets[i],
                                             r->bundle.p, r->bundle.len, entries};
    r->record.outbox = r->outbox;
    r->record.noutbox = cr->destinations.n;
    return PIPELINE_ACCEPT;
}

/* Parsed: route it, then transform it (or park or reject it by the table's policy). */
static enum pipeline_outcome route_and_transform(const struct pipeline_ctx *ctx,
                                                 struct pipeline_result *r, struct hl7_err *err)
{
    const struct router *router = &ctx->conf->router;
    const struct route_rule *rule =
        route_match(router->rules, router->n, ctx->listener->id.name, &r->msg);
    const struct conf_route *cr = rule ? router_route(router, rule) : NULL;
    if (cr && !peers_allow(&cr->peers, ctx->peer)) { /* the route is not this sender's */
        memset(err, 0, sizeof *err);
        err->code = HL7_E_INTERNAL;
        err->loc = (struct hl7_loc){"MSH", 1, 3, 0, 0, 0};
        snprintf(err->text, sizeof err->text, "the sender may not send on route %s", cr->id.name);
        snprintf(r->route, sizeof r->route, "%s", cr->id.name);
        return PIPELINE_REJECT;
    }
    if (cr)
        return transform(ctx, cr, r, err);
    if (strcmp(ctx->conf->engine.on_no_match, "park") == 0) {
        r->record.status = STORE_PARKED;
        return PIPELINE_ACCEPT;
    }
    memset(err, 0, sizeof *err);
    err->code = (enum hl7_code)router_no_match_code(router, ctx->listener->id.name, &r->msg);
    err->loc = (struct hl7_loc){"MSH", 1, 9, 0, 0, 0};
    snprintf(err->text, sizeof err->text, "no route takes this message");
    return PIPELINE_REJECT;
}

void pipeline_process(const struct pipeline_ctx *ctx, const char *frame, size_t len,
                      struct pipeline_result *r)
{
    struct hl7_opts o = hl7_opts_default();
    struct hl7_err err;
    strbuf_reset(&r->bundle), strbuf_reset(&r->ack), strbuf_reset(&r->keys);
    strbuf_reset(&r->ledger);
    r->route[0] = '\0';
    r->sending_app[0] = r->sending_facility[0] = r->control_id[0] = '\0';
    r->message_type[0] = r->error_location[0] = '\0';
    memset(&r->record, 0, sizeof r->record);
    o.limits.max_size = ctx->listener->max_message;
    o.limits.max_segments = ctx->conf->engine.max_segments;
    o.limits.max_fields = ctx->conf->engine.max_fields;
    hl7_charset_from_name(ctx->listener->charset, strlen(ctx->listener->charset), &o.fallback);
    enum pipeline_outcome outcome = PIPELINE_REJECT;
    r->record.status = STORE_ACCEPTED;
    if (hl7_msg_parse(&r->msg, frame, len, &o, &err) == 0)
        outcome = route_and_transform(ctx, r, &err);
    read_header(r);
    if (outcome != PIPELINE_ACCEPT) {
        r->record.status = outcome == PIPELINE_ERROR ? STORE_ERROR : STORE_REJECTED;
        set_error(r, err.code, &err.loc);
    }
    const char *code = pipeline_ack_code(r->msg.has_header ? &r->msg : NULL, outcome);
    r->send_ack = code != NULL;
    if (code) {
        struct hl7_ack a = {
            code, ctx->ack_id, ctx->ack_time, NULL, outcome == PIPELINE_ACCEPT ? NULL : &err, 0};
        hl7_ack_build(r->msg.has_header ? &r->msg : NULL, &a, &r->ack);
    }
    struct store_message *m = &r->record;
    m->received_at_ms = ctx->now_ms;
    m->listener = ctx->listener->id.name;
    m->peer = ctx->who ? ctx->who : "";
    m->sending_app = r->sending_app, m->sending_facility = r->sending_facility;
    m->control_id = r->control_id, m->message_type = r->message_type;
    m->error_location = r->error_location;
    m->route = r->route;
    m->raw = frame, m->raw_len = len;
    m->ack = r->ack.p, m->ack_len = r->ack.len;
    _Static_assert(STORE_HASH_LEN == FHIR_SHA256_LEN, "the content hash is a SHA-256");
    fhir_id_sha256(frame, len, m->hash);
}
