/* daemon — `solent run`: the event loop, its listeners, the store thread, signals. */
#include "engine/daemon.h"

#include <arpa/inet.h>
#include <event2/thread.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/conn.h"

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

static void on_accept_error(struct evconnlistener *ev, void *arg)
{
    struct daemon_listener *l = arg;
    (void)ev;
    fprintf(stderr, "event=accept_error listener=%s error=%s\n", l->conf->id.name,
            evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void maybe_exit(struct daemon *d)
{
    if (d->stopping && d->inflight == 0)
        event_base_loopexit(d->base, NULL);
}

/* The store thread finished commits: hand each back to its connection. */
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
    while (k) {
        struct completion *next = k->next;
        conn_committed(k->conn, k->rc, k->ack, k->ack_len);
        free(k->ack);
        free(k);
        k = next;
    }
    maybe_exit(d);
}

void daemon_inflight_done(struct daemon *d)
{
    d->inflight--;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (d->stopping)
        return;
    d->stopping = true;
    fprintf(stderr, "event=stopping signal=%s inflight=%zu\n", sig == SIGTERM ? "TERM" : "INT",
            d->inflight);
    for (size_t i = 0; i < d->nlisteners; i++) {
        evconnlistener_free(d->listeners[i].ev);
        d->listeners[i].ev = NULL;
    }
    maybe_exit(d);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    fprintf(stderr, "event=reload_unsupported detail=restart solent to apply a changed "
                    "configuration\n");
}

static int listen_on(struct daemon *d, struct daemon_listener *l, char *err, size_t errlen)
{
    char port[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *ai = NULL;
    snprintf(port, sizeof port, "%u", l->conf->port);
    int gai = getaddrinfo(l->conf->bind, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "listener %s: bind %s: %s", l->conf->id.name, l->conf->bind,
                 gai_strerror(gai));
        return -1;
    }
    l->ev = evconnlistener_new_bind(
        d->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        128, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!l->ev) {
        snprintf(err, errlen, "listener %s: cannot listen on %s:%u: %s", l->conf->id.name,
                 l->conf->bind, l->conf->port,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    evconnlistener_set_error_cb(l->ev, on_accept_error);
    fprintf(stderr, "event=listening listener=%s bind=%s port=%u\n", l->conf->id.name,
            l->conf->bind, l->conf->port);
    return 0;
}

static void daemon_cleanup(struct daemon *d)
{
    for (size_t i = 0; i < d->nlisteners; i++)
        if (d->listeners[i].ev)
            evconnlistener_free(d->listeners[i].ev);
    conn_close_all(d);
    if (d->intake)
        intake_stop(d->intake);
    /* commits the stop flushed may have queued completions: nobody is waiting now */
    for (struct completion *k = d->done, *next; k; k = next) {
        next = k->next;
        free(k->ack);
        free(k);
    }
    store_close(d->store);
    if (d->wake)
        event_free(d->wake);
    if (d->sigterm)
        event_free(d->sigterm);
    if (d->sigint)
        event_free(d->sigint);
    if (d->sighup)
        event_free(d->sighup);
    if (d->base)
        event_base_free(d->base);
    pthread_mutex_destroy(&d->lock);
}

int daemon_run(struct conf *conf, char *err, size_t errlen)
{
    static struct daemon dd; /* one per process: signals are process-wide */
    struct daemon *d = &dd;
    memset(d, 0, sizeof *d);
    d->conf = conf;
    d->done_tail = &d->done;
    pthread_mutex_init(&d->lock, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = -1;
    if (evthread_use_pthreads() != 0 || !(d->base = event_base_new())) {
        snprintf(err, errlen, "cannot start the event loop");
        goto out;
    }
    router_build(&d->router, conf);
    if (!(d->store = store_open(conf->store.path, err, errlen)))
        goto out;
    if (!(d->intake = intake_start(d->store, err, errlen)))
        goto out;
    d->wake = event_new(d->base, -1, EV_READ | EV_PERSIST, on_wake, d);
    d->sigterm = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
    d->sigint = evsignal_new(d->base, SIGINT, on_stop_signal, d);
    d->sighup = evsignal_new(d->base, SIGHUP, on_hup, d);
    if (!d->wake || !d->sigterm || !d->sigint || !d->sighup || event_add(d->wake, NULL) ||
        event_add(d->sigterm, NULL) || event_add(d->sigint, NULL) || event_add(d->sighup, NULL)) {
        snprintf(err, errlen, "cannot register the loop's events");
        goto out;
    }
    for (size_t i = 0; i < conf->nlisteners; i++) {
        struct daemon_listener *l = &d->listeners[d->nlisteners++];
        l->d = d;
        l->conf = &conf->listeners[i];
        if (listen_on(d, l, err, errlen) != 0)
            goto out;
    }
    fprintf(stderr, "event=started version=%s store=%s listeners=%zu routes=%zu\n", SOLENT_VERSION,
            conf->store.path, conf->nlisteners, conf->nroutes);
    if (event_base_dispatch(d->base) < 0) {
        snprintf(err, errlen, "the event loop failed");
        goto out;
    }
    fprintf(stderr, "event=stopped\n");
    rc = 0;
out:
    daemon_cleanup(d);
    return rc;
}
