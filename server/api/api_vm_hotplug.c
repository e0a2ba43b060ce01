/* api_vm_hotplug.c: a live VM's disks and NICs follow its record. The
 * old and new records are turned into driver configs (paths through the
 * SRs, bridges from the networks), compared, and the difference becomes
 * a plan of steps: detaches first (so a device name can be reused), then
 * attaches. A disk is the same when device, path and mode are; a NIC
 * when MAC and bridge are.
 */
#include "server/api/api_vm_hotplug.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/vmconf.h"
#include "xen/hv.h"

/* Detach and attach of a kind differ in the lowest bit: undo is ^ 1. */
enum hp_kind {
    HP_DISK_DETACH = 0,
    HP_DISK_ATTACH = 1,
    HP_NIC_DETACH = 2,
    HP_NIC_ATTACH = 3,
};

struct hp_step {
    enum hp_kind kind;
    const struct hv_disk *disk; /* **borrowed** from a config */
    const struct hv_nic *nic;
};

#define HP_MAX_STEPS (2 * (HV_MAX_DISKS + HV_MAX_NICS))

struct hp_plan {
    struct hp_step steps[HP_MAX_STEPS];
    size_t num;
};

static int hp_disk_in(const struct hv_disk *d, const struct hv_vm_config *c)
{
    size_t i;

    for (i = 0; i < c->num_disks; i++)
        if (!strcmp(c->disks[i].vdev, d->vdev) &&
            !strcmp(c->disks[i].path, d->path) &&
            c->disks[i].readonly == d->readonly &&
            c->disks[i].cdrom == d->cdrom)
            return 1;
    return 0;
}

static int hp_nic_in(const struct hv_nic *n, const struct hv_vm_config *c)
{
    size_t i;

    for (i = 0; i < c->num_nics; i++)
        if (!strcasecmp(c->nics[i].mac, n->mac) &&
            !strcmp(c->nics[i].bridge, n->bridge))
            return 1;
    return 0;
}

static void hp_add(struct hp_plan *p, enum hp_kind kind,
                   const struct hv_disk *disk, const struct hv_nic *nic)
{
    struct hp_step *s = &p->steps[p->num++];

    s->kind = kind;
    s->disk = disk;
    s->nic = nic;
}

/* The steps that take a domain from `from` to `to`. */
static void hp_plan_make(const struct hv_vm_config *from,
                         const struct hv_vm_config *to, struct hp_plan *p)
{
    size_t i;

    p->num = 0;
    for (i = 0; i < from->num_disks; i++)
        if (!hp_disk_in(&from->disks[i], to))
            hp_add(p, HP_DISK_DETACH, &from->disks[i], NULL);
    for (i = 0; i < from->num_nics; i++)
        if (!hp_nic_in(&from->nics[i], to))
            hp_add(p, HP_NIC_DETACH, NULL, &from->nics[i]);
    for (i = 0; i < to->num_disks; i++)
        if (!hp_disk_in(&to->disks[i], from))
            hp_add(p, HP_DISK_ATTACH, &to->disks[i], NULL);
    for (i = 0; i < to->num_nics; i++)
        if (!hp_nic_in(&to->nics[i], from))
            hp_add(p, HP_NIC_ATTACH, NULL, &to->nics[i]);
}

static int hp_do(struct app *app, const char *uuid, const struct hp_step *s,
                 int undo)
{
    switch ((enum hp_kind)(s->kind ^ (undo ? 1 : 0))) {
    case HP_DISK_DETACH:
        return hv_disk_detach(app->hv, uuid, s->disk->vdev);
    case HP_DISK_ATTACH:
        return hv_disk_attach(app->hv, uuid, s->disk);
    case HP_NIC_DETACH:
        return hv_nic_detach(app->hv, uuid, s->nic->mac);
    case HP_NIC_ATTACH:
        return hv_nic_attach(app->hv, uuid, s->nic);
    }
    return ERR_INTERNAL;
}

static const char *hp_what(const struct hp_step *s, int undo)
{
    static const char *const verbs[] = { "detach disk", "attach disk",
                                         "detach nic", "attach nic" };

    return verbs[s->kind ^ (undo ? 1 : 0)];
}

