/* dt_value — OBX-5 values to Observation.value[x] or an Attachment. */
#include "transforms/dt_value.h"

#include <openssl/evp.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transforms/dt_code.h"
#include "transforms/dt_time.h"

int dt_decimal(const char *s, char *out, size_t n)
{
    const char *p = s;
    int neg = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    while (*p == '0' && p[1] >= '0' && p[1] <= '9') /* JSON forbids leading zeros */
        p++;
    size_t int_digits = strspn(p, "0123456789");
    const char *frac = p + int_digits;
    size_t frac_digits = *frac == '.' ? strspn(frac + 1, "0123456789") : 0;
    if ((int_digits == 0 && frac_digits == 0) || frac[*frac == '.' ? frac_digits + 1 : 0] != '\0')
        return -1;
    int w = snprintf(out, n, "%s%s%.*s%s", neg ? "-" : "", int_digits ? "" : "0",
                     (int)(int_digits + (*frac == '.' ? frac_digits + 1 : 0)), p,
                     *frac == '.' && frac_digits == 0 ? "0" : "");
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* {value, unit, system, code} from a number and OBX-6; NULL when not a number. */
static cJSON *quantity(struct xf_ctx *x, const char *num, struct hl7_view units)
{
    char dec[64];
    if (!num || dt_decimal(num, dec, sizeof dec) != 0)
        return NULL;
    cJSON *q = cJSON_CreateObject();
    xf_put_raw(q, "value", dec);
    const char *unit = xf_text(x, xf_comp(x, units, 2));
    if (!unit)
        unit = xf_text(x, xf_comp(x, units, 1));
    if (unit)
        xf_put_str(q, "unit", unit);
    const char *system = dt_code_system(x, xf_comp(x, units, 3));
    /* qty-3: a code needs a system, so only coded units carry one. */
    if (system && xf_add_str(x, q, "code", xf_comp(x, units, 1)))
        xf_put_str(q, "system", system);
    return q;
}

/* The IG's text form of an SN that is no number: "OBX-5.1 OBX-5.2 OBX-5.3 OBX-5.4 OBX-6". */
static int sn_text(struct xf_ctx *x, const char *const parts[4], struct hl7_view units, cJSON *obs)
{
    char text[300] = "";
    const char *unit = xf_text(x, xf_comp(x, units, 1));
    for (int i = 0; i < 5; i++) {
        const char *p = i < 4 ? parts[i] : unit;
        size_t len = strlen(text);
        if (p && p[0])
            snprintf(text + len, sizeof text - len, "%s%s", len ? " " : "", p);
    }
    if (!text[0])
        return -1;
    xf_put_str(obs, "valueString", text);
    return 0;
}

/* SN by the IG: <> or + as text; : or / a Ratio and - a Range (OBX-6 units on both
 * parts); otherwise a Quantity with its comparator; anything unreadable as text. */
static int value_sn(struct xf_ctx *x, struct hl7_view v, struct hl7_view units, cJSON *obs)
{
    char part[4][64] = {"", "", "", ""};
    for (uint32_t k = 0; k < 4; k++) {
        const char *s = xf_text(x, xf_comp(x, v, k + 1));
        if (s)
            snprintf(part[k], sizeof part[k], "%s", s);
    }
    const char *const parts[4] = {part[0], part[1], part[2], part[3]};
    const char *cmp = part[0], *sep = part[2];
    if (strcmp(cmp, "<>") == 0 || strcmp(sep, "+") == 0)
        return sn_text(x, parts, units, obs);
    if (part[3][0] && (strcmp(sep, ":") == 0 || strcmp(sep, "/") == 0 || strcmp(sep, "-") == 0)) {
        bool range = strcmp(sep, "-") == 0;
        cJSON *a = quantity(x, part[1], units), *b = quantity(x, part[3], units);
        if (!a || !b) {
            cJSON_Delete(a), cJSON_Delete(b);
            return sn_text(x, parts, units, obs);
        }
        cJSON *r = xf_put_object(obs, range ? "valueRange" : "valueRatio");
        xf_put(r, range ? "low" : "numerator", a);
        xf_put(r, range ? "high" : "denominator", b);
        return 0;
    }
    cJSON *q = quantity(x, part[1], units);
    if (!q)
        return sn_text(x, parts, units, obs);
    if (strcmp(cmp, "<") == 0 || strcmp(cmp, ">") == 0 || strcmp(cmp, "<=") == 0 ||
        strcmp(cmp, ">=") == 0)
        xf_put_str(q, "comparator", cmp);
    xf_put(obs, "valueQuantity", q);
    return 0;
}

/* ST/TX/FT: every repetition, decoded, one line each. */
static int value_text(struct xf_ctx *x, struct hl7_view v, cJSON *obs)
{
    struct strbuf all;
    strbuf_init(&all, x->msg->len + 1);
    struct xf_reps it;
    struct hl7_view rep;
    for (xf_reps_init(x, &it, v); xf_reps_next(x, &it, &rep);) {
        const char *s = xf_text(x, rep);
        if (s && ((all.len && strbuf_putc(&all, '\n')) || strbuf_puts(&all, s)))
            break;
    }
    int rc = all.len ? 0 : 2;
    if (all.len)
        xf_put_str(obs, "valueString", all.p);
    strbuf_cleanup(&all);
    return rc;
}

/* The MIME type of an ED: table 0291's subtypes (any case: senders write "pdf" as often as
 * "PDF"), or a MIME type spelled out as ED-2/ED-3 (application^pdf, image^png). */
static const char *content_type(struct xf_ctx *x, struct hl7_view ed, char *buf, size_t len)
{
    static const char *const known[][2] = {{"PDF", "application/pdf"}, {"JPEG", "image/jpeg"},
                                           {"PNG", "image/png"},       {"RTF", "application/rtf"},
                                           {"HTML", "text/html"},      {"TEXT", "text/plain"},
                                           {"PLAIN", "text/plain"},    {"XML", "application/xml"}};
    static const char *const tops[] = {"application", "image", "text", "audio", "video"};
    char sub[32];
    const char *s = xf_text(x, xf_comp(x, ed, 3));
    if (!s || xf_copy(sub, sizeof sub, s) >= sizeof sub ||
        strspn(sub, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-") !=
            strlen(sub))
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(sub, known[i][0]) == 0)
            return known[i][1];
    const char *top = xf_text(x, xf_comp(x, ed, 2));
    for (size_t i = 0; top && i < sizeof tops / sizeof tops[0]; i++)
        if (strcasecmp(top, tops[i]) == 0) {
            snprintf(buf, len, "%s/%s", tops[i], sub);
            for (char *c = buf; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            return buf;
        }
    return "application/octet-stream";
}

/* True when s is base64 as FHIR's base64Binary takes it: the alphabet, padding only at the
 * end, a length that is a multiple of 4. */
static bool is_base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    for (size_t i = 0; i < n; i++) {
        bool alpha = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/';
        if (s[i] == '=' && i + 2 >= n)
            pad++;
        else if (!alpha || pad)
            return false;
    }
    return n > 0 && n % 4 == 0;
}

/* text (UTF-8) as base64 data of a new Attachment of contentType type. */
static cJSON *attachment_text(const char *type, const char *text)
{
    size_t n = strlen(text);
    unsigned char *enc = malloc(4 * ((n + 2) / 3) + 1);
    if (!enc)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    EVP_EncodeBlock(enc, (const unsigned char *)text, (int)n);
    cJSON *a = cJSON_CreateObject();
    xf_put_str(a, "contentType", type);
    xf_put_str(a, "data", (const char *)enc);
    free(enc);
    return a;
}

/* ED: Base64 data checked and kept as it is (a warning, and nothing, when it is not base64),
 * ASCII (A) or other data base64-encoded. */
static cJSON *attachment_ed(struct xf_ctx *x, struct hl7_view ed)
{
    char mime[64];
    const char *type = content_type(x, ed, mime, sizeof mime);
    struct hl7_view enc4 = xf_comp(x, ed, 4);
    bool b64 = enc4.p && enc4.len == 6 && strncasecmp(enc4.p, "Base64", 6) == 0;
    const char *data = xf_text(x, xf_comp(x, ed, 5));
    if (!data)
        return NULL;
    if (b64 && !is_base64(data)) {
        xf_warn_at(x, xf_comp(x, ed, 5), "ED data declared Base64 is not base64: left out");
        return NULL;
    }
    if (!b64)
        return attachment_text(type, data);
    cJSON *a = cJSON_CreateObject();
    xf_put_str(a, "contentType", type);
    xf_put_str(a, "data", data);
    return a;
}

cJSON *dt_attachment(struct xf_ctx *x, const struct hl7_seg *obx)
{
    struct hl7_view type = xf_comp(x, xf_take(x, obx, 2), 1);
    struct hl7_view v = xf_take(x, obx, 5);
    if (xf_eq(type, "ED"))
        return attachment_ed(x, xf_rep(x, v, 1));
    if (xf_eq(type, "RP")) { /* a pointer: RP-1 the address */
        const char *url = xf_text(x, xf_comp(x, xf_rep(x, v, 1), 1));
        cJSON *a = url ? cJSON_CreateObject() : NULL;
        if (a)
            xf_put_str(a, "url", url);
        return a;
    }
    if (!xf_eq(type, "TX") && !xf_eq(type, "FT") && !xf_eq(type, "ST"))
        return NULL;
    struct strbuf all; /* every repetition a line: a letter's paragraphs */
    struct xf_reps it;
    struct hl7_view rep;
    strbuf_init(&all, x->msg->len + 1);
    for (xf_reps_init(x, &it, v); xf_reps_next(x, &it, &rep);) {
        const char *t = xf_text(x, rep);
        if (t && ((all.len && strbuf_putc(&all, '\n')) || strbuf_puts(&all, t)))
            break;
    }
    cJSON *a = all.len ? attachment_text("text/plain", all.p) : NULL;
    strbuf_cleanup(&all);
    return a;
}

static int value_period(struct xf_ctx *x, struct hl7_view dr, cJSON *obs)
{
    return dt_add_period(x, obs, "valuePeriod", xf_comp(x, dr, 1), xf_comp(x, dr, 2), DT_DATETIME)
               ? 0
               : -1;
}

static int value_range(struct xf_ctx *x, struct hl7_view nr, cJSON *obs)
{
    cJSON *r = cJSON_CreateObject();
    static const char *const ends[] = {"low", "high"};
    for (uint32_t k = 1; k <= 2; k++) {
        cJSON *q = quantity(x, xf_text(x, xf_comp(x, nr, k)), (struct hl7_view){0});
        if (q)
            xf_put(r, ends[k - 1], q);
    }
    if (cJSON_GetArraySize(r) == 0) {
        cJSON_Delete(r);
        return -1;
    }
    xf_put(obs, "valueRange", r);
    return 0;
}

const char *dt_time_unit(const char *name, long *seconds)
{
    static const struct {
        const char *names, *ucum;
        long seconds;
    } units[] = {
        {",s,sec,secs,second,seconds,", "s", 1},       {",min,mins,m,minute,minutes,", "min", 60},
        {",h,hr,hrs,hour,hours,", "h", 3600},          {",d,day,days,", "d", 86400},
        {",wk,wks,w,week,weeks,", "wk", 604800},       {",mo,mos,month,months,", "mo", 2592000},
        {",a,ann,yr,yrs,y,year,years,", "a", 31536000}};
    char key[24];
    size_t n = name ? strlen(name) : 0;
    if (!n || n > sizeof key - 3)
        return NULL;
    key[0] = ',';
    for (size_t i = 0; i < n; i++)
        key[i + 1] = (char)tolower((unsigned char)name[i]);
    key[n + 1] = ',', key[n + 2] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strstr(units[i].names, key)) {
            if (seconds)
                *seconds = units[i].seconds;
            return units[i].ucum;
        }
    return NULL;
}

