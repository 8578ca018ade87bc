/* daemon — `solent run`: the event loop, its listeners, the store thread, signals. */
#include "engine/daemon.h"

#include <arpa/inet.h>
#include <event2/thread.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/accept_guard.h"
#include "engine/admin.h"
#include "engine/cli_files.h"
#include "engine/conn.h"
#include "engine/delivery.h"
#include "engine/log.h"
#include "engine/privs.h"
#include "engine/tls.h"
#include "engine/retention.h"
#include "engine/worker.h"

#define STOP_GRACE_MS 5000 /* a stop waits this long at most for delivery attempts in flight */

static void peer_name(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
        port = ntohs(in->sin6_port);
    }
    snprintf(out, n, "%s:%u", host, port);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    char peer[64];
    (void)ev;
    (void)salen;
    peer_name(sa, peer, sizeof peer);
    conn_accept(arg, fd, peer);
}

static void retire_all(struct daemon *d);

/* A stop ends once nothing is being committed, every connection has closed — those that
 * were committing have written their ACK (or timed out writing it) — and delivery has
 * recorded the outcome of every attempt that was in flight (or the grace ran out). */
static void maybe_exit(struct daemon *d)
{
    if (d->stopping && !d->exiting && d->inflight == 0 && !d->conns && delivery_idle(d->delivery)) {
        d->exiting = true;
        event_base_loopexit(d->base, NULL);
    }
}

void daemon_post(struct daemon *d, struct completion *k)
{
    pthread_mutex_lock(&d->lock);
    k->next = NULL;
    *d->done_tail = k;
    d->done_tail = &k->next;
    pthread_mutex_unlock(&d->lock);
    event_active(d->wake, EV_READ, 0);
}

void daemon_call(struct daemon *d, void (*fn)(void *arg), void *arg)
{
    struct completion *k = calloc(1, sizeof *k);
    if (!k)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    k->fn = fn;
    k->arg = arg;
    daemon_post(d, k);
}

/* The event loop. Each message turns its connection's read interest off while it commits
 * and on again with its ACK's write: with a changelist, the epoll changes of one loop pass
 * are made as one (no fd is ever dup'd here, the changelist's one caveat). */
static struct event_base *new_base(void)
{
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return b;
}

struct daemon_counts *daemon_counts_of(struct daemon *d, const char *listener)
{
    struct daemon_counts *found = (struct daemon_counts *)daemon_counts_find(d, listener);
    if (found)
        return found;
    if (d->ncounts == sizeof d->counts / sizeof d->counts[0])
        return NULL; /* more listener names than that over reloads: no longer counted */
    struct daemon_counts *n = &d->counts[d->ncounts++];
    snprintf(n->listener, sizeof n->listener, "%s", listener);
    return n;
}

const struct daemon_counts *daemon_counts_find(const struct daemon *d, const char *listener)
{
    for (size_t i = 0; i < d->ncounts; i++)
        if (strcmp(d->counts[i].listener, listener) == 0)
            return &d->counts[i];
    return NULL;
}

void daemon_sender_heard(struct daemon *d, const char *app, const char *facility, int64_t now_ms)
{
    struct daemon_sender *x = NULL;
    for (size_t i = 0; i < d->nsenders && !x; i++)
        if (strcmp(d->senders[i].app, app) == 0 && strcmp(d->senders[i].facility, facility) == 0)
            x = &d->senders[i];
    if (!x && d->nsenders < DAEMON_SENDERS) {
        x = &d->senders[d->nsenders++];
        snprintf(x->app, sizeof x->app, "%s", app);
        snprintf(x->facility, sizeof x->facility, "%s", facility);
    } else if (!x) {
        x = &d->senders[DAEMON_SENDERS];
        snprintf(x->app, sizeof x->app, "_other");
    }
    x->last_ms = now_ms;
    x->messages++;
}

