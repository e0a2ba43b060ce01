/* libxl_lifecycle.c: start, shutdown, reboot, destroy, pause, resume,
 * suspend and restore through libxl. Each call is synchronous (ao_how
 * NULL). Shutdown and reboot wait by polling libxl_domain_info every
 * LX_POLL_MS (simpler than libxl's event API, and the wait is short);
 * since xenith is the toolstack, it destroys a domain that has shut down
 * and recreates one that asked to reboot. UNTESTED: needs real Xen.
 */
#include "xen/libxl/libxl_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"
#include "xen/hv_file.h"
#include "xen/libxl/libxl_config.h"

static int lx_conflict(const char *uuid, enum hv_state s)
{
    return hv_fail(ERR_CONFLICT, "vm %s is %s", uuid, hv_state_name(s));
}

/* Create (paused, as libxl does) then unpause; destroy on failure. */
static int lx_create_run(struct lx *x, libxl_domain_config *d, const char *uuid,
                         uint32_t *domid_out)
{
    uint32_t domid = INVALID_DOMID;
    int r;

    r = libxl_domain_create_new(x->ctx, d, &domid, NULL, NULL);
    if (r)
        return lx_fail(r, "domain_create_new", uuid);
    r = libxl_domain_unpause(x->ctx, domid, NULL);
    if (r) {
        libxl_domain_destroy(x->ctx, domid, NULL);
        return lx_fail(r, "domain_unpause", uuid);
    }
    *domid_out = domid;
    return 0;
}

int lx_start(void *priv, const struct hv_vm_config *cfg)
{
    struct lx *x = priv;
    libxl_domain_config d;
    uint32_t domid;
    int rc;

    libxl_domain_config_init(&d);
    if (!lx_find(x, cfg->uuid, &domid, NULL)) {
        rc = hv_fail(ERR_CONFLICT, "vm %s is running", cfg->uuid);
        goto out;
    }
    rc = hv_libxl_make_config(cfg, &d);
    if (!rc)
        rc = lx_vnc_password(&d);
    if (rc)
        goto out;
    rc = lx_create_run(x, &d, cfg->uuid, &domid);
    if (rc)
        goto out;
    log_info("libxl: started vm=%s domid=%u", cfg->uuid, domid);
    lx_emit(x, cfg->uuid, domid, HV_RUNNING, "start");
out:
    libxl_domain_config_dispose(&d);
    return rc;
}

/* Wait until domid has shut down (destroyed by someone, or its shutdown
 * flag set) for up to timeout_s. *shut_out: 1 when the domain still
 * exists in shutdown state (the caller destroys or restarts it). */
static int lx_wait_shutdown(struct lx *x, uint32_t domid, const char *uuid,
                            int timeout_s, int *shut_out)
{
    int64_t deadline = time_mono_ms() + (int64_t)timeout_s * 1000;
    libxl_dominfo info;
    int r;

    *shut_out = 0;
    for (;;) {
        libxl_dominfo_init(&info);
        r = libxl_domain_info(x->ctx, &info, domid);
        if (!r && info.shutdown)
            *shut_out = 1;
        libxl_dominfo_dispose(&info);
        if (r == ERROR_DOMAIN_NOTFOUND || r == ERROR_INVAL || *shut_out)
            return 0;
        if (r)
            return lx_fail(r, "domain_info", uuid);
        if (time_mono_ms() >= deadline)
            return hv_fail(ERR_TIMEOUT, "vm %s did not shut down within %d s",
                           uuid, timeout_s);
        time_sleep_ms(LX_POLL_MS);
    }
}

/* Ask the guest (PV control node; ACPI power button for an HVM guest
 * without PV drivers, as xl shutdown -F does). */
static int lx_ask(struct lx *x, uint32_t domid, const char *uuid, int reboot)
{
    int r;

    r = reboot ? libxl_domain_reboot(x->ctx, domid, NULL)
               : libxl_domain_shutdown(x->ctx, domid, NULL);
    if (r == ERROR_NOPARAVIRT && !reboot)
        r = libxl_send_trigger(x->ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL);
    if (r)
        return lx_fail(r, reboot ? "domain_reboot" : "domain_shutdown", uuid);
    return 0;
}

