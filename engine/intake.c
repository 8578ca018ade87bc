/* intake — a store thread committing whatever is queued in one transaction. */
#include "engine/intake.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fault.h"
#include "engine/log.h"
#include "parsers/grow.h"

struct intake_item {
    struct store_message msg;
    struct store_outbox *outbox;
    char *strings; /* one block holding every string and byte the message points to */
    intake_done_cb done;
    void *arg;
    struct strbuf first_ack; /* for a duplicate: the ACK sent the first time */
    struct intake_item *next;
};

struct intake_job {
    void (*fn)(struct store *s, void *arg);
    void *arg;
    struct intake_job *next;
};

struct intake {
    struct store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct intake_item *head, **tail;
    struct intake_job *jobs, **jobs_tail;
    bool stopping;
};

/* Copies n bytes into the block at *at; returns the copy. */
static const char *copy(char **at, const char *p, size_t n)
{
    char *dst = *at;
    if (n)
        memcpy(dst, p, n);
    dst[n] = '\0';
    *at += n + 1;
    return dst;
}

static size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

struct intake_item *intake_item_new(const struct store_message *m, intake_done_cb done, void *arg)
{
    struct intake_item *it = calloc(1, sizeof *it);
    size_t total = m->raw_len + m->ack_len + slen(m->listener) + slen(m->sending_app) +
                   slen(m->sending_facility) + slen(m->control_id) + slen(m->message_type) +
                   slen(m->error_location) + 8;
    for (size_t i = 0; i < m->noutbox; i++)
        total += slen(m->outbox[i].destination) + slen(m->outbox[i].ordering_key) +
                 m->outbox[i].bundle_len + 3;
    size_t cap = 0, ocap = 0;
    if (!it)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    it->strings = grow_array(NULL, &cap, total, 1);
    char *at = it->strings;
    it->msg = *m;
    it->msg.raw = copy(&at, m->raw ? m->raw : "", m->raw_len);
    it->msg.ack = m->ack ? copy(&at, m->ack, m->ack_len) : NULL;
    it->msg.listener = copy(&at, m->listener, slen(m->listener));
    it->msg.sending_app = copy(&at, m->sending_app, slen(m->sending_app));
    it->msg.sending_facility = copy(&at, m->sending_facility, slen(m->sending_facility));
    it->msg.control_id = copy(&at, m->control_id, slen(m->control_id));
    it->msg.message_type = copy(&at, m->message_type, slen(m->message_type));
    it->msg.error_location = copy(&at, m->error_location, slen(m->error_location));
    it->outbox = m->noutbox ? grow_array(NULL, &ocap, m->noutbox, sizeof *it->outbox) : NULL;
    for (size_t i = 0; i < m->noutbox; i++) {
        const struct store_outbox *o = &m->outbox[i];
        it->outbox[i].destination = copy(&at, o->destination, slen(o->destination));
        it->outbox[i].ordering_key = copy(&at, o->ordering_key, slen(o->ordering_key));
        it->outbox[i].bundle = copy(&at, o->bundle, o->bundle_len);
        it->outbox[i].bundle_len = o->bundle_len;
        it->outbox[i].entries = o->entries;
    }
    it->msg.outbox = it->outbox;
    it->done = done;
    it->arg = arg;
    strbuf_init(&it->first_ack, 1 << 20);
    return it;
}

static void item_free(struct intake_item *it)
{
    strbuf_cleanup(&it->first_ack);
    free(it->strings);
    free(it->outbox);
    free(it);
}

/* The first copy of it in its own batch, before it (a sender that resent on another
 * connection while the store was slow): 1 and its ACK when the content is the same, 2 when
 * only the identifiers are, 0 when there is none. Mirrors store_find_duplicate. */
static int find_in_batch(struct intake_item *batch, struct intake_item *it)
{
    const struct store_message *m = &it->msg;
    for (struct intake_item *p = batch; p != it; p = p->next) {
        const struct store_message *q = &p->msg;
        if (q->status == STORE_DUPLICATE || strcmp(q->control_id, m->control_id) != 0 ||
            strcmp(q->sending_app, m->sending_app) != 0 ||
            strcmp(q->sending_facility, m->sending_facility) != 0)
            continue;
        if (memcmp(q->hash, m->hash, STORE_HASH_LEN) != 0)
            return 2;
        if (q->ack_len && strbuf_append(&it->first_ack, q->ack, q->ack_len) != 0)
            abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
        return 1;
    }
    return 0;
}

/* A message seen before (same sender, facility, control id and content) — in the store, or
 * earlier in the same batch — becomes a duplicate record without outbox rows, answered with
 * the first ACK. Only accepted messages are checked: a rejected frame has no trustworthy
 * identity. */
static bool checked_for_duplicates(const struct store_message *m)
{
    return m->status != STORE_REJECTED && m->control_id[0];
}

