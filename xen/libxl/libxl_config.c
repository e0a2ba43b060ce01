/* libxl_config.c: struct hv_vm_config -> libxl_domain_config (see
 * libxl_config.h for the choices). Allocates only with malloc-family
 * functions, since libxl's _dispose functions free() what they find. */
#include "xen/libxl/libxl_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

int hv_libxl_parse_mac(const char *s, libxl_mac *mac)
{
    unsigned int b[6];
    char tail;
    int i;

    if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1],
                                  &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return hv_fail(ERR_INVALID, "bad mac '%s'", s);
    for (i = 0; i < 6; i++)
        (*mac)[i] = (uint8_t)b[i];
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s[0] ? xstrdup(s) : NULL;
}

void hv_libxl_make_disk(const struct hv_disk *d, libxl_device_disk *x)
{
    x->pdev_path = xstrdup(d->path);
    x->vdev = xstrdup(d->vdev);
    /* libxl wants qdisk (qemu) behind an HVM guest's CD-ROM: "Backend
     * for CD devices on HVM guests must be Qdisk". */
    x->backend = d->cdrom ? LIBXL_DISK_BACKEND_QDISK : LIBXL_DISK_BACKEND_PHY;
    x->format = LIBXL_DISK_FORMAT_RAW;
    x->is_cdrom = d->cdrom ? 1 : 0;
    x->removable = d->cdrom ? 1 : 0;
    x->readwrite = d->readonly || d->cdrom ? 0 : 1;
}

int hv_libxl_make_nic(const struct hv_nic *n, int devid, enum hv_boot_type boot,
                      libxl_device_nic *x)
{
    int rc;

    rc = hv_libxl_parse_mac(n->mac, &x->mac);
    if (rc)
        return rc;
    x->devid = devid;
    x->bridge = xstrdup(n->bridge);
    x->nictype =
        boot == HV_BOOT_HVM ? LIBXL_NIC_TYPE_VIF_IOEMU : LIBXL_NIC_TYPE_VIF;
    return 0;
}

static void make_hvm(const struct hv_vm_config *cfg, libxl_domain_build_info *b)
{
    size_t i;
    int cdrom = 0;

    for (i = 0; i < cfg->num_disks; i++)
        cdrom |= cfg->disks[i].cdrom;
    b->u.hvm.boot = xstrdup(cdrom ? "dc" : "c");
    b->u.hvm.serial = xstrdup("pty");
    b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_STD;
    libxl_defbool_set(&b->u.hvm.vnc.enable, true);
    b->u.hvm.vnc.listen = xstrdup("127.0.0.1");
    libxl_defbool_set(&b->u.hvm.vnc.findunused, true);
    libxl_defbool_set(&b->u.hvm.nographic, false);
    libxl_defbool_set(&b->u.hvm.acpi, true);
}

int hv_libxl_make_config(const struct hv_vm_config *cfg,
                         libxl_domain_config *d_config)
{
    libxl_domain_create_info *c = &d_config->c_info;
    libxl_domain_build_info *b = &d_config->b_info;
    libxl_domain_type type;
    size_t i;
    int rc;

    switch (cfg->boot) {
    case HV_BOOT_PV:
        type = LIBXL_DOMAIN_TYPE_PV;
        break;
    case HV_BOOT_PVH:
        type = LIBXL_DOMAIN_TYPE_PVH;
        break;
    case HV_BOOT_HVM:
        type = LIBXL_DOMAIN_TYPE_HVM;
        break;
    default:
        return hv_fail(ERR_INVALID, "vm %s: unknown boot type %d", cfg->uuid,
                       (int)cfg->boot);
    }
    if (cfg->vcpus < 1 || cfg->vcpus > 4096)
        return hv_fail(ERR_INVALID, "vm %s: bad vcpus %d", cfg->uuid,
                       cfg->vcpus);
    if (cfg->num_disks > HV_MAX_DISKS || cfg->num_nics > HV_MAX_NICS)
        return hv_fail(ERR_INVALID, "vm %s: too many devices", cfg->uuid);

    c->type = type;
    c->name = xstrdup(cfg->name);
    if (libxl_uuid_from_string(&c->uuid, cfg->uuid))
        return hv_fail(ERR_INVALID, "bad vm uuid '%s'", cfg->uuid);
    if (type != LIBXL_DOMAIN_TYPE_PV)
        libxl_defbool_set(&c->hap, true);

    libxl_domain_build_info_init_type(b, type);
    b->max_vcpus = cfg->vcpus;
    /* libxl_bitmap_alloc wants a ctx; the map is plain calloc'ed bytes
     * that libxl_bitmap_dispose frees. */
    b->avail_vcpus.size = (uint32_t)(cfg->vcpus + 7) / 8;
    b->avail_vcpus.map = xcalloc(b->avail_vcpus.size, 1);
    for (i = 0; i < (size_t)cfg->vcpus; i++)
        b->avail_vcpus.map[i / 8] |= (uint8_t)(1u << (i % 8));
    b->max_memkb = cfg->memory_mib * 1024;
    b->target_memkb = cfg->memory_mib * 1024;
    if (type == LIBXL_DOMAIN_TYPE_HVM) {
        make_hvm(cfg, b);
    } else {
        b->kernel = dup_or_null(cfg->kernel);
        b->ramdisk = dup_or_null(cfg->ramdisk);
        b->cmdline = dup_or_null(cfg->cmdline);
    }

    d_config->disks =
        xcalloc(cfg->num_disks ? cfg->num_disks : 1, sizeof(*d_config->disks));
    for (i = 0; i < cfg->num_disks; i++) {
        libxl_device_disk_init(&d_config->disks[i]);
        d_config->num_disks++;
        hv_libxl_make_disk(&cfg->disks[i], &d_config->disks[i]);
    }
    d_config->nics =
        xcalloc(cfg->num_nics ? cfg->num_nics : 1, sizeof(*d_config->nics));
    for (i = 0; i < cfg->num_nics; i++) {
        libxl_device_nic_init(&d_config->nics[i]);
        d_config->num_nics++;
        rc = hv_libxl_make_nic(&cfg->nics[i], (int)i, cfg->boot,
                               &d_config->nics[i]);
        if (rc)
            return rc;
    }
    d_config->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    d_config->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
    d_config->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    d_config->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    return 0;
}
