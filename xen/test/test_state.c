/* test_state.c: the test driver's lifecycle state machine.
 *
 *   (none) --start/restore--> running <--pause/resume--> paused
 *   running --shutdown/reboot--> shutting_down --(shutdown_ms)--> gone
 *                                              \--(reboot)--> running
 *   any live state --destroy--> gone;  running|paused --suspend--> gone
 *
 * A guest whose cmdline has "xenith.ignore_shutdown" ignores shutdown and
 * reboot requests (they time out, the domain keeps running); it still
 * powers off when told so on its own console. Every change queues an
 * event (test_priv.h) and broadcasts the condition variable.
 */
#include "xen/test/test_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

int tdrv_check_disk(const struct hv_disk *disk)
{
    struct stat st;

    if (!disk->path[0])
        return hv_fail(ERR_INVALID, "disk %s has no path", disk->vdev);
    if (stat(disk->path, &st))
        return hv_fail(ERR_NOTFOUND, "disk %s: %s: %s", disk->vdev, disk->path,
                       strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return hv_fail(ERR_NOTFOUND,
                       "disk %s: %s is not a regular file or block device",
                       disk->vdev, disk->path);
    return 0;
}

int tdrv_check_config(const struct hv_vm_config *cfg)
{
    size_t i, j;
    int rc;

    if (!uuid_valid(cfg->uuid))
        return hv_fail(ERR_INVALID, "bad vm uuid '%s'", cfg->uuid);
    if (cfg->vcpus < 1)
        return hv_fail(ERR_INVALID, "vm %s: vcpus %d < 1", cfg->uuid,
                       cfg->vcpus);
    if (cfg->memory_mib < 16)
        return hv_fail(ERR_INVALID, "vm %s: memory %llu MiB < 16 MiB",
                       cfg->uuid, (unsigned long long)cfg->memory_mib);
    if (cfg->num_disks > HV_MAX_DISKS || cfg->num_nics > HV_MAX_NICS)
        return hv_fail(ERR_INVALID, "vm %s: too many disks or nics", cfg->uuid);
    for (i = 0; i < cfg->num_disks; i++) {
        rc = tdrv_check_disk(&cfg->disks[i]);
        if (rc)
            return rc;
        for (j = 0; j < i; j++)
            if (!strcmp(cfg->disks[i].vdev, cfg->disks[j].vdev))
                return hv_fail(ERR_CONFLICT, "vm %s: two disks are %s",
                               cfg->uuid, cfg->disks[i].vdev);
    }
    for (i = 0; i < cfg->num_nics; i++)
        for (j = 0; j < i; j++)
            if (!strcasecmp(cfg->nics[i].mac, cfg->nics[j].mac))
                return hv_fail(ERR_CONFLICT, "vm %s: two nics have mac %s",
                               cfg->uuid, cfg->nics[i].mac);
    return 0;
}

/* A new domid and a fresh boot: stats, boot log, running. */
static void tdrv_dom_boot(struct tdrv *d, struct tdrv_dom *dom,
                          const char *reason)
{
    dom->domid = d->next_domid++;
    dom->reboot_after = 0;
    dom->shutdown_at_ms = 0;
    tdrv_stats_boot(d, dom);
    tdrv_console_boot(dom);
    tdrv_set_state(d, dom, HV_RUNNING, reason);
}

struct tdrv_dom *tdrv_dom_create(struct tdrv *d, const struct hv_vm_config *cfg,
                                 const char *reason)
{
    struct tdrv_dom *dom = xcalloc(1, sizeof(*dom));

    dom->cfg = *cfg;
    dom->ignore_shutdown = strstr(cfg->cmdline, TDRV_IGNORE_SHUTDOWN) != NULL;
    dom->next = d->doms;
    d->doms = dom;
    tdrv_dom_boot(d, dom, reason);
    return dom;
}

void tdrv_dom_remove(struct tdrv *d, struct tdrv_dom *dom)
{
    struct tdrv_dom **pp;

    for (pp = &d->doms; *pp; pp = &(*pp)->next) {
        if (*pp == dom) {
            *pp = dom->next;
            break;
        }
    }
    tdrv_console_release(dom);
    tdrv_vnc_release(dom);
    free(dom);
    pthread_cond_broadcast(&d->cond);
    tdrv_wake(d); /* its consoles left the poll set */
}

void tdrv_begin_shutdown(struct tdrv *d, struct tdrv_dom *dom, int reboot,
                         const char *reason)
{
    static const char msg[] = "[  OK  ] Reached target System Shutdown.\n";

    dom->shutdown_at_ms = time_mono_ms() + d->shutdown_ms;
    dom->reboot_after = reboot;
    xstrlcpy(dom->reason, reason, sizeof(dom->reason));
    tdrv_console_write(dom, msg, sizeof(msg) - 1);
    tdrv_set_state(d, dom, HV_SHUTTING_DOWN, reason);
}

int64_t tdrv_tick(struct tdrv *d)
{
    int64_t now = time_mono_ms(), next = -1;
    struct tdrv_dom *dom, *nx;

    for (dom = d->doms; dom; dom = nx) {
        nx = dom->next;
        if (dom->state != HV_SHUTTING_DOWN)
            continue;
        if (dom->shutdown_at_ms > now) {
            if (next < 0 || dom->shutdown_at_ms < next)
                next = dom->shutdown_at_ms;
            continue;
        }
        if (dom->reboot_after) {
            static const char msg[] = "reboot: Restarting system\n";

            tdrv_console_write(dom, msg, sizeof(msg) - 1);
            tdrv_dom_boot(d, dom, dom->reason);
        } else {
            tdrv_emit(d, dom->cfg.uuid, HV_HALTED, dom->reason);
            tdrv_dom_remove(d, dom);
        }
    }
    return next;
}

/* Wait (lock held) until the domain that had domid is gone or replaced,
 * for up to timeout_s seconds. */
static int tdrv_wait_domid(struct tdrv *d, const char *uuid, int domid,
                           int timeout_s)
{
    int64_t deadline = time_mono_ms() + (int64_t)timeout_s * 1000;

    for (;;) {
        struct tdrv_dom *dom = tdrv_find(d, uuid);
        int64_t now = time_mono_ms();
        struct timespec ts;

        if (!dom || dom->domid != domid)
            return 0;
        if (now >= deadline)
            return hv_fail(ERR_TIMEOUT, "vm %s did not shut down within %d s",
                           uuid, timeout_s);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (deadline - now) / 1000;
        ts.tv_nsec += (long)((deadline - now) % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
    }
}

/* Shared by shutdown and reboot: ask the guest, then wait. */
static int tdrv_request_down(struct tdrv *d, const char *uuid, int timeout_s,
                             int reboot)
{
    struct tdrv_dom *dom;
    int rc, domid;

    if (timeout_s < 0)
        return hv_fail(ERR_INVALID, "timeout %d < 0", timeout_s);
    rc = tdrv_lock_dom(d, uuid, reboot ? TDRV_OP_REBOOT : TDRV_OP_SHUTDOWN,
                       &dom);
    if (rc)
        return rc;
    if (dom->state == HV_SHUTTING_DOWN && !reboot && !dom->reboot_after) {
        /* Already on its way: wait with the first caller. */
    } else if (dom->state != HV_RUNNING) {
        rc = tdrv_conflict(dom);
        goto out;
    } else if (!dom->ignore_shutdown) {
        tdrv_begin_shutdown(d, dom, reboot, reboot ? "reboot" : "shutdown");
    }
    domid = dom->domid;
    rc = tdrv_wait_domid(d, uuid, domid, timeout_s);
    if (rc || !reboot)
        goto out;
    if (!tdrv_find(d, uuid))
        rc = hv_fail(ERR_CONFLICT, "vm %s was destroyed while rebooting", uuid);
out:
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int tdrv_start(void *priv, const struct hv_vm_config *cfg)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc;

    pthread_mutex_lock(&d->lock);
    rc = tdrv_injected(d, TDRV_OP_START);
    if (rc)
        goto out;
    rc = tdrv_check_config(cfg);
    if (rc)
        goto out;
    dom = tdrv_find(d, cfg->uuid);
    if (dom) {
        rc = tdrv_conflict(dom);
        goto out;
    }
    tdrv_dom_create(d, cfg, "start");
    rc = 0;
out:
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int tdrv_shutdown(void *priv, const char *uuid, int timeout_s)
{
    return tdrv_request_down(priv, uuid, timeout_s, 0);
}

int tdrv_reboot(void *priv, const char *uuid, int timeout_s)
{
    return tdrv_request_down(priv, uuid, timeout_s, 1);
}

int tdrv_destroy(void *priv, const char *uuid)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc;

    rc = tdrv_lock_dom(d, uuid, TDRV_OP_DESTROY, &dom);
    if (rc)
        return rc;
    tdrv_emit(d, uuid, HV_HALTED, "destroy");
    tdrv_dom_remove(d, dom);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* pause and resume: from one state to the other. */
static int tdrv_flip(struct tdrv *d, const char *uuid, enum tdrv_op op,
                     enum hv_state from, enum hv_state to)
{
    struct tdrv_dom *dom;
    int rc;

    rc = tdrv_lock_dom(d, uuid, op, &dom);
    if (rc)
        return rc;
    if (dom->state != from) {
        rc = tdrv_conflict(dom);
        goto out;
    }
    tdrv_set_state(d, dom, to, op == TDRV_OP_PAUSE ? "pause" : "resume");
    rc = 0;
out:
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int tdrv_pause(void *priv, const char *uuid)
{
    return tdrv_flip(priv, uuid, TDRV_OP_PAUSE, HV_RUNNING, HV_PAUSED);
}

int tdrv_resume(void *priv, const char *uuid)
{
    return tdrv_flip(priv, uuid, TDRV_OP_RESUME, HV_PAUSED, HV_RUNNING);
}
