/* conn — MLLP connections: framing, one message at a time, ACK after durability. */
#include "engine/conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "engine/log.h"
#include "engine/peers.h"
#include "engine/pipeline.h"
#include "engine/tls.h"
#include "engine/worker.h"
#include "parsers/hl7_ack.h"
#include "parsers/hl7_batch.h"
#include "parsers/mllp.h"

/* BLOCKED: the peer has left more than UNREAD_MAX bytes of ACKs unread (it sends without
 * reading): no reading until they drain to half that, so a peer cannot make the engine buffer
 * without bound. WAITING: a whole frame is held because its listener or its peer has
 * max_in_flight messages being converted or committed; it goes on when one of those is. */
enum conn_state {
    CONN_READING,
    CONN_COMMITTING,
    CONN_CLOSING,
    CONN_DRAINING,
    CONN_BLOCKED,
    CONN_WAITING
};

static const char *const state_names[] = {"reading",  "committing", "closing",
                                          "draining", "blocked",    "waiting"};

#define UNREAD_MAX    (64u << 10)
#define INLINE_MAX    (64u << 10) /* larger frames are converted on the worker thread */
#define STOP_WRITE_MS 5000u       /* stopping: how long a peer has to read its last ACKs */
#define ACKS_MAX      (8u << 20)  /* a batch ACK lists at most this many bytes of ACKs */

/* What the read timer is counting: nothing (a commit is under way), the time since the last
 * whole frame (idle: bytes that make no frame do not count), or the time a started frame has
 * to end (frame: a peer trickling bytes cannot hold a connection for ever). */
enum conn_timer { TIMER_NONE, TIMER_IDLE, TIMER_FRAME, TIMER_HANDSHAKE };

struct conn {
    struct daemon_listener *l;
    struct bufferevent *bev;
    struct event *timer; /* the read timer: idle or frame */
    enum conn_timer timer_kind;
    char addr[64]; /* the peer's address without its port: the per-peer limit counts it */
    struct mllp_framer framer;
    enum conn_state state;
    struct pipeline_result result;
    char peer[64];
    char identity[256];        /* the verified certificate's CN and SANs, else the address */
    char peer_name[CONF_NAME]; /* the [peer] that names it, "" when none does */
    bool handshaking;          /* TLS: no frame before the handshake is done */
    unsigned long long id;
    bool eof;                 /* the peer has finished sending (it may still read) */
    struct timespec frame_at; /* when the frame being committed was whole */
    struct conn_batch *batch; /* a batch frame being worked through, or NULL */
    char *held;               /* WAITING: the frame, a copy */
    size_t held_len;
    unsigned long long waiting_since; /* WAITING: its turn (the first held goes first) */
    struct conn *prev, *next;         /* in the daemon's list */
};

/* A frame holding a batch (FHS/BHS ... BTS/FTS): its messages are stored, routed and
 * transformed one by one, as frames of their own would be; one batch ACK answers them all,
 * listing the ACKs of those not accepted, once every one is committed. */
struct conn_batch {
    char *data; /* the frame: the split points into it */
    size_t len;
    struct hl7_batch split;
    size_t next;        /* the message being committed */
    struct strbuf acks; /* the ACKs of the messages not accepted */
    size_t nacks;
    size_t unlisted; /* not accepted, but past ACKS_MAX of ACKs */
};

static void batch_free(struct conn_batch *b)
{
    if (!b)
        return;
    free(b->data);
    hl7_batch_cleanup(&b->split);
    strbuf_cleanup(&b->acks);
    free(b);
}

static void conn_set_state(struct conn *c, enum conn_state s)
{
    if (log_enabled(LOG_DEBUG))
        log_debug("conn_state", "conn=%llu from=%s to=%s", c->id, state_names[c->state],
                  state_names[s]);
    c->state = s;
}

