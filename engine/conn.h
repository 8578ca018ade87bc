/*
 * conn — one MLLP connection: a bufferevent, a framer, and a small state
 * machine. READING frames; one frame at a time goes to the pipeline and the
 * store (MLLP is one message at a time per connection), reading paused
 * (COMMITTING) until the commit is durable and the ACK is written; CLOSING when
 * the peer failed during a commit (freed when the commit comes back); DRAINING
 * when the peer half-closed: every frame it sent is answered, and the
 * connection closes once those ACKs are written.
 */
#ifndef SOLENT_ENGINE_CONN_H
#define SOLENT_ENGINE_CONN_H

#include <event2/util.h>

#include "engine/daemon.h"

/* Takes a new connection on fd accepted by listener l. */
void conn_accept(struct daemon_listener *l, evutil_socket_t fd, const char *peer);
/* The commit of the connection's current frame is done (loop thread). */
void conn_committed(struct conn *c, int rc, enum store_status status, const char *ack,
                    size_t ack_len);
/* On a stop signal: closes every connection between messages; the others close once the
 * ACK of the message they are committing is written. */
/* Calls fn for each open connection with its listener's name and who is at the other end:
 * its [peer] name, else its verified certificate identity, else its address. */
void conn_each(struct daemon *d, void (*fn)(void *arg, const char *listener, const char *who),
               void *arg);
void conn_stop_all(struct daemon *d);
/* After the loop has ended: closes and frees every connection left. */
void conn_close_all(struct daemon *d);

#endif
