/*
 * xf — the transform context shared by every mapper: the parsed message,
 * the site configuration (identifier systems, time zone), the problems
 * found (errors and warnings by HL7 position), the fields consumed (for
 * `solent convert --explain`) and the bundle being built.
 *
 * Transforms are pure: no I/O, no logging, no clock. The same message and
 * configuration give byte-identical output.
 */
#ifndef SOLENT_TRANSFORMS_XF_H
#define SOLENT_TRANSFORMS_XF_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "parsers/hl7.h"
#include "parsers/strbuf.h"

#define XF_NHS_SYSTEM   "https://fhir.nhs.uk/Id/nhs-number"
#define XF_MAX_FIELDS   256 /* fields per segment tracked for --explain */
#define XF_MAX_WARNINGS 64

/* Assigning authority (CX-4.1) and/or identifier type (CX-5) -> system URI. */
struct xf_ident_rule {
    const char *authority; /* NULL: any */
    const char *type;      /* NULL: any */
    const char *system;
};

/* One row of a local code map: a local code and the standard coding it stands for. */
struct xf_code_entry {
    const char *code, *system, *target, *display;
};

/* The map of one local coding system (the CWE-3 name it is used under), sorted by code. */
struct xf_code_map {
    const char *local;
    const struct xf_code_entry *v;
    size_t n;
};

struct dt_zone;

/* Site configuration: from the config file, or xf_config_default(). */
struct xf_config {
    const struct xf_ident_rule *idents;
    size_t nidents;
    const char *site_tz;            /* IANA name, e.g. Europe/London: for messages and reports */
    const struct dt_zone *zone;     /* site_tz resolved: offset of times without one; NULL: UTC */
    const struct xf_code_map *maps; /* a local code gets its standard coding added */
    size_t nmaps;
    uint32_t max_repetitions; /* of one field a mapper walks; the rest is ignored, warned */
    /* The system of the identifier that keys the Patient (conditional update, ordering),
     * e.g. the sender's MRN; NULL: the sender's own identifier by default (xf_patient_key). */
    const char *patient_key;
    /* The system prefix for a sender's codes that are not in the HL7 table a field names
     * ("MRN" as an identifier type): prefix/0203; NULL or "": no system, a warning. */
    const char *local_code_system;
    /* The NHS number verification status (UK Core, 01-08) when PID-32 gives none; NULL or
     * "": none is claimed. */
    const char *nhs_number_status;
    /* Documents (ED, base64 text in an Attachment): over max_document bytes (0: no limit) the
     * content is not sent, with a warning; documents_binary puts it in a Binary entry the
     * Attachment points at, for destinations that store documents apart. */
    size_t max_document;
    bool documents_binary;
};

#define XF_MAX_REPETITIONS 1000 /* the default of xf_config.max_repetitions */

/* A problem by position; text never holds message content. */
struct xf_problem {
    struct hl7_loc loc;
    int code; /* HL7 table 0357 */
    char text[120];
};

/* The state of one transformation. */
struct xf_ctx {
    const struct hl7_msg *msg;
    const struct xf_config *cfg;
    cJSON *entries;         /* the Bundle's entry array being built */
    char patient_ref[64];   /* fullUrl of the Patient, "" before PID is mapped */
    char patient_key[160];  /* system|value of the Patient's key identifier, or "" */
    cJSON *patient_ident;   /* that Identifier, inside the Patient resource */
    char encounter_ref[64]; /* fullUrl of the Encounter, "" when none */
    struct xf_problem warnings[XF_MAX_WARNINGS];
    size_t nwarnings;
    struct xf_problem error;                  /* the first error; code 0 when none */
    unsigned char (*used)[XF_MAX_FIELDS / 8]; /* per segment: fields consumed */
    struct strbuf tmp;                        /* scratch for decoded text */
    char seed[512];                           /* sender and control id, for fullUrls */
    size_t seed_len;                          /* 0 until first needed */
};

/* cJSON additions under a key that is a string literal: the key is not copied (every
 * key Solent writes is a literal). Each returns what it added. */
cJSON *xf_put(cJSON *obj, const char *key, cJSON *item);
cJSON *xf_put_str(cJSON *obj, const char *key, const char *value);
cJSON *xf_put_array(cJSON *obj, const char *key);
cJSON *xf_put_object(cJSON *obj, const char *key);
cJSON *xf_put_bool(cJSON *obj, const char *key, int value);
/* Copies src (NULL: "") into dst of size n, cut to fit; returns src's length (>= n: cut). A
 * plain copy where snprintf's format parsing is the cost. */
size_t xf_copy(char *dst, size_t n, const char *src);
/* Appends {url, <value_key>: value} to obj.extension (takes value); NULL value: nothing. */
void xf_add_extension(cJSON *obj, const char *url, const char *value_key, cJSON *value);
/* The object member key of obj, made when absent (meta, which several mappers add to). */
cJSON *xf_object(cJSON *obj, const char *key);
cJSON *xf_put_number(cJSON *obj, const char *key, double value);
cJSON *xf_put_raw(cJSON *obj, const char *key, const char *json);
/* Appends item to the array member key of obj, creating the array on first use; nothing when
 * item is NULL. xf_put of a NULL item adds nothing either. */
