/* delivery — the outbound queue on the loop: claims, HTTP through libcurl multi, records. */
#include "engine/delivery.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "engine/auth.h"
#include "engine/daemon.h"
#include "engine/delivery_policy.h"
#include "engine/fault.h"
#include "engine/intake.h"
#include "engine/log.h"
#include "engine/store.h"

#define POLL_MS        1000      /* retries coming due, rows queued by other processes */
#define MAX_RESPONSE   (8 << 20) /* a larger answer is a failed attempt */
#define LEASE_SLACK_MS 10000     /* a lease outlives its request by this much... */
#define RENEW_MS       3000      /* ...and is renewed this often while its row is held here */
#define DIR_BATCH      64
#define KICK_MS        20 /* how long new rows may wait to be claimed */
#define DIR_EVERY_MS   10 /* directory batches at most this often: their flushes share the disk */

struct dest {
    struct delivery *dv;
    struct conf_destination conf; /* a copy: reloads replace it */
    bool removed;                 /* no longer in the configuration */
    bool claiming, again;         /* a claim job is out; kicked meanwhile */
    size_t inflight;
    /* claimed (leased) rows waiting for a free slot: up to 3 x `concurrency` more than in
     * flight, so a finished request is followed at once, not after a store round trip */
    struct store_claim *ready;
    size_t nready, ready_cap;
    int64_t last_batch_ms; /* directory: when the last batch went to the writer */
    struct delivery_rng rng;
    char secret[AUTH_SECRET_MAX]; /* the password, token or client secret, read at configure */
    bool secret_ok;
    /* finished bundle handles, still set up for this destination: a request sets only its
     * body, headers and callbacks' data (a reload discards them: conf_gen) */
    CURL *spare[64];
    size_t nspare;
    unsigned conf_gen;
    /* token endpoint (oauth2_client_credentials, smart_backend): one fetch at a time */
    char token[AUTH_SECRET_MAX];
    int64_t token_refresh_ms, token_expires_ms, token_retry_ms; /* renew at, dead at, retry at */
    unsigned token_gen; /* bumped by each new token, and when a 401 condemns one */
    bool token_fetching;
    int token_failures;
    /* for /metrics, since the start: attempts by outcome (enum store_result_kind), token
     * fetches that failed */
    uint64_t outcomes[3], token_failures_total;
    struct hist latency; /* queued → delivered, seconds */
    struct delivery_health health;
    struct dest *next;
};

struct request {
    struct dest *dest;
    bool is_token; /* a token request, not a bundle */
    unsigned token_gen, conf_gen;
    CURL *easy;
    struct curl_slist *headers;
    struct store_claim claim;
    long entries;
    struct strbuf body;
    char retry_after[64];
    char curl_error[CURL_ERROR_SIZE];
    struct request *next;
};

/* A finished attempt waiting to be recorded; owns its strings. */
struct pending_result {
    struct store_result r;
    char *error, *response, *locations;
    struct pending_result *next;
};

struct delivery {
    struct daemon *d;
    CURLM *multi;
    struct event *curl_timer, *poll, *kick;
    struct event *retry_timer; /* a retry due before the poll */
    struct dest *dests;
    struct request *requests; /* in flight */
    struct pending_result *results, **results_tail;
    bool recording, stopping;
    bool draining; /* a stop: nothing new starts; what is in flight finishes and is recorded */
    /* the directory writer thread and its queue */
    pthread_t writer;
    bool writer_started, wstop;
    pthread_mutex_t wlock;
    pthread_cond_t wcond;
    struct dir_batch *wqueue;
    int64_t retry_at_ms; /* when retry_timer fires */
    int64_t renew_at_ms; /* when the leases held are next renewed */
    bool renewing;       /* a renew job is out */
};

static void pump(struct dest *ds);
static void pump_all(struct delivery *dv);
static void note_health(struct dest *ds, bool whole_failure, int64_t now);

/* An attempt or a record ended: while draining for a stop, the daemon may be done. */
static void stop_progress(struct delivery *dv)
{
    if (dv->draining)
        daemon_stop_check(dv->d);
}
static void record_more(struct delivery *dv);
static void wake_at(struct delivery *dv, int64_t when);

/* ---- results: what became of an attempt, and recording them ---- */

