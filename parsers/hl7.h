/*
 * hl7 — HL7v2 message parsing and positional access.
 *
 * hl7_msg_parse() copies one message into a buffer the message owns, finds
 * its delimiters (MSH-1, MSH-2, including the v2.7 truncation character),
 * converts it to UTF-8 from the MSH-18 character set, and indexes its
 * segments and fields. Every value handed out afterwards is a view into that
 * one copy: no allocation per field. Escape sequences are left as they are;
 * hl7_escape.h decodes them on request.
 *
 * Not here: batches (hl7_batch.h), ACKs (hl7_ack.h), MLLP (mllp.h).
 * Numbering follows the standard: fields, repetitions, components and
 * sub-components count from 1, and MSH-1 is the field separator itself.
 */
#ifndef SOLENT_PARSERS_HL7_H
#define SOLENT_PARSERS_HL7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of bytes inside a message. p == NULL means the position is absent. */
struct hl7_view {
    const char *p;
    size_t len;
};

/* Character sets we convert from (MSH-18, HL7 table 0211, and CP1252). */
enum hl7_charset {
    HL7_CS_UTF8, /* also ASCII / ISO IR6: UTF-8 is a superset */
    HL7_CS_8859_1,
    HL7_CS_8859_2,
    HL7_CS_8859_3,
    HL7_CS_8859_4,
    HL7_CS_8859_5,
    HL7_CS_8859_6,
    HL7_CS_8859_7,
    HL7_CS_8859_8,
    HL7_CS_8859_9,
    HL7_CS_8859_10,
    HL7_CS_8859_11,
    HL7_CS_8859_13,
    HL7_CS_8859_14,
    HL7_CS_8859_15,
    HL7_CS_CP1252,
    HL7_CS_COUNT
};

/* The encoding of a message: its delimiters and its source character set. */
struct hl7_enc {
    char field, comp, rep, esc, sub;
    char trunc; /* v2.7+ truncation character, '\0' when MSH-2 has none */
    enum hl7_charset charset;
};

/* HL7 table 0357 message error condition codes used by Solent. */
enum hl7_code {
    HL7_OK = 0,
    HL7_E_SEGMENT_SEQUENCE = 100,
    HL7_E_REQUIRED_MISSING = 101,
    HL7_E_DATA_TYPE = 102,
    HL7_E_TABLE_VALUE = 103,
    HL7_E_TOO_LONG = 104,
    HL7_E_UNSUPPORTED_TYPE = 200,
    HL7_E_UNSUPPORTED_EVENT = 201,
    HL7_E_UNSUPPORTED_VERSION = 203,
    HL7_E_INTERNAL = 207,
};

/* A position in a message (HL7 ERL). 0 in a number means "not applicable". */
struct hl7_loc {
    char seg[4];  /* segment id, "" when the problem is before any segment */
    uint32_t seq; /* occurrence of that segment id, from 1 */
    uint32_t field, rep, comp, sub;
};

/* A problem found in a message: code, position, byte offset and text. */
struct hl7_err {
    enum hl7_code code;
    struct hl7_loc loc;
    size_t offset;  /* byte offset in the input as given */
    char text[160]; /* what is wrong; never contains message content */
};

/* Caps on what one message may hold; exceeding one is an HL7_E_TOO_LONG error. */
struct hl7_limits {
    size_t max_size;       /* bytes */
    uint32_t max_segments; /* segments */
    uint32_t max_fields;   /* fields in one segment */
};

/* Options of hl7_msg_parse(). */
struct hl7_opts {
    struct hl7_limits limits;
    enum hl7_charset fallback; /* used when MSH-18 is empty */
};

/* One segment in the index. Its tokens are tok[first .. first + ntok]. */
struct hl7_seg {
    char name[4];
    uint32_t first; /* index of the segment's first token start in hl7_msg.tok */
    uint32_t ntok;  /* tokens, counting the segment id as token 0 */
    uint32_t seq;   /* occurrence among the segments of its name, from 1 */
};

/* One slot of the table that counts segments by name while a message is indexed. */
struct hl7_seq_slot {
    uint32_t name, count, gen; /* the slot is empty unless gen is the message's */
};

/* Warnings that do not stop the parse. */
enum hl7_warn {
    HL7_W_CHARSET_MISMATCH = 1 << 0, /* MSH-18 said single-byte, bytes were UTF-8 */
    HL7_W_CHARSET_UNKNOWN = 1 << 1,  /* MSH-18 unknown, but the bytes are all ASCII */
};

