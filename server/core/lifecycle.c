#include "server/core/lifecycle.h"

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
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/core/app.h"
#include "server/core/sr.h"
#include "server/core/vmconf.h"
#include "server/core/vmstate.h"
#include "xen/hv.h"

#define DEMO_DISK_SIZE (1024LL * 1024 * 1024)
#define DEMO_MARKER    "xenith demo disk\n"
#define DEMO_KERNEL    "/boot/vmlinuz-demo"

/* ---- reconcile ---- */

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '_' ||
           c == '-';
}

/* A domain the DB does not know becomes a VM record. */
static int reconcile_import(struct app *app, const struct hv_domain *dom)
{
    const char *state = vmstate_db_state(dom->state);
    struct db_vm vm;
    size_t i;
    int rc;

    memset(&vm, 0, sizeof(vm));
    xstrlcpy(vm.id, dom->uuid, sizeof(vm.id));
    xstrlcpy(vm.name, dom->name, sizeof(vm.name));
    for (i = 0; vm.name[i]; i++)
        if (!name_char_ok(vm.name[i]))
            vm.name[i] = '_';
    if (!vm.name[0] || vm.name[0] == ' ')
        snprintf(vm.name, sizeof(vm.name), "imported-%.8s", dom->uuid);
    if (dom->state == HV_SUSPENDED)
        state = "suspended";
    else if (!state || !strcmp(state, "halted"))
        state = "running"; /* shutting down or crashed: still there */
    xstrlcpy(vm.state, state, sizeof(vm.state));
    vm.vcpus = dom->vcpus < 1 ? 1 : dom->vcpus;
    vm.memory_mib = dom->memory_mib < VMCONF_MIN_MEMORY
                        ? VMCONF_MIN_MEMORY
                        : (int64_t)dom->memory_mib;
    vm.boot = xstrdup("{\"type\":\"pv\",\"kernel\":\"\",\"ramdisk\":\"\","
                      "\"cmdline\":\"\"}");
    vm.tags = xstrdup("[\"imported\"]");
    vm.created_at = vm.updated_at = time_now();
    rc = db_vm_insert(app->db, &vm);
    if (rc)
        log_error("reconcile: cannot import domain %s (%s): %s", dom->uuid,
                  dom->name, err_str(rc));
    else
        log_info("reconcile: imported domain %s (%s) as a %s vm", dom->uuid,
                 vm.name, vm.state);
    db_vm_release(&vm);
    return rc;
}

/* A DB VM whose domain exists: take the hypervisor's state. */
static void reconcile_known(struct app *app, const struct db_vm *vm,
                            const struct hv_domain *dom)
{
    const char *state = vmstate_db_state(dom->state);

    if (dom->state == HV_SUSPENDED || !state || !strcmp(state, "halted") ||
        !strcmp(state, vm->state))
        return;
    if (db_vm_set_state(app->db, vm->id, state, NULL) == 0)
        log_info("reconcile: vm %s (%s) was %s, the hypervisor says %s", vm->id,
                 vm->name, vm->state, state);
}

/* A DB VM the hypervisor does not have. */
static void reconcile_missing(struct app *app, const struct db_vm *vm)
{
    if (!strcmp(vm->state, "running") || !strcmp(vm->state, "paused")) {
        if (db_vm_set_state(app->db, vm->id, "halted", NULL) == 0)
            log_info("reconcile: vm %s (%s) was %s, its domain is gone: "
                     "halted",
                     vm->id, vm->name, vm->state);
    } else if (!strcmp(vm->state, "suspended") &&
               (!vm->suspend_file[0] || access(vm->suspend_file, F_OK))) {
        if (db_vm_set_state(app->db, vm->id, "halted", NULL) == 0)
            log_warn("reconcile: vm %s (%s) was suspended but its state "
                     "file %s is missing: halted",
                     vm->id, vm->name,
                     vm->suspend_file[0] ? vm->suspend_file : "(none)");
    }
}

static const struct hv_domain *dom_find(const struct hv_domain *doms,
                                        size_t num, const char *uuid)
{
    size_t i;

    for (i = 0; i < num; i++)
        if (!strcmp(doms[i].uuid, uuid))
            return &doms[i];
    return NULL;
}

/* The bridges xenith made are not persistent (a dom0 reboot loses
 * them): make the missing ones again, before any VM needs them. */
