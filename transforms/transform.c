/* transform — message structures to builders; the whole transformation of one message. */
#include "transforms/transform.h"

#include <stdio.h>
#include <string.h>

#include "parsers/hl7_msgtype.h"
#include "transforms/msg_adt.h"
#include "transforms/msg_common.h"
#include "transforms/msg_mdm.h"
#include "transforms/msg_orm.h"
#include "transforms/msg_siu.h"
#include "transforms/msg_oru.h"
#include "transforms/msg_vxu.h"
#include "transforms/seg_msh.h"
#include "transforms/xf_bundle.h"

/* Every structure Solent transforms: a new one is a table in its msg_*.c and a line here. */
static const struct xf_structure *const structures[] = {
    &msg_adt_a01, &msg_adt_a39, &msg_adt_a17, &msg_adt_a47, &msg_adt_a45, &msg_adt_account,
    &msg_oru_r01, &msg_vxu_v04, &msg_mdm_t02, &msg_orm_o01, &msg_oml_o21, &msg_siu_s12,
};

static const struct xf_structure *lookup(const char *code, const char *trigger)
{
    for (size_t i = 0; i < sizeof structures / sizeof structures[0]; i++) {
        if (strcmp(structures[i]->code, code) != 0)
            continue;
        for (const char *const *e = structures[i]->events; *e; e++)
            if (strcmp(*e, trigger) == 0)
                return structures[i];
    }
    return NULL;
}

static bool knows_code(const char *code)
{
    for (size_t i = 0; i < sizeof structures / sizeof structures[0]; i++)
        if (strcmp(structures[i]->code, code) == 0)
            return true;
    return false;
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
    const struct xf_structure *st = lookup(t.code, t.trigger);
    if (!st) {
        bool known_code = knows_code(t.code);
        return xf_fail(x, msh, 9, known_code ? 201 : 200,
                       known_code ? "no transform for this trigger event"
                                  : "no transform for this message type");
    }
    if (xf_struct_run(st, x, &t) != 0)
        return -1;
    xf_bundle_merge(x); /* before the header and provenance name the entries */
    seg_msh_header(x);
    seg_msh_provenance(x, msg_find(x, "EVN"));
    *bundle = xf_bundle_take(x);
    return 0;
}
