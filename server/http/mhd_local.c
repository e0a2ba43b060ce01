/* mhd_local.c: the local UNIX socket (DATA/xenithd.sock, mode 0660) on
 * libmicrohttpd, for the CLI and scripts on the host. Same router as
 * the public port; the caller is identified by SO_PEERCRED (the auth
 * layer maps q->peer_uid to a principal). Requests run synchronously
 * on MHD's threads (one per connection).
 */
#include "server/http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/api/router.h"
#include "server/core/app.h"
#include "server/http/http_job.h"

#define LOCAL_BACKLOG 64

struct http_local {
    struct app *app;
    struct MHD_Daemon *mhd;
    char *sock_path;
    char *spool_dir;
};

/* A response body of r->body followed by r->body_fd. */
struct mixed_body {
    char *data;
    size_t len;
    int fd;
};

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    (void)kind;
    if (http_job_add_header(cls, key, value ? value : ""))
        return MHD_NO;
    return MHD_YES;
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
    (void)kind;
    http_job_add_query(cls, key, value);
    return MHD_YES;
}

static void fill_peer(struct MHD_Connection *conn, struct http_job *job)
{
    const union MHD_ConnectionInfo *ci;
    struct ucred cred;
    socklen_t len = sizeof(cred);

    xstrlcpy(job->q.peer, "unix", sizeof(job->q.peer));
    job->q.local = 1;
    job->q.peer_uid = (uid_t)-1;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci && !getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
        job->q.peer_uid = cred.uid;
    else
        log_error("local: cannot read the peer's credentials: %s",
                  strerror(errno));
}

static int parse_length(const char *s, int64_t *out)
{
    char *end;
    long long v;

    *out = -1;
    if (!s)
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return ERR_INVALID;
    *out = v;
    return 0;
}

static int hexdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* The raw path (before '?') decodes cleanly and without a NUL? */
static int raw_path_ok(const char *uri)
{
    const char *p;

    for (p = uri; *p && *p != '?'; p++) {
        if (*p != '%')
            continue;
        if (!hexdigit(p[1]) || !hexdigit(p[2]) || (p[1] == '0' && p[2] == '0'))
            return 0;
        p += 2;
    }
    return 1;
}

/* MHD's first look at a request, with the URI as sent: the job is made
 * here so the undecoded path can be checked (MHD decodes "%00" into a
 * shorter path). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_job *job = http_job_new();

    (void)cls;
    (void)conn;
    job->bad_uri = !raw_path_ok(uri);
    return job;
}

static void begin(struct http_local *h, struct http_job *job,
                  struct MHD_Connection *conn, const char *url,
                  const char *method)
{
    int64_t clen;
    int rc;

    job->begun = 1;
    http_job_set_method(job, method);
    http_job_set_path(job, url);
    if (MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, job) < 0)
        log_error("local: cannot read the request headers");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, job);
    http_job_seal(job);
    fill_peer(conn, job);
    if (url[0] != '/' || job->bad_uri) {
        http_job_answer_error(&job->r, ERR_INVALID, NULL, "bad request path");
        return;
    }
    if (parse_length(req_header(&job->q, "Content-Length"), &clen)) {
        http_job_answer_error(&job->r, ERR_INVALID, "Content-Length",
                              "bad Content-Length");
        return;
    }
    rc = http_job_body_begin(job, h->app, h->spool_dir, clen < 0 ? 0 : clen);
    if (rc)
        http_job_answer_error(&job->r, rc, NULL, "cannot store the upload");
}

static ssize_t mixed_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct mixed_body *m = cls;
    ssize_t n;

    if (pos < m->len) {
        size_t k = m->len - (size_t)pos;

        if (k > max)
            k = max;
        memcpy(buf, m->data + pos, k);
        return (ssize_t)k;
    }
    do
        n = read(m->fd, buf, max);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void mixed_free(void *cls)
{
    struct mixed_body *m = cls;

    free(m->data);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

static struct MHD_Response *make_response(struct resp *r)
{
    struct MHD_Response *mr;
    size_t i;

    if (r->body_fd >= 0 && r->body.len == 0) {
        off_t off = lseek(r->body_fd, 0, SEEK_CUR);

        mr = MHD_create_response_from_fd_at_offset64(
            (uint64_t)r->body_fd_len, r->body_fd, off < 0 ? 0 : off);
        if (mr)
            r->body_fd = -1; /* MHD closes it */
    } else if (r->body_fd >= 0) {
        struct mixed_body *m = xcalloc(1, sizeof(*m));

        m->data = buf_detach(&r->body, &m->len);
        m->fd = r->body_fd;
        r->body_fd = -1;
        mr = MHD_create_response_from_callback(
            (uint64_t)m->len + (uint64_t)r->body_fd_len, 64 * 1024, mixed_read,
            m, mixed_free);
        if (!mr)
            mixed_free(m);
    } else {
        mr = MHD_create_response_from_buffer(
            r->body.len, (void *)buf_str(&r->body), MHD_RESPMEM_MUST_COPY);
    }
    if (!mr)
        return NULL;
    if (r->content_type)
        MHD_add_response_header(mr, "Content-Type", r->content_type);
    for (i = 0; i < r->num_extra; i++)
        MHD_add_response_header(mr, r->extra[i].name, r->extra[i].value);
    return mr;
}

