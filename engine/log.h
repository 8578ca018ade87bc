/*
 * log — how the engine says what happened: one line per event, with a timestamp
 * (RFC 3339, UTC, milliseconds) and a level on every line, the event's fields as
 * key=value (logfmt) or one JSON object per line for log shippers. Every value goes
 * through one quoting function, so nothing a peer, a server or a message sends can end
 * a value or start a line of its own. Lines below the configured level are not written.
 * stderr by default (systemd and journald take it from there); a file when configured,
 * opened again by log_reopen() — on SIGHUP — after a rotation moved it.
 *
 * Thread-safe: a line is formatted on the caller's thread and written whole, with one
 * write(2), under a lock. The settings are the process's (as stderr is).
 *
 * Not here: what is logged. Callers log identifiers, codes, positions, sizes, timings —
 * never patient data (STYLE.md).
 */
#ifndef SOLENT_ENGINE_LOG_H
#define SOLENT_ENGINE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the level (error|warn|info|debug), the format (text|json) and the file (NULL or "":
 * stderr). 0, or -1 with a reason when the file cannot be opened (nothing changes then). */
int log_configure(const char *level, const char *format, const char *path, char *err,
                  size_t errlen);
/* Opens the log file again by its name (a rotation renamed it); 0 at once on stderr. */
int log_reopen(char *err, size_t errlen);
/* True when lines of this level are written. */
bool log_enabled(enum log_level level);

/* Writes one event. fields is "key=VALUE key=VALUE ...", each VALUE printf conversions and
 * literal text ("conn=%llu", "peer=%s", "action=paused"); each value is formatted, then
 * quoted as the format needs (an integer or floating conversion alone is a JSON number). */
void log_event(enum log_level level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(event, ...) log_event(LOG_ERROR, event, __VA_ARGS__)
#define log_warn(event, ...)  log_event(LOG_WARN, event, __VA_ARGS__)
#define log_info(event, ...)  log_event(LOG_INFO, event, __VA_ARGS__)
#define log_debug(event, ...) log_event(LOG_DEBUG, event, __VA_ARGS__)

/* Appends v to out (at most cap bytes in all, NUL-terminated), quoted for a text line (bare
 * when it is plain printable ASCII with no space, quote, = or backslash; else in quotes with
 * \" \\ \n \r \t and \xHH) or as a JSON string. Returns the new length. */
size_t log_quote(const char *v, bool json, char *out, size_t len, size_t cap);

#endif
