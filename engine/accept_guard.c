/* accept_guard — pause a listener that runs out of descriptors, instead of spinning. */
#include "engine/accept_guard.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"

static struct accept_guard *guards; /* every guard in place: the error callback finds its own */

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct accept_guard *g = arg;
    (void)fd;
    (void)what;
    evconnlistener_enable(g->ev);
}

static void on_error(struct evconnlistener *ev, void *ptr)
{
    (void)ptr; /* the listener's own argument (evhttp's for the admin endpoint) */
    struct accept_guard *g = guards;
    while (g && g->ev != ev)
        g = g->next;
    int e = EVUTIL_SOCKET_ERROR();
    bool pause = g && (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM);
    log_warn("accept_error", "listener=%s error=%s action=%s resume_in_ms=%d", g ? g->name : "?",
             evutil_socket_error_to_string(e), pause ? "paused" : "none", pause ? 1000 : 0);
    if (pause) {
        struct timeval second = {1, 0};
        evconnlistener_disable(ev);
        event_add(g->resume, &second);
    }
}

void accept_guard_start(struct accept_guard *g, struct evconnlistener *ev, const char *name)
{
    g->ev = ev;
    snprintf(g->name, sizeof g->name, "%s", name);
    if (!(g->resume = evtimer_new(evconnlistener_get_base(ev), on_resume, g)))
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    g->next = guards;
    guards = g;
    evconnlistener_set_error_cb(ev, on_error);
}

void accept_guard_stop(struct accept_guard *g)
{
    if (!g->resume)
        return;
    for (struct accept_guard **p = &guards; *p; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            break;
        }
    event_free(g->resume);
    g->resume = NULL;
}