static enum MHD_Result send_job(struct MHD_Connection *conn,
                                struct http_job *job)
{
    struct MHD_Response *mr = make_response(&job->r);
    enum MHD_Result ret;

    if (!mr) {
        log_error("local: cannot build the response to %s %s", job->q.method,
                  job->q.path);
        return MHD_NO;
    }
    ret = MHD_queue_response(conn, (unsigned int)job->r.status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct http_local *h = cls;
    struct http_job *job = *con_cls;
    int rc;

    (void)version;
    if (!job) /* no URI callback (cannot happen): make one */
        *con_cls = job = http_job_new();
    if (!job->begun) {
        begin(h, job, conn, url, method);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!job->r.status) {
            rc = http_job_body_add(job, upload, *upload_size);
            if (rc)
                http_job_answer_error(&job->r, rc, NULL,
                                      "cannot store the upload");
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (job->too_big && !job->r.status)
        http_job_answer_too_big(job);
    if (!job->r.status) {
        if (http_job_body_end(job))
            http_job_answer_error(&job->r, ERR_IO, NULL,
                                  "cannot read the upload back");
        else
            http_job_run(h->app, job);
    }
    return send_job(conn, job);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_job *job = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!job)
        return;
    http_job_log(job, "unix");
    http_job_free(job);
    *con_cls = NULL;
}

static int listen_unix(const char *path, int *fd_out)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd, rc;

    *fd_out = -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (xstrlcpy(sa.sun_path, path, sizeof(sa.sun_path))) {
        log_error("local: socket path too long: %s", path);
        return ERR_INVALID;
    }
    if (!lstat(path, &st)) {
        if (!S_ISSOCK(st.st_mode)) {
            log_error("local: %s exists and is not a socket", path);
            return ERR_EXISTS;
        }
        unlink(path); /* stale, from a previous run */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_from_errno(errno);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660) ||
        listen(fd, LOCAL_BACKLOG)) {
        rc = err_from_errno(errno);
        log_error("local: cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

int http_local_start(struct app *app, const char *sock_path,
                     struct http_local **out)
{
    struct http_local *h;
    int fd, rc;

    *out = NULL;
    rc = listen_unix(sock_path, &fd);
    if (rc)
        return rc;
    h = xcalloc(1, sizeof(*h));
    h->app = app;
    h->sock_path = xstrdup(sock_path);
    h->spool_dir = xasprintf("%s/tmp", app->cfg.data_dir);
    h->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_POLL,
        0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
        MHD_OPTION_END);
    if (!h->mhd) {
        log_error("local: libmicrohttpd did not start on %s", sock_path);
        close(fd);
        http_local_stop(h);
        return ERR_IO;
    }
    *out = h;
    return 0;
}

void http_local_stop(struct http_local *h)
{
    if (!h)
        return;
    if (h->mhd) {
        MHD_stop_daemon(h->mhd); /* closes the listening socket */
        unlink(h->sock_path);
    }
    free(h->sock_path);
    free(h->spool_dir);
    free(h);
}
