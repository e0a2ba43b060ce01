/* test_priv.h: internals of the in-memory test:///default driver, shared
 * by its files (not a public interface).
 *
 * One struct tdrv per hv_open. Everything in it is guarded by `lock`;
 * `cond` is broadcast on every domain state change so waiters
 * (shutdown, reboot) can re-check. One driver thread (tdrv_thread_main)
 * completes delayed shutdowns, reads console input and delivers events;
 * events are queued under the lock and delivered by that thread with the
 * lock released, in the order they happened.
 *
 * A suspended VM is no longer a domain here: hv_suspend writes the state
 * file and removes the domain, so hv_lookup answers ERR_NOTFOUND; the
 * daemon's database keeps the "suspended" state and the file's path.
 */
#ifndef XENITH_XEN_TEST_TEST_PRIV_H
#define XENITH_XEN_TEST_TEST_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "xen/hv.h"

#define TDRV_RING_SIZE       (64 * 1024) /* console replay buffer */
#define TDRV_MAX_CONSOLES    8           /* open consoles per domain */
#define TDRV_LINE_MAX        256         /* console input line */
#define TDRV_SHUTDOWN_MS     300         /* default clean shutdown time */
#define TDRV_IGNORE_SHUTDOWN "xenith.ignore_shutdown"
#define TDRV_MAX_VNC         4   /* open graphical consoles per domain */
#define TDRV_FB_W            320 /* an HVM guest's framebuffer */
#define TDRV_FB_H            200
#define TDRV_TYPED_MAX       24 /* keys the framebuffer shows */

/* Operations failure injection can name (index = enum tdrv_op). */
enum tdrv_op {
    TDRV_OP_START = 0,
    TDRV_OP_SHUTDOWN,
    TDRV_OP_REBOOT,
    TDRV_OP_DESTROY,
    TDRV_OP_PAUSE,
    TDRV_OP_RESUME,
    TDRV_OP_SUSPEND,
    TDRV_OP_RESTORE,
    TDRV_OP_SET_VCPUS,
    TDRV_OP_SET_MEMORY,
    TDRV_OP_DISK_ATTACH,
    TDRV_OP_DISK_DETACH,
    TDRV_OP_NIC_ATTACH,
    TDRV_OP_NIC_DETACH,
    TDRV_OP_STATS,
    TDRV_OP_CONSOLE_OPEN,
    TDRV_OP_VNC_OPEN,
    TDRV_OP_COUNT,
};

/* Bytes of guest output, the newest TDRV_RING_SIZE kept. */
struct tdrv_ring {
    char *data; /* TDRV_RING_SIZE bytes, NULL until the first write */
    size_t start;
    size_t len;
};

struct tdrv_console {
    uint64_t id; /* unique per driver; survives fd number reuse */
    int fd;      /* the driver's end of the socketpair */
    char line[TDRV_LINE_MAX];
    size_t line_len;
};

/* One client of an HVM guest's RFB server (test_vnc.c). */
struct tdrv_vnc {
    uint64_t id;    /* unique per driver, shared with consoles' ids */
    int fd;         /* the driver's end of the socketpair */
    int stage;      /* enum vnc_stage in test_vnc.c */
    uint8_t in[32]; /* the client message being read */
    size_t in_len;
    uint64_t skip;  /* bytes of a message body to drop */
    struct buf out; /* not yet sent, capped */
    int bpp, big, rmax, gmax, bmax, rshift, gshift, bshift; /* client's */
    int pending;          /* an incremental update request waits for a change */
    int req[4];           /* its x, y, w, h */
    uint64_t sent_serial; /* framebuffer serial of the last update */
};

struct tdrv_counters {
    uint64_t rd, wr, rx, tx;
};

struct tdrv_stats {
    int64_t advanced_ms; /* counters advanced up to this time */
    double cpu_pct;
    struct tdrv_counters now;
    int64_t sample_ms; /* previous hv_stats sample, 0 = none */
    struct tdrv_counters sample;
};

struct tdrv_dom {
    struct tdrv_dom *next;
    struct hv_vm_config cfg; /* with live changes applied */
    int domid;
    enum hv_state state;
    int ignore_shutdown;    /* cmdline has TDRV_IGNORE_SHUTDOWN */
    int64_t shutdown_at_ms; /* deadline while HV_SHUTTING_DOWN */
    int reboot_after;       /* start again when the shutdown completes */
    char reason[32];        /* of the pending shutdown */
    struct tdrv_ring ring;
    struct tdrv_console cons[TDRV_MAX_CONSOLES];
    size_t num_cons;
    uint32_t *fb; /* HVM: 0x00RRGGBB pixels, drawn on first vnc_open */
    uint64_t fb_serial;
    char typed[TDRV_TYPED_MAX + 1]; /* keys pressed on the graphical console */
    struct tdrv_vnc vnc[TDRV_MAX_VNC];
    size_t num_vnc;
    struct tdrv_stats st;
};

struct tdrv_event {
    struct tdrv_event *next;
    struct hv_event ev;
};

struct tdrv {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* broadcast on state changes and deliveries */
    pthread_t thread;
    int wake[2]; /* pipe that wakes the driver thread */
    int stop;
    int shutdown_ms;
    int64_t opened_ms; /* monotonic */
    int next_domid;
    uint64_t next_console_id;
    unsigned int seed; /* rand_r state for stats */
    struct tdrv_dom *doms;
    struct tdrv_event *ev_head;
    struct tdrv_event **ev_tail;
    hv_event_cb cb;
    void *cb_opaque;
    int delivering; /* the driver thread is inside cb */
    int inject[TDRV_OP_COUNT];
};

