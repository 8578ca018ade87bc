/* admin — the admin endpoint over evhttp on the loop, in TLS when [admin] tls = on: /healthz,
 * /readyz, /metrics, and the console (api.c: the page, the message API); bearer tokens with
 * scopes. */
#include "engine/admin.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/accept_guard.h"
#include "engine/api.h"
#include "engine/auth.h"
#include "engine/daemon.h"
#include "engine/delivery.h"
#include "engine/log.h"
#include "engine/retention.h"
#include "engine/store.h"
#include "engine/tls.h"

#define GAUGE_MS 5000 /* how often the store's queue gauges are read */

struct gauge {
    char destination[CONF_NAME];
    uint64_t queues, dead;
    int64_t oldest_pending_ms;
};

struct admin {
    struct daemon *d;
    struct evhttp *http;
    struct evhttp_bound_socket *sock; /* NULL while off */
    struct accept_guard guard;        /* of sock's listener */
    struct conf_admin conf;           /* the settings it listens with */
    SSL_CTX *tls;                     /* tls = on: each connection's SSL is made from it */
    struct admin_token {
        char name[CONF_NAME];
        char secret[AUTH_SECRET_MAX];
        unsigned scopes;
    } tokens[CONF_MAX_SECTIONS + 1]; /* [admin token NAME]s, and [admin] token as "admin" */
    size_t ntokens;
    struct event *refresh;
    bool refreshing; /* a gauge job is out */
    struct gauge gauges[2 * CONF_MAX_SECTIONS];
    size_t ngauges;
    int64_t gauges_at_ms;  /* 0: not read yet */
    uint64_t unauthorized; /* asked without a token the endpoint knows */
    uint64_t forbidden;    /* asked with a token that lacks the scope */
};

/* A gauge job: read on the store thread, kept on the loop. */
struct gauge_job {
    struct daemon *d;
    struct gauge g[2 * CONF_MAX_SECTIONS];
    size_t n;
    int rc;
};

/* ---- the store's gauges, refreshed in the background ---- */

static void on_gauge(void *arg, const struct store_queue_gauge *g)
{
    struct gauge_job *j = arg;
    if (j->n == sizeof j->g / sizeof j->g[0])
        return;
    struct gauge *o = &j->g[j->n++];
    snprintf(o->destination, sizeof o->destination, "%s", g->destination);
    o->queues = g->queues;
    o->dead = g->dead;
    o->oldest_pending_ms = g->oldest_pending_ms;
}

static void gauges_done(void *arg)
{
    struct gauge_job *j = arg;
    struct admin *a = j->d->admin;
    if (a) {
        a->refreshing = false;
        if (j->rc == 0) {
            memcpy(a->gauges, j->g, j->n * sizeof j->g[0]);
            a->ngauges = j->n;
            a->gauges_at_ms = store_now_ms();
        }
    }
    free(j);
}

static void gauges_run(struct store *s, void *arg)
{
    struct gauge_job *j = arg;
    j->rc = store_queue_gauges(s, on_gauge, j);
    if (j->rc != 0)
        log_error("metrics_store_failed", "action=%s", "kept_last_figures");
    daemon_call(j->d, gauges_done, j);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    struct admin *a = arg;
    (void)fd;
    (void)what;
    if (a->refreshing || !a->sock || a->d->stopping || !a->d->chores)
        return;
    struct gauge_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->d = a->d;
    a->refreshing = true;
    intake_call(a->d->chores, gauges_run, j);
}

/* ---- the text format ---- */

/* A label value with \, " and newline escaped (names come from the configuration). */
static void put_label(struct strbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            strbuf_putc(out, '\\');
        if (*v == '\n') {
            strbuf_puts(out, "\\n");
            continue;
        }
        strbuf_putc(out, *v);
    }
}

static void put_head(struct strbuf *out, const char *name, const char *type, const char *help)
{
    strbuf_puts(out, "# HELP ");
    strbuf_puts(out, name);
    strbuf_putc(out, ' ');
    strbuf_puts(out, help);
    strbuf_puts(out, "\n# TYPE ");
    strbuf_puts(out, name);
    strbuf_putc(out, ' ');
    strbuf_puts(out, type);
    strbuf_putc(out, '\n');
}

