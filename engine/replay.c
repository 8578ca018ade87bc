/* replay — a stored message re-processed and queued again (replay.h). */
#include "engine/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/msgview.h"
#include "engine/pipeline.h"

void replay_out_free(struct replay_out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->bundle[i]);
        cJSON_Delete(o->diff[i]);
    }
    memset(o, 0, sizeof *o);
}

/* The last bundle sent to each destination: the newest outbox row's for that destination. */
struct last_sent {
    const struct replay_out *out;
    cJSON *bundle[CONF_MAX_LIST];
};

static void on_sent(void *arg, const struct store_delivery *d)
{
    struct last_sent *l = arg;
    for (size_t i = 0; i < l->out->n; i++)
        if (strcmp(l->out->destination[i], d->destination) == 0 && d->bundle) {
            cJSON_Delete(l->bundle[i]); /* rows come oldest first: the last one stays */
            l->bundle[i] = cJSON_ParseWithLength(d->bundle, d->bundle_len);
        }
}

static int add_diffs(struct store *s, int64_t id, struct replay_out *out, char *why, size_t whylen)
{
    struct last_sent l = {.out = out};
    if (store_deliveries(s, id, true, on_sent, &l) != 0) {
        snprintf(why, whylen, "the bundles sent before cannot be read");
        return -1;
    }
    for (size_t i = 0; i < out->n; i++) {
        cJSON *now = cJSON_Parse(out->bundle[i]);
        out->diff[i] = l.bundle[i] && now ? msgview_diff(l.bundle[i], now) : cJSON_CreateNull();
        cJSON_Delete(now);
        cJSON_Delete(l.bundle[i]);
    }
    return 0;
}

int replay_message(struct store *s, const struct conf *c, int64_t id, const char *only_dest,
                   int64_t replaced_id, bool dry, bool diff, int64_t now_ms, struct replay_out *out,
                   char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    struct strbuf raw;
    char listener[CONF_NAME], err[256];
    int64_t received;
    strbuf_init(&raw, 64 << 20);
    int got = store_message_get(s, id, &raw, listener, sizeof listener, &received);
    if (got != 1) {
        snprintf(why, whylen, "%s", got == 0 ? "no such message" : "it cannot be read");
        strbuf_cleanup(&raw);
        return -1;
    }
    /* its listener's settings when it still exists, else the defaults under its name */
    struct conf_listener fallback = {.charset = "UNICODE UTF-8", .max_message = 64 << 20};
    const struct conf_listener *l = &fallback;
    snprintf(fallback.id.name, sizeof fallback.id.name, "%s", listener);
    for (size_t i = 0; i < c->nlisteners; i++)
        if (strcmp(c->listeners[i].id.name, listener) == 0)
            l = &c->listeners[i];
    struct pipeline_ctx ctx = {.conf = c,
                               .listener = l,
                               .now_ms = received,
                               .ack_id = "REPLAY",
                               .ack_time = "19700101000000+0000"};
    struct pipeline_result r;
    pipeline_result_init(&r);
    pipeline_process(&ctx, raw.p, raw.len, &r);
    struct store_outbox queued[CONF_MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < r.record.noutbox && n < CONF_MAX_LIST; i++)
        if (!only_dest || strcmp(r.record.outbox[i].destination, only_dest) == 0)
            queued[n++] = r.record.outbox[i];
    int rc = -1;
    if (r.record.status != STORE_ACCEPTED)
        snprintf(why, whylen, "it does not transform (HL7 error %d at %s)", r.record.error_code,
                 r.record.error_location && r.record.error_location[0] ? r.record.error_location
                                                                       : "-");
    else if (n == 0)
        snprintf(why, whylen, "no route sends it to %s now",
                 only_dest ? only_dest : "any destination");
    else if (!dry && store_enqueue(s, id, now_ms, queued, n, replaced_id, now_ms, err, sizeof err))
        snprintf(why, whylen, "%s", err);
    else
        rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(out->destination[i], sizeof out->destination[i], "%s", queued[i].destination);
        if (dry) {
            if (!(out->bundle[i] = malloc(queued[i].bundle_len + 1)))
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
            memcpy(out->bundle[i], queued[i].bundle, queued[i].bundle_len);
            out->bundle[i][queued[i].bundle_len] = '\0';
        }
        out->n = i + 1;
    }
    if (rc == 0 && dry && diff && add_diffs(s, id, out, why, whylen) != 0) {
        replay_out_free(out);
        rc = -1;
    }
    pipeline_result_cleanup(&r);
    strbuf_cleanup(&raw);
    return rc;
}