static void conn_free(struct conn *c)
{
    log_info("conn_closed", "listener=%s conn=%llu peer=%s frames=%llu skipped=%llu",
             c->l->conf->id.name, c->id, c->peer, (unsigned long long)c->framer.frames,
             (unsigned long long)c->framer.skipped);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->l->d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    event_free(c->timer);
    mllp_cleanup(&c->framer);
    pipeline_result_cleanup(&c->result);
    batch_free(c->batch);
    free(c->held);
    c->l->nconns--;
    struct daemon *d = c->l->d;
    daemon_listener_release(c->l);
    free(c);
    daemon_stop_check(d);
}

/* Writes one ACK frame in one write, as real clients need. */
static void send_frame(struct conn *c, const char *p, size_t n)
{
    struct strbuf framed;
    strbuf_init(&framed, n + 8);
    mllp_wrap(p, n, &framed);
    bufferevent_write(c->bev, framed.p, framed.len);
    strbuf_cleanup(&framed);
}

static void on_intake_done(void *arg, int rc, int64_t id, enum store_status status, const char *ack,
                           size_t ack_len)
{
    struct conn *c = arg; /* store thread: hand it to the loop */
    struct daemon *d = c->l->d;
    struct completion *k = calloc(1, sizeof *k);
    if (!k)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    (void)id;
    k->conn = c;
    k->rc = rc;
    k->status = status;
    k->ack_len = ack_len;
    k->ack = malloc(ack_len + 1);
    if (!k->ack)
        abort();
    memcpy(k->ack, ack ? ack : "", ack_len);
    daemon_post(d, k);
}

/* The write timeout (the listener's idle timeout), armed only while ACKs wait for a peer that
 * may not read them (BLOCKED, DRAINING): not per ACK, which would add a timer to every
 * message. Once stopping, a peer has at most STOP_WRITE_MS to read what is left. */
static void conn_write_timeout(struct conn *c, bool on)
{
    uint32_t ms = c->l->conf->idle_timeout_ms;
    if (c->l->d->stopping && ms > STOP_WRITE_MS)
        ms = STOP_WRITE_MS;
    struct timeval t = {ms / 1000, (ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, NULL, on ? &t : NULL);
}

/* Sets the read timer to kind (from now), unless it already counts that: bytes that arrive
 * during a frame, or junk between frames, restart nothing. */
static void conn_arm(struct conn *c, enum conn_timer kind)
{
    if (c->timer_kind == kind)
        return;
    c->timer_kind = kind;
    if (kind == TIMER_NONE) {
        evtimer_del(c->timer);
        return;
    }
    uint32_t ms = kind == TIMER_IDLE        ? c->l->conf->idle_timeout_ms
                  : kind == TIMER_HANDSHAKE ? c->l->conf->handshake_timeout_ms
                                            : c->l->conf->frame_timeout_ms;
    struct timeval t = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->timer, &t);
}

/* While reading: a frame begun must end in frame_timeout_ms; between frames, the next must
 * come within idle_timeout_ms of the last. */
static void conn_arm_reading(struct conn *c)
{
    if (c->state == CONN_READING)
        conn_arm(c, mllp_in_frame(&c->framer) ? TIMER_FRAME : TIMER_IDLE);
}

/* A frame converted off the loop: a copy of everything the pipeline reads, so neither a
 * reload (a new conf, new listener settings) nor the loop's buffers can change under it. */
struct conn_job {
    struct conn *c;
    struct conf *conf; /* a reference */
    struct conf_listener listener;
    struct pipeline_ctx ctx;
    char id[32], when[32];
    char *frame;
    size_t len;
};

