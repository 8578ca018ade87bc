/* api — the console: the status page and the message API on the admin endpoint (api.h). */
#include "engine/api.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/admin.h"
#include "engine/cli_files.h"
#include "engine/conn.h"
#include "engine/daemon.h"
#include "engine/delivery.h"
#include "engine/intake.h"
#include "engine/log.h"
#include "engine/msgview.h"
#include "engine/replay.h"
#include "engine/store.h"

extern const char api_page_html[]; /* console.html, embedded at build time */
extern const unsigned long api_page_html_len;

enum kind { STATUS, LIST, SHOW, REPLAY, DEAD_REPLAY, RELOAD, ROUTES, AUDIT };

/* The path's kind and, for /api/messages/ID[/replay], the id; -1 when it is not the API's. */
static int parse_path(const char *path, long long *id)
{
    static const struct {
        const char *path;
        enum kind kind;
    } fixed[] = {
        {"/api/status", STATUS}, {"/api/messages", LIST}, {"/api/deadletters/replay", DEAD_REPLAY},
        {"/api/reload", RELOAD}, {"/api/routes", ROUTES}, {"/api/audit", AUDIT}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(path, fixed[i].path) == 0)
            return fixed[i].kind;
    static const char prefix[] = "/api/messages/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return -1;
    char *end;
    *id = strtoll(path + sizeof prefix - 1, &end, 10);
    if (*id <= 0 || end == path + sizeof prefix - 1)
        return -1;
    return !*end ? SHOW : strcmp(end, "/replay") == 0 ? REPLAY : -1;
}

unsigned api_scope(enum evhttp_cmd_type cmd, const char *path)
{
    if (strcmp(path, "/") == 0)
        return cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD ? API_PAGE : API_BAD_METHOD;
    long long id;
    int kind = parse_path(path, &id);
    if (kind < 0)
        return API_NOT_FOUND;
    bool post = kind == REPLAY || kind == DEAD_REPLAY || kind == RELOAD;
    if (post != (cmd == EVHTTP_REQ_POST) || (!post && cmd != EVHTTP_REQ_GET))
        return API_BAD_METHOD;
    return kind == RELOAD ? SCOPE_RELOAD : post ? SCOPE_REPLAY : SCOPE_READ;
}

/* ---- answers ---- */

static void send_body(struct evhttp_request *req, int code, const char *type, const char *body,
                      size_t len)
{
    static const struct {
        int code;
        const char *reason;
    } reasons[] = {{200, "OK"},
                   {202, "Accepted"},
                   {400, "Bad Request"},
                   {404, "Not Found"},
                   {422, "Unprocessable Content"},
                   {500, "Internal Server Error"},
                   {503, "Service Unavailable"}};
    const char *reason = "Error";
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code)
            reason = reasons[i].reason;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store"); /* what it shows may be patient data */
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    struct evbuffer *b = evbuffer_new();
    if (!b)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

/* Answers with o (taken) as JSON. */
static void send_json(struct evhttp_request *req, int code, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    if (!text)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    send_body(req, code, "application/json", text, strlen(text));
    free(text);
    cJSON_Delete(o);
}

static void send_error(struct evhttp_request *req, int code, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", why);
    send_json(req, code, o);
}