struct daemon_route_counts *daemon_route_counts_of(struct daemon *d, const char *route)
{
    for (size_t i = 0; i < d->nroutes; i++)
        if (strcmp(d->routes[i].route, route) == 0)
            return &d->routes[i];
    if (d->nroutes == sizeof d->routes / sizeof d->routes[0])
        return NULL; /* more route names than that over reloads: no longer counted */
    struct daemon_route_counts *n = &d->routes[d->nroutes++];
    snprintf(n->route, sizeof n->route, "%s", route);
    return n;
}

/* Runs what the store thread finished: commits go back to their connections. */
static void run_completions(struct daemon *d, struct completion *k)
{
    bool committed = false;
    while (k) {
        struct completion *next = k->next;
        if (k->fn) {
            k->fn(k->arg);
        } else {
            conn_committed(k->conn, k->rc, k->status, k->ack, k->ack_len);
            committed = true;
        }
        free(k->ack);
        free(k);
        k = next;
    }
    if (committed && d->delivery)
        delivery_kick(d->delivery); /* new outbox rows, perhaps */
}

/* The store thread finished work: hand each piece back. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&d->lock);
    struct completion *k = d->done;
    d->done = NULL;
    d->done_tail = &d->done;
    pthread_mutex_unlock(&d->lock);
    run_completions(d, k);
    maybe_exit(d);
}

void daemon_inflight_done(struct daemon *d)
{
    d->inflight--;
}

void daemon_stop_check(struct daemon *d)
{
    maybe_exit(d);
}

/* The stop's grace is over: delivery attempts still in flight are abandoned (their rows are
 * sent again after the next start). */
static void on_stop_grace(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    if (!delivery_idle(d->delivery))
        log_warn("stop_grace_over", "grace_ms=%d", STOP_GRACE_MS);
    delivery_stop(d->delivery);
    maybe_exit(d);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (d->stopping)
        return;
    d->stopping = true;
    log_info("stopping", "signal=%s inflight=%zu", sig == SIGTERM ? "TERM" : "INT", d->inflight);
    retire_all(d);
    conn_stop_all(d);
    delivery_drain(d->delivery); /* what is in flight finishes and is recorded */
    struct timeval grace = {STOP_GRACE_MS / 1000, (STOP_GRACE_MS % 1000) * 1000};
    d->stop_grace = evtimer_new(d->base, on_stop_grace, d);
    if (!d->stop_grace || evtimer_add(d->stop_grace, &grace) != 0)
        delivery_stop(d->delivery); /* no timer: no waiting either */
    maybe_exit(d);
}

