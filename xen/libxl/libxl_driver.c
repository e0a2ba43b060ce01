/* libxl_driver.c: the xen:///system driver: vtable, open/close, host
 * info, domain list and lookup, events. The lifecycle is in
 * libxl_lifecycle.c, live changes in libxl_live.c, stats (libxenstat) in
 * libxl_stats.c, consoles in libxl_console.c, the watcher thread in
 * libxl_watch.c, the config conversion in libxl_config.c. libxl_priv.h
 * describes the locking. Everything here needs a real Xen dom0: none of
 * it runs in the unit tests (only libxl_config.c does).
 */
#include "xen/libxl/libxl_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"
#include "xen/hv_probe.h"

int lx_fail(int lrc, const char *what, const char *uuid)
{
    int err;

    switch (lrc) {
    case ERROR_INVAL:
        err = ERR_INVALID;
        break;
    case ERROR_DOMAIN_NOTFOUND:
    case ERROR_NOTFOUND:
        err = ERR_NOTFOUND;
        break;
    case ERROR_DEVICE_EXISTS:
        err = ERR_CONFLICT;
        break;
    case ERROR_TIMEDOUT:
    case ERROR_GUEST_TIMEDOUT:
        err = ERR_TIMEOUT;
        break;
    case ERROR_NOMEM:
        err = ERR_NOSPACE;
        break;
    case ERROR_NI:
        err = ERR_UNSUPPORTED;
        break;
    default:
        err = ERR_INTERNAL;
        break;
    }
    log_error("libxl: %s failed: rc=%d vm=%s", what, lrc, uuid ? uuid : "-");
    return hv_fail(err, "libxl %s failed (%d) for vm %s", what, lrc,
                   uuid ? uuid : "-");
}

enum hv_state lx_state(const libxl_dominfo *info)
{
    if (info->shutdown && info->shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH)
        return HV_CRASHED;
    if (info->shutdown || info->dying)
        return HV_SHUTTING_DOWN;
    if (info->paused)
        return HV_PAUSED;
    return HV_RUNNING;
}

int lx_find(struct lx *x, const char *uuid, uint32_t *domid_out,
            libxl_dominfo *info_out)
{
    libxl_dominfo *list;
    libxl_uuid want;
    int n, i, rc = ERR_NOTFOUND;

    if (libxl_uuid_from_string(&want, uuid))
        return hv_fail(ERR_NOTFOUND, "bad vm uuid '%s'", uuid);
    list = libxl_list_domain(x->ctx, &n);
    if (!list)
        return hv_fail(ERR_INTERNAL, "libxl_list_domain failed");
    for (i = 0; i < n; i++) {
        if (list[i].domid == 0 || libxl_uuid_compare(&list[i].uuid, &want))
            continue;
        *domid_out = list[i].domid;
        if (info_out) {
            libxl_dominfo_init(info_out);
            libxl_dominfo_copy(x->ctx, info_out, &list[i]);
        }
        rc = 0;
        break;
    }
    libxl_dominfo_list_free(list, n);
    if (rc)
        return hv_fail(ERR_NOTFOUND, "no domain for vm %s", uuid);
    return 0;
}

int lx_find_state(struct lx *x, const char *uuid, uint32_t *domid_out,
                  enum hv_state *state_out)
{
    libxl_dominfo info;
    int rc;

    rc = lx_find(x, uuid, domid_out, &info);
    if (rc)
        return rc;
    *state_out = lx_state(&info);
    libxl_dominfo_dispose(&info);
    return 0;
}

void lx_busy(struct lx *x, uint32_t domid, int busy)
{
    size_t i;

    pthread_mutex_lock(&x->lock);
    for (i = 0; i < x->num_busy; i++)
        if (x->busy[i] == domid)
            break;
    if (busy && i == x->num_busy &&
        x->num_busy < sizeof(x->busy) / sizeof(x->busy[0]))
        x->busy[x->num_busy++] = domid;
    else if (!busy && i < x->num_busy)
        x->busy[i] = x->busy[--x->num_busy];
    pthread_mutex_unlock(&x->lock);
}

