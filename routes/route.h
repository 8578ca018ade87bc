/*
 * route — the routing table: which route a message takes.
 *
 * A rule matches on the listener it arrived on, MSH-3/4/5/6 (sending and
 * receiving application and facility), MSH-9 (type^trigger), MSH-12 (version)
 * and field predicates such as "PV1-2 = I". Patterns use * for any run of
 * characters; a pattern with n components (separated by ^) is compared with
 * the first n components of the field, so "LAB" matches MSH-3 "LAB^1.2.3^ISO"
 * and "ADT^A0*" matches MSH-9 "ADT^A04^ADT_A01". Rules are tried in order;
 * the first that matches wins. Pure code: no I/O, no allocation per match.
 */
#ifndef SOLENT_ROUTES_ROUTE_H
#define SOLENT_ROUTES_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "parsers/hl7.h"

#define ROUTE_MAX_LIST  16
#define ROUTE_MAX_PREDS 8

/* A field predicate: PATH = VALUE or PATH != VALUE, on the decoded value. */
struct route_pred {
    struct hl7_path path;
    bool negate;
    char value[128];
};

/* One rule. Strings point into the caller's storage (the loaded config). */
struct route_rule {
    const char *name;
    const char *listeners[ROUTE_MAX_LIST]; /* none: any listener */
    size_t nlisteners;
    const char *sending_app, *sending_facility, *receiving_app, *receiving_facility;
    const char *type, *version; /* patterns; NULL or "*": anything */
    struct route_pred preds[ROUTE_MAX_PREDS];
    size_t npreds;
};

/* Parses "PV1-2 = I" or "PID-8 != U"; 0, or -1 with a reason in err. */
int route_pred_parse(const char *text, struct route_pred *p, char *err, size_t errlen);
/* True when pattern (with * wildcards) matches the n bytes of text. */
bool route_glob(const char *pattern, const char *text, size_t n);
/* True when rule r takes message m arriving on listener. */
bool route_matches(const struct route_rule *r, const char *listener, const struct hl7_msg *m);
/* The first of the n rules that takes m, or NULL (the table's no-match policy applies). */
const struct route_rule *route_match(const struct route_rule *rules, size_t n, const char *listener,
                                     const struct hl7_msg *m);

#endif
