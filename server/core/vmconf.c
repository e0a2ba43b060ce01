#include "server/core/vmconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/core/sr.h"
#include "xen/hv.h"

const char *const vmconf_fields[] = {
    "name",  "description", "vcpus", "memory_mib", "boot",
    "disks", "nics",        "tags",  NULL,
};

int vmconf_mac_valid(const char *s)
{
    size_t i;

    if (strlen(s) != 17)
        return 0;
    for (i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    /* The first octet's low bit set = multicast. */
    return (strtol(s, NULL, 16) & 1) == 0;
}

int vmconf_device_valid(const char *s)
{
    size_t n;

    if (!strncmp(s, "xvd", 3))
        n = 3;
    else if (!strncmp(s, "hd", 2) || !strncmp(s, "sd", 2))
        n = 2;
    else
        return 0;
    return s[n] >= 'a' && s[n] <= 'z' && s[n + 1] == '\0';
}

void vmconf_random_mac(char mac[18])
{
    unsigned char b[3];

    rand_bytes(b, sizeof(b));
    b[0] &= 0x7f; /* Xen's half of the 00:16:3e range */
    snprintf(mac, 18, "00:16:3e:%02x:%02x:%02x", b[0], b[1], b[2]);
}

/* A string member of a nested object, reported under field. */
static int sub_str(struct resp *r, const char *field, json_t *obj,
                   const char *key, int required, size_t max_len,
                   const char **out)
{
    json_t *v = json_object_get(obj, key);
    const char *s;
    size_t i;

    if (!v || json_is_null(v)) {
        if (required)
            return api_error(r, ERR_INVALID, field, "%s.%s is required", field,
                             key);
        *out = "";
        return 0;
    }
    if (!json_is_string(v))
        return api_error(r, ERR_INVALID, field, "%s.%s must be a string", field,
                         key);
    s = json_string_value(v);
    if (json_string_length(v) > max_len || strlen(s) != json_string_length(v))
        return api_error(r, ERR_INVALID, field,
                         "%s.%s must be at most %zu characters", field, key,
                         max_len);
    for (i = 0; s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return api_error(r, ERR_INVALID, field,
                             "%s.%s must not contain control characters", field,
                             key);
    *out = s;
    return 0;
}

/* Every key of obj is one of allowed. */
static int sub_keys(struct resp *r, const char *field, json_t *obj,
                    const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        const char *const *a;

        for (a = allowed; *a; a++)
            if (!strcmp(*a, key))
                break;
        if (!*a)
            return api_error(r, ERR_INVALID, field,
                             "unknown field '%.64s' in %s", key, field);
    }
    return 0;
}

static int path_ok(struct resp *r, const char *key, const char *path,
                   int required)
{
    if (!*path && !required)
        return 0;
    if (path[0] != '/')
        return api_error(r, ERR_INVALID, "boot",
                         "boot.%s must be an absolute path", key);
    return 0;
}

static int parse_boot(struct resp *r, json_t *v, char **boot_out)
{
    static const char *const pv_keys[] = { "type", "kernel", "ramdisk",
                                           "cmdline", NULL };
    static const char *const hvm_keys[] = { "type", "cdrom", NULL };
    const char *type, *kernel, *ramdisk, *cmdline, *cdrom;
    json_t *out, *c;
    int rc;

    if (!json_is_object(v))
        return api_error(r, ERR_INVALID, "boot", "boot must be an object");
    rc = sub_str(r, "boot", v, "type", 1, 8, &type);
    if (rc)
        return rc;
    if (!strcmp(type, "hvm")) {
        rc = sub_keys(r, "boot", v, hvm_keys);
        if (rc)
            return rc;
        c = json_object_get(v, "cdrom");
        if (c && !json_is_null(c) &&
            (!json_is_string(c) || !uuid_valid(json_string_value(c))))
            return api_error(r, ERR_INVALID, "boot",
                             "boot.cdrom must be a disk id or null");
        cdrom = c && json_is_string(c) ? json_string_value(c) : NULL;
        out = json_pack("{s:s, s:o}", "type", "hvm", "cdrom",
                        cdrom ? json_string(cdrom) : json_null());
    } else if (!strcmp(type, "pv") || !strcmp(type, "pvh")) {
        rc = sub_keys(r, "boot", v, pv_keys);
        if (!rc)
            rc = sub_str(r, "boot", v, "kernel", 1, 511, &kernel);
        if (!rc)
            rc = sub_str(r, "boot", v, "ramdisk", 0, 511, &ramdisk);
        if (!rc)
            rc = sub_str(r, "boot", v, "cmdline", 0, 1023, &cmdline);
        if (!rc)
            rc = path_ok(r, "kernel", kernel, 1);
        if (!rc)
            rc = path_ok(r, "ramdisk", ramdisk, 0);
        if (rc)
            return rc;
        out = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "kernel", kernel,
                        "ramdisk", ramdisk, "cmdline", cmdline);
    } else {
        return api_error(r, ERR_INVALID, "boot",
                         "boot.type must be pv, pvh or hvm");
    }
    *boot_out = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return 0;
}

