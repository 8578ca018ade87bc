/* fhir_id — SHA-256 based UUIDs and query escaping. */
#include "transforms/fhir_id.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

void fhir_id_uuid(const void *seed, size_t n, char out[FHIR_UUID_LEN + 1])
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256(seed, n, h);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x50); /* version 5 layout: name-based */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, FHIR_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
             h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
             h[15]);
}

int fhir_id_query_escape(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    strchr("-._~:/|", c);
        if (o + (plain ? 1 : 3) >= n)
            return -1;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return 0;
}
