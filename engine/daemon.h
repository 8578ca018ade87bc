/*
 * daemon — `solent run`: one libevent loop thread serving every listener, and
 * the store thread (intake) committing what the connections submit. Completions
 * come back to the loop through a queue and a libevent user event; only then is
 * an ACK written. SIGTERM/SIGINT: stop accepting, let in-flight commits finish
 * and their ACKs go out, then exit 0.
 */
#ifndef SOLENT_ENGINE_DAEMON_H
#define SOLENT_ENGINE_DAEMON_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdbool.h>

#include "engine/conf.h"
#include "engine/intake.h"
#include "engine/router.h"

struct conn;

struct daemon_listener {
    struct daemon *d;
    const struct conf_listener *conf;
    struct evconnlistener *ev;
    size_t nconns;
};

/* A finished commit, handed from the store thread to the loop. */
struct completion {
    struct conn *conn;
    int rc;
    char *ack; /* owned */
    size_t ack_len;
    struct completion *next;
};

struct daemon {
    struct event_base *base;
    struct conf *conf;
    struct router router;
    struct store *store;
    struct intake *intake;
    struct daemon_listener listeners[CONF_MAX_SECTIONS];
    size_t nlisteners;
    struct event *wake, *sigterm, *sigint, *sighup;
    struct conn *conns;   /* every open connection */
    pthread_mutex_t lock; /* guards done */
    struct completion *done, **done_tail;
    size_t inflight;
    bool stopping;
    unsigned long long acks; /* for unique ACK control ids */
};

/* Loads nothing: runs the daemon on a loaded conf until a stop signal; 0 on a clean stop. */
int daemon_run(struct conf *conf, char *err, size_t errlen);
/* Called by a connection when its commit is handed back (loop thread). */
void daemon_inflight_done(struct daemon *d);

#endif
