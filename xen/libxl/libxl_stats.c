/* libxl_stats.c: domain statistics from libxenstat: CPU time turned into
 * a percentage between two samples, memory, and block (sectors x 512)
 * and network byte counters with their rates. The previous sample of
 * each VM is kept in x->samples. UNTESTED: needs real Xen. */
#include "xen/libxl/libxl_priv.h"

#include <stdlib.h>
#include <string.h>
#include <xenstat.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

void lx_stats_release(struct lx *x)
{
    if (x->xenstat)
        xenstat_uninit(x->xenstat);
    x->xenstat = NULL;
    free(x->samples);
    x->samples = NULL;
    x->num_samples = 0;
}

/* The previous sample for uuid (lock held), made if new. */
static struct lx_sample *lx_sample_get(struct lx *x, const char *uuid)
{
    size_t i;

    for (i = 0; i < x->num_samples; i++)
        if (!strcmp(x->samples[i].uuid, uuid))
            return &x->samples[i];
    x->samples =
        xrealloc(x->samples, (x->num_samples + 1) * sizeof(*x->samples));
    memset(&x->samples[i], 0, sizeof(x->samples[i]));
    xstrlcpy(x->samples[i].uuid, uuid, sizeof(x->samples[i].uuid));
    x->num_samples++;
    return &x->samples[i];
}

static double lx_rate(uint64_t now, uint64_t then, int64_t dt_ms)
{
    return dt_ms > 0 && now >= then
               ? (double)(now - then) * 1000.0 / (double)dt_ms
               : 0.0;
}

static void lx_fill_stats(xenstat_domain *dom, struct lx_sample *cur)
{
    unsigned int i, n;

    cur->cpu_ns = xenstat_domain_cpu_ns(dom);
    n = xenstat_domain_num_vbds(dom);
    for (i = 0; i < n; i++) {
        xenstat_vbd *v = xenstat_domain_vbd(dom, i);

        cur->rd += xenstat_vbd_rd_sects(v) * 512;
        cur->wr += xenstat_vbd_wr_sects(v) * 512;
    }
    n = xenstat_domain_num_networks(dom);
    for (i = 0; i < n; i++) {
        xenstat_network *net = xenstat_domain_network(dom, i);

        cur->rx += xenstat_network_rbytes(net);
        cur->tx += xenstat_network_tbytes(net);
    }
}

int lx_stats(void *priv, const char *uuid, struct hv_stats *out)
{
    struct lx *x = priv;
    xenstat_node *node = NULL;
    xenstat_domain *dom;
    struct lx_sample cur, *prev;
    uint32_t domid;
    int64_t dt;
    unsigned int vcpus;
    int rc;

    rc = lx_find(x, uuid, &domid, NULL);
    if (rc)
        return rc;
    memset(&cur, 0, sizeof(cur));
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&x->lock);
    if (!x->xenstat)
        x->xenstat = xenstat_init();
    if (!x->xenstat) {
        rc = hv_fail(ERR_INTERNAL, "xenstat_init failed");
        goto out;
    }
    node = xenstat_get_node(x->xenstat, XENSTAT_ALL);
    dom = node ? xenstat_node_domain(node, domid) : NULL;
    if (!dom) {
        rc = hv_fail(ERR_NOTFOUND, "no xenstat data for vm %s", uuid);
        goto out;
    }
    cur.wall_ms = time_mono_ms();
    lx_fill_stats(dom, &cur);
    vcpus = xenstat_domain_num_vcpus(dom);
    out->mem_bytes = xenstat_domain_cur_mem(dom);
    out->mem_max_bytes = xenstat_domain_max_mem(dom);
    out->disk_rd_bytes = cur.rd;
    out->disk_wr_bytes = cur.wr;
    out->net_rx_bytes = cur.rx;
    out->net_tx_bytes = cur.tx;
    prev = lx_sample_get(x, uuid);
    dt = prev->wall_ms ? cur.wall_ms - prev->wall_ms : 0;
    if (dt > 0 && cur.cpu_ns >= prev->cpu_ns) {
        out->cpu_pct =
            (double)(cur.cpu_ns - prev->cpu_ns) / 1e6 / (double)dt * 100.0;
        if (out->cpu_pct > 100.0 * vcpus)
            out->cpu_pct = 100.0 * vcpus;
    }
    out->disk_rd_bps = lx_rate(cur.rd, prev->rd, dt);
    out->disk_wr_bps = lx_rate(cur.wr, prev->wr, dt);
    out->net_rx_bps = lx_rate(cur.rx, prev->rx, dt);
    out->net_tx_bps = lx_rate(cur.tx, prev->tx, dt);
    xstrlcpy(cur.uuid, uuid, sizeof(cur.uuid));
    *prev = cur;
    rc = 0;
out:
    if (node)
        xenstat_free_node(node);
    pthread_mutex_unlock(&x->lock);
    return rc;
}