static void reconcile_networks(struct app *app)
{
    struct db_network *nets = NULL;
    struct hv_bridge b;
    size_t num = 0, i;

    if (db_network_list(app->db, &nets, &num)) {
        log_error("reconcile: cannot list networks");
        return;
    }
    for (i = 0; i < num; i++) {
        if (!nets[i].bridge_owned ||
            (!hv_net_info(app->hv, nets[i].bridge, &b) && b.exists))
            continue;
        if (hv_net_create(app->hv, nets[i].bridge, nets[i].mtu))
            log_warn("reconcile: network %s: cannot create bridge %s: %s",
                     nets[i].name, nets[i].bridge, hv_last_error());
        else
            log_info("reconcile: network %s: bridge %s created again",
                     nets[i].name, nets[i].bridge);
    }
    free(nets);
}

int reconcile_at_start(struct app *app)
{
    struct hv_domain *doms = NULL;
    struct db_vm *vms = NULL, vm;
    size_t ndoms = 0, nvms = 0, i;
    int rc;

    reconcile_networks(app);
    rc = hv_list(app->hv, &doms, &ndoms);
    if (rc) {
        log_warn("reconcile: cannot list domains: %s", hv_last_error());
        doms = NULL;
        ndoms = 0;
    }
    for (i = 0; i < ndoms; i++) {
        if (db_vm_get(app->db, doms[i].uuid, &vm) == ERR_NOTFOUND)
            reconcile_import(app, &doms[i]);
        else
            db_vm_release(&vm);
    }
    rc = db_vm_list(app->db, &vms, &nvms);
    if (rc) {
        log_error("reconcile: cannot list vms: %s", err_str(rc));
        goto out;
    }
    for (i = 0; i < nvms; i++) {
        const struct hv_domain *d = dom_find(doms, ndoms, vms[i].id);
        struct hv_domain one;

        if (d) {
            reconcile_known(app, &vms[i], d);
            continue;
        }
        if (!strcmp(vms[i].state, "suspended")) {
            reconcile_missing(app, &vms[i]);
            continue;
        }
        if (!strcmp(vms[i].state, "halted"))
            continue;
        rc = hv_lookup(app->hv, vms[i].id, &one);
        if (rc == ERR_NOTFOUND)
            reconcile_missing(app, &vms[i]);
        else if (rc == 0)
            reconcile_known(app, &vms[i], &one);
        else
            log_warn("reconcile: vm %s: %s", vms[i].id, hv_last_error());
    }
    rc = 0;
out:
    for (i = 0; i < nvms; i++)
        db_vm_release(&vms[i]);
    free(vms);
    free(doms);
    return rc;
}

/* ---- demo ---- */

static int demo_sr(struct app *app, struct db_sr *sr)
{
    struct db_pool pool;
    int rc;

    memset(sr, 0, sizeof(*sr));
    uuid_generate(sr->id);
    xstrlcpy(sr->name, "demo", sizeof(sr->name));
    xstrlcpy(sr->type, "file", sizeof(sr->type));
    xstrlcpy(sr->path, app->cfg.data_dir, sizeof(sr->path));
    if (xstrlcpy(sr->path + strlen(sr->path), "/srs/demo",
                 sizeof(sr->path) - strlen(sr->path)))
        return ERR_INVALID;
    sr->created_at = time_now();
    rc = sr_prepare(sr->path);
    if (!rc)
        rc = db_sr_insert(app->db, sr);
    if (!rc && db_pool_get(app->db, &pool) == 0 && !pool.default_sr[0]) {
        xstrlcpy(pool.default_sr, sr->id, sizeof(pool.default_sr));
        db_pool_update(app->db, &pool);
    }
    return rc;
}

static int demo_marker(const struct db_sr *sr, const struct db_disk *d)
{
    char path[1024];
    int fd, rc;

    rc = sr_image_path(sr->path, d->file, path, sizeof(path));
    if (rc)
        return rc;
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return ERR_IO;
    rc = pwrite(fd, DEMO_MARKER, sizeof(DEMO_MARKER) - 1, 0) ==
                     (ssize_t)sizeof(DEMO_MARKER) - 1 &&
                 fsync(fd) == 0
             ? 0
             : ERR_IO;
    close(fd);
    return rc;
}

static int demo_disk(struct app *app, const struct db_sr *sr, int n,
                     struct db_disk *d)
{
    int rc;

