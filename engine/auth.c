/* auth — token requests: client credentials and SMART Backend Services assertions. */
#include "engine/auth.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <curl/curl.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/log.h"

int auth_uses_token(const struct conf_destination *cd)
{
    return strcmp(cd->auth, "oauth2_client_credentials") == 0 ||
           strcmp(cd->auth, "smart_backend") == 0;
}

/* Appends the base64url form (no padding) of n bytes. */
static void b64url(struct strbuf *out, const unsigned char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        strbuf_putc(out, a[(v >> 18) & 63]);
        strbuf_putc(out, a[(v >> 12) & 63]);
        if (i + 1 < n)
            strbuf_putc(out, a[(v >> 6) & 63]);
        if (i + 2 < n)
            strbuf_putc(out, a[v & 63]);
    }
}

static void b64url_json(struct strbuf *out, cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    if (!text)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    b64url(out, (const unsigned char *)text, strlen(text));
    free(text);
    cJSON_Delete(j);
}

/* ECDSA signatures come as DER; JWS wants R and S as two 48-byte big-endian numbers. */
static int ecdsa_raw(const unsigned char *der, size_t len, unsigned char raw[96])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig)
        return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, 48) == 48 && BN_bn2binpad(s, raw + 48, 48) == 48;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

int auth_client_assertion(const char *alg, const char *key_pem_path, const char *kid,
                          const char *client_id, const char *token_url, int64_t now_s,
                          struct strbuf *out, char *err, size_t errlen)
{
    bool es = strcmp(alg, "ES384") == 0;
    if (!es && strcmp(alg, "RS384") != 0) {
        snprintf(err, errlen, "alg %s: RS384 or ES384", alg);
        return -1;
    }
    FILE *f = fopen(key_pem_path, "r");
    if (!f) {
        snprintf(err, errlen, "private key %s cannot be read", key_pem_path);
        return -1;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key || EVP_PKEY_base_id(key) != (es ? EVP_PKEY_EC : EVP_PKEY_RSA)) {
        snprintf(err, errlen, "private key %s is not %s PEM key", key_pem_path,
                 es ? "an EC (P-384)" : "an RSA");
        EVP_PKEY_free(key);
        return -1;
    }
    unsigned char jti[16];
    char jti_hex[33];
    if (RAND_bytes(jti, sizeof jti) != 1) {
        snprintf(err, errlen, "no randomness for the jti");
        EVP_PKEY_free(key);
        return -1;
    }
    for (size_t i = 0; i < sizeof jti; i++)
        snprintf(jti_hex + 2 * i, 3, "%02x", jti[i]);
    cJSON *h = cJSON_CreateObject(), *c = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "alg", alg);
    cJSON_AddStringToObject(h, "typ", "JWT");
    if (kid && *kid)
        cJSON_AddStringToObject(h, "kid", kid);
    cJSON_AddStringToObject(c, "iss", client_id);
    cJSON_AddStringToObject(c, "sub", client_id);
    cJSON_AddStringToObject(c, "aud", token_url);
    cJSON_AddNumberToObject(c, "iat", (double)now_s);
    cJSON_AddNumberToObject(c, "exp", (double)(now_s + 300));
    cJSON_AddStringToObject(c, "jti", jti_hex);
    size_t start = out->len;
    b64url_json(out, h);
    strbuf_putc(out, '.');
    b64url_json(out, c);
    unsigned char sig[1024], raw[96];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->p + start,
                            out->len - start) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (ok && es)
        ok = ecdsa_raw(sig, siglen, raw) == 0;
    if (!ok) {
        snprintf(err, errlen, "signing the client assertion failed");
        return -1;
    }
    strbuf_putc(out, '.');
    b64url(out, es ? raw : sig, es ? sizeof raw : siglen);
    return 0;
}

static void form_add(struct strbuf *form, const char *name, const char *value)
{
    char *v = curl_easy_escape(NULL, value, 0);
    if (!v)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    if (form->len)
        strbuf_putc(form, '&');
    strbuf_puts(form, name);
    strbuf_putc(form, '=');
    strbuf_puts(form, v);
    curl_free(v);
}

int auth_token_form(const struct conf_destination *cd, const char *secret, int64_t now_s,
                    struct strbuf *form, char *err, size_t errlen)
{
    form_add(form, "grant_type", "client_credentials");
    if (cd->scope[0])
        form_add(form, "scope", cd->scope);
    if (strcmp(cd->auth, "smart_backend") == 0) {
        struct strbuf jwt;
        strbuf_init(&jwt, 1 << 16);
        int rc = auth_client_assertion(cd->alg, cd->private_key, cd->kid, cd->client_id,
                                       cd->token_url, now_s, &jwt, err, errlen);
        if (rc == 0) {
            form_add(form, "client_assertion_type",
                     "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
            form_add(form, "client_assertion", jwt.p);
        }
        strbuf_cleanup(&jwt);
        return rc;
    }
    if (strcmp(cd->client_auth, "post") == 0) {
        form_add(form, "client_id", cd->client_id);
        form_add(form, "client_secret", secret);
    }
    return 0;
}

int auth_token_parse(const char *body, size_t len, char *token, size_t token_len,
                     int64_t *expires_in_s, char *err, size_t errlen)
{
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(j, "error");
    int rc = -1;
    if (cJSON_IsString(t) && t->valuestring[0] && strlen(t->valuestring) < token_len &&
        !strpbrk(t->valuestring, "\r\n")) {
        snprintf(token, token_len, "%s", t->valuestring);
        *expires_in_s = cJSON_IsNumber(e) && e->valuedouble > 0 ? (int64_t)e->valuedouble : 3600;
        rc = 0;
    } else if (cJSON_IsString(why)) { /* an OAuth error code: invalid_client, ... */
        snprintf(err, errlen, "token endpoint error %.64s", why->valuestring);
    } else {
        snprintf(err, errlen, "token endpoint answer has no access_token");
    }
    cJSON_Delete(j);
    return rc;
}

/* Reads a secret from env:VARIABLE or file:PATH into out; -1 with a reason (no secret). */
int auth_read_secret(const char *spec, char *out, size_t n, char *why, size_t whylen)
{
    out[0] = '\0';
    if (strncmp(spec, "env:", 4) == 0) {
        const char *v = getenv(spec + 4);
        if (!v || !*v) {
            snprintf(why, whylen, "environment variable %s is not set", spec + 4);
            return -1;
        }
        if (strlen(v) >= n) {
            snprintf(why, whylen, "environment variable %s is longer than %zu bytes", spec + 4,
                     n - 1);
            return -1;
        }
        snprintf(out, n, "%s", v);
        return 0;
    }
    FILE *f = fopen(spec + 5, "r");
    if (!f) {
        snprintf(why, whylen, "%s: %s", spec + 5, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        log_warn("secret_file_open_to_others", "file=%s mode=%o", spec + 5,
                 (unsigned)(st.st_mode & 0777));
    size_t got = fread(out, 1, n - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    out[got] = '\0';
    size_t len = strcspn(out, "\r\n");
    if (more && len == got) {
        snprintf(why, whylen, "%s holds more than %zu bytes", spec + 5, n - 1);
        out[0] = '\0';
        return -1;
    }
    out[len] = '\0';
    if (!out[0]) {
        snprintf(why, whylen, "%s is empty", spec + 5);
        return -1;
    }
    return 0;
}
