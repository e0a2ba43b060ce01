/* api_vm_power.c: POST /vms/{id}/start|shutdown|reboot|pause|resume|
 * suspend|destroy (each a task: 202) and GET /vms/{id}/stats.
 *
 * A handler checks the transition against the DB state (409 naming it),
 * marks the VM busy (one power task per VM), and queues the task; the
 * task calls the driver, records the new state and publishes it. On
 * failure the DB state follows what the hypervisor reports.
 */
#include "server/api/api.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/api/api_vm_util.h"
#include "server/core/app.h"
#include "server/core/sr.h"
#include "server/core/tasks.h"
#include "server/core/vmconf.h"
#include "server/core/vmstate.h"
#include "xen/hv.h"

#define SHUTDOWN_TIMEOUT_S 60

enum power_op {
    OP_START,
    OP_SHUTDOWN,
    OP_REBOOT,
    OP_PAUSE,
    OP_RESUME,
    OP_SUSPEND,
    OP_DESTROY,
};

struct power_def {
    const char *name;   /* "start" */
    const char *kind;   /* "vm.start" */
    const char *states; /* DB states it starts from, space separated */
    int timeout;        /* takes {"timeout_s"} */
};

static const struct power_def power_defs[] = {
    [OP_START] = { "start", "vm.start", "halted", 0 },
    [OP_SHUTDOWN] = { "shutdown", "vm.shutdown", "running", 1 },
    [OP_REBOOT] = { "reboot", "vm.reboot", "running", 1 },
    [OP_PAUSE] = { "pause", "vm.pause", "running", 0 },
    [OP_RESUME] = { "resume", "vm.resume", "paused suspended", 0 },
    [OP_SUSPEND] = { "suspend", "vm.suspend", "running paused", 0 },
    [OP_DESTROY] = { "destroy", "vm.destroy", "running paused suspended", 0 },
};

struct power_arg {
    enum power_op op;
    char vm_id[37];
    int timeout_s;
    int released; /* the busy mark is gone */
};

/* The task function releases the mark when it ends (so the next action
 * is accepted as soon as the outcome is recorded); this covers a task
 * that never ran (cancelled, daemon stopping). */
static void power_arg_free(void *p)
{
    struct power_arg *a = p;

    if (!a->released)
        vmstate_release(a->vm_id);
    free(a);
}

