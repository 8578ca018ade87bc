/* cmd_parse — `solent parse`: HL7v2 messages as JSON trees or selected values. */
#ifndef SOLENT_ENGINE_CMD_PARSE_H
#define SOLENT_ENGINE_CMD_PARSE_H

#include <stddef.h>

/* Runs the command; returns the process exit status (0 ok, 1 bad input, 2 usage). */
int cmd_parse_run(int argc, char **argv);
/* Reads a size such as 4096, 64K or 16M (for --max-size); -1 if malformed. */
int cmd_parse_size(const char *s, size_t *out);

#endif
