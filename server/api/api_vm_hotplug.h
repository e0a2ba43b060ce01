/* api_vm_hotplug.h: PATCH /vms/{id} changing the disks or NICs of a
 * running or paused VM: the difference between the old and the new
 * record becomes hv disk/nic detach and attach calls on the live
 * domain. */
#ifndef XENITH_SERVER_API_API_VM_HOTPLUG_H
#define XENITH_SERVER_API_API_VM_HOTPLUG_H

#include "server/api/req.h"

struct app;
struct db_vm;

/* Make the live domain of old (running or paused) hold vm's disks and
 * NICs: detach what went away or changed, then attach what is new.
 * Emulated disks (hd*, sd*) cannot come or go live: 409 naming "disks".
 * On a failure the steps already made are undone and the error (409 for
 * what cannot be done live, else the driver's) is written to r naming
 * "disks" or "nics". 0 when nothing changed or everything was done. */
int api_vm_hotplug(struct app *app, struct resp *r, const struct db_vm *old,
                   const struct db_vm *vm);

/* Undo a successful api_vm_hotplug(old -> vm) (the database refused
 * the new record): best effort, failures are logged. */
void api_vm_hotplug_undo(struct app *app, const struct db_vm *old,
                         const struct db_vm *vm);

#endif
