/* api_backup_restore_req.c: POST /backup/snapshots/{id}/restore: check
 * the body (shapes first, so bad input is 400 naming the field whatever
 * the snapshot), find the snapshot, plan the images (new disks in an SR,
 * or the disks of a halted VM, claimed for the task) and queue the task
 * (api_backup_restore.c). */
#include "server/api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/bk.h"
#include "common/err.h"
#include "common/seal.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_backup_repos.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/api/api_backup.h"
#include "server/api/api_backup_restore.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/backup_repo.h"
#include "server/core/vmconf.h"
#include "server/core/vmstate.h"

/* A valid object name from s: characters outside [A-Za-z0-9 ._-]
 * become '-', no leading space, at most 64 characters; suffix appended
 * when it fits. */
static void name_clean(const char *s, const char *suffix, char out[65])
{
    size_t n = 0, room = 64 - strlen(suffix);

    for (; *s && n < room; s++) {
        char c = *s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '_' ||
              c == '-'))
            c = '-';
        if (c == ' ' && n == 0)
            continue;
        out[n++] = c;
    }
    out[n] = '\0';
    if (n == 0)
        xstrlcpy(out, "restored", 65);
    else
        xstrlcpy(out + n, suffix, 65 - n);
}

struct restore_body {
    const char *repository, *mode, *sr, *name, *vm;
    int64_t disk;
};

static int uuid_field(struct resp *r, json_t *body, const char *key,
                      const char **out)
{
    int rc = api_get_str(r, body, key, 0, 36, 36, out);

    if (rc == 1 && !uuid_valid(*out))
        return api_error(r, ERR_INVALID, key, "%s must be an id", key);
    return rc;
}

/* Shapes only: nothing is looked up yet. */
static int restore_fields(struct resp *r, json_t *body, struct restore_body *b,
                          enum restore_mode *mode)
{
    int rc;

    memset(b, 0, sizeof(*b));
    if ((rc = uuid_field(r, body, "repository", &b->repository)) < 0 ||
        (rc = api_get_str(r, body, "mode", 1, 1, 16, &b->mode)) < 0 ||
        (rc = uuid_field(r, body, "sr", &b->sr)) < 0 ||
        (rc = api_get_str(r, body, "name", 0, 1, 64, &b->name)) < 0 ||
        (b->name && (rc = api_check_name(r, "name", b->name)) < 0) ||
        (rc = uuid_field(r, body, "vm", &b->vm)) < 0 ||
        (rc = api_get_int(r, body, "disk", 0, 0, DB_VM_MAX_DISKS - 1,
                          &b->disk)) < 0)
        return rc;
    if (!strcmp(b->mode, "new-vm"))
        *mode = MODE_NEW_VM;
    else if (!strcmp(b->mode, "overwrite"))
        *mode = MODE_OVERWRITE;
    else if (!strcmp(b->mode, "disk"))
        *mode = MODE_DISK;
    else
        return api_error(r, ERR_INVALID, "mode",
                         "mode must be new-vm, overwrite or disk");
    if (*mode == MODE_OVERWRITE && !b->vm)
        return api_error(r, ERR_INVALID, "vm",
                         "overwrite needs vm: the halted VM to restore over");
    if (*mode != MODE_OVERWRITE && b->vm)
        return api_error(r, ERR_INVALID, "vm", "vm is for mode overwrite");
    if (*mode == MODE_OVERWRITE && (b->sr || b->name))
        return api_error(r, ERR_INVALID, b->sr ? "sr" : "name",
                         "overwrite writes the VM's own disks: no %s",
                         b->sr ? "sr" : "name");
    return 0;
}

/* The SR for new disks: the one given, else the source VM's first
 * disk's, else the pool's default, else the only one. */
static int pick_sr(struct app *app, struct resp *r, const char *given,
                   struct restore_arg *a)
{
    struct db_sr *list = NULL;
    struct db_pool pool;
    struct db_disk d;
    struct db_vm vm;
    char vm_id[37];
    size_t num = 0;
    int rc;

    if (given) {
        if (db_sr_get(app->db, given, &a->sr))
            return api_error(r, ERR_INVALID, "sr", "sr %s is not a known SR",
                             given);
        return 0;
    }
    if (api_backup_snapshot_vm(&a->det, vm_id) &&
        !db_vm_get(app->db, vm_id, &vm)) {
        rc = vm.num_disks ? db_disk_get(app->db, vm.disks[0].disk_id, &d)
                          : ERR_NOTFOUND;
        db_vm_release(&vm);
        if (!rc && !db_sr_get(app->db, d.sr_id, &a->sr))
            return 0;
    }
    if (!db_pool_get(app->db, &pool) && pool.default_sr[0] &&
        !db_sr_get(app->db, pool.default_sr, &a->sr))
        return 0;
    rc = db_sr_list(app->db, &list, &num);
    if (!rc && num == 1)
        a->sr = list[0];
    free(list);
    if (rc || num != 1)
        return api_error(r, ERR_INVALID, "sr",
                         "give sr: the SR for the restored disks");
    return 0;
}

