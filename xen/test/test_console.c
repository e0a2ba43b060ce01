/* test_console.c: the test guests' text consoles.
 *
 * Each domain has a ring of its last TDRV_RING_SIZE bytes of output and up
 * to TDRV_MAX_CONSOLES open consoles, each a socketpair whose other end
 * the caller of hv_console_open owns. A new console first gets the ring
 * (what the guest printed before it was opened). The guest echoes every
 * input line as "# <line>" and obeys "poweroff", "reboot" and "crash".
 * Output to a console that does not keep up is dropped, never waited for.
 * All functions run with the driver lock held.
 */
#include "xen/test/test_priv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

static void tdrv_ring_put(struct tdrv_ring *r, const char *s, size_t n)
{
    size_t i;

    if (!r->data)
        r->data = xmalloc(TDRV_RING_SIZE);
    if (n > TDRV_RING_SIZE) {
        s += n - TDRV_RING_SIZE;
        n = TDRV_RING_SIZE;
    }
    for (i = 0; i < n; i++) {
        r->data[(r->start + r->len) % TDRV_RING_SIZE] = s[i];
        if (r->len < TDRV_RING_SIZE)
            r->len++;
        else
            r->start = (r->start + 1) % TDRV_RING_SIZE;
    }
}

static void tdrv_send(int fd, const char *s, size_t n)
{
    /* Non-blocking; a slow or gone reader loses output (poll notices
     * the hang-up). */
    while (n) {
        ssize_t w = send(fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void tdrv_console_write(struct tdrv_dom *dom, const char *s, size_t n)
{
    size_t i;

    tdrv_ring_put(&dom->ring, s, n);
    for (i = 0; i < dom->num_cons; i++)
        tdrv_send(dom->cons[i].fd, s, n);
}

static void tdrv_console_puts(struct tdrv_dom *dom, const char *s)
{
    tdrv_console_write(dom, s, strlen(s));
}

/* The first bytes of a disk image, up to a NUL or newline, when they are
 * all printable: a marker tests put there. "" otherwise. */
static void tdrv_disk_peek(int fd, char *out, size_t cap)
{
    char head[65];
    ssize_t n = pread(fd, head, 64, 0);
    ssize_t i;

    out[0] = '\0';
    if (n <= 0)
        return;
    for (i = 0; i < n; i++) {
        if (head[i] == '\0' || head[i] == '\n')
            break;
        if (!isprint((unsigned char)head[i]))
            return;
    }
    head[i] = '\0';
    xstrlcpy(out, head, cap);
}

static void tdrv_boot_disk(struct buf *b, const struct hv_disk *disk)
{
    char marker[65];
    int fd = open(disk->path, O_RDONLY | O_CLOEXEC);
    off_t size;

    if (fd < 0) {
        buf_printf(b, "xenith-test: disk %s: cannot open: %s\n", disk->vdev,
                   strerror(errno));
        return;
    }
    size = lseek(fd, 0, SEEK_END);
    buf_printf(b, "xenith-test: disk %s %lld bytes\n", disk->vdev,
               (long long)(size < 0 ? 0 : size));
    tdrv_disk_peek(fd, marker, sizeof(marker));
    if (marker[0])
        buf_printf(b, "xenith-test: %s marker: %s\n", disk->vdev, marker);
    close(fd);
}

void tdrv_console_boot(struct tdrv_dom *dom)
{
    static const char *const kind[] = { "PV", "PVH", "HVM" };
    /* HVM guests talk on the emulated serial port, the others on the PV
     * console. */
    static const char *const tty[] = { "hvc0", "hvc0", "ttyS0" };
    const struct hv_vm_config *c = &dom->cfg;
    struct buf b = BUF_INIT;
    size_t i;

    buf_printf(&b,
               "[    0.000000] Linux version 6.1.0-xenith-test "
               "(xenith@test) #1 SMP PREEMPT_DYNAMIC\n"
               "[    0.000000] Command line: %s\n"
               "[    0.000000] Booting kernel on Xen (%s), domid %d\n"
               "[    0.000000] Memory: %lluK available, %d vCPUs\n",
               c->cmdline, kind[c->boot <= HV_BOOT_HVM ? c->boot : 0],
               dom->domid, (unsigned long long)c->memory_mib * 1024, c->vcpus);
    for (i = 0; i < c->num_disks; i++) {
        buf_printf(&b, "[    0.%06zu] blkfront: %s: barrier: enabled\n",
                   100000 + i * 1000, c->disks[i].vdev);
        tdrv_boot_disk(&b, &c->disks[i]);
    }
    for (i = 0; i < c->num_nics; i++)
        buf_printf(&b, "[    0.%06zu] xen_netfront: eth%zu: mac %s\n",
                   200000 + i * 1000, i, c->nics[i].mac);
    buf_printf(&b,
               "[    1.000000] systemd[1]: Reached target Multi-User System.\n"
               "\nDebian GNU/Linux 12 %s %s\n\n%s login: ",
               c->name, tty[c->boot <= HV_BOOT_HVM ? c->boot : 0], c->name);
    tdrv_console_write(dom, b.data, b.len);
    buf_release(&b);
}

static void tdrv_console_close(struct tdrv_dom *dom, size_t i)
{
    close(dom->cons[i].fd);
    dom->cons[i] = dom->cons[--dom->num_cons];
}

void tdrv_console_release(struct tdrv_dom *dom)
{
    while (dom->num_cons)
        tdrv_console_close(dom, dom->num_cons - 1);
    free(dom->ring.data);
    dom->ring.data = NULL;
    dom->ring.len = dom->ring.start = 0;
}

static void tdrv_console_line(struct tdrv *d, struct tdrv_dom *dom,
                              const char *line)
{
    struct buf b = BUF_INIT;

    buf_printf(&b, "# %s\n", line);
    tdrv_console_write(dom, b.data, b.len);
    buf_release(&b);
    if (dom->state != HV_RUNNING)
        return;
    if (!strcmp(line, "poweroff")) {
        tdrv_begin_shutdown(d, dom, 0, "poweroff");
    } else if (!strcmp(line, "reboot")) {
        tdrv_begin_shutdown(d, dom, 1, "reboot");
    } else if (!strcmp(line, "crash")) {
        tdrv_console_puts(dom, "Kernel panic - not syncing: sysrq\n");
        tdrv_set_state(d, dom, HV_CRASHED, "crash");
    }
}

void tdrv_console_input(struct tdrv *d, struct tdrv_dom *dom,
                        struct tdrv_console *cons)
{
    char in[512];
    ssize_t n = read(cons->fd, in, sizeof(in));
    ssize_t i;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        tdrv_console_close(dom, (size_t)(cons - dom->cons));
        return;
    }
    if (dom->state == HV_PAUSED)
        return; /* a paused guest reads nothing */
    for (i = 0; i < n; i++) {
        char c = in[i];

        if (c != '\n' && c != '\r') {
            if (cons->line_len < sizeof(cons->line) - 1)
                cons->line[cons->line_len++] = c;
            continue;
        }
        if (!cons->line_len)
            continue;
        cons->line[cons->line_len] = '\0';
        cons->line_len = 0;
        tdrv_console_line(d, dom, cons->line);
    }
}

int tdrv_console_open(void *priv, const char *uuid, int *fd_out)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    struct tdrv_console *cons;
    int sv[2] = { -1, -1 };
    int rc, sndbuf = 4 * TDRV_RING_SIZE;

    rc = tdrv_lock_dom(d, uuid, TDRV_OP_CONSOLE_OPEN, &dom);
    if (rc)
        return rc;
    if (dom->num_cons >= TDRV_MAX_CONSOLES) {
        rc = hv_fail(ERR_BUSY, "vm %s has %d consoles open", uuid,
                     TDRV_MAX_CONSOLES);
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        rc = hv_fail(err_from_errno(errno), "socketpair: %s", strerror(errno));
        goto out;
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    cons = &dom->cons[dom->num_cons++];
    memset(cons, 0, sizeof(*cons));
    cons->id = d->next_console_id++;
    cons->fd = sv[0];
    /* Replay what was printed before, in order. */
    if (dom->ring.data) {
        size_t first = TDRV_RING_SIZE - dom->ring.start;

        if (first > dom->ring.len)
            first = dom->ring.len;
        tdrv_send(cons->fd, dom->ring.data + dom->ring.start, first);
        tdrv_send(cons->fd, dom->ring.data, dom->ring.len - first);
    }
    tdrv_wake(d);
    *fd_out = sv[1];
    sv[1] = -1;
    rc = 0;
out:
    if (sv[1] >= 0) {
        close(sv[0]);
        close(sv[1]);
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}
