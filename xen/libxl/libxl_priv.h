/* libxl_priv.h: internals of the xen:///system driver (libxl), shared by
 * its files. Not a public interface.
 *
 * libxl is thread safe per ctx (it serialises internally), so calls into
 * libxl are made without our lock; `lock` guards only our own tables
 * (stats samples, the event snapshot, the subscriber, the set of domains
 * a caller is busy shutting down). Every call passes ao_how NULL, so
 * libxl runs it synchronously in the calling thread.
 *
 * Guest-initiated state changes: a watcher thread lists the domains every
 * LX_WATCH_MS, emits an event for each change, and acts as the toolstack
 * for domains that shut themselves down (poweroff/crash: destroy; reboot:
 * destroy and create again from libxl's stored configuration), except
 * those a caller is busy with (hv_shutdown, hv_reboot, hv_suspend).
 */
#ifndef XENITH_XEN_LIBXL_LIBXL_PRIV_H
#define XENITH_XEN_LIBXL_LIBXL_PRIV_H

#include <libxl.h>
#include <libxl_utils.h>
#include <pthread.h>
#include <stdint.h>

#include "xen/hv.h"

#define LX_WATCH_MS    500  /* watcher period */
#define LX_POLL_MS     100  /* shutdown wait: libxl_domain_info every 100 ms */
#define LX_TTY_WAIT_MS 5000 /* console: wait for xenconsoled's tty node */

struct lx_sample {
    char uuid[37];
    int64_t wall_ms;
    uint64_t cpu_ns;
    uint64_t rd, wr, rx, tx;
};

struct lx_seen {
    char uuid[37];
    uint32_t domid;
    enum hv_state state;
};

struct lx {
    libxl_ctx *ctx;
    xentoollog_logger *lg;
    int64_t opened_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the watcher sleeps on it; close signals it */
    pthread_t watcher;
    int stop;
    hv_event_cb cb;
    void *cb_opaque;
    struct lx_seen *seen; /* last known states, for events */
    size_t num_seen;
    uint64_t gen;      /* bumped whenever a caller records a change */
    uint32_t busy[64]; /* domids a caller is shutting down/suspending */
    size_t num_busy;
    struct lx_sample *samples;
    size_t num_samples;
    void *xenstat; /* xenstat_handle, opened on first use */
};

/* libxl_log.c: a xentoollog logger that forwards to common/log.h
 * (**new**, xtl_logger_destroy frees it). */
xentoollog_logger *lx_logger_new(void);

/* libxl_driver.c */
/* hv_fail with a libxl ERROR_* mapped to enum err. */
int lx_fail(int lrc, const char *what, const char *uuid);
/* The domid and info of the domain with this UUID (dominfo disposed by
 * the caller when info_out is given). 0 or ERR_NOTFOUND. */
int lx_find(struct lx *x, const char *uuid, uint32_t *domid_out,
            libxl_dominfo *info_out);
enum hv_state lx_state(const libxl_dominfo *info);
/* Whether a domain libxl_domain_info() calls HVM is really HVM (an
 * emulated machine: serial port, VNC) and not PVH, which Xen also runs
 * in an HVM container: libxl records the type in xenstore at
 * /libxl/<domid>/type. */
int lx_is_hvm(uint32_t domid, const libxl_dominfo *info);

/* lx_find, giving the domain's state. */
int lx_find_state(struct lx *x, const char *uuid, uint32_t *domid_out,
                  enum hv_state *state_out);
/* Mark domid busy (a caller handles its shutdown) or not. */
void lx_busy(struct lx *x, uint32_t domid, int busy);
int lx_is_busy(struct lx *x, uint32_t domid); /* lock held */
/* Record a state change a caller made (so the watcher does not report it
 * again) and deliver its event to the subscriber. Lock not held. HALTED
 * and SUSPENDED forget the domain. */
void lx_emit(struct lx *x, const char *uuid, uint32_t domid, enum hv_state s,
             const char *reason);
/* Canonical string of a libxl UUID into out[37]. */
void lx_uuid_str(const libxl_uuid *u, char out[37]);

/* libxl_lifecycle.c */
int lx_start(void *priv, const struct hv_vm_config *cfg);
int lx_shutdown(void *priv, const char *uuid, int timeout_s);
int lx_reboot(void *priv, const char *uuid, int timeout_s);
int lx_destroy(void *priv, const char *uuid);
int lx_pause(void *priv, const char *uuid);
int lx_resume(void *priv, const char *uuid);
int lx_suspend(void *priv, const char *uuid, const char *state_file);
int lx_restore(void *priv, const struct hv_vm_config *cfg,
               const char *state_file);
/* Destroy domid and create it again from libxl's stored configuration;
 * the new domid in *domid_out. */
int lx_restart(struct lx *x, uint32_t domid, const char *uuid,
               uint32_t *domid_out);

/* libxl_live.c */
int lx_set_vcpus(void *priv, const char *uuid, int vcpus);
int lx_set_memory(void *priv, const char *uuid, uint64_t memory_mib);
int lx_disk_attach(void *priv, const char *uuid, const struct hv_disk *disk);
int lx_disk_detach(void *priv, const char *uuid, const char *vdev);
int lx_nic_attach(void *priv, const char *uuid, const struct hv_nic *nic);
int lx_nic_detach(void *priv, const char *uuid, const char *mac);

/* libxl_stats.c */
int lx_stats(void *priv, const char *uuid, struct hv_stats *out);
void lx_stats_release(struct lx *x);

/* libxl_console.c */
int lx_console_open(void *priv, const char *uuid, int *fd_out);

/* libxl_vnc.c */
int lx_vnc_open(void *priv, const char *uuid, int *fd_out);

/* libxl_watch.c */
void *lx_watch_main(void *arg);

#endif
