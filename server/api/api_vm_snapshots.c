/* api_vm_snapshots.c: GET|POST /vms/{id}/snapshots,
 * POST /vms/{id}/snapshots/{sid}/revert, DELETE /vms/{id}/snapshots/{sid}.
 *
 * A snapshot is the VM's JSON record when taken plus a clone of each of
 * its disks (sr_image_clone: reflink where possible), each clone a disks
 * row with snapshot_of set. A running VM is paused only around the
 * clones. Files are made before rows and removed after rows, so a crash
 * leaves at worst an orphan file, never a row without its file.
 */
#include "server/api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/api/api_vm_util.h"
#include "server/core/app.h"
#include "server/core/sr.h"
#include "server/core/vmclone.h"
#include "server/core/vmconf.h"
#include "server/core/vmstate.h"
#include "xen/hv.h"

/* A disk and its SR, looked up together. */
struct disk_loc {
    struct db_disk disk;
    struct db_sr sr;
};

static int disk_locate(struct app *app, const char *disk_id,
                       struct disk_loc *out)
{
    int rc = db_disk_get(app->db, disk_id, &out->disk);

    if (!rc)
        rc = db_sr_get(app->db, out->disk.sr_id, &out->sr);
    return rc;
}

static json_t *snapshot_json(const struct db_vm_snapshot *s)
{
    json_t *disks = json_array(), *cfg;
    size_t i;

    for (i = 0; i < s->num_disks; i++)
        json_array_append_new(disks, json_pack("{s:s, s:s}", "device",
                                               s->disks[i].device, "disk",
                                               s->disks[i].disk_id));
    cfg = json_loads(s->config ? s->config : "{}", 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", s->id, "vm",
                     s->vm_id, "name", s->name, "created_at",
                     api_time(s->created_at), "disks", disks, "config",
                     cfg ? cfg : json_object());
}

/* The snapshot named by path parameter 1, which must belong to vm. */
static int snapshot_load(struct app *app, const struct req *q, struct resp *r,
                         const struct db_vm *vm, struct db_vm_snapshot *out)
{
    const char *sid;
    int rc = api_param_uuid(q, r, 1, &sid);

    if (rc)
        return rc;
    rc = db_vm_snapshot_get(app->db, sid, out);
    if (!rc && strcmp(out->vm_id, vm->id)) {
        db_vm_snapshot_release(out);
        rc = ERR_NOTFOUND;
    }
    if (rc == ERR_NOTFOUND)
        return api_error(r, rc, NULL, "vm %s has no snapshot %s", vm->id, sid);
    if (rc)
        return api_error(r, rc, NULL, "snapshot %s: %s", sid, err_str(rc));
    return 0;
}

int api_vm_snapshots_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_vm_snapshot *list = NULL;
    struct db_vm vm;
    size_t num = 0, i;
    json_t *arr;
    int rc;

    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        return rc;
    rc = db_vm_snapshot_list(app->db, vm.id, &list, &num);
    db_vm_release(&vm);
    if (rc)
        return api_error(r, rc, NULL, "cannot list snapshots: %s", err_str(rc));
    arr = json_array();
    for (i = 0; i < num; i++) {
        json_array_append_new(arr, snapshot_json(&list[i]));
        db_vm_snapshot_release(&list[i]);
    }
    free(list);
    return api_json(r, 200, arr);
}

/* The clones of one snapshot being taken. */
struct snap_work {
    struct disk_loc src[DB_VM_MAX_DISKS];
    struct db_disk clone[DB_VM_MAX_DISKS];
    size_t num;  /* disks of the VM */
    size_t made; /* clone files written */
};

static void snap_work_undo(struct snap_work *w)
{
    while (w->made) {
        size_t i = --w->made;

        sr_image_delete(w->src[i].sr.path, w->clone[i].file);
    }
}

/* "<disk name>@<snapshot name>", the disk part shortened to fit. */
static void clone_name(char out[65], const char *disk, const char *snap)
{
    int room = 64 - 1 - (int)strlen(snap);

    if (room < 1)
        room = 1;
    snprintf(out, 65, "%.*s@%s", room, disk, snap);
}

