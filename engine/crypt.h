/*
 * crypt — encryption at rest: a keyring of AES-256 keys read from a file, values sealed with
 * AES-256-GCM (a unique nonce each: 8 random bytes drawn per process, then a count; the row
 * and column as associated data so a value cannot be moved to another row), and a keyed hash
 * (HMAC-SHA-256) for what must be compared without being readable (the duplicate check's content
 * hash, the patient ordering key).
 *
 * The key file (`[store] encryption_key = file:PATH`) holds 32 raw bytes (key 1), or lines
 * "ID HEX" (ID 1-255, HEX 64 hex digits), several for rotation: new values are sealed with
 * the highest ID; every listed key opens what it sealed. The keyed hash uses the lowest ID's
 * key (derived), so comparisons hold across rotations while that key stays listed.
 */
#ifndef SOLENT_ENGINE_CRYPT_H
#define SOLENT_ENGINE_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/strbuf.h"

struct crypt;

#define CRYPT_MAX_KEYS 16
#define CRYPT_KEY_LEN  32

struct keyring {
    struct {
        unsigned id;
        unsigned char key[CRYPT_KEY_LEN];
    } keys[CRYPT_MAX_KEYS];
    size_t n;
    unsigned newest;                       /* the id new values are sealed with */
    unsigned char hash_key[CRYPT_KEY_LEN]; /* for crypt_hash */
};

/* Reads spec ("file:PATH") into kr; -1 with the reason (never a key's bytes) in err. */
int keyring_load(const char *spec, struct keyring *kr, char *err, size_t errlen);
/* Zeroes kr. */
void keyring_wipe(struct keyring *kr);

/* What seals, opens and hashes with a keyring's keys: its contexts made once (the cipher,
 * the newest key's schedule, the keyed hash), for one thread. NULL when they cannot be made. */
struct crypt *crypt_new(const struct keyring *kr);
/* Frees c and wipes its keys; NULL is fine. */
void crypt_free(struct crypt *c);
/* The id new values are sealed with. */
unsigned crypt_newest(const struct crypt *c);
/* Whether the keyring has key id. */
int crypt_has_key(const struct crypt *c, unsigned id);

/* Appends to out the sealed form of p: magic, key id, nonce, ciphertext, tag. 0 or -1. */
int crypt_seal(struct crypt *c, const char *aad, const void *p, size_t n, struct strbuf *out);
/* Appends to out what p holds: opened when sealed, as is when it is not (a value stored before
 * a key was set; c may be NULL for those). -1 when it is sealed and does not open (a wrong
 * key, a moved value). */
int crypt_open(struct crypt *c, const char *aad, const void *p, size_t n, struct strbuf *out);
/* Whether p is sealed, and with which key (0: not sealed). */
unsigned crypt_key_of(const void *p, size_t n);
/* HMAC-SHA-256 of p under the keyring's hash key, raw (32 bytes). */
void crypt_hash(struct crypt *c, const void *p, size_t n, unsigned char out[32]);
/* The same as 64 hex digits (out: 65 bytes). */
void crypt_hash_hex(struct crypt *c, const void *p, size_t n, char out[65]);

#endif