static void frame_context(struct conn *c, struct pipeline_ctx *ctx, char *id, char *when)
{
    struct daemon *d = c->l->d;
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(id, 32, "SOLENT%lld%04llu", (long long)tv.tv_sec, ++d->acks % 10000);
    strftime(when, 32, "%Y%m%d%H%M%S+0000", &tm);
    *ctx = (struct pipeline_ctx){d->conf,
                                 c->l->conf,
                                 (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000,
                                 id,
                                 when,
                                 c->peer_name[0] ? c->peer_name : NULL,
                                 c->peer_name[0] ? c->peer_name : c->identity};
}

/* Processes the frame and hands the record to the store thread (the loop, or the worker). */
static void convert_and_submit(struct conn *c, const struct pipeline_ctx *ctx, const char *p,
                               size_t n)
{
    pipeline_process(ctx, p, n, &c->result);
    intake_submit(c->l->d->intake, intake_item_new(&c->result.record, on_intake_done, c));
}

static void convert_job(void *arg) /* worker thread */
{
    struct conn_job *j = arg;
    convert_and_submit(j->c, &j->ctx, j->frame, j->len);
    conf_free(j->conf);
    free(j->frame);
    free(j);
}

/* A large frame goes to the worker with copies of what it needs; the connection waits in
 * COMMITTING as for any other. */
static void convert_off_loop(struct conn *c, const struct pipeline_ctx *ctx, const char *p,
                             size_t n)
{
    struct conn_job *j = calloc(1, sizeof *j);
    if (!j || !(j->frame = malloc(n ? n : 1)))
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    memcpy(j->frame, p, n);
    j->len = n;
    j->c = c;
    j->conf = conf_ref(c->l->d->conf);
    j->listener = *c->l->conf;
    snprintf(j->id, sizeof j->id, "%s", ctx->ack_id);
    snprintf(j->when, sizeof j->when, "%s", ctx->ack_time);
    j->ctx = (struct pipeline_ctx){
        j->conf, &j->listener, ctx->now_ms, j->id,
        j->when, ctx->peer,    ctx->who}; /* the conn's: alive while it commits */
    worker_submit(c->l->d->worker, convert_job, j);
}

/* One message to commit: converted here, or on the worker when it is big. */
static void submit_frame(struct conn *c, const struct pipeline_ctx *ctx, const char *p, size_t n)
{
    c->l->d->inflight++;
    if (n > INLINE_MAX) /* its conversion takes as long as it is big: not on the loop */
        convert_off_loop(c, ctx, p, n);
    else
        convert_and_submit(c, ctx, p, n);
}

/* Sends the batch ACK once every message of the batch is committed. */
static void batch_answer(struct conn *c)
{
    struct conn_batch *b = c->batch;
    struct pipeline_ctx ctx;
    char id[32], when[32];
    struct strbuf ack;
    frame_context(c, &ctx, id, when);
    strbuf_init(&ack, 4096 + b->len + b->acks.len); /* its header echoes the batch's */
    if (hl7_batch_ack_build(b->data, b->len, b->split.n, b->acks.p, b->acks.len, b->nacks, id, when,
                            &ack) == 0)
        send_frame(c, ack.p, ack.len);
    strbuf_cleanup(&ack);
    log_info("batch_answered", "listener=%s conn=%llu messages=%zu not_accepted=%zu",
             c->l->conf->id.name, c->id, b->split.n, b->nacks + b->unlisted);
    batch_free(b);
    c->batch = NULL;
}

/* A batch frame: split (a wrong BTS/FTS count, a stray segment: the batch is refused whole,
 * AR, nothing of it stored). True when it has messages to commit (c->batch is set); false
 * when it is answered already (refused, or empty). */
static bool batch_open(struct conn *c, const struct pipeline_ctx *ctx, const char *p, size_t n)
{
    struct conn_batch *b = calloc(1, sizeof *b);
    struct hl7_err e;
    if (!b || !(b->data = malloc(n)))
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    memcpy(b->data, p, n);
    b->len = n;
    hl7_batch_init(&b->split);
    strbuf_init(&b->acks, ACKS_MAX);
    c->batch = b;
    if (hl7_batch_split(&b->split, b->data, n, &e) != 0) {
        struct hl7_ack a = {"AR", ctx->ack_id, ctx->ack_time, "batch refused whole", &e, 0};
        struct strbuf ack;
        strbuf_init(&ack, 4096);
        hl7_ack_build(NULL, &a, &ack);
        send_frame(c, ack.p, ack.len);
        strbuf_cleanup(&ack);
        log_warn("batch_refused", "listener=%s conn=%llu segment=%s seq=%u reason=%s",
                 c->l->conf->id.name, c->id, e.loc.seg, (unsigned)e.loc.seq, e.text);
        batch_free(b);
        c->batch = NULL;
        return false;
    }
    log_info("batch_received", "listener=%s conn=%llu messages=%zu", c->l->conf->id.name, c->id,
             b->split.n);
    if (b->split.n == 0) {
        batch_answer(c);
        return false;
    }
    return true;
}

/* True when an ACK's MSA-1 is AA or CA (a duplicate is answered with its first ACK, which
 * may be an AE); an ACK not sent (MSH-15 NE) lists nothing. */
static bool ack_says_accepted(const char *ack, size_t len)
{
    for (size_t i = 0; i + 7 <= len; i++)
        if (ack[i] == '\r' && memcmp(ack + i + 1, "MSA", 3) == 0)
            return ack[i + 6] == 'A' && (ack[i + 5] == 'A' || ack[i + 5] == 'C');
    return len == 0;
}

/* A message of the batch committed: its ACK kept when it was not accepted; the next one, or
 * the batch ACK. Returns true while the batch goes on. */
static bool batch_step(struct conn *c, const char *ack, size_t ack_len)
{
    struct conn_batch *b = c->batch;
    if (!ack_says_accepted(ack, ack_len) && strbuf_append(&b->acks, ack, ack_len) == 0)
        b->nacks++; /* (past ACKS_MAX the batch ACK lists the first ones; the log counts all) */
    else if (!ack_says_accepted(ack, ack_len))
        b->unlisted++;
    if (++b->next < b->split.n) {
        struct pipeline_ctx ctx;
        char id[32], when[32];
        frame_context(c, &ctx, id, when);
        submit_frame(c, &ctx, b->data + b->split.msgs[b->next].off, b->split.msgs[b->next].len);
        return true;
    }
    batch_answer(c);
    return false;
}

/* The [peer] of c in the configuration in force (NULL: none, or none since a reload). */
static const struct conf_peer *peer_of(const struct conn *c)
{
    const struct conf *conf = c->l->d->conf;
    for (size_t i = 0; c->peer_name[0] && i < conf->npeers; i++)
        if (strcmp(conf->peers[i].id.name, c->peer_name) == 0)
            return &conf->peers[i];
    return NULL;
}

/* Which max_in_flight another message of c's would pass — "listener", "peer" — or NULL. */
static const char *in_flight_full(const struct conn *c)
{
    const struct conf_peer *p = peer_of(c);
    uint32_t at_listener = c->l->conf->max_in_flight, at_peer = p ? p->max_in_flight : 0;
    if (!at_listener && !at_peer)
        return NULL;
    uint32_t of_listener = 0, of_peer = 0;
    for (const struct conn *o = c->l->d->conns; o; o = o->next)
        if (o != c && (o->state == CONN_COMMITTING || o->state == CONN_CLOSING)) {
            of_listener += o->l == c->l;
            of_peer += at_peer && strcmp(o->peer_name, c->peer_name) == 0;
        }
    return at_listener && of_listener >= at_listener ? "listener"
           : at_peer && of_peer >= at_peer           ? "peer"
                                                     : NULL;
}

static unsigned long long waits; /* frames held so far: the order they go on in */

/* A whole frame to commit (reading is off): a batch is split and its messages go one by one,
 * as frames of their own. 1 once it is submitted; 0 when it was answered at once (a batch
 * refused, or empty) and reading goes on. */
static int dispatch_frame(struct conn *c, const struct pipeline_ctx *ctx, const char *p, size_t n)
{
    bool batch = n >= 3 && (memcmp(p, "FHS", 3) == 0 || memcmp(p, "BHS", 3) == 0);
    if (batch && !batch_open(c, ctx, p, n))
        return 0;
    conn_arm(c, TIMER_NONE); /* the engine's turn: no read timer until the ACK is out */
    bufferevent_disable(c->bev, EV_READ);
    conn_set_state(c, CONN_COMMITTING);
    if (batch)
        submit_frame(c, ctx, c->batch->data + c->batch->split.msgs[0].off,
                     c->batch->split.msgs[0].len);
    else
        submit_frame(c, ctx, p, n);
    return 1; /* stop feeding: one message at a time */
}

/* A whole frame: process it and submit it — or hold it while its listener or peer is at its
 * max_in_flight; reading pauses until it is committed. */
static int on_frame(void *arg, enum mllp_event ev, const char *p, size_t n)
{
    struct conn *c = arg;
    struct pipeline_ctx ctx;
    char id[32], when[32];
    frame_context(c, &ctx, id, when);
    if (ev == MLLP_OVERSIZE) { /* not stored (never whole): refused at once */
        struct hl7_err e = {HL7_E_TOO_LONG, {{0}, 0, 0, 0, 0, 0}, 0, "frame too large"};
        struct hl7_ack a = {"AR", id, when, NULL, &e, 0};
        struct strbuf ack;
        strbuf_init(&ack, 4096);
        hl7_ack_build(NULL, &a, &ack);
        send_frame(c, ack.p, ack.len);
        strbuf_cleanup(&ack);
        log_warn("frame_oversize", "listener=%s conn=%llu max=%zu", c->l->conf->id.name, c->id,
                 c->l->conf->max_message);
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &c->frame_at); /* a wait below counts in the ACK's time */
    const char *full = in_flight_full(c);
    if (full) {
        conn_arm(c, TIMER_NONE); /* the engine's turn: no read timer until the ACK is out */
        bufferevent_disable(c->bev, EV_READ);
        if (!(c->held = malloc(n ? n : 1)))
            abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        memcpy(c->held, p, n);
        c->held_len = n;
        c->waiting_since = ++waits;
        conn_set_state(c, CONN_WAITING);
        struct daemon_counts *k = daemon_counts_of(c->l->d, c->l->conf->id.name);
        if (k)
            k->waits++;
        log_debug("conn_waiting", "listener=%s conn=%llu limit=%s", c->l->conf->id.name, c->id,
                  full);
        return 1;
    }
    return dispatch_frame(c, &ctx, p, n);
}

/* Feeds what is buffered to the framer until a frame goes to commit or nothing is left. */
static void conn_read_input(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (c->state == CONN_READING && evbuffer_get_length(in) > 0) {
        size_t n = evbuffer_get_length(in);
        const char *data = (const char *)evbuffer_pullup(in, -1);
        size_t used = mllp_feed(&c->framer, data, n, on_frame, c);
        evbuffer_drain(in, used);
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_read_input(arg);
    conn_arm_reading(arg);
}

/* The peer sent everything it will: once the ACKs written so far are out, close. */
static void conn_finish(struct conn *c)
{
    if (mllp_in_frame(&c->framer))
        log_warn("frame_truncated", "listener=%s conn=%llu", c->l->conf->id.name, c->id);
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_free(c);
        return;
    }
    conn_set_state(c, CONN_DRAINING); /* write_cb frees it once all is out */
    conn_arm(c, TIMER_NONE);
    conn_write_timeout(c, true);
}

/* The read timer: no frame for idle_timeout_ms, or a frame begun and not ended in
 * frame_timeout_ms, whatever trickled in meanwhile. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    if (c->timer_kind == TIMER_FRAME)
        log_warn("conn_frame_timeout", "listener=%s conn=%llu", c->l->conf->id.name, c->id);
    else if (c->timer_kind == TIMER_HANDSHAKE) {
        log_warn("tls_failed", "listener=%s conn=%llu peer=%s reason=%s", c->l->conf->id.name,
                 c->id, c->peer, "handshake timeout");
        struct daemon_counts *n = daemon_counts_of(c->l->d, c->l->conf->id.name);
        if (n)
            n->tls_failures++;
    } else
        log_info("conn_idle_timeout", "listener=%s conn=%llu", c->l->conf->id.name, c->id);
    conn_free(c); /* READING: nothing of this peer's is in flight */
}

