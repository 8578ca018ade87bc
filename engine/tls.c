/* tls — OpenSSL contexts for listeners and `solent send`, peer identity, failure reasons. */
#include "engine/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* TLS 1.2's suites: forward secret (ECDHE) and AEAD only. TLS 1.3's are all AEAD. */
#define TLS12_CIPHERS                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static void openssl_reason(char *err, size_t errlen, const char *what, const char *path)
{
    unsigned long e = ERR_peek_last_error();
    snprintf(err, errlen, "%s %s: %s", what, path, e ? ERR_reason_error_string(e) : "unreadable");
    ERR_clear_error();
}

static SSL_CTX *hardened(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* an idle connection holds no buffers */
    /* elliptic curves only for the key exchange: no finite-field groups */
    if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384:X448:P-521") != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* A CRL file (PEM, one or more) into ctx's store, checked for the leaf certificate. */
static int load_crl(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    if (!lookup || X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
        openssl_reason(err, errlen, "crl", path);
        return -1;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    return 0;
}

SSL_CTX *tls_server_ctx(const struct conf_tls *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = hardened(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot make a TLS context");
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1) {
        openssl_reason(err, errlen, "cert", t->cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1) {
        openssl_reason(err, errlen, "key", t->key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "key %s does not match cert %s", t->key, t->cert);
        ERR_clear_error();
        goto fail;
    }
    if (strcmp(t->verify, "none") != 0) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, t->client_ca, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            openssl_reason(err, errlen, "client_ca", t->client_ca);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(
            ctx,
            SSL_VERIFY_PEER |
                (strcmp(t->verify, "require") == 0 ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
            NULL);
        if (t->crl[0] && load_crl(ctx, t->crl, err, errlen) != 0)
            goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = hardened(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if ((ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL)
            : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
        openssl_reason(err, errlen, "ca", ca ? ca : "(system)");
        goto fail;
    }
    if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        openssl_reason(err, errlen, "cert", cert);
        goto fail;
    }
    if (cert && SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1) {
        openssl_reason(err, errlen, "key", key ? key : cert);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void append(char *out, size_t n, const char *s, size_t len)
{
    size_t at = strlen(out);
    if (at && at + 1 < n)
        out[at++] = ',', out[at] = '\0';
    for (size_t i = 0; i < len && at + 1 < n; i++) /* no separators or controls in a log */
        out[at++] = (s[i] == ',' || s[i] == ' ' || (unsigned char)s[i] < 0x20) ? '_' : s[i];
    out[at] = '\0';
}

void tls_peer_identity(SSL *ssl, char *out, size_t n)
{
    out[0] = '\0';
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) {
        X509_free(cert);
        return;
    }
    char cn[256];
    int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (len > 0)
        append(out, n, cn, (size_t)len);
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS || g->type == GEN_URI) {
            const ASN1_IA5STRING *s =
                g->type == GEN_DNS ? g->d.dNSName : g->d.uniformResourceIdentifier;
            append(out, n, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
        }
    }
    GENERAL_NAMES_free(sans);
    X509_free(cert);
}

void tls_failure_reason(SSL *ssl, unsigned long err, char *out, size_t n)
{
    long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (verify != X509_V_OK)
        snprintf(out, n, "%s", X509_verify_cert_error_string(verify));
    else if (err)
        snprintf(out, n, "%s",
                 ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "TLS error");
    else
        snprintf(out, n, "connection closed during handshake");
}
