/*
 * peers — who is at the other end of a connection: the [peer NAME] sections matched against
 * a connection's verified certificate identity (CN and SANs, from tls) and its source
 * address (CIDR ranges, IPv4 and IPv6). Not here: refusing (conn, for a listener's peers;
 * the pipeline, for a route's).
 */
#ifndef SOLENT_ENGINE_PEERS_H
#define SOLENT_ENGINE_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/conf.h"

/* Whether cidr ("10.0.0.0/8", "::1/128", or an address alone) is well formed. */
bool peers_cidr_ok(const char *cidr);

/* The first peer of c that identity (comma-separated names; "" without a certificate) and
 * address (an IP address, "[...]" for IPv6 allowed) match; NULL when none does. */
const struct conf_peer *peers_match(const struct conf *c, const char *identity,
                                    const char *address);

/* Whether list (peer names; empty: anyone) allows the peer named name (NULL: none). */
bool peers_allow(const struct conf_list *list, const char *name);

#endif
