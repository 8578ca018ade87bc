/*
 * Unit tests for engine/auth: SMART Backend Services client assertions (RS384 and ES384)
 * checked by OpenSSL's own verification with the public key, their claims (iss = sub =
 * client id, aud = token URL, exp - iat = 300 s, a fresh jti each time, kid), keys of the
 * wrong type refused; token request forms; token endpoint answers.
 */
#include <cjson/cJSON.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/auth.h"
#include "tests/unit/testutil.h"

static char rsa_path[64], ec_path[64];
static EVP_PKEY *rsa, *ec;

static void write_key(EVP_PKEY *k, char *path)
{
    snprintf(path, 64, "/tmp/solent-key-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

static void setup(void)
{
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    ck_assert_ptr_nonnull(rsa);
    ck_assert_ptr_nonnull(ec);
    write_key(rsa, rsa_path);
    write_key(ec, ec_path);
}

static void teardown(void)
{
    unlink(rsa_path);
    unlink(ec_path);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

/* base64url without padding → bytes; returns the length. */
static size_t unb64url(const char *s, size_t n, unsigned char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t v = 0;
    int bits = 0;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(a, s[i]);
        ck_assert_msg(at && s[i], "not base64url");
        v = (v << 6) | (uint32_t)(at - a);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(v >> bits);
        }
    }
    return len;
}

static cJSON *part_json(const char *s, size_t n)
{
    unsigned char buf[4096];
    size_t len = unb64url(s, n, buf);
    cJSON *j = cJSON_ParseWithLength((const char *)buf, len);
    ck_assert_ptr_nonnull(j);
    return j;
}

static const char *str(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    ck_assert_msg(cJSON_IsString(v), "%s is not a string", k);
    return v->valuestring;
}

/* Checks a compact JWS made by auth_client_assertion with OpenSSL; returns its jti. */
static void check_assertion(const char *jws, EVP_PKEY *key, const char *alg, char *jti)
{
    const char *dot1 = strchr(jws, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    ck_assert_ptr_nonnull(dot2);
    cJSON *h = part_json(jws, (size_t)(dot1 - jws));
    cJSON *c = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    ck_assert_str_eq(str(h, "alg"), alg);
    ck_assert_str_eq(str(h, "typ"), "JWT");
    ck_assert_str_eq(str(h, "kid"), "key-1");
    ck_assert_str_eq(str(c, "iss"), "solent");
    ck_assert_str_eq(str(c, "sub"), "solent");
    ck_assert_str_eq(str(c, "aud"), "https://auth.example.nhs.uk/token");
    ck_assert_int_eq((int)cJSON_GetObjectItem(c, "iat")->valuedouble, 1800000000);
    ck_assert_int_eq((int)cJSON_GetObjectItem(c, "exp")->valuedouble, 1800000300);
    ck_assert_uint_eq(strlen(str(c, "jti")), 32);
    strcpy(jti, str(c, "jti"));
    cJSON_Delete(h);
    cJSON_Delete(c);
    unsigned char sig[1024], der[256];
    size_t siglen = unb64url(dot2 + 1, strlen(dot2 + 1), sig);
    const unsigned char *verify = sig;
    if (strcmp(alg, "ES384") == 0) { /* JWS R||S → DER for OpenSSL */
        ck_assert_uint_eq(siglen, 96);
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 48, NULL), BN_bin2bn(sig + 48, 48, NULL));
        unsigned char *p = der;
        siglen = (size_t)i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        verify = der;
    } else {
        ck_assert_uint_eq(siglen, 256);
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key), 1);
    ck_assert_int_eq(
        EVP_DigestVerify(md, verify, siglen, (const unsigned char *)jws, (size_t)(dot2 - jws)), 1);
    /* and a changed byte of the claims no longer verifies */
    char *tampered = strdup(jws);
    tampered[dot1 - jws + 5] ^= 1;
    ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key), 1);
    ck_assert_int_ne(
        EVP_DigestVerify(md, verify, siglen, (const unsigned char *)tampered, (size_t)(dot2 - jws)),
        1);
    free(tampered);
    EVP_MD_CTX_free(md);
}

