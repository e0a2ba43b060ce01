/* db_vms: VMs with their disks and NICs, snapshots; multi-row changes
 * are atomic, key violations answer ERR_CONFLICT and write nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"
#include "db/db_vms.h"

struct fix {
    struct db *db;
    char sr[37];
    char disk[3][37];
    char net[37];
};

static int fix_setup(void **state)
{
    struct fix *f = xcalloc(1, sizeof(*f));
    struct db_sr sr = { 0 };
    struct db_network n = { 0 };
    int i;

    assert_int_equal(db_open(":memory:", &f->db), 0);
    uuid_generate(f->sr);
    xstrlcpy(sr.id, f->sr, sizeof(sr.id));
    xstrlcpy(sr.name, "local", sizeof(sr.name));
    xstrlcpy(sr.type, "file", sizeof(sr.type));
    xstrlcpy(sr.path, "/tmp/sr", sizeof(sr.path));
    assert_int_equal(db_sr_insert(f->db, &sr), 0);
    for (i = 0; i < 3; i++) {
        struct db_disk d = { 0 };

        uuid_generate(f->disk[i]);
        xstrlcpy(d.id, f->disk[i], sizeof(d.id));
        snprintf(d.name, sizeof(d.name), "disk%d", i);
        xstrlcpy(d.sr_id, f->sr, sizeof(d.sr_id));
        snprintf(d.file, sizeof(d.file), "%s.raw", f->disk[i]);
        d.size_bytes = 1 << 20;
        xstrlcpy(d.format, "raw", sizeof(d.format));
        assert_int_equal(db_disk_insert(f->db, &d), 0);
    }
    uuid_generate(f->net);
    xstrlcpy(n.id, f->net, sizeof(n.id));
    xstrlcpy(n.name, "lan", sizeof(n.name));
    xstrlcpy(n.bridge, "xenbr0", sizeof(n.bridge));
    n.mtu = 1500;
    assert_int_equal(db_network_insert(f->db, &n), 0);
    *state = f;
    return 0;
}

static int fix_teardown(void **state)
{
    struct fix *f = *state;

    db_close(f->db);
    free(f);
    return 0;
}

static void vm_fill(struct db_vm *vm, const char *name)
{
    memset(vm, 0, sizeof(*vm));
    uuid_generate(vm->id);
    xstrlcpy(vm->name, name, sizeof(vm->name));
    xstrlcpy(vm->state, "halted", sizeof(vm->state));
    vm->vcpus = 2;
    vm->memory_mib = 512;
    vm->boot = xstrdup("{\"type\":\"pv\",\"kernel\":\"/k\"}");
    vm->tags = xstrdup("[\"a\"]");
    vm->created_at = 1000;
    vm->updated_at = 1000;
}

static void vm_add_disk(struct db_vm *vm, const char *dev, const char *id)
{
    struct db_vm_disk *d = &vm->disks[vm->num_disks++];

    xstrlcpy(d->device, dev, sizeof(d->device));
    xstrlcpy(d->disk_id, id, sizeof(d->disk_id));
    xstrlcpy(d->mode, "rw", sizeof(d->mode));
}

static void vm_add_nic(struct db_vm *vm, const char *net, const char *mac)
{
    struct db_vm_nic *n = &vm->nics[vm->num_nics++];

    xstrlcpy(n->network_id, net, sizeof(n->network_id));
    xstrlcpy(n->mac, mac, sizeof(n->mac));
}

static void test_insert_get_roundtrip(void **state)
{
    struct fix *f = *state;
    struct db_vm vm, got;
    struct db_disk d;

    vm_fill(&vm, "web");
    vm_add_disk(&vm, "xvda", f->disk[0]);
    vm_add_disk(&vm, "xvdb", f->disk[1]);
    vm_add_nic(&vm, f->net, "00:16:3e:00:00:01");
    assert_int_equal(db_vm_insert(f->db, &vm), 0);
    assert_int_equal(db_vm_get(f->db, vm.id, &got), 0);
    assert_string_equal(got.name, "web");
    assert_string_equal(got.state, "halted");
    assert_int_equal(got.vcpus, 2);
    assert_int_equal(got.memory_mib, 512);
    assert_string_equal(got.boot, vm.boot);
    assert_string_equal(got.tags, "[\"a\"]");
    assert_int_equal(got.num_disks, 2);
    assert_string_equal(got.disks[0].device, "xvda");
    assert_string_equal(got.disks[1].disk_id, f->disk[1]);
    assert_int_equal(got.num_nics, 1);
    assert_string_equal(got.nics[0].mac, "00:16:3e:00:00:01");
    /* The storage side sees the attachment. */
    assert_int_equal(db_disk_get(f->db, f->disk[0], &d), 0);
    assert_string_equal(d.attached_vm, vm.id);
    db_vm_release(&got);
    db_vm_release(&vm);
    assert_int_equal(
        db_vm_get(f->db, "00000000-0000-4000-8000-000000000000", &got),
        ERR_NOTFOUND);
}

