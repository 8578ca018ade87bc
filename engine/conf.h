/*
 * conf — the configuration file: INI sections [engine], [store],
 * [listener NAME], [route NAME], [destination NAME], [identifiers].
 *
 * Loading has no side effects: it builds a whole struct conf from declarative
 * key tables, or fails with "file:line: problem" (unknown sections and keys,
 * bad values, duplicate names, a route naming a missing destination, a
 * listener naming a missing route). Reload builds a new conf the same way and
 * swaps it in only when it loaded (engine later). Not here: applying it.
 */
#ifndef SOLENT_ENGINE_CONF_H
#define SOLENT_ENGINE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/codemap.h"
#include "engine/router.h"
#include "transforms/dt_zone.h"
#include "transforms/xf.h"

#define CONF_NAME         64
#define CONF_TEXT         256
#define CONF_MAX_LIST     16
#define CONF_MAX_SECTIONS 32
#define CONF_MAX_IDENTS   64
#define CONF_MAX_WHERE    8

/* A list of names, as "a, b, c" in the file. */
struct conf_list {
    char v[CONF_MAX_LIST][CONF_NAME];
    size_t n;
};

/* What every named section starts with: its name and the line of its header. */
struct conf_named {
    char name[CONF_NAME];
    int line;
};

struct conf_engine {
    char site_tz[CONF_NAME];
    char log_level[16];       /* error | warn | info | debug */
    char log_format[8];       /* text (key=value) | json */
    char log_file[CONF_TEXT]; /* "": stderr */
    char data_dir[CONF_TEXT];
    char on_no_match[16]; /* reject (AR 200/201) | park (accept, store, no delivery) */
    size_t max_message;
    uint32_t max_segments, max_fields;
    uint32_t max_repetitions; /* of one field, that a transform walks (the rest: a warning) */
    char local_code_system[CONF_TEXT]; /* a sender's codes not in an HL7 table: prefix/table */
    char nhs_number_status[4];         /* UK Core verification status when PID-32 has none */
    char user[CONF_NAME];              /* started as root: the user to run as, once set up */
    char name[CONF_NAME];              /* this engine among several on one store ("": host) */
};

struct conf_store {
    char kind[16]; /* sqlite | postgres */
    char path[CONF_TEXT];
    char dsn[CONF_TEXT];      /* postgres: libpq's "host=... dbname=... sslmode=..." */
    char password[CONF_TEXT]; /* postgres: env:VARIABLE or file:PATH ("": none, or the dsn's) */
    uint32_t pool;            /* postgres: connections per engine, 1-3 (daemon.c's start_pool) */
    uint64_t retain_ms;       /* what is done with goes once this old; 0: kept for ever */
    char encryption_key[CONF_TEXT]; /* file:PATH: the keys messages are sealed with ("": none) */
};

/* TLS on a socket Solent serves (an MLLP listener, the admin endpoint); tls.c makes its
 * context. The keys: tls, cert, key, verify, client_ca, crl. */
struct conf_tls {
    char mode[4];              /* off | on (the key "tls") */
    char cert[CONF_TEXT];      /* PEM: the certificate, then its chain */
    char key[CONF_TEXT];       /* PEM: its private key */
    char verify[12];           /* none | optional | require: client certificates */
    char client_ca[CONF_TEXT]; /* PEM: the CAs client certificates must chain to */
    char crl[CONF_TEXT];       /* PEM: revoked client certificates ("": none) */
};

/* The admin HTTP endpoint (/healthz, /metrics); off while port is 0. */
struct conf_admin {
    char bind[CONF_NAME];
    uint32_t port;
    char token[CONF_TEXT]; /* env:VARIABLE or file:PATH: the bearer token /metrics asks for */
    struct conf_tls tls;
    int line; /* of its section, for errors */
};

/* [admin token NAME]: a bearer token of the admin endpoint and what it may do: read
 * (/metrics, the API's metadata, the page), content (messages, bundles and server answers:
 * each read audited), replay, reload. */
struct conf_token {
    struct conf_named id;
    char secret[CONF_TEXT]; /* env:VARIABLE or file:PATH */
    struct conf_list scopes;
};

struct conf_listener {
    struct conf_named id;
    char bind[CONF_NAME];
    uint32_t port;
    char charset[32]; /* assumed when MSH-18 is empty */
    size_t max_message;
    uint32_t idle_timeout_ms;               /* no whole frame for this long: closed */
    uint32_t frame_timeout_ms;              /* a frame begun must end within this */
    uint32_t max_connections, max_per_peer; /* in all; from one address */
    uint32_t max_in_flight;                 /* messages converted or committed at once (0: no
                                               limit but the connections) */
    struct conf_list routes;
    struct conf_tls tls;
    uint32_t handshake_timeout_ms; /* a TLS handshake must end within this */
    struct conf_list peers;        /* empty: anyone; else only connections of these peers */
    uint32_t quiet_after_ms;       /* no message for this long is an alarm (/metrics; 0: none) */
};

/* A peer: who it is by certificate (any of its identities among the verified CN and SANs)
 * and/or where from (any of its CIDR ranges, IPv4 or IPv6); both must match when both are
 * given. */
struct conf_peer {
    struct conf_named id;
    struct conf_list identity;
    struct conf_list addresses;
    uint32_t max_connections; /* open at once, over every listener (0: no limit of its own) */
    uint32_t max_in_flight;   /* messages being converted or committed at once (0: none) */
};

