/* conf — INI configuration from declarative key tables into struct conf. */
#include "engine/conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/peers.h"
#include "engine/zoneinfo.h"
#include "routes/route.h"

enum key_type { K_STR, K_ENUM, K_U32, K_SIZE, K_DURATION, K_LIST, K_WHERE };

/* One key of a section: where it goes in the section's struct and its default. */
struct key {
    const char *name;
    enum key_type type;
    size_t offset, size;
    const char *dflt;
    const char *choices; /* K_ENUM: "a|b|c" */
};

#define KEY(T, type, field, dflt, choices)                                                         \
    {                                                                                              \
#field, type, offsetof(struct T, field), sizeof(((struct T *)0)->field), dflt, choices     \
    }

static const struct key engine_keys[] = {
    KEY(conf_engine, K_STR, site_tz, "Europe/London", NULL),
    KEY(conf_engine, K_ENUM, log_level, "info", "error|warn|info|debug"),
    KEY(conf_engine, K_ENUM, log_format, "text", "text|json"),
    KEY(conf_engine, K_STR, log_file, "", NULL),
    KEY(conf_engine, K_STR, data_dir, "data", NULL),
    KEY(conf_engine, K_ENUM, on_no_match, "reject", "reject|park"),
    KEY(conf_engine, K_SIZE, max_message, "16M", NULL),
    KEY(conf_engine, K_U32, max_segments, "10000", NULL),
    KEY(conf_engine, K_U32, max_fields, "1000", NULL),
    KEY(conf_engine, K_U32, max_repetitions, "1000", NULL),
    KEY(conf_engine, K_STR, local_code_system, "", NULL),
    KEY(conf_engine, K_ENUM, nhs_number_status, "", "|01|02|03|04|05|06|07|08"),
    KEY(conf_engine, K_STR, user, "", NULL),
    KEY(conf_engine, K_STR, name, "", NULL),
};

static const struct key store_keys[] = {
    KEY(conf_store, K_ENUM, kind, "sqlite", "sqlite|postgres"),
    KEY(conf_store, K_STR, path, "data/solent.db", NULL),
    KEY(conf_store, K_STR, dsn, "", NULL),
    KEY(conf_store, K_STR, password, "", NULL),
    KEY(conf_store, K_U32, pool, "3", NULL),
    KEY(conf_store, K_DURATION, retain_ms, "0", NULL),
    KEY(conf_store, K_STR, encryption_key, "", NULL),
};

/* A key whose name is not its field's (a field of a nested struct). */
#define KEY_AS(T, type, name, field, dflt, choices)                                                \
    {                                                                                              \
        name, type, offsetof(struct T, field), sizeof(((struct T *)0)->field), dflt, choices       \
    }
/* The keys of a struct conf_tls member named tls. */
#define TLS_KEYS(T)                                                                                \
    KEY_AS(T, K_ENUM, "tls", tls.mode, "off", "off|on"),                                           \
        KEY_AS(T, K_STR, "cert", tls.cert, "", NULL), KEY_AS(T, K_STR, "key", tls.key, "", NULL),  \
        KEY_AS(T, K_ENUM, "verify", tls.verify, "none", "none|optional|require"),                  \
        KEY_AS(T, K_STR, "client_ca", tls.client_ca, "", NULL),                                    \
        KEY_AS(T, K_STR, "crl", tls.crl, "", NULL)

static const struct key admin_keys[] = {
    KEY(conf_admin, K_STR, bind, "127.0.0.1", NULL),
    KEY(conf_admin, K_U32, port, "0", NULL),
    KEY(conf_admin, K_STR, token, "", NULL),
    TLS_KEYS(conf_admin),
};

static const struct key listener_keys[] = {
    KEY(conf_listener, K_STR, bind, "127.0.0.1", NULL),
    KEY(conf_listener, K_U32, port, "2575", NULL),
    KEY(conf_listener, K_STR, charset, "UNICODE UTF-8", NULL),
    KEY(conf_listener, K_SIZE, max_message, "1M", NULL),
    KEY(conf_listener, K_DURATION, idle_timeout_ms, "300s", NULL),
    KEY(conf_listener, K_DURATION, frame_timeout_ms, "60s", NULL),
    KEY(conf_listener, K_U32, max_connections, "64", NULL),
    KEY(conf_listener, K_U32, max_per_peer, "8", NULL),
    KEY(conf_listener, K_U32, max_in_flight, "0", NULL),
    KEY(conf_listener, K_LIST, routes, "", NULL),
    TLS_KEYS(conf_listener),
    KEY(conf_listener, K_DURATION, handshake_timeout_ms, "10s", NULL),
    KEY(conf_listener, K_LIST, peers, "", NULL),
    KEY(conf_listener, K_DURATION, quiet_after_ms, "0", NULL),
};

