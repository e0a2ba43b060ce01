/* static.c: the browser UI's files from app->web_root. The router calls
 * static_serve() for every path outside /api on both front-ends; the
 * file is streamed by the front-end through r->body_fd.
 */
#include "server/http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "server/api/api_util.h"
#include "server/core/app.h"

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    { "html", "text/html; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "ico", "image/x-icon" },
    { "json", "application/json" },
    { "woff2", "font/woff2" },
    { "map", "application/json" },
    { "txt", "text/plain; charset=utf-8" },
    { "wasm", "application/wasm" },
};

static const char *mime_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    size_t i;

    if (!dot)
        return "application/octet-stream";
    for (i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
        if (!strcasecmp(dot + 1, mime_types[i].ext))
            return mime_types[i].type;
    return "application/octet-stream";
}

/* 1 if the last segment of path has a '.', like "app.js". */
static int last_segment_has_dot(const char *path)
{
    const char *slash = strrchr(path, '/');

    return strchr(slash ? slash + 1 : path, '.') != NULL;
}

/* 1 if any segment is "..", or the path has a backslash or is not
 * absolute: never looked up. */
static int path_is_unsafe(const char *path)
{
    const char *s = path;

    if (path[0] != '/' || strchr(path, '\\'))
        return 1;
    while ((s = strstr(s, "..")) != NULL) {
        if ((s == path || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return 1;
        s += 2;
    }
    return 0;
}

/* Resolve rel under root; 0 with out[PATH_MAX] inside root (symlinks
 * followed), ERR_NOTFOUND if missing, ERR_FORBIDDEN if it leaves root. */
static int resolve(const char *root, const char *rel, char *out)
{
    char full[PATH_MAX];
    size_t rlen = strlen(root);

    if ((size_t)snprintf(full, sizeof(full), "%s%s", root, rel) >= sizeof(full))
        return ERR_NOTFOUND;
    if (!realpath(full, out))
        return ERR_NOTFOUND;
    if (strncmp(out, root, rlen) || (out[rlen] != '/' && out[rlen] != '\0'))
        return ERR_FORBIDDEN;
    return 0;
}

/* Does Accept-Encoding take gzip? ("gzip;q=0" does not.) */
static int accepts_gzip(const struct req *q)
{
    const char *ae = req_header(q, "Accept-Encoding");
    const char *s;

    for (s = ae; s && (s = strcasestr(s, "gzip")) != NULL; s += 4) {
        const char *p = s + 4;

        if (s != ae && s[-1] != ' ' && s[-1] != ',')
            continue;
        while (*p == ' ')
            p++;
        if (*p == ';') {
            p++;
            while (*p == ' ')
                p++;
            if (!strncmp(p, "q=0", 3) && strspn(p + 3, "0.") == strlen(p + 3))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* Does If-None-Match name etag (or "*")? */
static int etag_matches(const struct req *q, const char *etag)
{
    const char *inm = req_header(q, "If-None-Match");
    size_t n = strlen(etag);
    const char *s;

    if (!inm)
        return 0;
    if (!strcmp(inm, "*"))
        return 1;
    for (s = inm; (s = strstr(s, etag)) != NULL; s += n)
        if (s[n] == '\0' || s[n] == ',' || s[n] == ' ')
            return 1;
    return 0;
}

/* Open a regular file; fd and st filled. */
static int open_regular(const char *path, int *fd_out, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno);
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        return ERR_NOTFOUND;
    }
    *fd_out = fd;
    return 0;
}

/* The .gz twin of the file at real (inside root), if there is one. */
static int open_gz_twin(const char *root, const char *real, int *fd_out,
                        struct stat *st)
{
    char gz[PATH_MAX], gzreal[PATH_MAX];
    size_t rlen = strlen(root);

    if ((size_t)snprintf(gz, sizeof(gz), "%s.gz", real) >= sizeof(gz))
        return ERR_NOTFOUND;
    if (!realpath(gz, gzreal) || strncmp(gzreal, root, rlen) ||
        gzreal[rlen] != '/')
        return ERR_NOTFOUND;
    return open_regular(gzreal, fd_out, st);
}

void static_serve(struct app *app, const struct req *q, struct resp *r)
{
    char root[PATH_MAX], real[PATH_MAX], etag[96];
    const char *rel = q->path;
    struct stat st;
    int fd = -1, gz = 0, rc;

    if (strcmp(q->method, "GET") && strcmp(q->method, "HEAD")) {
        resp_header(r, "Allow", "GET, HEAD");
        api_error(r, ERR_METHOD, NULL, "%s is not allowed on %s", q->method,
                  q->path);
        return;
    }
    if (path_is_unsafe(q->path)) {
        api_error(r, ERR_NOTFOUND, NULL, "no such file");
        return;
    }
    if (!realpath(app->web_root, root)) {
        log_error("static: web root %s: %s", app->web_root, strerror(errno));
        api_error(r, ERR_NOTFOUND, NULL, "no such file");
        return;
    }
    if (!strcmp(rel, "/") || rel[strlen(rel) - 1] == '/')
        rel = "/index.html";
    rc = resolve(root, rel, real);
    if (rc == 0) {
        rc = open_regular(real, &fd, &st);
    } else if (rc == ERR_FORBIDDEN) {
        log_warn("static: %s leaves the web root", q->path);
        rc = ERR_NOTFOUND;
    }
    if (rc && !last_segment_has_dot(rel)) {
        /* A client-side route ("/vms/42"): the app's index.html. */
        rel = "/index.html";
        rc = resolve(root, rel, real);
        if (!rc)
            rc = open_regular(real, &fd, &st);
    }
    if (rc) {
        api_error(r, ERR_NOTFOUND, NULL, "no such file");
        return;
    }
    r->content_type = mime_type(real);
    {
        struct stat gst;
        int gfd;

        if (!open_gz_twin(root, real, &gfd, &gst)) {
            /* Caches must key on Accept-Encoding once a twin exists. */
            resp_header(r, "Vary", "Accept-Encoding");
            if (accepts_gzip(q)) {
                close(fd);
                fd = gfd;
                st = gst;
                gz = 1;
            } else {
                close(gfd);
            }
        }
    }
    snprintf(etag, sizeof(etag), "\"%llx-%llx%s\"", (long long)st.st_size,
             (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
             gz ? "-gz" : "");
    resp_header(r, "ETag", etag);
    resp_header(r, "Cache-Control", "no-cache");
    if (gz)
        resp_header(r, "Content-Encoding", "gzip");
    if (etag_matches(q, etag)) {
        close(fd);
        r->status = 304;
        return;
    }
    r->status = 200;
    r->body_fd = fd;
    r->body_fd_len = st.st_size;
}
