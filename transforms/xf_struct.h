/*
 * xf_struct — message structures as tables. A structure names the messages it takes
 * (MSH-9 code and triggers) and lists, per segment, what that segment builds: a rule
 * with the handler that maps it, the group it opens or belongs to, and the phase it
 * runs in. The walk visits the message's segments phase by phase, in message order
 * within a phase, and hands each to its rule's handler with the walk's state: the
 * resources of the group being built (an order's request and report, say), which later
 * segments link into and which are added to the bundle when the group closes.
 *
 * A new message type is a structure table plus the handlers (segment mappers) it lacks;
 * what is logic — event semantics, statuses, ordering — stays in C in the handlers and
 * the structure's finish step. docs/ADDING-A-MESSAGE-TYPE.md walks through one.
 *
 * Not here: mapping fields (seg_*), datatypes (dt_*), the bundle (xf_bundle).
 */
#ifndef SOLENT_TRANSFORMS_XF_STRUCT_H
#define SOLENT_TRANSFORMS_XF_STRUCT_H

#include "parsers/hl7_msgtype.h"
#include "transforms/xf_bundle.h"

#define XF_GROUP_MAX 4 /* resources one group holds until it closes */

/* A resource a group holds open: added to the bundle when its group closes. */
struct xf_held {
    cJSON *res;
    char url[XF_URL_MAX];
    const cJSON *ident; /* its conditional key, or NULL */
    char seed[256];     /* its id seed when ident is NULL */
};

/* The state of one walk over a message. */
struct xf_walk {
    struct xf_ctx *x;
    const struct hl7_msgtype *type;
    const struct hl7_seg *group_seg; /* the segment that opened the current group */
    struct xf_held held[XF_GROUP_MAX];
    size_t nheld;
    char group_key[256];       /* the group's key (an order's placer/filler number) */
    cJSON *patient;            /* the Patient being built, once PID is mapped */
    int count;                 /* what the structure's handlers count (orders, pairs) */
    char specimen[XF_URL_MAX]; /* the last SPM's Specimen in this group: the OBX after it are
                                  observations of it */
};

struct xf_rule;

/* A segment handler: maps s in the walk; 0, or -1 with x->error set. */
typedef int (*xf_seg_fn)(struct xf_walk *w, const struct hl7_seg *s);

/* What one segment of a structure does. */
struct xf_rule {
    const char *segment;
    int phase;       /* walks run phase 1, 2, 3...: Patient before Encounter before the rest */
    bool opens;      /* a segment that starts a group: the one before closes */
    bool closes;     /* a segment that ends the group (it belongs to the message again) */
    xf_seg_fn add;   /* NULL: the segment is read by another's handler (PD1 with PID) */
    xf_seg_fn close; /* an opener's: when its group ends, before what it held is added */
};

/* A message structure. */
struct xf_structure {
    const char *name;          /* ADT_A01 */
    const char *code;          /* MSH-9.1 */
    const char *const *events; /* the triggers it takes, NULL-terminated */
    const struct xf_rule *rules;
    size_t nrules;
    /* after the walk: event semantics, required parts; 0 or -1 with x->error */
    int (*finish)(struct xf_walk *w);
    /* whole-message handling instead of a walk (merges pair PIDs with MRGs) */
    int (*build)(struct xf_walk *w);
};

/* Walks x's message with structure st; 0, or -1 with x->error. */
int xf_struct_run(const struct xf_structure *st, struct xf_ctx *x, const struct hl7_msgtype *t);

/* Holds res in the current group until it closes (or the walk ends): added to the bundle
 * then, after everything its group's segments added. Returns it. */
cJSON *xf_walk_hold(struct xf_walk *w, cJSON *res, const char *url, const cJSON *ident,
                    const char *seed);
/* The held resource of type (ServiceRequest...) in the current group, or NULL; type NULL:
 * the group's first, the one its opener made. */
struct xf_held *xf_walk_held(struct xf_walk *w, const char *type);
/* Appends a Reference to url to array name of the held resource of type (NULL: the group's
 * first), if there is one. */
void xf_walk_link(struct xf_walk *w, const char *type, const char *name, const char *url);

#endif
