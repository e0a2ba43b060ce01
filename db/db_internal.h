/* db_internal.h: shared plumbing for the db_<table>.c files only (never
 * outside db/).
 *
 * Two layers. The query helpers (db_exec, db_query_one, ...) run one
 * statement from start to end: they take and drop the lock themselves,
 * prepare (cached), bind, step, copy rows out and reset. A db_<table>.c
 * function is normally one call to one of them. The statement layer
 * below them (db_stmt, db_step, ...) is for what they cannot say; its
 * caller holds the lock. The lock is recursive, so a function that
 * needs several statements to see one state (or db_changes() after a
 * helper) holds it around the helpers, and every helper works inside a
 * caller's db_begin(). */
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

/* ---- query helpers (db_query.c); each takes the lock itself ---- */

/* One named parameter. Build them with the macros below, inside
 * DB_ARGS(...), which passes (array, count) to a helper:
 *   db_exec_one(db, sql, "delete user", DB_ARGS(DB_TEXT(":id", id)));
 * A name the statement lacks aborts (a programmer error). */
enum db_arg_type {
    DB_ARG_TEXT,         /* text; NULL binds SQL NULL */
    DB_ARG_TEXT_OR_NULL, /* text; NULL or "" binds SQL NULL */
    DB_ARG_INT,          /* int64 */
    DB_ARG_INT_OR_NULL,  /* int64; 0 binds SQL NULL */
    DB_ARG_DOUBLE,
};

struct db_arg {
    const char *name; /* ":name" */
    enum db_arg_type type;
    const char *text; /* **borrowed** until the helper returns */
    int64_t i;
    double d;
};

#define DB_TEXT(n, v) ((struct db_arg){ (n), DB_ARG_TEXT, (v), 0, 0 })
#define DB_TEXT_OR_NULL(n, v) \
    ((struct db_arg){ (n), DB_ARG_TEXT_OR_NULL, (v), 0, 0 })
#define DB_INT(n, v) ((struct db_arg){ (n), DB_ARG_INT, NULL, (v), 0 })
#define DB_INT_OR_NULL(n, v) \
    ((struct db_arg){ (n), DB_ARG_INT_OR_NULL, NULL, (v), 0 })
#define DB_DOUBLE(n, v) ((struct db_arg){ (n), DB_ARG_DOUBLE, NULL, 0, (v) })

#define DB_ARGS(...)                        \
    (const struct db_arg[]){ __VA_ARGS__ }, \
        sizeof((const struct db_arg[]){ __VA_ARGS__ }) / sizeof(struct db_arg)
#define DB_NOARGS NULL, 0

/* Copies the current row of st into out (a struct of the caller's
 * type, or the caller's context for db_query_each). */
typedef void (*db_row_fn)(sqlite3_stmt *st, void *out);

/* In every helper: sql is a string literal (see db_stmt), what names
 * the operation in the log, and the result is 0 or an enum err (a
 * statement that cannot be prepared is ERR_INTERNAL; a failed step is
 * mapped as db_step does). */

/* Run a statement that returns no rows. */
int db_exec(struct db *db, const char *sql, const char *what,
            const struct db_arg *args, size_t nargs);

/* db_exec, but ERR_NOTFOUND when it changed no row. */
int db_exec_one(struct db *db, const char *sql, const char *what,
                const struct db_arg *args, size_t nargs);

/* db_exec, but a UNIQUE or PRIMARY KEY clash is ERR_EXISTS (see
 * db_unique_err; other constraints stay ERR_CONFLICT). */
int db_exec_unique(struct db *db, const char *sql, const char *what,
                   const struct db_arg *args, size_t nargs);

/* The first row through fn into out; ERR_NOTFOUND when there is none
 * (out untouched then). */
int db_query_one(struct db *db, const char *sql, const char *what, db_row_fn fn,
                 void *out, const struct db_arg *args, size_t nargs);

/* Every row through fn(st, ctx), in order. */
int db_query_each(struct db *db, const char *sql, const char *what,
                  db_row_fn fn, void *ctx, const struct db_arg *args,
                  size_t nargs);

/* Every row through fn into a **new** array of elem_size elements:
 * *list_out (NULL when no rows) and *num_out. On error both are left
 * untouched and the rows read so far are freed, each through release
 * first when it is not NULL. */
int db_query_list(struct db *db, const char *sql, const char *what,
                  db_row_fn fn, void (*release)(void *), size_t elem_size,
                  void **list_out, size_t *num_out, const struct db_arg *args,
                  size_t nargs);

/* Column 0 of the first row into *out; ERR_NOTFOUND when there is no
 * row (never for an aggregate such as COUNT(*)). */
int db_query_int(struct db *db, const char *sql, const char *what, int64_t *out,
                 const struct db_arg *args, size_t nargs);

/* Column 0 of the first row as text into out[cap] ("" for NULL);
 * ERR_NOTFOUND when there is no row (out untouched then). */
int db_query_text(struct db *db, const char *sql, const char *what, char *out,
                  size_t cap, const struct db_arg *args, size_t nargs);

/* ---- statement layer (db.c); the caller holds the lock ---- */

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