static char *dup_str(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* The store result for claim c after an attempt that ended with outcome o. */
static struct pending_result *decide(struct dest *ds, const struct store_claim *c,
                                     const struct delivery_outcome *o, int http_status, int64_t now,
                                     struct delivery_rng *rng)
{
    struct pending_result *p = calloc(1, sizeof *p);
    if (!p)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    const struct conf_destination *cd = &ds->conf;
    int attempt = c->attempts + 1;
    p->r.id = c->id;
    p->r.lease = c->lease;
    p->r.http_status = http_status;
    p->r.at_ms = now;
    if (o->verdict == DELIVERY_OK) {
        p->r.kind = STORE_DELIVERED;
        ds->outcomes[STORE_DELIVERED]++;
        hist_add(&ds->latency, (double)(now - c->created_at_ms) / 1e3);
        return p;
    }
    p->error = dup_str(o->reason, strlen(o->reason));
    p->r.error = p->error;
    if (o->verdict == DELIVERY_RETRY) {
        struct delivery_backoff b = {cd->retry_base_ms, cd->retry_cap_ms};
        int64_t delay = delivery_backoff_ms(&b, attempt, o->retry_after_ms, rng);
        bool too_many = cd->max_attempts && (uint32_t)attempt >= cd->max_attempts;
        bool too_old = cd->max_age_ms && now + delay - c->created_at_ms > (int64_t)cd->max_age_ms;
        if (!too_many && !too_old) {
            p->r.kind = STORE_RETRY;
            p->r.next_attempt_ms = now + delay;
            log_warn("delivery_retry",
                     "destination=%s outbox_id=%lld attempt=%d reason=%s next_in_ms=%lld",
                     cd->id.name, (long long)c->id, attempt, o->reason, (long long)delay);
            ds->outcomes[STORE_RETRY]++;
            return p;
        }
        char why[300];
        snprintf(why, sizeof why, "%s (gave up: %s)", o->reason,
                 too_many ? "max_attempts reached" : "max_age reached");
        free(p->error);
        p->error = dup_str(why, strlen(why));
        p->r.error = p->error;
    }
    p->r.kind = STORE_DEAD;
    log_warn("dead_letter", "destination=%s outbox_id=%lld attempts=%d reason=%s", cd->id.name,
             (long long)c->id, attempt, p->error);
    ds->outcomes[STORE_DEAD]++;
    return p;
}

static void free_results(struct pending_result *p)
{
    while (p) {
        struct pending_result *next = p->next;
        free(p->error);
        free(p->response);
        free(p->locations);
        free(p);
        p = next;
    }
}

/* Pumps again at when, if that is before the next poll. */
static void wake_at(struct delivery *dv, int64_t when)
{
    int64_t wait = when - store_now_ms();
    if (dv->stopping || wait >= POLL_MS)
        return; /* the poll covers it */
    if (wait < 0)
        wait = 0;
    if (evtimer_pending(dv->retry_timer, NULL) && dv->retry_at_ms <= when)
        return;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    dv->retry_at_ms = when;
    evtimer_add(dv->retry_timer, &tv);
}

struct record_job {
    struct delivery *dv;
    struct pending_result *results;
};

static void record_done(void *arg)
{
    struct record_job *j = arg;
    struct delivery *dv = j->dv;
    for (struct pending_result *p = j->results; p; p = p->next)
        if (p->r.kind == STORE_RETRY)
            wake_at(dv, p->r.next_attempt_ms);
    free_results(j->results);
    free(j);
    dv->recording = false;
    if (dv->stopping)
        return;
    record_more(dv); /* what finished meanwhile: the next transaction */
    pump_all(dv);    /* the keys just recorded are free again */
    stop_progress(dv);
}

static void record_run(struct store *s, void *arg)
{
    struct record_job *j = arg;
    size_t n = 0, i = 0;
    for (struct pending_result *p = j->results; p; p = p->next)
        n++;
    struct store_result *rs = calloc(n ? n : 1, sizeof *rs);
    if (!rs)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    for (struct pending_result *p = j->results; p; p = p->next)
        rs[i++] = p->r;
    char err[256];
    size_t stale = 0;
    if (store_record(s, rs, n, &stale, err, sizeof err) != 0) /* leases lapse: rows come back */
        log_error("delivery_record_failed", "rows=%zu error=%s", n, err);
    else if (stale) /* another engine took them over once their leases ran out: its to record */
        log_warn("delivery_lease_lost", "rows=%zu", stale);
    free(rs);
    daemon_call(j->dv->d, record_done, j);
}

static void record_more(struct delivery *dv)
{
    if (dv->recording || !dv->results || dv->stopping)
        return;
    struct record_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->dv = dv;
    j->results = dv->results;
    dv->results = NULL;
    dv->results_tail = &dv->results;
    dv->recording = true;
    intake_call(dv->d->jobs, record_run, j);
}

static void add_result(struct delivery *dv, struct pending_result *p)
{
    *dv->results_tail = p;
    dv->results_tail = &p->next;
    record_more(dv);
}

/* ---- directory destinations: written by the file writer thread ---- */

/* Writes len bytes to the temporary file tmp in dirfd, fdatasync'd (its name not yet
 * durable); -1 with a reason. */
static int write_temp(int dirfd, const char *tmp, const char *p, size_t len, char *err,
                      size_t errlen)
{
    int fd = fault_at("dir_write")
                 ? (errno = EIO, -1)
                 : openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a file: %s", strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write a file: %s", strerror(w < 0 ? errno : ENOSPC));
            close(fd);
            unlinkat(dirfd, tmp, 0);
            return -1;
        }
        done += (size_t)w;
    }
    if (fdatasync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "cannot write a file: %s", strerror(errno));
        unlinkat(dirfd, tmp, 0);
        return -1;
    }
    return 0;
}

struct claim_job {
    struct dest *dest;
    char name[CONF_NAME]; /* the destination's: the store thread must not read dest->conf */
    size_t want;
    int64_t now, lease_until;
    struct store_claim *claims; /* handed to the loop */
    int n;
};

/* A batch of bundles for a directory, written by the writer thread (never the store
 * thread: per-file fsyncs there would hold up intake commits). */
struct dir_batch {
    struct dest *dest;
    char path[CONF_TEXT];
    struct store_claim *claims;
    size_t n;
    struct delivery_outcome *outcomes; /* per claim: written, or why not */
    struct dir_batch *next;
};

/* Writes a batch atomically and durably with two flushes in all, not one per file: every
 * temporary file, then syncfs (their data on disk), then the renames, then fsync of the
 * directory (the names on disk). A file counts as written only after both. */
