/* vmstate.h: the VM power state in the database, kept current from the
 * hypervisor's events, and published on the event bus; plus the one
 * "operation in progress" mark per VM that power tasks, snapshots and
 * configuration changes take so two never overlap. Thread safe.
 */
#ifndef XENITH_SERVER_CORE_VMSTATE_H
#define XENITH_SERVER_CORE_VMSTATE_H

#include <jansson.h>

#include "xen/hv.h"

struct app;
struct db_vm;

/* Subscribe to the driver's domain events (call once, after
 * tasks_start): a guest that powers off, reboots or crashes updates its
 * VM's state (vmstate_sync) and publishes {"type":"vm","action":
 * "updated"}. Events for a VM under an operation (vmstate_claim) are
 * left to that operation, which calls vmstate_sync when it is done.
 * 0 or the driver's error. */
int vmstate_start(struct app *app);

/* Stop the subscription (before hv_close). NULL-safe on app->hv. */
void vmstate_stop(struct app *app);

/* The DB state name for a driver state, or NULL when the event does not
 * change the DB (shutting down, suspended: the task records those). */
const char *vmstate_db_state(enum hv_state s);

/* The API object of vm with "domid" (the driver's, when running or
 * paused; else null). **new** */
json_t *vmstate_vm_json(struct app *app, const struct db_vm *vm);

/* Publish {"type":"vm","action":action,"id":id} with the VM's JSON (or
 * no data for "deleted"). */
void vmstate_publish(struct app *app, const char *id, const char *action);

/* Bring the DB state of VM id in line with the hypervisor: running/
 * paused from hv_lookup; no domain -> halted, unless the DB says
 * suspended; a crashed domain is destroyed (Xen's on_crash=destroy) and
 * the VM halted. Logs and publishes when it changed. */
void vmstate_sync(struct app *app, const char *id);

/* Mark VM id busy: 0, or ERR_CONFLICT when it is already. */
int vmstate_claim(const char *id);
void vmstate_release(const char *id);

#endif
