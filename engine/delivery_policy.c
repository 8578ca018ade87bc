/* delivery_policy — classification of a FHIR server's answer, and the retry schedule. */
#include "engine/delivery_policy.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int retryable(long status)
{
    return status == 408 || status == 429 || status == 401 || status == 403 || status >= 500;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3); 0 when absent or unreadable. */
static int64_t retry_after_ms(const char *v, int64_t now_ms)
{
    if (!v)
        return 0;
    while (isspace((unsigned char)*v))
        v++;
    if (isdigit((unsigned char)*v)) {
        char *end;
        long long s = strtoll(v, &end, 10);
        return s > 0 && s < 86400LL * 365 ? (int64_t)s * 1000 : 0;
    }
    struct tm tm = {0};
    if (!strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return 0;
    int64_t at = (int64_t)timegm(&tm) * 1000;
    return at > now_ms ? at - now_ms : 0;
}

/* The leading number of an entry's response.status ("201 Created" -> 201), 0 when none. */
static long entry_status(const cJSON *entry)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(entry, "response"), "status");
    if (!cJSON_IsString(st) || !isdigit((unsigned char)st->valuestring[0]))
        return 0;
    return strtol(st->valuestring, NULL, 10);
}

static void set(struct delivery_outcome *o, enum delivery_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set(struct delivery_outcome *o, enum delivery_verdict v, const char *fmt, ...)
{
    va_list ap;
    o->verdict = v;
    va_start(ap, fmt);
    vsnprintf(o->reason, sizeof o->reason, fmt, ap);
    va_end(ap);
}

/* A 2xx: the body must be a transaction-response whose entries all succeeded. */
static void classify_body(const struct delivery_answer *a, struct delivery_outcome *o,
                          struct strbuf *locations)
{
    cJSON *b = a->body ? cJSON_ParseWithLength(a->body, a->body_len) : NULL;
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(b, "resourceType");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(b, "type");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(b, "entry");
    long n = cJSON_IsArray(entries) ? (long)cJSON_GetArraySize(entries) : 0;
    if (!cJSON_IsString(rt) || strcmp(rt->valuestring, "Bundle") != 0 || !cJSON_IsString(type) ||
        strcmp(type->valuestring, "transaction-response") != 0) {
        set(o, DELIVERY_RETRY, "HTTP %ld with a body that is not a transaction-response",
            a->http_status);
        goto out;
    }
    if ((size_t)n != a->request_entries) {
        set(o, DELIVERY_RETRY, "transaction-response with %ld entries for %ld sent", n,
            (long)a->request_entries);
        goto out;
    }
    long i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        i++;
        long st = entry_status(e);
        if (st >= 200 && st < 300)
            continue;
        set(o, retryable(st) || st == 0 ? DELIVERY_RETRY : DELIVERY_DEAD,
            "transaction-response entry %ld has status %ld", i, st);
        goto out;
    }
    o->verdict = DELIVERY_OK;
    snprintf(o->reason, sizeof o->reason, "HTTP %ld, %ld entries", a->http_status, n);
    if (locations) {
        cJSON_ArrayForEach(e, entries)
        {
            const cJSON *loc = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(e, "response"), "location");
            if (cJSON_IsString(loc))
                strbuf_puts(locations, loc->valuestring);
            strbuf_putc(locations, '\n');
        }
    }
out:
    cJSON_Delete(b);
}

void delivery_classify(const struct delivery_answer *a, struct delivery_outcome *o,
                       struct strbuf *locations)
{
    memset(o, 0, sizeof *o);
    if (a->transport_error) {
        o->verdict = DELIVERY_RETRY;
        snprintf(o->reason, sizeof o->reason, "no answer: %s",
                 a->error ? a->error : "transport error");
        return;
    }
    long s = a->http_status;
    if (s >= 200 && s < 300) {
        classify_body(a, o, locations);
        return;
    }
    if (retryable(s)) {
        set(o, DELIVERY_RETRY, "HTTP %ld", s);
        o->retry_after_ms = retry_after_ms(a->retry_after, a->now_ms);
        return;
    }
    set(o, DELIVERY_DEAD, "HTTP %ld", s);
}

uint64_t delivery_rng_next(struct delivery_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int64_t delivery_backoff_ms(const struct delivery_backoff *b, int attempt, int64_t retry_after,
                            struct delivery_rng *rng)
{
    int64_t ceiling = b->base_ms;
    for (int i = 1; i < attempt && ceiling < b->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > b->cap_ms)
        ceiling = b->cap_ms;
    int64_t d = ceiling > 0 ? (int64_t)(delivery_rng_next(rng) % (uint64_t)(ceiling + 1)) : 0;
    return d < retry_after ? retry_after : d;
}

long delivery_bundle_entries(const char *json, size_t len)
{
    cJSON *b = cJSON_ParseWithLength(json, len);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(b, "resourceType");
    long n = -1;
    if (cJSON_IsString(rt) && strcmp(rt->valuestring, "Bundle") == 0) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(b, "entry");
        n = cJSON_IsArray(e) ? (long)cJSON_GetArraySize(e) : 0;
    }
    cJSON_Delete(b);
    return n;
}

enum delivery_health_change delivery_health_note(struct delivery_health *h, bool whole_failure,
                                                 int64_t now_ms, const struct delivery_backoff *b)
{
    if (!whole_failure) {
        bool was_down = h->down;
        *h = (struct delivery_health){0};
        return was_down ? DELIVERY_HEALTH_UP : DELIVERY_HEALTH_SAME;
    }
    h->failures++;
    if (h->down && now_ms < h->probe_at_ms)
        return DELIVERY_HEALTH_SAME; /* an attempt started before it went down */
    if (h->down) {                   /* a failed probe: the next one later */
        int64_t wait = b->base_ms;
        h->probes++;
        for (int i = 0; i < h->probes && wait < b->cap_ms; i++)
            wait *= 2;
        h->probe_at_ms = now_ms + (wait < b->cap_ms ? wait : b->cap_ms);
        return DELIVERY_HEALTH_SAME;
    }
    if (h->failures < DELIVERY_DOWN_AFTER)
        return DELIVERY_HEALTH_SAME;
    h->down = true;
    h->down_since_ms = now_ms;
    h->probe_at_ms = now_ms + b->base_ms;
    return DELIVERY_HEALTH_DOWN;
}

bool delivery_health_may_start(const struct delivery_health *h, size_t inflight, int64_t now_ms)
{
    return !h->down || (inflight == 0 && now_ms >= h->probe_at_ms);
}