static void dir_write(struct dir_batch *b)
{
    char err[256] = "";
    size_t renamed = 0;
    int dirfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        snprintf(err, sizeof err, "cannot open the directory: %s", strerror(errno));
    for (size_t i = 0; i < b->n; i++) {
        struct store_claim *c = &b->claims[i];
        struct delivery_outcome *o = &b->outcomes[i];
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".%012lld.json.tmp", (long long)c->id);
        o->verdict = DELIVERY_RETRY;
        if (dirfd < 0)
            snprintf(o->reason, sizeof o->reason, "%s", err);
        else if (write_temp(dirfd, tmp, c->bundle, c->bundle_len, o->reason, sizeof o->reason) == 0)
            o->verdict = DELIVERY_OK;
    }
    for (size_t i = 0; dirfd >= 0 && i < b->n; i++) {
        struct delivery_outcome *o = &b->outcomes[i];
        char tmp[64], name[48];
        snprintf(name, sizeof name, "%012lld.json", (long long)b->claims[i].id);
        snprintf(tmp, sizeof tmp, ".%s.tmp", name);
        if (o->verdict != DELIVERY_OK)
            continue;
        if (err[0] || fault_at("dir_rename") || renameat(dirfd, tmp, dirfd, name) != 0) {
            o->verdict = DELIVERY_RETRY;
            snprintf(o->reason, sizeof o->reason, "%s",
                     err[0] ? err : "cannot rename a file into place");
            unlinkat(dirfd, tmp, 0);
        } else {
            snprintf(o->reason, sizeof o->reason, "written");
            renamed++;
        }
    }
    /* the new names, durably, or none counts (no rename, nothing to make durable) */
    if (renamed && (fault_at("dir_fsync") || fsync(dirfd) != 0))
        for (size_t i = 0; i < b->n; i++)
            if (b->outcomes[i].verdict == DELIVERY_OK) {
                b->outcomes[i].verdict = DELIVERY_RETRY;
                snprintf(b->outcomes[i].reason, sizeof b->outcomes[i].reason,
                         "cannot fsync the directory: %s", strerror(errno));
            }
    if (dirfd >= 0)
        close(dirfd);
}

static void dir_written(void *arg);

static void *writer_run(void *arg)
{
    struct delivery *dv = arg;
    pthread_setname_np(pthread_self(), "solent-files");
    pthread_mutex_lock(&dv->wlock);
    for (;;) {
        while (!dv->wqueue && !dv->wstop)
            pthread_cond_wait(&dv->wcond, &dv->wlock);
        struct dir_batch *b = dv->wqueue;
        if (!b)
            break;
        dv->wqueue = b->next;
        pthread_mutex_unlock(&dv->wlock);
        dir_write(b);
        daemon_call(dv->d, dir_written, b);
        pthread_mutex_lock(&dv->wlock);
    }
    pthread_mutex_unlock(&dv->wlock);
    return NULL;
}

/* Forgets the first n ready rows (their strings were taken). */
static void ready_drop(struct dest *ds, size_t n)
{
    if (!n) /* ready may still be NULL */
        return;
    ds->nready -= n;
    memmove(ds->ready, ds->ready + n, ds->nready * sizeof *ds->ready);
}

/* Hands what is ready for directory destination ds to the writer (one batch at a time). */
static void dir_start(struct dest *ds)
{
    struct delivery *dv = ds->dv;
    int64_t now = store_now_ms();
    if (ds->inflight || !ds->nready)
        return;
    if (ds->nready < DIR_BATCH && now - ds->last_batch_ms < DIR_EVERY_MS) {
        wake_at(dv, ds->last_batch_ms + DIR_EVERY_MS); /* gather more first */
        return;
    }
    ds->last_batch_ms = now;
    struct dir_batch *b = calloc(1, sizeof *b);
    size_t n = ds->nready < DIR_BATCH ? ds->nready : DIR_BATCH;
    if (!b || !(b->claims = malloc(n * sizeof *b->claims)) ||
        !(b->outcomes = calloc(n, sizeof *b->outcomes)))
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    b->dest = ds;
    snprintf(b->path, sizeof b->path, "%s", ds->conf.path);
    memcpy(b->claims, ds->ready, n * sizeof *b->claims); /* takes the strings */
    b->n = n;
    ready_drop(ds, n);
    ds->inflight = n;
    pthread_mutex_lock(&dv->wlock);
    struct dir_batch **tail = &dv->wqueue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = b;
    pthread_cond_signal(&dv->wcond);
    pthread_mutex_unlock(&dv->wlock);
}

/* The writer finished a batch (loop thread): decide and record each row. */
static void dir_written(void *arg)
{
    struct dir_batch *b = arg;
    struct dest *ds = b->dest;
    struct delivery *dv = ds->dv;
    int64_t now = store_now_ms();
    size_t ok = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!dv->stopping)
            add_result(dv, decide(ds, &b->claims[i], &b->outcomes[i], 0, now, &ds->rng));
        ok += b->outcomes[i].verdict == DELIVERY_OK;
    }
    if (ok && log_enabled(LOG_DEBUG))
        log_debug("delivered", "destination=%s files=%zu", ds->conf.id.name, ok);
    store_claims_free(b->claims, b->n);
    free(b->outcomes);
    free(b);
    ds->inflight = 0;
    pump(ds);
    stop_progress(dv);
}

static void claim_done(void *arg);

/* ---- leases: renewed while their rows are held (ready, in flight, a result not yet
 * recorded), so a lease can be short and an engine that dies gives its rows up soon ---- */

struct renew_job {
    struct delivery *dv;
    size_t n, cap;
    int64_t *ids, *leases, *until;
};

static void renew_add(struct renew_job *j, int64_t id, int64_t lease, int64_t until)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 64;
        j->ids = realloc(j->ids, j->cap * sizeof *j->ids);
        j->leases = realloc(j->leases, j->cap * sizeof *j->leases);
        j->until = realloc(j->until, j->cap * sizeof *j->until);
        if (!j->ids || !j->leases || !j->until)
            abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    }
    j->ids[j->n] = id, j->leases[j->n] = lease, j->until[j->n++] = until;
}

