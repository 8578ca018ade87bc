/*
 * router — the routing table of a loaded configuration: rules built from its
 * [route] sections when it loads (a conf carries its router: strings point into
 * the conf, which outlives them), and the ACK code a message gets when no rule
 * takes it.
 */
#ifndef SOLENT_ENGINE_ROUTER_H
#define SOLENT_ENGINE_ROUTER_H

#include "routes/route.h"

#define ROUTER_MAX_RULES 32 /* CONF_MAX_SECTIONS */

struct conf;
struct conf_route;

struct router {
    struct route_rule rules[ROUTER_MAX_RULES];
    size_t n;
    const struct conf *conf;
};

/* Builds the rules of c into r (c's where lines were checked when it loaded). */
void router_build(struct router *r, const struct conf *c);
/* The [route] section of a matched rule. */
const struct conf_route *router_route(const struct router *r, const struct route_rule *rule);
/* For a message no rule takes: 201 (unsupported event code) when some rule for this
 * listener routes its message code (MSH-9.1) — only the event or a condition differs —
 * else 200 (unsupported message type). */
int router_no_match_code(const struct router *r, const char *listener, const struct hl7_msg *m);

#endif