int lx_is_busy(struct lx *x, uint32_t domid)
{
    size_t i;

    for (i = 0; i < x->num_busy; i++)
        if (x->busy[i] == domid)
            return 1;
    return 0;
}

void lx_uuid_str(const libxl_uuid *u, char out[37])
{
    snprintf(out, 37, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(*u));
}

/* Update the watcher's snapshot for uuid (lock held). */
static void lx_seen_set(struct lx *x, const char *uuid, uint32_t domid,
                        enum hv_state s)
{
    size_t i;

    for (i = 0; i < x->num_seen; i++)
        if (!strcmp(x->seen[i].uuid, uuid))
            break;
    if (s == HV_HALTED || s == HV_SUSPENDED) {
        if (i < x->num_seen)
            x->seen[i] = x->seen[--x->num_seen];
        return;
    }
    if (i == x->num_seen) {
        x->seen = xrealloc(x->seen, (x->num_seen + 1) * sizeof(*x->seen));
        xstrlcpy(x->seen[i].uuid, uuid, sizeof(x->seen[i].uuid));
        x->num_seen++;
    }
    x->seen[i].domid = domid;
    x->seen[i].state = s;
}

void lx_emit(struct lx *x, const char *uuid, uint32_t domid, enum hv_state s,
             const char *reason)
{
    struct hv_event ev;
    hv_event_cb cb;
    void *opaque;

    memset(&ev, 0, sizeof(ev));
    ev.type = HV_EV_STATE;
    xstrlcpy(ev.uuid, uuid, sizeof(ev.uuid));
    ev.state = s;
    xstrlcpy(ev.reason, reason, sizeof(ev.reason));
    pthread_mutex_lock(&x->lock);
    lx_seen_set(x, uuid, domid, s);
    x->gen++;
    cb = x->cb;
    opaque = x->cb_opaque;
    pthread_mutex_unlock(&x->lock);
    if (cb)
        cb(opaque, &ev);
}

static void lx_free(struct lx *x)
{
    lx_stats_release(x);
    libxl_ctx_free(x->ctx);
    xtl_logger_destroy(x->lg);
    free(x->seen);
    pthread_cond_destroy(&x->cond);
    pthread_mutex_destroy(&x->lock);
    free(x);
}

static int lx_open(const char *uri, void **priv_out)
{
    struct lx *x = NULL;
    int rc, r;

    if (strcmp(uri, "xen:///system"))
        return hv_fail(ERR_INVALID, "unknown xen URI '%s'", uri);
    if (!hv_probe_xen())
        return hv_fail(ERR_UNSUPPORTED, "Xen is not running on this host");

    x = xcalloc(1, sizeof(*x));
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->cond, NULL);
    x->opened_ms = time_mono_ms();
    x->lg = lx_logger_new();
    r = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, x->lg);
    if (r) {
        x->ctx = NULL;
        rc = lx_fail(r, "ctx_alloc", NULL);
        goto out;
    }
    r = pthread_create(&x->watcher, NULL, lx_watch_main, x);
    if (r) {
        rc = hv_fail(ERR_INTERNAL, "pthread_create: %s", strerror(r));
        goto out;
    }
    *priv_out = x;
    x = NULL;
    rc = 0;
out:
    if (x)
        lx_free(x);
    return rc;
}

static void lx_close(void *priv)
{
    struct lx *x = priv;

    pthread_mutex_lock(&x->lock);
    x->stop = 1;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    pthread_join(x->watcher, NULL);
    lx_free(x);
}

static int lx_subscribe(void *priv, hv_event_cb cb, void *opaque)
{
    struct lx *x = priv;

    pthread_mutex_lock(&x->lock);
    x->cb = cb;
    x->cb_opaque = opaque;
    pthread_mutex_unlock(&x->lock);
    return 0;
}

