/* test_thread.c: the test driver's one thread. It completes delayed
 * shutdowns when their time comes, reads console input, and delivers
 * queued events to the subscriber with the driver lock released. It
 * sleeps in poll(2) on the wake pipe and every open console.
 */
#include "xen/test/test_priv.h"

#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/xalloc.h"

struct tdrv_pollset {
    struct pollfd *pfd;
    uint64_t *ids; /* console (text or vnc) id of pfd[i], i >= 1 */
    size_t num;
    size_t cap;
};

static void tdrv_deliver(struct tdrv *d)
{
    struct tdrv_event *list = d->ev_head, *e;
    hv_event_cb cb = d->cb;
    void *opaque = d->cb_opaque;

    d->ev_head = NULL;
    d->ev_tail = &d->ev_head;
    d->delivering = 1;
    pthread_mutex_unlock(&d->lock);
    while ((e = list)) {
        list = e->next;
        if (cb)
            cb(opaque, &e->ev);
        free(e);
    }
    pthread_mutex_lock(&d->lock);
    d->delivering = 0;
    pthread_cond_broadcast(&d->cond);
}

static void tdrv_pollset_build(struct tdrv *d, struct tdrv_pollset *ps)
{
    struct tdrv_dom *dom;
    size_t n = 1, i;

    for (dom = d->doms; dom; dom = dom->next)
        n += dom->num_cons + dom->num_vnc;
    if (n > ps->cap) {
        ps->cap = n * 2;
        ps->pfd = xrealloc(ps->pfd, ps->cap * sizeof(*ps->pfd));
        ps->ids = xrealloc(ps->ids, ps->cap * sizeof(*ps->ids));
    }
    ps->pfd[0].fd = d->wake[0];
    ps->pfd[0].events = POLLIN;
    ps->num = 1;
    for (dom = d->doms; dom; dom = dom->next) {
        for (i = 0; i < dom->num_cons; i++) {
            ps->pfd[ps->num].fd = dom->cons[i].fd;
            ps->pfd[ps->num].events = POLLIN;
            ps->ids[ps->num] = dom->cons[i].id;
            ps->num++;
        }
        for (i = 0; i < dom->num_vnc; i++) {
            ps->pfd[ps->num].fd = dom->vnc[i].fd;
            ps->pfd[ps->num].events =
                POLLIN | (dom->vnc[i].out.len ? POLLOUT : 0);
            ps->ids[ps->num] = dom->vnc[i].id;
            ps->num++;
        }
    }
}

/* The console (text or graphical) with this id is ready, if it still
 * exists. */
static void tdrv_console_ready(struct tdrv *d, uint64_t id, short revents)
{
    struct tdrv_dom *dom;
    size_t i;

    for (dom = d->doms; dom; dom = dom->next) {
        for (i = 0; i < dom->num_cons; i++) {
            if (dom->cons[i].id == id) {
                tdrv_console_input(d, dom, &dom->cons[i]);
                return;
            }
        }
        for (i = 0; i < dom->num_vnc; i++) {
            if (dom->vnc[i].id == id) {
                tdrv_vnc_ready(dom, &dom->vnc[i], revents);
                return;
            }
        }
    }
}

void *tdrv_thread_main(void *arg)
{
    struct tdrv *d = arg;
    struct tdrv_pollset ps = { NULL, NULL, 0, 0 };
    char drain[64];
    size_t i;

    pthread_mutex_lock(&d->lock);
    for (;;) {
        int64_t next = tdrv_tick(d), timeout;

        if (d->ev_head) {
            tdrv_deliver(d);
            continue;
        }
        if (d->stop)
            break;
        tdrv_pollset_build(d, &ps);
        timeout = next < 0 ? -1 : next - time_mono_ms();
        if (next >= 0 && timeout < 0)
            timeout = 0;
        pthread_mutex_unlock(&d->lock);
        poll(ps.pfd, ps.num, (int)timeout);
        while (read(d->wake[0], drain, sizeof(drain)) > 0)
            ;
        pthread_mutex_lock(&d->lock);
        for (i = 1; i < ps.num; i++)
            if (ps.pfd[i].revents)
                tdrv_console_ready(d, ps.ids[i], ps.pfd[i].revents);
    }
    pthread_mutex_unlock(&d->lock);
    free(ps.pfd);
    free(ps.ids);
    return NULL;
}
