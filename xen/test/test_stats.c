/* test_stats.c: plausible, moving statistics for test guests. CPU use is
 * a bounded random walk; disk and network counters grow at random rates
 * while the guest runs and stand still while it is paused; rates are
 * computed between two hv_stats samples (or since boot for the first).
 */
#include "xen/test/test_priv.h"

#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "xen/hv_driver.h"

static double tdrv_rand01(struct tdrv *d)
{
    return (double)rand_r(&d->seed) / (double)RAND_MAX;
}

void tdrv_stats_boot(struct tdrv *d, struct tdrv_dom *dom)
{
    memset(&dom->st, 0, sizeof(dom->st));
    dom->st.advanced_ms = time_mono_ms();
    dom->st.sample_ms = dom->st.advanced_ms;
    dom->st.cpu_pct = 5.0 + 20.0 * tdrv_rand01(d);
}

/* Bytes at a random rate between lo and hi bytes/s over dt_ms. */
static uint64_t tdrv_grow(struct tdrv *d, double lo, double hi, int64_t dt_ms)
{
    return (uint64_t)((lo + (hi - lo) * tdrv_rand01(d)) * (double)dt_ms /
                      1000.0);
}

static void tdrv_stats_advance(struct tdrv *d, struct tdrv_dom *dom,
                               int64_t now)
{
    double max = 100.0 * dom->cfg.vcpus;
    int64_t dt = now - dom->st.advanced_ms;

    dom->st.advanced_ms = now;
    if (dom->state != HV_RUNNING && dom->state != HV_SHUTTING_DOWN) {
        dom->st.cpu_pct = 0.0;
        return;
    }
    dom->st.cpu_pct += (tdrv_rand01(d) - 0.5) * 10.0 * dom->cfg.vcpus;
    if (dom->st.cpu_pct < 0.5)
        dom->st.cpu_pct = 0.5 + tdrv_rand01(d);
    if (dom->st.cpu_pct > max)
        dom->st.cpu_pct = max - tdrv_rand01(d);
    if (dt <= 0)
        return;
    dom->st.now.rd += tdrv_grow(d, 64e3, 2e6, dt);
    dom->st.now.wr += tdrv_grow(d, 32e3, 1e6, dt);
    if (dom->cfg.num_nics) {
        dom->st.now.rx += tdrv_grow(d, 16e3, 5e5, dt);
        dom->st.now.tx += tdrv_grow(d, 8e3, 2e5, dt);
    }
}

static double tdrv_rate(uint64_t now, uint64_t then, int64_t dt_ms)
{
    return dt_ms > 0 ? (double)(now - then) * 1000.0 / (double)dt_ms : 0.0;
}

int tdrv_stats(void *priv, const char *uuid, struct hv_stats *out)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int64_t now = time_mono_ms(), dt;
    int rc;

    rc = tdrv_lock_dom(d, uuid, TDRV_OP_STATS, &dom);
    if (rc)
        return rc;
    tdrv_stats_advance(d, dom, now);
    dt = now - dom->st.sample_ms;
    memset(out, 0, sizeof(*out));
    out->cpu_pct = dom->st.cpu_pct;
    out->mem_bytes = dom->cfg.memory_mib << 20;
    out->mem_max_bytes = dom->cfg.memory_mib << 20;
    out->disk_rd_bytes = dom->st.now.rd;
    out->disk_wr_bytes = dom->st.now.wr;
    out->net_rx_bytes = dom->st.now.rx;
    out->net_tx_bytes = dom->st.now.tx;
    out->disk_rd_bps = tdrv_rate(dom->st.now.rd, dom->st.sample.rd, dt);
    out->disk_wr_bps = tdrv_rate(dom->st.now.wr, dom->st.sample.wr, dt);
    out->net_rx_bps = tdrv_rate(dom->st.now.rx, dom->st.sample.rx, dt);
    out->net_tx_bps = tdrv_rate(dom->st.now.tx, dom->st.sample.tx, dt);
    if (dt > 0) {
        dom->st.sample_ms = now;
        dom->st.sample = dom->st.now;
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}
