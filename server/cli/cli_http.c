/* cli_http.c: HTTP/1.1 over the daemon's UNIX socket, one request per
 * connection (Connection: close), the answer read to EOF. */
#include "server/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/xalloc.h"

static int connect_unix(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(a.sun_path)) {
        fprintf(stderr, "xenith: socket path too long: %s\n", path);
        return -1;
    }
    xstrlcpy(a.sun_path, path, sizeof(a.sun_path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        fprintf(stderr, "xenith: cannot connect to %s: %s%s\n", path,
                strerror(errno),
                errno == EACCES ? " (the socket is for root and the xenith "
                                  "group)"
                : errno == ENOENT || errno == ECONNREFUSED
                    ? " (is xenithd running? --socket names another)"
                    : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Decode a chunked body in place; its new length. */
static size_t unchunk(char *s, size_t len)
{
    size_t in = 0, out = 0;

    while (in < len) {
        char *end;
        unsigned long n = strtoul(s + in, &end, 16);
        char *crlf = strstr(end, "\r\n");

        if (!crlf || n == 0)
            break;
        in = (size_t)(crlf + 2 - s);
        if (n > len - in)
            n = len - in;
        memmove(s + out, s + in, n);
        out += n;
        in += n + 2;
    }
    return out;
}

static void parse_answer(char *s, size_t len, struct cli_resp *out)
{
    char *hdr_end = strstr(s, "\r\n\r\n");
    char *body;
    size_t blen;
    json_error_t je;

    if (sscanf(s, "HTTP/1.%*d %d", &out->status) != 1 || !hdr_end) {
        out->status = 0;
        return;
    }
    body = hdr_end + 4;
    blen = len - (size_t)(body - s);
    *hdr_end = '\0';
    if (strcasestr(s, "\r\nTransfer-Encoding: chunked"))
        blen = unchunk(body, blen);
    if (blen)
        out->body = json_loadb(body, blen, 0, &je);
}

int cli_request(const struct cli *c, const char *method, const char *path,
                json_t *body, struct cli_resp *out)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct buf b = BUF_INIT;
    char chunk[65536];
    ssize_t n;
    int fd, rc = -1;

    memset(out, 0, sizeof(*out));
    fd = connect_unix(c->socket);
    if (fd < 0) {
        free(text);
        return -1;
    }
    buf_printf(&b,
               "%s /api/v1%s HTTP/1.1\r\nHost: localhost\r\n"
               "Connection: close\r\nAccept: application/json\r\n",
               method, path);
    if (text)
        buf_printf(&b,
                   "Content-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   strlen(text), text);
    else
        buf_printf(&b, "Content-Length: 0\r\n\r\n");
    if (write_all(fd, b.data, b.len)) {
        fprintf(stderr, "xenith: cannot send: %s\n", strerror(errno));
        goto out;
    }
    buf_reset(&b);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "xenith: cannot read: %s\n", strerror(errno));
            goto out;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    if (b.data)
        parse_answer(b.data, b.len, out); /* buf keeps a NUL after it */
    if (!out->status)
        fprintf(stderr, "xenith: no HTTP answer from %s\n", c->socket);
    else
        rc = 0;
out:
    close(fd);
    buf_release(&b);
    free(text);
    return rc;
}

void cli_resp_release(struct cli_resp *r)
{
    json_decref(r->body);
    r->body = NULL;
}

int cli_fail(const struct cli_resp *r, const char *what)
{
    json_t *e = json_object_get(r->body, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *field = json_string_value(json_object_get(e, "field"));

    fprintf(stderr, "xenith: %s: %s%s%s%s (HTTP %d)\n", what,
            msg ? msg : "failed", field ? " [field " : "", field ? field : "",
            field ? "]" : "", r->status);
    return 1;
}