static int lx_host_info(void *priv, struct hv_host_info *out)
{
    struct lx *x = priv;
    const libxl_version_info *vi;
    libxl_physinfo pi;
    int r, rc;

    memset(out, 0, sizeof(*out));
    libxl_physinfo_init(&pi);
    vi = libxl_get_version_info(x->ctx);
    if (!vi) {
        rc = hv_fail(ERR_INTERNAL, "libxl_get_version_info failed");
        goto out;
    }
    r = libxl_get_physinfo(x->ctx, &pi);
    if (r) {
        rc = lx_fail(r, "get_physinfo", NULL);
        goto out;
    }
    if (gethostname(out->hostname, sizeof(out->hostname) - 1))
        xstrlcpy(out->hostname, "localhost", sizeof(out->hostname));
    xstrlcpy(out->driver, "libxl", sizeof(out->driver));
    snprintf(out->hv_version, sizeof(out->hv_version), "%d.%d%s",
             vi->xen_version_major, vi->xen_version_minor,
             vi->xen_version_extra ? vi->xen_version_extra : "");
    xstrlcpy(out->capabilities, vi->capabilities ? vi->capabilities : "",
             sizeof(out->capabilities));
    out->cpus = (int)pi.nr_cpus;
    out->mem_total_bytes = pi.total_pages * 4096;
    out->mem_free_bytes = pi.free_pages * 4096;
    out->uptime_s = (time_mono_ms() - x->opened_ms) / 1000;
    rc = 0;
out:
    libxl_physinfo_dispose(&pi);
    return rc;
}

static void lx_fill(struct lx *x, const libxl_dominfo *info,
                    struct hv_domain *out)
{
    char *name = libxl_domid_to_name(x->ctx, info->domid);

    memset(out, 0, sizeof(*out));
    lx_uuid_str(&info->uuid, out->uuid);
    xstrlcpy(out->name, name ? name : "", sizeof(out->name));
    free(name);
    out->domid = (int)info->domid;
    out->state = lx_state(info);
    out->vcpus = (int)info->vcpu_online;
    out->memory_mib = info->current_memkb / 1024;
}

static int lx_list(void *priv, struct hv_domain **list_out, size_t *num_out)
{
    struct lx *x = priv;
    libxl_dominfo *list;
    struct hv_domain *out;
    int n, i;
    size_t k = 0;

    list = libxl_list_domain(x->ctx, &n);
    if (!list)
        return hv_fail(ERR_INTERNAL, "libxl_list_domain failed");
    out = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*out));
    for (i = 0; i < n; i++)
        if (list[i].domid != 0)
            lx_fill(x, &list[i], &out[k++]);
    libxl_dominfo_list_free(list, n);
    *list_out = out;
    *num_out = k;
    return 0;
}

static int lx_lookup(void *priv, const char *uuid, struct hv_domain *out)
{
    struct lx *x = priv;
    libxl_dominfo info;
    uint32_t domid;
    int rc;

    rc = lx_find(x, uuid, &domid, &info);
    if (rc)
        return rc;
    lx_fill(x, &info, out);
    libxl_dominfo_dispose(&info);
    return 0;
}

const struct hv_driver hv_libxl_driver = {
    .version = HV_DRIVER_VERSION,
    .name = "libxl",
    .scheme = "xen://",
    .open = lx_open,
    .close = lx_close,
    .subscribe = lx_subscribe,
    .host_info = lx_host_info,
    .list = lx_list,
    .lookup = lx_lookup,
    .start = lx_start,
    .shutdown = lx_shutdown,
    .reboot = lx_reboot,
    .destroy = lx_destroy,
    .pause = lx_pause,
    .resume = lx_resume,
    .suspend = lx_suspend,
    .restore = lx_restore,
    .set_vcpus = lx_set_vcpus,
    .set_memory = lx_set_memory,
    .disk_attach = lx_disk_attach,
    .disk_detach = lx_disk_detach,
    .nic_attach = lx_nic_attach,
    .nic_detach = lx_nic_detach,
    .stats = lx_stats,
    .console_open = lx_console_open,
    .vnc_open = lx_vnc_open,
};