/* Who the peer is (its [peer] by identity and address); whether the listener takes it (a
 * listener with peers takes only theirs). false: refused and logged. */
static bool admit(struct conn *c)
{
    const struct conf_peer *p = peers_match(c->l->d->conf, c->identity, c->addr);
    snprintf(c->peer_name, sizeof c->peer_name, "%s", p ? p->id.name : "");
    uint32_t open = 0;
    for (const struct conn *o = c->l->d->conns; p && p->max_connections && o; o = o->next)
        open += o != c && strcmp(o->peer_name, c->peer_name) == 0;
    const char *refuse =
        !peers_allow(&c->l->conf->peers, p ? p->id.name : NULL) ? "not_a_listed_peer"
        : p && p->max_connections && open >= p->max_connections ? "peer_max_connections"
                                                                : NULL;
    if (!refuse)
        return true;
    log_warn("conn_refused", "listener=%s conn=%llu peer=%s identity=%s reason=%s",
             c->l->conf->id.name, c->id, c->peer, c->identity, refuse);
    struct daemon_counts *n = daemon_counts_of(c->l->d, c->l->conf->id.name);
    if (n)
        n->refused++;
    return false;
}

/* The TLS handshake is done: who the peer is, then frames as on any connection. */
static void handshake_done(struct conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    tls_peer_identity(ssl, c->identity, sizeof c->identity);
    if (!c->identity[0])
        snprintf(c->identity, sizeof c->identity, "%s", c->addr);
    c->handshaking = false;
    log_info("tls_ok", "listener=%s conn=%llu peer=%s identity=%s protocol=%s cipher=%s",
             c->l->conf->id.name, c->id, c->peer, c->identity, SSL_get_version(ssl),
             SSL_get_cipher_name(ssl));
    if (!admit(c)) {
        conn_free(c);
        return;
    }
    conn_arm(c, TIMER_IDLE);
}

