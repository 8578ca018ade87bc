/*
 * api — the integration team's console on the admin endpoint: the status page (GET /) and
 * the message API (JSON), behind admin.c's bearer tokens and their scopes.
 *
 *   GET  /api/status                      listeners, destinations, recent errors, the last
 *                                         reload (read)
 *   GET  /api/messages?FILTERS            metadata, newest first, cursor pages (read)
 *   GET  /api/messages/ID[?include=content]  one message: metadata, ACK, route, ledger, every
 *                                         delivery attempt (read); content (content: audited)
 *   POST /api/messages/ID/replay[?dry_run=1][&dead_letter=OUTBOX_ID]  queue it again
 *                                         (replay): to every destination, or only where that
 *                                         dead letter died (marked replayed); dry: the bundles
 *                                         and their diff from the last sent (replay + content)
 *   POST /api/deadletters/replay[?destination=D&since=T&dry_run=1]  (replay)
 *   POST /api/reload                      as SIGHUP (reload)
 *   GET  /api/routes                      the routing table in force with counts (read)
 *   GET  /api/audit[?since=T&limit=N]     who read what content (read)
 *
 * What reads the store runs on the daemon's chores thread (daemon.c's pool), never the loop.
 */
#ifndef SOLENT_ENGINE_API_H
#define SOLENT_ENGINE_API_H

#include <event2/http.h>

struct daemon;

/* What api_scope says of a request: the scopes it needs (admin.h's SCOPE_*), or one of: */
#define API_NOT_FOUND  0x100u /* no such path */
#define API_PAGE       0x200u /* the page: served to anyone (it holds no data) */
#define API_BAD_METHOD 0x400u /* the path, not with this method */

unsigned api_scope(enum evhttp_cmd_type cmd, const char *path);
/* Serves the status page. */
void api_page(struct evhttp_request *req);
/* Answers an API request whose token (named who) holds scopes, now or from the store. */
void api_handle(struct daemon *d, struct evhttp_request *req, const char *path, const char *who,
                unsigned scopes);

#endif