static const char *hp_name(const struct hp_step *s)
{
    return s->disk ? s->disk->vdev : s->nic->mac;
}

/* Undo steps [0, n) in reverse, logging what cannot be undone. */
static void hp_undo(struct app *app, const char *uuid, const struct hp_plan *p,
                    size_t n)
{
    while (n-- > 0) {
        const struct hp_step *s = &p->steps[n];

        if (hp_do(app, uuid, s, 1))
            log_error("vm %s: cannot %s %s to undo a change: %s", uuid,
                      hp_what(s, 1), hp_name(s), hv_last_error());
    }
}

/* 409 naming "disks" when the plan adds or removes an emulated disk. */
static int hp_check_live(struct resp *r, const struct hp_plan *p)
{
    size_t i;

    for (i = 0; i < p->num; i++) {
        const struct hv_disk *d = p->steps[i].disk;

        if (d && strncmp(d->vdev, "xvd", 3))
            return api_error(r, ERR_CONFLICT, "disks",
                             "disk %s is an emulated device: it cannot %s "
                             "while the vm runs (use an xvd device, or halt "
                             "the vm)",
                             d->vdev,
                             p->steps[i].kind == HP_DISK_ATTACH
                                 ? "be attached"
                                 : "be detached");
    }
    return 0;
}

/* Both records as driver configs (**new**, free()). 0 or an error
 * written to r (when r is given). */
static int hp_configs(struct app *app, struct resp *r, const struct db_vm *a,
                      const struct db_vm *b, struct hv_vm_config **a_out,
                      struct hv_vm_config **b_out)
{
    struct hv_vm_config *ca = xcalloc(1, sizeof(*ca));
    struct hv_vm_config *cb = xcalloc(1, sizeof(*cb));
    const char *field = NULL;
    int rc;

    rc = vmconf_to_hv(app->db, a, ca, &field);
    if (!rc)
        rc = vmconf_to_hv(app->db, b, cb, &field);
    if (rc) {
        if (r)
            api_error(r, rc, field, "cannot resolve the vm's %s: %s", field,
                      err_str(rc));
        free(ca);
        free(cb);
        return rc;
    }
    *a_out = ca;
    *b_out = cb;
    return 0;
}

int api_vm_hotplug(struct app *app, struct resp *r, const struct db_vm *old,
                   const struct db_vm *vm)
{
    struct hv_vm_config *from = NULL, *to = NULL;
    struct hp_plan *p = xcalloc(1, sizeof(*p));
    char msg[256];
    size_t i;
    int rc;

    rc = hp_configs(app, r, old, vm, &from, &to);
    if (rc)
        goto out;
    hp_plan_make(from, to, p);
    rc = hp_check_live(r, p);
    if (rc)
        goto out;
    for (i = 0; i < p->num; i++) {
        const struct hp_step *s = &p->steps[i];

        rc = hp_do(app, old->id, s, 0);
        if (!rc) {
            log_info("vm %s: %s %s live", old->id,
                     s->kind == HP_DISK_ATTACH || s->kind == HP_NIC_ATTACH
                         ? "attached"
                         : "detached",
                     hp_name(s));
            continue;
        }
        /* the undo calls overwrite hv_last_error() */
        xstrlcpy(msg, hv_last_error(), sizeof(msg));
        hp_undo(app, old->id, p, i);
        rc = api_error(r, rc, s->disk ? "disks" : "nics",
                       "cannot %s %s while the vm is %s: %s", hp_what(s, 0),
                       hp_name(s), old->state, msg);
        goto out;
    }
    rc = 0;
out:
    free(from);
    free(to);
    free(p);
    return rc;
}

void api_vm_hotplug_undo(struct app *app, const struct db_vm *old,
                         const struct db_vm *vm)
{
    struct hv_vm_config *from = NULL, *to = NULL;
    struct hp_plan *p = xcalloc(1, sizeof(*p));

    if (!hp_configs(app, NULL, old, vm, &from, &to)) {
        hp_plan_make(from, to, p);
        hp_undo(app, old->id, p, p->num);
    } else {
        log_error("vm %s: cannot undo its device changes", old->id);
    }
    free(from);
    free(to);
    free(p);
}
