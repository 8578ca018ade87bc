/*
 * cmd_send — `solent send`: sends messages over MLLP and waits for each ACK.
 *
 * N connections (threads with blocking sockets) take messages from one shared
 * sequence; with --rate the sequence is paced (message k leaves at start + k/R,
 * so latency is measured under an offered load, not a closed loop); with
 * --count the loaded messages are cycled and each copy gets a fresh MSH-10.
 * Prints each message's ACK code (short runs), a progress line each second on
 * long runs, and a summary with the ACK latency percentiles. With --tls each connection is
 * TLS 1.2+ to a server whose certificate verifies against --ca (else the system's CAs) and
 * names --servername (else HOST), with a client certificate when --cert is given.
 */
#include "engine/cmd_send.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "engine/cli_files.h"
#include "engine/tls.h"
#include "parsers/grow.h"
#include "parsers/mllp.h"

enum outcome { OUT_ACCEPT, OUT_ERROR, OUT_REJECT, OUT_NO_ACK, OUT_NOT_SENT, OUT_N };
static const char *const outcome_names[OUT_N] = {"accepted", "error", "rejected", "no ACK",
                                                 "not sent"};

/* The largest message sent: what the inputs can hold (cli_files reads files of at most
 * 64 MiB), with room for a fresh MSH-10 and the frame. */
#define SEND_MAX ((64u << 20) + 4096)

struct send_job {
    const struct cli_corpus *corpus;
    const char *host, *port;
    size_t total, connections;
    double rate, timeout, t0;
    bool fresh_ids, verbose;
    SSL_CTX *tls;           /* --tls: the client context, else NULL */
    const char *servername; /* the name the server's certificate must carry */
    long run_id;
    atomic_size_t next, done;
    atomic_size_t counts[OUT_N];
    pthread_mutex_t lock; /* guards lat and printing */
    double *lat;          /* seconds, one per ACK received */
    size_t nlat, latcap;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connection: its socket, and its TLS session when --tls. */
struct link {
    int fd;
    SSL *ssl;
};

static void hang_up(struct link *l)
{
    if (l->ssl) {
        SSL_shutdown(l->ssl);
        SSL_free(l->ssl);
    }
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->ssl = NULL;
}

static int dial(const struct send_job *j)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(j->host, j->port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        struct timeval tv = {(time_t)j->timeout,
                             (long)((j->timeout - (double)(time_t)j->timeout) * 1e6)};
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    return fd;
}

/* Message k: the corpus message, with a fresh MSH-10 when asked; -1 when it does not fit. */
static int build_message(const struct send_job *j, size_t k, struct strbuf *out)
{
    const char *p = j->corpus->data[k % j->corpus->n];
    size_t n = j->corpus->len[k % j->corpus->n];
    strbuf_reset(out);
    size_t start = 0, end = 0, seps = 0;
    if (j->fresh_ids && n > 8 && memcmp(p, "MSH", 3) == 0) {
        char sep = p[3];
        for (size_t i = 3; i < n && p[i] != '\r' && p[i] != '\n'; i++) {
            if (p[i] != sep)
                continue;
            if (++seps == 9)
                start = i + 1;
            else if (seps == 10) {
                end = i;
                break;
            }
        }
    }
    if (start && end) {
        char id[48];
        int idn = snprintf(id, sizeof id, "S%lx%zu", j->run_id, k);
        return strbuf_append(out, p, start) || strbuf_append(out, id, (size_t)idn) ||
                       strbuf_append(out, p + end, n - end)
                   ? -1
                   : 0;
    }
    return strbuf_append(out, p, n);
}

/* The MSA-1 code of an ACK payload, "" when there is none. */
static void ack_code(const char *p, size_t n, char code[3])
{
    code[0] = '\0';
    for (size_t i = 0; i + 6 < n; i++)
        if ((i == 0 || p[i - 1] == '\r' || p[i - 1] == '\n') && memcmp(p + i, "MSA", 3) == 0) {
            memcpy(code, p + i + 4, 2);
            code[2] = '\0';
            return;
        }
}

static enum outcome classify(const char code[3])
{
    if (code[1] == 'A' && (code[0] == 'A' || code[0] == 'C'))
        return OUT_ACCEPT;
    if (code[1] == 'E' && (code[0] == 'A' || code[0] == 'C'))
        return OUT_ERROR;
    if (code[1] == 'R' && (code[0] == 'A' || code[0] == 'C'))
        return OUT_REJECT;
    return OUT_NO_ACK;
}

struct reply {
    struct strbuf ack;
    bool got;
};

static int on_ack_frame(void *arg, enum mllp_event ev, const char *p, size_t n)
{
    struct reply *r = arg;
    if (ev == MLLP_FRAME) {
        strbuf_append(&r->ack, p, n);
        r->got = true;
    }
    return 1;
}

/* A connection to the server: TCP, then the TLS handshake when --tls (a failure says why on
 * stderr). 0, or -1 with l closed. */
static int connect_link(const struct send_job *j, struct link *l)
{
    l->ssl = NULL;
    if ((l->fd = dial(j)) < 0)
        return -1;
    if (!j->tls)
        return 0;
    l->ssl = SSL_new(j->tls);
    if (!l->ssl) {
        hang_up(l);
        return -1;
    }
    SSL_set_fd(l->ssl, l->fd);
    SSL_set_tlsext_host_name(l->ssl, j->servername);
    /* the certificate must name the server: an IP address by its IP SAN, else the DNS name */
    X509_VERIFY_PARAM *param = SSL_get0_param(l->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, j->servername) != 1)
        SSL_set1_host(l->ssl, j->servername);
    if (SSL_connect(l->ssl) != 1) {
        char reason[256];
        tls_failure_reason(l->ssl, ERR_get_error(), reason, sizeof reason);
        fprintf(stderr, "solent send: TLS with %s:%s failed: %s\n", j->host, j->port, reason);
        ERR_clear_error();
        hang_up(l);
        return -1;
    }
    return 0;
}