/* rc: what the store said of it (store_find_duplicate). */
static void mark_duplicate(struct intake_item *batch, struct intake_item *it, int rc)
{
    struct store_message *m = &it->msg;
    if (!checked_for_duplicates(m))
        return;
    if (rc == 0)
        rc = find_in_batch(batch, it);
    if (rc == 1) {
        m->status = STORE_DUPLICATE;
        m->noutbox = 0;
    } else if (rc == 2) { /* identifiers only: the content is not logged */
        log_warn("control_id_reused", "msh10=%s msh3=%s", m->control_id, m->sending_app);
    }
}

/* Commits one batch (a list) in one transaction and reports every item. */
static void commit_batch(struct intake *in, struct intake_item *batch)
{
    size_t n = 0, cap = 0;
    for (struct intake_item *it = batch; it; it = it->next)
        n++;
    struct store_message *msgs = grow_array(NULL, &cap, n, sizeof *msgs);
    size_t lcap = 0, nq = 0, i = 0;
    struct store_lookup *q = grow_array(NULL, &lcap, n, sizeof *q); /* the store's, at once */
    for (struct intake_item *it = batch; it; it = it->next)
        if (checked_for_duplicates(&it->msg))
            q[nq++] = (struct store_lookup){it->msg.sending_app, it->msg.sending_facility,
                                            it->msg.control_id,  it->msg.hash,
                                            &it->first_ack,      0};
    store_find_duplicates(in->store, q, nq);
    nq = 0;
    for (struct intake_item *it = batch; it; it = it->next) {
        mark_duplicate(batch, it, checked_for_duplicates(&it->msg) ? q[nq++].rc : 0);
        msgs[i++] = it->msg;
    }
    free(q);
    char err[256];
    fault_at("intake_before_commit");
    int rc = store_commit(in->store, msgs, n, err, sizeof err);
    if (rc == 0)
        fault_at("intake_after_commit"); /* durable, and no ACK has gone out */
    if (rc == -2) { /* no ACK goes out; the senders resend to the restarted engine */
        log_error("fsync_failed", "messages=%zu error=%s action=stopping", n, err);
        _exit(70);
    }
    if (rc != 0)
        log_error("store_commit_failed", "messages=%zu error=%s", n, err);
    i = 0;
    for (struct intake_item *it = batch, *next; it; it = next) {
        next = it->next;
        /* a duplicate found here answers with its first's ACK; one the store found (another
         * engine committed it meanwhile) with the ACK the store gave */
        bool dup = it->msg.status == STORE_DUPLICATE && it->first_ack.len;
        it->done(it->arg, rc, rc == 0 ? msgs[i].id : 0, msgs[i].status,
                 dup ? it->first_ack.p : msgs[i].ack, dup ? it->first_ack.len : msgs[i].ack_len);
        i++;
        item_free(it);
    }
    free(msgs);
}

static void *run(void *arg)
{
    struct intake *in = arg;
    pthread_setname_np(pthread_self(), "solent-store"); /* for top, perf and gdb */
    pthread_mutex_lock(&in->lock);
    for (;;) {
        while (!in->head && !in->jobs && !in->stopping)
            pthread_cond_wait(&in->wake, &in->lock);
        if (!in->head && !in->jobs && in->stopping)
            break;
        struct intake_item *batch = in->head; /* everything waiting: one transaction */
        struct intake_job *jobs = in->jobs;
        in->head = NULL;
        in->tail = &in->head;
        in->jobs = NULL;
        in->jobs_tail = &in->jobs;
        pthread_mutex_unlock(&in->lock);
        for (struct intake_job *j = jobs, *next; j; j = next) {
            next = j->next;
            j->fn(in->store, j->arg);
            free(j);
        }
        if (batch)
            commit_batch(in, batch);
        pthread_mutex_lock(&in->lock);
    }
    pthread_mutex_unlock(&in->lock);
    return NULL;
}

struct intake *intake_start(struct store *s, char *err, size_t errlen)
{
    struct intake *in = calloc(1, sizeof *in);
    if (!in)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    in->store = s;
    in->tail = &in->head;
    in->jobs_tail = &in->jobs;
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->wake, NULL);
    if (pthread_create(&in->thread, NULL, run, in) != 0) {
        snprintf(err, errlen, "intake: cannot start the store thread");
        free(in);
        return NULL;
    }
    return in;
}

void intake_submit(struct intake *in, struct intake_item *item)
{
    pthread_mutex_lock(&in->lock);
    item->next = NULL;
    *in->tail = item;
    in->tail = &item->next;
    pthread_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->lock);
}

void intake_call(struct intake *in, void (*fn)(struct store *s, void *arg), void *arg)
{
    struct intake_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&in->lock);
    *in->jobs_tail = j;
    in->jobs_tail = &j->next;
    pthread_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->lock);
}

void intake_stop(struct intake *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->lock);
    in->stopping = true;
    pthread_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->lock);
    pthread_join(in->thread, NULL);
    pthread_mutex_destroy(&in->lock);
    pthread_cond_destroy(&in->wake);
    free(in);
}
