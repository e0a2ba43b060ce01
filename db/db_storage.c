#include "db/db_storage.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define SR_COLS  "id, name, type, path, created_at"
#define NET_COLS "id, name, bridge, mtu, created_at"
#define DISK_COLS                                                        \
    "d.id, d.name, d.sr_id, d.file, d.size_bytes, d.format, "            \
    "d.snapshot_of, d.created_at, "                                      \
    "(SELECT vm_id FROM vm_disks WHERE disk_id = d.id ORDER BY vm_id, "  \
    "device LIMIT 1), "                                                  \
    "(SELECT device FROM vm_disks WHERE disk_id = d.id ORDER BY vm_id, " \
    "device LIMIT 1)"

/* One row into *out (a struct of the list's type). */
typedef void (*db_row_fn)(sqlite3_stmt *st, void *out);

/* Step st to its end, appending each row (of elem_size bytes) to a
 * **new** array. The caller holds the lock; st is reset. */
static int db_collect(struct db *db, sqlite3_stmt *st, const char *what,
                      size_t elem_size, db_row_fn row, void **list_out,
                      size_t *num_out)
{
    char *list = NULL;
    size_t num = 0, alloc = 0;
    int rc;

    if (!st)
        return ERR_INTERNAL;
    while ((rc = db_step(db, st, what)) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            list = xrealloc(list, alloc * elem_size);
        }
        row(st, list + num * elem_size);
        num++;
    }
    sqlite3_reset(st);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

/* Step st once: row into out, or ERR_NOTFOUND. Caller holds the lock. */
static int db_one(struct db *db, sqlite3_stmt *st, const char *what,
                  db_row_fn row, void *out)
{
    int rc;

    if (!st)
        return ERR_INTERNAL;
    rc = db_step(db, st, what);
    if (rc == 1) {
        row(st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
    return rc;
}

/* Count of rows of a "SELECT count(*) ... :id" statement. */
static int db_count(struct db *db, const char *sql, const char *id,
                    int64_t *count_out)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return ERR_INTERNAL;
    db_bind_text(st, ":id", id);
    rc = db_step(db, st, "count references");
    if (rc == 1) {
        *count_out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_INTERNAL;
    }
    sqlite3_reset(st);
    return rc;
}

/* Run a DELETE ... WHERE id = :id: ERR_NOTFOUND when nothing went, a
 * foreign key failure is ERR_CONFLICT. Caller holds the lock. */
static int db_delete_id(struct db *db, const char *sql, const char *id,
                        const char *what)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (st)
        db_bind_text(st, ":id", id);
    rc = db_exec_stmt(db, st, what);
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    return rc;
}

/* ---- srs ---- */

static void sr_row(sqlite3_stmt *st, void *p)
{
    struct db_sr *s = p;

    memset(s, 0, sizeof(*s));
    db_col_text(st, 0, s->id, sizeof(s->id));
    db_col_text(st, 1, s->name, sizeof(s->name));
    db_col_text(st, 2, s->type, sizeof(s->type));
    db_col_text(st, 3, s->path, sizeof(s->path));
    s->created_at = sqlite3_column_int64(st, 4);
}

int db_sr_insert(struct db *db, const struct db_sr *sr)
{
    static const char sql[] = "INSERT INTO srs (" SR_COLS ") VALUES (:id, "
                              ":name, :type, :path, :created_at)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", sr->id);
        db_bind_text(st, ":name", sr->name);
        db_bind_text(st, ":type", sr->type);
        db_bind_text(st, ":path", sr->path);
        db_bind_int(st, ":created_at", sr->created_at);
    }
    rc = db_unique_err(db, db_exec_stmt(db, st, "insert sr"));
    db_unlock(db);
    return rc;
}

int db_sr_get(struct db *db, const char *id, struct db_sr *out)
{
    static const char sql[] = "SELECT " SR_COLS " FROM srs WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_one(db, st, "get sr", sr_row, out);
    db_unlock(db);
    return rc;
}

int db_sr_list(struct db *db, struct db_sr **list_out, size_t *num_out)
{
    static const char sql[] = "SELECT " SR_COLS " FROM srs ORDER BY name";
    void *list;
    int rc;

    db_lock(db);
    rc = db_collect(db, db_stmt(db, sql), "list srs", sizeof(struct db_sr),
                    sr_row, &list, num_out);
    db_unlock(db);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_sr_disk_count(struct db *db, const char *id, int64_t *count_out)
{
    static const char sql[] = "SELECT count(*) FROM disks WHERE sr_id = :id";
    int rc;

    db_lock(db);
    rc = db_count(db, sql, id, count_out);
    db_unlock(db);
    return rc;
}

int db_sr_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM srs WHERE id = :id";
    static const char used[] = "SELECT count(*) FROM disks WHERE sr_id = :id";
    int64_t n = 0;
    int rc;

    db_lock(db);
    rc = db_count(db, used, id, &n);
    if (!rc && n > 0)
        rc = ERR_CONFLICT;
    if (!rc)
        rc = db_delete_id(db, sql, id, "delete sr");
    db_unlock(db);
    return rc;
}