/* The file of a new disk (when it has none yet) and the temp name
 * the restore writes first. */
static void image_names(struct restore_img *im)
{
    char name[sizeof(im->tmp)];

    if (!im->disk.file[0]) {
        snprintf(name, sizeof(name), "%s.raw", im->disk.id);
        xstrlcpy(im->disk.file, name, sizeof(im->disk.file));
    }
    snprintf(name, sizeof(name), "%s.restore", im->disk.file);
    xstrlcpy(im->tmp, name, sizeof(im->tmp));
}

/* A new disk for snapshot disk i in a->sr. */
static void plan_new_disk(struct restore_arg *a, size_t i, const char *name)
{
    struct restore_img *im = &a->img[a->num_img++];
    const char *mode =
        json_string_value(json_object_get(restore_cfg_disk(a, i), "mode"));

    im->snap_disk = i;
    im->sr = a->sr;
    uuid_generate(im->disk.id);
    xstrlcpy(im->disk.name, name, sizeof(im->disk.name));
    xstrlcpy(im->disk.sr_id, a->sr.id, sizeof(im->disk.sr_id));
    image_names(im);
    im->disk.size_bytes = (int64_t)a->det.disks[i].size;
    xstrlcpy(im->disk.format, "raw", sizeof(im->disk.format));
    im->disk.created_at = time_now();
    restore_snap_device(a, i, im->device);
    xstrlcpy(im->mode, mode && !strcmp(mode, "ro") ? "ro" : "rw",
             sizeof(im->mode));
}

/* Before any byte is written: the config must make a VM (its shapes;
 * what it points to is checked again with the disks in place). */
static int new_vm_precheck(struct app *app, struct resp *r,
                           const struct restore_arg *a)
{
    struct resp scratch;
    struct db_vm vm;
    json_t *body = restore_new_vm_body(app, a);
    int rc;

    resp_init(&scratch);
    memset(&vm, 0, sizeof(vm));
    rc = vmconf_apply_json(&scratch, body, 1, &vm);
    if (rc)
        rc = api_error(r, ERR_CONFLICT, NULL,
                       "the snapshot's VM configuration does not fit: %s",
                       restore_resp_message(&scratch));
    db_vm_release(&vm);
    resp_release(&scratch);
    json_decref(body);
    return rc;
}

static int plan_new_vm(struct app *app, struct resp *r,
                       const struct restore_body *b, struct restore_arg *a)
{
    const char *base = json_string_value(json_object_get(a->cfg, "name"));
    char name[65];
    size_t i;
    int rc;

    rc = pick_sr(app, r, b->sr, a);
    if (rc)
        return rc;
    if (b->name)
        xstrlcpy(a->name, b->name, sizeof(a->name));
    else
        name_clean(base ? base : a->det.info.name, " restored", a->name);
    for (i = 0; i < a->det.info.num_disks; i++) {
        const char *dn =
            json_string_value(json_object_get(restore_cfg_disk(a, i), "name"));

        name_clean(dn ? dn : a->det.disks[i].name, "", name);
        plan_new_disk(a, i, name);
    }
    for (i = 0; i < a->num_img; i++)
        for (size_t k = 0; k < i; k++)
            if (!strcmp(a->img[i].device, a->img[k].device))
                snprintf(a->img[i].device, sizeof(a->img[i].device), "xvd%c",
                         (char)('a' + (i % 26)));
    return new_vm_precheck(app, r, a);
}

static int plan_disk(struct app *app, struct resp *r,
                     const struct restore_body *b, struct restore_arg *a)
{
    char name[65];
    int rc;

    if ((size_t)b->disk >= a->det.info.num_disks)
        return api_error(r, ERR_INVALID, "disk",
                         "snapshot %s has %zu disk(s): disk must be below",
                         a->det.info.id, a->det.info.num_disks);
    rc = pick_sr(app, r, b->sr, a);
    if (rc)
        return rc;
    if (b->name)
        xstrlcpy(name, b->name, sizeof(name));
    else
        name_clean(a->det.disks[b->disk].name, " restored", name);
    xstrlcpy(a->name, name, sizeof(a->name));
    plan_new_disk(a, (size_t)b->disk, name);
    return 0;
}