static ssize_t link_write(struct link *l, const char *p, size_t n)
{
    if (l->ssl) {
        int w = SSL_write(l->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        return w > 0 ? w : -1;
    }
    return send(l->fd, p, n, MSG_NOSIGNAL);
}

static ssize_t link_read(struct link *l, char *p, size_t n)
{
    if (l->ssl) {
        int r = SSL_read(l->ssl, p, (int)n);
        return r > 0 ? r : -1;
    }
    return recv(l->fd, p, n, 0);
}

/* Sends one frame and reads one ACK frame; -1 when the connection failed. */
static int exchange(struct link *l, const struct strbuf *framed, struct mllp_framer *f,
                    struct reply *r)
{
    for (size_t off = 0; off < framed->len;) {
        ssize_t w = link_write(l, framed->p + off, framed->len - off);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    strbuf_reset(&r->ack);
    r->got = false;
    char buf[4096];
    while (!r->got) {
        ssize_t n = link_read(l, buf, sizeof buf);
        if (n <= 0)
            return -1;
        mllp_feed(f, buf, (size_t)n, on_ack_frame, r); /* one ACK per message: rest is noise */
    }
    return 0;
}

static void *sender(void *arg)
{
    struct send_job *j = arg;
    struct strbuf msg, framed;
    struct reply r;
    struct mllp_framer f;
    strbuf_init(&msg, SEND_MAX);
    strbuf_init(&framed, SEND_MAX + 8);
    strbuf_init(&r.ack, 1 << 12);
    mllp_init(&f, 1 << 24);
    struct link link = {-1, NULL};
    for (;;) {
        size_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->total)
            break;
        if (j->rate > 0) {
            double due = j->t0 + (double)k / j->rate, wait = due - now();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        strbuf_reset(&framed);
        bool fits = build_message(j, k, &msg) == 0 && mllp_wrap(msg.p, msg.len, &framed) == 0;
        if (link.fd < 0 && fits)
            connect_link(j, &link);
        double s = now();
        char code[3] = "";
        enum outcome o = fits ? OUT_NO_ACK : OUT_NOT_SENT;
        if (!fits) {
            fprintf(stderr, "solent send: message %zu: larger than %u bytes: not sent\n", k + 1,
                    SEND_MAX);
        } else if (link.fd >= 0 && exchange(&link, &framed, &f, &r) == 0) {
            ack_code(r.ack.p, r.ack.len, code);
            o = classify(code);
        } else if (link.fd >= 0) { /* the peer closed or timed out: a new connection next time */
            hang_up(&link);
            mllp_cleanup(&f);
            mllp_init(&f, 1 << 24);
        }
        double d = now() - s;
        atomic_fetch_add(&j->counts[o], 1);
        atomic_fetch_add(&j->done, 1);
        pthread_mutex_lock(&j->lock);
        if (o < OUT_NO_ACK) {
            j->lat = grow_array(j->lat, &j->latcap, j->nlat + 1, sizeof *j->lat);
            j->lat[j->nlat++] = d;
        }
        if (j->verbose)
            printf("message %zu: %s (%.2f ms)\n", k + 1, o >= OUT_NO_ACK ? outcome_names[o] : code,
                   d * 1e3);
        pthread_mutex_unlock(&j->lock);
    }
    hang_up(&link);
    strbuf_cleanup(&msg);
    strbuf_cleanup(&framed);
    strbuf_cleanup(&r.ack);
    mllp_cleanup(&f);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summary(struct send_job *j, double elapsed)
{
    size_t done = atomic_load(&j->done);
    printf("sent %zu messages over %zu connection%s in %.2f s: %.0f messages/s\n", done,
           j->connections, j->connections == 1 ? "" : "s", elapsed,
           elapsed > 0 ? (double)done / elapsed : 0);
    printf("  ");
    for (int o = 0; o < OUT_N; o++)
        if (o != OUT_NOT_SENT || atomic_load(&j->counts[o])) /* only when it happened */
            printf("%s%s %zu", o ? ", " : "", outcome_names[o], atomic_load(&j->counts[o]));
    printf("\n");
    if (j->nlat) {
        qsort(j->lat, j->nlat, sizeof *j->lat, by_value);
        printf("  ACK latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", j->lat[j->nlat / 2] * 1e3,
               j->lat[(j->nlat * 99) / 100] * 1e3, j->lat[j->nlat - 1] * 1e3);
    }
}

static const char usage_text[] =
    "usage: solent send [--connections N] [--rate R] [--count N] [--timeout S] [--quiet]\n"
    "                   [--tls [--ca FILE] [--cert FILE [--key FILE]] [--servername NAME]]\n"
    "                   HOST:PORT FILE|DIR...\n"
    "Sends each message over MLLP, waits for its ACK and prints the ACK code; then a summary:\n"
    "messages/s, accepted (AA/CA), error (AE/CE), rejected (AR/CR), no ACK, ACK latency.\n"
    "  --connections N  send over N connections in parallel (default 1)\n"
    "  --rate R         offer R messages/s in all (default: as fast as ACKs come back)\n"
    "  --count N        send N messages, cycling the inputs, each with a fresh MSH-10\n"
    "  --timeout S      seconds to wait for an ACK (default 30)\n"
    "  --quiet          no line per message\n"
    "  --tls            TLS 1.2+ to the server, its certificate verified\n"
    "  --ca FILE        the CAs (PEM) the server's certificate must chain to (default: the\n"
    "                   system's)\n"
    "  --cert FILE      a client certificate (PEM) to present, --key its key (default: FILE)\n"
    "  --servername N   the name the server's certificate must carry (default: HOST)\n"
    "Exit status: 0 when every message was accepted, 1 otherwise, 2 for usage.\n";

int cmd_send_run(int argc, char **argv)
{
    static const struct option opts[] = {{"connections", required_argument, NULL, 'n'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"count", required_argument, NULL, 'c'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"tls", no_argument, NULL, 'T'},
                                         {"ca", required_argument, NULL, 'A'},
                                         {"cert", required_argument, NULL, 'C'},
                                         {"key", required_argument, NULL, 'K'},
                                         {"servername", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct send_job j = {.connections = 1, .timeout = 30};
    long count = 0;
    bool quiet = false, tls = false;
    const char *ca = NULL, *cert = NULL, *key = NULL, *servername = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': j.connections = strtoul(optarg, NULL, 10); break;
        case 'r': j.rate = strtod(optarg, NULL); break;
        case 'c': count = strtol(optarg, NULL, 10); break;
        case 't': j.timeout = strtod(optarg, NULL); break;
        case 'q': quiet = true; break;
        case 'T': tls = true; break;
        case 'A': ca = optarg; break;
        case 'C': cert = optarg; break;
        case 'K': key = optarg; break;
        case 'S': servername = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    char hostport[256];
    char *colon;
    if (optind + 2 > argc || j.connections < 1 || j.connections > 1024 || count < 0 ||
        j.timeout <= 0 ||
        snprintf(hostport, sizeof hostport, "%s", argv[optind]) >= (int)sizeof hostport ||
        !(colon = strrchr(hostport, ':'))) {
        fputs(usage_text, stderr);
        return 2;
    }
    *colon = '\0';
    j.host = hostport;
    j.port = colon + 1;
    if ((ca || cert || key || servername) && !tls) {
        fputs("solent send: --ca, --cert, --key and --servername need --tls\n", stderr);
        return 2;
    }
    if (tls) {
        char why[512];
        if (!(j.tls = tls_client_ctx(ca, cert, key, why, sizeof why))) {
            fprintf(stderr, "solent send: %s\n", why);
            return 2;
        }
        j.servername = servername ? servername : j.host;
    }
    struct cli_paths paths;
    struct cli_corpus corpus = {0};
    cli_paths_init(&paths);
    for (int i = optind + 1; i < argc; i++) {
        char why[512];
        if (cli_paths_add(&paths, argv[i], why, sizeof why) != 0)
            fprintf(stderr, "solent send: %s\n", why);
    }
    int rc = 2;
    if (cli_corpus_load(&corpus, &paths, "solent send") != 0) {
        fputs("solent send: no messages to send\n", stderr);
        goto out;
    }
    j.corpus = &corpus;
    j.total = count ? (size_t)count : corpus.n;
    j.fresh_ids = count > 0;
    j.verbose = !quiet && j.total <= 100;
    j.run_id = (long)time(NULL) & 0xffffff;
    pthread_mutex_init(&j.lock, NULL);
    pthread_t *threads = calloc(j.connections, sizeof *threads);
    if (!threads)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    j.t0 = now();
    for (size_t i = 0; i < j.connections; i++)
        pthread_create(&threads[i], NULL, sender, &j);
    size_t last = 0;
    while (atomic_load(&j.done) < j.total) { /* progress, once a second, on long runs */
        usleep(10000);
        double el = now() - j.t0;
        if (!quiet && el >= 2 && (size_t)el > last) {
            last = (size_t)el;
            fprintf(stderr, "solent send: %zu/%zu sent, %.0f/s\n", atomic_load(&j.done), j.total,
                    (double)atomic_load(&j.done) / el);
        }
    }
    for (size_t i = 0; i < j.connections; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    summary(&j, now() - j.t0);
    rc = atomic_load(&j.counts[OUT_ACCEPT]) == j.total ? 0 : 1;
    free(j.lat);
    pthread_mutex_destroy(&j.lock);
out:
    cli_corpus_free(&corpus);
    cli_paths_cleanup(&paths);
    SSL_CTX_free(j.tls);
    return rc;
}