static const struct key route_keys[] = {
    KEY(conf_route, K_LIST, listeners, "", NULL),
    KEY(conf_route, K_STR, sending_app, "*", NULL),
    KEY(conf_route, K_STR, sending_facility, "*", NULL),
    KEY(conf_route, K_STR, receiving_app, "*", NULL),
    KEY(conf_route, K_STR, receiving_facility, "*", NULL),
    KEY(conf_route, K_STR, type, "*", NULL),
    KEY(conf_route, K_STR, version, "*", NULL),
    KEY(conf_route, K_WHERE, where, "", NULL),
    KEY(conf_route, K_ENUM, transform, "fhir", "fhir"),
    KEY(conf_route, K_STR, patient_key, "", NULL),
    KEY(conf_route, K_ENUM, documents, "inline", "inline|binary"),
    KEY(conf_route, K_SIZE, max_document, "16M", NULL),
    KEY(conf_route, K_LIST, destinations, "", NULL),
    KEY(conf_route, K_LIST, peers, "", NULL),
};

static const struct key peer_keys[] = {
    KEY(conf_peer, K_LIST, identity, "", NULL),
    KEY(conf_peer, K_LIST, addresses, "", NULL),
    KEY(conf_peer, K_U32, max_connections, "0", NULL),
    KEY(conf_peer, K_U32, max_in_flight, "0", NULL),
};

static const struct key token_keys[] = {
    KEY(conf_token, K_STR, secret, "", NULL),
    KEY(conf_token, K_LIST, scopes, "read", NULL),
};

static const struct key destination_keys[] = {
    KEY(conf_destination, K_ENUM, kind, "directory", "fhir|directory"),
    KEY(conf_destination, K_STR, url, "", NULL),
    KEY(conf_destination, K_STR, path, "data/outbox", NULL),
    KEY(conf_destination, K_U32, concurrency, "8", NULL),
    KEY(conf_destination, K_DURATION, timeout_ms, "30s", NULL),
    KEY(conf_destination, K_DURATION, retry_base_ms, "1s", NULL),
    KEY(conf_destination, K_DURATION, retry_cap_ms, "5m", NULL),
    KEY(conf_destination, K_U32, max_attempts, "0", NULL),
    KEY(conf_destination, K_DURATION, max_age_ms, "7d", NULL),
    KEY(conf_destination, K_ENUM, auth, "none",
        "none|basic|bearer|oauth2_client_credentials|smart_backend"),
    KEY(conf_destination, K_STR, username, "", NULL),
    KEY(conf_destination, K_STR, password, "", NULL),
    KEY(conf_destination, K_STR, token, "", NULL),
    KEY(conf_destination, K_STR, token_url, "", NULL),
    KEY(conf_destination, K_STR, client_id, "", NULL),
    KEY(conf_destination, K_STR, client_secret, "", NULL),
    KEY(conf_destination, K_ENUM, client_auth, "basic", "basic|post"),
    KEY(conf_destination, K_STR, scope, "system/*.write", NULL),
    KEY(conf_destination, K_STR, private_key, "", NULL),
    KEY(conf_destination, K_STR, kid, "", NULL),
    KEY(conf_destination, K_ENUM, alg, "RS384", "RS384|ES384"),
    KEY(conf_destination, K_STR, ca_file, "", NULL),
    KEY(conf_destination, K_STR, client_cert, "", NULL),
    KEY(conf_destination, K_STR, client_key, "", NULL),
};

/* The section kinds: singletons live in struct conf, named ones in its arrays (where: the
 * array's offset in struct conf, count its count's, size an element's). */
struct section_kind {
    const char *name;
    const struct key *keys;
    size_t nkeys;
    bool named;
    size_t where, count, size;
};

#define KIND(name, keys)                                                                           \
    {                                                                                              \
        name, keys, sizeof keys / sizeof keys[0], false, 0, 0, 0                                   \
    }