static void renew_done(void *arg)
{
    struct renew_job *j = arg;
    struct delivery *dv = j->dv;
    dv->renewing = false;
    free(j->ids);
    free(j->leases);
    free(j->until);
    free(j);
    stop_progress(dv);
}

static void renew_run(struct store *s, void *arg)
{
    struct renew_job *j = arg;
    char err[256];
    size_t lost = 0;
    if (store_renew(s, j->ids, j->leases, j->until, j->n, &lost, err, sizeof err) != 0)
        log_warn("lease_renew_failed", "rows=%zu error=%s", j->n, err);
    else if (lost) /* ran out and taken over: the results of these will not be recorded */
        log_warn("delivery_lease_lost", "rows=%zu", lost);
    daemon_call(j->dv->d, renew_done, j);
}

static void renew_leases(struct delivery *dv)
{
    int64_t now = store_now_ms();
    if (dv->renewing || dv->stopping || now < dv->renew_at_ms)
        return;
    dv->renew_at_ms = now + RENEW_MS;
    struct renew_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->dv = dv;
    for (struct dest *ds = dv->dests; ds; ds = ds->next)
        for (size_t i = 0; i < ds->nready; i++)
            renew_add(j, ds->ready[i].id, ds->ready[i].lease,
                      now + (int64_t)ds->conf.timeout_ms + LEASE_SLACK_MS);
    for (struct request *rq = dv->requests; rq; rq = rq->next)
        if (!rq->is_token)
            renew_add(j, rq->claim.id, rq->claim.lease,
                      now + (int64_t)rq->dest->conf.timeout_ms + LEASE_SLACK_MS);
    for (struct pending_result *p = dv->results; p; p = p->next)
        renew_add(j, p->r.id, p->r.lease, now + LEASE_SLACK_MS);
    if (j->n == 0) {
        free(j);
        return;
    }
    dv->renewing = true;
    intake_call(dv->d->jobs, renew_run, j);
}

static void claim_run(struct store *s, void *arg)
{
    struct claim_job *j = arg;
    char err[256];
    j->n = store_claim(s, j->name, j->now, j->lease_until, j->want, &j->claims, err, sizeof err);
    if (j->n < 0)
        log_error("delivery_claim_failed", "destination=%s error=%s", j->name, err);
    daemon_call(j->dest->dv->d, claim_done, j);
}

/* ---- fhir destinations: HTTP through libcurl multi on the loop ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct request *rq = arg;
    size_t len = size * n;
    if (rq->body.len + len > MAX_RESPONSE || strbuf_append(&rq->body, p, len) != 0)
        return 0; /* too large: the transfer fails, the attempt is retried */
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct request *rq = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t v = len - (sizeof name - 1);
        if (v >= sizeof rq->retry_after)
            v = sizeof rq->retry_after - 1;
        memcpy(rq->retry_after, p + sizeof name - 1, v);
        rq->retry_after[v] = '\0';
        rq->retry_after[strcspn(rq->retry_after, "\r\n")] = '\0';
    }
    return len;
}

static void request_free(struct request *rq)
{
    struct dest *ds = rq->dest;
    struct delivery *dv = ds->dv;
    if (rq->easy) { /* a bundle handle is kept for the destination's next request */
        curl_multi_remove_handle(dv->multi, rq->easy);
        if (!rq->is_token && rq->conf_gen == ds->conf_gen && !ds->removed && !dv->stopping &&
            ds->nspare < sizeof ds->spare / sizeof ds->spare[0])
            ds->spare[ds->nspare++] = rq->easy;
        else
            curl_easy_cleanup(rq->easy);
    }
    curl_slist_free_all(rq->headers);
    free(rq->claim.ordering_key);
    free(rq->claim.bundle);
    strbuf_cleanup(&rq->body);
    free(rq);
}

static void unlink_request(struct delivery *dv, struct request *rq)
{
    for (struct request **p = &dv->requests; *p; p = &(*p)->next)
        if (*p == rq) {
            *p = rq->next;
            return;
        }
}

/* A new handle that POSTs to url with the destination's TLS settings, timeout and answer
 * capture; what it sends and where answers go are set per request (request_post). */
static CURL *handle_new(const struct dest *ds, const char *url)
{
    const struct conf_destination *cd = &ds->conf;
    CURL *e = curl_easy_init();
    if (!e)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cd->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (cd->ca_file[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, cd->ca_file);
    if (cd->client_cert[0])
        curl_easy_setopt(e, CURLOPT_SSLCERT, cd->client_cert);
    if (cd->client_key[0])
        curl_easy_setopt(e, CURLOPT_SSLKEY, cd->client_key);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    return e;
}

/* A POST of len bytes at body (borrowed until the request ends) on handle e (a new one for
 * url when NULL), with headers (taken); queued on the multi handle. */
static struct request *request_post(struct dest *ds, CURL *e, const char *url, const char *body,
                                    size_t len, struct curl_slist *headers)
{
    struct delivery *dv = ds->dv;
    struct request *rq = calloc(1, sizeof *rq);
    if (!rq || !headers)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    rq->dest = ds;
    rq->easy = e ? e : handle_new(ds, url);
    rq->headers = headers;
    rq->conf_gen = ds->conf_gen;
    strbuf_init(&rq->body, MAX_RESPONSE);
    e = rq->easy;
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, rq);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->curl_error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, rq);
    rq->next = dv->requests;
    dv->requests = rq;
    curl_multi_add_handle(dv->multi, e);
    return rq;
}