static int parse_disks(struct resp *r, json_t *v, struct db_vm *vm)
{
    static const char *const keys[] = { "disk", "device", "mode", NULL };
    size_t i, j;
    json_t *e;
    int rc;

    if (!json_is_array(v))
        return api_error(r, ERR_INVALID, "disks", "disks must be an array");
    if (json_array_size(v) > DB_VM_MAX_DISKS)
        return api_error(r, ERR_INVALID, "disks", "at most %d disks",
                         DB_VM_MAX_DISKS);
    vm->num_disks = 0;
    json_array_foreach(v, i, e) {
        struct db_vm_disk *d = &vm->disks[i];
        const char *id, *dev, *mode;

        if (!json_is_object(e))
            return api_error(r, ERR_INVALID, "disks",
                             "disks[%zu] must be an object", i);
        rc = sub_keys(r, "disks", e, keys);
        if (!rc)
            rc = sub_str(r, "disks", e, "disk", 1, 36, &id);
        if (!rc)
            rc = sub_str(r, "disks", e, "device", 1, 15, &dev);
        if (!rc)
            rc = sub_str(r, "disks", e, "mode", 0, 2, &mode);
        if (rc)
            return rc;
        if (!uuid_valid(id))
            return api_error(r, ERR_INVALID, "disks",
                             "disks[%zu].disk is not a disk id", i);
        if (!vmconf_device_valid(dev))
            return api_error(r, ERR_INVALID, "disks",
                             "disks[%zu].device must be xvdX, hdX or sdX", i);
        if (*mode && strcmp(mode, "rw") && strcmp(mode, "ro"))
            return api_error(r, ERR_INVALID, "disks",
                             "disks[%zu].mode must be rw or ro", i);
        for (j = 0; j < i; j++) {
            if (!strcmp(vm->disks[j].device, dev))
                return api_error(r, ERR_INVALID, "disks",
                                 "device %s is used twice", dev);
            if (!strcmp(vm->disks[j].disk_id, id))
                return api_error(r, ERR_INVALID, "disks",
                                 "disk %s is listed twice", id);
        }
        memset(d, 0, sizeof(*d));
        xstrlcpy(d->disk_id, id, sizeof(d->disk_id));
        xstrlcpy(d->device, dev, sizeof(d->device));
        xstrlcpy(d->mode, *mode ? mode : "rw", sizeof(d->mode));
        vm->num_disks = i + 1;
    }
    return 0;
}

