/* vmconf: the VM JSON's shape and range checks, table-driven (each bad
 * body names its field and leaves the record untouched), MAC and device
 * rules, and the round trip record -> JSON -> record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_vms.h"
#include "server/api/req.h"
#include "server/core/vmconf.h"

#define ID1  "11111111-1111-4111-8111-111111111111"
#define ID2  "22222222-2222-4222-8222-222222222222"
#define PV   "\"boot\":{\"type\":\"pv\",\"kernel\":\"/boot/k\"}"
#define BASE "\"name\":\"vm\",\"vcpus\":1,\"memory_mib\":64," PV

struct vcase {
    const char *body; /* the JSON object's members */
    int create;
    const char *field; /* NULL: valid */
};

static const struct vcase cases[] = {
    { BASE, 1, NULL },
    { BASE ",\"description\":\"\",\"tags\":[],\"disks\":[],\"nics\":[]", 1,
      NULL },
    { "\"vcpus\":1,\"memory_mib\":64," PV, 1, "name" },
    { "\"name\":\"vm\",\"memory_mib\":64," PV, 1, "vcpus" },
    { "\"name\":\"vm\",\"vcpus\":1," PV, 1, "memory_mib" },
    { "\"name\":\"vm\",\"vcpus\":1,\"memory_mib\":64", 1, NULL },
    { "\"name\":\"\",\"vcpus\":1,\"memory_mib\":64," PV, 1, "name" },
    { "\"name\":\"a/b\",\"vcpus\":1,\"memory_mib\":64," PV, 1, "name" },
    { "\"name\":\" x\",\"vcpus\":1,\"memory_mib\":64," PV, 1, "name" },
    { "\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxx\",\"vcpus\":1,\"memory_mib\":64," PV,
      1, "name" },
    { "\"name\":7,\"vcpus\":1,\"memory_mib\":64," PV, 1, "name" },
    { "\"name\":\"vm\",\"vcpus\":0,\"memory_mib\":64," PV, 1, "vcpus" },
    { "\"name\":\"vm\",\"vcpus\":129,\"memory_mib\":64," PV, 1, "vcpus" },
    { "\"name\":\"vm\",\"vcpus\":\"2\",\"memory_mib\":64," PV, 1, "vcpus" },
    { "\"name\":\"vm\",\"vcpus\":1.5,\"memory_mib\":64," PV, 1, "vcpus" },
    { "\"name\":\"vm\",\"vcpus\":1,\"memory_mib\":15," PV, 1, "memory_mib" },
    { "\"name\":\"vm\",\"vcpus\":1,\"memory_mib\":1048577," PV, 1,
      "memory_mib" },
    { "\"name\":\"vm\",\"vcpus\":1,\"memory_mib\":1048576," PV, 1, NULL },
    { BASE ",\"description\":5", 1, "description" },
    /* boot */
    { "\"boot\":[]", 0, "boot" },
    { "\"boot\":{}", 0, "boot" },
    { "\"boot\":{\"type\":\"xen\"}", 0, "boot" },
    { "\"boot\":{\"type\":\"pv\"}", 0, "boot" },
    { "\"boot\":{\"type\":\"pv\",\"kernel\":\"vmlinuz\"}", 0, "boot" },
    { "\"boot\":{\"type\":\"pv\",\"kernel\":\"/k\",\"ramdisk\":\"initrd\"}", 0,
      "boot" },
    { "\"boot\":{\"type\":\"pv\",\"kernel\":\"/k\",\"bogus\":1}", 0, "boot" },
    { "\"boot\":{\"type\":\"pvh\",\"kernel\":\"/k\",\"ramdisk\":\"/r\","
      "\"cmdline\":\"root=/dev/xvda1\"}",
      0, NULL },
    { "\"boot\":{\"type\":\"pv\",\"kernel\":\"/k\",\"cmdline\":7}", 0, "boot" },
    { "\"boot\":{\"type\":\"hvm\"}", 0, NULL },
    { "\"boot\":{\"type\":\"hvm\",\"cdrom\":null}", 0, NULL },
    { "\"boot\":{\"type\":\"hvm\",\"cdrom\":\"" ID1 "\"}", 0, NULL },
    { "\"boot\":{\"type\":\"hvm\",\"cdrom\":\"nope\"}", 0, "boot" },
    { "\"boot\":{\"type\":\"hvm\",\"kernel\":\"/k\"}", 0, "boot" },
    /* disks */
    { "\"disks\":{}", 0, "disks" },
    { "\"disks\":[1]", 0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvda\"}]", 0, NULL },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"hdc\",\"mode\":\"ro\"}]",
      0, NULL },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"sdz\"}]", 0, NULL },
    { "\"disks\":[{\"disk\":\"" ID1 "\"}]", 0, "disks" },
    { "\"disks\":[{\"device\":\"xvda\"}]", 0, "disks" },
    { "\"disks\":[{\"disk\":\"x\",\"device\":\"xvda\"}]", 0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvdaa\"}]", 0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"vda\"}]", 0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvdA\"}]", 0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvda\",\"mode\":\"wo\"}]",
      0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvda\",\"x\":1}]", 0,
      "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvda\"},{\"disk\":\"" ID2
      "\",\"device\":\"xvda\"}]",
      0, "disks" },
    { "\"disks\":[{\"disk\":\"" ID1 "\",\"device\":\"xvda\"},{\"disk\":\"" ID1
      "\",\"device\":\"xvdb\"}]",
      0, "disks" },
    /* nics */
    { "\"nics\":[{\"network\":\"" ID1 "\"}]", 0, NULL },
    { "\"nics\":[{\"network\":\"" ID1 "\",\"mac\":\"00:16:3E:AA:bb:01\"}]", 0,
      NULL },
    { "\"nics\":[{\"network\":\"" ID1 "\",\"mac\":\"01:16:3e:aa:bb:01\"}]", 0,
      "nics" },
    { "\"nics\":[{\"network\":\"" ID1 "\",\"mac\":\"00:16:3e:aa:bb\"}]", 0,
      "nics" },
    { "\"nics\":[{\"network\":\"" ID1 "\",\"mac\":\"00-16-3e-aa-bb-01\"}]", 0,
      "nics" },
    { "\"nics\":[{\"network\":\"" ID1 "\",\"mac\":\"00:16:3e:aa:bb:0g\"}]", 0,
      "nics" },
    { "\"nics\":[{\"mac\":\"00:16:3e:aa:bb:01\"}]", 0, "nics" },
    { "\"nics\":[{\"network\":\"" ID1 "\",\"mac\":\"00:16:3e:aa:bb:01\"},"
      "{\"network\":\"" ID1 "\",\"mac\":\"00:16:3E:AA:BB:01\"}]",
      0, "nics" },
    { "\"nics\":\"lan\"", 0, "nics" },
    /* tags */
    { "\"tags\":[\"a\",\"web server\"]", 0, NULL },
    { "\"tags\":\"a\"", 0, "tags" },
    { "\"tags\":[1]", 0, "tags" },
    { "\"tags\":[\"\"]", 0, "tags" },
    { "\"tags\":[\"123456789012345678901234567890123\"]", 0, "tags" },
    { "\"tags\":[\"12345678901234567890123456789012\"]", 0, NULL },
    { "\"tags\":[\"a\\nb\"]", 0, "tags" },
};

