#include "db/db_storage.h"

#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define SR_COLS  "id, name, type, path, created_at"
#define NET_COLS "id, name, bridge, mtu, created_at, bridge_owned"
#define DISK_COLS                                                        \
    "d.id, d.name, d.sr_id, d.file, d.size_bytes, d.format, "            \
    "d.snapshot_of, d.created_at, "                                      \
    "(SELECT vm_id FROM vm_disks WHERE disk_id = d.id ORDER BY vm_id, "  \
    "device LIMIT 1), "                                                  \
    "(SELECT device FROM vm_disks WHERE disk_id = d.id ORDER BY vm_id, " \
    "device LIMIT 1)"

/* Delete row id with del unless one of the counts used[] (each a
 * "SELECT count(*) ... :id") is above zero: ERR_CONFLICT then, and
 * ERR_NOTFOUND when there is no such row. Under one lock, so no
 * reference can appear between the counts and the delete. */
static int delete_unused(struct db *db, const char *id, const char *del,
                         const char *what, const char *const used[],
                         size_t num_used)
{
    int64_t n = 0;
    size_t i;
    int rc = 0;

    db_lock(db);
    for (i = 0; !rc && i < num_used; i++) {
        rc = db_query_int(db, used[i], "count references", &n,
                          DB_ARGS(DB_TEXT(":id", id)));
        if (!rc && n > 0)
            rc = ERR_CONFLICT;
    }
    if (!rc)
        rc = db_exec_one(db, del, what, DB_ARGS(DB_TEXT(":id", id)));
    db_unlock(db);
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

    return db_exec_unique(
        db, sql, "insert sr",
        DB_ARGS(DB_TEXT(":id", sr->id), DB_TEXT(":name", sr->name),
                DB_TEXT(":type", sr->type), DB_TEXT(":path", sr->path),
                DB_INT(":created_at", sr->created_at)));
}

