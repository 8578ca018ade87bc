/* xf_fields — "field N as datatype into element" rows, applied. */
#include "transforms/xf_fields.h"

#include "transforms/dt_code.h"
#include "transforms/dt_time.h"

static void one(struct xf_ctx *x, const struct hl7_seg *s, const struct xf_field *f, cJSON *res)
{
    struct hl7_view v = xf_take(x, s, f->field);
    struct xf_reps it;
    struct hl7_view rep;
    switch (f->kind) {
    case XF_STRING: xf_add_str(x, res, f->element, xf_rep(x, v, 1)); break;
    case XF_DATE: dt_add(x, res, f->element, v, DT_DATE); break;
    case XF_DATETIME: dt_add(x, res, f->element, v, DT_DATETIME); break;
    case XF_CODEABLE: xf_put(res, f->element, dt_codeable(x, xf_rep(x, v, 1))); break;
    case XF_CODEABLE_EACH:
        for (xf_reps_init(x, &it, v); xf_reps_next(x, &it, &rep);)
            xf_append(res, f->element, dt_codeable(x, rep));
        break;
    case XF_ANNOTATION: {
        const char *text = xf_text(x, xf_rep(x, v, 1));
        if (text) {
            cJSON *note = cJSON_CreateObject();
            xf_put_str(note, "text", text);
            xf_append(res, f->element, note);
        }
        break;
    }
    }
}

void xf_fields_apply(struct xf_ctx *x, const struct hl7_seg *s, const struct xf_field *table,
                     size_t n, cJSON *res)
{
    for (size_t i = 0; s && i < n; i++)
        one(x, s, &table[i], res);
}
