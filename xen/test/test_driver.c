/* test_driver.c: the in-memory test:///default hypervisor: its vtable,
 * open/close, host info, lookups, events and failure injection (libvirt's
 * src/test/test_driver.c is the model). The lifecycle lives in
 * test_state.c, suspend/restore in test_save.c, live changes in
 * test_live.c, stats in test_stats.c, consoles in test_console.c and the
 * driver thread in test_thread.c. test_priv.h describes the locking.
 *
 * URI: test:///default[?shutdown_ms=N][&state=DIR]. shutdown_ms is how
 * long a clean shutdown takes (default 300). state is accepted for
 * compatibility and unused: hv_suspend is given the state file's path.
 * Every hv_open makes a separate, empty hypervisor.
 */
#include "xen/test/test_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

static const char *const tdrv_op_names[TDRV_OP_COUNT] = {
    [TDRV_OP_START] = "start",
    [TDRV_OP_SHUTDOWN] = "shutdown",
    [TDRV_OP_REBOOT] = "reboot",
    [TDRV_OP_DESTROY] = "destroy",
    [TDRV_OP_PAUSE] = "pause",
    [TDRV_OP_RESUME] = "resume",
    [TDRV_OP_SUSPEND] = "suspend",
    [TDRV_OP_RESTORE] = "restore",
    [TDRV_OP_SET_VCPUS] = "set_vcpus",
    [TDRV_OP_SET_MEMORY] = "set_memory",
    [TDRV_OP_DISK_ATTACH] = "disk_attach",
    [TDRV_OP_DISK_DETACH] = "disk_detach",
    [TDRV_OP_NIC_ATTACH] = "nic_attach",
    [TDRV_OP_NIC_DETACH] = "nic_detach",
    [TDRV_OP_STATS] = "stats",
    [TDRV_OP_CONSOLE_OPEN] = "console_open",
    [TDRV_OP_VNC_OPEN] = "vnc_open",
};

struct tdrv_dom *tdrv_find(struct tdrv *d, const char *uuid)
{
    struct tdrv_dom *dom;

    for (dom = d->doms; dom; dom = dom->next)
        if (!strcmp(dom->cfg.uuid, uuid))
            return dom;
    return NULL;
}

int tdrv_no_domain(const char *uuid)
{
    return hv_fail(ERR_NOTFOUND, "no domain for vm %s", uuid);
}

int tdrv_conflict(const struct tdrv_dom *dom)
{
    return hv_fail(ERR_CONFLICT, "vm %s is %s", dom->cfg.uuid,
                   hv_state_name(dom->state));
}

int tdrv_lock_dom(struct tdrv *d, const char *uuid, enum tdrv_op op,
                  struct tdrv_dom **dom_out)
{
    struct tdrv_dom *dom;
    int rc;