static void test_validation_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct vcase *c = &cases[i];
        char *text = xasprintf("{%s}", c->body);
        json_t *obj = json_loads(text, 0, NULL);
        struct db_vm vm;
        struct resp r;
        int rc;

        if (!obj)
            fail_msg("case %zu: bad test JSON %s", i, text);
        memset(&vm, 0, sizeof(vm));
        resp_init(&r);
        rc = vmconf_apply_json(&r, obj, c->create, &vm);
        if (!c->field && rc)
            fail_msg("case %zu: %s: want ok, got %s", i, text,
                     buf_str(&r.body));
        if (c->field) {
            json_t *e = json_loads(buf_str(&r.body), 0, NULL);
            const char *f = json_string_value(
                json_object_get(json_object_get(e, "error"), "field"));

            if (!rc || r.status != 400 || !f || strcmp(f, c->field))
                fail_msg("case %zu: %s: want 400 field %s, got %d %s", i, text,
                         c->field, r.status, buf_str(&r.body));
            json_decref(e);
        }
        resp_release(&r);
        db_vm_release(&vm);
        json_decref(obj);
        free(text);
    }
}

static void test_too_many(void **state)
{
    json_t *obj = json_object(), *disks = json_array(), *nics = json_array();
    json_t *tags = json_array();
    struct db_vm vm;
    struct resp r;
    char dev[8];
    int i;

    (void)state;
    for (i = 0; i < 17; i++) {
        char id[37];

        snprintf(dev, sizeof(dev), "xvd%c", 'a' + i);
        snprintf(id, sizeof(id), "11111111-1111-4111-8111-1111111111%02d", i);
        json_array_append_new(
            disks, json_pack("{s:s, s:s}", "disk", id, "device", dev));
    }
    for (i = 0; i < 9; i++)
        json_array_append_new(nics, json_pack("{s:s}", "network", ID1));
    for (i = 0; i < 33; i++)
        json_array_append_new(tags, json_string("t"));
    json_object_set_new(obj, "disks", disks);
    memset(&vm, 0, sizeof(vm));
    resp_init(&r);
    assert_int_equal(vmconf_apply_json(&r, obj, 0, &vm), ERR_INVALID);
    assert_non_null(strstr(buf_str(&r.body), "\"disks\""));
    json_array_remove(disks, 16);
    resp_release(&r);
    resp_init(&r);
    assert_int_equal(vmconf_apply_json(&r, obj, 0, &vm), 0);
    assert_int_equal(vm.num_disks, 16);
    json_object_del(obj, "disks");
    json_object_set_new(obj, "nics", nics);
    assert_int_equal(vmconf_apply_json(&r, obj, 0, &vm), ERR_INVALID);
    json_object_del(obj, "nics");
    json_object_set_new(obj, "tags", tags);
    assert_int_equal(vmconf_apply_json(&r, obj, 0, &vm), ERR_INVALID);
    resp_release(&r);
    db_vm_release(&vm);
    json_decref(obj);
}