static void test_missing_disk_or_network_conflicts(void **state)
{
    struct fix *f = *state;
    struct db_vm vm, got;
    size_t n = 9;
    struct db_vm *list = NULL;

    vm_fill(&vm, "bad");
    vm_add_disk(&vm, "xvda", f->disk[0]);
    vm_add_disk(&vm, "xvdb", "00000000-0000-4000-8000-000000000001");
    assert_int_equal(db_vm_insert(f->db, &vm), ERR_CONFLICT);
    /* Nothing written: not the vms row, not the first disk link. */
    assert_int_equal(db_vm_get(f->db, vm.id, &got), ERR_NOTFOUND);
    vm.num_disks = 0;
    vm_add_nic(&vm, "00000000-0000-4000-8000-000000000002",
               "00:16:3e:00:00:02");
    assert_int_equal(db_vm_insert(f->db, &vm), ERR_CONFLICT);
    assert_int_equal(db_vm_list(f->db, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);
    db_vm_release(&vm);
}

static void test_disk_attached_twice_conflicts(void **state)
{
    struct fix *f = *state;
    struct db_vm a, b;

    vm_fill(&a, "a");
    vm_add_nic(&a, f->net, "00:16:3e:00:00:03");
    vm_add_disk(&a, "xvda", f->disk[2]);
    assert_int_equal(db_vm_insert(f->db, &a), 0);
    vm_fill(&b, "b");
    vm_add_disk(&b, "xvda", f->disk[2]); /* a's disk */
    assert_int_equal(db_vm_insert(f->db, &b), ERR_CONFLICT);
    b.num_disks = 0;
    vm_add_nic(&b, f->net, "00:16:3e:00:00:03"); /* a's MAC */
    assert_int_equal(db_vm_insert(f->db, &b), ERR_CONFLICT);
    b.num_nics = 0;
    assert_int_equal(db_vm_insert(f->db, &b), 0);
    /* a may keep (re-write) its own disk. */
    assert_int_equal(db_vm_update(f->db, &a), 0);
    db_vm_release(&a);
    db_vm_release(&b);
}

static void test_update_is_atomic(void **state)
{
    struct fix *f = *state;
    struct db_vm vm, got;

    vm_fill(&vm, "upd");
    vm_add_disk(&vm, "xvda", f->disk[0]);
    assert_int_equal(db_vm_insert(f->db, &vm), 0);

    /* A bad second link: the rename and the first link are undone. */
    xstrlcpy(vm.name, "renamed", sizeof(vm.name));
    vm.num_disks = 0;
    vm_add_disk(&vm, "xvda", f->disk[1]);
    vm_add_disk(&vm, "xvdb", "00000000-0000-4000-8000-000000000003");
    assert_int_equal(db_vm_update(f->db, &vm), ERR_CONFLICT);
    assert_int_equal(db_vm_get(f->db, vm.id, &got), 0);
    assert_string_equal(got.name, "upd");
    assert_int_equal(got.num_disks, 1);
    assert_string_equal(got.disks[0].disk_id, f->disk[0]);
    db_vm_release(&got);

    /* A failing statement in the middle (injected) undoes it too. */
    vm.num_disks = 1;
    db_inject_failure(f->db, "INSERT INTO vm_disks", 1);
    assert_int_equal(db_vm_update(f->db, &vm), ERR_IO);
    assert_int_equal(db_vm_get(f->db, vm.id, &got), 0);
    assert_string_equal(got.name, "upd");
    assert_string_equal(got.disks[0].disk_id, f->disk[0]);
    db_vm_release(&got);

    assert_int_equal(db_vm_update(f->db, &vm), 0);
    assert_int_equal(db_vm_get(f->db, vm.id, &got), 0);
    assert_string_equal(got.name, "renamed");
    assert_int_equal(got.num_disks, 1);
    assert_string_equal(got.disks[0].disk_id, f->disk[1]);
    db_vm_release(&got);

    uuid_generate(vm.id);
    assert_int_equal(db_vm_update(f->db, &vm), ERR_NOTFOUND);
    db_vm_release(&vm);
}

static void test_state_and_delete(void **state)
{
    struct fix *f = *state;
    struct db_vm vm, got;
    struct db_disk d;

    vm_fill(&vm, "st");
    vm_add_disk(&vm, "xvda", f->disk[0]);
    vm_add_nic(&vm, f->net, "00:16:3e:00:00:04");
    assert_int_equal(db_vm_insert(f->db, &vm), 0);
    assert_int_equal(db_vm_set_state(f->db, vm.id, "suspended", "/x.suspend"),
                     0);
    assert_int_equal(db_vm_get(f->db, vm.id, &got), 0);
    assert_string_equal(got.state, "suspended");
    assert_string_equal(got.suspend_file, "/x.suspend");
    db_vm_release(&got);
    assert_int_equal(db_vm_set_state(f->db, vm.id, "bogus", NULL),
                     ERR_CONFLICT);
    assert_int_equal(db_vm_set_state(f->db, vm.id, "halted", NULL), 0);
    assert_int_equal(db_vm_get(f->db, vm.id, &got), 0);
    assert_string_equal(got.suspend_file, "");
    db_vm_release(&got);

    /* A disk attached to a VM cannot go; after the VM is deleted the
     * disk stays, detached, and the MAC is free again. */
    assert_int_equal(db_disk_delete(f->db, f->disk[0]), ERR_CONFLICT);
    assert_int_equal(db_vm_delete(f->db, vm.id), 0);
    assert_int_equal(db_vm_delete(f->db, vm.id), ERR_NOTFOUND);
    assert_int_equal(db_disk_get(f->db, f->disk[0], &d), 0);
    assert_string_equal(d.attached_vm, "");
    {
        char owner[37];

        assert_int_equal(db_vm_mac_owner(f->db, "00:16:3e:00:00:04", owner),
                         ERR_NOTFOUND);
    }
    db_vm_release(&vm);
}

static void test_list_attaches_links(void **state)
{
    struct fix *f = *state;
    struct db_vm vm;
    struct db_vm *list = NULL;
    size_t n = 0, i, k;
    char mac[18];

    for (i = 0; i < 40; i++) {
        char name[16];

        snprintf(name, sizeof(name), "vm%02u", (unsigned)i % 100);
        vm_fill(&vm, name);
        if (i < 3)
            vm_add_disk(&vm, "xvda", f->disk[i]);
        snprintf(mac, sizeof(mac), "00:16:3e:00:01:%02x", (unsigned)i & 0xff);
        vm_add_nic(&vm, f->net, mac);
        assert_int_equal(db_vm_insert(f->db, &vm), 0);
        db_vm_release(&vm);
    }
    assert_int_equal(db_vm_list(f->db, &list, &n), 0);
    assert_int_equal(n, 40);
    for (i = 0; i < n; i++) {
        char name[16];

        snprintf(name, sizeof(name), "vm%02u", (unsigned)i % 100);
        assert_string_equal(list[i].name, name);
        assert_int_equal(list[i].num_disks, i < 3 ? 1 : 0);
        if (i < 3)
            assert_string_equal(list[i].disks[0].disk_id, f->disk[i]);
        assert_int_equal(list[i].num_nics, 1);
        snprintf(mac, sizeof(mac), "00:16:3e:00:01:%02x", (unsigned)i & 0xff);
        assert_string_equal(list[i].nics[0].mac, mac);
    }
    for (k = 0; k < n; k++)
        db_vm_release(&list[k]);
    free(list);
}

static void test_snapshots(void **state)
{
    struct fix *f = *state;
    struct db_vm vm;
    struct db_vm_snapshot s, got, *list = NULL;
    struct db_disk clone = { 0 };
    size_t n = 0;

    vm_fill(&vm, "snap");
    vm_add_disk(&vm, "xvda", f->disk[0]);
    assert_int_equal(db_vm_insert(f->db, &vm), 0);

    uuid_generate(clone.id);
    xstrlcpy(clone.name, "disk0@s1", sizeof(clone.name));
    xstrlcpy(clone.sr_id, f->sr, sizeof(clone.sr_id));
    xstrlcpy(clone.file, "c.raw", sizeof(clone.file));
    clone.size_bytes = 1 << 20;
    xstrlcpy(clone.snapshot_of, f->disk[0], sizeof(clone.snapshot_of));

    memset(&s, 0, sizeof(s));
    uuid_generate(s.id);
    xstrlcpy(s.vm_id, vm.id, sizeof(s.vm_id));
    xstrlcpy(s.name, "s1", sizeof(s.name));
    s.config = xstrdup("{\"vcpus\":2}");
    s.created_at = 5;
    xstrlcpy(s.disks[0].device, "xvda", sizeof(s.disks[0].device));
    xstrlcpy(s.disks[0].disk_id, clone.id, sizeof(s.disks[0].disk_id));
    s.num_disks = 1;

    /* The clone's disks row does not exist yet: nothing is written. */
    assert_int_equal(db_vm_snapshot_insert(f->db, &s), ERR_CONFLICT);
    assert_int_equal(db_vm_snapshot_get(f->db, s.id, &got), ERR_NOTFOUND);

    /* Nested in a caller's transaction with the clone's row; a rollback
     * undoes both. */
    assert_int_equal(db_begin(f->db), 0);
    assert_int_equal(db_disk_insert(f->db, &clone), 0);
    assert_int_equal(db_vm_snapshot_insert(f->db, &s), 0);
    db_rollback(f->db);
    assert_int_equal(db_vm_snapshot_get(f->db, s.id, &got), ERR_NOTFOUND);

    assert_int_equal(db_begin(f->db), 0);
    assert_int_equal(db_disk_insert(f->db, &clone), 0);
    assert_int_equal(db_vm_snapshot_insert(f->db, &s), 0);
    assert_int_equal(db_commit(f->db), 0);

    assert_int_equal(db_vm_snapshot_get(f->db, s.id, &got), 0);
    assert_string_equal(got.name, "s1");
    assert_string_equal(got.config, "{\"vcpus\":2}");
    assert_int_equal(got.num_disks, 1);
    assert_string_equal(got.disks[0].disk_id, clone.id);
    db_vm_snapshot_release(&got);
    assert_int_equal(db_vm_snapshot_list(f->db, vm.id, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, s.id);
    db_vm_snapshot_release(&list[0]);
    free(list);

    /* The clone is held by the snapshot until the snapshot goes. */
    assert_int_equal(db_disk_delete(f->db, clone.id), ERR_CONFLICT);
    assert_int_equal(db_vm_snapshot_delete(f->db, s.id), 0);
    assert_int_equal(db_vm_snapshot_delete(f->db, s.id), ERR_NOTFOUND);
    assert_int_equal(db_disk_delete(f->db, clone.id), 0);

    db_vm_snapshot_release(&s);
    db_vm_release(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_get_roundtrip, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_missing_disk_or_network_conflicts,
                                        fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_disk_attached_twice_conflicts,
                                        fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_update_is_atomic, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_state_and_delete, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_list_attaches_links, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_snapshots, fix_setup,
                                        fix_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