#define NAMED(name, keys, array, n)                                                                \
    {                                                                                              \
        name, keys, sizeof keys / sizeof keys[0], true, offsetof(struct conf, array),              \
            offsetof(struct conf, n), sizeof((struct conf *)0)->array[0]                           \
    }

static const struct section_kind kinds[] = {
    KIND("engine", engine_keys),
    KIND("store", store_keys),
    KIND("admin", admin_keys),
    NAMED("listener", listener_keys, listeners, nlisteners),
    NAMED("route", route_keys, routes, nroutes),
    NAMED("destination", destination_keys, destinations, ndestinations),
    NAMED("peer", peer_keys, peers, npeers),
    NAMED("admin token", token_keys, tokens, ntokens),
};

/* Where a singleton section's keys go (kinds[i] for i < 3). */
static void *singleton(struct conf *c, size_t i)
{
    return i == 0 ? (void *)&c->engine : i == 1 ? (void *)&c->store : (void *)&c->admin;
}

struct loader {
    struct conf *c;
    const char *file;
    int line;
    const struct section_kind *kind; /* NULL inside [identifiers] */
    void *base;                      /* the struct the current section's keys go into */
    bool identifiers, codes, any;
    char *err;
    size_t errlen;
};

static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct loader *l, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(l->err, l->errlen, "%s:%d: ", l->file, l->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < l->errlen)
        vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* A number with an optional unit: sizes K/M/G, durations ms/s/m/h/d. -1 when malformed. */
static int parse_scaled(const char *v, bool duration, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || errno || *v == '-')
        return -1;
    if (duration && n == 0 && !*end) { /* a duration names its unit, unless it is 0 */
        *out = 0;
        return 0;
    }
    static const struct {
        const char *unit;
        uint64_t mult;
        bool duration;
    } units[] = {{"", 1, false},           {"K", 1024, false},   {"M", 1048576, false},
                 {"G", 1073741824, false}, {"ms", 1, true},      {"s", 1000, true},
                 {"m", 60000, true},       {"h", 3600000, true}, {"d", 86400000, true}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].duration == duration && strcmp(end, units[i].unit) == 0 &&
            (*end || !duration)) {
            *out = n * units[i].mult;
            return n > UINT64_MAX / units[i].mult ? -1 : 0;
        }
    return -1;
}

static int set_list(struct loader *l, struct conf_list *list, char *v)
{
    list->n = 0;
    for (char *tok = v, *next; tok && *tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        char *name = trim(tok);
        if (!*name)
            continue;
        if (list->n == CONF_MAX_LIST || strlen(name) >= CONF_NAME)
            return fail(l, "too many names, or a name too long, in the list");
        snprintf(list->v[list->n++], CONF_NAME, "%s", name);
    }
    return 0;
}

static bool is_choice(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p += len + (bar != NULL);
    }
    return false;
}

/* Writes value v of key k into the section struct at base. */
static int set_key(struct loader *l, const struct key *k, void *base, char *v)
{
    char *field = (char *)base + k->offset;
    uint64_t n;
    switch (k->type) {
    case K_ENUM:
        if (!is_choice(k->choices, v))
            return fail(l, "%s must be one of %s, not \"%s\"", k->name, k->choices, v);
        /* fall through */
    case K_STR:
        if (strlen(v) >= k->size)
            return fail(l, "%s is too long (at most %zu characters)", k->name, k->size - 1);
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case K_U32:
        if (parse_scaled(v, false, &n) != 0 || strpbrk(v, "KMG") || n > UINT32_MAX)
            return fail(l, "%s must be a whole number, not \"%s\"", k->name, v);
        *(uint32_t *)(void *)field = (uint32_t)n;
        return 0;
    case K_SIZE:
        if (parse_scaled(v, false, &n) != 0 || n == 0)
            return fail(l, "%s must be a size such as 4096, 64K or 16M, not \"%s\"", k->name, v);
        *(size_t *)(void *)field = (size_t)n;
        return 0;
    case K_DURATION: /* milliseconds, into a uint32_t (up to 49 days) or a uint64_t field */
        if (parse_scaled(v, true, &n) != 0 || (k->size == sizeof(uint32_t) && n > UINT32_MAX))
            return fail(l, "%s must be a duration such as 500ms, 30s, 5m or 7d, not \"%s\"",
                        k->name, v);
        if (k->size == sizeof(uint64_t))
            *(uint64_t *)(void *)field = n;
        else
            *(uint32_t *)(void *)field = (uint32_t)n;
        return 0;
    case K_LIST: return set_list(l, (struct conf_list *)(void *)field, v);
    case K_WHERE: {
        struct conf_route *r = base;
        struct route_pred pred;
        char why[160];
        if (!*v)
            return 0;
        if (route_pred_parse(v, &pred, why, sizeof why) != 0)
            return fail(l, "where %s: %s", v, why);
        if (r->nwhere == CONF_MAX_WHERE || strlen(v) >= CONF_TEXT)
            return fail(l, "at most %d where lines per route", CONF_MAX_WHERE);
        snprintf(r->where[r->nwhere++], CONF_TEXT, "%s", v);
        return 0;
    }
    }
    return fail(l, "internal: unknown key type");
}