static int snap_prepare(struct app *app, struct resp *r, const struct db_vm *vm,
                        const char *name, struct snap_work *w)
{
    size_t i;
    int rc;

    memset(w, 0, sizeof(*w));
    for (i = 0; i < vm->num_disks; i++) {
        struct db_disk *c = &w->clone[i];

        rc = disk_locate(app, vm->disks[i].disk_id, &w->src[i]);
        if (rc)
            return api_error(r, rc, "disks", "disk %s: %s",
                             vm->disks[i].disk_id, err_str(rc));
        *c = w->src[i].disk;
        uuid_generate(c->id);
        clone_name(c->name, w->src[i].disk.name, name);
        snprintf(c->file, sizeof(c->file), "%s.raw", c->id);
        xstrlcpy(c->snapshot_of, w->src[i].disk.id, sizeof(c->snapshot_of));
        c->created_at = time_now();
        c->attached_vm[0] = '\0';
        c->attached_device[0] = '\0';
        w->num++;
    }
    return 0;
}

/* Clone every disk, the VM paused around it when running. */
static int snap_clone(struct app *app, struct resp *r, const struct db_vm *vm,
                      struct snap_work *w, int64_t *pause_ms_out)
{
    struct vmclone_item items[DB_VM_MAX_DISKS];
    size_t i, failed = 0;
    int rc;

    for (i = 0; i < w->num; i++) {
        items[i].sr_path = w->src[i].sr.path;
        items[i].src_file = w->src[i].disk.file;
        items[i].dst_file = w->clone[i].file;
    }
    rc = vmclone_disks(app, vm->id, !strcmp(vm->state, "running"), items,
                       w->num, &failed, pause_ms_out);
    if (rc && failed == w->num)
        return api_error(r, rc, NULL, "cannot pause the vm: %s",
                         hv_last_error());
    if (rc)
        return api_error(r, rc, "disks", "cannot clone disk %s: %s",
                         w->src[failed].disk.name, err_str(rc));
    w->made = w->num;
    return 0;
}

static int snap_record(struct app *app, const struct snap_work *w,
                       const struct db_vm_snapshot *s)
{
    size_t i;
    int rc;

    rc = db_begin(app->db);
    if (rc)
        return rc;
    for (i = 0; !rc && i < w->num; i++)
        rc = db_disk_insert(app->db, &w->clone[i]);
    if (!rc)
        rc = db_vm_snapshot_insert(app->db, s);
    if (rc) {
        db_rollback(app->db);
        return rc;
    }
    return db_commit(app->db);
}

int api_vm_snapshot_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const fields[] = { "name", NULL };
    struct db_vm_snapshot s;
    struct snap_work *w = xcalloc(1, sizeof(*w));
    json_t *body = NULL, *out;
    const char *name;
    struct db_vm vm;
    int64_t pause_ms = 0;
    size_t i;
    int rc;

    memset(&s, 0, sizeof(s));
    rc = api_vm_load(app, q, r, &vm);
    if (rc) {
        free(w);
        return rc;
    }
    rc = api_body(q, r, fields, &body);
    if (rc)
        goto out;
    rc = api_get_str(r, body, "name", 1, 1, 64, &name);
    if (rc < 0)
        goto out;
    rc = api_check_name(r, "name", name);
    if (rc)
        goto out;
    rc = api_vm_claim(r, vm.id);
    if (rc)
        goto out;
    rc = snap_prepare(app, r, &vm, name, w);
    if (!rc)
        rc = snap_clone(app, r, &vm, w, &pause_ms);
    if (rc)
        goto release;

    uuid_generate(s.id);
    xstrlcpy(s.vm_id, vm.id, sizeof(s.vm_id));
    xstrlcpy(s.name, name, sizeof(s.name));
    out = vmconf_to_json(&vm);
    s.config = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    s.created_at = time_now();
    for (i = 0; i < w->num; i++) {
        xstrlcpy(s.disks[i].device, vm.disks[i].device,
                 sizeof(s.disks[i].device));
        xstrlcpy(s.disks[i].disk_id, w->clone[i].id,
                 sizeof(s.disks[i].disk_id));
    }
    s.num_disks = w->num;
    rc = snap_record(app, w, &s);
    if (rc) {
        snap_work_undo(w);
        rc = api_error(r, rc, NULL, "cannot record the snapshot: %s",
                       err_str(rc));
        goto release;
    }
    log_info("vm %s: snapshot %s (%s) taken, %zu disk(s), paused %lld ms",
             vm.id, s.id, s.name, w->num, (long long)pause_ms);
    xstrlcpy(r->audit_target, s.id, sizeof(r->audit_target));
    out = snapshot_json(&s);
    json_object_set_new(out, "pause_ms", json_integer(pause_ms));
    api_json(r, 201, out);
    vmstate_publish(app, vm.id, "updated");
