/*
 * libFuzzer target for what a FHIR server or token endpoint may answer — hostile or
 * broken input like any other: the bytes are a response body given to
 * delivery_classify under a status and entry count taken from the first two bytes,
 * with a Retry-After taken from the body's tail, and to auth_token_parse. Checks that
 * a verdict is always one of the three, that only a success yields Locations, and that
 * a token never carries a line break (it goes into an HTTP header).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/auth.h"
#include "engine/delivery_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 201, 204, 301, 400, 401, 404, 408, 429, 500, 503, 0};
    if (size < 2)
        return 0;
    char retry[32] = "";
    size_t tail = size - 2 < sizeof retry - 1 ? size - 2 : sizeof retry - 1;
    memcpy(retry, data + size - tail, tail);
    retry[tail] = '\0';
    struct strbuf loc;
    strbuf_init(&loc, 1 << 20);
    struct delivery_answer a = {
        .transport_error = data[0] == 255,
        .error = "fuzz",
        .http_status = statuses[data[0] % (sizeof statuses / sizeof *statuses)],
        .body = (const char *)data + 2,
        .body_len = size - 2,
        .retry_after = strlen(retry) == tail ? retry : NULL,
        .request_entries = data[1] % 8,
        .now_ms = 1800000000000LL,
    };
    struct delivery_outcome o;
    delivery_classify(&a, &o, &loc);
    if ((o.verdict != DELIVERY_OK && o.verdict != DELIVERY_RETRY && o.verdict != DELIVERY_DEAD) ||
        (o.verdict != DELIVERY_OK && loc.len) || !memchr(o.reason, 0, sizeof o.reason) ||
        o.retry_after_ms < 0)
        abort();
    strbuf_cleanup(&loc);
    char token[256], err[128];
    int64_t exp;
    if (auth_token_parse((const char *)data + 2, size - 2, token, sizeof token, &exp, err,
                         sizeof err) == 0 &&
        (strpbrk(token, "\r\n") || exp <= 0))
        abort();
    return 0;
}
