/* api_backup_restore.c: the restore task of POST
 * /backup/snapshots/{id}/restore (the request: api_backup_restore_req.c).
 *
 *   new-vm     a new VM (new ids, new MACs) with new disks in an SR,
 *              configured from the snapshot's VM config (defaults when
 *              it has none: an image backed up with the CLI);
 *   overwrite  the disks of an existing halted VM, held (vmstate_claim)
 *              for the task, replaced device by device;
 *   disk       one disk of the snapshot as a new detached disk.
 *
 * Every image is restored (bk_restore: sparse, every chunk verified)
 * into "<file>.restore" in its SR and fsynced; only when all are there
 * are they renamed into place, and then the rows are written in one
 * transaction. A failure or cancel leaves no new row and removes the
 * temp files; a crash leaves at worst an orphan temp file.
 */
#include "server/api/api_backup_restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/bk.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/api/api_backup.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/backup_repo.h"
#include "server/core/events.h"
#include "server/core/sr.h"
#include "server/core/vmconf.h"
#include "server/core/vmstate.h"

#define DEFAULT_VCPUS      1
#define DEFAULT_MEMORY_MIB 1024

void restore_arg_free(void *p)
{
    struct restore_arg *a = p;

    if (!a)
        return;
    if (a->claimed)
        vmstate_release(a->vm_id);
    bk_snapshot_detail_release(&a->det);
    json_decref(a->cfg);
    free(a);
}

json_t *restore_cfg_disk(const struct restore_arg *a, size_t i)
{
    json_t *disks = json_object_get(a->cfg, "disks"), *e;
    size_t k;

    json_array_foreach(disks, k, e) {
        const char *dev = json_string_value(json_object_get(e, "device"));

        if (dev && !strcmp(dev, a->det.disks[i].name))
            return e;
    }
    return json_array_get(disks, i);
}

void restore_snap_device(const struct restore_arg *a, size_t i, char out[16])
{
    const char *dev =
        json_string_value(json_object_get(restore_cfg_disk(a, i), "device"));

    if (vmconf_device_valid(a->det.disks[i].name))
        xstrlcpy(out, a->det.disks[i].name, 16);
    else if (dev && vmconf_device_valid(dev))
        xstrlcpy(out, dev, 16);
    else
        snprintf(out, 16, "xvd%c", (char)('a' + (i % 26)));
}

/* Restore one image into its tmp file and fsync it. done/total: bytes
 * of the whole task. */
static int restore_img(struct task *t, struct bk_repo *repo,
                       const struct restore_arg *a, struct restore_img *im,
                       uint64_t done, uint64_t total)
{
    struct backup_progress bp;
    char path[1024], chunk[BK_ID_HEXLEN];
    int rc, missing;

    rc = sr_image_path(im->sr.path, im->tmp, path, sizeof(path));
    if (rc) {
        task_set_error(t, "bad image path in SR %s", im->sr.name);
        return rc;
    }
    im->written = 1;
    backup_progress_init(&bp, t, done, total);
    rc = bk_restore(repo, a->det.info.id, im->snap_disk, path, &bp.bk);
    if (rc == ERR_IO &&
        !bk_snapshot_find_bad_chunk(repo, a->det.info.id, im->snap_disk, chunk,
                                    &missing)) {
        task_set_error(t, "chunk %s of snapshot %s is %s: disk %s not restored",
                       chunk, a->det.info.id, missing ? "missing" : "corrupt",
                       a->det.disks[im->snap_disk].name);
        return rc;
    }
    if (!rc)
        rc = sr_image_sync(im->sr.path, im->tmp);
    if (rc && rc != ERR_CANCELLED)
        task_set_error(t,
                       "cannot restore disk %s of snapshot %s into SR %s: %s",
                       a->det.disks[im->snap_disk].name, a->det.info.id,
                       im->sr.name, backup_repo_why(repo, rc));
    return rc;
}

/* Every image into its tmp file; on failure the tmp files go. */
static int restore_all(struct task *t, struct restore_arg *a)
{
    struct bk_repo *repo = NULL;
    uint64_t total = 0, done = 0;
    size_t i;
    int rc;

    rc = backup_repo_open(task_app(t), a->repo_id, &repo);
    if (rc) {
        task_set_error(t, "cannot open backup repository %s: %s", a->repo_id,
                       backup_repo_open_why(rc));
        return rc;
    }
    for (i = 0; i < a->num_img; i++)
        total += a->det.disks[a->img[i].snap_disk].size;
    task_progress_bytes(t, 0, total);
    for (i = 0; i < a->num_img && !rc; i++) {
        rc = restore_img(t, repo, a, &a->img[i], done, total);
        done += a->det.disks[a->img[i].snap_disk].size;
    }
    bk_repo_free(repo);
    if (rc)
        for (i = 0; i < a->num_img; i++)
            if (a->img[i].written)
                sr_image_delete(a->img[i].sr.path, a->img[i].tmp);
    return rc;
}