static int parse_nics(struct resp *r, json_t *v, struct db_vm *vm)
{
    static const char *const keys[] = { "network", "mac", NULL };
    size_t i, j, k;
    json_t *e;
    int rc;

    if (!json_is_array(v))
        return api_error(r, ERR_INVALID, "nics", "nics must be an array");
    if (json_array_size(v) > DB_VM_MAX_NICS)
        return api_error(r, ERR_INVALID, "nics", "at most %d nics",
                         DB_VM_MAX_NICS);
    vm->num_nics = 0;
    json_array_foreach(v, i, e) {
        struct db_vm_nic *n = &vm->nics[i];
        const char *net, *mac;

        if (!json_is_object(e))
            return api_error(r, ERR_INVALID, "nics",
                             "nics[%zu] must be an object", i);
        rc = sub_keys(r, "nics", e, keys);
        if (!rc)
            rc = sub_str(r, "nics", e, "network", 1, 36, &net);
        if (!rc)
            rc = sub_str(r, "nics", e, "mac", 0, 17, &mac);
        if (rc)
            return rc;
        if (!uuid_valid(net))
            return api_error(r, ERR_INVALID, "nics",
                             "nics[%zu].network is not a network id", i);
        if (*mac && !vmconf_mac_valid(mac))
            return api_error(r, ERR_INVALID, "nics",
                             "nics[%zu].mac must be a unicast MAC "
                             "xx:xx:xx:xx:xx:xx",
                             i);
        memset(n, 0, sizeof(*n));
        xstrlcpy(n->network_id, net, sizeof(n->network_id));
        for (k = 0; mac[k]; k++)
            n->mac[k] = (char)tolower((unsigned char)mac[k]);
        for (j = 0; *mac && j < i; j++)
            if (!strcmp(vm->nics[j].mac, n->mac))
                return api_error(r, ERR_INVALID, "nics", "mac %s is used twice",
                                 n->mac);
        vm->num_nics = i + 1;
    }
    return 0;
}

static int parse_tags(struct resp *r, json_t *v, char **tags_out)
{
    size_t i, k;
    json_t *e;

    if (!json_is_array(v))
        return api_error(r, ERR_INVALID, "tags",
                         "tags must be an array of strings");
    if (json_array_size(v) > VMCONF_MAX_TAGS)
        return api_error(r, ERR_INVALID, "tags", "at most %d tags",
                         VMCONF_MAX_TAGS);
    json_array_foreach(v, i, e) {
        const char *s = json_string_value(e);
        size_t len = json_string_length(e);

        if (!s)
            return api_error(r, ERR_INVALID, "tags",
                             "tags[%zu] must be a string", i);
        if (len < 1 || len > VMCONF_MAX_TAG_LEN || strlen(s) != len)
            return api_error(r, ERR_INVALID, "tags",
                             "tags[%zu] must be 1 to %d characters", i,
                             VMCONF_MAX_TAG_LEN);
        for (k = 0; k < len; k++)
            if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
                return api_error(r, ERR_INVALID, "tags",
                                 "tags[%zu] must not contain control "
                                 "characters",
                                 i);
    }
    *tags_out = json_dumps(v, JSON_COMPACT);
    return 0;
}

int vmconf_apply_json(struct resp *r, json_t *obj, int create, struct db_vm *vm)
{
    const char *name, *desc;
    char *boot = NULL, *tags = NULL;
    int64_t n;
    json_t *v;
    int rc;

    rc = api_get_str(r, obj, "name", create, 1, 64, &name);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        rc = api_check_name(r, "name", name);
        if (rc)
            return rc;
        xstrlcpy(vm->name, name, sizeof(vm->name));
    }
    rc = api_get_str(r, obj, "description", 0, 0, 1024, &desc);
    if (rc < 0)
        return rc;
    if (rc == 1)
        xstrlcpy(vm->description, desc, sizeof(vm->description));
    rc = api_get_int(r, obj, "vcpus", create, 1, VMCONF_MAX_VCPUS, &n);
    if (rc < 0)
        return rc;
    if (rc == 1)
        vm->vcpus = (int)n;
    rc = api_get_int(r, obj, "memory_mib", create, VMCONF_MIN_MEMORY,
                     VMCONF_MAX_MEMORY, &n);
    if (rc < 0)
        return rc;
    if (rc == 1)
        vm->memory_mib = n;
    v = json_object_get(obj, "boot");
    if (!v && create)
        boot = xstrdup("{\"type\":\"hvm\",\"cdrom\":null}");
    if (v) {
        rc = parse_boot(r, v, &boot);
        if (rc)
            return rc;
    }
    v = json_object_get(obj, "disks");
    if (v) {
        rc = parse_disks(r, v, vm);
        if (rc)
            goto out;
    }
    v = json_object_get(obj, "nics");
    if (v) {
        rc = parse_nics(r, v, vm);
        if (rc)
            goto out;
    }
    v = json_object_get(obj, "tags");
    if (v) {
        rc = parse_tags(r, v, &tags);
        if (rc)
            goto out;
    }
    if (boot) {
        free(vm->boot);
        vm->boot = boot;
        boot = NULL;
    }
    if (tags) {
        free(vm->tags);
        vm->tags = tags;
        tags = NULL;
    }
    if (!vm->tags)
        vm->tags = xstrdup("[]");
    rc = 0;
