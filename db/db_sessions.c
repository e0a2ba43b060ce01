#include "db/db_sessions.h"

#include <string.h>

#include "db/db_internal.h"

int db_session_insert(struct db *db, const struct db_session *s)
{
    static const char sql[] =
        "INSERT INTO sessions (id, user_id, csrf_token, source, created_at, "
        "last_seen, expires_at) VALUES (:id, :user_id, :csrf, :source, "
        ":created_at, :last_seen, :expires_at)";

    return db_exec(
        db, sql, "insert session",
        DB_ARGS(DB_TEXT(":id", s->id), DB_TEXT(":user_id", s->user_id),
                DB_TEXT(":csrf", s->csrf_token), DB_TEXT(":source", s->source),
                DB_INT(":created_at", s->created_at),
                DB_INT(":last_seen", s->last_seen),
                DB_INT(":expires_at", s->expires_at)));
}

static void session_row(sqlite3_stmt *st, void *p)
{
    struct db_session *s = p;

    memset(s, 0, sizeof(*s));
    db_col_text(st, 0, s->id, sizeof(s->id));
    db_col_text(st, 1, s->user_id, sizeof(s->user_id));
    db_col_text(st, 2, s->csrf_token, sizeof(s->csrf_token));
    db_col_text(st, 3, s->source, sizeof(s->source));
    s->created_at = sqlite3_column_int64(st, 4);
    s->last_seen = sqlite3_column_int64(st, 5);
    s->expires_at = sqlite3_column_int64(st, 6);
}

int db_session_get(struct db *db, const char *id, struct db_session *out)
{
    static const char sql[] =
        "SELECT id, user_id, csrf_token, source, created_at, last_seen, "
        "expires_at FROM sessions WHERE id = :id";

    return db_query_one(db, sql, "get session", session_row, out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_session_touch(struct db *db, const char *id, int64_t now)
{
    static const char sql[] =
        "UPDATE sessions SET last_seen = :now WHERE id = :id";

    return db_exec(db, sql, "touch session",
                   DB_ARGS(DB_TEXT(":id", id), DB_INT(":now", now)));
}

int db_session_delete(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM sessions WHERE id = :id";

    return db_exec_one(db, sql, "delete session", DB_ARGS(DB_TEXT(":id", id)));
}

int db_session_delete_user(struct db *db, const char *user_id,
                           const char *keep_id)
{
    static const char sql[] = "DELETE FROM sessions WHERE user_id = :user_id "
                              "AND (:keep IS NULL OR id != :keep)";

    return db_exec(
        db, sql, "delete user sessions",
        DB_ARGS(DB_TEXT(":user_id", user_id), DB_TEXT(":keep", keep_id)));
}

int db_session_prune(struct db *db, int64_t now, int64_t idle_before)
{
    static const char sql[] = "DELETE FROM sessions WHERE expires_at <= :now "
                              "OR last_seen < :idle_before";

    return db_exec(
        db, sql, "prune sessions",
        DB_ARGS(DB_INT(":now", now), DB_INT(":idle_before", idle_before)));
}

int db_session_count_active(struct db *db, int64_t now, int64_t idle_before,
                            int64_t *count_out)
{
    static const char sql[] =
        "SELECT COUNT(*) FROM sessions WHERE expires_at > :now "
        "AND last_seen >= :idle_before";

    return db_query_int(
        db, sql, "count sessions", count_out,
        DB_ARGS(DB_INT(":now", now), DB_INT(":idle_before", idle_before)));
}
