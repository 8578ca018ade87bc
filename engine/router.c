/* router — route rules from the configuration; the no-match code. */
#include "engine/router.h"

#include <string.h>

#include "engine/conf.h"

_Static_assert(ROUTER_MAX_RULES >= CONF_MAX_SECTIONS, "a rule per [route] section");

void router_build(struct router *r, const struct conf *c)
{
    char why[160];
    memset(r, 0, sizeof *r);
    r->conf = c;
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct conf_route *cr = &c->routes[i];
        struct route_rule *rule = &r->rules[r->n++];
        rule->name = cr->id.name;
        for (size_t k = 0; k < cr->listeners.n; k++)
            rule->listeners[rule->nlisteners++] = cr->listeners.v[k];
        rule->sending_app = cr->sending_app;
        rule->sending_facility = cr->sending_facility;
        rule->receiving_app = cr->receiving_app;
        rule->receiving_facility = cr->receiving_facility;
        rule->type = cr->type;
        rule->version = cr->version;
        for (size_t k = 0; k < cr->nwhere; k++)
            if (route_pred_parse(cr->where[k], &rule->preds[rule->npreds], why, sizeof why) == 0)
                rule->npreds++; /* checked at load: cannot fail here */
    }
}

const struct conf_route *router_route(const struct router *r, const struct route_rule *rule)
{
    return &r->conf->routes[rule - r->rules];
}

int router_no_match_code(const struct router *r, const char *listener, const struct hl7_msg *m)
{
    /* Among the rules for this listener, does any route this message code (MSH-9.1) at all?
     * Then only the event or a condition differs: 201. Otherwise the type is not ours: 200. */
    struct hl7_view code =
        hl7_piece(hl7_piece(hl7_field(m, &m->segs[0], 9), m->enc.rep, 1), m->enc.comp, 1);
    for (size_t i = 0; m->has_header && i < r->n; i++) {
        const struct route_rule *rule = &r->rules[i];
        bool on_listener = rule->nlisteners == 0;
        for (size_t k = 0; k < rule->nlisteners && !on_listener; k++)
            on_listener = listener && strcmp(rule->listeners[k], listener) == 0;
        char pattern[CONF_NAME];
        const char *type = rule->type ? rule->type : "*";
        size_t n = strcspn(type, "^");
        if (!on_listener || n >= sizeof pattern)
            continue;
        memcpy(pattern, type, n);
        pattern[n] = '\0';
        if (route_glob(pattern, code.p ? code.p : "", code.p ? code.len : 0))
            return 201;
    }
    return 200;
}