out:
    free(boot);
    free(tags);
    return rc;
}

static int check_disks(struct resp *r, struct db *db, const struct db_vm *vm)
{
    struct db_disk d;
    size_t i;
    int rc;

    for (i = 0; i < vm->num_disks; i++) {
        const char *id = vm->disks[i].disk_id;

        rc = db_disk_get(db, id, &d);
        if (rc == ERR_NOTFOUND)
            return api_error(r, ERR_INVALID, "disks", "no disk %s", id);
        if (rc)
            return api_error(r, rc, "disks", "disk %s: %s", id, err_str(rc));
        if (d.attached_vm[0] && strcmp(d.attached_vm, vm->id))
            return api_error(r, ERR_CONFLICT, "disks",
                             "disk %s is attached to vm %s", id, d.attached_vm);
    }
    return 0;
}

static int check_cdrom(struct resp *r, struct db *db, const struct db_vm *vm)
{
    json_t *boot = json_loads(vm->boot ? vm->boot : "{}", 0, NULL);
    const char *cd = json_string_value(json_object_get(boot, "cdrom"));
    struct db_disk d;
    int rc = 0;

    if (cd) {
        rc = db_disk_get(db, cd, &d);
        if (rc == ERR_NOTFOUND)
            rc = api_error(r, ERR_INVALID, "boot", "no disk %s for the cdrom",
                           cd);
        else if (rc)
            rc = api_error(r, rc, "boot", "disk %s: %s", cd, err_str(rc));
    }
    json_decref(boot);
    return rc;
}

static int check_nics(struct resp *r, struct db *db, struct db_vm *vm)
{
    struct db_network net;
    char owner[37];
    size_t i;
    int rc, tries;

    for (i = 0; i < vm->num_nics; i++) {
        struct db_vm_nic *n = &vm->nics[i];

        rc = db_network_get(db, n->network_id, &net);
        if (rc == ERR_NOTFOUND)
            return api_error(r, ERR_INVALID, "nics", "no network %s",
                             n->network_id);
        if (rc)
            return api_error(r, rc, "nics", "network %s: %s", n->network_id,
                             err_str(rc));
        if (n->mac[0]) {
            rc = db_vm_mac_owner(db, n->mac, owner);
            if (rc == 0 && strcmp(owner, vm->id))
                return api_error(r, ERR_CONFLICT, "nics",
                                 "mac %s is used by vm %s", n->mac, owner);
            if (rc && rc != ERR_NOTFOUND)
                return api_error(r, rc, "nics", "mac %s: %s", n->mac,
                                 err_str(rc));
            continue;
        }
        for (tries = 0; tries < 16; tries++) {
            size_t j;

            vmconf_random_mac(n->mac);
            for (j = 0; j < vm->num_nics; j++)
                if (j != i && !strcmp(vm->nics[j].mac, n->mac))
                    break;
            if (j == vm->num_nics &&
                db_vm_mac_owner(db, n->mac, owner) == ERR_NOTFOUND)
                break;
        }
        if (tries == 16)
            return api_error(r, ERR_INTERNAL, "nics",
                             "cannot find a free MAC address");
    }
    return 0;
}

int vmconf_check_refs(struct resp *r, struct db *db, struct db_vm *vm)
{
    int rc = check_disks(r, db, vm);

    if (!rc)
        rc = check_cdrom(r, db, vm);
    if (!rc)
        rc = check_nics(r, db, vm);
    return rc;
}

void vmconf_copy(struct db_vm *dst, const struct db_vm *src)
{
    *dst = *src;
    dst->boot = src->boot ? xstrdup(src->boot) : NULL;
    dst->tags = src->tags ? xstrdup(src->tags) : NULL;
}

