/* router — route rules from the configuration; the no-match code. */
#include "engine/router.h"

#include <string.h>

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
    /* Would any rule take the message if its type were compared on the code alone? */
    for (size_t i = 0; i < r->n; i++) {
        struct route_rule loose = r->rules[i];
        char code[16];
        if (!loose.type || strcmp(loose.type, "*") == 0)
            continue;
        size_t n = strcspn(loose.type, "^");
        if (n >= sizeof code)
            continue;
        memcpy(code, loose.type, n);
        code[n] = '\0';
        loose.type = code;
        if (route_matches(&loose, listener, m))
            return 201;
    }
    return 200;
}