/* A handshake that failed: the reason, never any data, in the log. */
static void handshake_failed(struct conn *c)
{
    char reason[256];
    unsigned long e = 0, next;
    while ((next = bufferevent_get_openssl_error(c->bev)))
        e = e ? e : next;
    tls_failure_reason(bufferevent_openssl_get_ssl(c->bev), e, reason, sizeof reason);
    log_warn("tls_failed", "listener=%s conn=%llu peer=%s reason=%s", c->l->conf->id.name, c->id,
             c->peer, reason);
    ERR_clear_error();
    conn_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if ((what & BEV_EVENT_CONNECTED) && c->handshaking) {
        handshake_done(c);
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
        return;
    if (c->handshaking) {
        handshake_failed(c);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) /* the only bufferevent timeout: the peer reads nothing */
        log_warn("conn_write_timeout", "listener=%s conn=%llu", c->l->conf->id.name, c->id);
    if (c->state == CONN_DRAINING) { /* the peer is gone for good: nothing left to do */
        conn_free(c);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->state != CONN_CLOSING) {
        c->eof = true; /* half-close: answer what was sent, then close */
        if (c->state == CONN_READING)
            conn_finish(c);
        return;
    }
    if (c->state == CONN_COMMITTING) { /* the commit still comes back: free then */
        conn_set_state(c, CONN_CLOSING);
        return;
    }
    conn_free(c);
}

/* Reading again after a commit — or, while the peer leaves too many ACKs unread, once it has
 * read half of them (write_cb). */
static void conn_resume(struct conn *c)
{
    size_t unread = evbuffer_get_length(bufferevent_get_output(c->bev));
    if (unread > UNREAD_MAX) {
        if (c->state != CONN_BLOCKED) {
            log_warn("conn_blocked", "listener=%s conn=%llu unread_bytes=%zu", c->l->conf->id.name,
                     c->id, unread);
            conn_arm(c, TIMER_NONE);
            conn_write_timeout(c, true);
        }
        conn_set_state(c, CONN_BLOCKED); /* write_cb resumes */
        return;
    }
    if (c->state == CONN_BLOCKED)
        conn_write_timeout(c, false);
    conn_set_state(c, CONN_READING);
    bufferevent_enable(c->bev, EV_READ);
    conn_read_input(c); /* frames already buffered (pipelined) */
    if (c->state == CONN_READING && c->eof)
        conn_finish(c);
    else
        conn_arm_reading(c);
}

/* The output is down to half UNREAD_MAX after a write (the low-water mark): a blocked peer
 * has read enough to go on; a draining connection goes once everything is out. */
static void write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->state == CONN_BLOCKED)
        conn_resume(c);
    else if (c->state == CONN_DRAINING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_free(c);
}