static void request_start(struct dest *ds, struct store_claim *c)
{
    const struct conf_destination *cd = &ds->conf;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/fhir+json");
    h = curl_slist_append(h, "Accept: application/fhir+json");
    h = curl_slist_append(h, "Expect:");
    if (strcmp(cd->auth, "bearer") == 0 || auth_uses_token(cd)) {
        char line[AUTH_SECRET_MAX + 32]; /* ds->token and ds->secret both fit */
        snprintf(line, sizeof line, "Authorization: Bearer %s",
                 auth_uses_token(cd) ? ds->token : ds->secret);
        h = curl_slist_append(h, line);
    }
    ds->inflight++;
    CURL *e = ds->nspare ? ds->spare[--ds->nspare] : NULL;
    if (!e && strcmp(cd->auth, "basic") == 0) {
        e = handle_new(ds, cd->url);
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, cd->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, ds->secret);
    }
    struct request *rq = request_post(ds, e, cd->url, c->bundle, c->bundle_len, h);
    rq->claim = *c; /* takes its strings; the bundle stays where POSTFIELDS points */
    rq->token_gen = ds->token_gen;
    rq->entries = c->entries ? (long)c->entries : delivery_bundle_entries(c->bundle, c->bundle_len);
}

/* Asks the token endpoint for a token (one request at a time per destination). */
static void token_start(struct dest *ds)
{
    const struct conf_destination *cd = &ds->conf;
    struct strbuf form;
    char err[256];
    strbuf_init(&form, 1 << 16);
    if (auth_token_form(cd, ds->secret, store_now_ms() / 1000, &form, err, sizeof err) != 0) {
        ds->token_failures++;
        ds->token_failures_total++;
        ds->token_retry_ms = store_now_ms() + 30000; /* a configuration fault: the key */
        log_warn("token_failed", "destination=%s error=%s retry_in_ms=30000", cd->id.name, err);
        strbuf_cleanup(&form);
        wake_at(ds->dv, ds->token_retry_ms);
        return;
    }
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    h = curl_slist_append(h, "Accept: application/json");
    ds->token_fetching = true;
    /* the form lives in the request's claim.bundle, freed with it */
    char *body = strbuf_take(&form, NULL);
    size_t len = strlen(body);
    struct request *rq = request_post(ds, NULL, cd->token_url, body, len, h);
    rq->is_token = true; /* its handle is not kept: its URL and credentials are the token's */
    rq->claim.bundle = body;
    if (strcmp(cd->auth, "oauth2_client_credentials") == 0 &&
        strcmp(cd->client_auth, "basic") == 0) {
        curl_easy_setopt(rq->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(rq->easy, CURLOPT_USERNAME, cd->client_id);
        curl_easy_setopt(rq->easy, CURLOPT_PASSWORD, ds->secret);
    }
    strbuf_cleanup(&form);
}

/* The token endpoint answered: keep the token, or back off and try again. */
static void token_done(struct request *rq, CURLcode code)
{
    struct dest *ds = rq->dest;
    long status = 0;
    char err[CURL_ERROR_SIZE + 64];
    int64_t expires_in = 0, now = store_now_ms();
    curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &status);
    ds->token_fetching = false;
    int ok = code == CURLE_OK && status == 200 &&
             auth_token_parse(rq->body.p, rq->body.len, ds->token, sizeof ds->token, &expires_in,
                              err, sizeof err) == 0;
    if (ok) {
        /* renewed a little before it runs out: a tenth of its life, at most a minute */
        int64_t margin = expires_in * 100 < 60000 ? expires_in * 100 : 60000;
        ds->token_refresh_ms = now + expires_in * 1000 - margin;
        ds->token_expires_ms = now + expires_in * 1000;
        ds->token_gen++;
        ds->token_failures = 0;
        log_info("token_refreshed", "destination=%s expires_in_s=%lld", ds->conf.id.name,
                 (long long)expires_in);
        pump(ds);
        return;
    }
    if (code != CURLE_OK)
        snprintf(err, sizeof err, "no answer: %s",
                 rq->curl_error[0] ? rq->curl_error : curl_easy_strerror(code));
    else if (status != 200 && auth_token_parse(rq->body.p, rq->body.len, ds->token,
                                               sizeof ds->token, &expires_in, err, sizeof err) == 0)
        snprintf(err, sizeof err, "HTTP %ld", status);
    ds->token[0] = '\0';
    ds->token_failures++;
    ds->token_failures_total++;
    struct delivery_backoff b = {ds->conf.retry_base_ms, ds->conf.retry_cap_ms};
    int64_t delay = delivery_backoff_ms(&b, ds->token_failures, 0, &ds->rng);
    ds->token_retry_ms = now + delay;
    log_warn("token_failed", "destination=%s http_status=%ld error=%s failures=%d retry_in_ms=%lld",
             ds->conf.id.name, status, err, ds->token_failures, (long long)delay);
    wake_at(ds->dv, ds->token_retry_ms);
}