/* ---- disks ---- */

static void disk_row(sqlite3_stmt *st, void *p)
{
    struct db_disk *d = p;

    memset(d, 0, sizeof(*d));
    db_col_text(st, 0, d->id, sizeof(d->id));
    db_col_text(st, 1, d->name, sizeof(d->name));
    db_col_text(st, 2, d->sr_id, sizeof(d->sr_id));
    db_col_text(st, 3, d->file, sizeof(d->file));
    d->size_bytes = sqlite3_column_int64(st, 4);
    db_col_text(st, 5, d->format, sizeof(d->format));
    db_col_text(st, 6, d->snapshot_of, sizeof(d->snapshot_of));
    d->created_at = sqlite3_column_int64(st, 7);
    db_col_text(st, 8, d->attached_vm, sizeof(d->attached_vm));
    db_col_text(st, 9, d->attached_device, sizeof(d->attached_device));
}

int db_disk_insert(struct db *db, const struct db_disk *d)
{
    static const char sql[] =
        "INSERT INTO disks (id, name, sr_id, file, size_bytes, format, "
        "snapshot_of, created_at) VALUES (:id, :name, :sr_id, :file, "
        ":size_bytes, :format, :snapshot_of, :created_at)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", d->id);
        db_bind_text(st, ":name", d->name);
        db_bind_text(st, ":sr_id", d->sr_id);
        db_bind_text(st, ":file", d->file);
        db_bind_int(st, ":size_bytes", d->size_bytes);
        db_bind_text(st, ":format", d->format[0] ? d->format : "raw");
        db_bind_text(st, ":snapshot_of",
                     d->snapshot_of[0] ? d->snapshot_of : NULL);
        db_bind_int(st, ":created_at", d->created_at);
    }
    rc = db_unique_err(db, db_exec_stmt(db, st, "insert disk"));
    db_unlock(db);
    return rc;
}

int db_disk_get(struct db *db, const char *id, struct db_disk *out)
{
    static const char sql[] =
        "SELECT " DISK_COLS " FROM disks d WHERE d.id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_one(db, st, "get disk", disk_row, out);
    db_unlock(db);
    return rc;
}

int db_disk_list(struct db *db, const char *sr_id, struct db_disk **list_out,
                 size_t *num_out)
{
    static const char sql_all[] =
        "SELECT " DISK_COLS " FROM disks d ORDER BY d.name, d.id";
    static const char sql_sr[] = "SELECT " DISK_COLS " FROM disks d "
                                 "WHERE d.sr_id = :sr_id ORDER BY d.name, d.id";
    sqlite3_stmt *st;
    void *list;
    int rc;

    db_lock(db);
    st = db_stmt(db, sr_id ? sql_sr : sql_all);
    if (st && sr_id)
        db_bind_text(st, ":sr_id", sr_id);
    rc = db_collect(db, st, "list disks", sizeof(struct db_disk), disk_row,
                    &list, num_out);
    db_unlock(db);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_disk_update(struct db *db, const struct db_disk *d)
{
    static const char sql[] = "UPDATE disks SET name = :name, "
                              "size_bytes = :size_bytes WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", d->id);
        db_bind_text(st, ":name", d->name);
        db_bind_int(st, ":size_bytes", d->size_bytes);
    }
    rc = db_unique_err(db, db_exec_stmt(db, st, "update disk"));
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_disk_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM disks WHERE id = :id";
    static const char attached[] =
        "SELECT count(*) FROM vm_disks WHERE disk_id = :id";
    static const char in_snap[] =
        "SELECT count(*) FROM vm_snapshot_disks WHERE disk_id = :id";
    int64_t a = 0, s = 0;
    int rc;

    db_lock(db);
    rc = db_count(db, attached, id, &a);
    if (!rc)
        rc = db_count(db, in_snap, id, &s);
    if (!rc && (a > 0 || s > 0))
        rc = ERR_CONFLICT;
    if (!rc)
        rc = db_delete_id(db, sql, id, "delete disk");
    db_unlock(db);
    return rc;
}

