#include "db/db_vms.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define VM_COLS                                                     \
    "id, name, description, state, vcpus, memory_mib, boot, tags, " \
    "suspend_file, created_at, updated_at"

/* ---- nestable transactions ---- */

/* A savepoint opens a transaction of its own when none is open, and
 * nests inside a caller's db_begin() otherwise. Takes the lock. */
static int vm_tx_begin(struct db *db)
{
    static const char sql[] = "SAVEPOINT db_vms";
    int rc;

    db_lock(db);
    rc = db_exec_stmt(db, db_stmt(db, sql), "savepoint");
    if (rc)
        db_unlock(db);
    return rc;
}

/* Release (commit) on rc == 0, else roll back; drops the lock. */
static int vm_tx_end(struct db *db, int rc)
{
    static const char rel[] = "RELEASE db_vms";
    static const char undo[] = "ROLLBACK TO db_vms";

    if (rc == 0)
        rc = db_exec_stmt(db, db_stmt(db, rel), "release savepoint");
    if (rc) {
        db_exec_stmt(db, db_stmt(db, undo), "rollback to savepoint");
        db_exec_stmt(db, db_stmt(db, rel), "release savepoint");
    }
    db_unlock(db);
    return rc;
}

/* ---- VMs ---- */

void db_vm_release(struct db_vm *vm)
{
    if (!vm)
        return;
    free(vm->boot);
    free(vm->tags);
    vm->boot = NULL;
    vm->tags = NULL;
}

/* Everything but the power state (db_vm_set_state's alone). */
static void vm_bind_config(sqlite3_stmt *st, const struct db_vm *vm)
{
    db_bind_text(st, ":id", vm->id);
    db_bind_text(st, ":name", vm->name);
    db_bind_text(st, ":description", vm->description);
    db_bind_int(st, ":vcpus", vm->vcpus);
    db_bind_int(st, ":memory_mib", vm->memory_mib);
    db_bind_text(st, ":boot", vm->boot ? vm->boot : "{}");
    db_bind_text(st, ":tags", vm->tags ? vm->tags : "[]");
    db_bind_int(st, ":updated_at", vm->updated_at);
}

static void vm_row(sqlite3_stmt *st, struct db_vm *vm)
{
    memset(vm, 0, sizeof(*vm));
    db_col_text(st, 0, vm->id, sizeof(vm->id));
    db_col_text(st, 1, vm->name, sizeof(vm->name));
    db_col_text(st, 2, vm->description, sizeof(vm->description));
    db_col_text(st, 3, vm->state, sizeof(vm->state));
    vm->vcpus = sqlite3_column_int(st, 4);
    vm->memory_mib = sqlite3_column_int64(st, 5);
    vm->boot = db_col_strdup(st, 6);
    vm->tags = db_col_strdup(st, 7);
    db_col_text(st, 8, vm->suspend_file, sizeof(vm->suspend_file));
    vm->created_at = sqlite3_column_int64(st, 9);
    vm->updated_at = sqlite3_column_int64(st, 10);
}

/* Write the VM's disk and NIC links (after deleting the old ones). */
static int vm_links_write(struct db *db, const struct db_vm *vm)
{
    static const char del_d[] = "DELETE FROM vm_disks WHERE vm_id = :vm";
    static const char del_n[] = "DELETE FROM vm_nics WHERE vm_id = :vm";
    static const char ins_d[] =
        "INSERT INTO vm_disks (vm_id, device, disk_id, mode) "
        "VALUES (:vm, :device, :disk, :mode)";
    static const char ins_n[] =
        "INSERT INTO vm_nics (vm_id, idx, network_id, mac) "
        "VALUES (:vm, :idx, :network, :mac)";
    /* The schema lets a disk sit in two VMs; we do not. */
    static const char other[] = "SELECT 1 FROM vm_disks WHERE disk_id = "
                                ":disk AND vm_id <> :vm";
    sqlite3_stmt *st;
    size_t i;
    int rc;

    if (vm->num_disks > DB_VM_MAX_DISKS || vm->num_nics > DB_VM_MAX_NICS)
        return ERR_INVALID;
    st = db_stmt(db, del_d);
    if (st)
        db_bind_text(st, ":vm", vm->id);
    rc = db_exec_stmt(db, st, "delete vm disks");
    if (rc)
        return rc;
    st = db_stmt(db, del_n);
    if (st)
        db_bind_text(st, ":vm", vm->id);
    rc = db_exec_stmt(db, st, "delete vm nics");
    if (rc)
        return rc;
    for (i = 0; i < vm->num_disks; i++) {
        const struct db_vm_disk *d = &vm->disks[i];

        st = db_stmt(db, other);
        if (!st)
            return ERR_INTERNAL;
        db_bind_text(st, ":disk", d->disk_id);
        db_bind_text(st, ":vm", vm->id);
        rc = db_step(db, st, "check disk owner");
        sqlite3_reset(st);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return ERR_CONFLICT;
        st = db_stmt(db, ins_d);
        if (st) {
            db_bind_text(st, ":vm", vm->id);
            db_bind_text(st, ":device", d->device);
            db_bind_text(st, ":disk", d->disk_id);
            db_bind_text(st, ":mode", d->mode[0] ? d->mode : "rw");
        }
        rc = db_exec_stmt(db, st, "insert vm disk");
        if (rc)
            return rc;
    }
    for (i = 0; i < vm->num_nics; i++) {
        st = db_stmt(db, ins_n);
        if (st) {
            db_bind_text(st, ":vm", vm->id);
            db_bind_int(st, ":idx", (int64_t)i);
            db_bind_text(st, ":network", vm->nics[i].network_id);
            db_bind_text(st, ":mac", vm->nics[i].mac);
        }
        rc = db_exec_stmt(db, st, "insert vm nic");
        if (rc)
            return rc;
    }
    return 0;
}