/* A new listener for section cl, listening; NULL with a reason. Not yet in the list. */
static struct daemon_listener *listener_open(struct daemon *d, const struct conf_listener *cl,
                                             char *err, size_t errlen)
{
    struct daemon_listener *l = calloc(1, sizeof *l);
    if (!l)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    l->d = d;
    l->own = *cl;
    l->conf = &l->own;
    char port[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *ai = NULL;
    snprintf(port, sizeof port, "%u", cl->port);
    int gai = getaddrinfo(cl->bind, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "listener %s: bind %s: %s", cl->id.name, cl->bind, gai_strerror(gai));
        free(l);
        return NULL;
    }
    l->ev = evconnlistener_new_bind(
        d->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        128, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!l->ev) {
        snprintf(err, errlen, "listener %s: cannot listen on %s:%u: %s", cl->id.name, cl->bind,
                 cl->port, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        free(l);
        return NULL;
    }
    if (strcmp(cl->tls.mode, "on") == 0 && !(l->tls = tls_server_ctx(&cl->tls, err, errlen))) {
        evconnlistener_free(l->ev);
        free(l);
        return NULL;
    }
    accept_guard_start(&l->guard, l->ev, cl->id.name);
    log_info("listening", "listener=%s bind=%s port=%u tls=%s verify=%s", cl->id.name, cl->bind,
             cl->port, cl->tls.mode, cl->tls.verify);
    return l;
}

static void listener_unlink_free(struct daemon_listener *l)
{
    for (struct daemon_listener **p = &l->d->listeners; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    SSL_CTX_free(l->tls);
    free(l);
}

void daemon_listener_release(struct daemon_listener *l)
{
    if (!l->ev && l->nconns == 0)
        listener_unlink_free(l);
}

/* New settings for an open listener at the same address. Its TLS context is made anew (a
 * renewed certificate, a new CRL); one that cannot be made keeps the old and says why, and
 * so does turning TLS on or off, which needs a new listener (another port). Connections open
 * keep the context they were accepted with. */
static void listener_update(struct daemon_listener *l, const struct conf_listener *cl)
{
    char err[512];
    SSL_CTX *ctx = NULL;
    bool was = l->tls != NULL, now = strcmp(cl->tls.mode, "on") == 0;
    if (was != now || (now && !(ctx = tls_server_ctx(&cl->tls, err, sizeof err)))) {
        log_error("tls_reload_failed", "listener=%s kept=previous error=%s", cl->id.name,
                  was != now ? "tls on/off changes with the listener's address only" : err);
        struct conf_tls kept = l->own.tls;
        l->own = *cl; /* the rest of the settings still apply */
        l->own.tls = kept;
        return;
    }
    l->own = *cl;
    if (now) {
        SSL_CTX_free(l->tls);
        l->tls = ctx;
        log_info("tls_reloaded", "listener=%s", cl->id.name);
    }
}

/* Stops accepting on l; it goes when its last connection does. */
static void listener_retire(struct daemon_listener *l)
{
    if (l->ev) {
        accept_guard_stop(&l->guard);
        evconnlistener_free(l->ev);
        l->ev = NULL;
        log_info("listener_closed", "listener=%s open_connections=%zu", l->conf->id.name,
                 l->nconns);
    }
    daemon_listener_release(l);
}

static void retire_all(struct daemon *d)
{
    for (struct daemon_listener *l = d->listeners, *next; l; l = next) {
        next = l->next;
        listener_retire(l);
    }
}

static const struct conf_listener *find_section(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->nlisteners; i++)
        if (strcmp(c->listeners[i].id.name, name) == 0)
            return &c->listeners[i];
    return NULL;
}

static bool same_address(const struct conf_listener *a, const struct conf_listener *b)
{
    return a->port == b->port && strcmp(a->bind, b->bind) == 0;
}

/* An open listener named name, NULL when there is none. */
static struct daemon_listener *find_open(struct daemon *d, const char *name)
{
    for (struct daemon_listener *l = d->listeners; l; l = l->next)
        if (l->ev && strcmp(l->conf->id.name, name) == 0)
            return l;
    return NULL;
}

/* Opens a listener for every section of c not already open at the same address, into
 * *fresh; -1 with a reason (and *fresh closed and emptied) when one cannot listen. */
static int open_new(struct daemon *d, const struct conf *c, struct daemon_listener **fresh,
                    char *err, size_t errlen)
{
    *fresh = NULL;
    for (size_t i = 0; i < c->nlisteners; i++) {
        struct daemon_listener *old = find_open(d, c->listeners[i].id.name);
        if (old && same_address(old->conf, &c->listeners[i]))
            continue;
        struct daemon_listener *l = listener_open(d, &c->listeners[i], err, errlen);
        if (!l) {
            while (*fresh) {
                struct daemon_listener *next = (*fresh)->next;
                accept_guard_stop(&(*fresh)->guard);
                evconnlistener_free((*fresh)->ev);
                SSL_CTX_free((*fresh)->tls);
                free(*fresh);
                *fresh = next;
            }
            return -1;
        }
        l->next = *fresh;
        *fresh = l;
    }
    return 0;
}

/* A reload: the file read and checked on a thread of its own (code maps can be tens of
 * megabytes; intake goes on meanwhile), then applied on the loop. */
struct reload_job {
    struct daemon *d;
    char file[CONF_TEXT];
    struct conf *conf; /* NULL when the file is not good: err says why */
    char err[512];
};

static void reload_apply(void *arg);

static void *reload_read(void *arg)
{
    struct reload_job *j = arg;
    pthread_setname_np(pthread_self(), "solent-reload");
    j->conf = conf_load(j->file, j->err, sizeof j->err);
    daemon_call(j->d, reload_apply, j); /* its last act: the loop joins it */
    return NULL;
}

/* SIGHUP: the whole file again, read off the loop; a SIGHUP during a reload reads the file
 * once more after it. */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)sig;
    (void)what;
    if (d->stopping)
        return;
    if (!d->delivery) { /* still starting (waiting for its store): the file is read then */
        log_warn("reload_ignored", "detail=%s",
                 "still starting; the configuration is read at start");
        return;
    }
    char why[CONF_TEXT + 64];
    if (log_reopen(why, sizeof why) != 0) /* a rotation moved the file: write a new one */
        log_error("log_reopen_failed", "error=%s kept=previous", why);
    if (d->reloading) {
        d->reload_again = true;
        log_info("reload_queued", "detail=%s", "the file is read again after this read");
        return;
    }
    struct reload_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->d = d;
    snprintf(j->file, sizeof j->file, "%s", d->conf->file);
    if (pthread_create(&d->reload_thread, NULL, reload_read, j) != 0) {
        log_error("reload_failed", "kept=previous error=%s", "cannot start a thread");
        free(j);
        return;
    }
    d->reloading = true;
    d->reload_again = false;
    log_info("reloading", "file=%s", j->file);
}

