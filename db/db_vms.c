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
    rc = db_exec(db, sql, "savepoint", DB_NOARGS);
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
        rc = db_exec(db, rel, "release savepoint", DB_NOARGS);
    if (rc) {
        db_exec(db, undo, "rollback to savepoint", DB_NOARGS);
        db_exec(db, rel, "release savepoint", DB_NOARGS);
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
#define VM_CONFIG_ARGS(vm)                                  \
    DB_TEXT(":id", (vm)->id), DB_TEXT(":name", (vm)->name), \
        DB_TEXT(":description", (vm)->description),         \
        DB_INT(":vcpus", (vm)->vcpus),                      \
        DB_INT(":memory_mib", (vm)->memory_mib),            \
        DB_TEXT(":boot", (vm)->boot ? (vm)->boot : "{}"),   \
        DB_TEXT(":tags", (vm)->tags ? (vm)->tags : "[]"),   \
        DB_INT(":updated_at", (vm)->updated_at)

static void vm_row(sqlite3_stmt *st, void *p)
{
    struct db_vm *vm = p;

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
    int64_t one;
    size_t i;
    int rc;

    if (vm->num_disks > DB_VM_MAX_DISKS || vm->num_nics > DB_VM_MAX_NICS)
        return ERR_INVALID;
    rc = db_exec(db, del_d, "delete vm disks", DB_ARGS(DB_TEXT(":vm", vm->id)));
    if (rc)
        return rc;
    rc = db_exec(db, del_n, "delete vm nics", DB_ARGS(DB_TEXT(":vm", vm->id)));
    if (rc)
        return rc;
    for (i = 0; i < vm->num_disks; i++) {
        const struct db_vm_disk *d = &vm->disks[i];

        rc = db_query_int(
            db, other, "check disk owner", &one,
            DB_ARGS(DB_TEXT(":disk", d->disk_id), DB_TEXT(":vm", vm->id)));
        if (rc == 0)
            return ERR_CONFLICT;
        if (rc != ERR_NOTFOUND)
            return rc;
        rc = db_exec(db, ins_d, "insert vm disk",
                     DB_ARGS(DB_TEXT(":vm", vm->id),
                             DB_TEXT(":device", d->device),
                             DB_TEXT(":disk", d->disk_id),
                             DB_TEXT(":mode", d->mode[0] ? d->mode : "rw")));
        if (rc)
            return rc;
    }
    for (i = 0; i < vm->num_nics; i++) {
        rc = db_exec(db, ins_n, "insert vm nic",
                     DB_ARGS(DB_TEXT(":vm", vm->id), DB_INT(":idx", (int64_t)i),
                             DB_TEXT(":network", vm->nics[i].network_id),
                             DB_TEXT(":mac", vm->nics[i].mac)));
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
    int rc;

    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    rc = db_exec(db, sql, "insert vm",
                 DB_ARGS(VM_CONFIG_ARGS(vm),
                         DB_TEXT(":state", vm->state[0] ? vm->state : "halted"),
                         DB_TEXT_OR_NULL(":suspend_file", vm->suspend_file),
                         DB_INT(":created_at", vm->created_at)));
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
    int rc;

    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    rc = db_exec_one(db, sql, "update vm", DB_ARGS(VM_CONFIG_ARGS(vm)));
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

/* The VMs the link rows (vm_id first) are attached to. */
struct vm_links {
    struct db_vm **by_id; /* sorted by id */
    size_t num;
};

static void vm_disk_link_row(sqlite3_stmt *st, void *ctx)
{
    struct vm_links *l = ctx;
    char vm_id[37];
    struct db_vm *vm;

    db_col_text(st, 0, vm_id, sizeof(vm_id));
    vm = vm_find(l->by_id, l->num, vm_id);
    if (vm && vm->num_disks < DB_VM_MAX_DISKS) {
        struct db_vm_disk *d = &vm->disks[vm->num_disks++];

        db_col_text(st, 1, d->device, sizeof(d->device));
        db_col_text(st, 2, d->disk_id, sizeof(d->disk_id));
        db_col_text(st, 3, d->mode, sizeof(d->mode));
    }
}

static void vm_nic_link_row(sqlite3_stmt *st, void *ctx)
{
    struct vm_links *l = ctx;
    char vm_id[37];
    struct db_vm *vm;

    db_col_text(st, 0, vm_id, sizeof(vm_id));
    vm = vm_find(l->by_id, l->num, vm_id);
    if (vm && vm->num_nics < DB_VM_MAX_NICS) {
        struct db_vm_nic *n = &vm->nics[vm->num_nics++];

        db_col_text(st, 1, n->network_id, sizeof(n->network_id));
        db_col_text(st, 2, n->mac, sizeof(n->mac));
    }
}

/* Disk and NIC links of one VM (lock held). */
static int vm_links_read(struct db *db, struct db_vm *vm)
{
    static const char sql_d[] = "SELECT vm_id, device, disk_id, mode "
                                "FROM vm_disks WHERE vm_id = :vm "
                                "ORDER BY device";
    static const char sql_n[] = "SELECT vm_id, network_id, mac FROM vm_nics "
                                "WHERE vm_id = :vm ORDER BY idx";
    struct vm_links l = { &vm, 1 };
    int rc;

    rc = db_query_each(db, sql_d, "read vm disks", vm_disk_link_row, &l,
                       DB_ARGS(DB_TEXT(":vm", vm->id)));
    if (!rc)
        rc = db_query_each(db, sql_n, "read vm nics", vm_nic_link_row, &l,
                           DB_ARGS(DB_TEXT(":vm", vm->id)));
    return rc;
}

/* All disk and NIC links in two queries, attached through by_id. */
static int vm_links_read_all(struct db *db, struct db_vm **by_id, size_t num)
{
    static const char sql_d[] = "SELECT vm_id, device, disk_id, mode "
                                "FROM vm_disks ORDER BY vm_id, device";
    static const char sql_n[] = "SELECT vm_id, network_id, mac FROM vm_nics "
                                "ORDER BY vm_id, idx";
    struct vm_links l = { by_id, num };
    int rc;

    rc = db_query_each(db, sql_d, "read vm disks", vm_disk_link_row, &l,
                       DB_NOARGS);
    if (!rc)
        rc = db_query_each(db, sql_n, "read vm nics", vm_nic_link_row, &l,
                           DB_NOARGS);
    return rc;
}

static void vm_release_any(void *p)
{
    db_vm_release(p);
}

int db_vm_get(struct db *db, const char *id, struct db_vm *out)
{
    static const char sql[] = "SELECT " VM_COLS " FROM vms WHERE id = :id";
    int rc;

    memset(out, 0, sizeof(*out));
    db_lock(db); /* the row and its links see one state */
    rc = db_query_one(db, sql, "get vm", vm_row, out,
                      DB_ARGS(DB_TEXT(":id", id)));
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
    size_t num = 0, i;
    void *rows;
    int rc;

    db_lock(db); /* the rows and their links see one state */
    rc = db_query_list(db, sql, "list vms", vm_row, vm_release_any,
                       sizeof(*list), &rows, &num, DB_NOARGS);
    if (rc)
        goto out;
    list = rows;
    if (num == 0)
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

    return db_exec_one(db, sql, "set vm state",
                       DB_ARGS(DB_TEXT(":id", id), DB_TEXT(":state", state),
                               DB_TEXT_OR_NULL(":suspend_file", suspend_file)));
}

int db_vm_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM vms WHERE id = :id";

    /* vm_disks, vm_nics, vm_snapshots and vm_snapshot_disks go with it
     * (ON DELETE CASCADE); one statement, so atomic. */
    return db_exec_one(db, sql, "delete vm", DB_ARGS(DB_TEXT(":id", id)));
}

int db_vm_mac_owner(struct db *db, const char *mac, char vm_id_out[37])
{
    static const char sql[] = "SELECT vm_id FROM vm_nics WHERE mac = :mac";

    return db_query_text(db, sql, "find mac", vm_id_out, 37,
                         DB_ARGS(DB_TEXT(":mac", mac)));
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
    size_t i;
    int rc;

    if (s->num_disks > DB_SNAP_MAX_DISKS)
        return ERR_INVALID;
    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    rc = db_exec(db, sql, "insert snapshot",
                 DB_ARGS(DB_TEXT(":id", s->id), DB_TEXT(":vm_id", s->vm_id),
                         DB_TEXT(":name", s->name),
                         DB_TEXT(":config", s->config ? s->config : "{}"),
                         DB_INT(":created_at", s->created_at)));
    for (i = 0; !rc && i < s->num_disks; i++)
        rc = db_exec(db, sql_d, "insert snapshot disk",
                     DB_ARGS(DB_TEXT(":snap", s->id),
                             DB_TEXT(":device", s->disks[i].device),
                             DB_TEXT(":disk", s->disks[i].disk_id)));
    return vm_tx_end(db, rc);
}

static void snap_row(sqlite3_stmt *st, void *p)
{
    struct db_vm_snapshot *s = p;

    memset(s, 0, sizeof(*s));
    db_col_text(st, 0, s->id, sizeof(s->id));
    db_col_text(st, 1, s->vm_id, sizeof(s->vm_id));
    db_col_text(st, 2, s->name, sizeof(s->name));
    s->config = db_col_strdup(st, 3);
    s->created_at = sqlite3_column_int64(st, 4);
}

static void snap_disk_row(sqlite3_stmt *st, void *ctx)
{
    struct db_vm_snapshot *s = ctx;
    struct db_vm_snapshot_disk *d;

    if (s->num_disks >= DB_SNAP_MAX_DISKS)
        return;
    d = &s->disks[s->num_disks++];
    db_col_text(st, 0, d->device, sizeof(d->device));
    db_col_text(st, 1, d->disk_id, sizeof(d->disk_id));
}

static int snap_disks_read(struct db *db, struct db_vm_snapshot *s)
{
    static const char sql[] = "SELECT device, disk_id FROM vm_snapshot_disks "
                              "WHERE snapshot_id = :snap ORDER BY device";

    return db_query_each(db, sql, "get snapshot disks", snap_disk_row, s,
                         DB_ARGS(DB_TEXT(":snap", s->id)));
}

static void snap_release_any(void *p)
{
    db_vm_snapshot_release(p);
}

int db_vm_snapshot_get(struct db *db, const char *id,
                       struct db_vm_snapshot *out)
{
    static const char sql[] =
        "SELECT " SNAP_COLS " FROM vm_snapshots WHERE id = :id";
    int rc;

    memset(out, 0, sizeof(*out));
    db_lock(db); /* the row and its disks see one state */
    rc = db_query_one(db, sql, "get snapshot", snap_row, out,
                      DB_ARGS(DB_TEXT(":id", id)));
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
    size_t num = 0, i;
    void *rows;
    int rc;

    db_lock(db); /* the rows and their disks see one state */
    rc = db_query_list(db, sql, "list snapshots", snap_row, snap_release_any,
                       sizeof(*list), &rows, &num,
                       DB_ARGS(DB_TEXT(":vm", vm_id)));
    if (!rc)
        list = rows;
    for (i = 0; !rc && i < num; i++)
        rc = snap_disks_read(db, &list[i]);
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
    int rc;

    /* vm_snapshot_disks rows go with it (ON DELETE CASCADE). */
    rc = vm_tx_begin(db);
    if (rc)
        return rc;
    rc = db_exec_one(db, sql, "delete snapshot", DB_ARGS(DB_TEXT(":id", id)));
    return vm_tx_end(db, rc);
}