int lx_restart(struct lx *x, uint32_t domid, const char *uuid,
               uint32_t *domid_out)
{
    libxl_domain_config d;
    int r, rc;

    libxl_domain_config_init(&d);
    r = libxl_retrieve_domain_configuration(x->ctx, domid, &d, NULL);
    if (r) {
        rc = lx_fail(r, "retrieve_domain_configuration", uuid);
        goto out;
    }
    r = libxl_domain_destroy(x->ctx, domid, NULL);
    if (r && r != ERROR_DOMAIN_NOTFOUND) {
        rc = lx_fail(r, "domain_destroy", uuid);
        goto out;
    }
    d.c_info.domid = 0;
    rc = lx_create_run(x, &d, uuid, domid_out);
out:
    libxl_domain_config_dispose(&d);
    return rc;
}

static int lx_down(struct lx *x, const char *uuid, int timeout_s, int reboot)
{
    uint32_t domid, newid;
    enum hv_state s;
    int rc, r, shut;

    if (timeout_s < 0)
        return hv_fail(ERR_INVALID, "timeout %d < 0", timeout_s);
    rc = lx_find_state(x, uuid, &domid, &s);
    if (rc)
        return rc;
    if (s != HV_RUNNING)
        return lx_conflict(uuid, s);
    lx_busy(x, domid, 1);
    rc = lx_ask(x, domid, uuid, reboot);
    if (rc)
        goto out;
    lx_emit(x, uuid, domid, HV_SHUTTING_DOWN, reboot ? "reboot" : "shutdown");
    rc = lx_wait_shutdown(x, domid, uuid, timeout_s, &shut);
    if (rc) {
        /* Left running, as the guest chose. */
        lx_emit(x, uuid, domid, HV_RUNNING, "timeout");
        goto out;
    }
    if (reboot) {
        rc = lx_restart(x, domid, uuid, &newid);
        if (!rc)
            lx_emit(x, uuid, newid, HV_RUNNING, "reboot");
        goto out;
    }
    if (shut) {
        r = libxl_domain_destroy(x->ctx, domid, NULL);
        if (r && r != ERROR_DOMAIN_NOTFOUND) {
            rc = lx_fail(r, "domain_destroy", uuid);
            goto out;
        }
    }
    lx_emit(x, uuid, domid, HV_HALTED, "shutdown");
    rc = 0;
out:
    lx_busy(x, domid, 0);
    return rc;
}

int lx_shutdown(void *priv, const char *uuid, int timeout_s)
{
    return lx_down(priv, uuid, timeout_s, 0);
}

int lx_reboot(void *priv, const char *uuid, int timeout_s)
{
    return lx_down(priv, uuid, timeout_s, 1);
}

int lx_destroy(void *priv, const char *uuid)
{
    struct lx *x = priv;
    uint32_t domid;
    int rc, r;

    rc = lx_find(x, uuid, &domid, NULL);
    if (rc)
        return rc;
    /* Busy until the event is out, so the watcher does not report the
     * domain as "gone" first. */
    lx_busy(x, domid, 1);
    r = libxl_domain_destroy(x->ctx, domid, NULL);
    if (r)
        rc = lx_fail(r, "domain_destroy", uuid);
    else
        lx_emit(x, uuid, domid, HV_HALTED, "destroy");
    lx_busy(x, domid, 0);
    return rc;
}

static int lx_flip(struct lx *x, const char *uuid, int pause)
{
    uint32_t domid;
    enum hv_state s;
    int rc, r;

    rc = lx_find_state(x, uuid, &domid, &s);
    if (rc)
        return rc;
    if (s != (pause ? HV_RUNNING : HV_PAUSED))
        return lx_conflict(uuid, s);
    r = pause ? libxl_domain_pause(x->ctx, domid, NULL)
              : libxl_domain_unpause(x->ctx, domid, NULL);
    if (r)
        return lx_fail(r, pause ? "domain_pause" : "domain_unpause", uuid);
    lx_emit(x, uuid, domid, pause ? HV_PAUSED : HV_RUNNING,
            pause ? "pause" : "resume");
    return 0;
}