static int state_in(const char *state, const char *list)
{
    size_t n = strlen(state);
    const char *p = list;

    while ((p = strstr(p, state))) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

/* The SR directory for vm's suspend file: its first disk's SR, else the
 * pool's default SR. */
static int suspend_path(struct app *app, const struct db_vm *vm, char *out,
                        size_t cap)
{
    char file[64];
    struct db_disk d;
    struct db_pool pool;
    struct db_sr sr;
    int rc;

    if (vm->num_disks) {
        rc = db_disk_get(app->db, vm->disks[0].disk_id, &d);
        if (!rc)
            rc = db_sr_get(app->db, d.sr_id, &sr);
    } else {
        rc = db_pool_get(app->db, &pool);
        if (!rc && !pool.default_sr[0])
            rc = ERR_NOTFOUND;
        if (!rc)
            rc = db_sr_get(app->db, pool.default_sr, &sr);
    }
    if (rc)
        return rc;
    snprintf(file, sizeof(file), "%s.suspend", vm->id);
    return sr_image_path(sr.path, file, out, cap);
}

static int do_start(struct task *t, struct app *app, const struct db_vm *vm)
{
    struct hv_vm_config *cfg = xcalloc(1, sizeof(*cfg));
    const char *field = NULL;
    int rc;

    rc = vmconf_to_hv(app->db, vm, cfg, &field);
    if (rc) {
        task_set_error(t, "cannot build the vm's configuration (%s): %s",
                       field ? field : "?", err_str(rc));
        goto out;
    }
    if (!strcmp(vm->state, "suspended")) {
        rc = hv_restore(app->hv, cfg, vm->suspend_file);
        if (rc)
            goto out;
        if (unlink(vm->suspend_file))
            log_warn("vm %s: cannot remove %s", vm->id, vm->suspend_file);
    } else {
        rc = hv_start(app->hv, cfg);
    }
out:
    free(cfg);
    return rc;
}

static int do_suspend(struct task *t, struct app *app, const struct db_vm *vm,
                      char *file, size_t cap)
{
    int rc = suspend_path(app, vm, file, cap);

    if (rc) {
        task_set_error(t, "no storage repository for the suspend file: %s",
                       err_str(rc));
        return rc;
    }
    return hv_suspend(app->hv, vm->id, file);
}

/* Run the operation; the new DB state into state_out (NULL: unchanged). */
static int power_do(struct task *t, struct app *app, const struct power_arg *a,
                    const struct db_vm *vm, const char **state_out, char *file,
                    size_t cap)
{
    int rc;

    *state_out = "running";
    switch (a->op) {
    case OP_START:
        return do_start(t, app, vm);
    case OP_SHUTDOWN:
        *state_out = "halted";
        return hv_shutdown(app->hv, vm->id, a->timeout_s);
    case OP_REBOOT:
        return hv_reboot(app->hv, vm->id, a->timeout_s);
    case OP_PAUSE:
        *state_out = "paused";
        return hv_pause(app->hv, vm->id);
    case OP_RESUME:
        if (!strcmp(vm->state, "suspended"))
            return do_start(t, app, vm);
        return hv_resume(app->hv, vm->id);
    case OP_SUSPEND:
        *state_out = "suspended";
        return do_suspend(t, app, vm, file, cap);
    case OP_DESTROY:
        *state_out = "halted";
        if (!strcmp(vm->state, "suspended")) {
            if (unlink(vm->suspend_file))
                log_warn("vm %s: cannot remove %s", vm->id, vm->suspend_file);
            return 0;
        }
        rc = hv_destroy(app->hv, vm->id);
        /* Already gone (powered off meanwhile) is what we wanted. */
        return rc == ERR_NOTFOUND ? 0 : rc;
    }
    return ERR_INTERNAL;
}

static int power_task(struct task *t, void *opaque)
{
    struct power_arg *a = opaque;
    struct app *app = task_app(t);
    const struct power_def *def = &power_defs[a->op];
    const char *state = NULL;
    char file[512] = "";
    struct db_vm vm;
    int rc;

    rc = db_vm_get(app->db, a->vm_id, &vm);
    if (rc) {
        task_set_error(t, "vm %s: %s", a->vm_id, err_str(rc));
        goto out;
    }
    if (!state_in(vm.state, def->states)) {
        task_set_error(t, "vm is %s", vm.state);
        rc = ERR_CONFLICT;
        goto out;
    }
    rc = power_do(t, app, a, &vm, &state, file, sizeof(file));
    if (rc) {
        if (rc == ERR_TIMEOUT && a->op == OP_SHUTDOWN)
            task_set_error(t,
                           "timeout: the guest did not shut down within "
                           "%d s (%s)",
                           a->timeout_s, hv_last_error());
        else
            task_set_error(t, "%s failed: %s", def->name,
                           hv_last_error()[0] ? hv_last_error() : err_str(rc));
        vmstate_sync(app, vm.id);
        goto out;
    }
    rc = db_vm_set_state(app->db, vm.id, state, file);
    if (rc) {
        task_set_error(t, "cannot record the state %s: %s", state, err_str(rc));
        goto out;
    }
    log_info("vm %s (%s): %s -> %s", vm.id, vm.name, def->name, state);
    db_vm_release(&vm);
    if (db_vm_get(app->db, a->vm_id, &vm) == 0)
        task_set_result(t, vmstate_vm_json(app, &vm));
    vmstate_publish(app, a->vm_id, "updated");
out:
    db_vm_release(&vm);
    vmstate_release(a->vm_id);
    a->released = 1;
    /* Whatever the guest did meanwhile (its events were ours to
     * ignore), the driver has the last word. */
    vmstate_sync(app, a->vm_id);
    return rc;
}

/* The body: empty, or an object with only the fields op takes. */
static int power_body(const struct req *q, struct resp *r,
                      const struct power_def *def, int *timeout_out)
{
    static const char *const with_timeout[] = { "timeout_s", NULL };
    static const char *const none[] = { NULL };
    json_t *body = NULL;
    int64_t v = SHUTDOWN_TIMEOUT_S;
    int rc;

    *timeout_out = SHUTDOWN_TIMEOUT_S;
    if (!q->body_len)
        return 0;
    rc = api_body(q, r, def->timeout ? with_timeout : none, &body);
    if (rc)
        return rc;
    rc = api_get_int(r, body, "timeout_s", 0, 1, 3600, &v);
    json_decref(body);
    if (rc < 0)
        return rc;
    *timeout_out = (int)v;
    return 0;
}

static int power_submit(struct app *app, struct req *q, struct resp *r,
                        enum power_op op)
{
    const struct power_def *def = &power_defs[op];
    struct task_spec spec;
    struct power_arg *a;
    struct db_vm vm;
    char task_id[37];
    int rc, timeout;

    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        return rc;
    rc = power_body(q, r, def, &timeout);
    if (rc)
        goto out;
    if (op == OP_START && !strcmp(vm.state, "suspended")) {
        rc = api_error(r, ERR_CONFLICT, "state", "vm is suspended: use resume");
        goto out;
    }
    if (!state_in(vm.state, def->states)) {
        rc = api_vm_state_conflict(r, &vm);
        goto out;
    }
    rc = api_vm_claim(r, vm.id);
    if (rc)
        goto out;
    a = xcalloc(1, sizeof(*a));
    a->op = op;
    a->timeout_s = timeout;
    xstrlcpy(a->vm_id, vm.id, sizeof(a->vm_id));
    memset(&spec, 0, sizeof(spec));
    spec.kind = def->kind;
    spec.target_type = "vm";
    spec.target_id = vm.id;
    spec.username = q->who.username;
    spec.fn = power_task;
    spec.arg = a;
    spec.arg_free = power_arg_free; /* releases the busy mark */
    rc = tasks_submit(app->tasks, &spec, task_id);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot queue the task: %s", err_str(rc));
        goto out;
    }
    xstrlcpy(r->audit_target, vm.id, sizeof(r->audit_target));
    rc = api_task_accepted(app, r, task_id);
out:
    db_vm_release(&vm);
    return rc;
}

