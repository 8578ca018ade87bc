/* store — the interface: [store] kind picks the back end; every call goes to its table. */
#include "engine/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/conf.h"
#include "engine/crypt.h"
#include "engine/fault.h"
#include "engine/log.h"

static const char *const status_names[] = {"accepted", "error", "rejected", "duplicate", "parked"};

const char *store_status_name(enum store_status s)
{
    return s < STORE_STATUSES ? status_names[s] : "unknown";
}

void store_claims_free(struct store_claim *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].ordering_key);
        free(c[i].bundle);
    }
    free(c);
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    return store_sqlite_open(path, NULL, err, errlen);
}

struct store *store_open_conf(const struct conf_store *cs, char *err, size_t errlen)
{
    struct keyring kr;
    char why[400];
    if (cs->encryption_key[0] && keyring_load(cs->encryption_key, &kr, why, sizeof why) != 0) {
        snprintf(err, errlen, "[store] %s", why);
        return NULL;
    }
    const struct keyring *k = cs->encryption_key[0] ? &kr : NULL;
    struct store *s = strcmp(cs->kind, "postgres") == 0
                          ? store_pg_open(cs, k, err, errlen)
                          : store_sqlite_open(cs->path, k, err, errlen);
    if (k)
        keyring_wipe(&kr);
    return s;
}

struct store *store_open_waiting(const struct conf_store *cs, bool (*wait)(void *arg, unsigned ms),
                                 void *arg, char *err, size_t errlen)
{
    for (unsigned wait_ms = 500;; wait_ms = wait_ms * 2 > 5000 ? 5000 : wait_ms * 2) {
        struct store *s = store_open_conf(cs, err, errlen);
        if (s || !strstr(err, STORE_UNREACHABLE))
            return s;
        log_warn("store_unreachable", "kind=%s next_in_ms=%u error=%s", cs->kind, wait_ms, err);
        if (!wait(arg, wait_ms)) {
            snprintf(err, errlen, "%s", STORE_STOPPED);
            return NULL;
        }
    }
}

struct store *store_open_existing(const struct conf_store *cs, char *err, size_t errlen)
{
    if (strcmp(cs->kind, "sqlite") == 0 && access(cs->path, R_OK) != 0) {
        snprintf(err, errlen, "no store at %s (has solent run started?)", cs->path);
        return NULL;
    }
    return store_open_conf(cs, err, errlen);
}

bool store_parallel(const struct store *s)
{
    return s->ops->parallel;
}