void api_page(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    /* self-contained: nothing loads from elsewhere, nothing runs but the page's own script */
    evhttp_add_header(h, "Content-Security-Policy",
                      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                      "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                      "form-action 'none'; frame-ancestors 'none'");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    send_body(req, 200, "text/html; charset=utf-8", api_page_html, api_page_html_len);
}

/* ---- jobs: what reads the store runs on the chores thread, then answers on the loop ---- */

struct job {
    struct daemon *d;
    struct evhttp_request *req; /* NULL once the client has gone */
    struct evhttp_connection *conn;
    enum kind kind;
    char who[CONF_NAME];
    int64_t id;
    int64_t replaces; /* a replay of one dead letter: its outbox id */
    bool content, dry;
    struct store_filter f;
    char text[6][CONF_TEXT]; /* the filter's strings */
    const struct conf *conf; /* held: a replay reads it off the loop */
    int code;
    cJSON *body;
};

static void on_gone(struct evhttp_connection *conn, void *arg)
{
    struct job *j = arg;
    (void)conn;
    j->req = NULL;
}

static void job_done(void *arg)
{
    struct job *j = arg;
    if (j->req) {
        evhttp_connection_set_closecb(j->conn, NULL, NULL);
        send_json(j->req, j->code, j->body);
        j->body = NULL;
    }
    cJSON_Delete(j->body);
    if (j->conf)
        daemon_conf_release(j->d, j->conf);
    free(j);
}

static void fail_job(struct job *j, int code, const char *why)
{
    cJSON_Delete(j->body);
    j->code = code;
    j->body = cJSON_CreateObject();
    cJSON_AddStringToObject(j->body, "error", why);
}

static void on_list_row(void *arg, const struct store_row *r)
{
    cJSON_AddItemToArray(arg, msgview_row(r));
}

static void on_audit(void *arg, const struct store_audit *a)
{
    cJSON_AddItemToArray(arg, msgview_audit_entry(a));
}

static void run_list(struct store *s, struct job *j)
{
    cJSON *rows = cJSON_CreateArray();
    if (store_list(s, &j->f, on_list_row, rows) != 0) {
        cJSON_Delete(rows);
        fail_job(j, 500, "the store cannot be read");
        return;
    }
    int n = cJSON_GetArraySize(rows);
    j->body = cJSON_CreateObject();
    cJSON_AddItemToObject(j->body, "messages", rows);
    if ((size_t)n == j->f.limit && n > 0) /* maybe more: the next page starts below the last */
        cJSON_AddNumberToObject(
            j->body, "next_cursor",
            cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, n - 1), "id")));
    else
        cJSON_AddNullToObject(j->body, "next_cursor");
}

/* Content is handed out only once its read is written to the audit. */
static bool audited(struct store *s, struct job *j, int64_t id, const char *what)
{
    char err[256];
    if (msgview_audit(s, j->who, "api", id, what, err, sizeof err) == 0)
        return true;
    log_error("audit_failed", "message_id=%lld error=%s", (long long)id, err);
    fail_job(j, 503, "the audit cannot be written, so no content is shown");
    return false;
}

static void run_show(struct store *s, struct job *j)
{
    int found = msgview_message(s, j->id, false, &j->body);
    if (found == 1 && j->content) {
        cJSON_Delete(j->body);
        j->body = NULL;
        if (!audited(s, j, j->id, "raw,bundles,responses"))
            return;
        found = msgview_message(s, j->id, true, &j->body);
    }
    if (found == 0)
        fail_job(j, 404, "no such message");
    else if (found < 0)
        fail_job(j, 500, "the store cannot be read");
}

/* One replay into arr: the outcome for message id (dry: its bundles and their diffs). */
static void replay_into(struct store *s, struct job *j, cJSON *arr, int64_t id, const char *dest,
                        int64_t replaced, int64_t now)
{
    struct replay_out out;
    char why[512];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "message_id", (double)id);
    if (replay_message(s, j->conf, id, dest, replaced, j->dry, j->dry, now, &out, why,
                       sizeof why) != 0) {
        cJSON_AddStringToObject(o, "not_replayed", why);
        cJSON_AddItemToArray(arr, o);
        return;
    }
    if (j->dry && !audited(s, j, id, "dry-run,diff")) { /* the bundles are patient data */
        replay_out_free(&out);
        cJSON_Delete(o);
        return;
    }
    cJSON *b = cJSON_AddArrayToObject(o, j->dry ? "would_send" : "queued");
    for (size_t i = 0; i < out.n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "destination", out.destination[i]);
        if (j->dry) {
            cJSON_AddItemToObject(x, "bundle", cJSON_Parse(out.bundle[i]));
            cJSON_AddItemToObject(x, "diff", out.diff[i]); /* null: nothing sent before */
            out.diff[i] = NULL;
        }
        cJSON_AddItemToArray(b, x);
    }
    replay_out_free(&out);
    cJSON_AddItemToArray(arr, o);
}

