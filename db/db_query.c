/* db_query.c: the query helpers of db_internal.h. Each runs one
 * statement under the (recursive) lock: prepare from the cache, bind
 * the named arguments, step, hand rows to a db_row_fn, reset. */
#include "db/db_internal.h"

#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/xalloc.h"

static void db_bind_arg(sqlite3_stmt *st, const struct db_arg *a)
{
    switch (a->type) {
    case DB_ARG_TEXT:
        db_bind_text(st, a->name, a->text);
        break;
    case DB_ARG_TEXT_OR_NULL:
        db_bind_text(st, a->name, a->text && a->text[0] ? a->text : NULL);
        break;
    case DB_ARG_INT:
        db_bind_int(st, a->name, a->i);
        break;
    case DB_ARG_INT_OR_NULL:
        if (a->i)
            db_bind_int(st, a->name, a->i);
        else
            db_bind_null(st, a->name);
        break;
    case DB_ARG_DOUBLE:
        db_bind_double(st, a->name, a->d);
        break;
    }
}

/* The cached statement for sql with args bound; NULL when it cannot be
 * prepared (logged). Lock held. **borrowed** */
static sqlite3_stmt *db_prepare(struct db *db, const char *sql,
                                const struct db_arg *args, size_t nargs)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    size_t i;

    for (i = 0; st && i < nargs; i++)
        db_bind_arg(st, &args[i]);
    return st;
}

enum {
    DB_EXEC_ONE = 1 << 0,    /* no row changed: ERR_NOTFOUND */
    DB_EXEC_UNIQUE = 1 << 1, /* UNIQUE/PRIMARY KEY clash: ERR_EXISTS */
};

static int db_exec_flags(struct db *db, const char *sql, const char *what,
                         unsigned flags, const struct db_arg *args,
                         size_t nargs)
{
    int rc;

    db_lock(db);
    rc = db_exec_stmt(db, db_prepare(db, sql, args, nargs), what);
    if (flags & DB_EXEC_UNIQUE)
        rc = db_unique_err(db, rc);
    if (!rc && (flags & DB_EXEC_ONE) && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

int db_exec(struct db *db, const char *sql, const char *what,
            const struct db_arg *args, size_t nargs)
{
    return db_exec_flags(db, sql, what, 0, args, nargs);
}

int db_exec_one(struct db *db, const char *sql, const char *what,
                const struct db_arg *args, size_t nargs)
{
    return db_exec_flags(db, sql, what, DB_EXEC_ONE, args, nargs);
}

int db_exec_unique(struct db *db, const char *sql, const char *what,
                   const struct db_arg *args, size_t nargs)
{
    return db_exec_flags(db, sql, what, DB_EXEC_UNIQUE, args, nargs);
}

/* Step sql through at most max rows, each through fn(st, ctx);
 * *num_out the rows seen. */
static int db_query_rows(struct db *db, const char *sql, const char *what,
                         db_row_fn fn, void *ctx, size_t max, size_t *num_out,
                         const struct db_arg *args, size_t nargs)
{
    sqlite3_stmt *st;
    size_t num = 0;
    int rc = 0;

    db_lock(db);
    st = db_prepare(db, sql, args, nargs);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    while (num < max && (rc = db_step(db, st, what)) == 1) {
        fn(st, ctx);
        num++;
    }
    sqlite3_reset(st);
    *num_out = num;
out:
    db_unlock(db);
    return rc < 0 ? rc : 0;
}

int db_query_one(struct db *db, const char *sql, const char *what, db_row_fn fn,
                 void *out, const struct db_arg *args, size_t nargs)
{
    size_t num;
    int rc;

    rc = db_query_rows(db, sql, what, fn, out, 1, &num, args, nargs);
    if (!rc && num == 0)
        rc = ERR_NOTFOUND;
    return rc;
}

int db_query_each(struct db *db, const char *sql, const char *what,
                  db_row_fn fn, void *ctx, const struct db_arg *args,
                  size_t nargs)
{
    size_t num;

    return db_query_rows(db, sql, what, fn, ctx, SIZE_MAX, &num, args, nargs);
}

/* db_query_list's growing array, filled through db_query_each. */
struct db_collect {
    db_row_fn fn;
    size_t elem_size;
    char *list;
    size_t num;
    size_t alloc;
};

static void db_collect_row(sqlite3_stmt *st, void *ctx)
{
    struct db_collect *c = ctx;

    if (c->num == c->alloc) {
        c->alloc = c->alloc ? c->alloc * 2 : 16;
        c->list = xrealloc(c->list, c->alloc * c->elem_size);
    }
    c->fn(st, c->list + c->num * c->elem_size);
    c->num++;
}

int db_query_list(struct db *db, const char *sql, const char *what,
                  db_row_fn fn, void (*release)(void *), size_t elem_size,
                  void **list_out, size_t *num_out, const struct db_arg *args,
                  size_t nargs)
{
    struct db_collect c = { fn, elem_size, NULL, 0, 0 };
    int rc;

    rc = db_query_each(db, sql, what, db_collect_row, &c, args, nargs);
    if (rc) {
        while (release && c.num)
            release(c.list + --c.num * elem_size);
        free(c.list);
        return rc;
    }
    *list_out = c.list;
    *num_out = c.num;
    return 0;
}

static void db_row_int64(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(st, 0);
}

int db_query_int(struct db *db, const char *sql, const char *what, int64_t *out,
                 const struct db_arg *args, size_t nargs)
{
    return db_query_one(db, sql, what, db_row_int64, out, args, nargs);
}

struct db_text_out {
    char *buf;
    size_t cap;
};

static void db_row_text(sqlite3_stmt *st, void *out)
{
    struct db_text_out *t = out;

    db_col_text(st, 0, t->buf, t->cap);
}

int db_query_text(struct db *db, const char *sql, const char *what, char *out,
                  size_t cap, const struct db_arg *args, size_t nargs)
{
    struct db_text_out t = { out, cap };

    return db_query_one(db, sql, what, db_row_text, &t, args, nargs);
}