static json_t *json_or(const char *text, json_t *dflt)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    if (j) {
        json_decref(dflt);
        return j;
    }
    return dflt;
}

json_t *vmconf_to_json(const struct db_vm *vm)
{
    json_t *disks = json_array(), *nics = json_array();
    size_t i;

    for (i = 0; i < vm->num_disks; i++)
        json_array_append_new(disks, json_pack("{s:s, s:s, s:s}", "disk",
                                               vm->disks[i].disk_id, "device",
                                               vm->disks[i].device, "mode",
                                               vm->disks[i].mode));
    for (i = 0; i < vm->num_nics; i++)
        json_array_append_new(nics, json_pack("{s:s, s:s}", "network",
                                              vm->nics[i].network_id, "mac",
                                              vm->nics[i].mac));
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:I, s:o, s:o, s:o, s:o, "
        "s:o, s:o}",
        "id", vm->id, "name", vm->name, "description", vm->description, "state",
        vm->state, "vcpus", vm->vcpus, "memory_mib", (json_int_t)vm->memory_mib,
        "boot", json_or(vm->boot, json_object()), "disks", disks, "nics", nics,
        "tags", json_or(vm->tags, json_array()), "created_at",
        api_time(vm->created_at), "updated_at", api_time(vm->updated_at));
}

static void put_str(struct buf *b, const char *s)
{
    const char *run = s;

    buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, run, (size_t)(s - run));
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else
            buf_printf(b, "\\u%04x", c);
        run = s + 1;
    }
    buf_append(b, run, (size_t)(s - run));
    buf_append(b, "\"", 1);
}

static void put_kv(struct buf *b, const char *key, const char *val)
{
    buf_printf(b, ",\"%s\":", key);
    put_str(b, val);
}

static void put_time(struct buf *b, const char *key, int64_t t)
{
    char ts[21];

    if (!t) {
        buf_printf(b, ",\"%s\":null", key);
        return;
    }
    time_rfc3339(t, ts);
    buf_printf(b, ",\"%s\":\"%s\"", key, ts);
}

void vmconf_append_json(struct buf *b, const struct db_vm *vm)
{
    const char *boot = vm->boot && vm->boot[0] == '{' ? vm->boot : "{}";
    const char *tags = vm->tags && vm->tags[0] == '[' ? vm->tags : "[]";
    size_t i;

    buf_puts(b, "{\"id\":");
    put_str(b, vm->id);
    put_kv(b, "name", vm->name);
    put_kv(b, "description", vm->description);
    put_kv(b, "state", vm->state);
    buf_printf(b, ",\"vcpus\":%d,\"memory_mib\":%lld,\"boot\":%s", vm->vcpus,
               (long long)vm->memory_mib, boot);
    buf_puts(b, ",\"disks\":[");
    for (i = 0; i < vm->num_disks; i++) {
        buf_puts(b, i ? ",{\"disk\":" : "{\"disk\":");
        put_str(b, vm->disks[i].disk_id);
        put_kv(b, "device", vm->disks[i].device);
        put_kv(b, "mode", vm->disks[i].mode);
        buf_puts(b, "}");
    }
    buf_puts(b, "],\"nics\":[");
    for (i = 0; i < vm->num_nics; i++) {
        buf_puts(b, i ? ",{\"network\":" : "{\"network\":");
        put_str(b, vm->nics[i].network_id);
        put_kv(b, "mac", vm->nics[i].mac);
        buf_puts(b, "}");
    }
    buf_printf(b, "],\"tags\":%s", tags);
    put_time(b, "created_at", vm->created_at);
    put_time(b, "updated_at", vm->updated_at);
    buf_puts(b, "}");
}

int vmconf_restore_record(struct db_vm *vm, const char *record)
{
    json_t *j = json_loads(record, 0, NULL);
    json_t *vcpus = json_object_get(j, "vcpus");
    json_t *mem = json_object_get(j, "memory_mib");
    json_t *boot = json_object_get(j, "boot");
    int rc = ERR_INVALID;

    if (!json_is_integer(vcpus) || !json_is_integer(mem) ||
        !json_is_object(boot))
        goto out;
    vm->vcpus = (int)json_integer_value(vcpus);
    vm->memory_mib = json_integer_value(mem);
    free(vm->boot);
    vm->boot = json_dumps(boot, JSON_COMPACT);
    rc = 0;
out:
    json_decref(j);
    return rc;
}

