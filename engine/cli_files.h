/*
 * cli_files — the inputs of a command line: files, directories and "-".
 *
 * A directory stands for the message files below it (*.hl7 and *.hl7v2,
 * any case, recursively, in name order); a file named explicitly is always
 * read; "-" is standard input. A file's bytes are split into messages: MLLP
 * frames when it starts with <VT>, otherwise plain or batched messages.
 */
#ifndef SOLENT_ENGINE_CLI_FILES_H
#define SOLENT_ENGINE_CLI_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/hl7.h"
#include "parsers/hl7_batch.h"

struct cli_paths {
    char **v; /* owned strings */
    size_t n, cap;
};

/* Prepares an empty list. */
void cli_paths_init(struct cli_paths *p);
/* Frees the list and its strings. */
void cli_paths_cleanup(struct cli_paths *p);
/* Appends args, directories expanded; -1 with a reason in err when one is unreadable. */
int cli_paths_add(struct cli_paths *p, const char *arg, char *err, size_t errlen);
/* Reads a whole file ("-": stdin) of at most max bytes; NULL with a reason in err. */
char *cli_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);
/* Splits a file's bytes into messages (offsets into data); -1 with err. */
int cli_split(const char *data, size_t len, size_t max_frame, struct hl7_batch *b,
              struct hl7_err *err);

/* Every message of a list of paths, in memory: one owned buffer each. */
struct cli_corpus {
    char **data;
    size_t *len;
    size_t n, cap, bytes;
};

/* Loads every message of paths into c (zeroed); unreadable files are reported on stderr
 * prefixed with prog. -1 when no message was loaded. */
int cli_corpus_load(struct cli_corpus *c, const struct cli_paths *paths, const char *prog);
/* Frees what cli_corpus_load loaded. */
void cli_corpus_free(struct cli_corpus *c);

/* Milliseconds since the epoch for a --since argument: YYYY-MM-DD[THH:MM[:SS]] (UTC) or an
 * age (30s, 15m, 2h, 7d); -1 when it is neither. */
int64_t cli_parse_since(const char *s);

struct conf;
struct conf_store;
struct store;
/* The OS user running the command (its login name, else uid:N), for the audit. */
const char *cli_user(char *out, size_t n);
/* Opens the store c names for command cmd; NULL after saying why on stderr. */
struct store *cli_store_open(const struct conf *c, const char *cmd);

#endif
