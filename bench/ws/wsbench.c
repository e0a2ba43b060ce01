/* wsbench: WebSocket echo round trips against xenithd's /api/v1/echo.
 *
 *   wsbench HOST PORT CREDENTIAL [ROUNDS] [CLIENTS]
 *
 * CREDENTIAL is "cookie:<session>" or "token:<api token>". Prints, for
 * 32 B, 4 KiB, 64 KiB and 1 MiB messages, the round-trip p50/p99 over
 * ROUNDS echoes on one connection (1 MiB: 20), then CLIENTS concurrent
 * connections each echoing 4 KiB messages (p50/p99 over all, and the
 * total rate). Built by run.sh with OpenSSL only.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

struct conn {
    int fd;
    SSL *ssl;
    unsigned char *rbuf;
    size_t rlen, rcap;
};

static const char *g_host, *g_port, *g_cred;
static SSL_CTX *g_ctx;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "wsbench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static int write_all(struct conn *c, const void *p, size_t n)
{
    const unsigned char *s = p;

    while (n) {
        int w = SSL_write(c->ssl, s, n > (1 << 30) ? (1 << 30) : (int)n);

        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Make sure rbuf holds at least n bytes. */
static int fill(struct conn *c, size_t n)
{
    if (c->rcap < n) {
        c->rcap = n + 65536;
        c->rbuf = realloc(c->rbuf, c->rcap);
        if (!c->rbuf)
            die("out of memory");
    }
    while (c->rlen < n) {
        int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));

        if (r <= 0)
            return -1;
        c->rlen += (size_t)r;
    }
    return 0;
}

static void consume(struct conn *c, size_t n)
{
    memmove(c->rbuf, c->rbuf + n, c->rlen - n);
    c->rlen -= n;
}

static int ws_connect(struct conn *c)
{
    struct addrinfo hints, *ai;
    char req[2048], key[25];
    unsigned char nonce[16];
    const char *hdr;
    int one = 1, n;
    char *end;

    memset(c, 0, sizeof(*c));
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(g_host, g_port, &hints, &ai))
        return -1;
    c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen)) {
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ssl = SSL_new(g_ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1)
        return -1;
    RAND_bytes(nonce, sizeof(nonce));
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
    hdr = !strncmp(g_cred, "cookie:", 7) ? "Cookie: xenith_session="
                                         : "Authorization: Bearer ";
    n = snprintf(req, sizeof(req),
                 "GET /api/v1/echo HTTP/1.1\r\nHost: %s:%s\r\n"
                 "Origin: https://%s:%s\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: %s\r\n%s%s\r\n\r\n",
                 g_host, g_port, g_host, g_port, key, hdr,
                 strchr(g_cred, ':') + 1);
    if (write_all(c, req, (size_t)n))
        return -1;
    for (;;) {
        if (fill(c, c->rlen + 1))
            return -1;
        c->rbuf[c->rlen] = '\0';
        end = strstr((char *)c->rbuf, "\r\n\r\n");
        if (end)
            break;
    }
    if (strncmp((char *)c->rbuf, "HTTP/1.1 101", 12)) {
        fprintf(stderr, "wsbench: upgrade refused: %.40s\n", c->rbuf);
        return -1;
    }
    consume(c, (size_t)(end + 4 - (char *)c->rbuf));
    return 0;
}

