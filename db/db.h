/* db.h: xenith's state database (SQLite, WAL, foreign keys on).
 *
 * The only code that speaks SQL is in db/. Each table has its own
 * db_<table>.h with one function per query, typed structs in and out;
 * ERR_NOTFOUND means no row. This header has the connection itself.
 *
 * Threads: one connection guarded by a recursive mutex; every function
 * is thread safe. db_begin() takes the lock until db_commit() or
 * db_rollback(), so a multi-row change is atomic and isolated.
 */
#ifndef XENITH_DB_DB_H
#define XENITH_DB_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Open (creating if needed) the database at path, set WAL, foreign
 * keys and a busy timeout, and apply every migration newer than the
 * file's user_version, each in its own transaction. */
int db_open(const char *path, struct db **db_out);
void db_close(struct db *db); /* NULL ok */

int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* PRAGMA user_version, i.e. the number of migrations applied. */
int db_schema_version(struct db *db);

/* Number of migrations compiled into this binary. */
int db_latest_version(void);

/* A number that changes whenever any row of the database has been
 * written (or a write was rolled back) since open: a cheap, conservative
 * cache key for data read from the database. */
uint64_t db_change_count(struct db *db);

/* Key/value settings. get: ERR_NOTFOUND when absent; out[cap]. */
int db_setting_get(struct db *db, const char *key, char *out, size_t cap);
int db_setting_set(struct db *db, const char *key, const char *value);

/* Fault injection for tests: the next `count` statements whose SQL
 * contains `needle` fail with ERR_IO (needle NULL clears). */
void db_inject_failure(struct db *db, const char *needle, int count);

#endif
