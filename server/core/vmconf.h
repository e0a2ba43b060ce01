/* vmconf.h: a VM record (struct db_vm) and its two other shapes: the
 * API's JSON object, and the hypervisor's struct hv_vm_config.
 *
 * JSON: {id, name, description, state, vcpus, memory_mib, boot, disks,
 * nics, tags, created_at, updated_at} (the handler adds domid). boot is
 * {"type":"pv"|"pvh","kernel","ramdisk","cmdline"} or
 * {"type":"hvm","cdrom":<disk id>|null}; disks
 * [{"disk","device","mode"}]; nics [{"network","mac"}]; tags [string].
 *
 * Validation happens in two steps so the first can be tested without a
 * database: vmconf_apply_json checks shapes and ranges, vmconf_check_refs
 * checks what the fields point to. Both write the error to r naming the
 * top-level field, and change nothing in the database. Thread safe.
 */
#ifndef XENITH_SERVER_CORE_VMCONF_H
#define XENITH_SERVER_CORE_VMCONF_H

#include <jansson.h>
#include <stddef.h>

struct buf;
struct db;
struct db_vm;
struct hv_vm_config;
struct resp;

#define VMCONF_MAX_TAGS    32
#define VMCONF_MAX_TAG_LEN 32
#define VMCONF_MIN_MEMORY  16
#define VMCONF_MAX_MEMORY  1048576
#define VMCONF_MAX_VCPUS   128

/* The fields a POST /vms or PATCH /vms/{id} body may hold
 * (NULL-terminated, for api_body). */
extern const char *const vmconf_fields[];

/* Apply obj's fields onto vm. create: name, vcpus and memory_mib are
 * required, boot defaults to {"type":"hvm","cdrom":null}, vm is
 * expected zeroed (id and times are the caller's).
 * NICs without a mac get none here (vmconf_check_refs generates one).
 * On error vm may be half changed: apply to a copy. vm->boot and
 * vm->tags are replaced by **new** strings. 0 or an error written to r. */
int vmconf_apply_json(struct resp *r, json_t *obj, int create,
                      struct db_vm *vm);

/* Check what vm points to: every disk exists (400 "disks") and is not
 * attached to another VM (409 "disks"), every network exists (400
 * "nics"), every MAC is free (409 "nics"), the cdrom disk exists (400
 * "boot"). Generates MACs for NICs that have none. 0 or an error
 * written to r. */
int vmconf_check_refs(struct resp *r, struct db *db, struct db_vm *vm);

/* A copy of src (boot and tags duplicated). Release with db_vm_release. */
void vmconf_copy(struct db_vm *dst, const struct db_vm *src);

/* The API object of vm, without domid. **new** */
json_t *vmconf_to_json(const struct db_vm *vm);

/* The same object as vmconf_to_json, appended to b as JSON text
 * without building a jansson tree (boot and tags are spliced in as
 * stored): the fast path of GET /vms. */
void vmconf_append_json(struct buf *b, const struct db_vm *vm);

/* Restore vcpus, memory_mib and boot onto vm from a snapshot's record
 * (the vmconf_to_json text of the VM when taken). 0 or ERR_INVALID. */
int vmconf_restore_record(struct db_vm *vm, const char *record);

/* The config the driver starts vm with: disk paths through the SRs,
 * bridges from the networks. 0, or ERR_NOTFOUND (a disk, SR or network
 * vanished: field_out names it) or ERR_INVALID. field_out may be NULL. */
int vmconf_to_hv(struct db *db, const struct db_vm *vm,
                 struct hv_vm_config *cfg, const char **field_out);

/* "00:16:3e:xx:xx:xx" with three random bytes into mac[18]. */
void vmconf_random_mac(char mac[18]);

/* 1 if s is a unicast MAC "xx:xx:xx:xx:xx:xx" (hex digits of either
 * case), else 0. */
int vmconf_mac_valid(const char *s);

/* 1 if s matches ^(xvd|hd|sd)[a-z]$. */
int vmconf_device_valid(const char *s);

#endif
