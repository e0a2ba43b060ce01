/* test_save.c: suspend to and restore from a state file.
 *
 * The state file is JSON: {"magic":"xenith-test-state","version":1,
 * "uuid":..., "domid":..., "saved_at":..., "config":{...}} with the
 * domain's live config (vcpus, memory, disks, nics after hot-plug). It is
 * written to a temporary name, fsync'ed and renamed into place, so a crash
 * leaves either no file or a whole one. After suspend the VM is no longer
 * a domain (hv_lookup: ERR_NOTFOUND); restore starts it from the file's
 * config (the name from the caller's config) and leaves the file alone.
 */
#include "xen/test/test_priv.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"
#include "xen/hv_file.h"

#define TDRV_STATE_MAGIC   "xenith-test-state"
#define TDRV_STATE_VERSION 1
#define TDRV_STATE_MAX     (1024 * 1024)

static const char *const tdrv_boot_names[] = { "pv", "pvh", "hvm" };

static json_t *tdrv_config_to_json(const struct hv_vm_config *c)
{
    json_t *disks = json_array(), *nics = json_array();
    size_t i;

    for (i = 0; i < c->num_disks; i++)
        json_array_append_new(
            disks, json_pack("{s:s, s:s, s:b, s:b}", "path", c->disks[i].path,
                             "vdev", c->disks[i].vdev, "readonly",
                             c->disks[i].readonly, "cdrom", c->disks[i].cdrom));
    for (i = 0; i < c->num_nics; i++)
        json_array_append_new(nics, json_pack("{s:s, s:s}", "bridge",
                                              c->nics[i].bridge, "mac",
                                              c->nics[i].mac));
    return json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "name",
                     c->name, "vcpus", c->vcpus, "memory_mib",
                     (json_int_t)c->memory_mib, "boot",
                     tdrv_boot_names[c->boot <= HV_BOOT_HVM ? c->boot : 0],
                     "kernel", c->kernel, "ramdisk", c->ramdisk, "cmdline",
                     c->cmdline, "disks", disks, "nics", nics);
}

/* Copy a JSON string member into dst[cap]; ERR_INVALID if it is not a
 * string or does not fit. */
static int tdrv_json_str(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v) || xstrlcpy(dst, json_string_value(v), cap))
        return hv_fail(ERR_INVALID, "state file: bad \"%s\"", key);
    return 0;
}

static int tdrv_config_from_json(json_t *o, struct hv_vm_config *c)
{
    json_t *disks = json_object_get(o, "disks");
    json_t *nics = json_object_get(o, "nics");
    json_t *vcpus = json_object_get(o, "vcpus");
    json_t *mem = json_object_get(o, "memory_mib");
    char boot[8];
    size_t i;
    int rc;

    if (!json_is_integer(vcpus) || !json_is_integer(mem) ||
        !json_is_array(disks) || !json_is_array(nics) ||
        json_array_size(disks) > HV_MAX_DISKS ||
        json_array_size(nics) > HV_MAX_NICS || json_integer_value(mem) < 0 ||
        json_integer_value(vcpus) > 4096)
        return hv_fail(ERR_INVALID, "state file: bad config");
    c->vcpus = (int)json_integer_value(vcpus);
    c->memory_mib = (uint64_t)json_integer_value(mem);
    rc = tdrv_json_str(o, "name", c->name, sizeof(c->name));
    if (!rc)
        rc = tdrv_json_str(o, "boot", boot, sizeof(boot));
    if (!rc)
        rc = tdrv_json_str(o, "kernel", c->kernel, sizeof(c->kernel));
    if (!rc)
        rc = tdrv_json_str(o, "ramdisk", c->ramdisk, sizeof(c->ramdisk));
    if (!rc)
        rc = tdrv_json_str(o, "cmdline", c->cmdline, sizeof(c->cmdline));
    if (rc)
        return rc;
    for (i = 0; i <= HV_BOOT_HVM; i++)
        if (!strcmp(boot, tdrv_boot_names[i]))
            break;
    if (i > HV_BOOT_HVM)
        return hv_fail(ERR_INVALID, "state file: bad boot type '%s'", boot);
    c->boot = (enum hv_boot_type)i;
    c->num_disks = json_array_size(disks);
    for (i = 0; i < c->num_disks; i++) {
        json_t *dj = json_array_get(disks, i);
        json_t *ro = json_object_get(dj, "readonly");
        json_t *cd = json_object_get(dj, "cdrom");

        rc = tdrv_json_str(dj, "path", c->disks[i].path,
                           sizeof(c->disks[i].path));
        if (!rc)
            rc = tdrv_json_str(dj, "vdev", c->disks[i].vdev,
                               sizeof(c->disks[i].vdev));
        if (!rc && (!json_is_boolean(ro) || !json_is_boolean(cd)))
            rc = hv_fail(ERR_INVALID, "state file: bad disk flags");
        if (rc)
            return rc;
        c->disks[i].readonly = json_is_true(ro);
        c->disks[i].cdrom = json_is_true(cd);
    }
    c->num_nics = json_array_size(nics);
    for (i = 0; i < c->num_nics; i++) {
        json_t *nj = json_array_get(nics, i);

        rc = tdrv_json_str(nj, "bridge", c->nics[i].bridge,
                           sizeof(c->nics[i].bridge));
        if (!rc)
            rc = tdrv_json_str(nj, "mac", c->nics[i].mac,
                               sizeof(c->nics[i].mac));
        if (rc)
            return rc;
    }
    return 0;
}

