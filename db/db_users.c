#include "db/db_users.h"

#include <string.h>

#include "common/err.h"
#include "db/db_internal.h"

#define USER_COLS                                                     \
    "id, username, pw_hash, role, must_change_password, created_at, " \
    "updated_at"

int db_user_insert(struct db *db, const struct db_user *u)
{
    static const char sql[] =
        "INSERT INTO users (" USER_COLS ") VALUES (:id, :username, "
        ":pw_hash, :role, :must, :created_at, :updated_at)";
    int rc;

    rc = db_exec(
        db, sql, "insert user",
        DB_ARGS(DB_TEXT(":id", u->id), DB_TEXT(":username", u->username),
                DB_TEXT(":pw_hash", u->pw_hash), DB_TEXT(":role", u->role),
                DB_INT(":must", u->must_change_password ? 1 : 0),
                DB_INT(":created_at", u->created_at),
                DB_INT(":updated_at", u->updated_at)));
    return rc == ERR_CONFLICT ? ERR_EXISTS : rc;
}

static void user_row(sqlite3_stmt *st, void *p)
{
    struct db_user *u = p;

    memset(u, 0, sizeof(*u));
    db_col_text(st, 0, u->id, sizeof(u->id));
    db_col_text(st, 1, u->username, sizeof(u->username));
    db_col_text(st, 2, u->pw_hash, sizeof(u->pw_hash));
    db_col_text(st, 3, u->role, sizeof(u->role));
    u->must_change_password = sqlite3_column_int(st, 4) != 0;
    u->created_at = sqlite3_column_int64(st, 5);
    u->updated_at = sqlite3_column_int64(st, 6);
}

int db_user_get(struct db *db, const char *id, struct db_user *out)
{
    static const char sql[] = "SELECT " USER_COLS " FROM users WHERE id = :key";

    return db_query_one(db, sql, "get user", user_row, out,
                        DB_ARGS(DB_TEXT(":key", id)));
}

int db_user_get_by_name(struct db *db, const char *username,
                        struct db_user *out)
{
    static const char sql[] =
        "SELECT " USER_COLS " FROM users WHERE username = :key";

    return db_query_one(db, sql, "get user", user_row, out,
                        DB_ARGS(DB_TEXT(":key", username)));
}

int db_user_list(struct db *db, struct db_user **list_out, size_t *num_out)
{
    static const char sql[] =
        "SELECT " USER_COLS " FROM users ORDER BY username";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "list users", user_row, NULL,
                       sizeof(**list_out), &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}

int db_user_count(struct db *db, const char *role, int64_t *count_out)
{
    static const char sql[] =
        "SELECT COUNT(*) FROM users WHERE :role IS NULL OR role = :role";

    return db_query_int(db, sql, "count users", count_out,
                        DB_ARGS(DB_TEXT(":role", role)));
}

int db_user_update(struct db *db, const struct db_user *u)
{
    static const char sql[] =
        "UPDATE users SET role = :role, must_change_password = :must, "
        "updated_at = :updated_at WHERE id = :id";

    return db_exec_one(db, sql, "update user",
                       DB_ARGS(DB_TEXT(":id", u->id), DB_TEXT(":role", u->role),
                               DB_INT(":must", u->must_change_password ? 1 : 0),
                               DB_INT(":updated_at", u->updated_at)));
}

int db_user_set_password(struct db *db, const char *id, const char *pw_hash,
                         int must_change, int64_t now)
{
    static const char sql[] =
        "UPDATE users SET pw_hash = :pw_hash, must_change_password = :must, "
        "updated_at = :now WHERE id = :id";

    return db_exec_one(db, sql, "set user password",
                       DB_ARGS(DB_TEXT(":id", id), DB_TEXT(":pw_hash", pw_hash),
                               DB_INT(":must", must_change ? 1 : 0),
                               DB_INT(":now", now)));
}

int db_user_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM users WHERE id = :id";

    return db_exec_one(db, sql, "delete user", DB_ARGS(DB_TEXT(":id", id)));
}
