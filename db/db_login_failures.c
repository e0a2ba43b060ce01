#include "db/db_login_failures.h"

#include <stddef.h>

#include "db/db_internal.h"

static void failures_row(sqlite3_stmt *st, void *p)
{
    int64_t *v = p;

    v[0] = sqlite3_column_int64(st, 0);
    v[1] = sqlite3_column_int64(st, 1);
}

int db_login_failures_get(struct db *db, const char *key, int64_t *start_out,
                          int *failures_out)
{
    static const char sql[] = "SELECT window_start, failures FROM "
                              "login_failures WHERE key = :key";
    int64_t v[2];
    int rc = db_query_one(db, sql, "get login failures", failures_row, v,
                          DB_ARGS(DB_TEXT(":key", key)));

    if (rc)
        return rc;
    *start_out = v[0];
    *failures_out = (int)v[1];
    return 0;
}

int db_login_failures_add(struct db *db, const char *const *keys,
                          size_t num_keys, int64_t now, int64_t window_s)
{
    /* A window that ended (or starts in the future: the clock went
     * back) begins again at now. */
    static const char sql[] =
        "INSERT INTO login_failures (key, window_start, failures) "
        "VALUES (:key, :now, 1) ON CONFLICT (key) DO UPDATE SET "
        "failures = CASE WHEN :now - window_start >= :window "
        "OR window_start > :now THEN 1 ELSE failures + 1 END, "
        "window_start = CASE WHEN :now - window_start >= :window "
        "OR window_start > :now THEN :now ELSE window_start END";
    size_t i;
    int rc;

    rc = db_begin(db);
    if (rc)
        return rc;
    for (i = 0; i < num_keys; i++) {
        rc = db_exec(db, sql, "count a login failure",
                     DB_ARGS(DB_TEXT(":key", keys[i]), DB_INT(":now", now),
                             DB_INT(":window", window_s)));
        if (rc) {
            db_rollback(db);
            return rc;
        }
    }
    return db_commit(db);
}

int db_login_failures_clear(struct db *db, const char *key)
{
    static const char sql[] = "DELETE FROM login_failures WHERE key = :key";

    return db_exec(db, sql, "clear login failures",
                   DB_ARGS(DB_TEXT(":key", key)));
}

int db_login_failures_prune(struct db *db, int64_t before)
{
    static const char sql[] =
        "DELETE FROM login_failures WHERE window_start < :before";

    return db_exec(db, sql, "prune login failures",
                   DB_ARGS(DB_INT(":before", before)));
}
