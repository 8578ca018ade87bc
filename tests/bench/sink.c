/*
 * solent-sink — the smallest HTTP server Solent can deliver to, for the delivery
 * benchmark: every request is answered 200 with one fixed transaction-response of
 * ENTRIES entries (each "201 Created" with a Location). Nothing is parsed or kept, so
 * its ceiling (measured with wrk) is the network's and libevent's, not a FHIR
 * server's.
 *
 *   solent-sink PORT [ENTRIES]     (127.0.0.1 only; stops on SIGTERM or SIGINT)
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char answer[1 << 16];
static size_t answer_len;

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add_reference(out, answer, answer_len, NULL, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/fhir+json");
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *base)
{
    (void)sig;
    (void)what;
    event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: solent-sink PORT [ENTRIES]\n");
        return 2;
    }
    int port = atoi(argv[1]), entries = argc > 2 ? atoi(argv[2]) : 4;
    size_t n = (size_t)snprintf(answer, sizeof answer,
                                "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\","
                                "\"entry\":[");
    for (int i = 0; i < entries && n < sizeof answer - 128; i++)
        n += (size_t)snprintf(answer + n, sizeof answer - n,
                              "%s{\"response\":{\"status\":\"201 Created\",\"location\":"
                              "\"Resource/%d/_history/1\"}}",
                              i ? "," : "", i);
    n += (size_t)snprintf(answer + n, sizeof answer - n, "]}");
    answer_len = n;
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (!http || evhttp_bind_socket(http, "127.0.0.1", (unsigned short)port) != 0) {
        fprintf(stderr, "solent-sink: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    evhttp_set_max_body_size(http, 64 << 20);
    evhttp_set_gencb(http, on_request, NULL);
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    printf("listening %d\n", port);
    fflush(stdout);
    event_base_dispatch(base);
    event_free(term);
    event_free(intr);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
