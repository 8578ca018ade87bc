/*
 * auth — what a destination's token endpoint is sent and answers (OAuth 2.0
 * client credentials, RFC 6749 4.4; SMART Backend Services, whose client proves
 * itself with a private_key_jwt assertion, RFC 7523, signed RS384 or ES384 with
 * OpenSSL). No I/O but reading the private key file: delivery sends the request
 * and caches the token.
 */
#ifndef SOLENT_ENGINE_AUTH_H
#define SOLENT_ENGINE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/conf.h"
#include "parsers/strbuf.h"

/* Reads a secret from env:VARIABLE or file:PATH (its first line; a file others may read is
 * logged) into out; -1 with a reason (no secret). */
int auth_read_secret(const char *spec, char *out, size_t n, char *why, size_t whylen);

/* The room a secret has (a password, a bearer token, a client secret, the admin token): a
 * longer one is refused with a reason, never cut short. */
#define AUTH_SECRET_MAX 8192
/* Whether cd's auth fetches tokens from a token endpoint. */
int auth_uses_token(const struct conf_destination *cd);

/* The signed client assertion: header {alg, typ, kid}, claims iss = sub = client_id,
 * aud = token_url, iat = now, exp = now + 300 s, a random jti. alg: RS384 or ES384
 * (the key's type must match). Appends the compact JWS to out; -1 with a reason. */
int auth_client_assertion(const char *alg, const char *key_pem_path, const char *kid,
                          const char *client_id, const char *token_url, int64_t now_s,
                          struct strbuf *out, char *err, size_t errlen);

/* The form body of a token request for cd at now_s (secret: the client secret, for
 * oauth2_client_credentials with client_auth = post); -1 with a reason. For client_auth =
 * basic the caller sends client_id and the secret as HTTP Basic credentials. */
int auth_token_form(const struct conf_destination *cd, const char *secret, int64_t now_s,
                    struct strbuf *form, char *err, size_t errlen);

/* Reads a token endpoint's JSON answer: the access token and its lifetime in seconds
 * (3600 when the answer gives none); -1 with a reason: the endpoint's error code, never the
 * body. */
int auth_token_parse(const char *body, size_t len, char *token, size_t token_len,
                     int64_t *expires_in_s, char *err, size_t errlen);

#endif
