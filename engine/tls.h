/*
 * tls — TLS for MLLP listeners and the admin endpoint (server side) and for `solent send` (client
 * side), with OpenSSL: TLS 1.2 and 1.3 only, AEAD suites only (TLS 1.2: ECDHE with AES-GCM or
 * ChaCha20-Poly1305), no renegotiation, no compression, no session tickets or cache (every
 * connection a full handshake: nothing to rotate, nothing to steal). Client certificates
 * verified against client_ca, with a CRL when one is configured. Not here: the connection
 * state machine (conn), which peer may send what (the router).
 */
#ifndef SOLENT_ENGINE_TLS_H
#define SOLENT_ENGINE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "engine/conf.h"

struct bufferevent;

/* The server context of t (an MLLP listener's, the admin endpoint's; tls on): its certificate
 * chain and key, and for verify optional/require its client CA and CRL. NULL with the reason
 * in err. */
SSL_CTX *tls_server_ctx(const struct conf_tls *t, char *err, size_t errlen);

/* A client context: TLS 1.2+, AEAD, peer verified against ca (NULL: the system's CAs), with
 * a client certificate and key when cert is not NULL. NULL with the reason in err. */
SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
                        size_t errlen);

/* The verified peer certificate's identity: "CN" then each SAN DNS name and URI, comma
 * separated (empty without a certificate). */
void tls_peer_identity(SSL *ssl, char *out, size_t n);

/* Why a TLS connection failed: the certificate verification result when that failed, else
 * OpenSSL's first error on the bufferevent, else "connection closed during handshake". */
void tls_failure_reason(SSL *ssl, unsigned long err, char *out, size_t n);

#endif
