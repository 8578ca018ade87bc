/*
 * fhir_id — deterministic identifiers for FHIR output: a UUID (version 5
 * layout) from the SHA-256 of a seed, so the same message always yields the
 * same fullUrls and resource ids, and percent-encoding for search URLs.
 */
#ifndef SOLENT_TRANSFORMS_FHIR_ID_H
#define SOLENT_TRANSFORMS_FHIR_ID_H

#include <stddef.h>

#define FHIR_UUID_LEN   36
#define FHIR_SHA256_LEN 32

/* Writes the SHA-256 of n bytes at data into out (the implementation fetched once). */
void fhir_id_sha256(const void *data, size_t n, unsigned char out[FHIR_SHA256_LEN]);
/* Writes the UUID for the seed's n bytes into out (FHIR_UUID_LEN + 1 bytes). */
void fhir_id_uuid(const void *seed, size_t n, char out[FHIR_UUID_LEN + 1]);
/* Writes s percent-encoded for a URL query value into out (size n); -1 if it does not fit. */
int fhir_id_query_escape(const char *s, char *out, size_t n);

#endif
