/*
 * codemap — a local code map from a CSV file: header local_code,system,code,display,
 * then one row per local code (fields may be "quoted", "" inside quotes is a quote).
 * The file's bytes are kept and the fields point into them.
 */
#ifndef SOLENT_ENGINE_CODEMAP_H
#define SOLENT_ENGINE_CODEMAP_H

#include <stddef.h>

#include "transforms/xf.h"

struct codemap {
    char *buf;                  /* the file, fields NUL-terminated in place (owned) */
    struct xf_code_entry *rows; /* sorted by code (owned) */
    size_t n;
};

/* Loads path; -1 with "path:line: problem" in err. */
int codemap_load(struct codemap *m, const char *path, char *err, size_t errlen);
/* Frees what codemap_load kept. */
void codemap_free(struct codemap *m);

#endif