static void committed(struct conn *c, int rc, enum store_status status, const char *ack,
                      size_t ack_len)
{
    daemon_inflight_done(c->l->d);
    struct daemon_counts *n = daemon_counts_of(c->l->d, c->l->conf->id.name);
    if (n && rc == 0) {
        n->by_status[status]++;
        n->last_ms = store_now_ms();
        if (status != STORE_REJECTED)
            daemon_sender_heard(c->l->d, c->result.sending_app, c->result.sending_facility,
                                n->last_ms);
    } else if (n) {
        n->not_stored++;
    }
    if (c->state == CONN_CLOSING) {
        conn_free(c);
        return;
    }
    if (rc != 0) { /* not durable: no positive ACK; the sender will resend */
        log_warn("conn_closed_store_failure", "listener=%s conn=%llu", c->l->conf->id.name, c->id);
        conn_free(c);
        return;
    }
    struct daemon_route_counts *rt =
        c->result.route[0] ? daemon_route_counts_of(c->l->d, c->result.route) : NULL;
    if (rt) { /* the ledger of what was just stored (the result is this frame's until the next) */
        rt->transformed++;
        rt->warnings += c->result.record.warnings;
        rt->unmapped += c->result.record.unmapped;
    }
    if (c->batch) {
        if (c->l->d->stopping) { /* the rest unanswered: the sender resends the batch, and
                                    what was stored is a duplicate then */
            conn_finish(c);
            return;
        }
        if (batch_step(c, ack, ack_len))
            return;
        ack_len = 0; /* the batch ACK is out */
    }
    if (ack_len) {
        send_frame(c, ack, ack_len);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (n)
            hist_add(&n->ack, (double)(now.tv_sec - c->frame_at.tv_sec) +
                                  (double)(now.tv_nsec - c->frame_at.tv_nsec) / 1e9);
    }
    if (c->l->d->stopping) { /* no new message now: this ACK out, then close */
        conn_finish(c);
        return;
    }
    conn_resume(c);
}