static void run_replay(struct store *s, struct job *j)
{
    int64_t now = store_now_ms();
    cJSON *arr = cJSON_CreateArray();
    if (j->kind == REPLAY && j->replaces) { /* a dead letter of this message, to its destination */
        struct store_dead *dead;
        size_t n;
        if (store_dead_list(s, NULL, 0, &dead, &n) != 0) {
            cJSON_Delete(arr);
            fail_job(j, 500, "the store cannot be read");
            return;
        }
        const struct store_dead *x = NULL;
        for (size_t i = 0; i < n && !x; i++)
            if (dead[i].outbox_id == j->replaces && dead[i].message_id == j->id)
                x = &dead[i];
        if (x)
            replay_into(s, j, arr, j->id, x->destination, x->outbox_id, now);
        free(dead);
        if (!x) {
            cJSON_Delete(arr);
            fail_job(j, 404, "no dead letter with that outbox id for this message");
            return;
        }
    } else if (j->kind == REPLAY) {
        replay_into(s, j, arr, j->id, NULL, 0, now);
    } else {
        struct store_dead *dead;
        size_t n;
        if (store_dead_list(s, j->f.listener, j->f.since_ms, &dead, &n) != 0) {
            cJSON_Delete(arr);
            fail_job(j, 500, "the store cannot be read");
            return;
        }
        for (size_t i = 0; i < n && j->code != 503; i++)
            replay_into(s, j, arr, dead[i].message_id, dead[i].destination, dead[i].outbox_id, now);
        free(dead);
    }
    if (j->code == 503) { /* the audit failed: nothing shown */
        cJSON_Delete(arr);
        return;
    }
    cJSON *first = cJSON_GetArrayItem(arr, 0);
    if (j->kind == REPLAY && cJSON_GetObjectItem(first, "not_replayed")) {
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(first, "not_replayed"));
        j->code = strcmp(why, "no such message") == 0 ? 404 : 422;
    }
    j->body = cJSON_CreateObject();
    cJSON_AddBoolToObject(j->body, "dry_run", j->dry);
    cJSON_AddItemToObject(j->body, "replays", arr);
}

static void on_queue(void *arg, const struct store_dest_status *d)
{
    cJSON *o = cJSON_CreateObject();
    char t[32];
    cJSON_AddNumberToObject(o, "pending", (double)d->pending);
    cJSON_AddNumberToObject(o, "in_flight", (double)d->in_flight);
    cJSON_AddNumberToObject(o, "retrying", (double)d->retrying);
    cJSON_AddNumberToObject(o, "dead_letters", (double)d->dead);
    cJSON_AddStringToObject(o, "oldest_pending", msgview_time(d->oldest_pending_ms, t));
    cJSON_AddItemToObject(arg, d->destination, o);
}

/* The status page's store part: queue gauges, dead letters, recent errors. */
static void run_status(struct store *s, struct job *j)
{
    cJSON *gauges = cJSON_CreateObject(), *errors = cJSON_CreateArray(),
          *dead = cJSON_CreateArray();
    struct store_filter e = {.status = "error", .limit = 20},
                        r = {.status = "rejected", .limit = 20};
    struct store_dead *d = NULL;
    size_t n = 0;
    if (store_delivery_status(s, store_now_ms(), on_queue, gauges) != 0 ||
        store_list(s, &e, on_list_row, errors) || store_list(s, &r, on_list_row, errors) ||
        store_dead_list(s, NULL, 0, &d, &n) != 0) {
        cJSON_Delete(gauges);
        cJSON_Delete(errors);
        cJSON_Delete(dead);
        free(d);
        fail_job(j, 500, "the store cannot be read");
        return;
    }
    for (size_t i = n > 50 ? n - 50 : 0; i < n; i++) { /* the newest 50 */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "outbox_id", (double)d[i].outbox_id);
        cJSON_AddNumberToObject(o, "message_id", (double)d[i].message_id);
        cJSON_AddStringToObject(o, "destination", d[i].destination);
        cJSON_AddNumberToObject(o, "http_status", d[i].http_status);
        cJSON_AddStringToObject(o, "reason", d[i].error);
        cJSON_AddItemToArray(dead, o);
    }
    free(d);
    j->body = cJSON_CreateObject();
    cJSON_AddItemToObject(j->body, "queues", gauges);
    cJSON_AddItemToObject(j->body, "recent_errors", errors);
    cJSON_AddItemToObject(j->body, "dead_letters", dead);
}

