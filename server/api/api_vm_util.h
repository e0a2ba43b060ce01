/* api_vm_util.h: what the VM handlers (api_vms.c, api_vm_power.c,
 * api_vm_snapshots.c) share. */
#ifndef XENITH_SERVER_API_API_VM_UTIL_H
#define XENITH_SERVER_API_API_VM_UTIL_H

#include "server/api/req.h"

struct app;
struct db_vm;

/* The VM named by path parameter 0 into vm_out: 0, or the error (400
 * bad id, 404) written to r. Release vm_out with db_vm_release. */
int api_vm_load(struct app *app, const struct req *q, struct resp *r,
                struct db_vm *vm_out);

/* 409 "vm is <state>" written to r. */
int api_vm_state_conflict(struct resp *r, const struct db_vm *vm);

/* Claim the VM for an operation: 0 or 409 "a task is already running
 * for this vm" written to r. Release with vmstate_release(). */
int api_vm_claim(struct resp *r, const char *vm_id);

/* 204 No Content. */
int api_no_content(struct resp *r);

#endif