/* A parsed message. Owns its copy of the bytes and its index. */
struct hl7_msg {
    char *buf; /* owned UTF-8 copy of the message */
    size_t len;
    size_t bufcap;
    struct hl7_enc enc;
    struct hl7_seg *segs; /* owned */
    uint32_t nsegs;
    size_t segcap;
    uint32_t *tok; /* owned; token start offsets, one sentinel per segment */
    uint32_t ntok;
    size_t tokcap;
    struct hl7_seq_slot *seqtab; /* owned; open addressing, a power of two in size */
    size_t seqcap;
    uint32_t seqgen, nnames; /* the current indexing pass; names counted in it */
    unsigned warnings;       /* enum hl7_warn bits */
    bool has_header;         /* MSH was indexed, even if the parse failed later */
};

/* A parsed position path such as PID-3[2].4.1 or OBX[2]-5. */
struct hl7_path {
    char seg[4];
    uint32_t seq;   /* occurrence, from 1 (default 1) */
    uint32_t field; /* 0: the whole segment */
    uint32_t rep;   /* 0: every repetition (the whole field) */
    uint32_t comp;  /* 0: the whole repetition */
    uint32_t sub;   /* 0: the whole component */
};

/* Default limits: 16 MiB, 10,000 segments, 1,000 fields per segment. */
struct hl7_opts hl7_opts_default(void);

/* Prepares an empty message. */
void hl7_msg_init(struct hl7_msg *m);
/* Frees what the message owns; it may be parsed into again after init. */
void hl7_msg_cleanup(struct hl7_msg *m);
/* Parses data into m (reusing m's storage). 0, or -1 with err filled. */
int hl7_msg_parse(struct hl7_msg *m, const char *data, size_t len, const struct hl7_opts *o,
                  struct hl7_err *err);

/* One line describing warning w (a single bit), by position, without content. */
const char *hl7_warning_text(enum hl7_warn w);
/* The occ-th segment (from 1) named name, or NULL. */
const struct hl7_seg *hl7_seg_find(const struct hl7_msg *m, const char *name, uint32_t occ);
/* The occurrence number (from 1) of segment s among segments of its name. */
uint32_t hl7_seg_seq(const struct hl7_msg *m, const struct hl7_seg *s);
/* Number of the last field present in s (MSH counts MSH-1). */
uint32_t hl7_seg_nfields(const struct hl7_msg *m, const struct hl7_seg *s);
/* Field n of segment s, or an absent view. */
struct hl7_view hl7_field(const struct hl7_msg *m, const struct hl7_seg *s, uint32_t n);
/* The n-th piece (from 1) of v split on sep, or an absent view. */
struct hl7_view hl7_piece(struct hl7_view v, char sep, uint32_t n);
/* Walks the pieces of a view split on a separator, each byte read once: loops over
 * repetitions or components use this, not hl7_piece(v, sep, i) for i = 1..n, which
 * rescans from the start each time (quadratic in the number of pieces). */
struct hl7_pieces {
    const char *p, *end; /* p == NULL: no piece left */
    char sep;
};

/* Starts a walk over the pieces of v (none when v is absent). */
void hl7_pieces_init(struct hl7_pieces *it, struct hl7_view v, char sep);
/* The next piece into *out; false when none is left. */
bool hl7_pieces_next(struct hl7_pieces *it, struct hl7_view *out);
/* How many pieces v splits into on sep (0 for an absent view). */
uint32_t hl7_npieces(struct hl7_view v, char sep);
/* True for the explicit null "" (delete the value), distinct from empty. */
bool hl7_view_is_null(struct hl7_view v);

/* Parses a path; 0, or -1 with a reason in errbuf. */
int hl7_path_parse(const char *s, struct hl7_path *p, char *errbuf, size_t errlen);
/* The value at path p: a view (absent when the message lacks it). */
struct hl7_view hl7_get(const struct hl7_msg *m, const struct hl7_path *p);
/* True when the path names a leaf: nothing under it can be split further. */
bool hl7_path_is_leaf(const struct hl7_msg *m, const struct hl7_path *p, struct hl7_view v);

/* Fills loc with the segment, field, repetition and component at offset. */
void hl7_locate(const struct hl7_msg *m, size_t offset, struct hl7_loc *loc);
/* Writes a location as PID-3[2].4.1 (human form) into buf. */
void hl7_loc_format(const struct hl7_loc *loc, char *buf, size_t len);

#endif