    pthread_mutex_lock(&d->lock);
    rc = tdrv_injected(d, op);
    if (!rc) {
        dom = tdrv_find(d, uuid);
        if (dom) {
            *dom_out = dom;
            return 0;
        }
        rc = tdrv_no_domain(uuid);
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int tdrv_injected(struct tdrv *d, enum tdrv_op op)
{
    int err = d->inject[op];

    if (!err)
        return 0;
    return hv_fail(err, "injected failure");
}

void tdrv_wake(struct tdrv *d)
{
    char c = 'w';

    /* A full pipe already means "wake up"; nothing else can fail. */
    if (write(d->wake[1], &c, 1) < 0 && errno != EAGAIN)
        abort();
}

void tdrv_emit(struct tdrv *d, const char *uuid, enum hv_state s,
               const char *reason)
{
    struct tdrv_event *e = xcalloc(1, sizeof(*e));

    e->ev.type = HV_EV_STATE;
    xstrlcpy(e->ev.uuid, uuid, sizeof(e->ev.uuid));
    e->ev.state = s;
    xstrlcpy(e->ev.reason, reason, sizeof(e->ev.reason));
    *d->ev_tail = e;
    d->ev_tail = &e->next;
    pthread_cond_broadcast(&d->cond);
    tdrv_wake(d);
}

void tdrv_set_state(struct tdrv *d, struct tdrv_dom *dom, enum hv_state s,
                    const char *reason)
{
    dom->state = s;
    tdrv_emit(d, dom->cfg.uuid, s, reason);
}

static int tdrv_parse_opts(struct tdrv *d, const char *opts)
{
    char *copy = xstrdup(opts), *save = NULL, *kv;
    int rc;

    for (kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *end;
        long v;

        if (!strncmp(kv, "shutdown_ms=", 12)) {
            errno = 0;
            v = strtol(kv + 12, &end, 10);
            if (errno || *end || end == kv + 12 || v < 0 || v > 600000) {
                rc = hv_fail(ERR_INVALID, "bad shutdown_ms '%s'", kv + 12);
                goto out;
            }
            d->shutdown_ms = (int)v;
        } else if (strncmp(kv, "state=", 6)) {
            rc = hv_fail(ERR_INVALID, "unknown test URI option '%s'", kv);
            goto out;
        }
    }
    rc = 0;
out:
    free(copy);
    return rc;
}

static void tdrv_free(struct tdrv *d)
{
    struct tdrv_event *e;

    while (d->doms)
        tdrv_dom_remove(d, d->doms);
    while ((e = d->ev_head)) {
        d->ev_head = e->next;
        free(e);
    }
    if (d->wake[0] >= 0)
        close(d->wake[0]);
    if (d->wake[1] >= 0)
        close(d->wake[1]);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static int tdrv_open(const char *uri, void **priv_out)
{
    static const char base[] = "test:///default";
    struct tdrv *d = NULL;
    pthread_condattr_t ca;
    int rc;

    if (strncmp(uri, base, sizeof(base) - 1) ||
        (uri[sizeof(base) - 1] && uri[sizeof(base) - 1] != '?'))
        return hv_fail(ERR_INVALID, "unknown test URI '%s'", uri);

    d = xcalloc(1, sizeof(*d));
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cond, &ca);
    pthread_condattr_destroy(&ca);
    d->wake[0] = d->wake[1] = -1;
    d->ev_tail = &d->ev_head;
    d->shutdown_ms = TDRV_SHUTDOWN_MS;
    d->opened_ms = time_mono_ms();
    d->next_domid = 1;
    d->next_console_id = 1;
    rand_bytes(&d->seed, sizeof(d->seed));

    if (uri[sizeof(base) - 1] == '?') {
        rc = tdrv_parse_opts(d, uri + sizeof(base));
        if (rc)
            goto out;
    }
    if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK)) {
        rc = hv_fail(err_from_errno(errno), "pipe: %s", strerror(errno));
        goto out;
    }
    rc = pthread_create(&d->thread, NULL, tdrv_thread_main, d);
    if (rc) {
        rc = hv_fail(ERR_INTERNAL, "pthread_create: %s", strerror(rc));
        goto out;
    }
    *priv_out = d;
    d = NULL;
    rc = 0;
out:
    if (d)
        tdrv_free(d);
    return rc;
}

static void tdrv_close(void *priv)
{
    struct tdrv *d = priv;

    pthread_mutex_lock(&d->lock);
    d->stop = 1;
    tdrv_wake(d);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    tdrv_free(d);
}

