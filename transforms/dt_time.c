/* dt_time — HL7 date/time types to FHIR, with the site time zone for bare times. */
#include "transforms/dt_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/dt_zone.h"

/* A year outside these is kept (it may be what was meant) but warned about: 1013 for 2013 is a
 * typing slip a clinician should see, not a date to file silently. */
#define PLAUSIBLE_FROM 1850
#define PLAUSIBLE_TO   2200

struct hl7_time {
    int year, month, day, hour, minute, second;
    int ndigits;    /* 4, 6, 8, 10, 12 or 14 */
    char frac[6];   /* fraction digits, "" when none */
    int has_offset; /* the message gave +/-HHMM */
    int offset_min; /* minutes east of UTC */
};

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads the numeric part of a DTM: 4 to 14 digits. */
static int read_fields(const char *p, int n, struct hl7_time *t)
{
    if (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14)
        return -1;
    t->ndigits = n;
    t->year = digits(p, 4);
    t->month = n >= 6 ? digits(p + 4, 2) : 1;
    t->day = n >= 8 ? digits(p + 6, 2) : 1;
    t->hour = n >= 10 ? digits(p + 8, 2) : 0;
    t->minute = n >= 12 ? digits(p + 10, 2) : 0;
    t->second = n >= 14 ? digits(p + 12, 2) : 0;
    if (t->year < 1 || t->month < 1 || t->month > 12 || t->day < 1 ||
        t->day > days_in_month(t->year, t->month) || t->hour < 0 || t->hour > 23 || t->minute < 0 ||
        t->minute > 59 || t->second < 0 || t->second > 59)
        return -1;
    return 0;
}

/* Parses DTM text: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]. */
static int parse_dtm(const char *p, size_t len, struct hl7_time *t)
{
    memset(t, 0, sizeof *t);
    size_t i = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    if (read_fields(p, (int)i, t) != 0)
        return -1;
    if (i < len && p[i] == '.') {
        size_t f = ++i;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == f || i - f > 4 || t->ndigits != 14)
            return -1;
        memcpy(t->frac, p + f, i - f);
    }
    if (i < len && (p[i] == '+' || p[i] == '-')) {
        int hh = len - i == 5 ? digits(p + i + 1, 2) : -1, mm = hh >= 0 ? digits(p + i + 3, 2) : -1;
        if (hh < 0 || hh > 14 || mm < 0 || mm > 59)
            return -1;
        t->has_offset = 1;
        t->offset_min = (p[i] == '-' ? -1 : 1) * (hh * 60 + mm);
        i = len;
    }
    return i == len ? 0 : -1;
}

/* Offset of the site time zone at that local time, in minutes east of UTC (dt_zone.h:
 * the earlier offset of a repeated hour, the one before a skipped hour). */
static int site_offset(const struct dt_zone *zone, const struct hl7_time *t)
{
    int64_t local = dt_zone_days(t->year, t->month, t->day) * 86400 + t->hour * 3600 +
                    t->minute * 60 + t->second;
    return (int)(dt_zone_local(zone, local) / 60);
}

/* Writes v as exactly width decimal digits; returns the end. */
static char *put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

static void format_time(const struct dt_zone *zone, const struct hl7_time *t, enum dt_kind kind,
                        char out[DT_MAX])
{
    if (kind == DT_DATE || (kind == DT_DATETIME && t->ndigits <= 8)) {
        int n = kind == DT_DATE && t->ndigits > 8 ? 8 : t->ndigits;
        char *p = put_digits(out, t->year, 4);
        if (n >= 6)
            *p++ = '-', p = put_digits(p, t->month, 2);
        if (n >= 8)
            *p++ = '-', p = put_digits(p, t->day, 2);
        *p = '\0';
        return;
    }
    int off = t->has_offset ? t->offset_min : site_offset(zone, t);
    int aoff = abs(off);
    /* YYYY-MM-DDThh:mm:ss[.ffff]+hh:mm, written by hand: this runs for every time */
    char *p = out;
    p = put_digits(p, t->year, 4), *p++ = '-', p = put_digits(p, t->month, 2), *p++ = '-';
    p = put_digits(p, t->day, 2), *p++ = 'T', p = put_digits(p, t->hour, 2), *p++ = ':';
    p = put_digits(p, t->minute, 2), *p++ = ':', p = put_digits(p, t->second, 2);
    if (t->frac[0]) {
        *p++ = '.';
        for (const char *f = t->frac; *f; f++)
            *p++ = *f;
    }
    *p++ = off < 0 ? '-' : '+';
    p = put_digits(p, aoff / 60, 2), *p++ = ':', p = put_digits(p, aoff % 60, 2);
    *p = '\0';
}

