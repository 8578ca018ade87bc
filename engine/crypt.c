/* crypt — AES-256-GCM values and HMAC-SHA-256 hashes under a keyring read from a file. */
#include "engine/crypt.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sealed value starts with NUL: no stored message (MLLP or HL7), bundle (JSON) or server
 * answer does. */
static const unsigned char magic[3] = {0x00, 'S', 'E'};
#define NONCE_LEN 12
#define TAG_LEN   16
#define HEAD_LEN  (sizeof magic + 1 + NONCE_LEN)

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static const unsigned char *key_of(const struct keyring *kr, unsigned id)
{
    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].id == id)
            return kr->keys[i].key;
    return NULL;
}

/* The lines "ID HEX" of text into kr; -1 with a reason. */
static int parse_lines(char *text, struct keyring *kr, char *err, size_t errlen)
{
    int line = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        line++;
        while (*l == ' ' || *l == '\t')
            l++;
        if (!*l || *l == '#')
            continue;
        char *end;
        long id = strtol(l, &end, 10);
        char *hex = end;
        while (*hex == ' ' || *hex == '\t')
            hex++;
        size_t len = strcspn(hex, " \t\r");
        if (end == l || id < 1 || id > 255 || len != 2 * CRYPT_KEY_LEN) {
            snprintf(err, errlen, "line %d: a key line is \"ID HEX\" (ID 1-255, 64 hex digits)",
                     line);
            return -1;
        }
        if (kr->n == CRYPT_MAX_KEYS || key_of(kr, (unsigned)id)) {
            snprintf(err, errlen, "line %d: key %ld listed twice, or more than %d keys", line, id,
                     CRYPT_MAX_KEYS);
            return -1;
        }
        for (size_t i = 0; i < CRYPT_KEY_LEN; i++) {
            int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                snprintf(err, errlen, "line %d: the key is not hex", line);
                return -1;
            }
            kr->keys[kr->n].key[i] = (unsigned char)(hi << 4 | lo);
        }
        kr->keys[kr->n++].id = (unsigned)id;
    }
    return 0;
}

int keyring_load(const char *spec, struct keyring *kr, char *err, size_t errlen)
{
    memset(kr, 0, sizeof *kr);
    if (strncmp(spec, "file:", 5) != 0) {
        snprintf(err, errlen,
                 "encryption_key must be file:PATH (a key is never written in the "
                 "configuration)");
        return -1;
    }
    const char *path = spec + 5;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "encryption_key %s: %s", path, strerror(errno));
        return -1;
    }
    char buf[CRYPT_MAX_KEYS * 80 + 64];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    buf[n] = '\0';
    int rc = 0;
    if (more) {
        snprintf(err, errlen, "encryption_key %s: too long for a key file", path);
        rc = -1;
    } else if (n == CRYPT_KEY_LEN && memchr(buf, '\0', n)) { /* 32 raw bytes (binary) */
        kr->keys[0].id = 1;
        memcpy(kr->keys[0].key, buf, CRYPT_KEY_LEN);
        kr->n = 1;
    } else if (n == CRYPT_KEY_LEN && strspn(buf, "0123456789abcdefABCDEF \t#\n") != n) {
        kr->keys[0].id = 1; /* 32 raw bytes that happen to hold no NUL */
        memcpy(kr->keys[0].key, buf, CRYPT_KEY_LEN);
        kr->n = 1;
    } else {
        char why[160];
        if (parse_lines(buf, kr, why, sizeof why) != 0) {
            snprintf(err, errlen, "encryption_key %s: %s", path, why);
            rc = -1;
        } else if (kr->n == 0) {
            snprintf(err, errlen, "encryption_key %s: no key in it", path);
            rc = -1;
        }
    }
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc != 0) {
        keyring_wipe(kr);
        return -1;
    }
    unsigned lowest = kr->keys[0].id;
    for (size_t i = 0; i < kr->n; i++) {
        if (kr->keys[i].id > kr->newest)
            kr->newest = kr->keys[i].id;
        if (kr->keys[i].id < lowest)
            lowest = kr->keys[i].id;
    }
    unsigned int len = CRYPT_KEY_LEN;
    static const char label[] = "solent keyed hash v1";
    HMAC(EVP_sha256(), key_of(kr, lowest), CRYPT_KEY_LEN, (const unsigned char *)label,
         sizeof label - 1, kr->hash_key, &len);
    return 0;
}

void keyring_wipe(struct keyring *kr)
{
    OPENSSL_cleanse(kr, sizeof *kr);
}

struct crypt {
    struct keyring kr;
    EVP_CIPHER *aes;         /* AES-256-GCM, fetched once */
    EVP_CIPHER_CTX *seal;    /* keyed with the newest key: each value sets only its nonce */
    EVP_CIPHER_CTX *open;    /* keyed with open_id's key */
    unsigned open_id;        /* 0: not keyed yet */
    EVP_MAC *mac;            /* HMAC */
    EVP_MAC_CTX *hmac;       /* keyed with the hash key, SHA-256 */
    unsigned char prefix[8]; /* the nonces: 8 random bytes, then a 4-byte count: unique under */
    uint32_t count;          /* one key without a random draw per value (a new prefix at 2^32) */
};

