/*
 * daemon — `solent run`: one libevent loop thread serving every listener, and
 * the store thread (intake) committing what the connections submit. Completions
 * come back to the loop through a queue and a libevent user event; only then is
 * an ACK written. SIGTERM/SIGINT: stop accepting, let in-flight commits finish
 * and their ACKs go out, then exit 0. SIGHUP: load and check the whole file again;
 * on success open new listeners, close removed ones (their open connections run
 * to their end), keep unchanged ones and their connections, and swap the routing
 * table; on any error keep everything as it was and log why.
 */
#ifndef SOLENT_ENGINE_DAEMON_H
#define SOLENT_ENGINE_DAEMON_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdbool.h>

#include "engine/accept_guard.h"
#include "engine/conf.h"
#include "engine/hist.h"
#include "engine/intake.h"
#include "engine/store.h"
#include "engine/router.h"

struct admin;
struct conn;
struct retention;

/* A listener owns a copy of its section, so a reload can free the old conf at once. */
struct daemon_listener {
    struct daemon *d;
    struct conf_listener own;
    const struct conf_listener *conf; /* &own */
    struct evconnlistener *ev;        /* NULL once retired (removed by a reload, or stopping) */
    struct accept_guard guard;        /* pauses accepting when out of descriptors */
    struct ssl_ctx_st *tls;           /* the TLS context (tls = on), else NULL; each
                                         connection's SSL holds a reference of its own */
    size_t nconns;
    struct daemon_listener *next;
};

/* Work finished on the store thread, handed to the loop: a connection's commit, or (fn set)
 * any other job's continuation, fn(arg). */
struct completion {
    void (*fn)(void *arg);
    void *arg;
    struct conn *conn;
    int rc;
    enum store_status status;
    char *ack; /* owned */
    size_t ack_len;
    struct completion *next;
};

/* What /metrics counts of one listener's messages since the start (kept across reloads). */
struct daemon_counts {
    char listener[CONF_NAME];
    uint64_t by_status[STORE_STATUSES]; /* committed, by enum store_status */
    uint64_t not_stored;                /* the store failed: no positive ACK went out */
    uint64_t tls_failures;              /* handshakes that failed (tls_failed) */
    uint64_t refused;                   /* connections refused: not a listed peer, or its
                                           peer's max_connections open */
    uint64_t waits;                     /* frames held: max_in_flight reached */
    int64_t last_ms;                    /* the last message stored (rejected ones too), 0: none */
    struct hist ack;                    /* a whole frame in → its ACK written, seconds */
};

/* A sender (MSH-3/MSH-4) and when it was last heard of, for the "interface went quiet" alarm.
 * At most DAEMON_SENDERS are told apart; the rest are counted together as "_other". */
#define DAEMON_SENDERS 256
struct daemon_sender {
    char app[CONF_NAME], facility[CONF_NAME];
    int64_t last_ms;
    uint64_t messages;
};

/* What the transforms of one route left unused (the ledger's counts), for /metrics. */
struct daemon_route_counts {
    char route[CONF_NAME];
    uint64_t transformed, warnings, unmapped; /* messages stored; their ledger's lines */
};

struct daemon {
    struct event_base *base;
    struct conf *conf;
    struct store *store;
    struct intake *intake;
    /* [store] pool: the store's connections past intake's, each with a thread of its own
     * (store_parallel); jobs and chores are one of them or intake itself */
    struct store *pool_store[2];
    struct intake *pool[2];
    struct intake *jobs;   /* where delivery's claims and records run */
    struct intake *chores; /* where the rest runs: the admin's reads, retention's purges */
    struct worker *worker; /* converts large frames off the loop (conn.c) */
    struct delivery *delivery;
    struct daemon_listener *listeners; /* open ones, and retired ones still serving a peer */
    struct event *wake, *sigterm, *sigint, *sighup;
    struct event *stop_grace; /* a stop: how long delivery attempts in flight may take */
    struct conn *conns;       /* every open connection */
    pthread_mutex_t lock;     /* guards done */
    struct completion *done, **done_tail;
    size_t inflight;
    bool stopping, exiting;       /* a stop signal came; the loop was told to end */
    pthread_t reload_thread;      /* reading the file for a SIGHUP, while reloading */
    bool reloading, reload_again; /* a SIGHUP came during the read: read once more */
    unsigned long long acks;      /* for unique ACK control ids */
    struct daemon_counts counts[2 * CONF_MAX_SECTIONS];
    size_t ncounts;
    struct daemon_route_counts routes[2 * CONF_MAX_SECTIONS];
    size_t nroutes;
    struct daemon_sender senders[DAEMON_SENDERS + 1]; /* the last: "_other" */
    size_t nsenders;
    int64_t started_ms;
    int64_t reload_at_ms;   /* the last reload (0: none since the start) */
    char reload_error[512]; /* and why it was refused ("": it took) */
    struct admin *admin;    /* NULL while [admin] is off */
    struct retention *retention;
};

/* Runs the daemon on a loaded conf (taken: freed here) until a stop signal; 0 on a clean
 * stop, -1 with a reason when it cannot start. */
int daemon_run(struct conf *conf, char *err, size_t errlen);
/* A reload as on SIGHUP (the admin API's POST /api/reload); loop thread. */
void daemon_reload(struct daemon *d);
/* The configuration in force, kept past a reload until released: for a job that reads it off
 * the loop (a replay). Loop thread, both. */
const struct conf *daemon_conf_hold(struct daemon *d);
void daemon_conf_release(struct daemon *d, const struct conf *c);
/* Hands k to the loop thread (from any thread). */
void daemon_post(struct daemon *d, struct completion *k);
/* Runs fn(arg) on the loop thread (from any thread). */
void daemon_call(struct daemon *d, void (*fn)(void *arg), void *arg);
/* Called by a connection when its commit is handed back (loop thread). */
void daemon_inflight_done(struct daemon *d);
/* Something a stop waits for has finished — a connection closed, a delivery attempt or
 * record ended (loop thread): the stop may be complete. */
void daemon_stop_check(struct daemon *d);
/* The counters of the listener named so (loop thread); NULL when the table is full. */
struct daemon_counts *daemon_counts_of(struct daemon *d, const char *listener);
/* The counts of a route, by name (created on first use; NULL past the table's size). */
/* The counts of listener, NULL when it has none yet (for reading them). */
const struct daemon_counts *daemon_counts_find(const struct daemon *d, const char *listener);
/* A message from app|facility stored at now_ms (a rejected one is not counted: it may be
 * anyone's, with anything in MSH-3). */
void daemon_sender_heard(struct daemon *d, const char *app, const char *facility, int64_t now_ms);
struct daemon_route_counts *daemon_route_counts_of(struct daemon *d, const char *route);
/* Called when a connection of l closes: frees l if it was retired and this was its last. */
void daemon_listener_release(struct daemon_listener *l);

#endif