/* ---- test_driver.c: shared helpers (call with the lock held) ---- */

/* The domain with this UUID, or NULL. */
struct tdrv_dom *tdrv_find(struct tdrv *d, const char *uuid);
/* hv_fail(ERR_NOTFOUND) naming uuid. */
int tdrv_no_domain(const char *uuid);
/* The injected error for op (with hv_fail "injected failure") or 0. */
int tdrv_injected(struct tdrv *d, enum tdrv_op op);
/* Set dom's state, queue an event for it and wake waiters. */
void tdrv_set_state(struct tdrv *d, struct tdrv_dom *dom, enum hv_state s,
                    const char *reason);
/* Queue an event for a domain that is going away (state HALTED ...). */
void tdrv_emit(struct tdrv *d, const char *uuid, enum hv_state s,
               const char *reason);
/* Wake the driver thread (a deadline or the console set changed). */
void tdrv_wake(struct tdrv *d);
/* ERR_CONFLICT naming dom's state: "vm <uuid> is paused". */
int tdrv_conflict(const struct tdrv_dom *dom);
/* The opening of every per-domain operation, called WITHOUT the lock:
 * take it, answer op's injected failure, find uuid's domain. On success
 * the lock stays held and *dom_out is set; on error the lock is released
 * and the error returned. */
int tdrv_lock_dom(struct tdrv *d, const char *uuid, enum tdrv_op op,
                  struct tdrv_dom **dom_out);

/* ---- test_state.c: the lifecycle ---- */

/* Check a disk as start does: its path exists and is a regular file or
 * a block device (ERR_NOTFOUND naming the path otherwise). */
int tdrv_check_disk(const struct hv_disk *disk);
/* Check a config as start does: vcpus, memory, disk files. 0 or err. */
int tdrv_check_config(const struct hv_vm_config *cfg);
/* Make a running domain from cfg, link it in, emit the event (reason).
 * cfg must have been checked; the uuid must be free. */
struct tdrv_dom *tdrv_dom_create(struct tdrv *d, const struct hv_vm_config *cfg,
                                 const char *reason);
/* Unlink and free dom (closes its consoles). */
void tdrv_dom_remove(struct tdrv *d, struct tdrv_dom *dom);
/* Let the guest begin a clean shutdown (or reboot when reboot != 0). */
void tdrv_begin_shutdown(struct tdrv *d, struct tdrv_dom *dom, int reboot,
                         const char *reason);
/* Complete the shutdowns whose time has come; return the monotonic ms of
 * the next deadline, or -1 when none. */
int64_t tdrv_tick(struct tdrv *d);

int tdrv_start(void *priv, const struct hv_vm_config *cfg);
int tdrv_shutdown(void *priv, const char *uuid, int timeout_s);
int tdrv_reboot(void *priv, const char *uuid, int timeout_s);
int tdrv_destroy(void *priv, const char *uuid);
int tdrv_pause(void *priv, const char *uuid);
int tdrv_resume(void *priv, const char *uuid);

/* ---- test_save.c: suspend and restore ---- */

int tdrv_suspend(void *priv, const char *uuid, const char *state_file);
int tdrv_restore(void *priv, const struct hv_vm_config *cfg,
                 const char *state_file);

/* ---- test_live.c: live changes ---- */

int tdrv_set_vcpus(void *priv, const char *uuid, int vcpus);
int tdrv_set_memory(void *priv, const char *uuid, uint64_t memory_mib);
int tdrv_disk_attach(void *priv, const char *uuid, const struct hv_disk *disk);
int tdrv_disk_detach(void *priv, const char *uuid, const char *vdev);
int tdrv_nic_attach(void *priv, const char *uuid, const struct hv_nic *nic);
int tdrv_nic_detach(void *priv, const char *uuid, const char *mac);

/* ---- test_stats.c ---- */

/* Reset dom's stats for a fresh boot. */
void tdrv_stats_boot(struct tdrv *d, struct tdrv_dom *dom);
int tdrv_stats(void *priv, const char *uuid, struct hv_stats *out);

/* ---- test_console.c ---- */

/* Guest output: into the ring and to every open console. */
void tdrv_console_write(struct tdrv_dom *dom, const char *s, size_t n);
/* Print the boot log of dom (reads the first bytes of each disk). */
void tdrv_console_boot(struct tdrv_dom *dom);
/* Close every console of dom and free its ring. */
void tdrv_console_release(struct tdrv_dom *dom);
/* Input arrived on console cons of dom: echo lines, act on commands. */
void tdrv_console_input(struct tdrv *d, struct tdrv_dom *dom,
                        struct tdrv_console *cons);
int tdrv_console_open(void *priv, const char *uuid, int *fd_out);

/* ---- test_vnc.c: HVM guests' graphical consoles ---- */

/* Close every graphical console of dom and free its framebuffer. */
void tdrv_vnc_release(struct tdrv_dom *dom);
/* The driver end of graphical console v of dom is ready (revents). */
void tdrv_vnc_ready(struct tdrv_dom *dom, struct tdrv_vnc *v, short revents);
int tdrv_vnc_open(void *priv, const char *uuid, int *fd_out);

/* ---- test_font.c ---- */

/* Draw s (5x7 glyphs, upper-cased, '?' for what it lacks) into the
 * w x h framebuffer fb at x, y, each dot scale x scale pixels. */
void tdrv_fb_text(uint32_t *fb, int w, int h, int x, int y, int scale,
                  uint32_t color, const char *s);

/* ---- test_thread.c ---- */

void *tdrv_thread_main(void *arg);

#endif