/* Claim the halted VM and map every snapshot disk to its disk. */
static int plan_overwrite(struct app *app, struct resp *r,
                          const struct restore_body *b, struct restore_arg *a)
{
    struct db_vm vm;
    size_t i, k;
    int rc;

    if (db_vm_get(app->db, b->vm, &vm))
        return api_error(r, ERR_INVALID, "vm", "vm %s is not a known VM",
                         b->vm);
    xstrlcpy(a->vm_id, vm.id, sizeof(a->vm_id));
    if (vmstate_claim(vm.id)) {
        rc = api_error(r, ERR_CONFLICT, "vm",
                       "a task is already running for vm %s", vm.id);
        goto out;
    }
    a->claimed = 1;
    if (strcmp(vm.state, "halted")) {
        rc = api_error(r, ERR_CONFLICT, "vm",
                       "vm is %s: it must be halted to be overwritten",
                       vm.state);
        goto out;
    }
    rc = 0;
    for (i = 0; i < a->det.info.num_disks && !rc; i++) {
        struct restore_img *im = &a->img[a->num_img];

        restore_snap_device(a, i, im->device);
        for (k = 0; k < vm.num_disks; k++)
            if (!strcmp(vm.disks[k].device, im->device))
                break;
        if (k == vm.num_disks) {
            rc = api_error(r, ERR_CONFLICT, "vm",
                           "vm %s has no disk %s to restore disk %s into",
                           vm.id, im->device, a->det.disks[i].name);
            break;
        }
        if (db_disk_get(app->db, vm.disks[k].disk_id, &im->disk) ||
            db_sr_get(app->db, im->disk.sr_id, &im->sr)) {
            rc = api_error(r, ERR_CONFLICT, "vm", "disk %s of vm %s is gone",
                           im->device, vm.id);
            break;
        }
        im->snap_disk = i;
        image_names(im);
        a->num_img++;
    }
out:
    db_vm_release(&vm);
    return rc;
}

static int restore_plan(struct app *app, struct resp *r,
                        const struct restore_body *b, enum restore_mode mode,
                        struct restore_arg *a)
{
    if (a->det.info.num_disks == 0 || a->det.info.num_disks > DB_VM_MAX_DISKS)
        return api_error(r, ERR_CONFLICT, NULL,
                         "snapshot %s has %zu disks: cannot restore it here",
                         a->det.info.id, a->det.info.num_disks);
    if (a->det.vm_config)
        a->cfg = json_loads(a->det.vm_config, 0, NULL);
    a->mode = mode;
    switch (mode) {
    case MODE_NEW_VM:
        return plan_new_vm(app, r, b, a);
    case MODE_OVERWRITE:
        return plan_overwrite(app, r, b, a);
    case MODE_DISK:
        return plan_disk(app, r, b, a);
    }
    return ERR_INTERNAL;
}

/* The snapshot (and its repository) named by the path and body. */
static int restore_find(struct app *app, struct req *q, struct resp *r,
                        const struct restore_body *b, struct restore_arg *a)
{
    struct db_backup_repo row;
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    if (b->repository && db_backup_repo_get(app->db, b->repository, &row))
        return api_error(r, ERR_INVALID, "repository",
                         "repository %s is not a known backup repository",
                         b->repository);
    rc = backup_snapshot_find(app, b->repository, id, &row, &a->det);
    seal_wipe(row.passphrase_sealed, sizeof(row.passphrase_sealed));
    if (rc == ERR_NOTFOUND)
        return api_error(r, rc, NULL, "no backup repository holds snapshot %s",
                         id);
    if (rc)
        return api_error(r, rc, NULL, "snapshot %s: %s", id, err_str(rc));
    xstrlcpy(a->repo_id, row.id, sizeof(a->repo_id));
    return 0;
}

int api_backup_snapshot_restore(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "repository", "mode", "sr", "name",
                                           "vm",         "disk", NULL };
    struct restore_arg *a = NULL;
    struct restore_body b;
    enum restore_mode mode = MODE_NEW_VM;
    json_t *body = NULL;
    const char *target;
    int rc;

    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    rc = restore_fields(r, body, &b, &mode);
    if (rc)
        goto out;
    a = xcalloc(1, sizeof(*a));
    rc = restore_find(app, q, r, &b, a);
    if (!rc)
        rc = restore_plan(app, r, &b, mode, a);
    if (rc)
        goto out;
    target = mode == MODE_OVERWRITE ? a->vm_id : a->det.info.id;
    rc = api_backup_submit(app, q, r, "backup.restore",
                           mode == MODE_OVERWRITE ? "vm" : "backup_snapshot",
                           target, restore_task, a, restore_arg_free);
    a = NULL; /* stolen */
out:
    restore_arg_free(a);
    json_decref(body);
    return rc;
}
