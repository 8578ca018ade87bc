/* msgview — a stored message as JSON for the admin API and `solent show` (msgview.h). */
#include "engine/msgview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/strbuf.h"

const char *msgview_time(int64_t ms, char *buf)
{
    if (ms <= 0) {
        buf[0] = '\0';
        return buf;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 32, "%s.%03dZ", day, (int)(ms % 1000));
    return buf;
}

/* A header field a sender wrote: printable ASCII (\xHH for the rest), so the JSON is valid
 * whatever bytes came in. */
static void add_field(cJSON *o, const char *key, const char *v)
{
    char out[4 * 256 + 1];
    cJSON_AddStringToObject(o, key, str_printable(v ? v : "", out, sizeof out));
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    char t[32];
    if (ms > 0)
        cJSON_AddStringToObject(o, key, msgview_time(ms, t));
    else
        cJSON_AddNullToObject(o, key);
}

/* Text of n bytes (a bundle, an ACK: JSON or HL7 text) as a JSON string. */
static void add_text(cJSON *o, const char *key, const char *p, size_t n)
{
    char *z = malloc(n + 1);
    if (!z)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    memcpy(z, p ? p : "", n);
    z[n] = '\0';
    cJSON_AddStringToObject(o, key, z);
    free(z);
}

/* Lines of text (one per line) as a JSON array of strings. */
static cJSON *lines(const char *text)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *p = text ? text : ""; *p;) {
        size_t n = strcspn(p, "\n");
        if (n) {
            char *z = malloc(n + 1);
            if (!z)
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
            memcpy(z, p, n);
            z[n] = '\0';
            cJSON_AddItemToArray(a, cJSON_CreateString(z));
            free(z);
        }
        p += n + (p[n] == '\n');
    }
    return a;
}

cJSON *msgview_row(const struct store_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    add_time(o, "received", r->received_at_ms);
    add_field(o, "listener", r->listener);
    add_field(o, "peer", r->peer);
    add_field(o, "sending_app", r->sending_app);
    add_field(o, "sending_facility", r->sending_facility);
    add_field(o, "message_type", r->message_type);
    add_field(o, "control_id", r->control_id);
    cJSON_AddStringToObject(o, "status", r->status);
    if (r->error_code) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddNumberToObject(e, "code", r->error_code);
        add_field(e, "position", r->error_location);
    } else {
        cJSON_AddNullToObject(o, "error");
    }
    add_field(o, "route", r->route);
    add_field(o, "engine", r->engine);
    cJSON_AddNumberToObject(o, "bytes", (double)r->raw_len);
    cJSON_AddNumberToObject(o, "outbox_rows", (double)r->noutbox);
    cJSON_AddNumberToObject(o, "warnings", r->warnings);
    cJSON_AddNumberToObject(o, "unmapped", r->unmapped);
    return o;
}

struct found {
    cJSON *row;
    char *ack;
    size_t ack_len;
};

static void on_row(void *arg, const struct store_row *r)
{
    struct found *f = arg;
    f->row = msgview_row(r);
    if (r->ack && (f->ack = malloc(r->ack_len + 1))) {
        memcpy(f->ack, r->ack, r->ack_len);
        f->ack_len = r->ack_len;
    }
}

static void on_delivery(void *arg, const struct store_delivery *d)
{
    cJSON *list = arg, *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "outbox_id", (double)d->id);
    add_field(o, "destination", d->destination);
    cJSON_AddStringToObject(o, "status", d->status);
    cJSON_AddNumberToObject(o, "attempts", d->attempts);
    add_time(o, "queued", d->created_at_ms);
    add_time(o, "delivered", d->delivered_at_ms);
    add_time(o, "next_attempt", strcmp(d->status, "retry") == 0 ? d->next_attempt_ms : 0);
    add_time(o, "replayed", d->replayed_at_ms);
    if (d->last_http_status)
        cJSON_AddNumberToObject(o, "last_http_status", d->last_http_status);
    else
        cJSON_AddNullToObject(o, "last_http_status");
    add_field(o, "last_error", d->last_error);
    cJSON_AddItemToObject(o, "server_ids", lines(d->locations));
    cJSON *h = cJSON_AddArrayToObject(o, "history");
    for (size_t i = 0; i < d->nhistory; i++) {
        const struct store_attempt *t = &d->history[i];
        cJSON *a = cJSON_CreateObject();
        add_time(a, "at", t->at_ms);
        cJSON_AddStringToObject(a, "outcome", t->outcome);
        if (t->http_status)
            cJSON_AddNumberToObject(a, "http_status", t->http_status);
        else
            cJSON_AddNullToObject(a, "http_status");
        add_field(a, "error", t->error);
        cJSON_AddItemToObject(a, "server_ids", lines(t->locations));
        add_field(a, "engine", t->engine);
        cJSON_AddItemToArray(h, a);
    }
    if (d->bundle) {
        cJSON *b = cJSON_ParseWithLength(d->bundle, d->bundle_len);
        if (b)
            cJSON_AddItemToObject(o, "bundle", b);
        else
            add_text(o, "bundle", d->bundle, d->bundle_len);
    }
    if (d->response) {
        cJSON *b = cJSON_ParseWithLength(d->response, d->response_len);
        if (b)
            cJSON_AddItemToObject(o, "response", b);
        else
            add_text(o, "response", d->response, d->response_len);
    }
    cJSON_AddItemToArray(list, o);
}

