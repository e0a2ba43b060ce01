#include "db/db.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

struct db_stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct db {
    sqlite3 *conn;
    pthread_mutex_t mu;
    struct db_stmt_slot *cache; /* grows; statements live until close */
    size_t num_cache;
    size_t alloc_cache;
    char *fail_needle;
    int fail_count;
};

void db_lock(struct db *db)
{
    pthread_mutex_lock(&db->mu);
}

void db_unlock(struct db *db)
{
    pthread_mutex_unlock(&db->mu);
}

static int db_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
        return 0;
    case SQLITE_CONSTRAINT:
        return ERR_CONFLICT;
    case SQLITE_FULL:
        return ERR_NOSPACE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_BUSY;
    case SQLITE_NOTFOUND:
        return ERR_NOTFOUND;
    default:
        return ERR_IO;
    }
}

static int db_exec_sql(struct db *db, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->conn, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        log_error("db: %s failed: %s", what, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return db_map_rc(rc);
    }
    return 0;
}

int db_schema_version(struct db *db)
{
    sqlite3_stmt *st;
    int v = -1;

    db_lock(db);
    if (sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    db_unlock(db);
    return v;
}

uint64_t db_change_count(struct db *db)
{
    uint64_t n;

    db_lock(db);
    n = (uint64_t)sqlite3_total_changes64(db->conn);
    db_unlock(db);
    return n;
}

int db_latest_version(void)
{
    return (int)db_num_migrations;
}

static int db_migrate(struct db *db)
{
    int cur = db_schema_version(db);
    size_t i;
    int rc;

    if (cur < 0)
        return ERR_IO;
    if (cur > (int)db_num_migrations) {
        log_error("db: schema version %d is newer than this xenithd (%zu)", cur,
                  db_num_migrations);
        return ERR_INVALID;
    }
    for (i = (size_t)cur; i < db_num_migrations; i++) {
        const struct db_migration *m = &db_migrations[i];
        char *ver = xasprintf("PRAGMA user_version = %d", m->version);

        rc = db_exec_sql(db, "BEGIN IMMEDIATE", "begin migration");
        if (!rc)
            rc = db_exec_sql(db, m->sql, m->name);
        if (!rc)
            rc = db_exec_sql(db, ver, "set user_version");
        free(ver);
        if (rc) {
            db_exec_sql(db, "ROLLBACK", "rollback migration");
            return rc;
        }
        rc = db_exec_sql(db, "COMMIT", "commit migration");
        if (rc)
            return rc;
        log_info("db: applied migration %s", m->name);
    }
    return 0;
}

int db_open(const char *path, struct db **db_out)
{
    pthread_mutexattr_t attr;
    struct db *db = xcalloc(1, sizeof(*db));
    int rc;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&db->mu, &attr);
    pthread_mutexattr_destroy(&attr);

    rc = sqlite3_open_v2(path, &db->conn,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_FULLMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        log_error("db: cannot open %s: %s", path, sqlite3_errstr(rc));
        rc = db_map_rc(rc);
        goto out;
    }
    sqlite3_busy_timeout(db->conn, 5000);
    rc = db_exec_sql(db,
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;",
                     "pragmas");
    if (rc)
        goto out;
    rc = db_migrate(db);
    if (rc)
        goto out;
    *db_out = db;
    db = NULL;
    rc = 0;
out:
    db_close(db);
    return rc;
}

void db_close(struct db *db)
{
    size_t i;

    if (!db)
        return;
    for (i = 0; i < db->num_cache; i++)
        sqlite3_finalize(db->cache[i].st);
    free(db->cache);
    if (db->conn)
        sqlite3_close(db->conn);
    pthread_mutex_destroy(&db->mu);
    free(db->fail_needle);
    free(db);
}

int db_begin(struct db *db)
{
    int rc;

    db_lock(db);
    rc = db_exec_sql(db, "BEGIN IMMEDIATE", "begin");
    if (rc)
        db_unlock(db);
    return rc;
}

