/* Golden tests of our VM record -> libxl_domain_config (libvirt's
 * libxlxml2domconfigtest is the model): each case is converted, turned
 * into JSON by libxl's own generator and compared with
 * tests/unit/xen/golden/<case>.json. No Xen is needed:
 * libxl_domain_config_to_json uses its ctx only to log a failure, so NULL
 * is passed. Regenerate the files with XENITH_UPDATE_GOLDEN=1 (then read
 * the diff before committing it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "xen/hv.h"
#include "xen/libxl/libxl_config.h"

#define GOLDEN_DIR "tests/unit/xen/golden"

static void add_disk(struct hv_vm_config *c, const char *path, const char *vdev,
                     int ro, int cdrom)
{
    struct hv_disk *d = &c->disks[c->num_disks++];

    xstrlcpy(d->path, path, sizeof(d->path));
    xstrlcpy(d->vdev, vdev, sizeof(d->vdev));
    d->readonly = ro;
    d->cdrom = cdrom;
}

static void add_nic(struct hv_vm_config *c, const char *bridge, const char *mac)
{
    struct hv_nic *n = &c->nics[c->num_nics++];

    xstrlcpy(n->bridge, bridge, sizeof(n->bridge));
    xstrlcpy(n->mac, mac, sizeof(n->mac));
}

static void base(struct hv_vm_config *c, const char *uuid, const char *name,
                 enum hv_boot_type boot)
{
    memset(c, 0, sizeof(*c));
    xstrlcpy(c->uuid, uuid, sizeof(c->uuid));
    xstrlcpy(c->name, name, sizeof(c->name));
    c->boot = boot;
}

static void case_pv(struct hv_vm_config *c)
{
    base(c, "8f1c7e1a-2b3c-4d5e-8f90-0a1b2c3d4e5f", "web1", HV_BOOT_PV);
    c->vcpus = 2;
    c->memory_mib = 1024;
    xstrlcpy(c->kernel, "/var/lib/xenith/kernels/vmlinuz-6.1",
             sizeof(c->kernel));
    xstrlcpy(c->ramdisk, "/var/lib/xenith/kernels/initrd-6.1",
             sizeof(c->ramdisk));
    xstrlcpy(c->cmdline, "root=/dev/xvda1 ro console=hvc0", sizeof(c->cmdline));
    add_disk(c, "/srv/xenith/sr1/web1-root.img", "xvda", 0, 0);
    add_disk(c, "/dev/vg0/web1-data", "xvdb", 1, 0);
    add_nic(c, "xenbr0", "00:16:3e:12:34:56");
    add_nic(c, "xenbr1", "00:16:3E:AB:CD:EF");
}

static void case_pvh(struct hv_vm_config *c)
{
    base(c, "0b6f0c38-5d0e-4c1b-9d7a-3e2f1a0b9c8d", "db1", HV_BOOT_PVH);
    c->vcpus = 4;
    c->memory_mib = 4096;
    xstrlcpy(c->kernel, "/var/lib/xenith/kernels/vmlinuz-6.1",
             sizeof(c->kernel));
    xstrlcpy(c->cmdline, "root=/dev/xvda ro", sizeof(c->cmdline));
    add_disk(c, "/srv/xenith/sr1/db1-root.img", "xvda", 0, 0);
    add_disk(c, "/srv/xenith/sr1/db1-data.img", "xvdb", 0, 0);
    add_nic(c, "xenbr0", "00:16:3e:00:00:0a");
}

static void case_hvm(struct hv_vm_config *c)
{
    base(c, "c4a8e2f0-1d3b-4a5c-b6d7-e8f9a0b1c2d3", "win1", HV_BOOT_HVM);
    c->vcpus = 2;
    c->memory_mib = 2048;
    add_disk(c, "/srv/xenith/sr1/win1.img", "hda", 0, 0);
    add_disk(c, "/srv/xenith/iso/install.iso", "hdc", 1, 1);
    add_nic(c, "xenbr0", "00:16:3e:00:00:0b");
    add_nic(c, "xenbr0", "00:16:3e:00:00:0c");
}

/* JSON of a config as libxl writes it (**new**). */
static char *convert(const struct hv_vm_config *c)
{
    libxl_domain_config d;
    char *json;

    libxl_domain_config_init(&d);
    assert_int_equal(hv_libxl_make_config(c, &d), 0);
    json = libxl_domain_config_to_json(NULL, &d);
    assert_non_null(json);
    libxl_domain_config_dispose(&d);
    return json;
}

