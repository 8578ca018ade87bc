/*
 * admin — the admin HTTP endpoint on the daemon's loop (libevent evhttp), for
 * monitoring: GET /healthz answers 200 "ok" to anyone (liveness, no data),
 * GET /readyz 200 "ready", or 503 once the engine is stopping (readiness);
 * GET /metrics answers the Prometheus text format to a request that carries
 * `Authorization: Bearer TOKEN` (the token read from [admin] token, env: or
 * file:), 401 otherwise. Off while [admin] port is 0.
 *
 * /metrics is answered at once from what the loop counts (messages per listener
 * and status, connections, delivery attempts per destination and outcome,
 * requests in flight, token failures) and from the store's queue gauges (patient
 * queues waiting, the oldest waiting bundle's age, dead letters), which a store
 * job refreshes every few seconds: a scrape never waits for, or adds work to,
 * the store thread. No metric carries patient data: labels are configuration
 * names and fixed words.
 */
#ifndef SOLENT_ENGINE_ADMIN_H
#define SOLENT_ENGINE_ADMIN_H

#include <stddef.h>

#include "engine/conf.h"
#include "parsers/strbuf.h"

#include <stdbool.h>

struct daemon;
struct admin;

/* What a token may do ([admin token NAME] scopes; [admin] token: read alone). */
enum {
    SCOPE_READ = 1,    /* /metrics, the API's metadata, the status page's figures */
    SCOPE_CONTENT = 2, /* message bodies, bundles, servers' answers: each read audited */
    SCOPE_REPLAY = 4,
    SCOPE_RELOAD = 8,
};

/* The endpoint for d (listening when c's [admin] port is set); NULL with a reason. */
struct admin *admin_start(struct daemon *d, const struct conf *c, char *err, size_t errlen);
/* Takes a reloaded configuration: rebinds if the address changed, reads the token again;
 * -1 with a reason (the endpoint then keeps its previous state). */
int admin_configure(struct admin *a, const struct conf *c, char *err, size_t errlen);
struct evhttp_request;
/* Whether a token (named who, holding scopes held) may do what needs: else answers req 403,
 * logs (event=admin_forbidden) and counts it. */
bool admin_allowed(struct admin *a, struct evhttp_request *req, const char *who, unsigned held,
                   unsigned need, const char *path);
/* The engine has its store and has started: the store's first gauges now. */
void admin_started(struct admin *a);
/* The /metrics text (exposed for tests of the format). */
void admin_metrics(struct admin *a, struct strbuf *out);
/* Frees; NULL is fine. After the store thread has stopped and its completions ran. */
void admin_free(struct admin *a);

#endif
