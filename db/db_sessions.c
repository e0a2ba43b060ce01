#include "db/db_sessions.h"

#include <string.h>

#include "common/err.h"
#include "db/db_internal.h"

int db_session_insert(struct db *db, const struct db_session *s)
{
    static const char sql[] =
        "INSERT INTO sessions (id, user_id, csrf_token, source, created_at, "
        "last_seen, expires_at) VALUES (:id, :user_id, :csrf, :source, "
        ":created_at, :last_seen, :expires_at)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", s->id);
        db_bind_text(st, ":user_id", s->user_id);
        db_bind_text(st, ":csrf", s->csrf_token);
        db_bind_text(st, ":source", s->source);
        db_bind_int(st, ":created_at", s->created_at);
        db_bind_int(st, ":last_seen", s->last_seen);
        db_bind_int(st, ":expires_at", s->expires_at);
    }
    rc = db_exec_stmt(db, st, "insert session");
    db_unlock(db);
    return rc;
}

int db_session_get(struct db *db, const char *id, struct db_session *out)
{
    static const char sql[] =
        "SELECT id, user_id, csrf_token, source, created_at, last_seen, "
        "expires_at FROM sessions WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":id", id);
    rc = db_step(db, st, "get session");
    if (rc == 1) {
        memset(out, 0, sizeof(*out));
        db_col_text(st, 0, out->id, sizeof(out->id));
        db_col_text(st, 1, out->user_id, sizeof(out->user_id));
        db_col_text(st, 2, out->csrf_token, sizeof(out->csrf_token));
        db_col_text(st, 3, out->source, sizeof(out->source));
        out->created_at = sqlite3_column_int64(st, 4);
        out->last_seen = sqlite3_column_int64(st, 5);
        out->expires_at = sqlite3_column_int64(st, 6);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

int db_session_touch(struct db *db, const char *id, int64_t now)
{
    static const char sql[] =
        "UPDATE sessions SET last_seen = :now WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_int(st, ":now", now);
    }
    rc = db_exec_stmt(db, st, "touch session");
    db_unlock(db);
    return rc;
}

int db_session_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM sessions WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        db_bind_text(st, ":id", id);
    rc = db_exec_stmt(db, st, "delete session");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_session_delete_user(struct db *db, const char *user_id,
                           const char *keep_id)
{
    static const char sql[] = "DELETE FROM sessions WHERE user_id = :user_id "
                              "AND (:keep IS NULL OR id != :keep)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, ":user_id", user_id);
        db_bind_text(st, ":keep", keep_id);
    }
    rc = db_exec_stmt(db, st, "delete user sessions");
    db_unlock(db);
    return rc;
}

int db_session_prune(struct db *db, int64_t now, int64_t idle_before)
{
    static const char sql[] = "DELETE FROM sessions WHERE expires_at <= :now "
                              "OR last_seen < :idle_before";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_int(st, ":now", now);
        db_bind_int(st, ":idle_before", idle_before);
    }
    rc = db_exec_stmt(db, st, "prune sessions");
    db_unlock(db);
    return rc;
}

int db_session_count_active(struct db *db, int64_t now, int64_t idle_before,
                            int64_t *count_out)
{
    static const char sql[] =
        "SELECT COUNT(*) FROM sessions WHERE expires_at > :now "
        "AND last_seen >= :idle_before";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_int(st, ":now", now);
    db_bind_int(st, ":idle_before", idle_before);
    rc = db_step(db, st, "count sessions");
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