/* TM: HH[MM[SS[.S...]]][+/-ZZZZ] -> hh:mm:ss (FHIR time has no offset). */
static int parse_tm(const char *p, size_t len, char out[DT_MAX])
{
    size_t i = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i != 2 && i != 4 && i != 6)
        return -1;
    int hh = digits(p, 2), mm = i >= 4 ? digits(p + 2, 2) : 0, ss = i >= 6 ? digits(p + 4, 2) : 0;
    if (hh > 23 || mm > 59 || ss > 59)
        return -1;
    snprintf(out, DT_MAX, "%02d:%02d:%02d", hh, mm, ss);
    return 0;
}

int dt_format(struct xf_ctx *x, struct hl7_view v, enum dt_kind kind, char out[DT_MAX])
{
    struct hl7_view c = xf_comp(x, v, 1);
    struct hl7_time t;
    if (!xf_has(c))
        return 1;
    int rc = kind == DT_TIME ? parse_tm(c.p, c.len, out) : parse_dtm(c.p, c.len, &t);
    if (rc != 0) {
        xf_warn_at(x, c, kind == DT_TIME ? "invalid time, left out" : "invalid date, left out");
        return -1;
    }
    if (kind != DT_TIME && (t.year < PLAUSIBLE_FROM || t.year > PLAUSIBLE_TO))
        xf_warn_at(x, c, "implausible year (before 1850 or after 2200): kept as sent");
    if (kind != DT_TIME)
        format_time(x->cfg->zone, &t, kind, out);
    return 0;
}

/* Howard Hinnant's civil_from_days: the date of a day count from 1970-01-01. */
static void civil(int64_t z, struct hl7_time *t)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    t->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    t->year = (int)(yoe + era * 400 + (t->month <= 2));
}

/* t moved by secs on its wall clock. */
static void move(struct hl7_time *t, int64_t secs)
{
    int64_t wall = dt_zone_days(t->year, t->month, t->day) * 86400 + t->hour * 3600 +
                   t->minute * 60 + t->second + secs;
    int64_t days = (wall >= 0 ? wall : wall - 86399) / 86400, rest = wall - days * 86400;
    civil(days, t);
    t->hour = (int)(rest / 3600), t->minute = (int)(rest / 60 % 60), t->second = (int)(rest % 60);
}

int dt_format_after(struct xf_ctx *x, struct hl7_view v, long minutes, char out[DT_MAX])
{
    struct hl7_view c = xf_comp(x, v, 1);
    struct hl7_time t;
    if (!xf_has(c) || parse_dtm(c.p, c.len, &t) != 0 || t.ndigits < 10)
        return -1;
    t.ndigits = 14, t.frac[0] = '\0';
    if (!t.has_offset) { /* a site time: the site's offset at the instant it ends */
        int before = site_offset(x->cfg->zone, &t);
        int64_t utc = dt_zone_days(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 +
                      t.second - before * 60 + (int64_t)minutes * 60;
        t.has_offset = 1;
        t.offset_min = x->cfg->zone ? (int)(dt_zone_at(x->cfg->zone, utc) / 60) : 0;
        minutes += t.offset_min - before;
    }
    move(&t, (int64_t)minutes * 60);
    format_time(x->cfg->zone, &t, DT_DATETIME, out);
    return 0;
}

int dt_add(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view v, enum dt_kind kind)
{
    char out[DT_MAX];
    if (dt_format(x, v, kind, out) != 0)
        return 0;
    xf_put_str(obj, name, out);
    return 1;
}

int dt_add_period(struct xf_ctx *x, cJSON *obj, const char *name, struct hl7_view start,
                  struct hl7_view end, enum dt_kind kind)
{
    cJSON *p = cJSON_CreateObject();
    dt_add(x, p, "start", start, kind);
    dt_add(x, p, "end", end, kind);
    if (cJSON_GetArraySize(p) == 0) {
        cJSON_Delete(p);
        return 0;
    }
    xf_put(obj, name, p);
    return 1;
}