static int set_defaults(struct loader *l, const struct section_kind *kind, void *base)
{
    for (size_t i = 0; i < kind->nkeys; i++) {
        char v[CONF_TEXT];
        snprintf(v, sizeof v, "%s", kind->keys[i].dflt);
        if (set_key(l, &kind->keys[i], base, v) != 0)
            return -1;
    }
    return 0;
}

/* The struct a new [kind NAME] section fills, after checking the name is new. */
static void *new_named(struct loader *l, const struct section_kind *kind, const char *name)
{
    size_t *n = (size_t *)(void *)((char *)l->c + kind->count), size = kind->size;
    char *array = (char *)l->c + kind->where;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(((struct conf_named *)(void *)(array + i * size))->name, name) == 0)
            return fail(l, "[%s %s] is defined twice", kind->name, name), NULL;
    if (*n == CONF_MAX_SECTIONS)
        return fail(l, "at most %d [%s] sections", CONF_MAX_SECTIONS, kind->name), NULL;
    char *base = array + (*n)++ * size;
    struct conf_named *id = (struct conf_named *)(void *)base; /* every named struct starts so */
    snprintf(id->name, CONF_NAME, "%s", name);
    id->line = l->line;
    return set_defaults(l, kind, base) == 0 ? base : NULL;
}

/* "[kind]" or "[kind NAME]". */
static int on_section(struct loader *l, char *text)
{
    char *close = strchr(text, ']');
    if (!close || close[1])
        return fail(l, "a section header is [kind] or [kind NAME]");
    *close = '\0';
    char *kind = trim(text + 1), *name = strchr(kind, ' ');
    if (name)
        *name++ = '\0', name = trim(name);
    if (strcmp(kind, "admin") == 0 && name && strncmp(name, "token", 5) == 0 &&
        (!name[5] || name[5] == ' ')) { /* [admin token NAME]: a kind of two words */
        kind = "admin token";
        name = trim(name + 5);
    }
    l->kind = NULL;
    l->identifiers = strcmp(kind, "identifiers") == 0 && !name;
    l->codes = strcmp(kind, "codes") == 0 && !name;
    if (l->identifiers || l->codes)
        return 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kinds[i].name, kind) != 0)
            continue;
        if (kinds[i].named != (name && *name))
            return fail(l, kinds[i].named ? "[%s] needs a name: [%s NAME]" : "[%s] takes no name",
                        kind, kind);
        if (name && strlen(name) >= CONF_NAME)
            return fail(l, "section name too long");
        l->kind = &kinds[i];
        l->base = kinds[i].named ? new_named(l, &kinds[i], name) : singleton(l->c, i);
        if (l->base == &l->c->admin)
            l->c->admin.line = l->line;
        return l->base ? 0 : -1;
    }
    return fail(l, "unknown section [%s]", kind);
}

/* [identifiers]: AUTHORITY[:TYPE] = system URI. */
static int on_identifier(struct loader *l, char *key, char *value)
{
    struct conf *c = l->c;
    if (c->nidents == CONF_MAX_IDENTS)
        return fail(l, "at most %d identifier rules", CONF_MAX_IDENTS);
    if (!strchr(value, ':') || strlen(value) >= CONF_TEXT || strlen(key) >= CONF_TEXT)
        return fail(l, "an identifier system must be a URI (urn:... or https://...)");
    char *type = strchr(key, ':');
    if (type)
        *type++ = '\0';
    char(*t)[CONF_TEXT] = c->ident_text[c->nidents];
    snprintf(t[0], CONF_TEXT, "%s", trim(key));
    snprintf(t[1], CONF_TEXT, "%s", type ? trim(type) : "");
    snprintf(t[2], CONF_TEXT, "%s", value);
    c->idents[c->nidents++] = (struct xf_ident_rule){t[0][0] && strcmp(t[0], "*") ? t[0] : NULL,
                                                     t[1][0] ? t[1] : NULL, t[2]};
    return 0;
}