int msgview_message(struct store *s, int64_t id, bool content, cJSON **out)
{
    *out = NULL;
    struct found f = {0};
    struct store_filter flt = {.id = id, .limit = 1};
    if (store_list(s, &flt, on_row, &f) != 0)
        return -1;
    if (!f.row)
        return 0;
    cJSON *o = f.row;
    add_text(o, "ack", f.ack, f.ack_len); /* MSH and MSA, and ERR's positions: no patient data */
    free(f.ack);
    struct strbuf ledger;
    strbuf_init(&ledger, (size_t)1 << 26);
    int rc = store_ledger(s, id, &ledger) == 1 ? 0 : -1;
    strbuf_append(&ledger, "", 0);
    cJSON_AddItemToObject(o, "ledger", lines(ledger.p));
    strbuf_cleanup(&ledger);
    cJSON *deliveries = cJSON_AddArrayToObject(o, "deliveries");
    if (rc == 0 && store_deliveries(s, id, content, on_delivery, deliveries) != 0)
        rc = -1;
    if (rc == 0 && content) {
        struct strbuf raw;
        char listener[64];
        int64_t at;
        strbuf_init(&raw, (size_t)1 << 30);
        if (store_message_get(s, id, &raw, listener, sizeof listener, &at) == 1)
            add_text(o, "raw", raw.p, raw.len);
        else
            rc = -1;
        strbuf_cleanup(&raw);
    }
    if (rc != 0) {
        cJSON_Delete(o);
        return -1;
    }
    *out = o;
    return 1;
}

int msgview_audit(struct store *s, const char *who, const char *via, int64_t id, const char *what,
                  char *err, size_t errlen)
{
    struct store_audit a = {
        .at_ms = store_now_ms(), .who = who, .via = via, .what = what, .message_id = id};
    return store_audit_add(s, &a, err, errlen);
}

cJSON *msgview_audit_entry(const struct store_audit *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    add_time(o, "at", a->at_ms);
    add_field(o, "who", a->who);
    cJSON_AddStringToObject(o, "via", a->via);
    cJSON_AddNumberToObject(o, "message_id", (double)a->message_id);
    cJSON_AddStringToObject(o, "what", a->what);
    return o;
}

static void change(cJSON *out, const char *path, const char *kind, const cJSON *before,
                   const cJSON *after)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "path", path[0] ? path : "/");
    cJSON_AddStringToObject(c, "change", kind);
    if (before)
        cJSON_AddItemToObject(c, "before", cJSON_Duplicate(before, 1));
    if (after)
        cJSON_AddItemToObject(c, "after", cJSON_Duplicate(after, 1));
    cJSON_AddItemToArray(out, c);
}

/* JSON Pointer escaping of one key (~ and /). */
static void child_path(char *out, size_t n, const char *path, const char *key)
{
    size_t used = (size_t)snprintf(out, n, "%s/", path);
    for (const char *k = key; *k && used + 3 < n; k++) {
        if (*k == '~' || *k == '/') {
            out[used++] = '~';
            out[used++] = *k == '~' ? '0' : '1';
        } else {
            out[used++] = *k;
        }
    }
    out[used < n ? used : n - 1] = '\0';
}

static void diff_into(cJSON *out, const char *path, const cJSON *a, const cJSON *b)
{
    char sub[1024];
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        for (const cJSON *x = a->child; x; x = x->next) {
            child_path(sub, sizeof sub, path, x->string);
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (y)
                diff_into(out, sub, x, y);
            else
                change(out, sub, "removed", x, NULL);
        }
        for (const cJSON *y = b->child; y; y = y->next)
            if (!cJSON_GetObjectItemCaseSensitive(a, y->string)) {
                child_path(sub, sizeof sub, path, y->string);
                change(out, sub, "added", NULL, y);
            }
        return;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *x = a->child, *y = b->child;
        for (int i = 0; x || y; i++) {
            snprintf(sub, sizeof sub, "%s/%d", path, i);
            if (x && y)
                diff_into(out, sub, x, y);
            else
                change(out, sub, x ? "removed" : "added", x, y);
            x = x ? x->next : NULL;
            y = y ? y->next : NULL;
        }
        return;
    }
    if (!cJSON_Compare(a, b, 1))
        change(out, path, "changed", a, b);
}

cJSON *msgview_diff(const cJSON *before, const cJSON *after)
{
    cJSON *out = cJSON_CreateArray();
    diff_into(out, "", before, after);
    return out;
}