int db_vm_insert(struct db *db, const struct db_vm *vm)
{
    static const char sql[] =
        "INSERT INTO vms (" VM_COLS ") VALUES (:id, :name, :description, "
        ":state, :vcpus, :memory_mib, :boot, :tags, :suspend_file, "
        ":created_at, :updated_at)";
    sqlite3_stmt *st;
    int rc;

    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    st = db_stmt(db, sql);
    if (st) {
        vm_bind_config(st, vm);
        db_bind_text(st, ":state", vm->state[0] ? vm->state : "halted");
        db_bind_text(st, ":suspend_file",
                     vm->suspend_file[0] ? vm->suspend_file : NULL);
        db_bind_int(st, ":created_at", vm->created_at);
    }
    rc = db_exec_stmt(db, st, "insert vm");
    if (!rc)
        rc = vm_links_write(db, vm);
    return vm_tx_end(db, rc);
}

int db_vm_update(struct db *db, const struct db_vm *vm)
{
    static const char sql[] =
        "UPDATE vms SET name = :name, description = :description, "
        "vcpus = :vcpus, memory_mib = :memory_mib, boot = :boot, "
        "tags = :tags, updated_at = :updated_at WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    st = db_stmt(db, sql);
    if (st)
        vm_bind_config(st, vm);
    rc = db_exec_stmt(db, st, "update vm");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    if (!rc)
        rc = vm_links_write(db, vm);
    return vm_tx_end(db, rc);
}

static int vm_ptr_cmp(const void *a, const void *b)
{
    const struct db_vm *x = *(const struct db_vm *const *)a;
    const struct db_vm *y = *(const struct db_vm *const *)b;

    return strcmp(x->id, y->id);
}

static struct db_vm *vm_find(struct db_vm **by_id, size_t num, const char *id)
{
    size_t lo = 0, hi = num;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(by_id[mid]->id, id);

        if (c == 0)
            return by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Attach the rows of sd (vm_id, device, disk_id, mode) and sn (vm_id,
 * network_id, mac) to the VMs in by_id (sorted by id). Lock held. */
static int vm_links_fill(struct db *db, sqlite3_stmt *sd, sqlite3_stmt *sn,
                         struct db_vm **by_id, size_t num)
{
    char vm_id[37];
    struct db_vm *vm;
    int rc;