/* A finished transfer: classify, decide, queue the record. */
static void request_done(struct request *rq, CURLcode code)
{
    struct dest *ds = rq->dest;
    struct delivery *dv = ds->dv;
    long status = 0;
    if (rq->is_token) {
        token_done(rq, code);
        unlink_request(dv, rq);
        request_free(rq);
        return;
    }
    fault_at("delivery_after_send"); /* answered, the outcome not yet recorded */
    curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &status);
    struct strbuf locations;
    strbuf_init(&locations, 1 << 20);
    char why[CURL_ERROR_SIZE + 64];
    snprintf(why, sizeof why, "%s", rq->curl_error[0] ? rq->curl_error : curl_easy_strerror(code));
    struct delivery_answer a = {
        .transport_error = code != CURLE_OK,
        .error = why,
        .http_status = status,
        .body = rq->body.p,
        .body_len = rq->body.len,
        .retry_after = rq->retry_after[0] ? rq->retry_after : NULL,
        .request_entries = rq->entries < 0 ? 0 : (size_t)rq->entries,
        .now_ms = store_now_ms(),
    };
    struct delivery_outcome o;
    delivery_classify(&a, &o, &locations);
    struct pending_result *p = decide(ds, &rq->claim, &o, (int)status, a.now_ms, &ds->rng);
    if (status == 401 && auth_uses_token(&ds->conf) && p->r.kind == STORE_RETRY &&
        rq->token_gen == ds->token_gen) {
        /* the server refuses this token: one refresh, and this bundle again at once */
        ds->token_refresh_ms = ds->token_expires_ms = 0;
        ds->token_gen++;
        p->r.next_attempt_ms = a.now_ms;
        log_warn("token_rejected", "destination=%s action=refresh", ds->conf.id.name);
    }
    if (p->r.kind == STORE_DELIVERED) {
        p->locations = strbuf_take(&locations, NULL);
        p->r.locations = p->locations;
        if (log_enabled(LOG_DEBUG))
            log_debug("delivered", "destination=%s outbox_id=%lld http_status=%ld",
                      ds->conf.id.name, (long long)rq->claim.id, status);
    } else if (p->r.kind == STORE_DEAD && rq->body.len) {
        p->response = dup_str(rq->body.p, rq->body.len); /* kept, never logged */
        p->r.response = p->response;
        p->r.response_len = rq->body.len;
    }
    strbuf_cleanup(&locations);
    note_health(ds, p->r.kind == STORE_RETRY && (a.transport_error || status >= 500), a.now_ms);
    ds->inflight--;
    unlink_request(dv, rq);
    request_free(rq);
    add_result(dv, p);
    pump(ds);
    stop_progress(dv);
}

/* Hands the leases of the rows claimed and not started back (the destination went down: they
 * wait for it to come back, and a lease must not lapse while a row sits here). */
struct release_job {
    size_t n;
    int64_t ids[];
};

static void release_run(struct store *s, void *arg)
{
    struct release_job *j = arg;
    char err[256];
    if (store_release(s, j->ids, j->n, err, sizeof err) != 0) /* they lapse: the same end */
        log_error("delivery_release_failed", "rows=%zu error=%s", j->n, err);
    free(j);
}

static void release_ready(struct dest *ds)
{
    struct release_job *j = malloc(sizeof *j + (ds->nready ? ds->nready : 1) * sizeof j->ids[0]);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->n = ds->nready;
    for (size_t i = 0; i < ds->nready; i++)
        j->ids[i] = ds->ready[i].id;
    store_claims_free(ds->ready, ds->nready);
    ds->ready = NULL;
    ds->nready = ds->ready_cap = 0;
    intake_call(ds->dv->d->jobs, release_run, j);
}

/* The destination is back: every queue waiting for a retry time is due now. */
struct due_job {
    struct delivery *dv;
    char name[CONF_NAME];
    int64_t now;
    size_t released;
};

static void due_done(void *arg)
{
    struct due_job *j = arg;
    log_info("retries_released", "destination=%s queues=%zu", j->name, j->released);
    if (!j->dv->stopping)
        pump_all(j->dv);
    free(j);
}

static void due_run(struct store *s, void *arg)
{
    struct due_job *j = arg;
    char err[256];
    if (store_retry_now(s, j->name, j->now, &j->released, err, sizeof err) != 0)
        log_error("delivery_release_failed", "destination=%s error=%s", j->name, err);
    daemon_call(j->dv->d, due_done, j);
}

/* Notes what an attempt says of the whole destination (delivery_policy.h: health). */
static void note_health(struct dest *ds, bool whole_failure, int64_t now)
{
    int64_t base = ds->conf.retry_base_ms > 500 ? ds->conf.retry_base_ms : 500;
    int64_t cap = ds->conf.retry_cap_ms < 5000 ? ds->conf.retry_cap_ms : 5000;
    struct delivery_backoff probes = {base, cap > base ? cap : base};
    int64_t since = ds->health.down_since_ms;
    switch (delivery_health_note(&ds->health, whole_failure, now, &probes)) {
    case DELIVERY_HEALTH_DOWN:
        log_warn("destination_down", "destination=%s failures=%d probe_in_ms=%lld",
                 ds->conf.id.name, ds->health.failures, (long long)probes.base_ms);
        release_ready(ds);
        break;
    case DELIVERY_HEALTH_UP: {
        log_info("destination_up", "destination=%s down_ms=%lld", ds->conf.id.name,
                 (long long)(now - since));
        struct due_job *j = calloc(1, sizeof *j);
        if (!j)
            abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        j->dv = ds->dv;
        j->now = now;
        snprintf(j->name, sizeof j->name, "%s", ds->conf.id.name);
        intake_call(ds->dv->d->jobs, due_run, j);
        break;
    }
    case DELIVERY_HEALTH_SAME: break;
    }
}

static void check_done(struct delivery *dv)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(dv->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct request *rq;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
        request_done(rq, m->data.result);
    }
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct delivery *dv = arg;
    int running,
        flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(dv->multi, fd, flags, &running);
    check_done(dv);
}

