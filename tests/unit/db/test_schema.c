/* The migrations, applied in order to an empty database, give exactly
 * db/schema.sql; and reopening applies nothing twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "db/db.h"

/* Normalised dump of a database's schema: every object's SQL as
 * sqlite_master keeps it, whitespace collapsed, sorted by name. */
static char *schema_dump(sqlite3 *conn)
{
    struct buf b = BUF_INIT;
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(conn,
                                        "SELECT type, name, sql FROM "
                                        "sqlite_master WHERE name NOT LIKE "
                                        "'sqlite_%' ORDER BY type, name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        int space = 0;

        buf_printf(&b, "%s %s: ", sqlite3_column_text(st, 0),
                   sqlite3_column_text(st, 1));
        for (; sql && *sql; sql++) {
            if (*sql == ' ' || *sql == '\n' || *sql == '\t') {
                space = 1;
                continue;
            }
            if (space)
                buf_append(&b, " ", 1);
            space = 0;
            buf_append(&b, sql, 1);
        }
        buf_append(&b, "\n", 1);
    }
    sqlite3_finalize(st);
    return buf_detach(&b, NULL);
}

static char *read_file(const char *path)
{
    struct buf b = BUF_INIT;
    char tmp[4096];
    size_t n;
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    return buf_detach(&b, NULL);
}

static void test_migrations_match_schema(void **state)
{
    char dir[] = "/tmp/xenith-dbtest-XXXXXX";
    char path[256], *a, *b, *sql;
    struct db *db = NULL;
    sqlite3 *conn;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/m.db", dir);
    assert_int_equal(db_open(path, &db), 0);
    assert_int_equal(db_schema_version(db), db_latest_version());
    db_close(db);
    /* Reopen: nothing applied twice, version unchanged. */
    assert_int_equal(db_open(path, &db), 0);
    assert_int_equal(db_schema_version(db), db_latest_version());
    db_close(db);

    assert_int_equal(sqlite3_open(path, &conn), SQLITE_OK);
    a = schema_dump(conn);
    sqlite3_close(conn);

    assert_int_equal(sqlite3_open(":memory:", &conn), SQLITE_OK);
    sql = read_file("db/schema.sql");
    assert_int_equal(sqlite3_exec(conn, sql, NULL, NULL, NULL), SQLITE_OK);
    b = schema_dump(conn);
    sqlite3_close(conn);

    assert_string_equal(a, b);
    free(a);
    free(b);
    free(sql);
    unlink(path);
    snprintf(path, sizeof(path), "%s/m.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/m.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

static void test_settings_roundtrip(void **state)
{
    struct db *db = NULL;
    char out[64];

    (void)state;
    assert_int_equal(db_open(":memory:", &db), 0);
    assert_int_equal(db_setting_get(db, "tz", out, sizeof(out)), -5);
    assert_int_equal(db_setting_set(db, "tz", "UTC"), 0);
    assert_int_equal(db_setting_set(db, "tz", "Europe/Paris"), 0);
    assert_int_equal(db_setting_get(db, "tz", out, sizeof(out)), 0);
    assert_string_equal(out, "Europe/Paris");
    db_inject_failure(db, "settings", 1);
    assert_int_not_equal(db_setting_set(db, "tz", "UTC"), 0);
    assert_int_equal(db_setting_get(db, "tz", out, sizeof(out)), 0);
    assert_string_equal(out, "Europe/Paris");
    db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_match_schema),
        cmocka_unit_test(test_settings_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
