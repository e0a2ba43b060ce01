/* hv.h: the hypervisor, as xenith sees it.
 *
 * One interface, two drivers (libvirt's shape): "xen:///system" drives
 * Xen through libxl; "test:///default" is an in-memory hypervisor with
 * the same state machine, over real disk image files. The daemon keeps
 * VM *configuration* in its database; a driver knows only what runs
 * (or is suspended): there is no define/undefine here, start takes the
 * whole config.
 *
 * Every function returns 0 or a negative enum err (common/err.h). A slot
 * a driver does not fill answers ERR_UNSUPPORTED (the API shows 501),
 * and hv_last_error() then gives the reason. VMs are named by their
 * UUID string. All functions are thread safe (a driver serialises what
 * it must); calls that wait (shutdown, reboot, suspend) block the
 * calling task worker, never the HTTP threads.
 */
#ifndef XENITH_XEN_HV_H
#define XENITH_XEN_HV_H

#include <stddef.h>
#include <stdint.h>

struct hv; /* an open driver connection (opaque) */

enum hv_state {
    HV_HALTED = 0, /* not known to the hypervisor */
    HV_RUNNING,
    HV_PAUSED,
    HV_SUSPENDED, /* saved to a state file, domain gone */
    HV_SHUTTING_DOWN,
    HV_CRASHED,
};

enum hv_boot_type {
    HV_BOOT_PV = 0,
    HV_BOOT_PVH,
    HV_BOOT_HVM,
};

#define HV_MAX_DISKS 16
#define HV_MAX_NICS  8

struct hv_disk {
    char path[512]; /* image file or block device */
    char vdev[16];  /* "xvda", "hdc" ... */
    int readonly;
    int cdrom; /* HVM install media */
};

struct hv_nic {
    char bridge[32]; /* Linux bridge in dom0 */
    char mac[18];    /* "00:16:3e:xx:xx:xx" */
};

/* A VM as the driver needs it to start one. Plain data. */
struct hv_vm_config {
    char uuid[37];
    char name[65];
    int vcpus;
    uint64_t memory_mib;
    enum hv_boot_type boot;
    char kernel[512];  /* PV/PVH: path in dom0 */
    char ramdisk[512]; /* PV/PVH, optional */
    char cmdline[1024];
    struct hv_disk disks[HV_MAX_DISKS];
    size_t num_disks;
    struct hv_nic nics[HV_MAX_NICS];
    size_t num_nics;
};

struct hv_host_info {
    char hostname[256];
    char driver[16];     /* "test" or "libxl" */
    char hv_version[64]; /* "4.17.7" or "test-1.0" */
    char capabilities[256];
    int cpus;
    uint64_t mem_total_bytes;
    uint64_t mem_free_bytes;
    int64_t uptime_s;
};

struct hv_domain {
    char uuid[37];
    char name[65];
    int domid; /* -1 when not running (suspended) */
    enum hv_state state;
    int vcpus;
    uint64_t memory_mib;
};

struct hv_stats {
    double cpu_pct;     /* of one CPU x vcpus, 0..100*vcpus */
    uint64_t mem_bytes; /* current allocation */
    uint64_t mem_max_bytes;
    double disk_rd_bps; /* bytes/s since the previous sample */
    double disk_wr_bps;
    double net_rx_bps;
    double net_tx_bps;
    uint64_t disk_rd_bytes; /* cumulative counters */
    uint64_t disk_wr_bytes;
    uint64_t net_rx_bytes;
    uint64_t net_tx_bytes;
};

enum hv_event_type {
    HV_EV_STATE = 0, /* a domain changed state (incl. death) */
};

struct hv_event {
    enum hv_event_type type;
    char uuid[37];
    enum hv_state state;
    char reason[32]; /* "poweroff", "reboot", "crash", "suspend", ... */
};

typedef void (*hv_event_cb)(void *opaque, const struct hv_event *ev);

/* ---- connection ---- */

/* The URI to use when none is configured: "xen:///system" when
 * /proc/xen/capabilities says control_d and xenstore answers, else
 * "test:///default". Returns a static string. */
const char *hv_default_uri(void);

/* Open a driver by URI. test:///default takes options after '?', joined
 * by '&': "shutdown_ms=N" (how long a clean shutdown takes, default 300)
 * and "state=DIR" (accepted, unused: hv_suspend is given its file). Each
 * open of test:///default is a new, empty hypervisor. ERR_INVALID for an
 * unknown scheme or option. */