int db_sr_get(struct db *db, const char *id, struct db_sr *out)
{
    static const char sql[] = "SELECT " SR_COLS " FROM srs WHERE id = :id";

    return db_query_one(db, sql, "get sr", sr_row, out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_sr_list(struct db *db, struct db_sr **list_out, size_t *num_out)
{
    static const char sql[] = "SELECT " SR_COLS " FROM srs ORDER BY name";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "list srs", sr_row, NULL, sizeof(**list_out),
                       &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_sr_disk_count(struct db *db, const char *id, int64_t *count_out)
{
    static const char sql[] = "SELECT count(*) FROM disks WHERE sr_id = :id";

    return db_query_int(db, sql, "count references", count_out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_sr_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM srs WHERE id = :id";
    static const char used[] = "SELECT count(*) FROM disks WHERE sr_id = :id";
    static const char *const counts[] = { used };

    return delete_unused(db, id, sql, "delete sr", counts, 1);
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

    return db_exec_unique(
        db, sql, "insert disk",
        DB_ARGS(DB_TEXT(":id", d->id), DB_TEXT(":name", d->name),
                DB_TEXT(":sr_id", d->sr_id), DB_TEXT(":file", d->file),
                DB_INT(":size_bytes", d->size_bytes),
                DB_TEXT(":format", d->format[0] ? d->format : "raw"),
                DB_TEXT_OR_NULL(":snapshot_of", d->snapshot_of),
                DB_INT(":created_at", d->created_at)));
}

int db_disk_get(struct db *db, const char *id, struct db_disk *out)
{
    static const char sql[] =
        "SELECT " DISK_COLS " FROM disks d WHERE d.id = :id";

    return db_query_one(db, sql, "get disk", disk_row, out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_disk_list(struct db *db, const char *sr_id, struct db_disk **list_out,
                 size_t *num_out)
{
    static const char sql_all[] =
        "SELECT " DISK_COLS " FROM disks d ORDER BY d.name, d.id";
    static const char sql_sr[] = "SELECT " DISK_COLS " FROM disks d "
                                 "WHERE d.sr_id = :sr_id ORDER BY d.name, d.id";
    void *list;
    int rc;

    if (sr_id)
        rc = db_query_list(db, sql_sr, "list disks", disk_row, NULL,
                           sizeof(**list_out), &list, num_out,
                           DB_ARGS(DB_TEXT(":sr_id", sr_id)));
    else
        rc = db_query_list(db, sql_all, "list disks", disk_row, NULL,
                           sizeof(**list_out), &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_disk_update(struct db *db, const struct db_disk *d)
{
    static const char sql[] = "UPDATE disks SET name = :name, "
                              "size_bytes = :size_bytes WHERE id = :id";
    int rc;

    db_lock(db); /* db_changes() must see this statement */
    rc =
        db_exec_unique(db, sql, "update disk",
                       DB_ARGS(DB_TEXT(":id", d->id), DB_TEXT(":name", d->name),
                               DB_INT(":size_bytes", d->size_bytes)));
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
    static const char *const counts[] = { attached, in_snap };

    return delete_unused(db, id, sql, "delete disk", counts, 2);
}

int db_disk_vm_state(struct db *db, const char *disk_id, char state_out[16])
{
    static const char sql[] =
        "SELECT v.state FROM vm_disks vd JOIN vms v ON v.id = vd.vm_id "
        "WHERE vd.disk_id = :id ORDER BY v.state = 'halted', v.id LIMIT 1";
    int rc;

    state_out[0] = '\0';
    rc = db_query_text(db, sql, "disk vm state", state_out, 16,
                       DB_ARGS(DB_TEXT(":id", disk_id)));
    return rc == ERR_NOTFOUND ? 0 : rc;
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
    n->bridge_owned = sqlite3_column_int(st, 5) != 0;
}

int db_network_insert(struct db *db, const struct db_network *n)
{
    static const char sql[] = "INSERT INTO networks (" NET_COLS ") VALUES "
                              "(:id, :name, :bridge, :mtu, :created_at, "
                              ":owned)";

    return db_exec_unique(
        db, sql, "insert network",
        DB_ARGS(DB_TEXT(":id", n->id), DB_TEXT(":name", n->name),
                DB_TEXT(":bridge", n->bridge), DB_INT(":mtu", n->mtu),
                DB_INT(":created_at", n->created_at),
                DB_INT(":owned", n->bridge_owned != 0)));
}

int db_network_get(struct db *db, const char *id, struct db_network *out)
{
    static const char sql[] =
        "SELECT " NET_COLS " FROM networks WHERE id = :id";

    return db_query_one(db, sql, "get network", net_row, out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_network_list(struct db *db, struct db_network **list_out,
                    size_t *num_out)
{
    static const char sql[] = "SELECT " NET_COLS " FROM networks ORDER BY name";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "list networks", net_row, NULL,
                       sizeof(**list_out), &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}

static const char net_used[] =
    "SELECT count(*) FROM vm_nics WHERE network_id = :id";

int db_network_num_nics(struct db *db, const char *id, int64_t *num_out)
{
    return db_query_int(db, net_used, "count network nics", num_out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_network_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM networks WHERE id = :id";
    static const char *const counts[] = { net_used };

    return delete_unused(db, id, sql, "delete network", counts, 1);
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

    uuid_generate(id);
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        xstrlcpy(host, "xenith", sizeof(host));
    host[64] = '\0';
    return db_exec(db, sql, "create pool",
                   DB_ARGS(DB_TEXT(":id", id), DB_TEXT(":name", host)));
}

int db_pool_get(struct db *db, struct db_pool *out)
{
    static const char sql[] = "SELECT id, name, description, default_sr "
                              "FROM pool ORDER BY rowid LIMIT 1";
    int rc;

    db_lock(db); /* one thread creates the row */
    rc = db_query_one(db, sql, "get pool", pool_row, out, DB_NOARGS);
    if (rc == ERR_NOTFOUND) {
        rc = db_pool_create(db);
        if (!rc)
            rc = db_query_one(db, sql, "get pool", pool_row, out, DB_NOARGS);
    }
    db_unlock(db);
    return rc;
}

int db_pool_update(struct db *db, const struct db_pool *p)
{
    static const char sql[] = "UPDATE pool SET name = :name, description = "
                              ":description, default_sr = :default_sr "
                              "WHERE id = :id";

    return db_exec_one(db, sql, "update pool",
                       DB_ARGS(DB_TEXT(":id", p->id), DB_TEXT(":name", p->name),
                               DB_TEXT(":description", p->description),
                               DB_TEXT_OR_NULL(":default_sr", p->default_sr)));
}