static void job_run(struct store *s, void *arg)
{
    struct job *j = arg;
    j->code = 200;
    switch (j->kind) {
    case LIST: run_list(s, j); break;
    case SHOW: run_show(s, j); break;
    case REPLAY:
    case DEAD_REPLAY: run_replay(s, j); break;
    case STATUS: run_status(s, j); break;
    case AUDIT: {
        cJSON *arr = cJSON_CreateArray();
        if (store_audit_list(s, j->f.since_ms, j->f.limit, on_audit, arr) != 0) {
            cJSON_Delete(arr);
            fail_job(j, 500, "the store cannot be read");
        } else {
            j->body = cJSON_CreateObject();
            cJSON_AddItemToObject(j->body, "audit", arr);
        }
        break;
    }
    default: fail_job(j, 500, "internal: not a store job");
    }
    daemon_call(j->d, job_done, j);
}

/* ---- on the loop: what needs no store ---- */

static void put_counts(void *arg, const struct delivery_counts *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->destination);
    cJSON_AddStringToObject(o, "kind", c->kind);
    cJSON_AddBoolToObject(o, "up", c->up);
    cJSON_AddNumberToObject(o, "in_flight", (double)c->in_flight);
    cJSON_AddNumberToObject(o, "delivered", (double)c->delivered);
    cJSON_AddNumberToObject(o, "retried", (double)c->retried);
    cJSON_AddNumberToObject(o, "dead", (double)c->dead);
    cJSON_AddItemToArray(arg, o);
}

static void put_conn(void *arg, const char *listener, const char *who)
{
    cJSON *listeners = arg;
    for (cJSON *l = listeners->child; l; l = l->next)
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(l, "name")), listener) == 0) {
            char out[4 * 256 + 1];
            cJSON_AddItemToArray(cJSON_GetObjectItem(l, "peers"),
                                 cJSON_CreateString(str_printable(who, out, sizeof out)));
        }
}

/* What the loop knows for the status page: the engine, its last reload, its listeners with
 * their peers and counts, its destinations' counts. */
static cJSON *loop_status(struct daemon *d)
{
    char t[32];
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "engine");
    cJSON_AddStringToObject(e, "name", d->conf->engine.name);
    cJSON_AddStringToObject(e, "version", SOLENT_VERSION);
    cJSON_AddStringToObject(e, "started", msgview_time(d->started_ms, t));
    cJSON_AddStringToObject(e, "now", msgview_time(store_now_ms(), t));
    cJSON_AddStringToObject(e, "store", store_kind(d->store));
    cJSON *rl = cJSON_AddObjectToObject(o, "reload");
    if (d->reload_at_ms) {
        cJSON_AddStringToObject(rl, "at", msgview_time(d->reload_at_ms, t));
        cJSON_AddBoolToObject(rl, "ok", !d->reload_error[0]);
        cJSON_AddStringToObject(rl, "error", d->reload_error);
    } else {
        cJSON_AddNullToObject(rl, "at");
    }
    cJSON *ls = cJSON_AddArrayToObject(o, "listeners");
    for (const struct daemon_listener *l = d->listeners; l; l = l->next) {
        if (!l->ev)
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", l->conf->id.name);
        cJSON_AddNumberToObject(x, "port", l->conf->port);
        cJSON_AddStringToObject(x, "tls", l->conf->tls.mode);
        cJSON_AddNumberToObject(x, "connections", (double)l->nconns);
        cJSON_AddArrayToObject(x, "peers");
        const struct daemon_counts *n = daemon_counts_find(d, l->conf->id.name);
        cJSON_AddStringToObject(x, "last_message", msgview_time(n ? n->last_ms : 0, t));
        cJSON_AddNumberToObject(x, "quiet_after_seconds", l->conf->quiet_after_ms / 1000.0);
        cJSON *by = cJSON_AddObjectToObject(x, "messages");
        for (int st = 0; st < STORE_STATUSES; st++)
            cJSON_AddNumberToObject(by, store_status_name((enum store_status)st),
                                    n ? (double)n->by_status[st] : 0);
        cJSON_AddNumberToObject(by, "not_stored", n ? (double)n->not_stored : 0);
        cJSON_AddItemToArray(ls, x);
    }
    conn_each(d, put_conn, ls);
    cJSON *ds = cJSON_AddArrayToObject(o, "destinations");
    delivery_each(d->delivery, put_counts, ds);
    return o;
}

