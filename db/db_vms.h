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

/* Multi-row changes run in one transaction (a savepoint, so they nest
 * inside a caller's db_begin()). A disk, network or MAC that violates a
 * key answers ERR_CONFLICT and nothing is written: callers validate
 * first to name the field. */

/* Insert the VM with its disks and NICs in one transaction. */
int db_vm_insert(struct db *db, const struct db_vm *vm);
int db_vm_get(struct db *db, const char *id, struct db_vm *out);
/* Every VM ordered by name, with disks and NICs, in three queries.
 * Release each element, then free(). */
int db_vm_list(struct db *db, struct db_vm **list_out, size_t *num_out);
/* Replace every field, disks and NICs included, in one transaction;
 * but not state and suspend_file: only db_vm_set_state changes those,
 * so a configuration change never undoes a concurrent power change. */
int db_vm_update(struct db *db, const struct db_vm *vm);
/* suspend_file NULL or "" clears it. ERR_NOTFOUND for no such VM. */
int db_vm_set_state(struct db *db, const char *id, const char *state,
                    const char *suspend_file);
/* Deletes the VM, its disk/NIC links and its snapshot records (the
 * disks themselves stay, detached). */
int db_vm_delete(struct db *db, const char *id);

/* The VM holding NIC mac into vm_id_out[37]; ERR_NOTFOUND when none. */
int db_vm_mac_owner(struct db *db, const char *mac, char vm_id_out[37]);

/* ---- snapshots ---- */

#define DB_SNAP_MAX_DISKS DB_VM_MAX_DISKS

struct db_vm_snapshot_disk {
    char device[16];  /* the VM's device the clone was taken of */
    char disk_id[37]; /* the clone (a disks row with snapshot_of set) */
};

struct db_vm_snapshot {
    char id[37];
    char vm_id[37];
    char name[65];
    char *config; /* **owned** JSON object text: the VM when taken */
    int64_t created_at;
    struct db_vm_snapshot_disk disks[DB_SNAP_MAX_DISKS];
    size_t num_disks;
};

void db_vm_snapshot_release(struct db_vm_snapshot *s); /* frees config */

/* Insert a snapshot and its disk links (the disks rows must exist:
 * ERR_CONFLICT otherwise). Nests inside a db_begin() transaction (a
 * savepoint), so a caller can insert the clone disks rows and the
 * snapshot atomically. */
int db_vm_snapshot_insert(struct db *db, const struct db_vm_snapshot *s);
int db_vm_snapshot_get(struct db *db, const char *id,
                       struct db_vm_snapshot *out);
/* Snapshots of one VM, oldest first. */
int db_vm_snapshot_list(struct db *db, const char *vm_id,
                        struct db_vm_snapshot **list_out, size_t *num_out);
/* The snapshot row and its disk links (not the disks rows). Nests like
 * insert. */
int db_vm_snapshot_delete(struct db *db, const char *id);

#endif
