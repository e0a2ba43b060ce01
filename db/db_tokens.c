#include "db/db_tokens.h"

#include <string.h>

#include "db/db_internal.h"

#define TOKEN_COLS                                                   \
    "id, user_id, name, role, secret_hash, created_at, expires_at, " \
    "last_used"

int db_token_insert(struct db *db, const struct db_token *t)
{
    static const char sql[] =
        "INSERT INTO tokens (" TOKEN_COLS ") VALUES (:id, :user_id, :name, "
        ":role, :secret_hash, :created_at, :expires_at, NULL)";

    return db_exec(db, sql, "insert token",
                   DB_ARGS(DB_TEXT(":id", t->id),
                           DB_TEXT(":user_id", t->user_id),
                           DB_TEXT(":name", t->name), DB_TEXT(":role", t->role),
                           DB_TEXT(":secret_hash", t->secret_hash),
                           DB_INT(":created_at", t->created_at),
                           DB_INT_OR_NULL(":expires_at", t->expires_at)));
}

static void token_row(sqlite3_stmt *st, void *p)
{
    struct db_token *t = p;

    memset(t, 0, sizeof(*t));
    db_col_text(st, 0, t->id, sizeof(t->id));
    db_col_text(st, 1, t->user_id, sizeof(t->user_id));
    db_col_text(st, 2, t->name, sizeof(t->name));
    db_col_text(st, 3, t->role, sizeof(t->role));
    db_col_text(st, 4, t->secret_hash, sizeof(t->secret_hash));
    t->created_at = sqlite3_column_int64(st, 5);
    t->expires_at = sqlite3_column_int64(st, 6);
    t->last_used = sqlite3_column_int64(st, 7);
}

int db_token_get_by_hash(struct db *db, const char *secret_hash,
                         struct db_token *out)
{
    static const char sql[] =
        "SELECT " TOKEN_COLS " FROM tokens WHERE secret_hash = :h";

    return db_query_one(db, sql, "get token", token_row, out,
                        DB_ARGS(DB_TEXT(":h", secret_hash)));
}

int db_token_list_user(struct db *db, const char *user_id,
                       struct db_token **list_out, size_t *num_out)
{
    static const char sql[] =
        "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = :user_id "
        "ORDER BY created_at DESC, rowid DESC";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "list tokens", token_row, NULL,
                       sizeof(**list_out), &list, num_out,
                       DB_ARGS(DB_TEXT(":user_id", user_id)));
    if (!rc)
        *list_out = list;
    return rc;
}

int db_token_delete_own(struct db *db, const char *id, const char *user_id)
{
    static const char sql[] =
        "DELETE FROM tokens WHERE id = :id AND user_id = :user_id";

    return db_exec_one(
        db, sql, "delete token",
        DB_ARGS(DB_TEXT(":id", id), DB_TEXT(":user_id", user_id)));
}

int db_token_touch(struct db *db, const char *id, int64_t now)
{
    static const char sql[] =
        "UPDATE tokens SET last_used = :now WHERE id = :id";

    return db_exec(db, sql, "touch token",
                   DB_ARGS(DB_TEXT(":id", id), DB_INT(":now", now)));
}
