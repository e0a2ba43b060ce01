/* api_vms.c: GET|POST /vms, GET|PATCH|DELETE /vms/{id}. */
#include "server/api/api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/api/api_vm_hotplug.h"
#include "server/api/api_vm_util.h"
#include "server/core/app.h"
#include "server/core/vmconf.h"
#include "server/core/vmstate.h"
#include "xen/hv.h"

static int state_name_valid(const char *s)
{
    return !strcmp(s, "halted") || !strcmp(s, "running") ||
           !strcmp(s, "paused") || !strcmp(s, "suspended");
}

static int has_tag(const struct db_vm *vm, const char *tag)
{
    json_t *tags = json_loads(vm->tags ? vm->tags : "[]", 0, NULL);
    json_t *t;
    size_t i;
    int found = 0;

    json_array_foreach(tags, i, t) {
        if (json_is_string(t) && !strcmp(json_string_value(t), tag)) {
            found = 1;
            break;
        }
    }
    json_decref(tags);
    return found;
}

/* The unfiltered list, as last written, and the database change count it
 * was read at: GET /vms with 1000 VMs is then a copy, not 3 queries and
 * 1000 formattings. Any write to the database invalidates it. */
static struct {
    pthread_mutex_t mu;
    uint64_t gen;
    int valid;
    struct buf json;
} vms_cache = { PTHREAD_MUTEX_INITIALIZER, 0, 0, BUF_INIT };

static int vms_list_json(struct app *app, const char *state, const char *tag,
                         struct buf *out)
{
    struct db_vm *list = NULL;
    size_t num = 0, i, n = 0;
    int rc = db_vm_list(app->db, &list, &num);

    if (rc)
        return rc;
    /* Written as text: no jansson tree of 1000 VMs to build and dump. */
    buf_puts(out, "[");
    for (i = 0; i < num; i++) {
        if ((!*state || !strcmp(list[i].state, state)) &&
            (!*tag || has_tag(&list[i], tag))) {
            if (n++)
                buf_puts(out, ",");
            vmconf_append_json(out, &list[i]);
        }
        db_vm_release(&list[i]);
    }
    free(list);
    buf_puts(out, "]");
    return 0;
}

static int vms_list_cached(struct app *app, struct buf *out)
{
    uint64_t gen = db_change_count(app->db);
    int rc = 0;

    pthread_mutex_lock(&vms_cache.mu);
    if (!vms_cache.valid || vms_cache.gen != gen) {
        buf_reset(&vms_cache.json);
        rc = vms_list_json(app, "", "", &vms_cache.json);
        vms_cache.valid = !rc;
        vms_cache.gen = gen; /* read before the list: never too new */
    }
    if (!rc)
        buf_append(out, vms_cache.json.data, vms_cache.json.len);
    pthread_mutex_unlock(&vms_cache.mu);
    return rc;
}

int api_vms_list(struct app *app, struct req *q, struct resp *r)
{
    char state[16] = "", tag[VMCONF_MAX_TAG_LEN + 1] = "";
    int rc;

    rc = req_query(q, "state", state, sizeof(state));
    if (rc == ERR_INVALID || (rc == 0 && !state_name_valid(state)))
        return api_error(r, ERR_INVALID, "state",
                         "state must be halted, running, paused or "
                         "suspended");
    rc = req_query(q, "tag", tag, sizeof(tag));
    if (rc == ERR_INVALID)
        return api_error(r, ERR_INVALID, "tag", "tag is too long");
    buf_reset(&r->body);
    if (*state || *tag)
        rc = vms_list_json(app, state, tag, &r->body);
    else
        rc = vms_list_cached(app, &r->body);
    if (rc)
        return api_error(r, rc, NULL, "cannot list vms: %s", err_str(rc));
    r->status = 200;
    r->content_type = "application/json";
    return 0;
}

int api_vm_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_vm vm;
    int rc = api_vm_load(app, q, r, &vm);

    if (rc)
        return rc;
    api_json(r, 200, vmstate_vm_json(app, &vm));
    db_vm_release(&vm);
    return 0;
}

int api_vms_create(struct app *app, struct req *q, struct resp *r)
{
    json_t *body = NULL;
    struct db_vm vm;
    int rc;

    memset(&vm, 0, sizeof(vm));
    rc = api_body(q, r, vmconf_fields, &body);
    if (rc)
        return rc;
    uuid_generate(vm.id);
    xstrlcpy(vm.state, "halted", sizeof(vm.state));
    vm.created_at = vm.updated_at = time_now();
    rc = vmconf_apply_json(r, body, 1, &vm);
    if (!rc)
        rc = vmconf_check_refs(r, app->db, &vm);
    if (rc)
        goto out;
    rc = db_vm_insert(app->db, &vm);
    if (rc == ERR_CONFLICT) {
        /* A disk or MAC taken between the check and the insert. */
        rc = api_error(r, rc, "disks",
                       "a disk or MAC address of this vm was just taken");
        goto out;
    }
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot create the vm: %s", err_str(rc));
        goto out;
    }
    xstrlcpy(r->audit_target, vm.id, sizeof(r->audit_target));
    log_info("vm %s (%s) created by %s", vm.id, vm.name, q->who.username);
    vmstate_publish(app, vm.id, "created");
    api_json(r, 201, vmstate_vm_json(app, &vm));