int hv_open(const char *uri, struct hv **hv_out);
void hv_close(struct hv *hv); /* NULL ok */

/* "test" or "libxl" (**borrowed**, static). */
const char *hv_driver_name(const struct hv *hv);

/* Reason for the last ERR_* this thread got from the hv layer, or "". */
const char *hv_last_error(void);

/* Deliver domain events to cb (from a driver thread, never with a driver
 * lock held, in the order the changes happened). cb may call the
 * non-waiting functions (lookup, list, stats ...) but must not wait
 * (shutdown, reboot). One subscriber; cb NULL unsubscribes, and once it
 * returns no delivery is still running. */
int hv_subscribe(struct hv *hv, hv_event_cb cb, void *opaque);

/* ---- host and domains ---- */

int hv_host_info(struct hv *hv, struct hv_host_info *out);

/* Every domain the hypervisor knows (running, paused, shutting down,
 * crashed), excluding dom0. A suspended VM is no domain: hv_suspend
 * removes it and the daemon's database keeps "suspended". *list_out is
 * **new** (free()). */
int hv_list(struct hv *hv, struct hv_domain **list_out, size_t *num_out);

/* One domain by UUID; ERR_NOTFOUND when the hypervisor has none
 * (the VM is halted). */
int hv_lookup(struct hv *hv, const char *uuid, struct hv_domain *out);

/* ---- lifecycle (each answers ERR_CONFLICT for an illegal state) ---- */

int hv_start(struct hv *hv, const struct hv_vm_config *cfg);
/* Clean shutdown: ask the guest, wait up to timeout_s for the domain to
 * go; ERR_TIMEOUT if it does not (the domain is left running). */
int hv_shutdown(struct hv *hv, const char *uuid, int timeout_s);
int hv_reboot(struct hv *hv, const char *uuid, int timeout_s);
int hv_destroy(struct hv *hv, const char *uuid); /* hard power-off */
int hv_pause(struct hv *hv, const char *uuid);
int hv_resume(struct hv *hv, const char *uuid); /* unpause */
/* Save memory to state_file and remove the domain. */
int hv_suspend(struct hv *hv, const char *uuid, const char *state_file);
/* Start from a state file written by hv_suspend. */
int hv_restore(struct hv *hv, const struct hv_vm_config *cfg,
               const char *state_file);

/* ---- live changes ---- */

int hv_set_vcpus(struct hv *hv, const char *uuid, int vcpus);
int hv_set_memory(struct hv *hv, const char *uuid, uint64_t memory_mib);
int hv_disk_attach(struct hv *hv, const char *uuid, const struct hv_disk *d);
int hv_disk_detach(struct hv *hv, const char *uuid, const char *vdev);
int hv_nic_attach(struct hv *hv, const char *uuid, const struct hv_nic *n);
int hv_nic_detach(struct hv *hv, const char *uuid, const char *mac);

/* ---- observation ---- */

int hv_stats(struct hv *hv, const char *uuid, struct hv_stats *out);

/* A byte stream of the domain's text console: *fd_out is a **new**
 * file descriptor (read = guest output, write = guest input), closed by
 * the caller. */
int hv_console_open(struct hv *hv, const char *uuid, int *fd_out);

/* The graphical console of a running (or paused) HVM domain: *fd_out is
 * a **new** connected stream socket to its RFB (VNC) server on which
 * the driver has done the RFB handshake up to and including the
 * security result (so any VNC password stays inside the driver): the
 * next bytes the server expects are the client's ClientInit. Blocks up
 * to a few seconds: call it from a worker, never an I/O loop. Closed by
 * the caller. ERR_NOTFOUND when the VM has no domain, ERR_CONFLICT when
 * it is not HVM, ERR_IO/ERR_TIMEOUT/ERR_FORBIDDEN when the server cannot
 * be reached or refuses. */
int hv_vnc_open(struct hv *hv, const char *uuid, int *fd_out);

/* ---- testing ---- */

/* Make the next calls of operation `op` fail with err (hv_last_error()
 * "injected failure") until it is cleared with err 0. op is one of
 * start shutdown reboot destroy pause resume suspend restore set_vcpus
 * set_memory disk_attach disk_detach nic_attach nic_detach stats
 * console_open vnc_open (else ERR_INVALID). Test driver only; others
 * ERR_UNSUPPORTED. */
int hv_inject_failure(struct hv *hv, const char *op, int err);

const char *hv_state_name(enum hv_state s); /* "running", ... */

#endif