static void reload_swap(struct daemon *d, struct conf *n, char *err, size_t errlen);

void daemon_reload(struct daemon *d)
{
    on_reload(SIGHUP, 0, d);
}

const struct conf *daemon_conf_hold(struct daemon *d)
{
    d->conf->holds++;
    return d->conf;
}

void daemon_conf_release(struct daemon *d, const struct conf *c)
{
    struct conf *held = (struct conf *)c;
    if (--held->holds == 0 && held != d->conf)
        conf_free(held);
}

/* The file was read (loop thread): swapped in only when all of it is good. */
static void reload_apply(void *arg)
{
    struct reload_job *j = arg;
    struct daemon *d = j->d;
    if (d->reloading) {
        pthread_join(d->reload_thread, NULL);
        d->reloading = false;
    }
    if (d->stopping) {
        conf_free(j->conf);
    } else {
        if (d->reload_again) /* a SIGHUP came while reading: read it again after this one */
            on_reload(SIGHUP, 0, d);
        reload_swap(d, j->conf, j->err, sizeof j->err);
    }
    free(j);
}

/* Swaps in n (taken), or keeps the running configuration when n is NULL or cannot be put in
 * force; err holds or receives the reason. */
static void reload_swap(struct daemon *d, struct conf *n, char *err, size_t errlen)
{
    struct daemon_listener *fresh;
    d->reload_at_ms = store_now_ms();
    if (!n || open_new(d, n, &fresh, err, errlen) != 0) {
        log_error("reload_failed", "kept=previous error=%s", err);
        snprintf(d->reload_error, sizeof d->reload_error, "%s", err);
        conf_free(n);
        return;
    }
    d->reload_error[0] = '\0';
    for (struct daemon_listener *l = d->listeners, *next; l; l = next) {
        next = l->next;
        const struct conf_listener *cl = l->ev ? find_section(n, l->conf->id.name) : NULL;
        if (cl && same_address(l->conf, cl))
            listener_update(l, cl); /* unchanged address: new settings, connections stay */
        else
            listener_retire(l);
    }
    while (fresh) {
        struct daemon_listener *l = fresh;
        fresh = l->next;
        l->next = d->listeners;
        d->listeners = l;
    }
    if (strcmp(n->store.path, d->conf->store.path) != 0 ||
        strcmp(n->store.kind, d->conf->store.kind) != 0)
        log_warn("reload_store_unchanged", "detail=%s", "a new [store] takes a restart");
    struct conf *old = d->conf;
    d->conf = n;
    n->holds = 0;
    if (log_configure(n->engine.log_level, n->engine.log_format, n->engine.log_file, err, errlen))
        log_error("log_reload_failed", "kept=previous error=%s", err);
    delivery_configure(d->delivery, n);
    if (admin_configure(d->admin, n, err, errlen) != 0)
        log_error("admin_reload_failed", "kept=previous error=%s", err);
    retention_configure(d->retention);
    if (old->holds == 0) /* else the last daemon_conf_release frees it */
        conf_free(old);
    log_info("reloaded", "listeners=%zu routes=%zu destinations=%zu", n->nlisteners, n->nroutes,
             n->ndestinations);
}