/* [codes]: LOCAL_SYSTEM = path of a CSV map (local_code,system,code,display). */
static int on_codes(struct loader *l, char *key, char *value)
{
    struct conf *c = l->c;
    char why[512];
    if (c->ncodes == CONF_MAX_SECTIONS)
        return fail(l, "at most %d code maps", CONF_MAX_SECTIONS);
    if (!*key || strlen(key) >= CONF_NAME)
        return fail(l, "a code map is LOCAL_SYSTEM = FILE.csv");
    for (size_t i = 0; i < c->ncodes; i++)
        if (strcmp(c->code_names[i], key) == 0)
            return fail(l, "the local system %s has a map already", key);
    if (codemap_load(&c->codes[c->ncodes], value, why, sizeof why) != 0)
        return fail(l, "[codes] %s: %s", key, why);
    snprintf(c->code_names[c->ncodes], CONF_NAME, "%s", key);
    c->maps[c->ncodes] = (struct xf_code_map){c->code_names[c->ncodes], c->codes[c->ncodes].rows,
                                              c->codes[c->ncodes].n};
    c->ncodes++;
    return 0;
}

static int on_line(struct loader *l, char *line)
{
    char *text = trim(line);
    if (!*text || *text == '#' || *text == ';')
        return 0;
    if (*text == '[')
        return on_section(l, text);
    char *eq = strchr(text, '=');
    if (!eq)
        return fail(l, "expected key = value");
    *eq = '\0';
    char *key = trim(text), *value = trim(eq + 1);
    for (char *p = value; *p; p++) /* a comment after the value: " ;" or " #" */
        if ((*p == ';' || *p == '#') && p > value && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            value = trim(value);
            break;
        }
    if (l->identifiers)
        return on_identifier(l, key, value);
    if (l->codes)
        return on_codes(l, key, value);
    if (!l->kind)
        return fail(l, "key %s outside any section", key);
    for (size_t i = 0; i < l->kind->nkeys; i++)
        if (strcmp(l->kind->keys[i].name, key) == 0) {
            struct conf *c = l->c;
            if (c->nkey_lines < sizeof c->key_lines / sizeof c->key_lines[0])
                c->key_lines[c->nkey_lines++] =
                    (struct conf_key_line){l->base, l->kind->keys[i].name, l->line};
            return set_key(l, &l->kind->keys[i], l->base, value);
        }
    return fail(l, "unknown key %s in [%s]", key, l->kind->name);
}

static bool has_name(const char *name, const char *array, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(((const struct conf_named *)(const void *)(array + i * size))->name, name) == 0)
            return true;
    return false;
}

static int at_key(const struct conf *c, const void *section, const char *key, int dflt);

/* The TLS settings t of section (named where, at line): whole, and only with tls = on. */
static int validate_tls(struct loader *l, const void *section, const char *where,
                        const struct conf_tls *t, int line)
{
    const struct conf *c = l->c;
    bool tls = strcmp(t->mode, "on") == 0;
    l->line = at_key(c, section, "tls", line);
    if (tls && (!t->cert[0] || !t->key[0]))
        return fail(l, "%s tls = on needs cert and key", where);
    l->line = at_key(c, section, "verify", line);
    if (!tls && (strcmp(t->verify, "none") != 0 || t->cert[0] || t->client_ca[0]))
        return fail(l, "%s cert, client_ca and verify need tls = on", where);
    if (strcmp(t->verify, "none") != 0 && !t->client_ca[0])
        return fail(l, "%s verify = %s needs client_ca", where, t->verify);
    l->line = at_key(c, section, "crl", line);
    if (t->crl[0] && strcmp(t->verify, "none") == 0)
        return fail(l, "%s crl needs verify = optional or require", where);
    return 0;
}