int api_vm_start(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_START);
}

int api_vm_shutdown(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_SHUTDOWN);
}

int api_vm_reboot(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_REBOOT);
}

int api_vm_pause(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_PAUSE);
}

int api_vm_resume(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_RESUME);
}

int api_vm_suspend(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_SUSPEND);
}

int api_vm_destroy(struct app *app, struct req *q, struct resp *r)
{
    return power_submit(app, q, r, OP_DESTROY);
}

int api_vm_stats(struct app *app, struct req *q, struct resp *r)
{
    struct hv_stats s;
    struct db_vm vm;
    int rc;

    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        return rc;
    if (strcmp(vm.state, "running") && strcmp(vm.state, "paused")) {
        rc = api_vm_state_conflict(r, &vm);
        goto out;
    }
    rc = hv_stats(app->hv, vm.id, &s);
    if (rc) {
        rc = api_error(r, rc, NULL, "stats: %s", hv_last_error());
        goto out;
    }
    api_json(r, 200,
             json_pack("{s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:I, "
                       "s:I}",
                       "cpu_pct", s.cpu_pct, "memory_bytes",
                       (json_int_t)s.mem_bytes, "memory_max_bytes",
                       (json_int_t)s.mem_max_bytes, "disk_read_bps",
                       s.disk_rd_bps, "disk_write_bps", s.disk_wr_bps,
                       "net_rx_bps", s.net_rx_bps, "net_tx_bps", s.net_tx_bps,
                       "disk_read_bytes", (json_int_t)s.disk_rd_bytes,
                       "disk_write_bytes", (json_int_t)s.disk_wr_bytes,
                       "net_rx_bytes", (json_int_t)s.net_rx_bytes,
                       "net_tx_bytes", (json_int_t)s.net_tx_bytes));
out:
    db_vm_release(&vm);
    return rc;
}