static int register_events(struct daemon *d, char *err, size_t errlen)
{
    d->wake = event_new(d->base, -1, EV_READ | EV_PERSIST, on_wake, d);
    d->sigterm = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
    d->sigint = evsignal_new(d->base, SIGINT, on_stop_signal, d);
    d->sighup = evsignal_new(d->base, SIGHUP, on_reload, d);
    if (!d->wake || !d->sigterm || !d->sigint || !d->sighup || event_add(d->wake, NULL) ||
        event_add(d->sigterm, NULL) || event_add(d->sigint, NULL) || event_add(d->sighup, NULL)) {
        snprintf(err, errlen, "cannot register the loop's events");
        return -1;
    }
    return 0;
}

/* Passes ms with the loop running, so the admin endpoint answers (/readyz: 503 until the
 * engine has its store) and a stop signal is heard while the store is waited for; false once
 * stopping. */
static bool wait_serving(void *arg, unsigned ms)
{
    struct daemon *d = arg;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (!d->stopping && event_base_loopexit(d->base, &tv) == 0)
        event_base_dispatch(d->base);
    return !d->stopping;
}

/* The store's connections past intake's: with [store] pool = 2 delivery's claims and records
 * run on a thread and a connection of their own, with 3 the rest (the admin's reads,
 * retention's purges) on a third, so neither waits behind intake's commits; fewer, or a store
 * with one writer at a time (SQLite, !store_parallel), and they share intake's. */
static int start_pool(struct daemon *d, const struct conf *conf, char *err, size_t errlen)
{
    unsigned n = store_parallel(d->store) ? conf->store.pool : 1;
    struct intake **role[] = {&d->jobs, &d->chores};
    for (unsigned i = 0; i < 2; i++) {
        *role[i] = i + 1 < n ? NULL : d->intake;
        if (*role[i])
            continue;
        if (!(d->pool_store[i] = store_open_waiting(&conf->store, wait_serving, d, err, errlen)) ||
            store_attach_engine(d->pool_store[i], conf->engine.name, err, errlen) != 0 ||
            !(d->pool[i] = intake_start(d->pool_store[i], err, errlen)))
            return -1;
        *role[i] = d->pool[i];
    }
    return 0;
}

/* Stops the pool's threads (what they were given runs first), delivery's before the rest. */
static void stop_pool(struct daemon *d)
{
    for (unsigned i = 0; i < 2; i++) {
        intake_stop(d->pool[i]);
        d->pool[i] = NULL;
    }
    d->jobs = d->chores = NULL;
}

static void daemon_cleanup(struct daemon *d)
{
    d->stopping = true; /* a reload still being read is dropped (its completion, below) */
    if (d->reloading) {
        pthread_join(d->reload_thread, NULL);
        d->reloading = false;
    }
    retire_all(d);
    worker_stop(d->worker); /* before the connections it converts for, and before intake */
    d->worker = NULL;
    conn_close_all(d); /* frees the listeners they kept */
    delivery_stop(d->delivery);
    stop_pool(d);
    if (d->intake)
        intake_stop(d->intake);
    d->intake = NULL;
    /* what the stop flushed may have queued completions: no connection waits for them now,
     * other jobs' continuations still free what they own */
    for (struct completion *k = d->done, *next; k; k = next) {
        next = k->next;
        if (k->fn)
            k->fn(k->arg);
        free(k->ack);
        free(k);
    }
    delivery_free(d->delivery);
    admin_free(d->admin);
    retention_free(d->retention);
    for (unsigned i = 0; i < 2; i++)
        store_close(d->pool_store[i]);
    store_close(d->store);
    if (d->wake)
        event_free(d->wake);
    if (d->sigterm)
        event_free(d->sigterm);
    if (d->sigint)
        event_free(d->sigint);
    if (d->sighup)
        event_free(d->sighup);
    if (d->stop_grace)
        event_free(d->stop_grace);
    if (d->base)
        event_base_free(d->base);
    pthread_mutex_destroy(&d->lock);
    conf_free(d->conf);
}