release:
    vmstate_release(vm.id);
    vmstate_sync(app, vm.id);
out:
    json_decref(body);
    db_vm_snapshot_release(&s);
    db_vm_release(&vm);
    free(w);
    return rc;
}

/* rename(2) and make it durable: fsync the directory. */
static int rename_durable(const char *from, const char *to, const char *dir)
{
    int fd;

    if (rename(from, to))
        return err_from_errno(errno);
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

struct revert_item {
    struct disk_loc snap; /* the snapshot's clone */
    struct disk_loc cur;  /* the VM's disk now at that device */
    char tmp[128];        /* fresh clone, before the rename */
};

static int revert_prepare(struct app *app, struct resp *r,
                          const struct db_vm *vm,
                          const struct db_vm_snapshot *s,
                          struct revert_item *items)
{
    size_t i, k;
    int rc;

    for (i = 0; i < s->num_disks; i++) {
        const char *dev = s->disks[i].device;

        for (k = 0; k < vm->num_disks; k++)
            if (!strcmp(vm->disks[k].device, dev))
                break;
        if (k == vm->num_disks)
            return api_error(r, ERR_CONFLICT, "disks",
                             "the vm has no disk %s any more", dev);
        rc = disk_locate(app, s->disks[i].disk_id, &items[i].snap);
        if (!rc)
            rc = disk_locate(app, vm->disks[k].disk_id, &items[i].cur);
        if (rc)
            return api_error(r, rc, "disks", "disk %s: %s", dev, err_str(rc));
        if (strcmp(items[i].snap.sr.id, items[i].cur.sr.id))
            return api_error(r, ERR_CONFLICT, "disks",
                             "disk %s is now in another storage repository",
                             dev);
        snprintf(items[i].tmp, sizeof(items[i].tmp), "%s.revert",
                 items[i].cur.disk.file);
    }
    return 0;
}

/* Fresh clones under temp names, then renamed over the VM's images. */
static int revert_files(struct resp *r, struct revert_item *items, size_t num)
{
    char from[1024], to[1024];
    size_t i, made;
    int rc = 0;

    for (made = 0; made < num; made++) {
        struct revert_item *it = &items[made];

        sr_image_delete(it->cur.sr.path, it->tmp);
        rc =
            sr_image_clone(it->snap.sr.path, it->snap.disk.file, it->tmp, NULL);
        if (rc)
            break;
        if (it->cur.disk.size_bytes > it->snap.disk.size_bytes)
            rc = sr_image_resize(it->cur.sr.path, it->tmp,
                                 (uint64_t)it->cur.disk.size_bytes);
        if (rc) {
            made++;
            break;
        }
    }
    if (rc) {
        for (i = 0; i < made; i++)
            sr_image_delete(items[i].cur.sr.path, items[i].tmp);
        return api_error(r, rc, "disks", "cannot clone the snapshot: %s",
                         err_str(rc));
    }
    for (i = 0; i < num; i++) {
        struct revert_item *it = &items[i];

        rc = sr_image_path(it->cur.sr.path, it->tmp, from, sizeof(from));
        if (!rc)
            rc = sr_image_path(it->cur.sr.path, it->cur.disk.file, to,
                               sizeof(to));
        if (!rc)
            rc = rename_durable(from, to, it->cur.sr.path);
        if (rc) {
            log_error("revert: cannot rename %s over %s: %s", from, to,
                      err_str(rc));
            return api_error(r, rc, "disks", "cannot replace disk %s: %s",
                             it->cur.disk.name, err_str(rc));
        }
    }
    return 0;
}

int api_vm_snapshot_revert(struct app *app, struct req *q, struct resp *r)
{
    struct revert_item *items = NULL;
    struct db_vm_snapshot s;
    struct db_vm vm, after;
    int rc, claimed = 0;

    memset(&s, 0, sizeof(s));
    memset(&after, 0, sizeof(after));
    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        return rc;
    rc = snapshot_load(app, q, r, &vm, &s);
    if (rc)
        goto out;
    rc = api_vm_claim(r, vm.id);
    if (rc)
        goto out;
    claimed = 1;
    if (strcmp(vm.state, "halted")) {
        rc = api_vm_state_conflict(r, &vm);
        goto out;
    }
    vmconf_copy(&after, &vm);
    if (vmconf_restore_record(&after, s.config)) {
        rc = api_error(r, ERR_INTERNAL, NULL,
                       "the snapshot's record is unreadable");
        goto out;
    }
    items = xcalloc(DB_SNAP_MAX_DISKS, sizeof(*items));
    rc = revert_prepare(app, r, &vm, &s, items);
    if (!rc)
        rc = revert_files(r, items, s.num_disks);
    if (rc)
        goto out;
    after.updated_at = time_now();
    rc = db_vm_update(app->db, &after);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot restore the configuration: %s",
                       err_str(rc));
        goto out;
    }
    log_info("vm %s reverted to snapshot %s (%s)", vm.id, s.id, s.name);
    db_vm_release(&after);
    rc = db_vm_get(app->db, vm.id, &after);
    if (rc) {
        rc = api_error(r, rc, NULL, "vm %s: %s", vm.id, err_str(rc));
        goto out;
    }
    xstrlcpy(r->audit_target, vm.id, sizeof(r->audit_target));
    vmstate_publish(app, vm.id, "updated");
    api_json(r, 200, vmstate_vm_json(app, &after));