out:
    json_decref(body);
    db_vm_release(&vm);
    return rc;
}

/* Live vcpus/memory changes of a running or paused VM; on failure the
 * ones already made are undone. 0 or the error written to r. */
static int patch_live(struct app *app, struct resp *r, const struct db_vm *old,
                      const struct db_vm *vm)
{
    int rc;

    if (vm->vcpus != old->vcpus) {
        rc = hv_set_vcpus(app->hv, vm->id, vm->vcpus);
        if (rc)
            return api_error(r, rc, "vcpus", "cannot change vcpus: %s",
                             hv_last_error());
    }
    if (vm->memory_mib != old->memory_mib) {
        rc = hv_set_memory(app->hv, vm->id, (uint64_t)vm->memory_mib);
        if (rc) {
            api_error(r, rc, "memory_mib", "cannot change memory: %s",
                      hv_last_error());
            if (vm->vcpus != old->vcpus)
                hv_set_vcpus(app->hv, vm->id, old->vcpus);
            return rc;
        }
    }
    return 0;
}

static int patch_needs_claim(json_t *body)
{
    return json_object_get(body, "vcpus") ||
           json_object_get(body, "memory_mib") ||
           json_object_get(body, "boot") || json_object_get(body, "disks") ||
           json_object_get(body, "nics");
}

static int patch_has_devices(json_t *body)
{
    return json_object_get(body, "disks") || json_object_get(body, "nics");
}

int api_vm_patch(struct app *app, struct req *q, struct resp *r)
{
    struct db_vm old, vm;
    json_t *body = NULL;
    int rc, live, claimed = 0;

    memset(&vm, 0, sizeof(vm));
    rc = api_vm_load(app, q, r, &old);
    if (rc)
        return rc;
    rc = api_body(q, r, vmconf_fields, &body);
    if (rc)
        goto out;
    if (patch_needs_claim(body)) {
        rc = api_vm_claim(r, old.id);
        if (rc)
            goto out;
        claimed = 1;
    }
    vmconf_copy(&vm, &old);
    rc = vmconf_apply_json(r, body, 0, &vm);
    if (rc)
        goto out;
    if (json_object_get(body, "boot") && strcmp(old.state, "halted")) {
        rc = api_error(r, ERR_CONFLICT, "state",
                       "vm is %s: boot changes only while halted", old.state);
        goto out;
    }
    if (patch_has_devices(body) && !strcmp(old.state, "suspended")) {
        rc = api_error(r, ERR_CONFLICT, "state",
                       "vm is suspended: disks and nics change while "
                       "halted, running or paused");
        goto out;
    }
    rc = vmconf_check_refs(r, app->db, &vm);
    if (rc)
        goto out;
    live = !strcmp(old.state, "running") || !strcmp(old.state, "paused");
    if (!live && !strcmp(old.state, "suspended") &&
        (vm.vcpus != old.vcpus || vm.memory_mib != old.memory_mib)) {
        rc = api_error(r, ERR_CONFLICT, "state",
                       "vm is suspended: vcpus and memory change when "
                       "halted or running");
        goto out;
    }
    if (live) {
        rc = api_vm_hotplug(app, r, &old, &vm);
        if (rc)
            goto out;
        rc = patch_live(app, r, &old, &vm);
        if (rc) {
            api_vm_hotplug_undo(app, &old, &vm);
            goto out;
        }
    }
    vm.updated_at = time_now();
    rc = db_vm_update(app->db, &vm);
    if (rc) {
        if (live) {
            patch_live(app, r, &vm, &old);
            api_vm_hotplug_undo(app, &old, &vm);
        }
        rc = api_error(r, rc, rc == ERR_CONFLICT ? "disks" : NULL,
                       "cannot change the vm: %s", err_str(rc));
        goto out;
    }
    db_vm_release(&vm);
    rc = db_vm_get(app->db, old.id, &vm);
    if (rc) {
        rc = api_error(r, rc, NULL, "vm %s: %s", old.id, err_str(rc));
        goto out;
    }
    vmstate_publish(app, vm.id, "updated");
    api_json(r, 200, vmstate_vm_json(app, &vm));
out:
    if (claimed)
        vmstate_release(old.id);
    json_decref(body);
    db_vm_release(&vm);
    db_vm_release(&old);
    return rc;
}

int api_vm_delete(struct app *app, struct req *q, struct resp *r)
{
    struct db_vm vm;
    int rc;

    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        return rc;
    rc = api_vm_claim(r, vm.id);
    if (rc)
        goto out;
    if (strcmp(vm.state, "halted") && strcmp(vm.state, "suspended")) {
        rc = api_vm_state_conflict(r, &vm);
        goto release;
    }
    rc = db_vm_delete(app->db, vm.id);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot delete the vm: %s", err_str(rc));
        goto release;
    }
    if (vm.suspend_file[0] && unlink(vm.suspend_file))
        log_warn("vm %s: cannot remove %s", vm.id, vm.suspend_file);
    log_info("vm %s (%s) deleted by %s", vm.id, vm.name, q->who.username);
    vmstate_publish(app, vm.id, "deleted");
    api_no_content(r);
release:
    vmstate_release(vm.id);
out:
    db_vm_release(&vm);
    return rc;
}