/* Rename every tmp file over its image. On failure the tmp files go,
 * and so do the new images already renamed (an overwritten VM keeps
 * the disks already replaced: the message says which failed). */
static int commit_images(struct task *t, struct restore_arg *a)
{
    size_t i, k;
    int rc;

    for (i = 0; i < a->num_img; i++) {
        struct restore_img *im = &a->img[i];

        rc = sr_image_rename(im->sr.path, im->tmp, im->disk.file);
        if (rc) {
            task_set_error(t,
                           "cannot move the restored image of disk %s "
                           "into place: %s",
                           im->disk.name, err_str(rc));
            for (k = 0; a->mode != MODE_OVERWRITE && k < i; k++)
                sr_image_delete(a->img[k].sr.path, a->img[k].disk.file);
            for (; i < a->num_img; i++)
                sr_image_delete(a->img[i].sr.path, a->img[i].tmp);
            return rc;
        }
        im->written = 0;
    }
    return 0;
}

/* Remove the new images (the rows were not written). */
static void drop_images(struct restore_arg *a)
{
    size_t i;

    for (i = 0; i < a->num_img; i++)
        sr_image_delete(a->img[i].sr.path, a->img[i].disk.file);
}

json_t *restore_new_vm_body(struct app *app, const struct restore_arg *a)
{
    json_t *cfg = a->cfg, *disks = json_array(), *nics = json_array();
    json_t *o, *v, *e, *boot;
    struct db_network net;
    size_t i;

    for (i = 0; i < a->num_img; i++)
        json_array_append_new(disks, json_pack("{s:s, s:s, s:s}", "disk",
                                               a->img[i].disk.id, "device",
                                               a->img[i].device, "mode",
                                               a->img[i].mode));
    json_array_foreach(json_object_get(cfg, "nics"), i, e) {
        const char *n = json_string_value(json_object_get(e, "network"));

        if (n && uuid_valid(n) && !db_network_get(app->db, n, &net))
            json_array_append_new(nics, json_pack("{s:s}", "network", n));
    }
    o = json_pack("{s:s, s:o, s:o}", "name", a->name, "disks", disks, "nics",
                  nics);
    v = json_object_get(cfg, "vcpus");
    json_object_set_new(o, "vcpus",
                        json_is_integer(v) ? json_copy(v)
                                           : json_integer(DEFAULT_VCPUS));
    v = json_object_get(cfg, "memory_mib");
    json_object_set_new(o, "memory_mib",
                        json_is_integer(v) ? json_copy(v)
                                           : json_integer(DEFAULT_MEMORY_MIB));
    boot = json_object_get(cfg, "boot");
    if (json_is_object(boot)) {
        boot = json_deep_copy(boot);
        if (json_object_get(boot, "cdrom")) /* the ISO is not restored */
            json_object_set_new(boot, "cdrom", json_null());
        json_object_set_new(o, "boot", boot);
    }
    v = json_object_get(cfg, "tags");
    if (json_is_array(v))
        json_object_set(o, "tags", v);
    v = json_object_get(cfg, "description");
    if (json_is_string(v))
        json_object_set(o, "description", v);
    return o;
}

const char *restore_resp_message(struct resp *scratch)
{
    static __thread char msg[256];
    json_t *o = json_loadb(scratch->body.data, scratch->body.len, 0, NULL);
    const char *m = json_string_value(
        json_object_get(json_object_get(o, "error"), "message"));

    xstrlcpy(msg, m ? m : "invalid configuration", sizeof(msg));
    json_decref(o);
    return msg;
}

/* The VM row from the body, checked the way POST /vms checks. */
static int new_vm_build(struct task *t, struct restore_arg *a, struct db_vm *vm)
{
    struct app *app = task_app(t);
    struct resp scratch;
    json_t *body = restore_new_vm_body(app, a);
    int rc;

    resp_init(&scratch);
    memset(vm, 0, sizeof(*vm));
    uuid_generate(vm->id);
    xstrlcpy(vm->state, "halted", sizeof(vm->state));
    vm->created_at = vm->updated_at = time_now();
    rc = vmconf_apply_json(&scratch, body, 1, vm);
    if (!rc)
        rc = vmconf_check_refs(&scratch, app->db, vm);
    if (rc)
        task_set_error(t, "the snapshot's VM configuration does not fit: %s",
                       restore_resp_message(&scratch));
    resp_release(&scratch);
    json_decref(body);
    return rc;
}