static int validate_admin(struct loader *l)
{
    const struct conf_admin *a = &l->c->admin;
    l->line = a->line;
    if (a->port > 65535)
        return fail(l, "[admin] port must be 1 to 65535 (0: off)");
    if (a->port && !l->c->ntokens && strncmp(a->token, "env:", 4) != 0 &&
        strncmp(a->token, "file:", 5) != 0)
        return fail(l, "[admin] needs token = env:VARIABLE or file:PATH (the bearer token "
                       "/metrics asks for, never written in the file), or [admin token NAME] "
                       "sections");
    if (a->token[0] && strncmp(a->token, "env:", 4) != 0 && strncmp(a->token, "file:", 5) != 0)
        return fail(l, "[admin] token must be env:VARIABLE or file:PATH, never the token");
    static const char *const scopes[] = {"read", "content", "replay", "reload"};
    for (size_t i = 0; i < l->c->ntokens; i++) {
        const struct conf_token *t = &l->c->tokens[i];
        l->line = at_key(l->c, t, "secret", t->id.line);
        if (strncmp(t->secret, "env:", 4) != 0 && strncmp(t->secret, "file:", 5) != 0)
            return fail(l,
                        "[admin token %s] needs secret = env:VARIABLE or file:PATH, never the "
                        "token",
                        t->id.name);
        l->line = at_key(l->c, t, "scopes", t->id.line);
        if (!t->scopes.n)
            return fail(l, "[admin token %s] needs scopes (read, content, replay, reload)",
                        t->id.name);
        for (size_t k = 0; k < t->scopes.n; k++) {
            bool known = false;
            for (size_t j = 0; j < sizeof scopes / sizeof scopes[0]; j++)
                known = known || strcmp(t->scopes.v[k], scopes[j]) == 0;
            if (!known)
                return fail(l,
                            "[admin token %s] scope %s is not one of read, content, replay, "
                            "reload",
                            t->id.name, t->scopes.v[k]);
        }
    }
    l->line = a->line;
    return validate_tls(l, a, "[admin]", &a->tls, a->line);
}

/* The line of key in section, or dflt (the section's own line) when it was not set. */
static int at_key(const struct conf *c, const void *section, const char *key, int dflt)
{
    int line = conf_key_line(c, section, key);
    return line ? line : dflt;
}

int conf_key_line(const struct conf *c, const void *section, const char *key)
{
    for (size_t i = c->nkey_lines; i-- > 0;) /* the last setting of a key is the one in force */
        if (c->key_lines[i].section == section && strcmp(c->key_lines[i].key, key) == 0)
            return c->key_lines[i].line;
    return 0;
}

/* What the transforms are given: the file's identifier rules then the built-in ones (NHS
 * numbers, which the file may override but cannot lose), the code maps, the site zone. */
static int build_xf(struct loader *l)
{
    struct conf *c = l->c;
    const struct xf_config *builtin = xf_config_default();
    char why[256];
    size_t n = 0;
    l->line = at_key(c, &c->engine, "site_tz", 1);
    if (zoneinfo_load(&c->zone, c->engine.site_tz, why, sizeof why) != 0)
        return fail(l, "[engine] site_tz: %s", why);
    for (size_t i = 0; i < c->nidents; i++)
        c->xf_idents[n++] = c->idents[i];
    for (size_t i = 0; i < builtin->nidents && n < sizeof c->xf_idents / sizeof c->xf_idents[0];
         i++)
        c->xf_idents[n++] = builtin->idents[i];
    c->xf = (struct xf_config){.idents = c->xf_idents,
                               .nidents = n,
                               .site_tz = c->engine.site_tz,
                               .zone = &c->zone,
                               .maps = c->maps,
                               .nmaps = c->ncodes,
                               .max_repetitions = c->engine.max_repetitions,
                               .local_code_system = c->engine.local_code_system,
                               .nhs_number_status = c->engine.nhs_number_status};
    return 0;
}