cJSON *dt_quantity_cq(struct xf_ctx *x, struct hl7_view cq)
{
    const char *n = xf_text(x, xf_comp(x, cq, 1));
    char dec[64];
    if (!n || dt_decimal(n, dec, sizeof dec) != 0)
        return NULL;
    cJSON *q = cJSON_CreateObject();
    xf_put_raw(q, "value", dec);
    const char *unit = xf_text(x, xf_sub(x, xf_comp(x, cq, 2), 1)); /* units: a CWE inside */
    if (unit)
        xf_put_str(q, "unit", unit);
    return q;
}

/* One value (first: a repetition of OBX-5; v: the whole field, for text) of type into obs
 * as value[x]; returns as dt_obs_value does. */
static int value_of(struct xf_ctx *x, const struct hl7_seg *obx, struct hl7_view type,
                    struct hl7_view units, struct hl7_view v, struct hl7_view first, cJSON *obs,
                    cJSON **attachment)
{
    char dt[DT_MAX];
    if (xf_eq(type, "NM") || xf_eq(type, "SN")) {
        cJSON *q = xf_eq(type, "NM") ? quantity(x, xf_text(x, first), units) : NULL;
        int rc = q                   ? (xf_put(obs, "valueQuantity", q), 0)
                 : xf_eq(type, "SN") ? value_sn(x, first, units, obs)
                                     : -1;
        if (rc != 0)
            xf_warn(x, obx, 5, "not a number for its type, value left out");
        return rc;
    }
    if (xf_eq(type, "CWE") || xf_eq(type, "CE") || xf_eq(type, "CNE") || xf_eq(type, "CF")) {
        xf_put(obs, "valueCodeableConcept", dt_codeable(x, first));
        return 0;
    }
    if (xf_eq(type, "DT") || xf_eq(type, "TS") || xf_eq(type, "DTM") || xf_eq(type, "TM")) {
        bool tm = xf_eq(type, "TM");
        if (dt_format(x, first, tm ? DT_TIME : DT_DATETIME, dt) != 0)
            return -1;
        xf_put_str(obs, tm ? "valueTime" : "valueDateTime", dt);
        return 0;
    }
    if (xf_eq(type, "VR")) { /* value range: the IG writes "low-high" */
        char text[200];
        const char *lo = xf_text(x, xf_comp(x, first, 1));
        snprintf(text, sizeof text, "%s-", lo ? lo : "");
        const char *hi = xf_text(x, xf_comp(x, first, 2));
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s", hi ? hi : "");
        xf_put_str(obs, "valueString", text);
        return 0;
    }
    if (xf_eq(type, "IS") || xf_eq(type, "ID")) { /* a coded value without a system */
        xf_put(obs, "valueCodeableConcept", dt_codeable(x, first));
        return 0;
    }
    if (xf_eq(type, "DR")) /* date range: start^end */
        return value_period(x, first, obs);
    if (xf_eq(type, "NR")) /* numeric range: low^high */
        return value_range(x, first, obs);
    if (xf_eq(type, "ED") || xf_eq(type, "RP")) {
        cJSON *a = xf_eq(type, "ED") ? attachment_ed(x, first) : cJSON_CreateObject();
        if (a && xf_eq(type, "RP"))
            xf_add_str(x, a, "url", xf_comp(x, first, 1));
        *attachment = a;
        return a ? 1 : 2;
    }
    return value_text(x, v, obs); /* ST, TX, FT, and anything textual */
}