static cJSON *routes(const struct daemon *d)
{
    const struct conf *c = d->conf;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct conf_route *r = &c->routes[i];
        cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->id.name);
        cJSON *ls = cJSON_AddArrayToObject(m, "listeners");
        for (size_t k = 0; k < r->listeners.n; k++)
            cJSON_AddItemToArray(ls, cJSON_CreateString(r->listeners.v[k]));
        cJSON_AddStringToObject(m, "type", r->type);
        cJSON_AddStringToObject(m, "sending_app", r->sending_app);
        cJSON_AddStringToObject(m, "sending_facility", r->sending_facility);
        cJSON_AddStringToObject(m, "receiving_app", r->receiving_app);
        cJSON_AddStringToObject(m, "receiving_facility", r->receiving_facility);
        cJSON_AddStringToObject(m, "version", r->version);
        cJSON *w = cJSON_AddArrayToObject(m, "where");
        for (size_t k = 0; k < r->nwhere; k++)
            cJSON_AddItemToArray(w, cJSON_CreateString(r->where[k]));
        cJSON_AddItemToObject(o, "match", m);
        cJSON *ds = cJSON_AddArrayToObject(o, "destinations");
        for (size_t k = 0; k < r->destinations.n; k++)
            cJSON_AddItemToArray(ds, cJSON_CreateString(r->destinations.v[k]));
        const struct daemon_route_counts *n = NULL;
        for (size_t k = 0; k < d->nroutes; k++)
            if (strcmp(d->routes[k].route, r->id.name) == 0)
                n = &d->routes[k];
        cJSON *cnt = cJSON_AddObjectToObject(o, "since_start");
        cJSON_AddNumberToObject(cnt, "messages", n ? (double)n->transformed : 0);
        cJSON_AddNumberToObject(cnt, "warnings", n ? (double)n->warnings : 0);
        cJSON_AddNumberToObject(cnt, "unmapped", n ? (double)n->unmapped : 0);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "routes", arr);
    return o;
}

/* The status answer: the loop's part now, the store's from a job merged in on the way out. */
static void status_done(void *arg)
{
    struct job *j = arg;
    if (j->req && j->code == 200) {
        cJSON *o = loop_status(j->d);
        for (cJSON *x = j->body->child; x;) {
            cJSON *next = x->next;
            cJSON_AddItemToObject(o, x->string, cJSON_DetachItemViaPointer(j->body, x));
            x = next;
        }
        cJSON_Delete(j->body);
        j->body = o;
    }
    job_done(j);
}

static void status_run(struct store *s, void *arg)
{
    struct job *j = arg;
    j->code = 200;
    run_status(s, j);
    daemon_call(j->d, status_done, j);
}

/* ---- parsing a request ---- */

static const char *param(const struct evkeyvalq *q, const char *key)
{
    const char *v = evhttp_find_header(q, key);
    return v && *v ? v : NULL;
}

/* The listing's filters from the query into j; an error message, or NULL. */
static const char *filters(struct job *j, const struct evkeyvalq *q)
{
    static const char *const statuses[] = {"accepted", "error", "rejected", "duplicate", "parked"};
    const char *keys[] = {"status", "type", "control_id", "listener", "peer", "sender"};
    const char *v[6];
    for (int k = 0; k < 6; k++) {
        v[k] = param(q, keys[k]);
        if (v[k] && strlen(v[k]) >= CONF_TEXT)
            return "a filter is too long";
        if (v[k])
            snprintf(j->text[k], sizeof j->text[k], "%s", v[k]);
    }
    bool known = !v[0];
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0] && !known; i++)
        known = strcmp(v[0], statuses[i]) == 0;
    if (!known)
        return "status is one of accepted, error, rejected, duplicate, parked";
    j->f.status = v[0] ? j->text[0] : NULL;
    j->f.type = v[1] ? j->text[1] : NULL;
    j->f.control_id = v[2] ? j->text[2] : NULL;
    j->f.listener = v[3] ? j->text[3] : NULL;
    j->f.peer = v[4] ? j->text[4] : NULL;
    if (v[5]) { /* sender=APP or APP|FACILITY (MSH-3, MSH-4) */
        char *bar = strchr(j->text[5], '|');
        if (bar)
            *bar = '\0', j->f.sending_facility = bar + 1;
        j->f.sending_app = j->text[5];
    }
    const char *since = param(q, "since"), *until = param(q, "until"), *limit = param(q, "limit"),
               *cursor = param(q, "cursor");
    if (since && (j->f.since_ms = cli_parse_since(since)) < 0)
        return "since is YYYY-MM-DD[THH:MM[:SS]] (UTC) or an age: 30s, 15m, 2h, 7d";
    if (until && (j->f.until_ms = cli_parse_since(until)) < 0)
        return "until is YYYY-MM-DD[THH:MM[:SS]] (UTC) or an age: 30s, 15m, 2h, 7d";
    char *end;
    j->f.limit = 100;
    if (limit && ((j->f.limit = strtoul(limit, &end, 10)) < 1 || j->f.limit > 1000 || *end))
        return "limit is 1 to 1000";
    if (cursor && ((j->f.before_id = strtoll(cursor, &end, 10)) < 1 || *end))
        return "cursor is the next_cursor of the page before";
    return NULL;
}

