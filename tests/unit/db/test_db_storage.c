/* db_storage.c: SRs, disks, networks and the pool. Unique names give
 * ERR_EXISTS, referenced rows ERR_CONFLICT; attached disks report their
 * VM. VM rows are written with a second connection (raw SQL), so this
 * test does not depend on db_vms.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"

static void mk_sr(struct db_sr *s, const char *name, const char *path)
{
    memset(s, 0, sizeof(*s));
    uuid_generate(s->id);
    xstrlcpy(s->name, name, sizeof(s->name));
    xstrlcpy(s->type, "file", sizeof(s->type));
    xstrlcpy(s->path, path, sizeof(s->path));
    s->created_at = 1000;
}

static void mk_disk(struct db_disk *d, const char *name, const char *sr_id)
{
    memset(d, 0, sizeof(*d));
    uuid_generate(d->id);
    xstrlcpy(d->name, name, sizeof(d->name));
    xstrlcpy(d->sr_id, sr_id, sizeof(d->sr_id));
    snprintf(d->file, sizeof(d->file), "%s.raw", d->id);
    xstrlcpy(d->format, "raw", sizeof(d->format));
    d->size_bytes = 1 << 20;
    d->created_at = 2000;
}

static void mk_net(struct db_network *n, const char *name, const char *br)
{
    memset(n, 0, sizeof(*n));
    uuid_generate(n->id);
    xstrlcpy(n->name, name, sizeof(n->name));
    xstrlcpy(n->bridge, br, sizeof(n->bridge));
    n->mtu = 9000;
    n->created_at = 3000;
}

static void test_srs(void **state)
{
    struct db_sr a, b, got, *list = NULL;
    struct db *db = NULL;
    int64_t n = -1;
    size_t num = 0;

    (void)state;
    assert_int_equal(db_open(":memory:", &db), 0);
    mk_sr(&a, "beta", "/srv/a");
    assert_int_equal(db_sr_insert(db, &a), 0);
    assert_int_equal(db_sr_get(db, a.id, &got), 0);
    assert_string_equal(got.name, "beta");
    assert_string_equal(got.path, "/srv/a");
    assert_string_equal(got.type, "file");
    assert_int_equal(got.created_at, 1000);
    /* Same name, same path, same id: ERR_EXISTS each. */
    mk_sr(&b, "beta", "/srv/b");
    assert_int_equal(db_sr_insert(db, &b), ERR_EXISTS);
    mk_sr(&b, "alpha", "/srv/a");
    assert_int_equal(db_sr_insert(db, &b), ERR_EXISTS);
    mk_sr(&b, "alpha", "/srv/b");
    xstrlcpy(b.id, a.id, sizeof(b.id));
    assert_int_equal(db_sr_insert(db, &b), ERR_EXISTS);
    /* A bad type breaks a CHECK: a conflict, not "exists". */
    mk_sr(&b, "alpha", "/srv/b");
    xstrlcpy(b.type, "nfs", sizeof(b.type));
    assert_int_equal(db_sr_insert(db, &b), ERR_CONFLICT);
    mk_sr(&b, "alpha", "/srv/b");
    assert_int_equal(db_sr_insert(db, &b), 0);

    assert_int_equal(db_sr_list(db, &list, &num), 0);
    assert_int_equal(num, 2);
    assert_string_equal(list[0].name, "alpha");
    assert_string_equal(list[1].name, "beta");
    free(list);

    assert_int_equal(db_sr_disk_count(db, a.id, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(db_sr_delete(db, b.id), 0);
    assert_int_equal(db_sr_delete(db, b.id), ERR_NOTFOUND);
    assert_int_equal(db_sr_get(db, b.id, &got), ERR_NOTFOUND);
    db_close(db);
}

static void test_disks(void **state)
{
    struct db_disk d, e, got, *list = NULL;
    struct db_sr s1, s2;
    struct db *db = NULL;
    char vmstate[16] = "x";
    int64_t n = 0;
    size_t num = 0;

    (void)state;
    assert_int_equal(db_open(":memory:", &db), 0);
    mk_sr(&s1, "one", "/srv/1");
    mk_sr(&s2, "two", "/srv/2");
    assert_int_equal(db_sr_insert(db, &s1), 0);
    assert_int_equal(db_sr_insert(db, &s2), 0);

    /* An unknown SR is a foreign key failure: ERR_CONFLICT. */
    mk_disk(&d, "orphan", "00000000-0000-4000-8000-000000000000");
    assert_int_equal(db_disk_insert(db, &d), ERR_CONFLICT);

    mk_disk(&d, "root", s1.id);
    assert_int_equal(db_disk_insert(db, &d), 0);
    assert_int_equal(db_disk_insert(db, &d), ERR_EXISTS);
    mk_disk(&e, "data", s2.id);
    xstrlcpy(e.snapshot_of, d.id, sizeof(e.snapshot_of));
    assert_int_equal(db_disk_insert(db, &e), 0);

    assert_int_equal(db_disk_get(db, d.id, &got), 0);
    assert_string_equal(got.name, "root");
    assert_string_equal(got.sr_id, s1.id);
    assert_string_equal(got.file, d.file);
    assert_string_equal(got.format, "raw");
    assert_int_equal(got.size_bytes, 1 << 20);
    assert_string_equal(got.snapshot_of, "");
    assert_string_equal(got.attached_vm, "");
    assert_int_equal(db_disk_get(db, e.id, &got), 0);
    assert_string_equal(got.snapshot_of, d.id);

    assert_int_equal(db_disk_list(db, NULL, &list, &num), 0);
    assert_int_equal(num, 2);
    free(list);
    assert_int_equal(db_disk_list(db, s2.id, &list, &num), 0);
    assert_int_equal(num, 1);
    assert_string_equal(list[0].id, e.id);
    free(list);

    assert_int_equal(db_sr_disk_count(db, s1.id, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(db_sr_delete(db, s1.id), ERR_CONFLICT);

    xstrlcpy(d.name, "renamed", sizeof(d.name));
    d.size_bytes = 4 << 20;
    assert_int_equal(db_disk_update(db, &d), 0);
    assert_int_equal(db_disk_get(db, d.id, &got), 0);
    assert_string_equal(got.name, "renamed");
    assert_int_equal(got.size_bytes, 4 << 20);

    assert_int_equal(db_disk_vm_state(db, d.id, vmstate), 0);
    assert_string_equal(vmstate, "");

    /* Deleting the origin clears snapshot_of (ON DELETE SET NULL). */
    assert_int_equal(db_disk_delete(db, d.id), 0);
    assert_int_equal(db_disk_delete(db, d.id), ERR_NOTFOUND);
    assert_int_equal(db_disk_get(db, e.id, &got), 0);
    assert_string_equal(got.snapshot_of, "");
    assert_int_equal(db_sr_delete(db, s1.id), 0);
    db_close(db);
}

static void test_networks(void **state)
{
    struct db_network a, b, got, *list = NULL;
    struct db *db = NULL;
    size_t num = 0;

    (void)state;
    assert_int_equal(db_open(":memory:", &db), 0);
    mk_net(&a, "lan", "xenbr0");
    assert_int_equal(db_network_insert(db, &a), 0);
    mk_net(&b, "lan", "xenbr1");
    assert_int_equal(db_network_insert(db, &b), ERR_EXISTS);
    mk_net(&b, "dmz", "xenbr0");
    assert_int_equal(db_network_insert(db, &b), ERR_EXISTS);
    mk_net(&b, "dmz", "xenbr1");
    b.mtu = 20; /* CHECK: a conflict */
    assert_int_equal(db_network_insert(db, &b), ERR_CONFLICT);
    b.mtu = 1500;
    assert_int_equal(db_network_insert(db, &b), 0);
    assert_int_equal(db_network_get(db, a.id, &got), 0);
    assert_string_equal(got.bridge, "xenbr0");
    assert_int_equal(got.mtu, 9000);
    assert_int_equal(db_network_list(db, &list, &num), 0);
    assert_int_equal(num, 2);
    assert_string_equal(list[0].name, "dmz");
    free(list);
    assert_int_equal(db_network_delete(db, b.id), 0);
    assert_int_equal(db_network_delete(db, b.id), ERR_NOTFOUND);
    db_close(db);
}

static void test_pool(void **state)
{
    struct db_pool p, again;
    struct db_sr s;
    struct db *db = NULL;
    char host[256] = "";

    (void)state;
    assert_int_equal(db_open(":memory:", &db), 0);
    assert_int_equal(db_pool_get(db, &p), 0);
    assert_true(uuid_valid(p.id));
    gethostname(host, sizeof(host) - 1);
    host[64] = '\0';
    assert_string_equal(p.name, host[0] ? host : "xenith");
    assert_string_equal(p.default_sr, "");
    /* One row: the second get returns the same one. */
    assert_int_equal(db_pool_get(db, &again), 0);
    assert_string_equal(again.id, p.id);

    mk_sr(&s, "one", "/srv/1");
    assert_int_equal(db_sr_insert(db, &s), 0);
    xstrlcpy(p.name, "lab", sizeof(p.name));
    xstrlcpy(p.description, "the lab", sizeof(p.description));
    xstrlcpy(p.default_sr, s.id, sizeof(p.default_sr));
    assert_int_equal(db_pool_update(db, &p), 0);
    assert_int_equal(db_pool_get(db, &again), 0);
    assert_string_equal(again.name, "lab");
    assert_string_equal(again.description, "the lab");
    assert_string_equal(again.default_sr, s.id);
    /* An unknown SR: foreign key, ERR_CONFLICT, nothing changed. */
    xstrlcpy(p.default_sr, "00000000-0000-4000-8000-000000000000",
             sizeof(p.default_sr));
    xstrlcpy(p.name, "other", sizeof(p.name));
    assert_int_equal(db_pool_update(db, &p), ERR_CONFLICT);
    assert_int_equal(db_pool_get(db, &again), 0);
    assert_string_equal(again.name, "lab");
    /* Forgetting the default SR clears it. */
    assert_int_equal(db_sr_delete(db, s.id), 0);
    assert_int_equal(db_pool_get(db, &again), 0);
    assert_string_equal(again.default_sr, "");
    db_close(db);
}

static void sql(sqlite3 *conn, const char *fmt, ...)
{
    char q[1024];
    char *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    if (sqlite3_exec(conn, q, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", q, err);
}

/* Rows referenced by VMs, VM snapshots and NICs cannot go. */
static void test_references(void **state)
{
    char dir[] = "/tmp/xenith-dbst-XXXXXX", path[300], vmstate[16];
    char vm[UUID_STRLEN], snap[UUID_STRLEN];
    struct db_disk d, e, got, *list = NULL;
    struct db_network n;
    struct db_sr s;
    struct db *db = NULL;
    sqlite3 *conn = NULL;
    size_t num = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/x.db", dir);
    assert_int_equal(db_open(path, &db), 0);
    mk_sr(&s, "one", "/srv/1");
    assert_int_equal(db_sr_insert(db, &s), 0);
    mk_disk(&d, "root", s.id);
    assert_int_equal(db_disk_insert(db, &d), 0);
    mk_disk(&e, "snapdisk", s.id);
    assert_int_equal(db_disk_insert(db, &e), 0);
    mk_net(&n, "lan", "xenbr0");
    assert_int_equal(db_network_insert(db, &n), 0);

    assert_int_equal(sqlite3_open(path, &conn), SQLITE_OK);
    sqlite3_busy_timeout(conn, 5000);
    sql(conn, "PRAGMA foreign_keys = ON");
    uuid_generate(vm);
    uuid_generate(snap);
    sql(conn,
        "INSERT INTO vms (id, name, state, vcpus, memory_mib, boot, "
        "created_at, updated_at) VALUES ('%s', 'vm1', 'running', 1, 256, "
        "'{}', 1, 1)",
        vm);
    sql(conn,
        "INSERT INTO vm_disks (vm_id, device, disk_id) "
        "VALUES ('%s', 'xvda', '%s')",
        vm, d.id);
    sql(conn,
        "INSERT INTO vm_nics (vm_id, idx, network_id, mac) VALUES "
        "('%s', 0, '%s', '00:16:3e:00:00:01')",
        vm, n.id);
    sql(conn,
        "INSERT INTO vm_snapshots (id, vm_id, name, config, "
        "created_at) VALUES ('%s', '%s', 's', '{}', 1)",
        snap, vm);
    sql(conn,
        "INSERT INTO vm_snapshot_disks (snapshot_id, device, disk_id) "
        "VALUES ('%s', 'xvda', '%s')",
        snap, e.id);

    assert_int_equal(db_disk_get(db, d.id, &got), 0);
    assert_string_equal(got.attached_vm, vm);
    assert_string_equal(got.attached_device, "xvda");
    assert_int_equal(db_disk_list(db, NULL, &list, &num), 0);
    assert_int_equal(num, 2);
    assert_string_equal(list[0].attached_vm, vm); /* "root" sorts first */
    assert_string_equal(list[1].attached_vm, "");
    free(list);
    assert_int_equal(db_disk_vm_state(db, d.id, vmstate), 0);
    assert_string_equal(vmstate, "running");

    assert_int_equal(db_disk_delete(db, d.id), ERR_CONFLICT);
    assert_int_equal(db_disk_delete(db, e.id), ERR_CONFLICT);
    assert_int_equal(db_network_delete(db, n.id), ERR_CONFLICT);
    assert_int_equal(db_sr_delete(db, s.id), ERR_CONFLICT);
    assert_int_equal(db_disk_get(db, d.id, &got), 0);

    /* Once the VM is gone (cascade), everything can go. */
    sql(conn, "DELETE FROM vms WHERE id = '%s'", vm);
    assert_int_equal(db_disk_delete(db, d.id), 0);
    assert_int_equal(db_disk_delete(db, e.id), 0);
    assert_int_equal(db_network_delete(db, n.id), 0);
    assert_int_equal(db_sr_delete(db, s.id), 0);
    sqlite3_close(conn);
    db_close(db);
    unlink(path);
    snprintf(path, sizeof(path), "%s/x.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/x.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srs),        cmocka_unit_test(test_disks),
        cmocka_unit_test(test_networks),   cmocka_unit_test(test_pool),
        cmocka_unit_test(test_references),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
