/* fhir_id — SHA-256 based UUIDs and query escaping. */
#include "transforms/fhir_id.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The SHA-256 implementation, fetched once: a fetch per call costs more than the hash. */
static EVP_MD *sha256;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256)
        abort(); /* a broken OpenSSL install: nothing can be transformed */
}

void fhir_id_sha256(const void *data, size_t n, unsigned char out[FHIR_SHA256_LEN])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static _Thread_local EVP_MD_CTX *ctx; /* one per thread, reused: no allocation per hash */
    pthread_once(&once, fetch_sha256);
    if (!ctx && !(ctx = EVP_MD_CTX_new()))
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    if (!EVP_DigestInit_ex(ctx, sha256, NULL) || !EVP_DigestUpdate(ctx, data, n) ||
        !EVP_DigestFinal_ex(ctx, out, NULL))
        abort(); /* OpenSSL failing on memory: the same policy */
}

void fhir_id_uuid(const void *seed, size_t n, char out[FHIR_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char h[FHIR_SHA256_LEN];
    fhir_id_sha256(seed, n, h);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x50); /* version 5 layout: name-based */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[h[i] >> 4];
        out[o++] = hex[h[i] & 15];
    }
    out[o] = '\0';
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