int daemon_run(struct conf *conf, char *err, size_t errlen)
{
    static struct daemon dd; /* one per process: signals are process-wide */
    struct daemon *d = &dd;
    memset(d, 0, sizeof *d);
    d->conf = conf;
    d->done_tail = &d->done;
    d->started_ms = store_now_ms();
    pthread_mutex_init(&d->lock, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit is a failed write (EFBIG), not a kill */
    /* every connection is a descriptor: take all the system allows this process */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    getrlimit(RLIMIT_NOFILE, &files);
    int rc = -1;
    if (evthread_use_pthreads() != 0 || !(d->base = new_base())) {
        snprintf(err, errlen, "cannot start the event loop");
        goto out;
    }
    if (register_events(d, err, errlen) != 0)
        goto out;
    /* a database not there yet is waited for with the admin endpoint up (/readyz: 503) */
    if (!(d->store = store_open_conf(&conf->store, err, errlen)) &&
        strstr(err, STORE_UNREACHABLE) && (d->admin = admin_start(d, conf, err, errlen)) &&
        !(d->store = store_open_waiting(&conf->store, wait_serving, d, err, errlen)) && d->stopping)
        rc = 0; /* a stop while waiting: nothing was taken, nothing to finish */
    if (!d->store)
        goto out;
    if (store_attach_engine(d->store, conf->engine.name, err, errlen) != 0 ||
        (!d->admin && !(d->admin = admin_start(d, conf, err, errlen))) ||
        !(d->intake = intake_start(d->store, err, errlen)) ||
        start_pool(d, conf, err, errlen) != 0 ||
        !(d->worker = worker_start("solent-work", err, errlen)))
        goto out;
    if (!(d->retention = retention_start(d))) {
        snprintf(err, errlen, "cannot start the retention timer");
        goto out;
    }
    struct daemon_listener *fresh;
    if (open_new(d, conf, &fresh, err, errlen) != 0)
        goto out;
    d->listeners = fresh;
    if (privs_drop(conf, conf->engine.user, err, errlen) != 0) /* ports bound, files open */
        goto out;
    /* after the drop: no file it writes is root's; its jobs answer through d->wake */
    if (!(d->delivery = delivery_start(d, err, errlen)))
        goto out;
    delivery_configure(d->delivery, conf);
    admin_started(d->admin);
    log_info("started", "version=%s store=%s listeners=%zu routes=%zu open_files_max=%llu",
             SOLENT_VERSION,
             strcmp(conf->store.kind, "postgres") == 0 ? "postgres" : conf->store.path,
             conf->nlisteners, conf->nroutes, (unsigned long long)files.rlim_cur);
    if (event_base_dispatch(d->base) < 0) {
        snprintf(err, errlen, "the event loop failed");
        goto out;
    }
    rc = 0;
out:
    if (rc == 0 && d->intake) { /* the last commits first, then the figures */
        worker_stop(d->worker); /* idle: the stop waited for every frame in flight */
        d->worker = NULL;
        delivery_stop(d->delivery);
        stop_pool(d); /* delivery's last records first */
        intake_stop(d->intake);
        d->intake = NULL;
        struct store_stats st = store_stats(d->store);
        log_info("stopped", "transactions=%llu messages=%llu", (unsigned long long)st.transactions,
                 (unsigned long long)st.messages);
    }
    daemon_cleanup(d);
    return rc;
}