/* name{k="v",...} value; labels alternate keys and values, NULL-terminated */
static void put_sample(struct strbuf *out, const char *name, const char *const *labels,
                       const char *value)
{
    strbuf_puts(out, name);
    strbuf_putc(out, '{');
    for (size_t i = 0; labels[i]; i += 2) {
        if (i)
            strbuf_putc(out, ',');
        strbuf_puts(out, labels[i]);
        strbuf_puts(out, "=\"");
        put_label(out, labels[i + 1]);
        strbuf_putc(out, '"');
    }
    strbuf_puts(out, "} ");
    strbuf_puts(out, value);
    strbuf_putc(out, '\n');
}

static const char *u64(char *buf, uint64_t v)
{
    snprintf(buf, 24, "%" PRIu64, v);
    return buf;
}

/* Milliseconds ms as seconds, in buf (24 bytes). */
static const char *seconds(char *buf, int64_t ms)
{
    snprintf(buf, 24, "%.3f", (double)ms / 1e3);
    return buf;
}

/* name_bucket{key="value",le="..."} (cumulative), name_sum and name_count of h. */
static void put_hist(struct strbuf *out, const char *name, const char *const label[2],
                     const struct hist *h)
{
    char metric[96], v[32], le[16];
    uint64_t cum = 0;
    snprintf(metric, sizeof metric, "%s_bucket", name);
    for (size_t i = 0; i <= HIST_BUCKETS; i++) {
        cum = i < HIST_BUCKETS ? cum + h->le[i] : h->count; /* +Inf: every observation */
        if (i < HIST_BUCKETS)
            snprintf(le, sizeof le, "%g", hist_bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        put_sample(out, metric, (const char *const[]){label[0], label[1], "le", le, NULL},
                   u64(v, cum));
    }
    snprintf(metric, sizeof metric, "%s_sum", name);
    snprintf(v, sizeof v, "%.6f", h->sum);
    put_sample(out, metric, (const char *const[]){label[0], label[1], NULL}, v);
    snprintf(metric, sizeof metric, "%s_count", name);
    put_sample(out, metric, (const char *const[]){label[0], label[1], NULL}, u64(v, h->count));
}

/* Messages per listener and status, and open connections: the loop's own counts. */
static void put_messages(const struct daemon *d, struct strbuf *out)
{
    char v[32];
    put_head(out, "solent_messages_total", "counter",
             "Messages committed since the start, by listener and stored status.");
    for (size_t i = 0; i < d->ncounts; i++)
        for (int s = 0; s < STORE_STATUSES; s++)
            put_sample(out, "solent_messages_total",
                       (const char *const[]){"listener", d->counts[i].listener, "status",
                                             store_status_name((enum store_status)s), NULL},
                       u64(v, d->counts[i].by_status[s]));
    put_head(out, "solent_messages_not_stored_total", "counter",
             "Messages the store failed to commit (no positive ACK was sent), by listener.");
    for (size_t i = 0; i < d->ncounts; i++)
        put_sample(out, "solent_messages_not_stored_total",
                   (const char *const[]){"listener", d->counts[i].listener, NULL},
                   u64(v, d->counts[i].not_stored));
    put_head(out, "solent_transform_warnings_total", "counter",
             "Warnings the transforms gave for the messages stored, by route (solent messages "
             "--explain ID shows them).");
    for (size_t i = 0; i < d->nroutes; i++)
        put_sample(out, "solent_transform_warnings_total",
                   (const char *const[]){"route", d->routes[i].route, NULL},
                   u64(v, d->routes[i].warnings));
    put_head(out, "solent_unmapped_fields_total", "counter",
             "Populated fields no mapping used, in the messages stored, by route.");
    for (size_t i = 0; i < d->nroutes; i++)
        put_sample(out, "solent_unmapped_fields_total",
                   (const char *const[]){"route", d->routes[i].route, NULL},
                   u64(v, d->routes[i].unmapped));
    put_head(out, "solent_ack_seconds", "histogram",
             "From a whole frame received to its ACK written (parse, route, transform, "
             "durable commit), by listener.");
    for (size_t i = 0; i < d->ncounts; i++)
        put_hist(out, "solent_ack_seconds",
                 (const char *const[]){"listener", d->counts[i].listener}, &d->counts[i].ack);
    put_head(out, "solent_purged_total", "counter",
             "Rows the retention (retain_ms) has deleted since the start, by table.");
    struct retention_counts p =
        d->retention ? retention_counts(d->retention) : (struct retention_counts){0};
    put_sample(out, "solent_purged_total", (const char *const[]){"table", "messages", NULL},
               u64(v, p.messages));
    put_sample(out, "solent_purged_total", (const char *const[]){"table", "outbox", NULL},
               u64(v, p.outbox_rows));
    put_head(out, "solent_tls_failures_total", "counter",
             "TLS handshakes that failed (a bad or missing certificate, an old protocol, plain "
             "text on a TLS port, a handshake timeout), by listener.");
    for (size_t i = 0; i < d->ncounts; i++)
        put_sample(out, "solent_tls_failures_total",
                   (const char *const[]){"listener", d->counts[i].listener, NULL},
                   u64(v, d->counts[i].tls_failures));
    put_head(out, "solent_connections_refused_total", "counter",
             "Connections refused because no peer the listener lists is at the other end, or "
             "their peer has max_connections open, by listener.");
    for (size_t i = 0; i < d->ncounts; i++)
        put_sample(out, "solent_connections_refused_total",
                   (const char *const[]){"listener", d->counts[i].listener, NULL},
                   u64(v, d->counts[i].refused));
    put_head(out, "solent_in_flight_waits_total", "counter",
             "Messages held whole because their listener or peer had max_in_flight messages "
             "being converted or committed, by listener.");
    for (size_t i = 0; i < d->ncounts; i++)
        put_sample(out, "solent_in_flight_waits_total",
                   (const char *const[]){"listener", d->counts[i].listener, NULL},
                   u64(v, d->counts[i].waits));
    put_head(out, "solent_last_message_timestamp_seconds", "gauge",
             "When the last message was stored (Unix time; the engine's start until the first), "
             "by listener: time() minus it is how long the interface has been quiet.");
    for (const struct daemon_listener *l = d->listeners; l; l = l->next)
        if (l->ev) {
            const struct daemon_counts *n = daemon_counts_find(d, l->conf->id.name);
            put_sample(out, "solent_last_message_timestamp_seconds",
                       (const char *const[]){"listener", l->conf->id.name, NULL},
                       seconds(v, n && n->last_ms ? n->last_ms : d->started_ms));
        }
    put_head(out, "solent_listener_quiet_after_seconds", "gauge",
             "How long a listener may go without a message before it is an alarm ([listener] "
             "quiet_after; 0: never), for the rule SolentInterfaceQuiet.");
    for (const struct daemon_listener *l = d->listeners; l; l = l->next)
        if (l->ev)
            put_sample(out, "solent_listener_quiet_after_seconds",
                       (const char *const[]){"listener", l->conf->id.name, NULL},
                       seconds(v, l->conf->quiet_after_ms));
    put_head(out, "solent_sender_last_message_timestamp_seconds", "gauge",
             "When the last message from a sender (MSH-3, MSH-4) was stored, not counting "
             "rejected ones (Unix time); senders past the 256th as sending_app=\"_other\".");
    for (size_t i = 0; i < sizeof d->senders / sizeof d->senders[0]; i++)
        if (d->senders[i].messages)
            put_sample(out, "solent_sender_last_message_timestamp_seconds",
                       (const char *const[]){"sending_app", d->senders[i].app, "sending_facility",
                                             d->senders[i].facility, NULL},
                       seconds(v, d->senders[i].last_ms));
    put_head(out, "solent_sender_messages_total", "counter",
             "Messages stored from a sender (MSH-3, MSH-4) since the start, not counting "
             "rejected ones.");
    for (size_t i = 0; i < sizeof d->senders / sizeof d->senders[0]; i++)
        if (d->senders[i].messages)
            put_sample(out, "solent_sender_messages_total",
                       (const char *const[]){"sending_app", d->senders[i].app, "sending_facility",
                                             d->senders[i].facility, NULL},
                       u64(v, d->senders[i].messages));
    put_head(out, "solent_connections", "gauge", "Open MLLP connections, by listener.");
    for (const struct daemon_listener *l = d->listeners; l; l = l->next)
        if (l->ev)
            put_sample(out, "solent_connections",
                       (const char *const[]){"listener", l->conf->id.name, NULL},
                       u64(v, l->nconns));
}

struct each {
    struct strbuf *out;
    int metric; /* which of the delivery metrics is being written */
};

static void put_delivery(void *arg, const struct delivery_counts *c)
{
    struct each *e = arg;
    char v[24];
    if (e->metric == 3) {
        put_hist(e->out, "solent_delivery_seconds",
                 (const char *const[]){"destination", c->destination}, c->latency);
        return;
    }
    if (e->metric == 0) {
        static const char *const outcomes[] = {"delivered", "retry", "dead"};
        const uint64_t n[] = {c->delivered, c->retried, c->dead};
        for (int k = 0; k < 3; k++)
            put_sample(
                e->out, "solent_delivery_attempts_total",
                (const char *const[]){"destination", c->destination, "outcome", outcomes[k], NULL},
                u64(v, n[k]));
        return;
    }
    static const char *const names[] = {NULL, "solent_delivery_in_flight",
                                        "solent_token_failures_total", NULL,
                                        "solent_destination_up"};
    const uint64_t n[] = {0, c->in_flight, c->token_failures, 0, c->up};
    put_sample(e->out, names[e->metric], (const char *const[]){"destination", c->destination, NULL},
               u64(v, n[e->metric]));
}

/* The delivery counters of every configured destination. */
static void put_deliveries(const struct daemon *d, struct strbuf *out)
{
    static const char *const heads[][3] = {
        {"solent_delivery_attempts_total", "counter",
         "Delivery attempts since the start, by destination and outcome."},
        {"solent_delivery_in_flight", "gauge", "Requests or files being written now."},
        {"solent_token_failures_total", "counter",
         "Token endpoint requests that failed since the start, by destination."},
        {"solent_delivery_seconds", "histogram",
         "From a message's arrival to its bundle delivered, retries included, by destination."},
        {"solent_destination_up", "gauge",
         "1 while a destination answers; 0 while it is down and only probed."},
    };
    for (int m = 0; m < 5; m++) {
        struct each e = {out, m};
        put_head(out, heads[m][0], heads[m][1], heads[m][2]);
        delivery_each(d->delivery, put_delivery, &e);
    }
}

/* The store's gauges as last read, for every configured destination (0 when it has none
 * waiting). */
static void put_gauges(const struct admin *a, struct strbuf *out)
{
    static const char *const gauges[][2] = {
        {"solent_outbox_queues", "Patient queues with bundles waiting to be delivered."},
        {"solent_outbox_oldest_pending_seconds",
         "Age of the oldest bundle at the head of a queue (0: none waiting)."},
        {"solent_dead_letters", "Dead letters not replayed."},
    };
    const struct conf *c = a->d->conf;
    int64_t now = store_now_ms();
    char v[32];
    for (int m = 0; m < 3; m++) {
        put_head(out, gauges[m][0], "gauge", gauges[m][1]);
        for (size_t i = 0; i < c->ndestinations; i++) {
            const char *name = c->destinations[i].id.name;
            const struct gauge *g = NULL;
            for (size_t k = 0; k < a->ngauges && !g; k++)
                if (strcmp(a->gauges[k].destination, name) == 0)
                    g = &a->gauges[k];
            double age = g && g->oldest_pending_ms ? (double)(now - g->oldest_pending_ms) / 1e3 : 0;
            if (m == 1)
                snprintf(v, sizeof v, "%.3f", age < 0 ? 0 : age);
            else
                u64(v, !g ? 0 : m == 0 ? g->queues : g->dead);
            put_sample(out, gauges[m][0], (const char *const[]){"destination", name, NULL}, v);
        }
    }
    put_head(out, "solent_store_gauges_age_seconds", "gauge",
             "How long ago the three gauges above were read from the store.");
    char line[96];
    snprintf(line, sizeof line, "solent_store_gauges_age_seconds %.3f\n",
             (double)(now - a->gauges_at_ms) / 1e3);
    strbuf_puts(out, line);
}

void admin_metrics(struct admin *a, struct strbuf *out)
{
    put_messages(a->d, out);
    put_deliveries(a->d, out);
    if (a->gauges_at_ms) /* the store not read yet: no gauges rather than wrong zeros */
        put_gauges(a, out);
    char v[24];
    put_head(out, "solent_admin_unauthorized_total", "counter",
             "Requests to the admin endpoint without a bearer token it knows (answered 401).");
    snprintf(v, sizeof v, "%" PRIu64, a->unauthorized);
    strbuf_puts(out, "solent_admin_unauthorized_total ");
    strbuf_puts(out, v);
    strbuf_putc(out, '\n');
    put_head(out, "solent_admin_forbidden_total", "counter",
             "Requests whose token lacks the scope the request needs (answered 403).");
    snprintf(v, sizeof v, "%" PRIu64, a->forbidden);
    strbuf_puts(out, "solent_admin_forbidden_total ");
    strbuf_puts(out, v);
    strbuf_putc(out, '\n');
}

/* ---- HTTP ---- */

static void reply(struct evhttp_request *req, int code, const char *reason, const char *body,
                  size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (code == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"solent\"");
    struct evbuffer *b = evbuffer_new();
    if (!b)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

/* The token the request carries, NULL when none the endpoint knows (each compared in
 * constant time, all of them whatever matched). */
static const struct admin_token *bearer(const struct admin *a, struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    static const char scheme[] = "Bearer ";
    if (!h || strncasecmp(h, scheme, sizeof scheme - 1) != 0)
        return NULL;
    h += sizeof scheme - 1;
    size_t len = strlen(h);
    const struct admin_token *found = NULL;
    for (size_t i = 0; i < a->ntokens; i++) {
        size_t n = strlen(a->tokens[i].secret);
        if (n && len == n && CRYPTO_memcmp(h, a->tokens[i].secret, n) == 0 && !found)
            found = &a->tokens[i];
    }
    return found;
}

static const char *scope_name(unsigned scope)
{
    return scope == SCOPE_CONTENT  ? "content"
           : scope == SCOPE_REPLAY ? "replay"
           : scope == SCOPE_RELOAD ? "reload"
                                   : "read";
}

bool admin_allowed(struct admin *a, struct evhttp_request *req, const char *who, unsigned held,
                   unsigned need, const char *path)
{
    for (unsigned bit = 1; bit <= SCOPE_RELOAD; bit <<= 1)
        if ((need & bit) && !(held & bit)) {
            log_warn("admin_forbidden", "token=%s scope=%s path=%s", who, scope_name(bit), path);
            a->forbidden++;
            char body[96];
            int n = snprintf(body, sizeof body, "the token %s lacks the scope %s\n", who,
                             scope_name(bit));
            reply(req, 403, "Forbidden", body, (size_t)n);
            return false;
        }
    return true;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct admin *a = arg;
    const char *uri = evhttp_request_get_uri(req);
    size_t path = strcspn(uri, "?#");
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    bool healthz = path == 8 && strncmp(uri, "/healthz", 8) == 0;
    bool readyz = path == 7 && strncmp(uri, "/readyz", 7) == 0;
    bool metrics = path == 8 && strncmp(uri, "/metrics", 8) == 0;
    if (!healthz && !readyz && !metrics) {
        char p[256];
        snprintf(p, sizeof p, "%.*s", (int)(path < sizeof p ? path : sizeof p - 1), uri);
        unsigned need = api_scope(cmd, p);
        if (need == API_NOT_FOUND) {
            reply(req, 404, "Not Found", "not found\n", 10);
            return;
        }
        if (need == API_PAGE) { /* the page itself holds no data: it asks for a token */
            api_page(req);
            return;
        }
        if (need == API_BAD_METHOD) {
            reply(req, 405, "Method Not Allowed", "not with this method\n", 21);
            return;
        }
        const struct admin_token *t = bearer(a, req);
        if (!t) {
            log_warn("admin_unauthorized", "path=%s", "/api");
            a->unauthorized++;
            reply(req, 401, "Unauthorized", "a bearer token is needed\n", 25);
            return;
        }
        if (admin_allowed(a, req, t->name, t->scopes, need, "/api"))
            api_handle(a->d, req, p, t->name, t->scopes);
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply(req, 405, "Method Not Allowed", "GET or HEAD\n", 12);
        return;
    }
    if (healthz) {
        reply(req, 200, "OK", "ok\n", 3);
        return;
    }
    if (readyz) { /* starting, or stopping: finishing what it has, taking nothing new */
        if (a->d->stopping)
            reply(req, 503, "Service Unavailable", "stopping\n", 9);
        else if (!a->d->store)
            reply(req, 503, "Service Unavailable", "waiting for the store\n", 22);
        else if (!a->d->delivery)
            reply(req, 503, "Service Unavailable", "starting\n", 9);
        else
            reply(req, 200, "OK", "ready\n", 6);
        return;
    }
    const struct admin_token *t = bearer(a, req);
    if (!t) {
        log_warn("admin_unauthorized", "path=/metrics");
        a->unauthorized++;
        reply(req, 401, "Unauthorized", "a bearer token is needed\n", 25);
        return;
    }
    if (!admin_allowed(a, req, t->name, t->scopes, SCOPE_READ, "/metrics"))
        return;
    struct strbuf out;
    strbuf_init(&out, 16 << 20);
    admin_metrics(a, &out);
    reply(req, 200, "OK", out.p ? out.p : "", out.len);
    strbuf_cleanup(&out);
}

static void unbind(struct admin *a)
{
    if (a->sock) {
        accept_guard_stop(&a->guard);
        evhttp_del_accept_socket(a->http, a->sock);
    }
    a->sock = NULL;
    memset(&a->conf, 0, sizeof a->conf);
}

/* evhttp's connection: TLS while a context is set (never plain in its stead), else plain. */
static struct bufferevent *new_connection(struct event_base *base, void *arg)
{
    struct admin *a = arg;
    if (!a->tls)
        return NULL; /* evhttp makes a plain one */
    SSL *ssl = SSL_new(a->tls);
    struct bufferevent *bev =
        ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!bev)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    return bev;
}

/* Every token c names, read from where it says, with its scopes; -1 with a reason. */
static int read_tokens(const struct conf *c, struct admin_token *t, size_t *n, char *err,
                       size_t errlen)
{
    char why[CONF_TEXT + 64];
    *n = 0;
    if (c->admin.token[0]) {
        snprintf(t[0].name, sizeof t[0].name, "admin");
        t[0].scopes = SCOPE_READ;
        if (auth_read_secret(c->admin.token, t[0].secret, sizeof t[0].secret, why, sizeof why)) {
            snprintf(err, errlen, "[admin] token: %s", why);
            return -1;
        }
        *n = 1;
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        const struct conf_token *ct = &c->tokens[i];
        struct admin_token *o = &t[(*n)++];
        snprintf(o->name, sizeof o->name, "%s", ct->id.name);
        for (size_t k = 0; k < ct->scopes.n; k++)
            for (unsigned bit = 1; bit <= SCOPE_RELOAD; bit <<= 1)
                if (strcmp(ct->scopes.v[k], scope_name(bit)) == 0)
                    o->scopes |= bit;
        if (auth_read_secret(ct->secret, o->secret, sizeof o->secret, why, sizeof why) != 0) {
            snprintf(err, errlen, "[admin token %s] secret: %s", ct->id.name, why);
            return -1;
        }
    }
    return 0;
}

int admin_configure(struct admin *a, const struct conf *c, char *err, size_t errlen)
{
    const struct conf_admin *n = &c->admin;
    char why[CONF_TEXT + 64];
    struct admin_token *tokens = calloc(CONF_MAX_SECTIONS + 1, sizeof *tokens);
    if (!tokens)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    size_t ntokens = 0;
    if (n->port && read_tokens(c, tokens, &ntokens, err, errlen) != 0) {
        OPENSSL_cleanse(tokens, (CONF_MAX_SECTIONS + 1) * sizeof *tokens);
        free(tokens);
        return -1;
    }
    SSL_CTX *ctx = NULL; /* made again on each reload: a renewed certificate, a new CRL */
    if (n->port && strcmp(n->tls.mode, "on") == 0 &&
        !(ctx = tls_server_ctx(&n->tls, why, sizeof why))) {
        snprintf(err, errlen, "[admin] tls: %s", why);
        OPENSSL_cleanse(tokens, (CONF_MAX_SECTIONS + 1) * sizeof *tokens);
        free(tokens);
        return -1;
    }
    bool same = a->sock && n->port == a->conf.port && strcmp(n->bind, a->conf.bind) == 0;
    if (!same) {
        struct evhttp_bound_socket *s =
            n->port ? evhttp_bind_socket_with_handle(a->http, n->bind, (uint16_t)n->port) : NULL;
        if (n->port && !s) {
            snprintf(err, errlen, "[admin] cannot listen on %s:%u: %s", n->bind, (unsigned)n->port,
                     strerror(errno));
            SSL_CTX_free(ctx);
            OPENSSL_cleanse(tokens, (CONF_MAX_SECTIONS + 1) * sizeof *tokens);
            free(tokens);
            return -1;
        }
        unbind(a);
        a->sock = s;
        if (s) {
            accept_guard_start(&a->guard, evhttp_bound_socket_get_listener(s), "admin");
            log_info("admin_listening", "bind=%s port=%u tls=%s verify=%s", n->bind,
                     (unsigned)n->port, ctx ? "on" : "off", ctx ? n->tls.verify : "none");
        }
    } else if (ctx || a->tls) {
        log_info("admin_tls_reloaded", "tls=%s verify=%s", ctx ? "on" : "off",
                 ctx ? n->tls.verify : "none");
    }
    SSL_CTX_free(a->tls); /* connections open keep theirs: each SSL holds a reference */
    a->tls = ctx;
    a->conf = *n;
    OPENSSL_cleanse(a->tokens, sizeof a->tokens);
    memcpy(a->tokens, tokens, ntokens * sizeof *tokens);
    a->ntokens = ntokens;
    OPENSSL_cleanse(tokens, (CONF_MAX_SECTIONS + 1) * sizeof *tokens);
    free(tokens);
    if (a->sock && !a->gauges_at_ms)
        on_refresh(-1, 0, a); /* the first gauges now, not in GAUGE_MS */
    return 0;
}

void admin_started(struct admin *a)
{
    if (a->sock && !a->gauges_at_ms)
        on_refresh(-1, 0, a);
}

struct admin *admin_start(struct daemon *d, const struct conf *c, char *err, size_t errlen)
{
    struct admin *a = calloc(1, sizeof *a);
    if (!a)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    a->d = d;
    struct timeval every = {GAUGE_MS / 1000, (GAUGE_MS % 1000) * 1000};
    if (!(a->http = evhttp_new(d->base)) ||
        !(a->refresh = event_new(d->base, -1, EV_PERSIST, on_refresh, a)) ||
        event_add(a->refresh, &every) != 0) {
        snprintf(err, errlen, "admin: cannot start");
        admin_free(a);
        return NULL;
    }
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_max_headers_size(a->http, 16384);
    evhttp_set_max_body_size(a->http, 0);
    evhttp_set_timeout(a->http, 10);
    evhttp_set_gencb(a->http, on_request, a);
    evhttp_set_bevcb(a->http, new_connection, a);
    if (admin_configure(a, c, err, errlen) != 0) {
        admin_free(a);
        return NULL;
    }
    return a;
}

void admin_free(struct admin *a)
{
    if (!a)
        return;
    if (a->refresh)
        event_free(a->refresh);
    if (a->sock)
        accept_guard_stop(&a->guard);
    if (a->http)
        evhttp_free(a->http);
    SSL_CTX_free(a->tls);
    OPENSSL_cleanse(a->tokens, sizeof a->tokens);
    free(a);
}
