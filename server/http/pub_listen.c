/* pub_listen.c: the public port's listening sockets, one per lws
 * context of the front-end, all on the same address and port.
 *
 * lws 4.1.6 sets SO_REUSEPORT (LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE)
 * only for a context with several service threads (count_threads > 1 in
 * lib/roles/http/server/server.c), which Debian's LWS_MAX_SMP 1 rules
 * out: a second context on the same port fails to bind. So the contexts
 * do not listen themselves (CONTEXT_PORT_NO_LISTEN_SERVER): xenithd
 * binds one SO_REUSEPORT socket per context, each context adopts its
 * own as a raw file and accepts from it, and the kernel spreads new
 * connections over them by address hash.
 *
 * SO_REUSEPORT would let xenithd share a port another xenithd (same
 * user) already listens on, so a plain bind first checks that nothing
 * listens there: a port in use still fails start-up.
 */
#include "server/http/pub_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

#define ACCEPT_BATCH 16 /* connections taken per wake-up at most */
#define SHED_LOG_GAP 10 /* seconds between two "out of descriptors" logs */
#define PAUSE_US \
    200000 /* no accepting for this long when even shedding fails */

/* Out of descriptors, accept() fails with EMFILE and leaves the
 * connection queued: the listening socket stays readable and its
 * service thread would wake again at once, forever, logging each time.
 * So a spare descriptor is kept open: it is closed to take the waiting
 * connection, which is closed at once (the client sees the connection
 * end instead of hanging), then reopened. Shared by the service threads
 * (atomic exchange); the log says how many were refused, at most once
 * per SHED_LOG_GAP seconds. Two threads can race for the freed slot
 * and lose the spare; then, as nginx does, the listener stops polling
 * for PAUSE_US and tries to make a new spare. */
static int spare_fd = -1;
static long shed_count;
static time_t shed_logged;

static void spare_put(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), none = -1;

    if (fd >= 0 &&
        !__atomic_compare_exchange_n(&spare_fd, &none, fd, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        close(fd);
}

/* accept() on lfd failed with err (EMFILE or ENFILE): refuse one
 * waiting connection. 0 when one was taken, -1 when even that failed. */
static int shed_one(int lfd, int err)
{
    int spare = __atomic_exchange_n(&spare_fd, -1, __ATOMIC_ACQ_REL);
    time_t now = time(NULL), last;
    long n;
    int fd = -1;

    if (spare >= 0) {
        close(spare);
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        spare_put();
    }
    n = __atomic_add_fetch(&shed_count, fd >= 0, __ATOMIC_RELAXED);
    last = __atomic_load_n(&shed_logged, __ATOMIC_RELAXED);
    if (now - last >= SHED_LOG_GAP &&
        __atomic_compare_exchange_n(&shed_logged, &last, now, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        __atomic_sub_fetch(&shed_count, n, __ATOMIC_RELAXED);
        log_error("http: accept: %s: %ld connection(s) closed unanswered "
                  "(raise the open files limit)",
                  strerror(err), n);
    }
    return fd >= 0 ? 0 : -1;
}

/* A socket bound to ai (listening unless probe), or -1 with errno. */
static int bind_one(const struct addrinfo *ai, int probe)
{
    int fd, one = 1;

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        (!probe &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) ||
        (!probe && listen(fd, SOMAXCONN))) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int pub_listen_open(const char *addr, int port, int n, int *fds_out)
{
    struct addrinfo hints, *ai = NULL;
    char service[16];
    int i, fd, rc, gai;

    for (i = 0; i < n; i++)
        fds_out[i] = -1;
    spare_put();
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%d", port);
    gai = getaddrinfo(addr[0] ? addr : NULL, service, &hints, &ai);
    if (gai) {
        log_error("http: cannot listen on %s:%d: %s", addr, port,
                  gai_strerror(gai));
        return ERR_INVALID;
    }
    /* Without SO_REUSEPORT: fails while anything listens there. */
    fd = bind_one(ai, 1);
    if (fd >= 0)
        close(fd);
    for (i = 0; fd >= 0 && i < n; i++) {
        fd = bind_one(ai, 0);
        fds_out[i] = fd;
    }
    if (fd < 0) {
        rc = err_from_errno(errno);
        log_error("http: cannot listen on %s:%d: %s", addr, port,
                  strerror(errno));
        for (i = 0; i < n; i++)
            if (fds_out[i] >= 0)
                close(fds_out[i]);
        for (i = 0; i < n; i++)
            fds_out[i] = -1;
        goto out;
    }
    rc = 0;
out:
    freeaddrinfo(ai);
    return rc;
}

int pub_listen_adopt(struct pub_ctx *pc, int fd)
{
    struct lws_vhost *vh = lws_get_vhost_by_name(pc->ctx, "default");
    lws_sock_file_fd_type u;

    u.filefd = (lws_filefd_type)(intptr_t)fd;
    if (!vh)
        close(fd);
    /* On failure lws has closed fd. */
    if (!vh || !lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, u,
                                           "xenith-listen", NULL)) {
        log_error("http: context %d: cannot adopt its listening socket",
                  pc->idx);
        return ERR_IO;
    }
    return 0;
}

int pub_listen_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                  void *in, size_t len)
{
    int lfd = (int)(intptr_t)lws_get_socket_fd(wsi);
    int i, fd, one = 1;

    (void)user;
    (void)in;
    (void)len;
    if (reason == LWS_CALLBACK_TIMER) {
        spare_put();
        lws_rx_flow_control(wsi, 1);
        return 0;
    }
    if (reason != LWS_CALLBACK_RAW_RX_FILE)
        return 0;
    for (i = 0; i < ACCEPT_BATCH; i++) {
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            if (shed_one(lfd, errno)) {
                lws_rx_flow_control(wsi, 0);
                lws_set_timer_usecs(wsi, PAUSE_US);
                return 0;
            }
            continue;
        }
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                log_error("http: accept: %s", strerror(errno));
            return 0;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* As lws's own listener does: TLS, then HTTP. On failure lws
         * has closed the connection. */
        if (!lws_adopt_socket_vhost(lws_get_vhost(wsi), fd))
            log_debug("http: cannot adopt an accepted connection");
    }
    return 0;
}