static bool flag(const struct evkeyvalq *q, const char *key, const char *yes)
{
    const char *v = param(q, key);
    return v && (strcmp(v, yes) == 0 || strcmp(v, "true") == 0);
}

void api_handle(struct daemon *d, struct evhttp_request *req, const char *path, const char *who,
                unsigned scopes)
{
    long long id = 0;
    int kind = parse_path(path, &id);
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query && evhttp_parse_query_str(query, &q) != 0) {
        send_error(req, 400, "the query string does not parse");
        return;
    }
    if (kind == ROUTES) {
        send_json(req, 200, routes(d));
        evhttp_clear_headers(&q);
        return;
    }
    if (kind == RELOAD) {
        log_info("reload_requested", "token=%s", who);
        daemon_reload(d);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "reload", "started");
        cJSON_AddStringToObject(o, "detail", "GET /api/status says how it ended (reload)");
        send_json(req, 202, o);
        evhttp_clear_headers(&q);
        return;
    }
    if (!d->chores || d->stopping) {
        send_error(req, 503, d->stopping ? "stopping" : "starting");
        evhttp_clear_headers(&q);
        return;
    }
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->d = d, j->req = req, j->kind = (enum kind)kind, j->id = id;
    snprintf(j->who, sizeof j->who, "%s", who);
    j->content = kind == SHOW && flag(&q, "include", "content");
    j->dry = (kind == REPLAY || kind == DEAD_REPLAY) && flag(&q, "dry_run", "1");
    const char *dead_letter = kind == REPLAY ? param(&q, "dead_letter") : NULL;
    char *end = NULL;
    if (dead_letter && ((j->replaces = strtoll(dead_letter, &end, 10)) < 1 || *end))
        j->replaces = -1;
    const char *bad = kind == LIST      ? filters(j, &q)
                      : j->replaces < 0 ? "dead_letter is the outbox id of one of its dead letters"
                                        : NULL;
    if (kind == AUDIT || kind == DEAD_REPLAY) {
        const char *since = param(&q, "since"), *limit = param(&q, "limit");
        if (since && (j->f.since_ms = cli_parse_since(since)) < 0)
            bad = "since is YYYY-MM-DD[THH:MM[:SS]] (UTC) or an age: 30s, 15m, 2h, 7d";
        j->f.limit = limit ? strtoul(limit, NULL, 10) : 0;
        if (param(&q, "destination") && strlen(param(&q, "destination")) < CONF_TEXT) {
            snprintf(j->text[0], sizeof j->text[0], "%s", param(&q, "destination"));
            j->f.listener = j->text[0]; /* dead letters: the destination */
        }
    }
    evhttp_clear_headers(&q);
    if (bad) {
        send_error(req, 400, bad);
        free(j);
        return;
    }
    if ((j->content || j->dry) &&
        !admin_allowed(d->admin, req, who, scopes, SCOPE_CONTENT,
                       j->dry ? "/api/replay?dry_run" : "/api/messages?include=content")) {
        free(j);
        return;
    }
    if (kind == REPLAY || kind == DEAD_REPLAY) {
        j->conf = daemon_conf_hold(d);
        log_info("replay_requested", "token=%s message_id=%lld dry_run=%d", who, id, j->dry);
    }
    j->conn = evhttp_request_get_connection(req);
    evhttp_connection_set_closecb(j->conn, on_gone, j);
    intake_call(d->chores, kind == STATUS ? status_run : job_run, j);
}