    if (!sd || !sn)
        return ERR_INTERNAL;
    while ((rc = db_step(db, sd, "read vm disks")) == 1) {
        db_col_text(sd, 0, vm_id, sizeof(vm_id));
        vm = vm_find(by_id, num, vm_id);
        if (vm && vm->num_disks < DB_VM_MAX_DISKS) {
            struct db_vm_disk *d = &vm->disks[vm->num_disks++];

            db_col_text(sd, 1, d->device, sizeof(d->device));
            db_col_text(sd, 2, d->disk_id, sizeof(d->disk_id));
            db_col_text(sd, 3, d->mode, sizeof(d->mode));
        }
    }
    sqlite3_reset(sd);
    if (rc < 0)
        return rc;
    while ((rc = db_step(db, sn, "read vm nics")) == 1) {
        db_col_text(sn, 0, vm_id, sizeof(vm_id));
        vm = vm_find(by_id, num, vm_id);
        if (vm && vm->num_nics < DB_VM_MAX_NICS) {
            struct db_vm_nic *n = &vm->nics[vm->num_nics++];

            db_col_text(sn, 1, n->network_id, sizeof(n->network_id));
            db_col_text(sn, 2, n->mac, sizeof(n->mac));
        }
    }
    sqlite3_reset(sn);
    return rc < 0 ? rc : 0;
}

/* Disk and NIC links of one VM (lock held). */
static int vm_links_read(struct db *db, struct db_vm *vm)
{
    static const char sql_d[] = "SELECT vm_id, device, disk_id, mode "
                                "FROM vm_disks WHERE vm_id = :vm "
                                "ORDER BY device";
    static const char sql_n[] = "SELECT vm_id, network_id, mac FROM vm_nics "
                                "WHERE vm_id = :vm ORDER BY idx";
    sqlite3_stmt *sd = db_stmt(db, sql_d), *sn = db_stmt(db, sql_n);

    if (sd)
        db_bind_text(sd, ":vm", vm->id);
    if (sn)
        db_bind_text(sn, ":vm", vm->id);
    return vm_links_fill(db, sd, sn, &vm, 1);
}

/* All disk and NIC links in two queries, attached through by_id. */
static int vm_links_read_all(struct db *db, struct db_vm **by_id, size_t num)
{
    static const char sql_d[] = "SELECT vm_id, device, disk_id, mode "
                                "FROM vm_disks ORDER BY vm_id, device";
    static const char sql_n[] = "SELECT vm_id, network_id, mac FROM vm_nics "
                                "ORDER BY vm_id, idx";

    return vm_links_fill(db, db_stmt(db, sql_d), db_stmt(db, sql_n), by_id,
                         num);
}

/* One row by id through row_fn into out (lock held): 0, ERR_NOTFOUND
 * or an error. */
static int row_by_id(struct db *db, const char *sql, const char *id,
                     const char *what, void (*row_fn)(sqlite3_stmt *, void *),
                     void *out)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return ERR_INTERNAL;
    db_bind_text(st, ":id", id);
    rc = db_step(db, st, what);
    if (rc == 1) {
        row_fn(st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
    return rc;
}

static void vm_row_any(sqlite3_stmt *st, void *out)
{
    vm_row(st, out);
}

int db_vm_get(struct db *db, const char *id, struct db_vm *out)
{
    static const char sql[] = "SELECT " VM_COLS " FROM vms WHERE id = :id";
    int rc;

    memset(out, 0, sizeof(*out));
    db_lock(db);
    rc = row_by_id(db, sql, id, "get vm", vm_row_any, out);
    if (!rc)
        rc = vm_links_read(db, out);
    if (rc)
        db_vm_release(out);
    db_unlock(db);
    return rc;
}

int db_vm_list(struct db *db, struct db_vm **list_out, size_t *num_out)
{
    static const char sql[] = "SELECT " VM_COLS " FROM vms ORDER BY name, id";
    struct db_vm *list = NULL;
    struct db_vm **by_id = NULL;
    size_t num = 0, alloc = 0, i;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    while ((rc = db_step(db, st, "list vms")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        vm_row(st, &list[num++]);
    }
    sqlite3_reset(st);
    if (rc < 0 || num == 0)
        goto out;
    by_id = xmalloc(num * sizeof(*by_id));
    for (i = 0; i < num; i++)
        by_id[i] = &list[i];
    qsort(by_id, num, sizeof(*by_id), vm_ptr_cmp);
    rc = vm_links_read_all(db, by_id, num);
out:
    db_unlock(db);
    free(by_id);
    if (rc < 0) {
        while (num)
            db_vm_release(&list[--num]);
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

int db_vm_set_state(struct db *db, const char *id, const char *state,
                    const char *suspend_file)
{
    static const char sql[] =
        "UPDATE vms SET state = :state, suspend_file = :suspend_file, "
        "updated_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_text(st, ":state", state);
        db_bind_text(st, ":suspend_file",
                     suspend_file && *suspend_file ? suspend_file : NULL);
    }
    rc = db_exec_stmt(db, st, "set vm state");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_vm_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM vms WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    /* vm_disks, vm_nics, vm_snapshots and vm_snapshot_disks go with it
     * (ON DELETE CASCADE); one statement, so atomic. */
    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_exec_stmt(db, st, "delete vm");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_vm_mac_owner(struct db *db, const char *mac, char vm_id_out[37])
{
    static const char sql[] = "SELECT vm_id FROM vm_nics WHERE mac = :mac";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":mac", mac);
    rc = db_step(db, st, "find mac");
    if (rc == 1) {
        db_col_text(st, 0, vm_id_out, 37);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

/* ---- snapshots ---- */

#define SNAP_COLS "id, vm_id, name, config, created_at"

void db_vm_snapshot_release(struct db_vm_snapshot *s)
{
    if (!s)
        return;
    free(s->config);
    s->config = NULL;
}

int db_vm_snapshot_insert(struct db *db, const struct db_vm_snapshot *s)
{
    static const char sql[] =
        "INSERT INTO vm_snapshots (" SNAP_COLS ") VALUES (:id, :vm_id, "
        ":name, :config, :created_at)";
    static const char sql_d[] =
        "INSERT INTO vm_snapshot_disks (snapshot_id, device, disk_id) "
        "VALUES (:snap, :device, :disk)";
    sqlite3_stmt *st;
    size_t i;
    int rc;

    if (s->num_disks > DB_SNAP_MAX_DISKS)
        return ERR_INVALID;
    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", s->id);
        db_bind_text(st, ":vm_id", s->vm_id);
        db_bind_text(st, ":name", s->name);
        db_bind_text(st, ":config", s->config ? s->config : "{}");
        db_bind_int(st, ":created_at", s->created_at);
    }
    rc = db_exec_stmt(db, st, "insert snapshot");
    for (i = 0; !rc && i < s->num_disks; i++) {
        st = db_stmt(db, sql_d);
        if (st) {
            db_bind_text(st, ":snap", s->id);
            db_bind_text(st, ":device", s->disks[i].device);
            db_bind_text(st, ":disk", s->disks[i].disk_id);
        }
        rc = db_exec_stmt(db, st, "insert snapshot disk");
    }
    return vm_tx_end(db, rc);
}

static void snap_row(sqlite3_stmt *st, struct db_vm_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    db_col_text(st, 0, s->id, sizeof(s->id));
    db_col_text(st, 1, s->vm_id, sizeof(s->vm_id));
    db_col_text(st, 2, s->name, sizeof(s->name));
    s->config = db_col_strdup(st, 3);
    s->created_at = sqlite3_column_int64(st, 4);
}

static int snap_disks_read(struct db *db, struct db_vm_snapshot *s)
{
    static const char sql[] = "SELECT device, disk_id FROM vm_snapshot_disks "
                              "WHERE snapshot_id = :snap ORDER BY device";
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return ERR_INTERNAL;
    db_bind_text(st, ":snap", s->id);
    while ((rc = db_step(db, st, "get snapshot disks")) == 1 &&
           s->num_disks < DB_SNAP_MAX_DISKS) {
        struct db_vm_snapshot_disk *d = &s->disks[s->num_disks++];

        db_col_text(st, 0, d->device, sizeof(d->device));
        db_col_text(st, 1, d->disk_id, sizeof(d->disk_id));
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static void snap_row_any(sqlite3_stmt *st, void *out)
{
    snap_row(st, out);
}

int db_vm_snapshot_get(struct db *db, const char *id,
                       struct db_vm_snapshot *out)
{
    static const char sql[] =
        "SELECT " SNAP_COLS " FROM vm_snapshots WHERE id = :id";
    int rc;

    memset(out, 0, sizeof(*out));
    db_lock(db);
    rc = row_by_id(db, sql, id, "get snapshot", snap_row_any, out);
    if (!rc)
        rc = snap_disks_read(db, out);
    if (rc)
        db_vm_snapshot_release(out);
    db_unlock(db);
    return rc;
}

int db_vm_snapshot_list(struct db *db, const char *vm_id,
                        struct db_vm_snapshot **list_out, size_t *num_out)
{
    static const char sql[] = "SELECT " SNAP_COLS " FROM vm_snapshots "
                              "WHERE vm_id = :vm ORDER BY created_at, rowid";
    struct db_vm_snapshot *list = NULL;
    size_t num = 0, alloc = 0, i;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":vm", vm_id);
    while ((rc = db_step(db, st, "list snapshots")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        snap_row(st, &list[num++]);
    }
    sqlite3_reset(st);
    for (i = 0; rc >= 0 && i < num; i++)
        rc = snap_disks_read(db, &list[i]);
out:
    db_unlock(db);
    if (rc < 0) {
        while (num)
            db_vm_snapshot_release(&list[--num]);
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

int db_vm_snapshot_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM vm_snapshots WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    /* vm_snapshot_disks rows go with it (ON DELETE CASCADE). */
    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_exec_stmt(db, st, "delete snapshot");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    return vm_tx_end(db, rc);
}
