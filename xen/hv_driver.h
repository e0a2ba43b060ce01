/* hv_driver.h: the driver vtable behind hv.h (libvirt's
 * driver-hypervisor.h shape). A NULL slot means "unsupported": hv.c
 * answers ERR_UNSUPPORTED for it. Bump HV_DRIVER_VERSION when slots
 * change; hv.c refuses drivers built for another version.
 */
#ifndef XENITH_XEN_HV_DRIVER_H
#define XENITH_XEN_HV_DRIVER_H

#include "xen/hv.h"

#define HV_DRIVER_VERSION 2

struct hv_driver {
    int version;
    const char *name;   /* "test", "libxl" */
    const char *scheme; /* "test://", "xen://" */

    int (*open)(const char *uri, void **priv_out);
    void (*close)(void *priv);
    int (*subscribe)(void *priv, hv_event_cb cb, void *opaque);

    int (*host_info)(void *priv, struct hv_host_info *out);
    int (*list)(void *priv, struct hv_domain **list_out, size_t *num_out);
    int (*lookup)(void *priv, const char *uuid, struct hv_domain *out);

    int (*start)(void *priv, const struct hv_vm_config *cfg);
    int (*shutdown)(void *priv, const char *uuid, int timeout_s);
    int (*reboot)(void *priv, const char *uuid, int timeout_s);
    int (*destroy)(void *priv, const char *uuid);
    int (*pause)(void *priv, const char *uuid);
    int (*resume)(void *priv, const char *uuid);
    int (*suspend)(void *priv, const char *uuid, const char *state_file);
    int (*restore)(void *priv, const struct hv_vm_config *cfg,
                   const char *state_file);

    int (*set_vcpus)(void *priv, const char *uuid, int vcpus);
    int (*set_memory)(void *priv, const char *uuid, uint64_t memory_mib);
    int (*disk_attach)(void *priv, const char *uuid, const struct hv_disk *d);
    int (*disk_detach)(void *priv, const char *uuid, const char *vdev);
    int (*nic_attach)(void *priv, const char *uuid, const struct hv_nic *n);
    int (*nic_detach)(void *priv, const char *uuid, const char *mac);

    int (*stats)(void *priv, const char *uuid, struct hv_stats *out);
    int (*console_open)(void *priv, const char *uuid, int *fd_out);
    int (*vnc_open)(void *priv, const char *uuid, int *fd_out);

    int (*inject_failure)(void *priv, const char *op, int err);
};

extern const struct hv_driver hv_test_driver;
extern const struct hv_driver hv_libxl_driver;

/* For drivers: record the reason for an error this thread returns,
 * and return err (so `return hv_fail(ERR_CONFLICT, "vm is %s", s);`). */
int hv_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