static char *read_golden(const char *name)
{
    struct buf b = BUF_INIT;
    char path[256], tmp[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), GOLDEN_DIR "/%s.json", name);
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s (XENITH_UPDATE_GOLDEN=1 creates it)", path);
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    return buf_detach(&b, NULL);
}

static void write_golden(const char *name, const char *json)
{
    char path[256], tmp[264];
    FILE *f;

    snprintf(path, sizeof(path), GOLDEN_DIR "/%s.json", name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    assert_true(fputs(json, f) >= 0);
    assert_true(fputc('\n', f) == '\n');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
    print_message("updated %s\n", path);
}

/* 1 if json matches the golden file (which ends in one newline). */
static int matches_golden(const char *name, const char *json)
{
    char *golden = read_golden(name);
    size_t n = strlen(json);
    int ok = strlen(golden) == n + 1 && !strncmp(golden, json, n) &&
             golden[n] == '\n';

    if (!ok)
        print_message("%s differs from golden:\n%s\n", name, json);
    free(golden);
    return ok;
}

static void check_case(const char *name, void (*make)(struct hv_vm_config *))
{
    struct hv_vm_config *c = xcalloc(1, sizeof(*c));
    const char *update = getenv("XENITH_UPDATE_GOLDEN");
    char *json;

    make(c);
    json = convert(c);
    if (update && !strcmp(update, "1"))
        write_golden(name, json);
    assert_true(matches_golden(name, json));
    free(json);
    free(c);
}

static void test_pv(void **state)
{
    (void)state;
    check_case("pv", case_pv);
}

static void test_pvh(void **state)
{
    (void)state;
    check_case("pvh", case_pvh);
}

static void test_hvm(void **state)
{
    (void)state;
    check_case("hvm", case_hvm);
}

/* The comparison can fail: change one field at a time and the JSON no
 * longer matches. */
static void test_changes_are_caught(void **state)
{
    struct hv_vm_config *c = xcalloc(1, sizeof(*c));
    char *json;
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        case_pv(c);
        switch (i) {
        case 0:
            c->vcpus = 3;
            break;
        case 1:
            c->memory_mib = 1023;
            break;
        case 2:
            c->disks[1].readonly = 0;
            break;
        case 3:
            xstrlcpy(c->nics[0].mac, "00:16:3e:12:34:57",
                     sizeof(c->nics[0].mac));
            break;
        case 4:
            xstrlcpy(c->disks[0].path, "/dev/sdb", sizeof(c->disks[0].path));
            break;
        }
        json = convert(c);
        assert_false(matches_golden("pv", json));
        free(json);
    }
    free(c);
}

static void test_bad_input(void **state)
{
    struct hv_vm_config *c = xcalloc(1, sizeof(*c));
    libxl_domain_config d;

    (void)state;
    case_pv(c);
    xstrlcpy(c->nics[1].mac, "00:16:3e:zz:00:00", sizeof(c->nics[1].mac));
    libxl_domain_config_init(&d);
    assert_int_equal(hv_libxl_make_config(c, &d), ERR_INVALID);
    assert_non_null(strstr(hv_last_error(), "00:16:3e:zz:00:00"));
    libxl_domain_config_dispose(&d);

    case_pv(c);
    xstrlcpy(c->uuid, "not-a-uuid", sizeof(c->uuid));
    libxl_domain_config_init(&d);
    assert_int_equal(hv_libxl_make_config(c, &d), ERR_INVALID);
    libxl_domain_config_dispose(&d);

    case_pv(c);
    c->boot = (enum hv_boot_type)7;
    libxl_domain_config_init(&d);
    assert_int_equal(hv_libxl_make_config(c, &d), ERR_INVALID);
    libxl_domain_config_dispose(&d);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pv),
        cmocka_unit_test(test_pvh),
        cmocka_unit_test(test_hvm),
        cmocka_unit_test(test_changes_are_caught),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