    memset(d, 0, sizeof(*d));
    uuid_generate(d->id);
    snprintf(d->name, sizeof(d->name), "demo-%d-root", n);
    xstrlcpy(d->sr_id, sr->id, sizeof(d->sr_id));
    d->size_bytes = DEMO_DISK_SIZE;
    xstrlcpy(d->format, "raw", sizeof(d->format));
    d->created_at = time_now();
    rc = sr_image_create(sr->path, d->id, DEMO_DISK_SIZE, d->file);
    if (!rc && n == 1)
        rc = demo_marker(sr, d);
    if (!rc)
        rc = db_disk_insert(app->db, d);
    return rc;
}

static int demo_vm(struct app *app, int n, const struct db_disk *d,
                   const struct db_network *net, struct db_vm *vm)
{
    memset(vm, 0, sizeof(*vm));
    uuid_generate(vm->id);
    snprintf(vm->name, sizeof(vm->name), "demo-%d", n);
    xstrlcpy(vm->description, "created by --demo", sizeof(vm->description));
    xstrlcpy(vm->state, "halted", sizeof(vm->state));
    vm->vcpus = n;
    vm->memory_mib = 256 * n;
    vm->boot = xasprintf("{\"type\":\"pv\",\"kernel\":\"%s\",\"ramdisk\":"
                         "\"\",\"cmdline\":\"console=hvc0\"}",
                         DEMO_KERNEL);
    vm->tags = xstrdup("[\"demo\"]");
    vm->created_at = vm->updated_at = time_now();
    xstrlcpy(vm->disks[0].device, "xvda", sizeof(vm->disks[0].device));
    xstrlcpy(vm->disks[0].disk_id, d->id, sizeof(vm->disks[0].disk_id));
    xstrlcpy(vm->disks[0].mode, "rw", sizeof(vm->disks[0].mode));
    vm->num_disks = 1;
    xstrlcpy(vm->nics[0].network_id, net->id, sizeof(vm->nics[0].network_id));
    vmconf_random_mac(vm->nics[0].mac);
    vm->num_nics = 1;
    return db_vm_insert(app->db, vm);
}

static int demo_start(struct app *app, const struct db_vm *vm)
{
    struct hv_vm_config *cfg = xcalloc(1, sizeof(*cfg));
    int rc = vmconf_to_hv(app->db, vm, cfg, NULL);

    if (!rc)
        rc = hv_start(app->hv, cfg);
    if (!rc)
        rc = db_vm_set_state(app->db, vm->id, "running", NULL);
    free(cfg);
    return rc;
}

static int demo_is_fresh(struct app *app)
{
    struct db_vm *vms = NULL;
    struct db_sr *srs = NULL;
    size_t nvms = 0, nsrs = 0, i;
    int fresh;

    if (db_vm_list(app->db, &vms, &nvms) || db_sr_list(app->db, &srs, &nsrs))
        return 0;
    fresh = nvms == 0 && nsrs == 0;
    for (i = 0; i < nvms; i++)
        db_vm_release(&vms[i]);
    free(vms);
    free(srs);
    return fresh;
}

int demo_populate(struct app *app)
{
    struct db_network net;
    struct db_disk disk;
    struct db_vm vm;
    struct db_sr sr;
    int i, rc;

    memset(&sr, 0, sizeof(sr));
    memset(&vm, 0, sizeof(vm));
    if (strcmp(hv_driver_name(app->hv), "test")) {
        log_info("demo: only on the test driver, skipped");
        return 0;
    }
    if (!demo_is_fresh(app))
        return 0;
    rc = demo_sr(app, &sr);
    if (rc)
        goto out;
    memset(&net, 0, sizeof(net));
    uuid_generate(net.id);
    xstrlcpy(net.name, "demo-net", sizeof(net.name));
    xstrlcpy(net.bridge, "xenbr0", sizeof(net.bridge));
    net.mtu = 1500;
    net.created_at = time_now();
    net.bridge_owned = hv_net_create(app->hv, net.bridge, net.mtu) == 0;
    rc = db_network_insert(app->db, &net);
    for (i = 1; !rc && i <= 3; i++) {
        rc = demo_disk(app, &sr, i, &disk);
        if (!rc)
            rc = demo_vm(app, i, &disk, &net, &vm);
        if (!rc && i == 1)
            rc = demo_start(app, &vm);
        db_vm_release(&vm);
    }
out:
    if (rc)
        log_error("demo: cannot create the demo content: %s", err_str(rc));
    else
        log_info("demo: created SR demo (%s), network demo-net and vms "
                 "demo-1 (running), demo-2, demo-3",
                 sr.path);
    return rc;
}
