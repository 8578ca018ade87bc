/*
 * dt_zone — a time zone read from TZif bytes (RFC 8536, the files under
 * /usr/share/zoneinfo): its transitions, and the POSIX TZ rule of its footer for
 * the years after the last one. Answers one question, the site offset of a local
 * time written without one, with no process state: no TZ variable, no tzset(),
 * no localtime(), so every thread and command gets the same answer.
 *
 * A local time that occurs twice (the hour repeated when clocks go back) takes
 * the earlier of its two offsets (summer time); one that never occurs (the hour
 * skipped when clocks go forward) takes the offset in force before the gap, so
 * 01:30 on the day British clocks go forward is 01:30+00:00, the instant a
 * clock would have shown as 02:30+01:00.
 *
 * Not here: reading the file (the engine does, when the configuration loads).
 */
#ifndef SOLENT_TRANSFORMS_DT_ZONE_H
#define SOLENT_TRANSFORMS_DT_ZONE_H

#include <stddef.h>
#include <stdint.h>

/* A POSIX TZ rule date: month m, week w (5: the last), weekday d (0: Sunday), at time
 * seconds after local midnight. */
struct dt_zone_date {
    int month, week, wday;
    int32_t time;
};

struct dt_zone {
    int64_t *at;  /* owned; transition instants, UTC seconds, ascending */
    int32_t *off; /* owned; the offset from each transition on, seconds east of UTC */
    size_t n;
    int32_t first; /* the offset before the first transition */
    /* the footer's rule, for instants after the last transition */
    int has_rule, has_dst;
    int32_t std_off, dst_off;
    struct dt_zone_date start, end;
};

/* Reads TZif data into z; 0, or -1 with a reason in err (z is then empty). */
int dt_zone_parse(struct dt_zone *z, const unsigned char *data, size_t len, char *err,
                  size_t errlen);
/* Frees what z owns; z may be parsed into again. */
void dt_zone_cleanup(struct dt_zone *z);
/* The offset in force at UTC instant t, seconds east of UTC. */
int32_t dt_zone_at(const struct dt_zone *z, int64_t t);
/* The offset of a local time (seconds since 1970-01-01T00:00 as written, no offset),
 * seconds east of UTC, by the rules above. z NULL: UTC. */
int32_t dt_zone_local(const struct dt_zone *z, int64_t local);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t dt_zone_days(int64_t y, int m, int d);

#endif
