#include "db/db_tokens.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define TOKEN_COLS                                                   \
    "id, user_id, name, role, secret_hash, created_at, expires_at, " \
    "last_used"

int db_token_insert(struct db *db, const struct db_token *t)
{
    static const char sql[] =
        "INSERT INTO tokens (" TOKEN_COLS ") VALUES (:id, :user_id, :name, "
        ":role, :secret_hash, :created_at, :expires_at, NULL)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", t->id);
        db_bind_text(st, ":user_id", t->user_id);
        db_bind_text(st, ":name", t->name);
        db_bind_text(st, ":role", t->role);
        db_bind_text(st, ":secret_hash", t->secret_hash);
        db_bind_int(st, ":created_at", t->created_at);
        if (t->expires_at)
            db_bind_int(st, ":expires_at", t->expires_at);
        else
            db_bind_null(st, ":expires_at");
    }
    rc = db_exec_stmt(db, st, "insert token");
    db_unlock(db);
    return rc;
}

static void token_row(sqlite3_stmt *st, struct db_token *t)
{
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
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":h", secret_hash);
    rc = db_step(db, st, "get token");
    if (rc == 1) {
        token_row(st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

int db_token_list_user(struct db *db, const char *user_id,
                       struct db_token **list_out, size_t *num_out)
{
    static const char sql[] =
        "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = :user_id "
        "ORDER BY created_at DESC, rowid DESC";
    struct db_token *list = NULL;
    size_t num = 0, alloc = 0;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":user_id", user_id);
    while ((rc = db_step(db, st, "list tokens")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        token_row(st, &list[num++]);
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

int db_token_delete_own(struct db *db, const char *id, const char *user_id)
{
    static const char sql[] =
        "DELETE FROM tokens WHERE id = :id AND user_id = :user_id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_text(st, ":user_id", user_id);
    }
    rc = db_exec_stmt(db, st, "delete token");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_token_touch(struct db *db, const char *id, int64_t now)
{
    static const char sql[] =
        "UPDATE tokens SET last_used = :now WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_int(st, ":now", now);
    }
    rc = db_exec_stmt(db, st, "touch token");
    db_unlock(db);
    return rc;
}