static void test_mac_and_device_rules(void **state)
{
    char mac[18];
    int i;

    (void)state;
    for (i = 0; i < 100; i++) {
        vmconf_random_mac(mac);
        assert_true(vmconf_mac_valid(mac));
        assert_int_equal(strncmp(mac, "00:16:3e:", 9), 0);
    }
    assert_false(vmconf_mac_valid("ff:ff:ff:ff:ff:ff"));
    assert_false(vmconf_mac_valid("00:16:3e:00:00:0"));
    assert_false(vmconf_mac_valid("00:16:3e:00:00:001"));
    assert_true(vmconf_device_valid("xvda"));
    assert_true(vmconf_device_valid("hdd"));
    assert_true(vmconf_device_valid("sdb"));
    assert_false(vmconf_device_valid("xvd"));
    assert_false(vmconf_device_valid("xvd1"));
    assert_false(vmconf_device_valid("nvme0"));
    assert_false(vmconf_device_valid(""));
}

static void test_patch_keeps_other_fields(void **state)
{
    json_t *obj = json_loads("{" BASE ",\"tags\":[\"x\"],\"nics\":[{"
                             "\"network\":\"" ID1 "\"}]}",
                             0, NULL);
    json_t *patch = json_loads("{\"vcpus\":4}", 0, NULL), *j;
    struct db_vm vm;
    struct resp r;

    (void)state;
    memset(&vm, 0, sizeof(vm));
    resp_init(&r);
    assert_int_equal(vmconf_apply_json(&r, obj, 1, &vm), 0);
    assert_int_equal(vmconf_apply_json(&r, patch, 0, &vm), 0);
    assert_int_equal(vm.vcpus, 4);
    assert_int_equal(vm.memory_mib, 64);
    assert_string_equal(vm.name, "vm");
    assert_string_equal(vm.tags, "[\"x\"]");
    assert_int_equal(vm.num_nics, 1);
    j = vmconf_to_json(&vm);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "boot"), "kernel")),
                        "/boot/k");
    assert_true(json_is_null(json_object_get(j, "created_at")));
    json_decref(j);

    /* The snapshot record restores vcpus, memory and boot. */
    j = vmconf_to_json(&vm);
    {
        char *rec = json_dumps(j, JSON_COMPACT);
        struct db_vm other;

        memset(&other, 0, sizeof(other));
        other.vcpus = 9;
        assert_int_equal(vmconf_restore_record(&other, rec), 0);
        assert_int_equal(other.vcpus, 4);
        assert_int_equal(other.memory_mib, 64);
        assert_string_equal(other.boot, vm.boot);
        assert_int_equal(vmconf_restore_record(&other, "{}"), ERR_INVALID);
        db_vm_release(&other);
        free(rec);
    }
    json_decref(j);
    resp_release(&r);
    db_vm_release(&vm);
    json_decref(obj);
    json_decref(patch);
}

