/* api_backup_restore.h: what the two halves of the restore API share:
 * the request (api_backup_restore_req.c: checks, looks up, plans and
 * queues) and the task (api_backup_restore.c: writes images, records
 * rows). Only for those two files. */
#ifndef XENITH_SERVER_API_API_BACKUP_RESTORE_H
#define XENITH_SERVER_API_API_BACKUP_RESTORE_H

#include <jansson.h>
#include <stddef.h>

#include "backup/bk.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/core/tasks.h"

struct app;
struct resp;

enum restore_mode {
    MODE_NEW_VM,
    MODE_OVERWRITE,
    MODE_DISK
};

/* One image to write: disk number snap_disk of the snapshot into
 * file (via tmp) in sr. */
struct restore_img {
    size_t snap_disk;
    struct db_disk disk; /* the new disk row, or the VM's (overwrite) */
    struct db_sr sr;
    char device[16];
    char mode[4];
    char tmp[140];
    int written; /* tmp exists */
};

struct restore_arg {
    enum restore_mode mode;
    char repo_id[37];
    char name[65];  /* new VM's or disk's */
    char vm_id[37]; /* overwrite: the claimed VM */
    int claimed;
    struct db_sr sr; /* new disks go here */
    struct bk_snapshot_detail det;
    json_t *cfg; /* the snapshot's VM config, or NULL */
    struct restore_img img[DB_VM_MAX_DISKS];
    size_t num_img;
};

/* Frees a (NULL ok), releasing the claim on an overwritten VM. */
void restore_arg_free(void *a);

/* The config entry of snapshot disk i: the one whose device is the
 * disk's name, else the i-th. NULL when there is none. */
json_t *restore_cfg_disk(const struct restore_arg *a, size_t i);

/* The device snapshot disk i had: its name when that is a device, else
 * its config entry's, else xvda, xvdb... into out[16]. */
void restore_snap_device(const struct restore_arg *a, size_t i, char out[16]);

/* The VM to create, as a POST /vms body, from the snapshot's config
 * (or defaults); NICs keep their networks when those still exist and
 * get new MACs. **new** */
json_t *restore_new_vm_body(struct app *app, const struct restore_arg *a);

/* The message of an error written into scratch (thread-local). */
const char *restore_resp_message(struct resp *scratch);

/* The task (struct restore_arg *). */
int restore_task(struct task *t, void *arg);

#endif
