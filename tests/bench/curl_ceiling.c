/*
 * solent-curl-ceiling — libcurl's own ceiling, for the delivery benchmark: the requests/s
 * one thread reaches POSTing one body over and over with K transfers in flight, driven
 * exactly as Solent drives libcurl (the multi socket API on a libevent loop, handles
 * kept and reused, the same options), but with no store, no queue and no check of the
 * answer. What Solent does beyond this is its own cost; what this cannot reach, Solent
 * cannot either while it sends with libcurl from one loop thread.
 *
 *   solent-curl-ceiling URL BODY_FILE IN_FLIGHT SECONDS
 *
 * Prints "requests/s N cpu_us_per_request N answers_not_2xx N".
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

struct bench {
    struct event_base *base;
    struct event *timer;
    CURLM *multi;
    const char *url, *body;
    long body_len;
    struct curl_slist *headers;
    long done, bad;
    int stopping, running;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void start(struct bench *b, CURL *e)
{
    if (!e) {
        e = curl_easy_init();
        if (!e)
            abort();
        curl_easy_setopt(e, CURLOPT_URL, b->url);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, b->headers);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, b->body_len);
    }
    b->running++;
    curl_multi_add_handle(b->multi, e);
}

static void check_done(struct bench *b)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(b->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        b->done++;
        b->bad += m->data.result != CURLE_OK || status / 100 != 2;
        curl_multi_remove_handle(b->multi, e);
        b->running--;
        if (b->stopping)
            curl_easy_cleanup(e);
        else
            start(b, e);
    }
    if (b->stopping && b->running == 0)
        event_base_loopbreak(b->base);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;
    int running;
    curl_multi_socket_action(b->multi, fd,
                             (what & EV_READ ? CURL_CSELECT_IN : 0) |
                                 (what & EV_WRITE ? CURL_CSELECT_OUT : 0),
                             &running);
    check_done(b);
}

static int curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct bench *b = userp;
    struct event *ev = socketp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(b->multi, s, NULL);
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
                         (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    if (ev && event_get_events(ev) == kind)
        return 0;
    if (ev) {
        event_del(ev);
        event_assign(ev, b->base, s, kind, on_socket, b);
    } else {
        ev = event_new(b->base, s, kind, on_socket, b);
        curl_multi_assign(b->multi, s, ev);
    }
    event_add(ev, NULL);
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(b->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(b);
}

static int curl_timer(CURLM *m, long ms, void *userp)
{
    struct bench *b = userp;
    (void)m;
    if (ms < 0) {
        evtimer_del(b->timer);
        return 0;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(b->timer, &tv);
    return 0;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;
    (void)fd;
    (void)what;
    b->stopping = 1;
}

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: solent-curl-ceiling URL BODY_FILE IN_FLIGHT SECONDS\n");
        return 2;
    }
    static char body[1 << 20];
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    size_t len = fread(body, 1, sizeof body, f);
    fclose(f);
    int inflight = atoi(argv[3]), seconds = atoi(argv[4]);
    if (inflight < 1 || seconds < 1) {
        fprintf(stderr, "solent-curl-ceiling: IN_FLIGHT and SECONDS must be positive\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct bench b = {.url = argv[1], .body = body, .body_len = (long)len};
    b.base = event_base_new();
    b.multi = curl_multi_init();
    b.timer = evtimer_new(b.base, on_timer, &b);
    struct event *stop = evtimer_new(b.base, on_stop, &b);
    if (!b.base || !b.multi || !b.timer || !stop)
        return 1;
    b.headers = curl_slist_append(NULL, "Content-Type: application/fhir+json");
    b.headers = curl_slist_append(b.headers, "Accept: application/fhir+json");
    b.headers = curl_slist_append(b.headers, "Expect:");
    curl_multi_setopt(b.multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
    curl_multi_setopt(b.multi, CURLMOPT_SOCKETDATA, &b);
    curl_multi_setopt(b.multi, CURLMOPT_TIMERFUNCTION, curl_timer);
    curl_multi_setopt(b.multi, CURLMOPT_TIMERDATA, &b);
    /* a first second to open the connections, then the measured run */
    struct timeval warm = {1, 0}, run = {seconds, 0};
    for (int i = 0; i < inflight; i++)
        start(&b, NULL);
    event_base_loopexit(b.base, &warm);
    event_base_dispatch(b.base);
    long done0 = b.done;
    double t0 = now_s(), c0 = cpu_s();
    evtimer_add(stop, &run);
    event_base_dispatch(b.base);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    long n = b.done - done0;
    printf("requests/s %.0f cpu_us_per_request %.0f answers_not_2xx %ld\n", n / secs,
           n ? cpu / (double)n * 1e6 : 0.0, b.bad);
    curl_slist_free_all(b.headers);
    event_free(stop);
    event_free(b.timer);
    curl_multi_cleanup(b.multi);
    event_base_free(b.base);
    curl_global_cleanup();
    return b.bad ? 1 : 0;
}