int db_commit(struct db *db)
{
    int rc = db_exec_sql(db, "COMMIT", "commit");

    if (rc)
        db_exec_sql(db, "ROLLBACK", "rollback after failed commit");
    db_unlock(db);
    return rc;
}

void db_rollback(struct db *db)
{
    db_exec_sql(db, "ROLLBACK", "rollback");
    db_unlock(db);
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;

    for (i = 0; i < db->num_cache; i++) {
        if (db->cache[i].sql == sql) {
            st = db->cache[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    rc = sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                            NULL);
    if (rc != SQLITE_OK) {
        log_error("db: prepare failed: %s: %s", sqlite3_errmsg(db->conn), sql);
        return NULL;
    }
    if (db->num_cache == db->alloc_cache) {
        db->alloc_cache = db->alloc_cache ? db->alloc_cache * 2 : 64;
        db->cache = xrealloc(db->cache, db->alloc_cache * sizeof(*db->cache));
    }
    db->cache[db->num_cache].sql = sql;
    db->cache[db->num_cache].st = st;
    db->num_cache++;
    return st;
}

static int db_param(sqlite3_stmt *st, const char *name)
{
    int idx = sqlite3_bind_parameter_index(st, name);

    if (idx == 0) {
        log_error("db: no parameter %s in: %s", name, sqlite3_sql(st));
        abort();
    }
    return idx;
}

void db_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
    if (v)
        sqlite3_bind_text(st, db_param(st, name), v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, db_param(st, name));
}

void db_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    sqlite3_bind_int64(st, db_param(st, name), v);
}

void db_bind_double(sqlite3_stmt *st, const char *name, double v)
{
    sqlite3_bind_double(st, db_param(st, name), v);
}

void db_bind_null(sqlite3_stmt *st, const char *name)
{
    sqlite3_bind_null(st, db_param(st, name));
}

int db_step(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc;

    if (db->fail_needle && db->fail_count > 0 &&
        strstr(sqlite3_sql(st), db->fail_needle)) {
        db->fail_count--;
        log_warn("db: %s failed: injected failure", what);
        return ERR_IO;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        log_error("db: %s failed: %s", what, sqlite3_errmsg(db->conn));
    sqlite3_reset(st);
    return db_map_rc(rc);
}

int db_exec_stmt(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc;

    if (!st)
        return ERR_INTERNAL;
    rc = db_step(db, st, what);
    sqlite3_reset(st);
    return rc > 0 ? 0 : rc;
}

void db_col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    xstrlcpy(out, t ? (const char *)t : "", cap);
}

char *db_col_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return xstrdup(t ? (const char *)t : "");
}

int db_unique_err(struct db *db, int rc)
{
    int ext;

    if (rc != ERR_CONFLICT)
        return rc;
    ext = sqlite3_extended_errcode(db->conn);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return ERR_EXISTS;
    return rc;
}

int db_changes(struct db *db)
{
    return sqlite3_changes(db->conn);
}

void db_inject_failure(struct db *db, const char *needle, int count)
{
    db_lock(db);
    free(db->fail_needle);
    db->fail_needle = needle ? xstrdup(needle) : NULL;
    db->fail_count = needle ? count : 0;
    db_unlock(db);
}

int db_setting_get(struct db *db, const char *key, char *out, size_t cap)
{
    static const char sql[] = "SELECT value FROM settings WHERE key = :key";

    return db_query_text(db, sql, "get setting", out, cap,
                         DB_ARGS(DB_TEXT(":key", key)));
}

int db_setting_set(struct db *db, const char *key, const char *value)
{
    static const char sql[] =
        "INSERT INTO settings (key, value) VALUES (:key, :value) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

    return db_exec(db, sql, "set setting",
                   DB_ARGS(DB_TEXT(":key", key), DB_TEXT(":value", value)));
}
