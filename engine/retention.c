/* retention — purge passes, one batch per store-thread job. */
#include "engine/retention.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/daemon.h"
#include "engine/log.h"

#define EVERY_MS_MAX 3600000 /* a pass at least hourly */
#define BATCH        500     /* rows looked at per transaction */

struct retention {
    struct daemon *d;
    struct event *timer;
    bool running; /* a pass is out on the store thread */
    struct store_purge pass;
    int rc;
    char err[256];
    struct retention_counts total;
};

static void batch_run(struct store *s, void *arg);

/* The next pass in min(retain_ms, an hour), or none while retention is off. */
static void schedule(struct retention *r)
{
    uint64_t ms = r->d->conf->store.retain_ms;
    event_del(r->timer);
    if (ms == 0)
        return;
    if (ms > EVERY_MS_MAX)
        ms = EVERY_MS_MAX;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(r->timer, &tv);
}

static void batch_done(void *arg)
{
    struct retention *r = arg;
    struct daemon *d = r->d;
    if (r->rc == 1 && !d->stopping && d->chores) {
        intake_call(d->chores, batch_run, r); /* the rest of the pass, after what queued */
        return;
    }
    r->running = false;
    r->total.messages += r->pass.messages;
    r->total.outbox_rows += r->pass.outbox_rows;
    if (r->rc < 0)
        log_error("purge_failed", "error=%s action=retry_next_pass", r->err);
    else if (r->pass.messages || r->pass.outbox_rows)
        log_info("purged", "messages=%llu outbox_rows=%llu retain_ms=%llu",
                 (unsigned long long)r->pass.messages, (unsigned long long)r->pass.outbox_rows,
                 (unsigned long long)d->conf->store.retain_ms);
    if (!d->stopping)
        schedule(r);
}

static void batch_run(struct store *s, void *arg)
{
    struct retention *r = arg;
    r->rc = store_purge(s, &r->pass, BATCH, r->err, sizeof r->err);
    daemon_call(r->d, batch_done, r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct retention *r = arg;
    struct daemon *d = r->d;
    (void)fd;
    (void)what;
    uint64_t retain = d->conf->store.retain_ms;
    if (r->running || d->stopping || !d->chores || retain == 0)
        return;
    r->pass = (struct store_purge){.before_ms = store_now_ms() - (int64_t)retain};
    r->running = true;
    intake_call(d->chores, batch_run, r);
}

struct retention *retention_start(struct daemon *d)
{
    struct retention *r = calloc(1, sizeof *r);
    if (!r)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    r->d = d;
    if (!(r->timer = evtimer_new(d->base, on_timer, r))) {
        free(r);
        return NULL;
    }
    retention_configure(r);
    return r;
}

void retention_configure(struct retention *r)
{
    if (r->running) /* the pass out schedules the next one when it ends */
        return;
    event_del(r->timer);
    if (r->d->conf->store.retain_ms) /* a pass now */
        event_active(r->timer, EV_TIMEOUT, 0);
}

struct retention_counts retention_counts(const struct retention *r)
{
    return r->total;
}

void retention_free(struct retention *r)
{
    if (!r)
        return;
    event_free(r->timer);
    free(r);
}