struct crypt *crypt_new(const struct keyring *kr)
{
    struct crypt *c = calloc(1, sizeof *c);
    if (!c)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    c->kr = *kr;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (RAND_bytes(c->prefix, sizeof c->prefix) != 1 ||
        !(c->aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) ||
        !(c->seal = EVP_CIPHER_CTX_new()) || !(c->open = EVP_CIPHER_CTX_new()) ||
        EVP_EncryptInit_ex2(c->seal, c->aes, key_of(kr, kr->newest), NULL, NULL) != 1 ||
        !(c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(c->hmac = EVP_MAC_CTX_new(c->mac)) ||
        EVP_MAC_init(c->hmac, kr->hash_key, CRYPT_KEY_LEN, params) != 1) {
        crypt_free(c);
        return NULL;
    }
    return c;
}

void crypt_free(struct crypt *c)
{
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->seal);
    EVP_CIPHER_CTX_free(c->open);
    EVP_CIPHER_free(c->aes);
    EVP_MAC_CTX_free(c->hmac);
    EVP_MAC_free(c->mac);
    keyring_wipe(&c->kr);
    free(c);
}

unsigned crypt_newest(const struct crypt *c)
{
    return c->kr.newest;
}

int crypt_has_key(const struct crypt *c, unsigned id)
{
    return key_of(&c->kr, id) != NULL;
}

int crypt_seal(struct crypt *c, const char *aad, const void *p, size_t n, struct strbuf *out)
{
    unsigned char head[HEAD_LEN], tag[TAG_LEN];
    memcpy(head, magic, sizeof magic);
    head[sizeof magic] = (unsigned char)c->kr.newest;
    if (c->count == UINT32_MAX) { /* 2^32 nonces of this prefix: a fresh one */
        if (RAND_bytes(c->prefix, sizeof c->prefix) != 1)
            return -1;
        c->count = 0;
    }
    uint32_t k = c->count++;
    unsigned char *nonce = head + sizeof magic + 1;
    memcpy(nonce, c->prefix, sizeof c->prefix);
    nonce[8] = (unsigned char)(k >> 24), nonce[9] = (unsigned char)(k >> 16);
    nonce[10] = (unsigned char)(k >> 8), nonce[11] = (unsigned char)k;
    if (n > INT32_MAX)
        return -1;
    int len, ok = EVP_EncryptInit_ex2(c->seal, NULL, NULL, head + sizeof magic + 1, NULL) == 1 &&
                  EVP_EncryptUpdate(c->seal, NULL, &len, (const unsigned char *)aad,
                                    (int)strlen(aad)) == 1;
    size_t at = out->len;
    ok = ok && strbuf_append(out, (const char *)head, HEAD_LEN) == 0 &&
         strbuf_reserve(out, out->len + n + TAG_LEN) == 0;
    if (ok) {
        unsigned char *dst = (unsigned char *)out->p + out->len;
        ok = EVP_EncryptUpdate(c->seal, dst, &len, p, (int)n) == 1 && (size_t)len == n &&
             EVP_EncryptFinal_ex(c->seal, dst + len, &len) == 1 &&
             EVP_CIPHER_CTX_ctrl(c->seal, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
        if (ok) {
            out->len += n;
            ok = strbuf_append(out, (const char *)tag, TAG_LEN) == 0;
        }
    }
    if (!ok)
        out->len = at;
    return ok ? 0 : -1;
}

unsigned crypt_key_of(const void *p, size_t n)
{
    return n >= HEAD_LEN + TAG_LEN && memcmp(p, magic, sizeof magic) == 0
               ? ((const unsigned char *)p)[sizeof magic]
               : 0;
}

int crypt_open(struct crypt *c, const char *aad, const void *p, size_t n, struct strbuf *out)
{
    unsigned id = crypt_key_of(p, n);
    if (!id)
        return strbuf_append(out, p, n);
    const unsigned char *key = c ? key_of(&c->kr, id) : NULL, *in = p;
    size_t body = n - HEAD_LEN - TAG_LEN;
    if (!key || body > INT32_MAX || strbuf_reserve(out, out->len + body + 1) != 0)
        return -1;
    int len, ok = 1;
    if (c->open_id != id) { /* the key schedule only when the key changes */
        ok = EVP_DecryptInit_ex2(c->open, c->aes, key, NULL, NULL) == 1;
        c->open_id = ok ? id : 0;
    }
    unsigned char *dst = (unsigned char *)out->p + out->len;
    ok =
        ok && EVP_DecryptInit_ex2(c->open, NULL, NULL, in + sizeof magic + 1, NULL) == 1 &&
        EVP_DecryptUpdate(c->open, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
        EVP_DecryptUpdate(c->open, dst, &len, in + HEAD_LEN, (int)body) == 1 &&
        EVP_CIPHER_CTX_ctrl(c->open, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                            (void *)(in + HEAD_LEN + body)) == 1 &&
        EVP_DecryptFinal_ex(c->open, dst + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(dst, body);
        return -1;
    }
    out->len += body;
    out->p[out->len] = '\0';
    return 0;
}

void crypt_hash(struct crypt *c, const void *p, size_t n, unsigned char out[32])
{
    size_t len = 0;
    if (EVP_MAC_init(c->hmac, NULL, 0, NULL) != 1 || EVP_MAC_update(c->hmac, p, n) != 1 ||
        EVP_MAC_final(c->hmac, out, &len, 32) != 1 || len != 32)
        abort(); /* a keyed hash that cannot be computed: nothing sound can be stored */
}

void crypt_hash_hex(struct crypt *c, const void *p, size_t n, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char h[32];
    crypt_hash(c, p, n, h);
    for (int i = 0; i < 32; i++)
        out[2 * i] = digits[h[i] >> 4], out[2 * i + 1] = digits[h[i] & 15];
    out[64] = '\0';
}
