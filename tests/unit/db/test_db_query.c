/* db_query.c, the helpers every db_<table>.c runs its SQL through:
 * typed named arguments (the _OR_NULL forms bind SQL NULL for 0 and
 * ""), ERR_NOTFOUND / ERR_EXISTS / ERR_CONFLICT as the tables rely on,
 * lists, failures that leave the outputs alone, and nesting inside a
 * caller's db_begin(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "db/db_internal.h"

static const char mk[] = "CREATE TABLE q (k TEXT PRIMARY KEY, t TEXT, "
                         "i INTEGER, d REAL, n INTEGER CHECK (n >= 0))";
static const char ins[] =
    "INSERT INTO q (k, t, i, d, n) VALUES (:k, :t, :i, :d, :n)";
static const char nulls[] = "SELECT (t IS NULL) * 2 + (i IS NULL) FROM q "
                            "WHERE k = :k";
static const char get[] = "SELECT k, t, i, d FROM q WHERE k = :k";
static const char all[] = "SELECT k, t, i, d FROM q ORDER BY k";
static const char upd[] = "UPDATE q SET i = :i WHERE k = :k";
static const char count[] = "SELECT count(*) FROM q";

struct row {
    char k[8];
    char t[8];
    int64_t i;
    double d;
};

static void row_fn(sqlite3_stmt *st, void *p)
{
    struct row *r = p;

    memset(r, 0, sizeof(*r));
    db_col_text(st, 0, r->k, sizeof(r->k));
    db_col_text(st, 1, r->t, sizeof(r->t));
    r->i = sqlite3_column_int64(st, 2);
    r->d = sqlite3_column_double(st, 3);
}

static int put(struct db *db, const char *k, const char *t, int64_t i, int n)
{
    return db_exec_unique(db, ins, "insert q",
                          DB_ARGS(DB_TEXT(":k", k), DB_TEXT_OR_NULL(":t", t),
                                  DB_INT_OR_NULL(":i", i), DB_DOUBLE(":d", 0.5),
                                  DB_INT(":n", n)));
}

static int setup(void **state)
{
    struct db *db = NULL;

    assert_int_equal(db_open(":memory:", &db), 0);
    assert_int_equal(db_exec(db, mk, "create q", DB_NOARGS), 0);
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    db_close(*state);
    return 0;
}

static void test_args_and_nulls(void **state)
{
    struct db *db = *state;
    struct row r;
    int64_t v = -1;

    assert_int_equal(put(db, "a", "x", 7, 0), 0);
    assert_int_equal(put(db, "b", "", 0, 0), 0);
    assert_int_equal(put(db, "c", NULL, 3, 0), 0);
    assert_int_equal(
        db_query_int(db, nulls, "nulls", &v, DB_ARGS(DB_TEXT(":k", "a"))), 0);
    assert_int_equal(v, 0);
    assert_int_equal(
        db_query_int(db, nulls, "nulls", &v, DB_ARGS(DB_TEXT(":k", "b"))), 0);
    assert_int_equal(v, 3); /* "" and 0 went in as NULL */
    assert_int_equal(
        db_query_int(db, nulls, "nulls", &v, DB_ARGS(DB_TEXT(":k", "c"))), 0);
    assert_int_equal(v, 2);

    assert_int_equal(
        db_query_one(db, get, "get", row_fn, &r, DB_ARGS(DB_TEXT(":k", "a"))),
        0);
    assert_string_equal(r.k, "a");
    assert_string_equal(r.t, "x");
    assert_int_equal(r.i, 7);
    assert_true(r.d == 0.5);
    assert_int_equal(db_query_int(db, count, "count", &v, DB_NOARGS), 0);
    assert_int_equal(v, 3);
}