out:
    if (claimed)
        vmstate_release(vm.id);
    free(items);
    db_vm_snapshot_release(&s);
    db_vm_release(&after);
    db_vm_release(&vm);
    return rc;
}

int api_vm_snapshot_delete(struct app *app, struct req *q, struct resp *r)
{
    struct disk_loc loc[DB_SNAP_MAX_DISKS];
    struct db_vm_snapshot s;
    struct db_vm vm;
    size_t i, num = 0;
    int rc;

    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        return rc;
    rc = snapshot_load(app, q, r, &vm, &s);
    if (rc)
        goto out_vm;
    for (i = 0; i < s.num_disks; i++)
        if (disk_locate(app, s.disks[i].disk_id, &loc[num]) == 0)
            num++;
    rc = db_begin(app->db);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot delete the snapshot: %s",
                       err_str(rc));
        goto out;
    }
    rc = db_vm_snapshot_delete(app->db, s.id);
    for (i = 0; !rc && i < num; i++)
        rc = db_disk_delete(app->db, loc[i].disk.id);
    if (rc)
        db_rollback(app->db);
    else
        rc = db_commit(app->db);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot delete the snapshot: %s",
                       err_str(rc));
        goto out;
    }
    for (i = 0; i < num; i++)
        if (sr_image_delete(loc[i].sr.path, loc[i].disk.file))
            log_warn("snapshot %s: cannot remove %s/%s", s.id, loc[i].sr.path,
                     loc[i].disk.file);
    log_info("vm %s: snapshot %s (%s) deleted", vm.id, s.id, s.name);
    vmstate_publish(app, vm.id, "updated");
    api_no_content(r);
out:
    db_vm_snapshot_release(&s);
out_vm:
    db_vm_release(&vm);
    return rc;
}