int db_disk_vm_state(struct db *db, const char *disk_id, char state_out[16])
{
    static const char sql[] =
        "SELECT v.state FROM vm_disks vd JOIN vms v ON v.id = vd.vm_id "
        "WHERE vd.disk_id = :id ORDER BY v.state = 'halted', v.id LIMIT 1";
    sqlite3_stmt *st;
    int rc;

    state_out[0] = '\0';
    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":id", disk_id);
    rc = db_step(db, st, "disk vm state");
    if (rc == 1) {
        db_col_text(st, 0, state_out, 16);
        rc = 0;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

/* ---- networks ---- */

static void net_row(sqlite3_stmt *st, void *p)
{
    struct db_network *n = p;

    memset(n, 0, sizeof(*n));
    db_col_text(st, 0, n->id, sizeof(n->id));
    db_col_text(st, 1, n->name, sizeof(n->name));
    db_col_text(st, 2, n->bridge, sizeof(n->bridge));
    n->mtu = sqlite3_column_int(st, 3);
    n->created_at = sqlite3_column_int64(st, 4);
}

int db_network_insert(struct db *db, const struct db_network *n)
{
    static const char sql[] = "INSERT INTO networks (" NET_COLS ") VALUES "
                              "(:id, :name, :bridge, :mtu, :created_at)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", n->id);
        db_bind_text(st, ":name", n->name);
        db_bind_text(st, ":bridge", n->bridge);
        db_bind_int(st, ":mtu", n->mtu);
        db_bind_int(st, ":created_at", n->created_at);
    }
    rc = db_unique_err(db, db_exec_stmt(db, st, "insert network"));
    db_unlock(db);
    return rc;
}

int db_network_get(struct db *db, const char *id, struct db_network *out)
{
    static const char sql[] =
        "SELECT " NET_COLS " FROM networks WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_one(db, st, "get network", net_row, out);
    db_unlock(db);
    return rc;
}

int db_network_list(struct db *db, struct db_network **list_out,
                    size_t *num_out)
{
    static const char sql[] = "SELECT " NET_COLS " FROM networks ORDER BY name";
    void *list;
    int rc;

    db_lock(db);
    rc = db_collect(db, db_stmt(db, sql), "list networks",
                    sizeof(struct db_network), net_row, &list, num_out);
    db_unlock(db);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_network_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM networks WHERE id = :id";
    static const char used[] =
        "SELECT count(*) FROM vm_nics WHERE network_id = :id";
    int64_t n = 0;
    int rc;

    db_lock(db);
    rc = db_count(db, used, id, &n);
    if (!rc && n > 0)
        rc = ERR_CONFLICT;
    if (!rc)
        rc = db_delete_id(db, sql, id, "delete network");
    db_unlock(db);
    return rc;
}

/* ---- pool ---- */

static void pool_row(sqlite3_stmt *st, void *p)
{
    struct db_pool *pl = p;

    memset(pl, 0, sizeof(*pl));
    db_col_text(st, 0, pl->id, sizeof(pl->id));
    db_col_text(st, 1, pl->name, sizeof(pl->name));
    db_col_text(st, 2, pl->description, sizeof(pl->description));
    db_col_text(st, 3, pl->default_sr, sizeof(pl->default_sr));
}

static int db_pool_create(struct db *db)
{
    static const char sql[] = "INSERT INTO pool (id, name, description) "
                              "VALUES (:id, :name, '')";
    char id[UUID_STRLEN], host[256] = "";
    sqlite3_stmt *st;

    uuid_generate(id);
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        xstrlcpy(host, "xenith", sizeof(host));
    host[64] = '\0';
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_text(st, ":name", host);
    }
    return db_exec_stmt(db, st, "create pool");
}

int db_pool_get(struct db *db, struct db_pool *out)
{
    static const char sql[] = "SELECT id, name, description, default_sr "
                              "FROM pool ORDER BY rowid LIMIT 1";
    int rc;

    db_lock(db);
    rc = db_one(db, db_stmt(db, sql), "get pool", pool_row, out);
    if (rc == ERR_NOTFOUND) {
        rc = db_pool_create(db);
        if (!rc)
            rc = db_one(db, db_stmt(db, sql), "get pool", pool_row, out);
    }
    db_unlock(db);
    return rc;
}

int db_pool_update(struct db *db, const struct db_pool *p)
{
    static const char sql[] = "UPDATE pool SET name = :name, description = "
                              ":description, default_sr = :default_sr "
                              "WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", p->id);
        db_bind_text(st, ":name", p->name);
        db_bind_text(st, ":description", p->description);
        db_bind_text(st, ":default_sr",
                     p->default_sr[0] ? p->default_sr : NULL);
    }
    rc = db_exec_stmt(db, st, "update pool");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}
