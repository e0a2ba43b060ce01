/* db_internal.h: shared plumbing for the db_<table>.c files only (never
 * outside db/). The caller of any function here holds the lock. */
#ifndef XENITH_DB_DB_INTERNAL_H
#define XENITH_DB_DB_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct db_migration db_migrations[]; /* build/gen */
extern const size_t db_num_migrations;

void db_lock(struct db *db);
void db_unlock(struct db *db);

/* The prepared statement for sql, cached per connection and reset with
 * bindings cleared. sql must be a string literal (the cache keys on the
 * pointer). NULL on error (logged). **borrowed** */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* Bind by name (":name"); text NULL binds SQL NULL. */
void db_bind_text(sqlite3_stmt *st, const char *name, const char *v);
void db_bind_int(sqlite3_stmt *st, const char *name, int64_t v);
void db_bind_double(sqlite3_stmt *st, const char *name, double v);
void db_bind_null(sqlite3_stmt *st, const char *name);

/* sqlite3_step wrapper: SQLITE_ROW -> 1, SQLITE_DONE -> 0, else an
 * enum err (constraint -> ERR_CONFLICT, full -> ERR_NOSPACE, ...),
 * logged with what. Honours db_inject_failure. */
int db_step(struct db *db, sqlite3_stmt *st, const char *what);

/* Run a statement that returns no rows: 0 or an enum err. */
int db_exec_stmt(struct db *db, sqlite3_stmt *st, const char *what);

/* Copy a text column into out[cap] ("" for NULL). */
void db_col_text(sqlite3_stmt *st, int col, char *out, size_t cap);

/* A text column as **new** string ("" for NULL). */
char *db_col_strdup(sqlite3_stmt *st, int col);

/* For an error of the last statement: ERR_EXISTS when rc is
 * ERR_CONFLICT from a UNIQUE or PRIMARY KEY constraint, else rc (a
 * FOREIGN KEY or CHECK failure stays ERR_CONFLICT). */
int db_unique_err(struct db *db, int rc);

/* Rows changed by the last statement. */
int db_changes(struct db *db);

#endif