/* Path of disk id's image into out[cap] (lock-free: two lookups). */
static int disk_path(struct db *db, const char *id, char *out, size_t cap)
{
    struct db_disk d;
    struct db_sr sr;
    int rc;

    rc = db_disk_get(db, id, &d);
    if (!rc)
        rc = db_sr_get(db, d.sr_id, &sr);
    if (!rc)
        rc = sr_image_path(sr.path, d.file, out, cap);
    return rc;
}

static int boot_to_hv(const struct db_vm *vm, struct db *db,
                      struct hv_vm_config *cfg)
{
    json_t *b = json_loads(vm->boot ? vm->boot : "{}", 0, NULL);
    const char *type = json_string_value(json_object_get(b, "type"));
    const char *cd;
    int rc = 0;

    if (!type) {
        rc = ERR_INVALID;
    } else if (!strcmp(type, "hvm")) {
        cfg->boot = HV_BOOT_HVM;
        cd = json_string_value(json_object_get(b, "cdrom"));
        if (cd && cfg->num_disks < HV_MAX_DISKS) {
            struct hv_disk *d = &cfg->disks[cfg->num_disks];

            rc = disk_path(db, cd, d->path, sizeof(d->path));
            xstrlcpy(d->vdev, "hdc", sizeof(d->vdev));
            d->readonly = 1;
            d->cdrom = 1;
            if (!rc)
                cfg->num_disks++;
        }
    } else {
        cfg->boot = strcmp(type, "pvh") ? HV_BOOT_PV : HV_BOOT_PVH;
        xstrlcpy(cfg->kernel,
                 json_string_value(json_object_get(b, "kernel")) ?: "",
                 sizeof(cfg->kernel));
        xstrlcpy(cfg->ramdisk,
                 json_string_value(json_object_get(b, "ramdisk")) ?: "",
                 sizeof(cfg->ramdisk));
        xstrlcpy(cfg->cmdline,
                 json_string_value(json_object_get(b, "cmdline")) ?: "",
                 sizeof(cfg->cmdline));
    }
    json_decref(b);
    return rc;
}

int vmconf_to_hv(struct db *db, const struct db_vm *vm,
                 struct hv_vm_config *cfg, const char **field_out)
{
    const char *field = "disks";
    struct db_network net;
    size_t i;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    xstrlcpy(cfg->uuid, vm->id, sizeof(cfg->uuid));
    xstrlcpy(cfg->name, vm->name, sizeof(cfg->name));
    cfg->vcpus = vm->vcpus;
    cfg->memory_mib = (uint64_t)vm->memory_mib;
    for (i = 0; i < vm->num_disks && i < HV_MAX_DISKS; i++) {
        struct hv_disk *d = &cfg->disks[cfg->num_disks];

        rc = disk_path(db, vm->disks[i].disk_id, d->path, sizeof(d->path));
        if (rc)
            goto out;
        xstrlcpy(d->vdev, vm->disks[i].device, sizeof(d->vdev));
        d->readonly = !strcmp(vm->disks[i].mode, "ro");
        cfg->num_disks++;
    }
    field = "boot";
    rc = boot_to_hv(vm, db, cfg);
    if (rc)
        goto out;
    field = "nics";
    for (i = 0; i < vm->num_nics && i < HV_MAX_NICS; i++) {
        rc = db_network_get(db, vm->nics[i].network_id, &net);
        if (rc)
            goto out;
        xstrlcpy(cfg->nics[i].bridge, net.bridge, sizeof(cfg->nics[i].bridge));
        xstrlcpy(cfg->nics[i].mac, vm->nics[i].mac, sizeof(cfg->nics[i].mac));
        cfg->num_nics++;
    }
    rc = 0;
out:
    if (field_out)
        *field_out = rc ? field : NULL;
    return rc;
}
