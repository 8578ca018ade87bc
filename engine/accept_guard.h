/*
 * accept_guard — a listening socket that pauses instead of spinning. When accept fails
 * for want of descriptors or memory, the connection stays pending and the socket stays
 * readable, and libevent would call back at once, for ever: the guard logs it, stops
 * accepting for a second, and starts again. For our MLLP listeners and for the admin
 * endpoint's (evhttp's) alike. Loop thread only.
 */
#ifndef SOLENT_ENGINE_ACCEPT_GUARD_H
#define SOLENT_ENGINE_ACCEPT_GUARD_H

#include <event2/listener.h>

struct accept_guard {
    struct evconnlistener *ev;
    struct event *resume;
    char name[64]; /* for the log: the listener's name */
    struct accept_guard *next;
};

/* Guards ev (its error callback becomes the guard's); g stays in place until
 * accept_guard_stop. Aborts when out of memory. */
void accept_guard_start(struct accept_guard *g, struct evconnlistener *ev, const char *name);
/* Before ev is freed. */
void accept_guard_stop(struct accept_guard *g);

#endif