static int insert_disks(struct app *app, const struct restore_arg *a)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < a->num_img && !rc; i++)
        rc = db_disk_insert(app->db, &a->img[i].disk);
    return rc;
}

static void publish_disks(struct app *app, const struct restore_arg *a)
{
    size_t i;

    for (i = 0; i < a->num_img; i++)
        events_publish(app->events, "disk", "created", a->img[i].disk.id,
                       api_disk_json(&a->img[i].disk, a->img[i].sr.path));
}

/* Disks rows and the VM in one transaction (check_refs inside it, so
 * it sees the new disks). */
static int new_vm_record(struct task *t, struct restore_arg *a,
                         struct db_vm *vm)
{
    struct app *app = task_app(t);
    int rc;

    rc = db_begin(app->db);
    if (rc) {
        task_set_error(t, "cannot record the VM: %s", err_str(rc));
        return rc;
    }
    rc = insert_disks(app, a);
    if (rc)
        task_set_error(t, "cannot record the disks: %s", err_str(rc));
    if (!rc)
        rc = new_vm_build(t, a, vm);
    if (!rc) {
        rc = db_vm_insert(app->db, vm);
        if (rc)
            task_set_error(t, "cannot record the VM: %s", err_str(rc));
    }
    if (rc)
        db_rollback(app->db);
    else if ((rc = db_commit(app->db)))
        task_set_error(t, "cannot record the VM: %s", err_str(rc));
    return rc;
}

static int task_new_vm(struct task *t, struct restore_arg *a)
{
    struct app *app = task_app(t);
    struct db_vm vm;
    int rc;

    memset(&vm, 0, sizeof(vm));
    rc = new_vm_record(t, a, &vm);
    if (rc) {
        drop_images(a);
        goto out;
    }
    log_info("backup: snapshot %s restored as vm %s (%s)", a->det.info.id,
             vm.id, vm.name);
    publish_disks(app, a);
    vmstate_publish(app, vm.id, "created");
    task_set_result(t, json_pack("{s:o}", "vm", vmstate_vm_json(app, &vm)));
out:
    db_vm_release(&vm);
    return rc;
}

static int task_disk(struct task *t, struct restore_arg *a)
{
    struct app *app = task_app(t);
    int rc;

    rc = insert_disks(app, a);
    if (rc) {
        task_set_error(t, "cannot record the disk: %s", err_str(rc));
        drop_images(a);
        return rc;
    }
    log_info("backup: disk %s of snapshot %s restored as disk %s",
             a->det.disks[a->img[0].snap_disk].name, a->det.info.id,
             a->img[0].disk.id);
    publish_disks(app, a);
    task_set_result(
        t, json_pack("{s:o}", "disk",
                     api_disk_json(&a->img[0].disk, a->img[0].sr.path)));
    return 0;
}

static int task_overwrite(struct task *t, struct restore_arg *a)
{
    struct app *app = task_app(t);
    struct db_vm vm;
    size_t i;
    int rc;

    /* Sizes follow the snapshot (the images have its size now). */
    for (i = 0; i < a->num_img; i++) {
        struct restore_img *im = &a->img[i];
        int64_t size = (int64_t)a->det.disks[im->snap_disk].size;

        if (im->disk.size_bytes != size) {
            im->disk.size_bytes = size;
            if (db_disk_update(app->db, &im->disk))
                log_warn("backup: disk %s: cannot record its new size",
                         im->disk.id);
            events_publish(app->events, "disk", "updated", im->disk.id, NULL);
        }
    }
    rc = db_vm_get(app->db, a->vm_id, &vm);
    if (rc) {
        task_set_error(t, "vm %s: %s", a->vm_id, err_str(rc));
        return rc;
    }
    log_info("backup: snapshot %s restored over vm %s (%s)", a->det.info.id,
             vm.id, vm.name);
    vmstate_publish(app, vm.id, "updated");
    task_set_result(t, json_pack("{s:o}", "vm", vmstate_vm_json(app, &vm)));
    db_vm_release(&vm);
    return 0;
}

int restore_task(struct task *t, void *opaque)
{
    struct restore_arg *a = opaque;
    int rc;

    rc = restore_all(t, a);
    if (!rc)
        rc = commit_images(t, a);
    if (rc)
        return rc;
    switch (a->mode) {
    case MODE_NEW_VM:
        return task_new_vm(t, a);
    case MODE_OVERWRITE:
        return task_overwrite(t, a);
    case MODE_DISK:
        return task_disk(t, a);
    }
    return ERR_INTERNAL;
}
