#include "xen/hv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"
#include "xen/hv_probe.h"

struct hv {
    const struct hv_driver *drv;
    void *priv;
};

static _Thread_local char hv_errbuf[256];

static const struct hv_driver *const hv_drivers[] = {
    &hv_test_driver,
    &hv_libxl_driver,
};

int hv_fail(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(hv_errbuf, sizeof(hv_errbuf), fmt, ap);
    va_end(ap);
    return err;
}

const char *hv_last_error(void)
{
    return hv_errbuf;
}

const char *hv_default_uri(void)
{
    return hv_probe_xen() ? "xen:///system" : "test:///default";
}

int hv_open(const char *uri, struct hv **hv_out)
{
    size_t i;

    for (i = 0; i < sizeof(hv_drivers) / sizeof(hv_drivers[0]); i++) {
        const struct hv_driver *d = hv_drivers[i];
        struct hv *hv;
        int rc;

        if (strncmp(uri, d->scheme, strlen(d->scheme)))
            continue;
        if (d->version != HV_DRIVER_VERSION) {
            log_error("hv: driver %s has version %d, want %d", d->name,
                      d->version, HV_DRIVER_VERSION);
            return ERR_INTERNAL;
        }
        hv = xcalloc(1, sizeof(*hv));
        hv->drv = d;
        rc = d->open(uri, &hv->priv);
        if (rc) {
            log_error("hv: cannot open %s: %s", uri, hv_last_error());
            free(hv);
            return rc;
        }
        *hv_out = hv;
        return 0;
    }
    return hv_fail(ERR_INVALID, "unknown hypervisor URI '%s'", uri);
}

void hv_close(struct hv *hv)
{
    if (!hv)
        return;
    if (hv->drv->close)
        hv->drv->close(hv->priv);
    free(hv);
}

const char *hv_driver_name(const struct hv *hv)
{
    return hv->drv->name;
}

const char *hv_state_name(enum hv_state s)
{
    switch (s) {
    case HV_HALTED:
        return "halted";
    case HV_RUNNING:
        return "running";
    case HV_PAUSED:
        return "paused";
    case HV_SUSPENDED:
        return "suspended";
    case HV_SHUTTING_DOWN:
        return "shutting_down";
    case HV_CRASHED:
        return "crashed";
    }
    return "unknown";
}

/* Dispatch to a slot, or answer ERR_UNSUPPORTED naming it. */
#define HV_CALL(hv, slot, ...)                                             \
    ((hv)->drv->slot                                                       \
         ? (hv_errbuf[0] = '\0', (hv)->drv->slot((hv)->priv, __VA_ARGS__)) \
         : hv_fail(ERR_UNSUPPORTED, "the %s driver does not support %s",   \
                   (hv)->drv->name, #slot))

int hv_subscribe(struct hv *hv, hv_event_cb cb, void *opaque)
{
    return HV_CALL(hv, subscribe, cb, opaque);
}

int hv_host_info(struct hv *hv, struct hv_host_info *out)
{
    return HV_CALL(hv, host_info, out);
}

int hv_list(struct hv *hv, struct hv_domain **list_out, size_t *num_out)
{
    return HV_CALL(hv, list, list_out, num_out);
}

int hv_lookup(struct hv *hv, const char *uuid, struct hv_domain *out)
{
    return HV_CALL(hv, lookup, uuid, out);
}

int hv_start(struct hv *hv, const struct hv_vm_config *cfg)
{
    return HV_CALL(hv, start, cfg);
}

int hv_shutdown(struct hv *hv, const char *uuid, int timeout_s)
{
    return HV_CALL(hv, shutdown, uuid, timeout_s);
}

int hv_reboot(struct hv *hv, const char *uuid, int timeout_s)
{
    return HV_CALL(hv, reboot, uuid, timeout_s);
}

int hv_destroy(struct hv *hv, const char *uuid)
{
    return HV_CALL(hv, destroy, uuid);
}

int hv_pause(struct hv *hv, const char *uuid)
{
    return HV_CALL(hv, pause, uuid);
}

int hv_resume(struct hv *hv, const char *uuid)
{
    return HV_CALL(hv, resume, uuid);
}

int hv_suspend(struct hv *hv, const char *uuid, const char *state_file)
{
    return HV_CALL(hv, suspend, uuid, state_file);
}

int hv_restore(struct hv *hv, const struct hv_vm_config *cfg,
               const char *state_file)
{
    return HV_CALL(hv, restore, cfg, state_file);
}

int hv_set_vcpus(struct hv *hv, const char *uuid, int vcpus)
{
    return HV_CALL(hv, set_vcpus, uuid, vcpus);
}

int hv_set_memory(struct hv *hv, const char *uuid, uint64_t memory_mib)
{
    return HV_CALL(hv, set_memory, uuid, memory_mib);
}

int hv_disk_attach(struct hv *hv, const char *uuid, const struct hv_disk *d)
{
    return HV_CALL(hv, disk_attach, uuid, d);
}

int hv_disk_detach(struct hv *hv, const char *uuid, const char *vdev)
{
    return HV_CALL(hv, disk_detach, uuid, vdev);
}

int hv_nic_attach(struct hv *hv, const char *uuid, const struct hv_nic *n)
{
    return HV_CALL(hv, nic_attach, uuid, n);
}

int hv_nic_detach(struct hv *hv, const char *uuid, const char *mac)
{
    return HV_CALL(hv, nic_detach, uuid, mac);
}

int hv_stats(struct hv *hv, const char *uuid, struct hv_stats *out)
{
    return HV_CALL(hv, stats, uuid, out);
}

int hv_console_open(struct hv *hv, const char *uuid, int *fd_out)
{
    return HV_CALL(hv, console_open, uuid, fd_out);
}

int hv_vnc_open(struct hv *hv, const char *uuid, int *fd_out)
{
    return HV_CALL(hv, vnc_open, uuid, fd_out);
}

int hv_inject_failure(struct hv *hv, const char *op, int err)
{
    return HV_CALL(hv, inject_failure, op, err);
}
