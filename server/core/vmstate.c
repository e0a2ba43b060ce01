#include "server/core/vmstate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db/db_vms.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "server/core/vmconf.h"

/* ---- busy marks ---- */

static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
static char (*busy_ids)[37];
static size_t busy_num, busy_alloc;

int vmstate_claim(const char *id)
{
    size_t i;
    int rc = 0;

    pthread_mutex_lock(&busy_mu);
    for (i = 0; i < busy_num; i++) {
        if (!strcmp(busy_ids[i], id)) {
            rc = ERR_CONFLICT;
            goto out;
        }
    }
    if (busy_num == busy_alloc) {
        busy_alloc = busy_alloc ? busy_alloc * 2 : 16;
        busy_ids = xrealloc(busy_ids, busy_alloc * sizeof(*busy_ids));
    }
    xstrlcpy(busy_ids[busy_num++], id, 37);
out:
    pthread_mutex_unlock(&busy_mu);
    return rc;
}

void vmstate_release(const char *id)
{
    size_t i;

    pthread_mutex_lock(&busy_mu);
    for (i = 0; i < busy_num; i++) {
        if (!strcmp(busy_ids[i], id)) {
            memcpy(busy_ids[i], busy_ids[--busy_num], 37);
            break;
        }
    }
    pthread_mutex_unlock(&busy_mu);
}

/* ---- JSON and events ---- */

json_t *vmstate_vm_json(struct app *app, const struct db_vm *vm)
{
    json_t *j = vmconf_to_json(vm);
    struct hv_domain dom;

    if ((!strcmp(vm->state, "running") || !strcmp(vm->state, "paused")) &&
        hv_lookup(app->hv, vm->id, &dom) == 0 && dom.domid >= 0)
        json_object_set_new(j, "domid", json_integer(dom.domid));
    else
        json_object_set_new(j, "domid", json_null());
    return j;
}

void vmstate_publish(struct app *app, const char *id, const char *action)
{
    struct db_vm vm;

    if (!strcmp(action, "deleted")) {
        events_publish(app->events, "vm", action, id, NULL);
        return;
    }
    if (db_vm_get(app->db, id, &vm))
        return;
    events_publish(app->events, "vm", action, id, vmstate_vm_json(app, &vm));
    db_vm_release(&vm);
}

const char *vmstate_db_state(enum hv_state s)
{
    switch (s) {
    case HV_RUNNING:
        return "running";
    case HV_PAUSED:
        return "paused";
    case HV_HALTED:
    case HV_CRASHED:
        return "halted";
    default:
        return NULL;
    }
}

static int vmstate_claimed(const char *id)
{
    size_t i;
    int found = 0;

    pthread_mutex_lock(&busy_mu);
    for (i = 0; i < busy_num && !found; i++)
        found = !strcmp(busy_ids[i], id);
    pthread_mutex_unlock(&busy_mu);
    return found;
}

/* Set the DB state; log and publish when it changed. */
static void vmstate_set(struct app *app, const struct db_vm *vm,
                        const char *state)
{
    int rc;

    if (!strcmp(vm->state, state))
        return;
    rc = db_vm_set_state(app->db, vm->id, state, NULL);
    if (rc) {
        log_error("vm %s: cannot record state %s: %s", vm->id, state,
                  err_str(rc));
        return;
    }
    log_info("vm %s (%s): %s -> %s", vm->id, vm->name, vm->state, state);
    vmstate_publish(app, vm->id, "updated");
}

void vmstate_sync(struct app *app, const char *id)
{
    struct hv_domain dom;
    struct db_vm vm;
    const char *state = NULL;
    int rc;

    if (db_vm_get(app->db, id, &vm))
        return; /* not ours (yet): reconcile imports at start-up */
    rc = hv_lookup(app->hv, id, &dom);
    if (rc == ERR_NOTFOUND) {
        /* A suspended VM's domain left for its state file. */
        state = strcmp(vm.state, "suspended") ? "halted" : NULL;
    } else if (rc == 0 && dom.state == HV_CRASHED) {
        log_warn("vm %s (%s) crashed: destroying the domain", vm.id, vm.name);
        if (hv_destroy(app->hv, vm.id) && hv_lookup(app->hv, vm.id, &dom) == 0)
            log_error("vm %s: cannot destroy the crashed domain: %s", vm.id,
                      hv_last_error());
        state = "halted";
    } else if (rc == 0) {
        state = vmstate_db_state(dom.state);
    }
    if (state)
        vmstate_set(app, &vm, state);
    db_vm_release(&vm);
}

/* An event says something changed; the driver says what is now, so a
 * late event cannot undo a newer state. A VM under an operation is left
 * to it: the operation records its outcome and syncs when it ends. */
static void vmstate_event(void *opaque, const struct hv_event *ev)
{
    struct app *app = opaque;

    if (ev->type != HV_EV_STATE || app->stopping || vmstate_claimed(ev->uuid))
        return;
    vmstate_sync(app, ev->uuid);
}

int vmstate_start(struct app *app)
{
    int rc = hv_subscribe(app->hv, vmstate_event, app);

    if (rc == ERR_UNSUPPORTED) {
        log_warn("vmstate: driver %s sends no events: %s",
                 hv_driver_name(app->hv), hv_last_error());
        return 0;
    }
    if (rc)
        log_error("vmstate: cannot subscribe to events: %s", hv_last_error());
    return rc;
}

void vmstate_stop(struct app *app)
{
    if (app->hv)
        hv_subscribe(app->hv, NULL, NULL);
}