cJSON *xf_append(cJSON *obj, const char *key, cJSON *item);

/* How well an identifier (system, or NULL when it has none; CX-5 type, or NULL) would key
 * the Patient under cfg: 0 never; otherwise the highest wins, the first among equals. With
 * cfg->patient_key set, only that system. By default the sender's own identifier (type MR
 * first, then any other system) before the NHS number, which can arrive later or be
 * corrected: keying on it would make a second Patient of the same record. */
int xf_key_rank(const struct xf_config *cfg, const char *system, const char *type);

/* The built-in configuration: NHS numbers, UK site time zone Europe/London. */
const struct xf_config *xf_config_default(void);

/* Prepares x for m; the caller keeps m and cfg alive. Every cJSON object made until
 * xf_cleanup() lives in an arena (xf_arena.h): serialise the bundle before cleanup. */
void xf_init(struct xf_ctx *x, const struct hl7_msg *m, const struct xf_config *cfg);
/* Frees what x owns, and every cJSON tree made since xf_init() (bundles included). */
void xf_cleanup(struct xf_ctx *x);

/* Records a warning at the position of v in the message (segment, field, component). */
void xf_warn_at(struct xf_ctx *x, struct hl7_view v, const char *text);
/* Records a warning at seg/field (seg may be NULL: the message). */
void xf_warn(struct xf_ctx *x, const struct hl7_seg *s, uint32_t field, const char *text);
/* Records the first error (code from table 0357); always returns -1. */
int xf_fail(struct xf_ctx *x, const struct hl7_seg *s, uint32_t field, int code, const char *text);
/* Marks field n of s consumed, and returns it (absent view when empty or absent). */
struct hl7_view xf_take(struct xf_ctx *x, const struct hl7_seg *s, uint32_t n);
/* True when field n of s was consumed by some mapper. */
bool xf_is_used(const struct xf_ctx *x, const struct hl7_seg *s, uint32_t n);
/* What the transformation did not use, a line each into out: "warning PID-8: text" for every
 * warning, and with with_unmapped (a transformation that ran to its end: after an error,
 * every later field would count) "unmapped ZPD-1" for every populated field no mapper read
 * (MSH-1/2 aside). Positions and Solent's own texts only: never message content. Counts
 * both. */
void xf_ledger(const struct xf_ctx *x, bool with_unmapped, struct strbuf *out, uint32_t *nwarnings,
               uint32_t *nunmapped);
/* The populated fields of the message, counted as xf_ledger counts unmapped ones. */
uint32_t xf_populated(const struct xf_ctx *x);

/* Decoded text of v (escapes resolved) as a new NUL-terminated cJSON-free string
 * in x->tmp; NULL when v is absent, empty or the explicit null. */
const char *xf_text(struct xf_ctx *x, struct hl7_view v);
/* Adds v decoded as a string member; nothing when empty. Returns 1 if added. */
int xf_add_str(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view v);

/* The k-th component (from 1) of the first repetition of v. */
struct hl7_view xf_comp(const struct xf_ctx *x, struct hl7_view v, uint32_t k);
/* The k-th sub-component (from 1) of component view v. */
struct hl7_view xf_sub(const struct xf_ctx *x, struct hl7_view v, uint32_t k);
/* The first of v's first three sub-components that has content: the text of a component
 * that is itself composite (an HD's namespace, else its universal id; a CWE's code, else its
 * text), so no sub-component separator is ever written into a string. */
struct hl7_view xf_first_sub(const struct xf_ctx *x, struct hl7_view v);
/* The r-th repetition (from 1) of field v. */
struct hl7_view xf_rep(const struct xf_ctx *x, struct hl7_view v, uint32_t r);
/* A walk over the repetitions of a field, at most cfg->max_repetitions of them. */
struct xf_reps {
    struct hl7_pieces it;
    struct hl7_view field;
    uint32_t n;
};

/* Starts a walk over the repetitions of field v (none when v has no content). */
void xf_reps_init(const struct xf_ctx *x, struct xf_reps *r, struct hl7_view v);
/* The next repetition into *rep; false when none is left, or (with a warning at the
 * field's position) when cfg->max_repetitions have been walked and more remain. */
bool xf_reps_next(struct xf_ctx *x, struct xf_reps *r, struct hl7_view *rep);
/* True when v has content (not absent, not empty, not "", not only spaces). */
bool xf_has(struct hl7_view v);
/* True when v, without leading and trailing spaces, equals the NUL-terminated s: how every
 * coded value is looked up (OBX-11 "F " is final). */
bool xf_eq(struct hl7_view v, const char *s);

#endif