static int tdrv_subscribe(void *priv, hv_event_cb cb, void *opaque)
{
    struct tdrv *d = priv;

    pthread_mutex_lock(&d->lock);
    /* After we return the caller may free its opaque: wait out a
     * delivery in progress (unless we are that delivery). */
    while (d->delivering && !pthread_equal(pthread_self(), d->thread))
        pthread_cond_wait(&d->cond, &d->lock);
    d->cb = cb;
    d->cb_opaque = opaque;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int tdrv_host_info(void *priv, struct hv_host_info *out)
{
    struct tdrv *d = priv;
    struct sysinfo si;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    memset(out, 0, sizeof(*out));
    if (gethostname(out->hostname, sizeof(out->hostname) - 1))
        xstrlcpy(out->hostname, "localhost", sizeof(out->hostname));
    xstrlcpy(out->driver, "test", sizeof(out->driver));
    xstrlcpy(out->hv_version, "test-1.0", sizeof(out->hv_version));
    xstrlcpy(out->capabilities, "xen-3.0-x86_64 hvm-3.0-x86_64 pvh (test)",
             sizeof(out->capabilities));
    out->cpus = cpus > 0 ? (int)cpus : 1;
    if (!sysinfo(&si)) {
        out->mem_total_bytes = (uint64_t)si.totalram * si.mem_unit;
        out->mem_free_bytes = (uint64_t)si.freeram * si.mem_unit;
    }
    out->uptime_s = (time_mono_ms() - d->opened_ms) / 1000;
    return 0;
}

static void tdrv_dom_info(const struct tdrv_dom *dom, struct hv_domain *out)
{
    memset(out, 0, sizeof(*out));
    xstrlcpy(out->uuid, dom->cfg.uuid, sizeof(out->uuid));
    xstrlcpy(out->name, dom->cfg.name, sizeof(out->name));
    out->domid = dom->domid;
    out->state = dom->state;
    out->vcpus = dom->cfg.vcpus;
    out->memory_mib = dom->cfg.memory_mib;
}

static int tdrv_list(void *priv, struct hv_domain **list_out, size_t *num_out)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    struct hv_domain *list;
    size_t n = 0, i = 0;

    pthread_mutex_lock(&d->lock);
    for (dom = d->doms; dom; dom = dom->next)
        n++;
    list = xcalloc(n ? n : 1, sizeof(*list));
    for (dom = d->doms; dom; dom = dom->next)
        tdrv_dom_info(dom, &list[i++]);
    pthread_mutex_unlock(&d->lock);
    *list_out = list;
    *num_out = n;
    return 0;
}

static int tdrv_lookup(void *priv, const char *uuid, struct hv_domain *out)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc = 0;

    pthread_mutex_lock(&d->lock);
    dom = tdrv_find(d, uuid);
    if (dom)
        tdrv_dom_info(dom, out);
    else
        rc = tdrv_no_domain(uuid);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static int tdrv_inject_failure(void *priv, const char *op, int err)
{
    struct tdrv *d = priv;
    int i;

    if (err > 0)
        return hv_fail(ERR_INVALID, "error code %d is not negative", err);
    for (i = 0; i < TDRV_OP_COUNT; i++) {
        if (strcmp(op, tdrv_op_names[i]))
            continue;
        pthread_mutex_lock(&d->lock);
        d->inject[i] = err;
        pthread_mutex_unlock(&d->lock);
        return 0;
    }
    return hv_fail(ERR_INVALID, "unknown operation '%s'", op);
}

const struct hv_driver hv_test_driver = {
    .version = HV_DRIVER_VERSION,
    .name = "test",
    .scheme = "test://",
    .open = tdrv_open,
    .close = tdrv_close,
    .subscribe = tdrv_subscribe,
    .host_info = tdrv_host_info,
    .list = tdrv_list,
    .lookup = tdrv_lookup,
    .start = tdrv_start,
    .shutdown = tdrv_shutdown,
    .reboot = tdrv_reboot,
    .destroy = tdrv_destroy,
    .pause = tdrv_pause,
    .resume = tdrv_resume,
    .suspend = tdrv_suspend,
    .restore = tdrv_restore,
    .set_vcpus = tdrv_set_vcpus,
    .set_memory = tdrv_set_memory,
    .disk_attach = tdrv_disk_attach,
    .disk_detach = tdrv_disk_detach,
    .nic_attach = tdrv_nic_attach,
    .nic_detach = tdrv_nic_detach,
    .stats = tdrv_stats,
    .console_open = tdrv_console_open,
    .vnc_open = tdrv_vnc_open,
    .inject_failure = tdrv_inject_failure,
};