struct conf_route {
    struct conf_named id;
    struct conf_list listeners; /* empty: any */
    char sending_app[CONF_NAME], sending_facility[CONF_NAME];
    char receiving_app[CONF_NAME], receiving_facility[CONF_NAME];
    char type[CONF_NAME];    /* MSH-9 pattern, e.g. ADT^* or ORU^R01; * matches anything */
    char version[CONF_NAME]; /* MSH-12 pattern */
    char where[CONF_MAX_WHERE][CONF_TEXT]; /* field predicates, e.g. PV1-2 = I */
    size_t nwhere;
    char transform[CONF_NAME];   /* fhir */
    char patient_key[CONF_TEXT]; /* system of the Patient's key identifier; "": the default */
    char documents[8];           /* inline (Attachment.data) | binary (a Binary entry, by url) */
    size_t max_document;         /* a document's content over this is not sent (a warning) */
    struct conf_list destinations;
    struct conf_list peers; /* empty: any peer; else a message from another is refused (AR) */
};

struct conf_destination {
    struct conf_named id;
    char kind[16];        /* fhir | directory */
    char url[CONF_TEXT];  /* fhir: the base URL; a transaction Bundle is POSTed to it */
    char path[CONF_TEXT]; /* directory: where bundle files go */
    uint32_t concurrency; /* fhir: requests in flight at most */
    uint32_t timeout_ms, retry_base_ms, retry_cap_ms, max_attempts, max_age_ms;
    char auth[32]; /* none | basic | bearer | oauth2_client_credentials | smart_backend */
    char username[CONF_NAME];      /* basic */
    char password[CONF_TEXT];      /* basic: env:VARIABLE or file:PATH */
    char token[CONF_TEXT];         /* bearer: env:VARIABLE or file:PATH */
    char token_url[CONF_TEXT];     /* oauth2_client_credentials, smart_backend */
    char client_id[CONF_TEXT];     /* both */
    char client_secret[CONF_TEXT]; /* oauth2: env:VARIABLE or file:PATH */
    char client_auth[8];           /* oauth2: basic (client_secret_basic) | post */
    char scope[CONF_TEXT];         /* both */
    char private_key[CONF_TEXT];   /* smart: PEM file of the signing key */
    char kid[CONF_NAME];           /* smart: the key's id in the client's JWKS */
    char alg[8];                   /* smart: RS384 | ES384 */
    char ca_file[CONF_TEXT];       /* trusted CAs (PEM) instead of the system's */
    char client_cert[CONF_TEXT], client_key[CONF_TEXT]; /* mTLS, PEM */
};

/* The line a key was set on, for errors about what it names. */
struct conf_key_line {
    const void *section; /* the struct the key went into */
    const char *key;     /* the key's name (a string of the loader's tables) */
    int line;
};

/* A loaded configuration. Reference-counted: a message converted off the loop keeps
 * the conf it started under alive across a reload (conf_ref, conf_free). */
struct conf {
    unsigned refs; /* atomic */
    char file[CONF_TEXT];
    struct conf_engine engine;
    struct conf_store store;
    struct conf_admin admin;
    struct conf_listener listeners[CONF_MAX_SECTIONS];
    size_t nlisteners;
    struct conf_route routes[CONF_MAX_SECTIONS];
    size_t nroutes;
    struct conf_destination destinations[CONF_MAX_SECTIONS];
    size_t ndestinations;
    struct conf_peer peers[CONF_MAX_SECTIONS];
    size_t npeers;
    struct conf_token tokens[CONF_MAX_SECTIONS];
    size_t ntokens;
    unsigned holds; /* jobs off the loop reading it (daemon_conf_hold): freed after them */
    struct xf_ident_rule idents[CONF_MAX_IDENTS]; /* point into ident_text */
    char ident_text[CONF_MAX_IDENTS][3][CONF_TEXT];
    size_t nidents;
    struct codemap codes[CONF_MAX_SECTIONS]; /* [codes]: one CSV map per local system */
    char code_names[CONF_MAX_SECTIONS][CONF_NAME];
    struct xf_code_map maps[CONF_MAX_SECTIONS]; /* point into codes and code_names */
    size_t ncodes;
    struct router router; /* the [route] sections as rules */
    struct dt_zone zone;  /* [engine] site_tz, read from the zone files */
    struct xf_config xf;  /* what the transforms are given: points into this conf */
    struct xf_ident_rule xf_idents[CONF_MAX_IDENTS + 8];
    struct conf_key_line key_lines[CONF_MAX_SECTIONS * 4];
    size_t nkey_lines;
};

/* One key the loader knows: its section kind, name and default, for documentation checks. */
struct conf_key_info {
    const char *section, *key, *dflt;
};

/* The file a command reads without -c: ./conf/solent.conf when there is one (a checkout,
 * ./dev run), else CONF_INSTALLED (an installed engine, its systemd unit). */
#define CONF_INSTALLED "/etc/solent/solent.conf"
const char *conf_default_path(void);

/* Loads path into a new conf (caller frees with conf_free); NULL with "file:line: problem". */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* Takes one more reference to c (from any thread); returns c. */
struct conf *conf_ref(struct conf *c);
/* Drops a reference (from any thread); the last one frees c. NULL is fine. */
void conf_free(struct conf *c);
/* The line key was set on in section (a struct of c), or 0 when it kept its default. */
int conf_key_line(const struct conf *c, const void *section, const char *key);
/* Every key of every section kind (NULL-terminated array). */
const struct conf_key_info *conf_keys(void);
/* The transform configuration this conf describes: its identifier rules then the built-in
 * ones (NHS numbers), its code maps, its site zone resolved. Lives as long as c. */
const struct xf_config *conf_xf(const struct conf *c);
/* The transform configuration of a message route r takes (NULL: none): conf_xf(c) with the
 * route's patient_key. */
struct xf_config conf_xf_route(const struct conf *c, const struct conf_route *r);

#endif
