#include "db/db_users.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define USER_COLS                                                     \
    "id, username, pw_hash, role, must_change_password, created_at, " \
    "updated_at"

int db_user_insert(struct db *db, const struct db_user *u)
{
    static const char sql[] =
        "INSERT INTO users (" USER_COLS ") VALUES (:id, :username, "
        ":pw_hash, :role, :must, :created_at, :updated_at)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", u->id);
        db_bind_text(st, ":username", u->username);
        db_bind_text(st, ":pw_hash", u->pw_hash);
        db_bind_text(st, ":role", u->role);
        db_bind_int(st, ":must", u->must_change_password ? 1 : 0);
        db_bind_int(st, ":created_at", u->created_at);
        db_bind_int(st, ":updated_at", u->updated_at);
    }
    rc = db_exec_stmt(db, st, "insert user");
    db_unlock(db);
    return rc == ERR_CONFLICT ? ERR_EXISTS : rc;
}

static void user_row(sqlite3_stmt *st, struct db_user *u)
{
    memset(u, 0, sizeof(*u));
    db_col_text(st, 0, u->id, sizeof(u->id));
    db_col_text(st, 1, u->username, sizeof(u->username));
    db_col_text(st, 2, u->pw_hash, sizeof(u->pw_hash));
    db_col_text(st, 3, u->role, sizeof(u->role));
    u->must_change_password = sqlite3_column_int(st, 4) != 0;
    u->created_at = sqlite3_column_int64(st, 5);
    u->updated_at = sqlite3_column_int64(st, 6);
}

/* Run a one-row SELECT of USER_COLS bound to :key. */
static int user_get_one(struct db *db, const char *sql, const char *key,
                        struct db_user *out)
{
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":key", key);
    rc = db_step(db, st, "get user");
    if (rc == 1) {
        user_row(st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

int db_user_get(struct db *db, const char *id, struct db_user *out)
{
    static const char sql[] = "SELECT " USER_COLS " FROM users WHERE id = :key";

    return user_get_one(db, sql, id, out);
}

int db_user_get_by_name(struct db *db, const char *username,
                        struct db_user *out)
{
    static const char sql[] =
        "SELECT " USER_COLS " FROM users WHERE username = :key";

    return user_get_one(db, sql, username, out);
}

int db_user_list(struct db *db, struct db_user **list_out, size_t *num_out)
{
    static const char sql[] =
        "SELECT " USER_COLS " FROM users ORDER BY username";
    struct db_user *list = NULL;
    size_t num = 0, alloc = 0;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    while ((rc = db_step(db, st, "list users")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        user_row(st, &list[num++]);
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

int db_user_count(struct db *db, const char *role, int64_t *count_out)
{
    static const char sql[] =
        "SELECT COUNT(*) FROM users WHERE :role IS NULL OR role = :role";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":role", role);
    rc = db_step(db, st, "count users");
    if (rc == 1) {
        *count_out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_INTERNAL;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

int db_user_update(struct db *db, const struct db_user *u)
{
    static const char sql[] =
        "UPDATE users SET role = :role, must_change_password = :must, "
        "updated_at = :updated_at WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", u->id);
        db_bind_text(st, ":role", u->role);
        db_bind_int(st, ":must", u->must_change_password ? 1 : 0);
        db_bind_int(st, ":updated_at", u->updated_at);
    }
    rc = db_exec_stmt(db, st, "update user");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_user_set_password(struct db *db, const char *id, const char *pw_hash,
                         int must_change, int64_t now)
{
    static const char sql[] =
        "UPDATE users SET pw_hash = :pw_hash, must_change_password = :must, "
        "updated_at = :now WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_text(st, ":pw_hash", pw_hash);
        db_bind_int(st, ":must", must_change ? 1 : 0);
        db_bind_int(st, ":now", now);
    }
    rc = db_exec_stmt(db, st, "set user password");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_user_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM users WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_exec_stmt(db, st, "delete user");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}