static int ws_send(struct conn *c, const unsigned char *p, size_t n,
                   unsigned char *scratch)
{
    unsigned char *h = scratch;
    size_t hl = 2, i;
    uint32_t mask;

    h[0] = 0x82;
    if (n < 126) {
        h[1] = 0x80 | (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    RAND_bytes((unsigned char *)&mask, 4);
    memcpy(h + hl, &mask, 4);
    hl += 4;
    for (i = 0; i < n; i++)
        h[hl + i] = p[i] ^ ((unsigned char *)&mask)[i & 3];
    return write_all(c, h, hl + n);
}

/* One whole message back; returns its length or -1. */
static long ws_recv(struct conn *c)
{
    size_t total = 0;

    for (;;) {
        size_t hl = 2, n;
        int fin, op;

        if (fill(c, 2))
            return -1;
        fin = c->rbuf[0] & 0x80;
        op = c->rbuf[0] & 0x0f;
        n = c->rbuf[1] & 0x7f;
        if (n == 126) {
            if (fill(c, 4))
                return -1;
            n = ((size_t)c->rbuf[2] << 8) | c->rbuf[3];
            hl = 4;
        } else if (n == 127) {
            size_t i;

            if (fill(c, 10))
                return -1;
            for (n = 0, i = 0; i < 8; i++)
                n = (n << 8) | c->rbuf[2 + i];
            hl = 10;
        }
        if (fill(c, hl + n))
            return -1;
        consume(c, hl + n);
        if (op == 8)
            return -1;
        total += n;
        if (fin)
            return (long)total;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    int i = (int)(p * (n - 1) + 0.5);

    return v[i];
}

static int echo_rounds(struct conn *c, size_t size, int rounds, double *out)
{
    unsigned char *msg = malloc(size), *scratch = malloc(size + 16);
    int i, rc = 0;

    RAND_bytes(msg, (int)size);
    for (i = 0; i < rounds; i++) {
        double t = now_ms();

        if (ws_send(c, msg, size, scratch) || ws_recv(c) != (long)size) {
            rc = -1;
            break;
        }
        out[i] = now_ms() - t;
    }
    free(msg);
    free(scratch);
    return rc;
}

struct worker {
    pthread_t t;
    int rounds;
    double *lat;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct conn c;

    if (ws_connect(&c))
        return NULL;
    w->ok = !echo_rounds(&c, 4096, w->rounds, w->lat);
    SSL_free(c.ssl);
    close(c.fd);
    free(c.rbuf);
    return NULL;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = { 32, 4096, 65536, 1 << 20 };
    int rounds = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 2000;
    int clients = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 50;
    struct worker *ws;
    struct conn c;
    double *lat, t0, secs;
    size_t i;
    int j, k, n;

    if (argc < 4) {
        fprintf(stderr, "usage: wsbench HOST PORT CREDENTIAL [ROUNDS] "
                        "[CLIENTS]\n");
        return 2;
    }
    g_host = argv[1];
    g_port = argv[2];
    g_cred = argv[3];
    g_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
    if (ws_connect(&c))
        die("cannot connect or upgrade");
    lat = calloc((size_t)rounds * (size_t)clients + 1, sizeof(double));
    printf("| message | round trips | p50 ms | p99 ms |\n");
    printf("|---|---|---|---|\n");
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        n = sizes[i] >= (1 << 20) ? 20 : rounds;
        if (echo_rounds(&c, sizes[i], n, lat))
            die("echo failed");
        qsort(lat, (size_t)n, sizeof(double), cmp_double);
        printf("| %zu B | %d | %.3f | %.3f |\n", sizes[i], n, pct(lat, n, 0.5),
               pct(lat, n, 0.99));
        fflush(stdout);
    }
    SSL_free(c.ssl);
    close(c.fd);

    n = rounds / 10 > 0 ? rounds / 10 : 1;
    ws = calloc((size_t)clients, sizeof(*ws));
    t0 = now_ms();
    for (j = 0; j < clients; j++) {
        ws[j].rounds = n;
        ws[j].lat = lat + (size_t)j * (size_t)n;
        pthread_create(&ws[j].t, NULL, worker_main, &ws[j]);
    }
    for (j = 0, k = 0; j < clients; j++) {
        pthread_join(ws[j].t, NULL);
        k += ws[j].ok;
    }
    secs = (now_ms() - t0) / 1e3;
    qsort(lat, (size_t)clients * (size_t)n, sizeof(double), cmp_double);
    printf("\n%d concurrent clients (%d ok), %d round trips of 4 KiB each: "
           "p50 %.3f ms, p99 %.3f ms, %.0f round trips/s in total\n",
           clients, k, n, pct(lat, clients * n, 0.5),
           pct(lat, clients * n, 0.99), clients * n / secs);
    return k == clients ? 0 : 1;
}
