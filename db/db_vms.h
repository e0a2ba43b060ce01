/* db_vms.h: VMs and what they hold (tables vms, vm_disks, vm_nics,
 * vm_snapshots, vm_snapshot_disks). Thread safe. Lists are **new**.
 */
#ifndef XENITH_DB_DB_VMS_H
#define XENITH_DB_DB_VMS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_VM_MAX_DISKS 16
#define DB_VM_MAX_NICS  8

struct db_vm_disk {
    char device[16]; /* "xvda" */
    char disk_id[37];
    char mode[4]; /* "rw" | "ro" */
};

struct db_vm_nic {
    char network_id[37];
    char mac[18];
};

struct db_vm {
    char id[37];
    char name[65];
    char description[1025];
    char state[16]; /* halted|running|paused|suspended */
    int vcpus;
    int64_t memory_mib;
    char *boot; /* **owned** JSON object text */
    char *tags; /* **owned** JSON array text */
    char suspend_file[512];
    int64_t created_at;
    int64_t updated_at;
    struct db_vm_disk disks[DB_VM_MAX_DISKS];
    size_t num_disks;
    struct db_vm_nic nics[DB_VM_MAX_NICS];
    size_t num_nics;
};

void db_vm_release(struct db_vm *vm); /* frees boot/tags */

/* Insert the VM with its disks and NICs in one transaction. */
int db_vm_insert(struct db *db, const struct db_vm *vm);
int db_vm_get(struct db *db, const char *id, struct db_vm *out);
int db_vm_list(struct db *db, struct db_vm **list_out, size_t *num_out);
/* Replace every field, disks and NICs included, in one transaction. */
int db_vm_update(struct db *db, const struct db_vm *vm);
int db_vm_set_state(struct db *db, const char *id, const char *state,
                    const char *suspend_file);
int db_vm_delete(struct db *db, const char *id);

#endif
