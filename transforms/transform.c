/* transform — message structures to builders; the whole transformation of one message. */
#include "transforms/transform.h"

#include <stdio.h>
#include <string.h>

#include "parsers/hl7_msgtype.h"
#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/msg_oru.h"
#include "transforms/seg_msh.h"
#include "transforms/xf_bundle.h"

struct transform_entry {
    const char *code, *trigger;
    int (*build)(struct xf_ctx *x, const struct hl7_msgtype *t);
};

/* The one registry: a new structure is a line here and a builder. */
static const struct transform_entry registry[] = {
    {"ADT", "A01", msg_adt_build}, {"ADT", "A02", msg_adt_build}, {"ADT", "A03", msg_adt_build},
    {"ADT", "A04", msg_adt_build}, {"ADT", "A05", msg_adt_build}, {"ADT", "A06", msg_adt_build},
    {"ADT", "A07", msg_adt_build}, {"ADT", "A08", msg_adt_build}, {"ADT", "A11", msg_adt_build},
    {"ADT", "A12", msg_adt_build}, {"ADT", "A13", msg_adt_build}, {"ADT", "A28", msg_adt_build},
    {"ADT", "A31", msg_adt_build}, {"ADT", "A40", msg_adt_build}, {"ORU", "R01", msg_oru_build},
};

static const struct transform_entry *lookup(const char *code, const char *trigger)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i].code, code) == 0 && strcmp(registry[i].trigger, trigger) == 0)
            return &registry[i];
    return NULL;
}

bool transform_supports(const char *code, const char *trigger)
{
    return lookup(code, trigger) != NULL;
}

int transform_run(struct xf_ctx *x, cJSON **bundle)
{
    struct hl7_msgtype t;
    struct hl7_err err;
    const struct hl7_seg *msh = &x->msg->segs[0];
    *bundle = NULL;
    if (hl7_msgtype_read(x->msg, &t, &err) != 0)
        return xf_fail(x, msh, 9, err.code, err.text);
    const struct transform_entry *e = lookup(t.code, t.trigger);
    if (!e) {
        bool known_code = strcmp(t.code, "ADT") == 0 || strcmp(t.code, "ORU") == 0;
        return xf_fail(x, msh, 9, known_code ? 201 : 200,
                       known_code ? "no transform for this trigger event"
                                  : "no transform for this message type");
    }
    if (e->build(x, &t) != 0)
        return -1;
    xf_bundle_merge(x); /* before the header and provenance name the entries */
    seg_msh_header(x);
    seg_msh_provenance(x, msg_find(x, "EVN"));
    *bundle = xf_bundle_take(x);
    return 0;
}