int lx_pause(void *priv, const char *uuid)
{
    return lx_flip(priv, uuid, 1);
}

int lx_resume(void *priv, const char *uuid)
{
    return lx_flip(priv, uuid, 0);
}

/* Save domid's memory into state_file (hv_file.h: temp, fsync, rename). */
static int lx_save_file(struct lx *x, uint32_t domid, const char *uuid,
                        const char *state_file)
{
    char *tmp = NULL;
    int fd, rc, r;

    rc = hv_file_begin(state_file, &tmp, &fd);
    if (rc)
        return rc;
    r = libxl_domain_suspend(x->ctx, domid, fd, 0, NULL);
    if (r) {
        rc = lx_fail(r, "domain_suspend", uuid);
        hv_file_abort(fd, tmp);
    } else {
        rc = hv_file_commit(fd, tmp, state_file);
    }
    free(tmp);
    return rc;
}

int lx_suspend(void *priv, const char *uuid, const char *state_file)
{
    struct lx *x = priv;
    uint32_t domid;
    enum hv_state s;
    int rc, r;

    rc = lx_find_state(x, uuid, &domid, &s);
    if (rc)
        return rc;
    if (s != HV_RUNNING && s != HV_PAUSED)
        return lx_conflict(uuid, s);
    lx_busy(x, domid, 1);
    rc = lx_save_file(x, domid, uuid, state_file);
    if (rc) {
        /* As xl save does on failure: let the guest carry on. */
        libxl_domain_resume(x->ctx, domid, 1, NULL);
        goto out;
    }
    r = libxl_domain_destroy(x->ctx, domid, NULL);
    if (r && r != ERROR_DOMAIN_NOTFOUND) {
        rc = lx_fail(r, "domain_destroy", uuid);
        goto out;
    }
    lx_emit(x, uuid, domid, HV_SUSPENDED, "suspend");
out:
    lx_busy(x, domid, 0);
    return rc;
}

int lx_restore(void *priv, const struct hv_vm_config *cfg,
               const char *state_file)
{
    struct lx *x = priv;
    libxl_domain_config d;
    libxl_domain_restore_params params;
    uint32_t domid = INVALID_DOMID;
    int fd = -1, rc, r;

    libxl_domain_config_init(&d);
    libxl_domain_restore_params_init(&params);
    if (!lx_find(x, cfg->uuid, &domid, NULL)) {
        rc = hv_fail(ERR_CONFLICT, "vm %s is running", cfg->uuid);
        goto out;
    }
    rc = hv_libxl_make_config(cfg, &d);
    if (!rc)
        rc = lx_vnc_password(&d);
    if (rc)
        goto out;
    fd = open(state_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = hv_fail(errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno),
                     "%s: %s", state_file, strerror(errno));
        goto out;
    }
    /* libxl_domain_suspend writes a libxl v2 stream; the params default
     * to v1 (legacy), which makes libxl run convert-legacy-stream on it
     * (real Xen: "Invalid ident ... got 0"). xl restore sets 2 as well. */
    params.stream_version = 2;
    r = libxl_domain_create_restore(x->ctx, &d, &domid, fd, -1, &params, NULL,
                                    NULL);
    if (r) {
        rc = lx_fail(r, "domain_create_restore", cfg->uuid);
        goto out;
    }
    r = libxl_domain_unpause(x->ctx, domid, NULL);
    if (r) {
        libxl_domain_destroy(x->ctx, domid, NULL);
        rc = lx_fail(r, "domain_unpause", cfg->uuid);
        goto out;
    }
    lx_emit(x, cfg->uuid, domid, HV_RUNNING, "restore");
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&d);
    return rc;
}
