/* dt_zone — TZif transitions and POSIX TZ rules: the site offset of a local time. */
#include "transforms/dt_zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/grow.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

int64_t dt_zone_days(int64_t y, int m, int d)
{
    /* Howard Hinnant's days_from_civil */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The six counts of a TZif header. */
struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static int read_counts(const unsigned char *p, size_t len, struct tzif_counts *c)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    *c = (struct tzif_counts){be32(p + 20), be32(p + 24), be32(p + 28),
                              be32(p + 32), be32(p + 36), be32(p + 40)};
    return c->type == 0 || c->type > 256 || c->time > 100000 ? -1 : 0;
}

static size_t block_size(const struct tzif_counts *c, size_t tsize)
{
    return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) + c->isstd +
           c->isut;
}

/* [+-]hh[:mm[:ss]] into seconds; the end of what was read, or NULL. */
static const char *read_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int32_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return i == 0 ? NULL : p;
        int v = 0;
        while (*p >= '0' && *p <= '9' && v < 1000)
            v = v * 10 + (*p++ - '0');
        parts[i] = v;
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return p;
}

/* A zone abbreviation: letters, or anything between < and >. */
static const char *skip_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* ,Mm.w.d[/time] */
static const char *read_date(const char *p, struct dt_zone_date *d)
{
    if (p[0] != ',' || p[1] != 'M')
        return NULL;
    char *end;
    d->month = (int)strtol(p + 2, &end, 10);
    if (*end != '.')
        return NULL;
    d->week = (int)strtol(end + 1, &end, 10);
    if (*end != '.')
        return NULL;
    d->wday = (int)strtol(end + 1, &end, 10);
    if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->wday < 0 || d->wday > 6)
        return NULL;
    d->time = 7200;
    return *end == '/' ? read_hms(end + 1, &d->time) : end;
}

/* The footer: std offset [dst [offset] ,start[/time],end[/time]] (only M dates). */
static int read_rule(struct dt_zone *z, const char *p)
{
    int32_t west;
    if (!*p)
        return 0; /* no rule: the last transition's offset stays */
    if (!(p = skip_name(p)) || !(p = read_hms(p, &west)))
        return -1;
    z->has_rule = 1;
    z->std_off = z->dst_off = -west;
    if (!*p)
        return 0;
    if (!(p = skip_name(p)))
        return -1;
    z->has_dst = 1;
    z->dst_off = z->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = read_hms(p, &west)))
            return -1;
        z->dst_off = -west;
    }
    if (!(p = read_date(p, &z->start)) || !(p = read_date(p, &z->end)))
        return -1;
    return *p ? -1 : 0;
}

/* The 64-bit block: transitions, their types' offsets, and the footer. */
static int read_v2(struct dt_zone *z, const unsigned char *p, size_t len,
                   const struct tzif_counts *c)
{
    size_t need = block_size(c, 8), cap = 0, cap2 = 0;
    if (len < need + 2 || p[need] != '\n')
        return -1;
    const unsigned char *idx = p + c->time * 8, *types = idx + c->time;
    z->at = grow_array(NULL, &cap, c->time ? c->time : 1, sizeof *z->at);
    z->off = grow_array(NULL, &cap2, c->time ? c->time : 1, sizeof *z->off);
    for (uint32_t i = 0; i < c->time; i++) {
        if (idx[i] >= c->type || (i && be64(p + i * 8) <= z->at[i - 1]))
            return -1;
        z->at[i] = be64(p + i * 8);
        z->off[i] = (int32_t)be32(types + idx[i] * 6);
    }
    z->n = c->time;
    z->first = (int32_t)be32(types); /* RFC 8536: type 0 before the first transition */
    const char *footer = (const char *)p + need + 1;
    const char *nl = memchr(footer, '\n', len - need - 1);
    char rule[128];
    if (!nl || (size_t)(nl - footer) >= sizeof rule)
        return -1;
    memcpy(rule, footer, (size_t)(nl - footer));
    rule[nl - footer] = '\0';
    return read_rule(z, rule);
}

int dt_zone_parse(struct dt_zone *z, const unsigned char *data, size_t len, char *err,
                  size_t errlen)
{
    struct tzif_counts c1, c2;
    memset(z, 0, sizeof *z);
    size_t v1 = 0;
    int rc = read_counts(data, len, &c1);
    if (rc == 0 && data[4] < '2')
        rc = -1; /* version 1 files have no 64-bit block and no rule */
    if (rc == 0) {
        v1 = 44 + block_size(&c1, 4);
        rc = v1 < len ? read_counts(data + v1, len - v1, &c2) : -1;
    }
    if (rc == 0)
        rc = read_v2(z, data + v1 + 44, len - v1 - 44, &c2);
    if (rc != 0) {
        snprintf(err, errlen, "not a TZif file of version 2 or later with a POSIX M-rule footer");
        dt_zone_cleanup(z);
    }
    return rc;
}

void dt_zone_cleanup(struct dt_zone *z)
{
    free(z->at);
    free(z->off);
    memset(z, 0, sizeof *z);
}

/* Local seconds (as if UTC) at which a rule date falls in year y. */
static int64_t rule_local(const struct dt_zone_date *d, int64_t y)
{
    int64_t first = dt_zone_days(y, d->month, 1);
    int wday1 = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + (d->wday - wday1 + 7) % 7 + 7 * (d->week - 1);
    int dim = (int)(dt_zone_days(d->month == 12 ? y + 1 : y, d->month % 12 + 1, 1) - first);
    while (day - first >= dim)
        day -= 7;
    return day * 86400 + d->time;
}

static int64_t year_of(int64_t t)
{
    int64_t y = 1970 + t / 31556952;
    while (dt_zone_days(y, 1, 1) * 86400 > t)
        y--;
    while (dt_zone_days(y + 1, 1, 1) * 86400 <= t)
        y++;
    return y;
}

static int32_t rule_at(const struct dt_zone *z, int64_t t)
{
    if (!z->has_dst)
        return z->std_off;
    int64_t y = year_of(t + z->std_off);
    int64_t start = rule_local(&z->start, y) - z->std_off,
            end = rule_local(&z->end, y) - z->dst_off;
    int dst = start < end ? (t >= start && t < end) : (t < end || t >= start);
    return dst ? z->dst_off : z->std_off;
}

int32_t dt_zone_at(const struct dt_zone *z, int64_t t)
{
    if (!z)
        return 0;
    if (z->n == 0 || t < z->at[0])
        return z->n == 0 && z->has_rule ? rule_at(z, t) : z->first;
    if (t >= z->at[z->n - 1] && z->has_rule)
        return rule_at(z, t);
    size_t lo = 0, hi = z->n; /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[lo];
}

int32_t dt_zone_local(const struct dt_zone *z, int64_t local)
{
    /* Transitions are months apart: within a day of a local time there is at most one, so
     * the offsets a day before and a day after are the only candidates. */
    int32_t before = dt_zone_at(z, local - 86400), after = dt_zone_at(z, local + 86400);
    if (dt_zone_at(z, local - before) == before)
        return before; /* in force then (the earlier of two, when the hour repeats) */
    if (dt_zone_at(z, local - after) == after)
        return after;
    return before; /* the skipped hour: the offset before the gap */
}