START_TEST(test_assertions_verify)
{
    const char *algs[] = {"RS384", "ES384"};
    const char *paths[] = {rsa_path, ec_path};
    EVP_PKEY *keys[] = {rsa, ec};
    for (int i = 0; i < 2; i++) {
        char jti1[64], jti2[64], err[256];
        struct strbuf a, b;
        strbuf_init(&a, 1 << 16);
        strbuf_init(&b, 1 << 16);
        ck_assert_int_eq(auth_client_assertion(algs[i], paths[i], "key-1", "solent",
                                               "https://auth.example.nhs.uk/token", 1800000000, &a,
                                               err, sizeof err),
                         0);
        ck_assert_int_eq(auth_client_assertion(algs[i], paths[i], "key-1", "solent",
                                               "https://auth.example.nhs.uk/token", 1800000000, &b,
                                               err, sizeof err),
                         0);
        check_assertion(a.p, keys[i], algs[i], jti1);
        check_assertion(b.p, keys[i], algs[i], jti2);
        ck_assert_str_ne(jti1, jti2); /* never the same jti twice */
        strbuf_cleanup(&a);
        strbuf_cleanup(&b);
    }
}
END_TEST

START_TEST(test_assertion_errors)
{
    char err[256];
    struct strbuf a;
    strbuf_init(&a, 1 << 16);
    ck_assert_int_eq(auth_client_assertion("ES384", rsa_path, "", "c", "u", 1, &a, err, sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "not an EC"));
    ck_assert_int_eq(auth_client_assertion("RS384", ec_path, "", "c", "u", 1, &a, err, sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "not an RSA"));
    ck_assert_int_eq(auth_client_assertion("HS256", rsa_path, "", "c", "u", 1, &a, err, sizeof err),
                     -1);
    ck_assert_int_eq(
        auth_client_assertion("RS384", "/nonexistent.pem", "", "c", "u", 1, &a, err, sizeof err),
        -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot be read"));
    strbuf_cleanup(&a);
}
END_TEST

START_TEST(test_forms)
{
    struct conf_destination cd = {.auth = "oauth2_client_credentials",
                                  .client_id = "solent id",
                                  .client_auth = "post",
                                  .scope = "system/*.write",
                                  .token_url = "https://auth.example/token"};
    char err[256];
    struct strbuf f;
    strbuf_init(&f, 1 << 16);
    ck_assert_int_eq(auth_token_form(&cd, "s&cret", 1, &f, err, sizeof err), 0);
    ck_assert_str_eq(f.p, "grant_type=client_credentials&scope=system%2F%2A.write"
                          "&client_id=solent%20id&client_secret=s%26cret");
    strbuf_reset(&f);
    strcpy(cd.client_auth, "basic"); /* the secret goes in the Authorization header */
    ck_assert_int_eq(auth_token_form(&cd, "s&cret", 1, &f, err, sizeof err), 0);
    ck_assert_str_eq(f.p, "grant_type=client_credentials&scope=system%2F%2A.write");
    strbuf_reset(&f);
    strcpy(cd.auth, "smart_backend");
    strcpy(cd.alg, "ES384");
    strcpy(cd.private_key, ec_path);
    ck_assert_int_eq(auth_token_form(&cd, "", 1, &f, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(f.p, "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
                                      "client-assertion-type%3Ajwt-bearer&client_assertion=ey"));
    ck_assert_ptr_null(strstr(f.p, "client_secret"));
    strbuf_cleanup(&f);
}
END_TEST

START_TEST(test_token_answers)
{
    char tok[64], err[128];
    int64_t exp = 0;
    const char *ok = "{\"access_token\":\"abc\",\"token_type\":\"bearer\",\"expires_in\":300}";
    ck_assert_int_eq(auth_token_parse(ok, strlen(ok), tok, sizeof tok, &exp, err, sizeof err), 0);
    ck_assert_str_eq(tok, "abc");
    ck_assert_int_eq(exp, 300);
    const char *noexp = "{\"access_token\":\"abc\"}";
    ck_assert_int_eq(auth_token_parse(noexp, strlen(noexp), tok, sizeof tok, &exp, err, sizeof err),
                     0);
    ck_assert_int_eq(exp, 3600);
    const char *bad = "{\"error\":\"invalid_client\",\"error_description\":\"jti reused\"}";
    ck_assert_int_eq(auth_token_parse(bad, strlen(bad), tok, sizeof tok, &exp, err, sizeof err),
                     -1);
    ck_assert_str_eq(err, "token endpoint error invalid_client");
    ck_assert_int_eq(auth_token_parse("<html>", 6, tok, sizeof tok, &exp, err, sizeof err), -1);
    const char *crlf = "{\"access_token\":\"a\\r\\nX-Evil: 1\"}"; /* no header injection */
    ck_assert_int_eq(auth_token_parse(crlf, strlen(crlf), tok, sizeof tok, &exp, err, sizeof err),
                     -1);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_assertions_verify);
    tcase_add_test(tc, test_assertion_errors);
    tcase_add_test(tc, test_forms);
    tcase_add_test(tc, test_token_answers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(auth_suite());
}