int dt_obs_value(struct xf_ctx *x, const struct hl7_seg *obx, cJSON *obs, cJSON **attachment)
{
    struct hl7_view type = xf_comp(x, xf_take(x, obx, 2), 1);
    struct hl7_view units = xf_take(x, obx, 6);
    struct hl7_view v = xf_take(x, obx, 5);
    *attachment = NULL;
    if (!xf_has(v))
        return 2;
    /* Repetitions of a value that is not text (text joins them, a line each) are the IG's
     * OBX[Observation-Component]: a component per repetition, the observation's code, its
     * value; the observation itself has none. */
    bool text = xf_eq(type, "ST") || xf_eq(type, "TX") || xf_eq(type, "FT") || !xf_has(type);
    struct xf_reps it;
    struct hl7_view rep;
    int n = 0;
    for (xf_reps_init(x, &it, v); !text && xf_reps_next(x, &it, &rep);)
        n++;
    if (n <= 1 || xf_eq(type, "ED") || xf_eq(type, "RP"))
        return value_of(x, obx, type, units, v, xf_rep(x, v, 1), obs, attachment);
    int set = 0;
    for (xf_reps_init(x, &it, v); xf_reps_next(x, &it, &rep);) {
        cJSON *c = cJSON_CreateObject(), *none = NULL;
        xf_put(c, "code", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(obs, "code"), 1));
        if (value_of(x, obx, type, units, rep, rep, c, &none) == 0) {
            xf_append(obs, "component", c);
            set++;
        } else {
            cJSON_Delete(c);
        }
        cJSON_Delete(none);
    }
    return set ? 0 : -1;
}