/* The text fast path of GET /vms says exactly what vmconf_to_json says,
 * escapes included. */
static void test_append_json_matches(void **state)
{
    static const char *const descs[] = {
        "",
        "plain",
        "q\"uote and back\\slash",
        "tab\there\nnl\x01\x1f",
        "utf-8: \xc3\xa9t\xc3\xa9 \xe2\x82\xac",
        "</script>",
    };
    struct buf b = BUF_INIT;
    json_t *fast, *slow;
    struct db_vm vm;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
        memset(&vm, 0, sizeof(vm));
        xstrlcpy(vm.id, ID1, sizeof(vm.id));
        xstrlcpy(vm.name, "n-1", sizeof(vm.name));
        xstrlcpy(vm.description, descs[i], sizeof(vm.description));
        xstrlcpy(vm.state, "running", sizeof(vm.state));
        vm.vcpus = 3;
        vm.memory_mib = 4096;
        vm.boot = xstrdup("{\"type\":\"pv\",\"kernel\":\"/k\",\"ramdisk\":"
                          "\"\",\"cmdline\":\"a=\\\"b\\\"\"}");
        vm.tags = xstrdup(i % 2 ? "[]" : "[\"x\",\"y z\"]");
        vm.created_at = i ? 1700000000 : 0;
        vm.updated_at = 1700000001;
        vm.num_disks = i % 3;
        if (vm.num_disks) {
            xstrlcpy(vm.disks[0].disk_id, ID2, sizeof(vm.disks[0].disk_id));
            xstrlcpy(vm.disks[0].device, "xvda", sizeof(vm.disks[0].device));
            xstrlcpy(vm.disks[0].mode, "ro", sizeof(vm.disks[0].mode));
            vm.disks[1] = vm.disks[0];
        }
        vm.num_nics = 1;
        xstrlcpy(vm.nics[0].network_id, ID1, sizeof(vm.nics[0].network_id));
        xstrlcpy(vm.nics[0].mac, "00:16:3e:00:00:01", sizeof(vm.nics[0].mac));
        buf_reset(&b);
        vmconf_append_json(&b, &vm);
        fast = json_loads(buf_str(&b), 0, NULL);
        slow = vmconf_to_json(&vm);
        if (!fast || !json_equal(fast, slow))
            fail_msg("case %zu: %s", i, buf_str(&b));
        json_decref(fast);
        json_decref(slow);
        db_vm_release(&vm);
    }
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_table),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_mac_and_device_rules),
        cmocka_unit_test(test_patch_keeps_other_fields),
        cmocka_unit_test(test_append_json_matches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
