#include "db/db_backup_repos.h"

#include <string.h>

#include "common/err.h"
#include "db/db_internal.h"

#define REPO_COLS                                                       \
    "id, name, path, encrypted, passphrase_sealed, compression_level, " \
    "created_at"

static void repo_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_repo *r = p;

    memset(r, 0, sizeof(*r));
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->name, sizeof(r->name));
    db_col_text(st, 2, r->path, sizeof(r->path));
    r->encrypted = sqlite3_column_int(st, 3) != 0;
    db_col_text(st, 4, r->passphrase_sealed, sizeof(r->passphrase_sealed));
    r->compression_level = sqlite3_column_int(st, 5);
    r->created_at = sqlite3_column_int64(st, 6);
}

int db_backup_repo_insert(struct db *db, const struct db_backup_repo *r)
{
    static const char sql[] =
        "INSERT INTO backup_repos (" REPO_COLS ") VALUES (:id, :name, :path, "
        ":encrypted, :sealed, :level, :created_at)";

    return db_exec_unique(
        db, sql, "insert backup repo",
        DB_ARGS(DB_TEXT(":id", r->id), DB_TEXT(":name", r->name),
                DB_TEXT(":path", r->path), DB_INT(":encrypted", r->encrypted),
                DB_TEXT_OR_NULL(":sealed", r->passphrase_sealed),
                DB_INT(":level", r->compression_level),
                DB_INT(":created_at", r->created_at)));
}

int db_backup_repo_get(struct db *db, const char *id,
                       struct db_backup_repo *out)
{
    static const char sql[] =
        "SELECT " REPO_COLS " FROM backup_repos WHERE id = :id";

    return db_query_one(db, sql, "get backup repo", repo_row, out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_backup_repo_list(struct db *db, struct db_backup_repo **list_out,
                        size_t *num_out)
{
    static const char sql[] =
        "SELECT " REPO_COLS " FROM backup_repos ORDER BY name";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "list backup repos", repo_row, NULL,
                       sizeof(**list_out), &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_backup_repo_update(struct db *db, const struct db_backup_repo *r)
{
    static const char sql[] = "UPDATE backup_repos SET name = :name, "
                              "passphrase_sealed = :sealed WHERE id = :id";
    int rc;

    db_lock(db); /* db_changes() must see this statement */
    rc = db_exec_unique(
        db, sql, "update backup repo",
        DB_ARGS(DB_TEXT(":id", r->id), DB_TEXT(":name", r->name),
                DB_TEXT_OR_NULL(":sealed", r->passphrase_sealed)));
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_backup_repo_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM backup_repos WHERE id = :id";

    return db_exec_one(db, sql, "delete backup repo",
                       DB_ARGS(DB_TEXT(":id", id)));
}