static int tdrv_write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write text to path atomically (hv_file.h). */
static int tdrv_write_file(const char *path, const char *text)
{
    char *tmp = NULL;
    int fd, rc;

    rc = hv_file_begin(path, &tmp, &fd);
    if (rc)
        return rc;
    if (tdrv_write_all(fd, text, strlen(text))) {
        rc = hv_fail(err_from_errno(errno), "state file %s: %s", tmp,
                     strerror(errno));
        hv_file_abort(fd, tmp);
    } else {
        rc = hv_file_commit(fd, tmp, path);
    }
    free(tmp);
    return rc;
}

int tdrv_suspend(void *priv, const char *uuid, const char *state_file)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    json_t *doc = NULL;
    char *text = NULL;
    int rc;

    rc = tdrv_lock_dom(d, uuid, TDRV_OP_SUSPEND, &dom);
    if (rc)
        return rc;
    if (dom->state != HV_RUNNING && dom->state != HV_PAUSED) {
        rc = tdrv_conflict(dom);
        goto out;
    }
    doc = json_pack("{s:s, s:i, s:s, s:i, s:I, s:o}", "magic", TDRV_STATE_MAGIC,
                    "version", TDRV_STATE_VERSION, "uuid", uuid, "domid",
                    dom->domid, "saved_at", (json_int_t)time_now(), "config",
                    tdrv_config_to_json(&dom->cfg));
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!doc || !text) {
        rc = hv_fail(ERR_INTERNAL, "vm %s: cannot encode state", uuid);
        goto out;
    }
    rc = tdrv_write_file(state_file, text);
    if (rc)
        goto out;
    tdrv_emit(d, uuid, HV_SUSPENDED, "suspend");
    tdrv_dom_remove(d, dom);
out:
    pthread_mutex_unlock(&d->lock);
    free(text);
    json_decref(doc);
    return rc;
}

/* Read and check a state file for cfg's VM into *saved. */
static int tdrv_read_state(const char *path, const struct hv_vm_config *cfg,
                           struct hv_vm_config *saved)
{
    json_error_t jerr;
    json_t *doc = NULL, *v;
    int rc;

    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (access(path, F_OK))
            rc = hv_fail(ERR_NOTFOUND, "state file %s: %s", path,
                         strerror(errno));
        else
            rc = hv_fail(ERR_INVALID, "state file %s: %s", path, jerr.text);
        goto out;
    }
    v = json_object_get(doc, "magic");
    if (!json_is_string(v) || strcmp(json_string_value(v), TDRV_STATE_MAGIC) ||
        json_integer_value(json_object_get(doc, "version")) !=
            TDRV_STATE_VERSION) {
        rc = hv_fail(ERR_INVALID, "%s is not a test driver state file", path);
        goto out;
    }
    v = json_object_get(doc, "uuid");
    if (!json_is_string(v) || strcmp(json_string_value(v), cfg->uuid)) {
        rc = hv_fail(ERR_INVALID, "state file %s is not for vm %s", path,
                     cfg->uuid);
        goto out;
    }
    memset(saved, 0, sizeof(*saved));
    rc = tdrv_config_from_json(json_object_get(doc, "config"), saved);
    if (rc)
        goto out;
    xstrlcpy(saved->uuid, cfg->uuid, sizeof(saved->uuid));
    xstrlcpy(saved->name, cfg->name, sizeof(saved->name));
out:
    json_decref(doc);
    return rc;
}

int tdrv_restore(void *priv, const struct hv_vm_config *cfg,
                 const char *state_file)
{
    struct tdrv *d = priv;
    struct hv_vm_config *saved = xcalloc(1, sizeof(*saved));
    struct tdrv_dom *dom;
    int rc;

    pthread_mutex_lock(&d->lock);
    rc = tdrv_injected(d, TDRV_OP_RESTORE);
    if (rc)
        goto out;
    dom = tdrv_find(d, cfg->uuid);
    if (dom) {
        rc = tdrv_conflict(dom);
        goto out;
    }
    rc = tdrv_read_state(state_file, cfg, saved);
    if (rc)
        goto out;
    rc = tdrv_check_config(saved);
    if (rc)
        goto out;
    tdrv_dom_create(d, saved, "restore");
out:
    pthread_mutex_unlock(&d->lock);
    free(saved);
    return rc;
}
