/* libxl_live.c: changes to a live domain through libxl: vcpus online,
 * memory target, disk and nic hot-plug. Needs real Xen: tests/xen
 * covers vcpus, memory and the disk and vif hot-plug of a PV guest. */
#include "xen/libxl/libxl_priv.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"
#include "xen/libxl/libxl_config.h"

/* The domid of a running or paused domain. */
static int lx_live(struct lx *x, const char *uuid, uint32_t *domid_out,
                   int *max_vcpus_out)
{
    libxl_dominfo info;
    enum hv_state s;
    int rc;

    rc = lx_find(x, uuid, domid_out, &info);
    if (rc)
        return rc;
    s = lx_state(&info);
    if (max_vcpus_out)
        *max_vcpus_out = (int)info.vcpu_max_id + 1;
    libxl_dominfo_dispose(&info);
    if (s != HV_RUNNING && s != HV_PAUSED)
        return hv_fail(ERR_CONFLICT, "vm %s is %s", uuid, hv_state_name(s));
    return 0;
}

int lx_set_vcpus(void *priv, const char *uuid, int vcpus)
{
    struct lx *x = priv;
    libxl_bitmap map;
    uint32_t domid;
    int rc, r, max, i;

    libxl_bitmap_init(&map);
    rc = lx_live(x, uuid, &domid, &max);
    if (rc)
        goto out;
    if (vcpus < 1 || vcpus > max) {
        rc = hv_fail(ERR_INVALID,
                     "vcpus %d not in 1..%d (the maximum the "
                     "vm was started with)",
                     vcpus, max);
        goto out;
    }
    r = libxl_cpu_bitmap_alloc(x->ctx, &map, max);
    if (r) {
        rc = lx_fail(r, "cpu_bitmap_alloc", uuid);
        goto out;
    }
    for (i = 0; i < vcpus; i++)
        libxl_bitmap_set(&map, i);
    r = libxl_set_vcpuonline(x->ctx, domid, &map, NULL);
    if (r) {
        rc = lx_fail(r, "set_vcpuonline", uuid);
        goto out;
    }
    rc = 0;
out:
    libxl_bitmap_dispose(&map);
    return rc;
}

int lx_set_memory(void *priv, const char *uuid, uint64_t memory_mib)
{
    struct lx *x = priv;
    uint32_t domid;
    int rc, r;

    if (memory_mib < 16)
        return hv_fail(ERR_INVALID, "memory %llu MiB < 16 MiB",
                       (unsigned long long)memory_mib);
    rc = lx_live(x, uuid, &domid, NULL);
    if (rc)
        return rc;
    r = libxl_set_memory_target(x->ctx, domid, (int64_t)memory_mib * 1024, 0,
                                1);
    if (r)
        return lx_fail(r, "set_memory_target", uuid);
    return 0;
}

int lx_disk_attach(void *priv, const char *uuid, const struct hv_disk *disk)
{
    struct lx *x = priv;
    libxl_device_disk d;
    uint32_t domid;
    int rc, r;

    libxl_device_disk_init(&d);
    rc = lx_live(x, uuid, &domid, NULL);
    if (rc)
        goto out;
    hv_libxl_make_disk(disk, &d);
    r = libxl_device_disk_add(x->ctx, domid, &d, NULL);
    if (r) {
        rc = lx_fail(r, "device_disk_add", uuid);
        goto out;
    }
    rc = 0;
out:
    libxl_device_disk_dispose(&d);
    return rc;
}

int lx_disk_detach(void *priv, const char *uuid, const char *vdev)
{
    struct lx *x = priv;
    libxl_device_disk d;
    uint32_t domid;
    int rc, r;

    libxl_device_disk_init(&d);
    rc = lx_live(x, uuid, &domid, NULL);
    if (rc)
        goto out;
    if (libxl_vdev_to_device_disk(x->ctx, domid, vdev, &d)) {
        rc = hv_fail(ERR_NOTFOUND, "vm %s has no disk %s", uuid, vdev);
        goto out;
    }
    r = libxl_device_disk_remove(x->ctx, domid, &d, NULL);
    if (r) {
        rc = lx_fail(r, "device_disk_remove", uuid);
        goto out;
    }
    rc = 0;
out:
    libxl_device_disk_dispose(&d);
    return rc;
}

int lx_nic_attach(void *priv, const char *uuid, const struct hv_nic *nic)
{
    struct lx *x = priv;
    libxl_device_nic n;
    uint32_t domid;
    int rc, r;

    libxl_device_nic_init(&n);
    rc = lx_live(x, uuid, &domid, NULL);
    if (rc)
        goto out;
    /* A NIC added live is a PV vif, HVM guests included (what libxl
     * picks itself for hot-plug: the device model cannot grow an
     * emulated NIC). */
    rc = hv_libxl_make_nic(nic, -1, HV_BOOT_PV, &n);
    if (rc)
        goto out;
    r = libxl_device_nic_add(x->ctx, domid, &n, NULL);
    if (r) {
        rc = lx_fail(r, "device_nic_add", uuid);
        goto out;
    }
    rc = 0;
out:
    libxl_device_nic_dispose(&n);
    return rc;
}

int lx_nic_detach(void *priv, const char *uuid, const char *mac)
{
    struct lx *x = priv;
    libxl_device_nic n;
    uint32_t domid;
    int rc, r;

    libxl_device_nic_init(&n);
    rc = lx_live(x, uuid, &domid, NULL);
    if (rc)
        goto out;
    if (libxl_mac_to_device_nic(x->ctx, domid, mac, &n)) {
        rc = hv_fail(ERR_NOTFOUND, "vm %s has no nic %s", uuid, mac);
        goto out;
    }
    r = libxl_device_nic_remove(x->ctx, domid, &n, NULL);
    if (r) {
        rc = lx_fail(r, "device_nic_remove", uuid);
        goto out;
    }
    rc = 0;
out:
    libxl_device_nic_dispose(&n);
    return rc;
}