/* Held frames whose listener and peer have room again go on, the first held first. */
static void release_waiting(struct daemon *d)
{
    for (;;) {
        struct conn *next = NULL;
        for (struct conn *o = d->conns; o; o = o->next)
            if (o->state == CONN_WAITING && (!next || o->waiting_since < next->waiting_since) &&
                !in_flight_full(o))
                next = o;
        if (!next)
            return;
        struct pipeline_ctx ctx;
        char id[32], when[32], *held = next->held;
        frame_context(next, &ctx, id, when);
        next->held = NULL;
        conn_set_state(next, CONN_READING);
        if (dispatch_frame(next, &ctx, held, next->held_len) == 0)
            conn_resume(next); /* answered at once: reading goes on (or it closes) */
        free(held);
    }
}

void conn_committed(struct conn *c, int rc, enum store_status status, const char *ack,
                    size_t ack_len)
{
    struct daemon *d = c->l->d;
    committed(c, rc, status, ack, ack_len); /* c may be gone */
    release_waiting(d);
}

/* How many connections of listener l come from address addr. */
static uint32_t conns_from(const struct daemon_listener *l, const char *addr)
{
    uint32_t n = 0;
    for (const struct conn *c = l->d->conns; c; c = c->next)
        n += c->l == l && strcmp(c->addr, addr) == 0;
    return n;
}