static int curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct delivery *dv = userp;
    struct event *ev = socketp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(dv->multi, s, NULL);
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
                         (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    if (ev && event_get_events(ev) == kind)
        return 0; /* already watched for this */
    if (ev) {
        event_del(ev);
        event_assign(ev, dv->d->base, s, kind, on_socket, dv);
    } else {
        ev = event_new(dv->d->base, s, kind, on_socket, dv);
        curl_multi_assign(dv->multi, s, ev);
    }
    event_add(ev, NULL);
    return 0;
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    struct delivery *dv = arg;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(dv->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(dv);
}

static int curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    struct delivery *dv = userp;
    (void)m;
    if (timeout_ms < 0) {
        evtimer_del(dv->curl_timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(dv->curl_timer, &tv);
    return 0;
}

/* ---- claiming ---- */

static void claim_done(void *arg)
{
    struct claim_job *j = arg;
    struct dest *ds = j->dest;
    struct delivery *dv = ds->dv;
    ds->claiming = false;
    int got = j->n > 0 ? j->n : 0;
    if (dv->stopping) {
        store_claims_free(j->claims, (size_t)got);
    } else {
        if (ds->nready + (size_t)got > ds->ready_cap) {
            ds->ready_cap = ds->nready + (size_t)got;
            ds->ready = realloc(ds->ready, ds->ready_cap * sizeof *ds->ready);
            if (!ds->ready)
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        }
        if (got) /* in claim order, after what was ready */
            memcpy(ds->ready + ds->nready, j->claims, (size_t)got * sizeof *j->claims);
        ds->nready += (size_t)got;
        free(j->claims);
    }
    free(j);
    if (!dv->stopping && (got || ds->again)) /* start what came; more may be waiting */
        pump(ds);
}

static void pump(struct dest *ds)
{
    struct delivery *dv = ds->dv;
    if (dv->stopping || dv->draining || ds->removed)
        return;
    bool dir = strcmp(ds->conf.kind, "directory") == 0;
    if (!dir && !ds->secret_ok)
        return;
    if (auth_uses_token(&ds->conf) && store_now_ms() >= ds->token_refresh_ms) {
        if (!ds->token_fetching && store_now_ms() >= ds->token_retry_ms)
            token_start(ds);
        if (!ds->token[0] || store_now_ms() >= ds->token_expires_ms)
            return; /* no usable token: rows wait (they are not failing) */
    }
    size_t limit = dir ? DIR_BATCH : ds->conf.concurrency, started = 0;
    if (!dir && ds->health.down) { /* one probe at a time, when due; the queues wait */
        if (!delivery_health_may_start(&ds->health, ds->inflight, store_now_ms())) {
            if (ds->inflight == 0)
                wake_at(dv, ds->health.probe_at_ms);
            return;
        }
        limit = 1;
    }
    if (dir)
        dir_start(ds);
    while (!dir && ds->inflight < limit && started < ds->nready)
        request_start(ds, &ds->ready[started++]); /* takes the strings */
    ready_drop(ds, started);
    if (ds->claiming) {
        ds->again = true;
        return;
    }
    /* claim again when fewer than `concurrency` rows are ready, then enough to fill up to
     * 4 x `concurrency`: few, larger claims */
    size_t have = ds->inflight + ds->nready, room = ds->health.down ? limit : 4 * limit;
    if (have >= room || ds->nready > limit)
        return;
    struct claim_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->dest = ds;
    snprintf(j->name, sizeof j->name, "%s", ds->conf.id.name);
    j->want = room - have;
    j->now = store_now_ms();
    j->lease_until = j->now + (int64_t)ds->conf.timeout_ms + LEASE_SLACK_MS;
    ds->claiming = true;
    ds->again = false;
    intake_call(dv->d->jobs, claim_run, j);
}

static void pump_all(struct delivery *dv)
{
    for (struct dest *ds = dv->dests; ds; ds = ds->next)
        pump(ds);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump_all(arg);
    renew_leases(arg);
}

void delivery_each(struct delivery *dv, void (*fn)(void *arg, const struct delivery_counts *c),
                   void *arg)
{
    for (struct dest *ds = dv ? dv->dests : NULL; ds; ds = ds->next)
        if (!ds->removed) {
            struct delivery_counts c = {ds->conf.id.name,
                                        ds->conf.kind,
                                        ds->outcomes[STORE_DELIVERED],
                                        ds->outcomes[STORE_RETRY],
                                        ds->outcomes[STORE_DEAD],
                                        ds->token_failures_total,
                                        ds->inflight,
                                        !ds->health.down,
                                        &ds->latency};
            fn(arg, &c);
        }
}

void delivery_kick(struct delivery *dv)
{
    /* new rows wait up to KICK_MS, so a burst of commits makes one claim, not one each */
    if (!dv->stopping && !evtimer_pending(dv->kick, NULL)) {
        struct timeval tv = {0, KICK_MS * 1000};
        evtimer_add(dv->kick, &tv);
    }
}

/* ---- configuration ---- */

static void dest_drop_handles(struct dest *ds)
{
    while (ds->nspare)
        curl_easy_cleanup(ds->spare[--ds->nspare]);
}

static void dest_apply(struct dest *ds, const struct conf_destination *cd)
{
    if (strcmp(ds->conf.auth, cd->auth) != 0 || strcmp(ds->conf.token_url, cd->token_url) != 0 ||
        strcmp(ds->conf.client_id, cd->client_id) != 0 ||
        strcmp(ds->conf.private_key, cd->private_key) != 0) {
        ds->token[0] = '\0'; /* other credentials: a new token */
        ds->token_refresh_ms = ds->token_expires_ms = ds->token_retry_ms = 0;
        ds->token_gen++;
    }
    ds->conf = *cd;
    ds->removed = false;
    ds->conf_gen++; /* handles set up under the old settings are not reused */
    dest_drop_handles(ds);
    char why[CONF_TEXT + 64];
    const char *spec = strcmp(cd->auth, "basic") == 0                       ? cd->password
                       : strcmp(cd->auth, "bearer") == 0                    ? cd->token
                       : strcmp(cd->auth, "oauth2_client_credentials") == 0 ? cd->client_secret
                                                                            : "";
    ds->secret_ok = true;
    if (spec[0] && auth_read_secret(spec, ds->secret, sizeof ds->secret, why, sizeof why) != 0) {
        ds->secret_ok = false; /* its rows wait, nothing is dead-lettered */
        log_error("destination_secret_missing", "destination=%s error=%s", cd->id.name, why);
    }
    if (strcmp(cd->kind, "directory") == 0 && mkdir(cd->path, 0700) != 0 && errno != EEXIST)
        log_error("destination_directory_failed", "destination=%s error=%s", cd->id.name,
                  strerror(errno));
}

void delivery_configure(struct delivery *dv, const struct conf *c)
{
    for (struct dest *ds = dv->dests; ds; ds = ds->next)
        ds->removed = true;
    for (size_t i = 0; i < c->ndestinations; i++) {
        const struct conf_destination *cd = &c->destinations[i];
        struct dest *ds = dv->dests;
        while (ds && strcmp(ds->conf.id.name, cd->id.name) != 0)
            ds = ds->next;
        if (!ds) {
            ds = calloc(1, sizeof *ds);
            if (!ds)
                abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
            ds->dv = dv;
            ds->rng.state = (uint64_t)store_now_ms() ^ ((uint64_t)i << 32) ^ (uint64_t)getpid();
            ds->next = dv->dests;
            dv->dests = ds;
        }
        dest_apply(ds, cd);
    }
    for (struct dest *ds = dv->dests; ds; ds = ds->next)
        if (ds->removed)
            dest_drop_handles(ds);
    pump_all(dv);
}

struct delivery *delivery_start(struct daemon *d, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "delivery: libcurl cannot start");
        return NULL;
    }
    struct delivery *dv = calloc(1, sizeof *dv);
    if (!dv)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    dv->d = d;
    dv->results_tail = &dv->results;
    pthread_mutex_init(&dv->wlock, NULL);
    pthread_cond_init(&dv->wcond, NULL);
    dv->multi = curl_multi_init();
    dv->curl_timer = evtimer_new(d->base, on_curl_timer, dv);
    dv->poll = event_new(d->base, -1, EV_PERSIST, on_poll, dv);
    dv->retry_timer = evtimer_new(d->base, on_poll, dv);
    dv->kick = evtimer_new(d->base, on_poll, dv);
    struct timeval every = {POLL_MS / 1000, (POLL_MS % 1000) * 1000};
    if (!dv->multi || !dv->curl_timer || !dv->poll || !dv->retry_timer || !dv->kick ||
        event_add(dv->poll, &every) != 0) {
        snprintf(err, errlen, "delivery: cannot start");
        delivery_free(dv);
        return NULL;
    }
    if (pthread_create(&dv->writer, NULL, writer_run, dv) != 0) {
        snprintf(err, errlen, "delivery: cannot start the file writer thread");
        delivery_free(dv);
        return NULL;
    }
    dv->writer_started = true;
    curl_multi_setopt(dv->multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
    curl_multi_setopt(dv->multi, CURLMOPT_SOCKETDATA, dv);
    curl_multi_setopt(dv->multi, CURLMOPT_TIMERFUNCTION, curl_timer);
    curl_multi_setopt(dv->multi, CURLMOPT_TIMERDATA, dv);
    curl_multi_setopt(dv->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(dv->multi, CURLMOPT_MAXCONNECTS, 256L); /* keep them: reuse, not connect */
    return dv;
}

void delivery_drain(struct delivery *dv)
{
    if (dv && !dv->stopping)
        dv->draining = true;
}

bool delivery_idle(const struct delivery *dv)
{
    if (!dv || dv->stopping)
        return true;
    if (dv->recording || dv->results || dv->renewing)
        return false;
    for (const struct dest *ds = dv->dests; ds; ds = ds->next)
        if (ds->inflight)
            return false;
    return true;
}

void delivery_stop(struct delivery *dv)
{
    if (!dv || dv->stopping)
        return;
    dv->stopping = true;
    if (dv->writer_started) { /* what it was given is written; its rows are not recorded */
        pthread_mutex_lock(&dv->wlock);
        dv->wstop = true;
        pthread_cond_signal(&dv->wcond);
        pthread_mutex_unlock(&dv->wlock);
        pthread_join(dv->writer, NULL);
        dv->writer_started = false;
    }
    size_t abandoned = 0;
    while (dv->requests) {
        struct request *rq = dv->requests;
        dv->requests = rq->next;
        if (!rq->is_token)
            rq->dest->inflight--;
        request_free(rq);
        abandoned++;
    }
    if (abandoned)
        log_info("delivery_stopped", "abandoned_requests=%zu", abandoned);
}

void delivery_free(struct delivery *dv)
{
    if (!dv)
        return;
    delivery_stop(dv);
    free_results(dv->results);
    pthread_mutex_destroy(&dv->wlock);
    pthread_cond_destroy(&dv->wcond);
    while (dv->dests) {
        struct dest *ds = dv->dests;
        dv->dests = ds->next;
        memset(ds->secret, 0, sizeof ds->secret);
        store_claims_free(ds->ready, ds->nready);
        dest_drop_handles(ds);
        free(ds);
    }
    if (dv->multi) /* first: it may still call the socket and timer callbacks */
        curl_multi_cleanup(dv->multi);
    if (dv->curl_timer)
        event_free(dv->curl_timer);
    if (dv->poll)
        event_free(dv->poll);
    if (dv->retry_timer)
        event_free(dv->retry_timer);
    if (dv->kick)
        event_free(dv->kick);
    free(dv);
    curl_global_cleanup();
}