static void test_outcomes(void **state)
{
    struct db *db = *state;
    struct row r = { .k = "keep" };
    char t[8] = "keep";

    assert_int_equal(put(db, "a", "x", 1, 0), 0);
    assert_int_equal(put(db, "a", "y", 2, 0), ERR_EXISTS);
    assert_int_equal(put(db, "z", "y", 2, -1), ERR_CONFLICT); /* CHECK */
    assert_int_equal(
        db_exec(db, ins, "insert q",
                DB_ARGS(DB_TEXT(":k", "a"), DB_TEXT(":t", NULL),
                        DB_INT(":i", 0), DB_DOUBLE(":d", 0), DB_INT(":n", 0))),
        ERR_CONFLICT); /* plain db_exec does not map */

    assert_int_equal(db_exec_one(db, upd, "update q",
                                 DB_ARGS(DB_TEXT(":k", "a"), DB_INT(":i", 5))),
                     0);
    assert_int_equal(db_exec_one(db, upd, "update q",
                                 DB_ARGS(DB_TEXT(":k", "no"), DB_INT(":i", 5))),
                     ERR_NOTFOUND);
    assert_int_equal(db_exec(db, upd, "update q",
                             DB_ARGS(DB_TEXT(":k", "no"), DB_INT(":i", 5))),
                     0);

    assert_int_equal(
        db_query_one(db, get, "get", row_fn, &r, DB_ARGS(DB_TEXT(":k", "no"))),
        ERR_NOTFOUND);
    assert_string_equal(r.k, "keep");
    assert_int_equal(db_query_text(db, get, "get", t, sizeof(t),
                                   DB_ARGS(DB_TEXT(":k", "no"))),
                     ERR_NOTFOUND);
    assert_string_equal(t, "keep");
    assert_int_equal(
        db_query_text(db, get, "get", t, 2, DB_ARGS(DB_TEXT(":k", "a"))), 0);
    assert_string_equal(t, "a");

    db_inject_failure(db, "FROM q WHERE", 1);
    assert_int_equal(
        db_query_one(db, get, "get", row_fn, &r, DB_ARGS(DB_TEXT(":k", "a"))),
        ERR_IO);
    assert_string_equal(r.k, "keep");
}

static int releases;

static void release_fn(void *p)
{
    (void)p;
    releases++;
}

static void test_list(void **state)
{
    struct db *db = *state;
    void *list = (void *)&releases; /* a sentinel that must survive */
    struct row *rows;
    size_t num = 99;

    assert_int_equal(db_query_list(db, all, "list", row_fn, release_fn,
                                   sizeof(struct row), &list, &num, DB_NOARGS),
                     0);
    assert_null(list);
    assert_int_equal(num, 0);

    assert_int_equal(put(db, "b", "2", 2, 0), 0);
    assert_int_equal(put(db, "a", "1", 1, 0), 0);
    assert_int_equal(put(db, "c", "3", 3, 0), 0);
    assert_int_equal(db_query_list(db, all, "list", row_fn, release_fn,
                                   sizeof(struct row), &list, &num, DB_NOARGS),
                     0);
    rows = list;
    assert_int_equal(num, 3);
    assert_string_equal(rows[0].k, "a");
    assert_string_equal(rows[1].k, "b");
    assert_int_equal(rows[2].i, 3);
    free(rows);

    list = (void *)&releases;
    num = 99;
    db_inject_failure(db, "ORDER BY k", 1);
    assert_int_equal(db_query_list(db, all, "list", row_fn, release_fn,
                                   sizeof(struct row), &list, &num, DB_NOARGS),
                     ERR_IO);
    assert_ptr_equal(list, &releases);
    assert_int_equal(num, 99);
    assert_int_equal(releases, 0); /* nothing was read */
}

static void test_nests_in_transaction(void **state)
{
    struct db *db = *state;
    int64_t v = -1;

    assert_int_equal(db_begin(db), 0);
    assert_int_equal(put(db, "a", "1", 1, 0), 0);
    assert_int_equal(db_query_int(db, count, "count", &v, DB_NOARGS), 0);
    assert_int_equal(v, 1);
    db_rollback(db);
    assert_int_equal(db_query_int(db, count, "count", &v, DB_NOARGS), 0);
    assert_int_equal(v, 0);

    assert_int_equal(db_begin(db), 0);
    assert_int_equal(put(db, "a", "1", 1, 0), 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(db_query_int(db, count, "count", &v, DB_NOARGS), 0);
    assert_int_equal(v, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_args_and_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nests_in_transaction, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