const char *store_kind(const struct store *s)
{
    return s->ops->kind;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

int store_attach_engine(struct store *s, const char *engine, char *err, size_t errlen)
{
    return s->ops->attach_engine(s, engine, err, errlen);
}

int store_backup(struct store *s, const char *dest, uint64_t *pages, char *err, size_t errlen)
{
    *pages = 0;
    if (!s->ops->backup) {
        snprintf(err, errlen,
                 "a %s store is backed up with its own tools (pg_dump, or base backups with WAL "
                 "archiving: README, Backups)",
                 s->ops->kind);
        return -1;
    }
    return s->ops->backup(s, dest, pages, err, errlen);
}

int store_rekey(struct store *s, size_t batch, uint64_t *done, char *err, size_t errlen)
{
    return s->ops->rekey(s, batch, done, err, errlen);
}

int store_commit(struct store *s, struct store_message *msgs, size_t n, char *err, size_t errlen)
{
    return s->ops->commit(s, msgs, n, err, errlen);
}

int store_find_duplicate(struct store *s, const char *app, const char *facility,
                         const char *control_id, const unsigned char hash[STORE_HASH_LEN],
                         struct strbuf *ack)
{
    return s->ops->find_duplicate(s, app, facility, control_id, hash, ack);
}

void store_find_duplicates(struct store *s, struct store_lookup *q, size_t n)
{
    if (s->ops->find_duplicates) {
        s->ops->find_duplicates(s, q, n);
        return;
    }
    for (size_t i = 0; i < n; i++) /* one by one: cheap in process */
        q[i].rc =
            store_find_duplicate(s, q[i].app, q[i].facility, q[i].control_id, q[i].hash, q[i].ack);
}

int store_list(struct store *s, const struct store_filter *f,
               void (*fn)(void *arg, const struct store_row *row), void *arg)
{
    return s->ops->list(s, f, fn, arg);
}

int store_ledger(struct store *s, int64_t id, struct strbuf *out)
{
    return s->ops->ledger(s, id, out);
}

struct store_stats store_stats(const struct store *s)
{
    return s->ops->stats(s);
}

bool store_is_idle(struct store *s)
{
    return s->ops->is_idle(s);
}

int store_synchronous(struct store *s)
{
    return s->ops->synchronous(s);
}

int store_schema_version(struct store *s)
{
    return s->ops->schema_version(s);
}

int store_claim(struct store *s, const char *destination, int64_t now_ms, int64_t lease_until_ms,
                size_t max, struct store_claim **out, char *err, size_t errlen)
{
    return s->ops->claim(s, destination, now_ms, lease_until_ms, max, out, err, errlen);
}

int store_record(struct store *s, const struct store_result *r, size_t n, size_t *stale, char *err,
                 size_t errlen)
{
    size_t none;
    return s->ops->record(s, r, n, stale ? stale : &none, err, errlen);
}

int store_renew(struct store *s, const int64_t *ids, const int64_t *leases, const int64_t *until,
                size_t n, size_t *lost, char *err, size_t errlen)
{
    *lost = 0;
    return n ? s->ops->renew(s, ids, leases, until, n, lost, err, errlen) : 0;
}

int store_release(struct store *s, const int64_t *ids, size_t n, char *err, size_t errlen)
{
    return s->ops->release(s, ids, n, err, errlen);
}

int store_retry_now(struct store *s, const char *destination, int64_t now_ms, size_t *released,
                    char *err, size_t errlen)
{
    return s->ops->retry_now(s, destination, now_ms, released, err, errlen);
}

int store_delivery_status(struct store *s, int64_t now_ms,
                          void (*fn)(void *arg, const struct store_dest_status *d), void *arg)
{
    return s->ops->delivery_status(s, now_ms, fn, arg);
}

int store_engines(struct store *s, int64_t now_ms,
                  void (*fn)(void *arg, const struct store_engine *e), void *arg)
{
    return s->ops->engines ? s->ops->engines(s, now_ms, fn, arg) : 0;
}

int store_queue_gauges(struct store *s, void (*fn)(void *arg, const struct store_queue_gauge *g),
                       void *arg)
{
    return s->ops->queue_gauges(s, fn, arg);
}

int store_dead_list(struct store *s, const char *destination, int64_t since_ms,
                    struct store_dead **out, size_t *n)
{
    return s->ops->dead_list(s, destination, since_ms, out, n);
}

int store_message_get(struct store *s, int64_t id, struct strbuf *raw, char *listener,
                      size_t listener_len, int64_t *received_at_ms)
{
    return s->ops->message_get(s, id, raw, listener, listener_len, received_at_ms);
}

int store_enqueue(struct store *s, int64_t message_id, int64_t created_at_ms,
                  const struct store_outbox *o, size_t n, int64_t replaced_id, int64_t now_ms,
                  char *err, size_t errlen)
{
    return s->ops->enqueue(s, message_id, created_at_ms, o, n, replaced_id, now_ms, err, errlen);
}

int store_purge(struct store *s, struct store_purge *p, size_t max, char *err, size_t errlen)
{
    return s->ops->purge(s, p, max, err, errlen);
}

int store_floor(struct store *s, const void *a, size_t alen, const void *b, size_t blen, size_t n,
                char *err, size_t errlen)
{
    return s->ops->floor(s, a, alen, b, blen, n, err, errlen);
}

int store_deliveries(struct store *s, int64_t message_id, bool content,
                     void (*fn)(void *arg, const struct store_delivery *d), void *arg)
{
    return s->ops->deliveries(s, message_id, content, fn, arg);
}

int store_audit_add(struct store *s, const struct store_audit *a, char *err, size_t errlen)
{
    if (fault_at("audit_write")) {
        snprintf(err, errlen, "store: writing the audit: a fault point (SOLENT_FAULTS)");
        return -1;
    }
    return s->ops->audit_add(s, a, err, errlen);
}

int store_audit_list(struct store *s, int64_t since_ms, size_t limit,
                     void (*fn)(void *arg, const struct store_audit *a), void *arg)
{
    return s->ops->audit_list(s, since_ms, limit, fn, arg);
}
