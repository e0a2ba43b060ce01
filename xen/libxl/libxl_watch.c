/* libxl_watch.c: the watcher thread of the libxl driver. Every
 * LX_WATCH_MS it lists the domains, reports changes nobody else reported
 * (a guest that paused, crashed, or vanished) and acts as the toolstack
 * for guests that shut themselves down: poweroff, crash and watchdog
 * destroy the domain; reboot restarts it from libxl's stored config.
 * Domains a caller is busy with (lx_busy) are left alone.
 * UNTESTED: needs real Xen.
 */
#include "xen/libxl/libxl_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xalloc.h"

struct lx_change {
    char uuid[37];
    uint32_t domid;
    enum hv_state state;
    int act; /* libxl shutdown reason to act on, or -1 */
};

static const char *lx_reason(int shutdown_reason)
{
    switch (shutdown_reason) {
    case LIBXL_SHUTDOWN_REASON_POWEROFF:
        return "poweroff";
    case LIBXL_SHUTDOWN_REASON_REBOOT:
        return "reboot";
    case LIBXL_SHUTDOWN_REASON_CRASH:
        return "crash";
    case LIBXL_SHUTDOWN_REASON_WATCHDOG:
        return "watchdog";
    default:
        return "shutdown";
    }
}

/* Act for a guest that shut itself down. */
static void lx_act(struct lx *x, const struct lx_change *c)
{
    uint32_t newid;
    int r;

    if (c->act == LIBXL_SHUTDOWN_REASON_SUSPEND ||
        c->act == LIBXL_SHUTDOWN_REASON_SOFT_RESET)
        return;
    lx_busy(x, c->domid, 1);
    if (c->act == LIBXL_SHUTDOWN_REASON_REBOOT) {
        if (!lx_restart(x, c->domid, c->uuid, &newid))
            lx_emit(x, c->uuid, newid, HV_RUNNING, "reboot");
    } else {
        r = libxl_domain_destroy(x->ctx, c->domid, NULL);
        if (r && r != ERROR_DOMAIN_NOTFOUND)
            log_error("libxl: destroy after %s failed: rc=%d vm=%s",
                      lx_reason(c->act), r, c->uuid);
        else
            lx_emit(x, c->uuid, c->domid, HV_HALTED, lx_reason(c->act));
    }
    lx_busy(x, c->domid, 0);
}

/* Compare a listing with the snapshot (lock held); collect the changes
 * to report and the domains to act on. */
static size_t lx_diff(struct lx *x, const libxl_dominfo *list, int n,
                      struct lx_change *ch)
{
    size_t k = 0, i;
    int j;

    for (j = 0; j < n; j++) {
        struct lx_change c;

        if (list[j].domid == 0)
            continue;
        lx_uuid_str(&list[j].uuid, c.uuid);
        c.domid = list[j].domid;
        c.state = lx_state(&list[j]);
        c.act = list[j].shutdown && !lx_is_busy(x, c.domid)
                    ? (int)list[j].shutdown_reason
                    : -1;
        for (i = 0; i < x->num_seen; i++)
            if (!strcmp(x->seen[i].uuid, c.uuid))
                break;
        if (i == x->num_seen || x->seen[i].domid != c.domid ||
            x->seen[i].state != c.state || c.act >= 0)
            ch[k++] = c;
    }
    for (i = 0; i < x->num_seen; i++) {
        libxl_uuid u;
        int found = 0;

        libxl_uuid_from_string(&u, x->seen[i].uuid);
        for (j = 0; j < n && !found; j++)
            found = !libxl_uuid_compare(&u, &list[j].uuid);
        if (!found && !lx_is_busy(x, x->seen[i].domid)) {
            ch[k] = (struct lx_change){ "", x->seen[i].domid, HV_HALTED, -1 };
            xstrlcpy(ch[k].uuid, x->seen[i].uuid, sizeof(ch[k].uuid));
            k++;
        }
    }
    return k;
}

static void lx_watch_once(struct lx *x)
{
    libxl_dominfo *list;
    struct lx_change *ch;
    uint64_t gen;
    size_t k, i;
    int n;

    pthread_mutex_lock(&x->lock);
    gen = x->gen;
    pthread_mutex_unlock(&x->lock);
    list = libxl_list_domain(x->ctx, &n);
    if (!list)
        return;
    pthread_mutex_lock(&x->lock);
    ch = xcalloc((size_t)n + x->num_seen + 1, sizeof(*ch));
    /* A caller changed something meanwhile: this listing may be stale. */
    k = x->gen == gen ? lx_diff(x, list, n, ch) : 0;
    pthread_mutex_unlock(&x->lock);
    libxl_dominfo_list_free(list, n);
    for (i = 0; i < k; i++) {
        if (ch[i].act >= 0)
            lx_act(x, &ch[i]);
        else
            lx_emit(x, ch[i].uuid, ch[i].domid, ch[i].state,
                    ch[i].state == HV_HALTED ? "gone" : "changed");
    }
    free(ch);
}

void *lx_watch_main(void *arg)
{
    struct lx *x = arg;
    struct timespec ts;

    pthread_mutex_lock(&x->lock);
    while (!x->stop) {
        pthread_mutex_unlock(&x->lock);
        lx_watch_once(x);
        pthread_mutex_lock(&x->lock);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += LX_WATCH_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!x->stop)
            pthread_cond_timedwait(&x->cond, &x->lock, &ts);
    }
    pthread_mutex_unlock(&x->lock);
    return NULL;
}
