/* hl7_batch — FHS/BHS/BTS/FTS envelopes and concatenated messages. */
#include "parsers/hl7_batch.h"

#include "parsers/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct split {
    struct hl7_batch *b;
    const char *data;
    size_t len;
    char fs;           /* field separator of the latest header */
    size_t open;       /* start of the message being collected, or SIZE_MAX */
    size_t open_end;   /* end of its last segment, terminator included */
    uint32_t in_batch; /* messages since the last BHS */
    uint32_t bts, fts; /* trailers seen, for error positions */
};

void hl7_batch_init(struct hl7_batch *b)
{
    memset(b, 0, sizeof *b);
}

void hl7_batch_cleanup(struct hl7_batch *b)
{
    free(b->msgs);
    hl7_batch_init(b);
}

void hl7_batch_push(struct hl7_batch *b, size_t off, size_t len)
{
    b->msgs = grow_array(b->msgs, &b->cap, b->n + 1, sizeof *b->msgs);
    b->msgs[b->n++] = (struct hl7_batch_msg){off, len};
}

static void close_message(struct split *s)
{
    if (s->open == SIZE_MAX)
        return;
    hl7_batch_push(s->b, s->open, s->open_end - s->open);
    s->open = SIZE_MAX;
}

static int split_fail(struct hl7_err *err, size_t off, const char *seg, uint32_t seq,
                      const char *text)
{
    memset(err, 0, sizeof *err);
    err->code = seg[0] ? HL7_E_DATA_TYPE : HL7_E_SEGMENT_SEQUENCE;
    err->offset = off;
    snprintf(err->loc.seg, sizeof err->loc.seg, "%s", seg);
    err->loc.seq = seq;
    err->loc.field = seg[0] ? 1 : 0;
    snprintf(err->text, sizeof err->text, "%s", text);
    return -1;
}

/* Checks a trailer's first field (a count) against what was seen; -1 on mismatch. */
static int check_count(struct split *s, size_t at, size_t end, uint32_t seen)
{
    if (end <= at + 4 || s->data[at + 3] != s->fs)
        return 0; /* no count given: nothing to check */
    uint64_t v = 0;
    size_t i = at + 4;
    for (; i < end && s->data[i] != s->fs; i++) {
        if (s->data[i] < '0' || s->data[i] > '9' || v > UINT32_MAX)
            return -2;
        v = v * 10 + (uint64_t)(s->data[i] - '0');
    }
    return (i == at + 4 || v == seen) ? 0 : -1;
}

static int on_trailer(struct split *s, size_t at, size_t end, struct hl7_err *err)
{
    bool bts = memcmp(s->data + at, "BTS", 3) == 0;
    /* Messages in a file with no BHS form one implicit batch. */
    uint32_t batches = s->b->batches ? s->b->batches : (s->b->n > 0);
    uint32_t seen = bts ? s->in_batch : batches;
    uint32_t seq = bts ? ++s->bts : ++s->fts;
    int rc = check_count(s, at, end, seen);
    if (rc == 0)
        return 0;
    char text[120];
    if (rc == -2)
        snprintf(text, sizeof text, "%s-1 is not a count", bts ? "BTS" : "FTS");
    else
        snprintf(text, sizeof text, "%s-1 count does not match: %u %s found", bts ? "BTS" : "FTS",
                 (unsigned)seen, bts ? "messages" : "batches");
    return split_fail(err, at, bts ? "BTS" : "FTS", seq, text);
}

/* Handles the segment at [at, end); -1 on error. */
static int on_segment(struct split *s, size_t at, size_t end, struct hl7_err *err)
{
    const char *p = s->data + at;
    bool header = end - at >= 4 && (memcmp(p, "MSH", 3) == 0 || memcmp(p, "BHS", 3) == 0 ||
                                    memcmp(p, "FHS", 3) == 0);
    bool trailer = end - at >= 3 && (memcmp(p, "BTS", 3) == 0 || memcmp(p, "FTS", 3) == 0);
    if (header || trailer)
        close_message(s);
    if (header)
        s->fs = p[3];
    if (trailer)
        return on_trailer(s, at, end, err);
    if (header && p[0] == 'F') {
        s->b->file = true;
    } else if (header && p[0] == 'B') {
        s->b->batches++;
        s->in_batch = 0;
    } else if (header) {
        s->open = at;
        s->in_batch++;
    } else if (s->open == SIZE_MAX) {
        return split_fail(err, at, "", 0, "segment outside any message (no MSH before it)");
    }
    return 0;
}

int hl7_batch_split(struct hl7_batch *b, const char *data, size_t len, struct hl7_err *err)
{
    struct split s = {.b = b, .data = data, .len = len, .fs = '|', .open = SIZE_MAX};
    b->n = 0;
    b->batches = 0;
    b->file = false;
    size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < len) {
        size_t end = i;
        while (end < len && data[end] != '\r' && data[end] != '\n')
            end++;
        size_t text = i; /* leading blanks before a segment id are tolerated */
        while (text < end && (data[text] == ' ' || data[text] == '\t' || data[text] == '\0'))
            text++;
        if (text < end && on_segment(&s, text, end, err) != 0)
            return -1;
        while (end < len && (data[end] == '\r' || data[end] == '\n'))
            end++;
        if (s.open != SIZE_MAX)
            s.open_end = end;
        i = end;
    }
    close_message(&s);
    if (b->n == 0 && !b->batches && !b->file) /* an envelope may be empty (BTS|0): no data */
        return split_fail(err, 0, "", 0, "no MSH segment found");
    return 0;
}