/* What only the whole file can tell: references between sections, required values. */
static int validate(struct loader *l)
{
    struct conf *c = l->c;
    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct conf_listener *li = &c->listeners[i];
        l->line = at_key(c, li, "routes", li->id.line);
        for (size_t k = 0; k < li->routes.n; k++)
            if (!has_name(li->routes.v[k], (char *)c->routes, c->nroutes, sizeof c->routes[0]))
                return fail(l, "[listener %s] feeds route %s, which is not defined", li->id.name,
                            li->routes.v[k]);
        l->line = at_key(c, li, "port", li->id.line);
        if (li->port == 0 || li->port > 65535)
            return fail(l, "[listener %s] port must be 1 to 65535", li->id.name);
        l->line = at_key(c, li, "max_per_peer", li->id.line);
        if (li->max_per_peer == 0 || li->max_per_peer > li->max_connections)
            return fail(l, "[listener %s] max_per_peer must be 1 to max_connections (%u)",
                        li->id.name, (unsigned)li->max_connections);
        l->line = at_key(c, li, "frame_timeout_ms", li->id.line);
        if (li->frame_timeout_ms == 0 || li->idle_timeout_ms == 0)
            return fail(l, "[listener %s] idle_timeout_ms and frame_timeout_ms must be more than 0",
                        li->id.name);
        char where[CONF_NAME + 16];
        snprintf(where, sizeof where, "[listener %s]", li->id.name);
        if (validate_tls(l, li, where, &li->tls, li->id.line) != 0)
            return -1;
        bool tls = strcmp(li->tls.mode, "on") == 0;
        l->line = at_key(c, li, "peers", li->id.line);
        for (size_t k = 0; k < li->peers.n; k++)
            if (!has_name(li->peers.v[k], (char *)c->peers, c->npeers, sizeof c->peers[0]))
                return fail(l, "[listener %s] accepts peer %s, which is not defined", li->id.name,
                            li->peers.v[k]);
        l->line = at_key(c, li, "handshake_timeout_ms", li->id.line);
        if (tls && li->handshake_timeout_ms == 0)
            return fail(l, "[listener %s] handshake_timeout_ms must be more than 0", li->id.name);
    }
    for (size_t i = 0; i < c->npeers; i++) {
        const struct conf_peer *p = &c->peers[i];
        l->line = p->id.line;
        if (p->identity.n == 0 && p->addresses.n == 0)
            return fail(l, "[peer %s] names no identity and no addresses", p->id.name);
        l->line = at_key(c, p, "addresses", p->id.line);
        for (size_t k = 0; k < p->addresses.n; k++)
            if (!peers_cidr_ok(p->addresses.v[k]))
                return fail(l, "[peer %s] address %s is not an address or CIDR range", p->id.name,
                            p->addresses.v[k]);
    }
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct conf_route *r = &c->routes[i];
        l->line = at_key(c, r, "peers", r->id.line);
        for (size_t k = 0; k < r->peers.n; k++)
            if (!has_name(r->peers.v[k], (char *)c->peers, c->npeers, sizeof c->peers[0]))
                return fail(l, "[route %s] allows peer %s, which is not defined", r->id.name,
                            r->peers.v[k]);
        l->line = at_key(c, r, "patient_key", r->id.line);
        if (r->patient_key[0] && !strchr(r->patient_key, ':'))
            return fail(l, "[route %s] patient_key must be an identifier system URI, not \"%s\"",
                        r->id.name, r->patient_key);
        l->line = at_key(c, r, "destinations", r->id.line);
        if (r->destinations.n == 0)
            return fail(l, "[route %s] has no destinations", r->id.name);
        for (size_t k = 0; k < r->destinations.n; k++)
            if (!has_name(r->destinations.v[k], (char *)c->destinations, c->ndestinations,
                          sizeof c->destinations[0]))
                return fail(l, "[route %s] sends to destination %s, which is not defined",
                            r->id.name, r->destinations.v[k]);
    }
    if (validate_admin(l) != 0)
        return -1;
    l->line = at_key(c, &c->store, "kind", 1);
    if (strcmp(c->store.kind, "postgres") == 0 && !c->store.dsn[0])
        return fail(l, "[store] kind = postgres needs dsn (e.g. host=... dbname=solent)");
    l->line = at_key(c, &c->store, "pool", l->line);
    if (c->store.pool < 1 || c->store.pool > 3)
        return fail(l, "[store] pool must be 1, 2 or 3 (intake; delivery; the rest)");
    l->line = at_key(c, &c->store, "password", l->line);
    if (c->store.password[0] && strncmp(c->store.password, "env:", 4) != 0 &&
        strncmp(c->store.password, "file:", 5) != 0)
        return fail(l, "[store] password must be env:VARIABLE or file:PATH, never the password");
    if (!c->engine.name[0] && gethostname(c->engine.name, sizeof c->engine.name - 1) != 0)
        snprintf(c->engine.name, sizeof c->engine.name, "solent");
    for (size_t i = 0; i < c->ndestinations; i++) {
        l->line = c->destinations[i].id.line;
        const struct conf_destination *d = &c->destinations[i];
        if (strcmp(d->kind, "fhir") == 0 && strncmp(d->url, "http://", 7) != 0 &&
            strncmp(d->url, "https://", 8) != 0)
            return fail(l, "[destination %s] of kind fhir needs a url starting http:// or https://",
                        d->id.name);
        if (d->concurrency == 0)
            return fail(l, "[destination %s] concurrency must be at least 1", d->id.name);
        if (strcmp(d->auth, "basic") == 0 && (!d->username[0] || !d->password[0]))
            return fail(l, "[destination %s] auth = basic needs username and password", d->id.name);
        if (strcmp(d->auth, "bearer") == 0 && !d->token[0])
            return fail(l, "[destination %s] auth = bearer needs token", d->id.name);
        bool oauth = strcmp(d->auth, "oauth2_client_credentials") == 0;
        bool smart = strcmp(d->auth, "smart_backend") == 0;
        if ((oauth || smart) && (strncmp(d->token_url, "http", 4) != 0 || !d->client_id[0]))
            return fail(l, "[destination %s] auth = %s needs token_url and client_id", d->id.name,
                        d->auth);
        if (oauth && !d->client_secret[0])
            return fail(l, "[destination %s] auth = oauth2_client_credentials needs client_secret",
                        d->id.name);
        if (smart && !d->private_key[0])
            return fail(l, "[destination %s] auth = smart_backend needs private_key", d->id.name);
        const char *secrets[] = {d->password, d->token, d->client_secret};
        for (size_t k = 0; k < 3; k++)
            if (secrets[k][0] && strncmp(secrets[k], "env:", 4) != 0 &&
                strncmp(secrets[k], "file:", 5) != 0)
                return fail(l,
                            "[destination %s] secrets are read from env:VARIABLE or file:PATH, "
                            "never written in the file",
                            d->id.name);
    }
    return 0;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
    struct conf *c = calloc(1, sizeof *c);
    struct loader l = {.c = c, .file = path, .err = err, .errlen = errlen};
    FILE *f = fopen(path, "r");
    if (!c)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(c);
        return NULL;
    }
    snprintf(c->file, sizeof c->file, "%s", path);
    int rc = 0;
    for (size_t i = 0; i < 3; i++)
        rc |= set_defaults(&l, &kinds[i], singleton(c, i));
    char *line = NULL;
    size_t cap = 0;
    while (rc == 0 && getline(&line, &cap, f) != -1) {
        l.line++;
        rc = on_line(&l, line);
    }
    free(line);
    fclose(f);
    if (rc == 0)
        rc = validate(&l);
    if (rc == 0)
        rc = build_xf(&l);
    c->refs = 1;
    if (rc != 0) {
        conf_free(c);
        return NULL;
    }
    router_build(&c->router, c);
    return c;
}

struct conf *conf_ref(struct conf *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void conf_free(struct conf *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < c->ncodes; i++)
        codemap_free(&c->codes[i]);
    dt_zone_cleanup(&c->zone);
    free(c);
}

const struct conf_key_info *conf_keys(void)
{
    static struct conf_key_info all[128];
    size_t n = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        for (size_t k = 0; k < kinds[i].nkeys && n + 1 < sizeof all / sizeof all[0]; k++)
            all[n++] =
                (struct conf_key_info){kinds[i].name, kinds[i].keys[k].name, kinds[i].keys[k].dflt};
    all[n] = (struct conf_key_info){NULL, NULL, NULL};
    return all;
}

const struct xf_config *conf_xf(const struct conf *c)
{
    return &c->xf;
}

struct xf_config conf_xf_route(const struct conf *c, const struct conf_route *r)
{
    struct xf_config x = c->xf;
    if (r && r->patient_key[0])
        x.patient_key = r->patient_key;
    if (r) {
        x.max_document = r->max_document;
        x.documents_binary = strcmp(r->documents, "binary") == 0;
    }
    return x;
}

const char *conf_default_path(void)
{
    return access("conf/solent.conf", F_OK) == 0 ? "conf/solent.conf" : CONF_INSTALLED;
}
