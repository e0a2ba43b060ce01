/* test_live.c: changes to a live (running or paused) test domain:
 * vcpus, memory, disk and nic hot-plug. A disk's vdev and a nic's MAC
 * are unique within a domain (ERR_CONFLICT otherwise).
 */
#include "xen/test/test_priv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "xen/hv_driver.h"

#define TDRV_MAX_VCPUS 128

/* Lock, check injection, find a live domain. On success the lock stays
 * held and *dom_out is set; on error the lock is released. */
static int tdrv_live_begin(struct tdrv *d, const char *uuid, enum tdrv_op op,
                           struct tdrv_dom **dom_out)
{
    struct tdrv_dom *dom = NULL;
    int rc;

    *dom_out = NULL;
    rc = tdrv_lock_dom(d, uuid, op, &dom);
    if (rc)
        return rc;
    if (dom->state != HV_RUNNING && dom->state != HV_PAUSED) {
        rc = tdrv_conflict(dom);
        pthread_mutex_unlock(&d->lock);
        return rc;
    }
    *dom_out = dom;
    return 0;
}

static int tdrv_live_end(struct tdrv *d, struct tdrv_dom *dom, int rc,
                         const char *what)
{
    if (!rc && what) {
        char line[160];

        snprintf(line, sizeof(line), "xenith-test: %s\n", what);
        tdrv_console_write(dom, line, strlen(line));
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int tdrv_set_vcpus(void *priv, const char *uuid, int vcpus)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc;

    if (vcpus < 1 || vcpus > TDRV_MAX_VCPUS)
        return hv_fail(ERR_INVALID, "vcpus %d not in 1..%d", vcpus,
                       TDRV_MAX_VCPUS);
    rc = tdrv_live_begin(d, uuid, TDRV_OP_SET_VCPUS, &dom);
    if (rc)
        return rc;
    dom->cfg.vcpus = vcpus;
    if (dom->st.cpu_pct > 100.0 * vcpus)
        dom->st.cpu_pct = 100.0 * vcpus;
    return tdrv_live_end(d, dom, 0, "vcpus changed");
}

int tdrv_set_memory(void *priv, const char *uuid, uint64_t memory_mib)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc;

    if (memory_mib < 16)
        return hv_fail(ERR_INVALID, "memory %llu MiB < 16 MiB",
                       (unsigned long long)memory_mib);
    rc = tdrv_live_begin(d, uuid, TDRV_OP_SET_MEMORY, &dom);
    if (rc)
        return rc;
    dom->cfg.memory_mib = memory_mib;
    return tdrv_live_end(d, dom, 0, "memory target changed");
}

static struct hv_disk *tdrv_find_disk(struct tdrv_dom *dom, const char *vdev)
{
    size_t i;

    for (i = 0; i < dom->cfg.num_disks; i++)
        if (!strcmp(dom->cfg.disks[i].vdev, vdev))
            return &dom->cfg.disks[i];
    return NULL;
}

static struct hv_nic *tdrv_find_nic(struct tdrv_dom *dom, const char *mac)
{
    size_t i;

    for (i = 0; i < dom->cfg.num_nics; i++)
        if (!strcasecmp(dom->cfg.nics[i].mac, mac))
            return &dom->cfg.nics[i];
    return NULL;
}

int tdrv_disk_attach(void *priv, const char *uuid, const struct hv_disk *disk)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc;

    if (!disk->vdev[0])
        return hv_fail(ERR_INVALID, "disk has no vdev");
    rc = tdrv_live_begin(d, uuid, TDRV_OP_DISK_ATTACH, &dom);
    if (rc)
        return rc;
    if (tdrv_find_disk(dom, disk->vdev))
        rc = hv_fail(ERR_CONFLICT, "vm %s already has disk %s", uuid,
                     disk->vdev);
    else if (dom->cfg.num_disks >= HV_MAX_DISKS)
        rc = hv_fail(ERR_CONFLICT, "vm %s has %d disks", uuid, HV_MAX_DISKS);
    else
        rc = tdrv_check_disk(disk);
    if (!rc)
        dom->cfg.disks[dom->cfg.num_disks++] = *disk;
    return tdrv_live_end(d, dom, rc, "disk attached");
}

int tdrv_disk_detach(void *priv, const char *uuid, const char *vdev)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    struct hv_disk *disk;
    int rc;

    rc = tdrv_live_begin(d, uuid, TDRV_OP_DISK_DETACH, &dom);
    if (rc)
        return rc;
    disk = tdrv_find_disk(dom, vdev);
    if (!disk) {
        rc = hv_fail(ERR_NOTFOUND, "vm %s has no disk %s", uuid, vdev);
    } else {
        *disk = dom->cfg.disks[--dom->cfg.num_disks];
    }
    return tdrv_live_end(d, dom, rc, "disk detached");
}

static int tdrv_mac_valid(const char *mac)
{
    unsigned int b[6];
    char tail;

    return strlen(mac) == 17 &&
           sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
                  &b[4], &b[5], &tail) == 6;
}

int tdrv_nic_attach(void *priv, const char *uuid, const struct hv_nic *nic)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    int rc;

    if (!tdrv_mac_valid(nic->mac))
        return hv_fail(ERR_INVALID, "bad mac '%s'", nic->mac);
    rc = tdrv_live_begin(d, uuid, TDRV_OP_NIC_ATTACH, &dom);
    if (rc)
        return rc;
    if (tdrv_find_nic(dom, nic->mac))
        rc = hv_fail(ERR_CONFLICT, "vm %s already has a nic with mac %s", uuid,
                     nic->mac);
    else if (dom->cfg.num_nics >= HV_MAX_NICS)
        rc = hv_fail(ERR_CONFLICT, "vm %s has %d nics", uuid, HV_MAX_NICS);
    if (!rc)
        dom->cfg.nics[dom->cfg.num_nics++] = *nic;
    return tdrv_live_end(d, dom, rc, "nic attached");
}

int tdrv_nic_detach(void *priv, const char *uuid, const char *mac)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    struct hv_nic *nic;
    int rc;

    rc = tdrv_live_begin(d, uuid, TDRV_OP_NIC_DETACH, &dom);
    if (rc)
        return rc;
    nic = tdrv_find_nic(dom, mac);
    if (!nic)
        rc = hv_fail(ERR_NOTFOUND, "vm %s has no nic %s", uuid, mac);
    else
        *nic = dom->cfg.nics[--dom->cfg.num_nics];
    return tdrv_live_end(d, dom, rc, "nic detached");
}