void conn_accept(struct daemon_listener *l, evutil_socket_t fd, const char *peer)
{
    static unsigned long long next_id;
    char addr[64];
    snprintf(addr, sizeof addr, "%s", peer);
    char *colon = strrchr(addr, ':'); /* host:port, [v6]:port alike: the port is last */
    if (colon)
        *colon = '\0';
    const char *refuse = l->d->stopping                                 ? "stopping"
                         : l->nconns >= l->conf->max_connections        ? "max_connections"
                         : conns_from(l, addr) >= l->conf->max_per_peer ? "max_per_peer"
                                                                        : NULL;
    if (refuse) {
        log_warn("conn_refused", "listener=%s peer=%s reason=%s", l->conf->id.name, peer, refuse);
        evutil_closesocket(fd);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    c->l = l;
    c->id = ++next_id;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    /* ACKs are small: the kernel keeps at most this many bytes of them for a peer that does
     * not read (instead of growing its buffer to megabytes), then UNREAD_MAX blocks reading */
    int sndbuf = UNREAD_MAX;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    SSL *ssl = l->tls ? SSL_new(l->tls) : NULL;
    if (l->tls && !ssl)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    c->bev = ssl ? bufferevent_openssl_socket_new(l->d->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                  BEV_OPT_CLOSE_ON_FREE)
                 : bufferevent_socket_new(l->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    c->handshaking = ssl != NULL;
    if (ssl) /* a peer closing without close_notify has finished, as over plain TCP */
        bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    if (!ssl)
        snprintf(c->identity, sizeof c->identity, "%s", addr);
    mllp_init(&c->framer, l->conf->max_message);
    pipeline_result_init(&c->result);
    l->nconns++;
    c->next = l->d->conns;
    if (c->next)
        c->next->prev = c;
    l->d->conns = c;
    if (!(c->timer = evtimer_new(l->d->base, timer_cb, c)))
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    conn_arm(c, c->handshaking ? TIMER_HANDSHAKE : TIMER_IDLE);
    bufferevent_setwatermark(c->bev, EV_WRITE, UNREAD_MAX / 2, 0);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->bev, EV_READ);
    log_info("conn_open", "listener=%s conn=%llu peer=%s", l->conf->id.name, c->id, peer);
    if (!c->handshaking && !admit(c)) /* TLS: once its certificate is known */
        conn_free(c);
}

void conn_each(struct daemon *d, void (*fn)(void *arg, const char *listener, const char *who),
               void *arg)
{
    for (struct conn *c = d->conns; c; c = c->next)
        fn(arg, c->l->conf->id.name, c->peer_name[0] ? c->peer_name : c->identity);
}

void conn_stop_all(struct daemon *d)
{
    for (struct conn *c = d->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CONN_READING || c->state == CONN_WAITING) /* nothing stored to answer:
                                                                     a held frame is resent */
            conn_free(c);
        else if (c->state == CONN_BLOCKED) /* its ACKs out if the peer reads them, then close */
            conn_finish(c);
        else if (c->state == CONN_DRAINING) /* the stop's shorter wait for the ACKs left */
            conn_write_timeout(c, true);
        /* COMMITTING: its ACK goes out when the commit is handed back, then it closes */
    }
}

void conn_close_all(struct daemon *d)
{
    while (d->conns) /* the loop has ended: a stop waited for their ACKs to go out */
        conn_free(d->conns);
}
